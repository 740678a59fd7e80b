"""The leads and routing page (``notebooks/05_leads_and_routing.ipynb``): what the data support, the moment of
the review, the sentences under each figure, and the metrics recorded for the quarterly review.

Every number a sentence quotes is read from a result of :mod:`salesops.leads`; nothing is computed here
beyond picking and formatting. When the data lack what an analysis needs, :func:`attempt` returns an
:class:`Unavailable` naming it, and the sentences and figures say so instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from salesops.escape import md
from salesops.leads._common import MissingDataError
from salesops.periods import Quarter

__all__ = [
    "Unavailable",
    "attempt",
    "availability",
    "describe_personas",
    "describe_replay",
    "describe_routing",
    "describe_scoring",
    "leads_in",
    "load_of",
    "metrics",
    "missing",
    "review_moment",
    "table",
    "top_leads",
]


@dataclass(frozen=True)
class Unavailable:
    """An analysis the data do not support; ``reason`` says what is missing."""

    reason: str

    def __bool__(self) -> bool:
        return False


def attempt(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, or an :class:`Unavailable` when the data lack a table or column it needs (or a
    period holds too few leads to fit and judge a model)."""
    try:
        return fn(*args, **kwargs)
    except MissingDataError as exc:
        return Unavailable(_sentence(str(exc)))
    except ValueError as exc:
        text = str(exc)
        if any(s in text for s in ("too few", "does not reach far enough", "single outcome class", "no lead was created",
                                   "no touched lead")):
            return Unavailable(_sentence(text))
        raise


def _sentence(text: str) -> str:
    text = text.strip().split("\n")[0]
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def missing(result: Any) -> str | None:
    """The reason of an :class:`Unavailable`, else None."""
    return result.reason if isinstance(result, Unavailable) else None


def table(result: Any, attribute: str | int | None = None) -> pd.DataFrame:
    """``result.<attribute>`` (``result[attribute]`` for a position, ``result`` itself for None) when available,
    else an empty frame."""
    if isinstance(result, Unavailable) or result is None:
        return pd.DataFrame()
    if attribute is None:
        return result
    return result[attribute] if isinstance(attribute, int) else getattr(result, attribute)


def load_of(routed: Any) -> pd.DataFrame:
    """:func:`~salesops.leads.routing.pool_load` of a routing result, empty when routing was unavailable."""
    from salesops.leads.routing import pool_load

    if isinstance(routed, Unavailable) or routed is None or len(routed) == 0:
        return pd.DataFrame(columns=["pool", "rep_id", "leads", "share", "expected_leads", "target_share",
                                     "deviation"])
    return pool_load(routed)


def top_leads(scoring: Any, leads: pd.DataFrame | None, accounts: pd.DataFrame | None = None, n: int = 10,
              reasons: int = 3) -> pd.DataFrame:
    """The ``n`` highest-scoring leads among ``leads`` with their probability, decile and reason codes.

    Returns
    -------
    DataFrame
        ``lead_id, created_at, source, probability, decile, reasons`` (the reasons joined by "; ").
    """
    if isinstance(scoring, Unavailable) or leads is None or len(leads) == 0:
        return pd.DataFrame(columns=["lead_id", "created_at", "source", "probability", "decile", "reasons"])
    from salesops.leads.scoring import lead_features, reason_codes

    scored = scoring.score(leads, accounts).nlargest(n, "probability", keep="first")
    X = lead_features(leads, accounts).loc[scored.index]
    codes = reason_codes(scoring.model, X, top=reasons)
    joined = codes.groupby("lead_id", sort=False)["reason"].agg("; ".join)
    out = scored.reset_index()
    out.insert(2, "source", X["source"].to_numpy())
    out["reasons"] = out["lead_id"].map(joined)
    return out[["lead_id", "created_at", "source", "probability", "decile", "reasons"]]


