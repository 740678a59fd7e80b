"""Figures in the salesops house style.

Every helper returns a :class:`matplotlib.figure.Figure` and never shows it; the figure is already
detached from pyplot (closed), so a notebook displays it exactly once by leaving it as the cell's last
expression, and a script can ``fig.savefig(...)`` it without leaking memory.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import font_manager
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.figure import Figure

__all__ = [
    "PALETTE",
    "THAI_FONTS",
    "ACCEPTED",
    "error_extent",
    "REJECTED",
    "set_style",
    "plot_load_counts",
    "plot_problems",
    "plot_monthly_records",
    "plot_spans",
]

#: House colours: ink blue, teal, amber, plum, grey, brick.
PALETTE = ["#1f5f8b", "#2a9d8f", "#e9a23b", "#8e5572", "#7b8794", "#b42318"]
ACCEPTED = PALETTE[0]
REJECTED = PALETTE[5]

#: Thai-capable sans-serif families tried, in order, for glyphs the main font (DejaVu Sans) lacks: Debian's
#: fonts-thai-tlwg (Waree, Loma, Garuda), else Noto. Installed by the README's setup and ``.ci/run``.
THAI_FONTS = ("Waree", "Loma", "Garuda", "Noto Sans Thai")


def font_families() -> list[str]:
    """The house font chain: DejaVu Sans, then each installed Thai-capable family, then ``sans-serif``.

    Matplotlib (3.6 and later) takes each glyph from the first family of the list that has it, so Latin
    text renders exactly as before and Thai rep or account names find their glyphs in the fallback.
    """
    installed = {f.name for f in font_manager.fontManager.ttflist}
    if not installed & set(THAI_FONTS):  # installed after matplotlib cached its font list: add them now
        stems = tuple(name.replace(" ", "") for name in THAI_FONTS)
        for path in font_manager.findSystemFonts():
            if Path(path).stem.startswith(stems) and Path(path).suffix.lower() == ".ttf":
                font_manager.fontManager.addfont(path)
        installed = {f.name for f in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *[f for f in THAI_FONTS if f in installed], "sans-serif"]


def error_extent(value: object, lower: object, upper: object) -> np.ndarray:
    """The ``yerr`` of an interval ``[lower, upper]`` around ``value``: a 2 x n array of distances, never negative.

    ``[value - lower, upper - value]`` clipped at 0 and with missing values as 0. Floating point can put a
    bound a hair on the wrong side of its estimate (a Wilson upper bound of 1 - 1e-16 under a rate of
    exactly 1 when 38 of 38 convert), which matplotlib rejects with "'yerr' must not contain negative values".
    """
    v, lo, hi = (np.asarray(a, dtype=float) for a in (value, lower, upper))
    return np.nan_to_num(np.clip(np.vstack([v - lo, hi - v]), 0.0, None), nan=0.0)


def set_style() -> None:
    """Apply the house style to matplotlib and seaborn (white grid, muted palette, readable sizes).

    ``text.parse_math`` is off: every label is drawn as typed, so a rep or channel named ``$\\frac{x$`` or
    ``a_b $5`` is shown literally instead of being parsed as mathtext (which would garble it or fail the
    figure). No house chart uses mathtext.
    """
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        rc={
            "figure.figsize": (9, 4.5),
            "figure.dpi": 100,
            "savefig.dpi": 120,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 13,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.labelsize": 11,
            "grid.color": "#e4e7eb",
            "font.family": font_families(),
            "text.parse_math": False,
        },
    )


def _finish(fig: Figure) -> Figure:
    fig.tight_layout()
    plt.close(fig)
    return fig


def _empty(title: str, message: str) -> Figure:
    fig, ax = plt.subplots(figsize=(9, 2))
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#616e7c")
    return _finish(fig)


def plot_load_counts(counts: pd.DataFrame, title: str = "Rows accepted and rejected per table") -> Figure:
    """Horizontal stacked bars of accepted and rejected rows per table.

    The axis turns logarithmic when the largest table is more than 100 times the smallest, so a table of
    six stages and one of a million activities both stay readable.

    Parameters
    ----------
    counts : pandas.DataFrame
        :func:`salesops.quality_views.load_counts` (table, accepted, rejected).
    """
    if counts.empty:
        return _empty(title, "no table loaded")
    df = counts.iloc[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(df) + 1.6))
    y = np.arange(len(df))
    ax.barh(y, df["accepted"], color=ACCEPTED, label="accepted")
    ax.barh(y, df["rejected"], left=df["accepted"], color=REJECTED, label="rejected")
    ax.set_yticks(y, df["table"])
    totals = (df["accepted"] + df["rejected"]).to_numpy()
    positive = totals[totals > 0]
    if positive.size and positive.max() > 100 * positive.min():
        ax.set_xscale("log")
        ax.set_xlim(left=0.8)
        ax.set_xlabel("rows (log scale)")
    else:
        ax.set_xlabel("rows")
    for yi, (acc, rej) in enumerate(zip(df["accepted"], df["rejected"], strict=True)):
        if rej:
            ax.annotate(f"{rej:,} rejected", (acc + rej, yi), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=9, color=REJECTED)
    ax.margins(x=0.12)
    ax.set_title(title, pad=22)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False, fontsize=9)
    ax.grid(axis="y", visible=False)
    return _finish(fig)


def plot_problems(summary: pd.DataFrame, title: str = "Most frequent problems") -> Figure:
    """Bars of rows per problem (table.column: check), from :func:`salesops.quality_views.problem_summary`."""
    if summary.empty:
        return _empty(title, "nothing was rejected")
    df = summary.iloc[::-1]
    labels = df["table"] + "." + df["column"] + ": " + df["check"]
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(df) + 1.4))
    ax.barh(np.arange(len(df)), df["rows"], color=REJECTED)
    ax.set_yticks(np.arange(len(df)), labels)
    ax.set_xlabel("rows rejected")
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    return _finish(fig)


def plot_monthly_records(monthly: pd.DataFrame, title: str = "Records per month") -> Figure:
    """Heatmap of records per month and table (log colour scale); months without a record inside a table's
    span are painted amber, months outside it are left blank.

    Parameters
    ----------
    monthly : pandas.DataFrame
        :func:`salesops.quality_views.monthly_records` (table, month, records).
    """
    if monthly.empty:
        return _empty(title, "no dated event table")
    tables = list(dict.fromkeys(monthly["table"]))
    grid = monthly.pivot_table(index="table", columns="month", values="records", aggfunc="sum").reindex(tables)
    grid = grid.reindex(columns=pd.date_range(grid.columns.min(), grid.columns.max(), freq="MS"))
    counts = grid.to_numpy(dtype=float)  # NaN outside a table's span
    x, y = np.arange(grid.shape[1] + 1), np.arange(len(tables) + 1)
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(tables) + 1.8))
    filled = np.ma.masked_where(~(counts > 0), counts)
    mesh = ax.pcolormesh(x, y, filled, cmap="Blues", norm=LogNorm(vmin=0.5, vmax=max(np.nanmax(counts), 2)),
                         shading="flat", edgecolors="white", linewidth=0.5)
    empty = np.ma.masked_where(~(counts == 0), np.ones_like(counts))
    if empty.count():
        ax.pcolormesh(x, y, empty, cmap=ListedColormap([PALETTE[2]]), shading="flat",
                      edgecolors="white", linewidth=0.5)
    ax.set_yticks(np.arange(len(tables)) + 0.5, tables)
    ax.invert_yaxis()
    step = max(1, grid.shape[1] // 12)
    ticks = np.arange(0, grid.shape[1], step)
    ax.set_xticks(ticks + 0.5, [grid.columns[i].strftime("%Y-%m") for i in ticks], rotation=45, ha="right")
    ax.grid(False)
    cbar = fig.colorbar(mesh, ax=ax, pad=0.01)
    cbar.set_label("records")
    ax.set_title(title + (" (amber: no record that month)" if empty.count() else ""))
    return _finish(fig)


def plot_spans(cov: pd.DataFrame, as_of: pd.Timestamp | None = None,
               quarter: tuple[pd.Timestamp, pd.Timestamp] | None = None,
               title: str = "Date span of every table") -> Figure:
    """One line per table from its first to its last record, with the as-of day and the quarter marked.

    Parameters
    ----------
    cov : pandas.DataFrame
        :func:`salesops.quality_views.coverage` (table, first, last).
    as_of : Timestamp, optional
        Drawn as a dashed vertical line.
    quarter : (start, end), optional
        Shaded.
    """
    df = cov.dropna(subset=["first", "last"])
    if df.empty:
        return _empty(title, "no dated table")
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(df) + 1.4))
    y = np.arange(len(df))
    ax.hlines(y, df["first"], df["last"], color=ACCEPTED, linewidth=6)
    ax.set_yticks(y, df["table"])
    ax.invert_yaxis()
    if quarter is not None:
        ax.axvspan(quarter[0], quarter[1], color=PALETTE[2], alpha=0.2, label="quarter under review")
    if as_of is not None:
        day = pd.Timestamp(as_of)
        if day.tzinfo is not None:
            day = day.tz_convert("UTC").tz_localize(None)
        ax.axvline(day, color=PALETTE[5], linestyle="--", linewidth=1.2, label="as of")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    if quarter is not None or as_of is not None:
        ax.set_title(title, pad=22)
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False, fontsize=9)
    return _finish(fig)
