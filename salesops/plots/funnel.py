"""Figures of the pipeline and funnel page (:mod:`salesops.funnel`), in the house style.

Each takes the table a :mod:`salesops.funnel` function returned and gives back a closed Figure. A table
that came back empty because the data lacks something (``table.attrs["missing"]``, see
:func:`salesops.funnel.summary.attempt`) is drawn as a short note saying so.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm
from matplotlib.figure import Figure

from salesops.plots import PALETTE, _empty, _finish, error_extent

__all__ = [
    "plot_bottleneck_map",
    "plot_coverage",
    "plot_lead_funnel",
    "plot_pipeline_age",
    "plot_pipeline_flow",
    "plot_pipeline_size",
    "plot_speed_to_lead",
]

_STEP_LABELS = {
    "start": "start",
    "created": "created",
    "pulled_in": "pulled in",
    "reopened": "reopened",
    "pushed_out": "pushed out",
    "slipped": "slipped",
    "won": "won",
    "lost": "lost",
    "amount_increase": "amount up",
    "amount_decrease": "amount down",
    "end": "end",
}
_LEAD_STEPS = {
    "lead_to_mql": "lead → MQL",
    "mql_to_sql": "MQL → SQL",
    "sql_to_opportunity": "SQL → opportunity",
    "opportunity_to_won": "opportunity → won",
    "lead_to_won": "lead → won",
}


def _unusable(table: pd.DataFrame | None, title: str, what: str) -> Figure | None:
    if table is None:
        return _empty(title, f"no {what}")
    if table.attrs.get("missing"):
        return _empty(title, str(table.attrs["missing"]))
    if table.empty:
        return _empty(title, f"no {what}")
    return None


def _money_axis(ax, axis: str = "x") -> None:
    from matplotlib.ticker import FuncFormatter

    def fmt(v: float, _pos: int) -> str:
        a = abs(v)
        if a >= 1e6:
            return f"{v / 1e6:,.1f}m"
        if a >= 1e3:
            return f"{v / 1e3:,.0f}k"
        return f"{v:,.0f}"

    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(FuncFormatter(fmt))


def plot_pipeline_size(size: pd.DataFrame, title: str = "Open pipeline by stage") -> Figure:
    """Horizontal bars of open pipeline amount per stage, stacked by the second ``by`` column (segment).

    Parameters
    ----------
    size : DataFrame
        :func:`salesops.funnel.pipeline_size` with ``by=["segment", "stage"]`` (or ``"stage"`` alone).
    """
    fig = _unusable(size, title, "open pipeline")
    if fig is not None:
        return fig
    stack = next(
        (c for c in size.columns if c not in ("stage", "deals", "amount", "weighted_amount", "share")), None
    )
    stages = list(dict.fromkeys(size["stage"]))
    if stack is None:
        grid = size.set_index("stage")[["amount"]].reindex(stages)
    else:
        grid = size.pivot_table(index="stage", columns=stack, values="amount", aggfunc="sum").reindex(stages)
    grid = grid.fillna(0.0).iloc[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(stages) + 1.8))
    left = np.zeros(len(grid))
    for i, col in enumerate(grid.columns):
        ax.barh(
            grid.index,
            grid[col],
            left=left,
            color=PALETTE[i % len(PALETTE)],
            label=str(col) if stack else "amount",
        )
        left += grid[col].to_numpy()
    deals = size.groupby("stage")["deals"].sum()
    for y, stage in enumerate(grid.index):
        ax.annotate(
            f"{int(deals.get(stage, 0)):,} deals",
            (left[y], y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
            color="#616e7c",
        )
    _money_axis(ax)
    ax.set_xlabel("amount")
    ax.margins(x=0.15)
    ax.grid(axis="y", visible=False)
    if stack:
        ax.set_title(title, pad=22)
        ax.legend(
            loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(grid.columns), frameon=False, fontsize=9
        )
    else:
        ax.set_title(title)
    return _finish(fig)


def plot_coverage(cov: pd.DataFrame, title: str = "Coverage of the quota still open") -> Figure:
    """Per group, the quota still open beside the pipeline due in the quarter (and its stage-weighted part),
    with the coverage ratio written above.

    Parameters
    ----------
    cov : DataFrame
        :func:`salesops.funnel.coverage`.
    """
    fig = _unusable(cov, title, "quota in this quarter")
    if fig is not None:
        return fig
    keys = [
        c
        for c in cov.columns
        if c
        not in (
            "quota",
            "won",
            "quota_open",
            "pipeline",
            "weighted_pipeline",
            "coverage",
            "weighted_coverage",
        )
    ]
    labels = cov[keys].astype(str).agg(" · ".join, axis=1) if keys else pd.Series(["all"] * len(cov))
    x = np.arange(len(cov))
    fig, ax = plt.subplots(figsize=(max(7.5, 1.6 * len(cov) + 2), 4.5))
    ax.bar(x - 0.2, cov["quota_open"], width=0.4, color=PALETTE[4], label="quota still open")
    ax.bar(x + 0.2, cov["pipeline"], width=0.4, color=PALETTE[0], label="pipeline due")
    ax.bar(x + 0.2, cov["weighted_pipeline"], width=0.4, color=PALETTE[1], label="… weighted by stage")
    for xi, (c, top) in enumerate(
        zip(cov["coverage"], np.maximum(cov["quota_open"], cov["pipeline"]), strict=True)
    ):
        text = "quota met" if not np.isfinite(c) else f"{c:.1f}×"
        ax.annotate(
            text,
            (xi, top),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            fontsize=10,
            fontweight="bold",
        )
    ax.set_xticks(x, labels)
    _money_axis(ax, "y")
    ax.set_ylabel("amount")
    ax.margins(y=0.15)
    ax.grid(axis="x", visible=False)
    ax.set_title(title, pad=22)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=3, frameon=False, fontsize=9)
    return _finish(fig)


def plot_pipeline_age(age: pd.DataFrame, title: str = "Age of the open deals") -> Figure:
    """Boxes of open deals' age in days (box: quartiles and median; whiskers: 10th and 90th percentiles) per
    stage, side by side per second group (segment) when the table has one.

    Parameters
    ----------
    age : DataFrame
        :func:`salesops.funnel.pipeline_age`, e.g. with ``by=["stage", "segment"]``.
    """
    fig = _unusable(age, title, "open deal")
    if fig is not None:
        return fig
    keys = [c for c in age.columns if not c.endswith("_days") and c != "deals"]
    first = keys[0] if keys else None
    hue = keys[1] if len(keys) > 1 else None
    cats = list(dict.fromkeys(age[first])) if first else ["all"]
    hues = sorted(age[hue].astype(str).unique()) if hue else [None]
    width = 0.8 / len(hues)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for k, h in enumerate(hues):
        part = age if h is None else age[age[hue].astype(str) == h]
        stats, pos = [], []
        for i, c in enumerate(cats):
            row = part if first is None else part[part[first] == c]
            if row.empty:
                continue
            r = row.iloc[0]
            stats.append(
                {
                    "med": r["median_days"],
                    "q1": r["p25_days"],
                    "q3": r["p75_days"],
                    "whislo": r["p10_days"],
                    "whishi": r["p90_days"],
                    "fliers": [],
                    "label": "",
                }
            )
            pos.append(i - 0.4 + width * (k + 0.5))
        color = PALETTE[k % len(PALETTE)]
        ax.bxp(
            stats,
            positions=pos,
            widths=width * 0.85,
            patch_artist=True,
            showfliers=False,
            boxprops={"facecolor": color, "edgecolor": "#3e4c59"},
            medianprops={"color": "white"},
            whiskerprops={"color": "#3e4c59"},
            capprops={"color": "#3e4c59"},
        )
        if h is not None:
            ax.bar(0, 0, color=color, label=h)  # legend entry
    ax.set_xticks(np.arange(len(cats)), cats)
    ax.set_xlim(-0.6, len(cats) - 0.4)
    ax.set_ylabel("days since creation")
    ax.grid(axis="x", visible=False)
    if hue:
        ax.set_title(title, pad=22)
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(hues), frameon=False, fontsize=9)
    else:
        ax.set_title(title)
    return _finish(fig)


def plot_lead_funnel(
    funnel: pd.DataFrame,
    steps: tuple[str, ...] = ("lead_to_mql", "mql_to_sql", "opportunity_to_won"),
    mark: str | None = None,
    title: str = "Lead qualification by period",
) -> Figure:
    """Conversion of each step per period with its interval, one panel per step.

    Parameters
    ----------
    funnel : DataFrame
        :func:`salesops.funnel.lead_funnel` with a ``period`` column and no ``by``.
    steps : tuple of str
        Steps to draw.
    mark : str, optional
        A period label to shade (the quarter under review).
    """
    fig = _unusable(funnel, title, "lead")
    if fig is not None:
        return fig
    steps = tuple(s for s in steps if s in set(funnel["step"]))
    if not steps:
        return _empty(title, "the data records none of these steps")
    fig, axes = plt.subplots(1, len(steps), figsize=(4.2 * len(steps), 3.8), sharey=False, squeeze=False)
    for ax, step in zip(axes[0], steps, strict=True):
        f = funnel[funnel["step"].eq(step) & funnel["mature"].gt(0)].sort_values("period")
        x = np.arange(len(f))
        rate, lower, upper = (f[c].to_numpy(float) for c in ("rate", "lower", "upper"))
        ax.errorbar(
            x,
            rate,
            yerr=error_extent(rate, lower, upper),
            fmt="o-",
            color=PALETTE[0],
            ecolor=PALETTE[4],
            capsize=3,
            markersize=4,
            linewidth=1.2,
        )
        if mark is not None and mark in set(f["period"]):
            i = list(f["period"]).index(mark)
            ax.axvspan(i - 0.4, i + 0.4, color=PALETTE[2], alpha=0.25)
        step_labels = list(f["period"])
        every = max(1, len(step_labels) // 6)
        ax.set_xticks(x[::every], step_labels[::every], rotation=45, ha="right")
        ax.set_title(_LEAD_STEPS.get(step, step), fontsize=11)
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _p: f"{v:.0%}"))
        ax.grid(axis="x", visible=False)
    axes[0][0].set_ylabel("converted within the window")
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=13)
    return _finish(fig)


def plot_speed_to_lead(
    bands: pd.DataFrame,
    effect: pd.DataFrame | None = None,
    title: str = "MQL → SQL conversion by speed to first touch",
) -> Figure:
    """Bars of MQL -> SQL conversion per speed-to-lead band with intervals; the adjusted effect per doubling
    of the wait, when given, in a note under the title.

    Parameters
    ----------
    bands : DataFrame
        :func:`salesops.funnel.speed_to_lead_bands`.
    effect : DataFrame, optional
        :func:`salesops.funnel.speed_to_lead_effect`.
    """
    fig = _unusable(bands, title, "MQL with a first touch")
    if fig is not None:
        return fig
    fig, ax = plt.subplots(figsize=(8, 4.2))
    x = np.arange(len(bands))
    rate, lower, upper = (bands[c].to_numpy(float) for c in ("rate", "lower", "upper"))
    ax.bar(x, rate, color=PALETTE[1])
    ax.errorbar(
        x, rate, yerr=error_extent(rate, lower, upper), fmt="none", ecolor="#3e4c59", capsize=4
    )
    for xi, n in zip(x, bands["mqls"], strict=True):
        ax.annotate(
            f"{n:,} MQLs",
            (xi, 0),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            fontsize=8,
            color="white",
        )
    ax.set_xticks(x, bands["band"])
    ax.set_xlabel("hours from lead creation to first touch")
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _p: f"{v:.0%}"))
    ax.grid(axis="x", visible=False)
    if (
        effect is not None
        and not effect.empty
        and not effect.attrs.get("missing")
        and np.isfinite(effect["coef"].iloc[0])
    ):
        e = effect.iloc[0]
        ax.set_title(title, pad=24)
        ax.text(
            0,
            1.02,
            f"adjusted: odds × {e['odds_ratio']:.3f} per doubling of the wait "
            f"(95% CI × {np.exp(e['lower']):.3f} to × {np.exp(e['upper']):.3f})",
            transform=ax.transAxes,
            fontsize=9,
            color="#616e7c",
        )
    else:
        ax.set_title(title)
    return _finish(fig)


def plot_bottleneck_map(
    scan: pd.DataFrame, title: str = "Time in stage against each stage's own history"
) -> Figure:
    """Heat map of the time-in-stage ratio (cohort median / baseline median, log colour scale) per group and
    stage (rows) and quarter (columns); a flagged cell carries a cross, its conversion change written in it.

    Parameters
    ----------
    scan : DataFrame
        :func:`salesops.funnel.bottleneck_scan`.
    """
    fig = _unusable(scan, title, "stage history")
    if fig is not None:
        return fig
    group = scan.attrs.get("by") or next((c for c in scan.columns if c not in ("quarter", "stage")), None)
    group = group if group in scan.columns else None
    stage_order = list(dict.fromkeys(scan["stage"]))
    rows = scan.assign(row=(scan[group].astype(str) + " · " if group else "") + scan["stage"])
    row_order = [
        r
        for g in (sorted(scan[group].astype(str).unique()) if group else [""])
        for r in [(g + " · " if group else "") + s for s in stage_order]
        if r in set(rows["row"])
    ]
    quarters = sorted(scan["quarter"].unique())
    ratio = rows.pivot_table(index="row", columns="quarter", values="time_ratio", aggfunc="first")
    ratio = ratio.reindex(index=row_order, columns=quarters)
    flagged = rows.pivot_table(index="row", columns="quarter", values="flagged", aggfunc="first")
    flagged = flagged.reindex(index=row_order, columns=quarters).fillna(False).astype(bool)
    change = rows.pivot_table(index="row", columns="quarter", values="conversion_change", aggfunc="first")
    change = change.reindex(index=row_order, columns=quarters)
    values = np.log2(ratio.to_numpy(dtype=float))
    cmap = LinearSegmentedColormap.from_list("ratio", [PALETTE[1], "#f5f7fa", PALETTE[5]])
    fig, ax = plt.subplots(figsize=(max(8, 0.75 * len(quarters) + 3), 0.38 * len(row_order) + 1.8))
    mesh = ax.pcolormesh(
        np.ma.masked_invalid(values),
        cmap=cmap,
        norm=TwoSlopeNorm(0.0, -1.5, 1.5),
        edgecolors="white",
        linewidth=0.5,
    )
    for (i, j), hit in np.ndenumerate(flagged.to_numpy()):
        if hit:
            c = change.iat[i, j]
            ax.text(
                j + 0.5,
                i + 0.5,
                f"✕ {c:+.0%}" if np.isfinite(c) else "✕",
                ha="center",
                va="center",
                fontsize=8,
                fontweight="bold",
                color="#1f2933",
            )
    ax.set_yticks(np.arange(len(row_order)) + 0.5, row_order, fontsize=9)
    ax.set_xticks(np.arange(len(quarters)) + 0.5, quarters, rotation=45, ha="right", fontsize=9)
    ax.invert_yaxis()
    ax.grid(False)
    cbar = fig.colorbar(mesh, ax=ax, pad=0.01, ticks=[-1, 0, 1])
    cbar.ax.set_yticklabels(["½×", "1×", "2×"])
    cbar.set_label("median days in stage vs baseline")
    ax.set_title(title + " (✕: flagged, with the conversion change)")
    return _finish(fig)


def plot_pipeline_flow(flow: pd.DataFrame, title: str | None = None) -> Figure:
    """Waterfall of a quarter's pipeline: start, each inflow (up) and outflow (down), end.

    Parameters
    ----------
    flow : DataFrame
        :func:`salesops.funnel.pipeline_flow` without ``by``.
    """
    title = title or f"Pipeline flow of {flow.attrs.get('quarter', 'the quarter')}"
    fig = _unusable(flow, title, "pipeline in this quarter")
    if fig is not None:
        return fig
    f = flow[(flow["kind"] == "level") | (flow["amount"] != 0)].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(10, 4.8))
    running = 0.0
    for i, r in f.iterrows():
        if r["kind"] == "level":
            bottom, height, color = 0.0, r["amount"], PALETTE[0]
            running = r["amount"]
        else:
            bottom = running if r["amount"] >= 0 else running + r["amount"]
            height = abs(r["amount"])
            color = PALETTE[1] if r["amount"] >= 0 else PALETTE[5]
            running += r["amount"]
        ax.bar(i, height, bottom=bottom, color=color, width=0.7)
        ax.annotate(
            _short(r["amount"]),
            (i, bottom + height),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
        if i + 1 < len(f):
            ax.plot([i + 0.35, i + 0.65], [running, running], color="#9aa5b1", linewidth=0.8)
    ax.set_xticks(np.arange(len(f)), [_STEP_LABELS.get(s, s) for s in f["step"]], rotation=30, ha="right")
    _money_axis(ax, "y")
    ax.set_ylabel("pipeline due in the quarter")
    ax.grid(axis="x", visible=False)
    ax.margins(y=0.12)
    ax.set_title(title)
    return _finish(fig)


def _short(v: float) -> str:
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:,.1f}m"
    if a >= 1e3:
        return f"{v / 1e3:,.0f}k"
    return f"{v:,.0f}"