def review_moment(data: Any, quarter: Quarter, as_of: str = "") -> pd.Timestamp:
    """The end of the quarter under review, or the data's as-of moment when that comes first (UTC)."""
    end = pd.Timestamp(quarter.end, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    cap = pd.Timestamp(as_of) if as_of else getattr(data, "as_of", None)
    if cap is None:
        return end
    cap = cap.tz_localize("UTC") if cap.tzinfo is None else cap.tz_convert("UTC")
    return min(end, cap)


def leads_in(data: Any, quarter: Quarter) -> pd.DataFrame | None:
    """The leads created in the quarter (None without a leads table)."""
    leads = getattr(data, "leads", None)
    if leads is None or "created_at" not in leads.columns:
        return None
    start = pd.Timestamp(quarter.start, tz="UTC")
    end = pd.Timestamp(quarter.end, tz="UTC") + pd.Timedelta(days=1)
    return leads[(leads["created_at"] >= start) & (leads["created_at"] < end)]


def availability(data: Any) -> pd.DataFrame:
    """Which parts of the page the data support and, for the others, what is missing.

    Returns
    -------
    DataFrame
        ``analysis, available, needs``.
    """
    def lacking(table_name: str, *cols: str) -> list[str]:
        t = getattr(data, table_name, None)
        if t is None:
            return [f"the {table_name} table"]
        return [f"{table_name}.{c}" for c in cols if c not in t.columns or not t[c].notna().any()]

    checks = [
        ("lead -> SQL score", [("leads", "created_at", "source", "sql_at")]),
        ("lead -> won score", [("leads", "created_at", "source", "opportunity_id"),
                               ("opportunities", "is_won", "close_date")]),
        ("personas", [("accounts", "employees"), ("opportunities", "is_won")]),
        ("routing and replay", [("leads", "created_at", "first_touch_at"), ("reps", "rep_id")]),
    ]
    rows = []
    for name, needs in checks:
        gaps = [g for t, *c in needs for g in lacking(t, *c)]
        rows.append({"analysis": name, "available": not gaps, "needs": ", ".join(gaps)})
    return pd.DataFrame(rows)


def _pct(x: float, digits: int = 0) -> str:
    return f"{x:.{digits}%}"


def describe_scoring(scoring: Any, name: str = "SQL") -> str:
    """Sentences under the lead score's figures: AUC, lift, calibration and drivers."""
    if isinstance(scoring, Unavailable):
        return f"**Lead → {md(name)}:** not available. {md(scoring.reason)}"
    auc = scoring.auc.iloc[0]
    counts = scoring.counts.set_index("part")
    lift = scoring.lift
    cal = scoring.calibration.attrs
    top3 = lift.loc[2, "cumulative_conversions_share"]
    drivers = scoring.drivers
    strong = drivers[drivers["lower"] > 0]["label"].tolist()
    weak = drivers[drivers["lower"] <= 0]["label"].tolist()
    split = scoring.split
    text = (
        f"**Lead → {md(name)}** (converted within {split.horizon_days:.0f} days). Trained on "
        f"{counts.loc['train', 'leads']:,} leads created before {split.calibration_start:%Y-%m-%d}, calibrated on the "
        f"{counts.loc['calibration', 'leads']:,} after them, and judged on {counts.loc['test', 'leads']:,} later leads "
        f"(created {split.cutoff:%Y-%m-%d} to {split.test_end:%Y-%m-%d}, outcomes read on {split.as_of:%Y-%m-%d}): "
        f"AUC **{auc['auc']:.3f}** (95% interval {auc['lower']:.3f}–{auc['upper']:.3f}). The top tenth of scores "
        f"converts at {_pct(lift.loc[0, 'rate'], 1)}, {lift.loc[0, 'lift']:.1f}× the {_pct(auc['base_rate'], 1)} of all "
        f"test leads, and the top three tenths hold {_pct(top3)} of the conversions. Predicted and observed agree "
        f"within {cal['ece']:.3f} on average (mean prediction {_pct(cal['mean_predicted'], 1)}, observed "
        f"{_pct(cal['observed_rate'], 1)})."
    )
    if strong:
        text += f" What moves the score: {', '.join(md(x) for x in strong)}"
        text += f"; {', '.join(md(x) for x in weak)} add nothing beyond chance." if weak else "."
    return text


def describe_personas(personas: Any) -> str:
    """Sentences under the personas: how k was chosen and how the personas differ."""
    if isinstance(personas, Unavailable):
        return f"**Personas:** not available. {md(personas.reason)}"
    profiles, k_table, _ = personas
    chosen = k_table[k_table["chosen"]].iloc[0]
    best = k_table.loc[k_table["silhouette"].idxmax()]
    text = (f"**{int(chosen['k'])} personas**: silhouette {chosen['silhouette']:.2f} (the best of the ks tried was "
            f"{best['silhouette']:.2f} at k = {int(best['k'])}), stability {chosen['stability']:.2f} across bootstrap "
            "resamples. ")
    parts = []
    for _, r in profiles.iterrows():
        bits = [f"{r['companies']:,} companies, median {r['median_employees']:,.0f} employees"]
        if "win_rate" in r and pd.notna(r.get("win_rate")):
            bits.append(f"win rate {_pct(r['win_rate'])} ({_pct(r['win_rate_lower'])}–{_pct(r['win_rate_upper'])})")
        if pd.notna(r.get("cycle_median_days", float("nan"))):
            bits.append(f"{r['cycle_median_days']:.0f} days to win")
        if pd.notna(r.get("deal_size_median", float("nan"))):
            bits.append(f"median won deal {r['deal_size_median']:,.0f}")
        if pd.notna(r.get("sql_rate", float("nan"))):
            bits.append(f"{_pct(r['sql_rate'], 1)} of its leads become SQLs")
        parts.append(f"*{md(r['persona'])}*: " + ", ".join(bits))
    return text + "; ".join(parts) + "."


def describe_routing(routed: Any, load: Any) -> str:
    """Sentences under the routing of the quarter's leads."""
    if isinstance(routed, Unavailable):
        return f"**Routing:** not available. {md(routed.reason)}"
    if len(routed) == 0:
        return "**Routing:** no lead was created in the quarter."
    fired = routed["rule"].value_counts()
    worst = (load["share"] / load["target_share"] - 1).abs().max() if len(load) else float("nan")
    text = (f"The rules place all {len(routed):,} leads of the quarter: "
            + ", ".join(f"{n:,} by *{md(r)}*" for r, n in fired.items()) + ". ")
    if len(load):
        text += (f"In the round-robin pools every rep's share is within {_pct(worst, 1)} (relative) of the target its "
                 f"weight and availability give it; ")
    waited = routed["wait_hours"] > 0
    if waited.any():
        text += (f"{_pct(waited.mean())} of the leads arrived when no rep of their pool was at work and waited "
                 f"{routed.loc[waited, 'wait_hours'].median():.1f} hours (median) for the next one to start.")
    else:
        text += "no lead had to wait for a rep to be at work."
    return text


def describe_replay(result: Any) -> str:
    """Sentences under the replay: speed to lead and expected SQLs against what happened."""
    if isinstance(result, Unavailable):
        return f"**Replay:** not available. {md(result.reason)}"
    sp = result.speed.set_index("scenario")
    text = "Median speed to lead: " + ", ".join(f"{md(s)} {r['median_hours']:.1f} h" for s, r in sp.iterrows()) + ". "
    conv = result.conversion
    if len(conv):
        c = conv.set_index("scenario")
        a = c.loc["actual"]
        text += (f"The score expects {a['expected_sqls']:,.0f} SQLs ({a['lower']:,.0f}–{a['upper']:,.0f}) from what "
                 "actually happened")
        if pd.notna(a.get("realised_sqls", float("nan"))):
            text += (f"; {a['realised_sqls']:,.0f} had qualified by the review moment (leads of the quarter's last "
                     "weeks may still qualify)")
        others = c.drop(index="actual")
        text += ". " + " ".join(
            f"Under *{md(s)}*: {r['expected_sqls']:,.0f} ({r['change_vs_actual']:+,.1f}), a change through speed to lead "
            "alone." for s, r in others.iterrows())
    return text


def metrics(sql: Any, won: Any, personas: Any, routed: Any, load: Any, replayed: Any) -> dict[str, tuple[Any, str,
                                                                                                          str]]:
    """The page's headline numbers for ``metrics.json``: ``{name: (value, unit, description)}``; None when the
    analysis is unavailable, so the keys are the same every quarter."""
    def get(result: Any, fn: Callable[[Any], Any]) -> Any:
        return None if isinstance(result, Unavailable) or result is None else fn(result)

    out = {
        "sql_auc": (get(sql, lambda s: float(s.test_auc)), "auc", "AUC of the lead -> SQL score on held-out later leads"),
        "sql_auc_lower": (get(sql, lambda s: float(s.auc["lower"].iloc[0])), "auc", "lower 95% bound of that AUC"),
        "sql_top_decile_lift": (get(sql, lambda s: float(s.lift.loc[0, "lift"])), "ratio",
                                "SQL rate of the top score decile over the rate of all test leads"),
        "sql_calibration_error": (get(sql, lambda s: float(s.calibration.attrs["ece"])), "share",
                                  "expected calibration error of the SQL probabilities on the test leads"),
        "won_auc": (get(won, lambda s: float(s.test_auc)), "auc", "AUC of the lead -> won score on held-out later leads"),
        "personas": (get(personas, lambda p: len(p[0])), "clusters", "personas chosen by silhouette and stability"),
        "quarter_leads": (get(routed, len), "leads", "leads created in the quarter"),
        "routing_max_share_deviation": (
            get(routed, lambda r: float((load["share"] / load["target_share"] - 1).abs().max()) if len(load) else None),
            "share", "largest relative gap between a rep's share of its pool's leads and its target"),
        "routing_fallback_share": (get(routed, lambda r: float((r["rule"] == "fallback").mean()) if len(r) else None),
                                   "share", "share of the quarter's leads no rule could place"),
        "replay_median_speed_hours": (
            get(replayed, lambda r: float(r.speed.set_index("scenario").drop(index="actual")["median_hours"].iloc[0])),
            "hours", "median simulated speed to lead under the rules"),
        "replay_expected_sql_change": (
            get(replayed, lambda r: float(r.conversion.set_index("scenario").drop(index="actual")
                                          ["change_vs_actual"].iloc[0]) if len(r.conversion) else None),
            "sqls", "expected SQLs under the rules minus under what happened (through speed to lead)"),
    }
    return out
