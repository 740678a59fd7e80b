"""The territory page (``notebooks/07_territories.ipynb``): the design, its baselines, the sentences under each
figure and the metrics recorded for the quarterly review.

Numbers come from :mod:`salesops.territory`; this module only runs the pieces in order and formats them. When
the data lack what the design needs, or the settings cannot all hold, the result is an
:class:`~salesops.leads.page.Unavailable` naming why, and the page says so instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from salesops.escape import md
from salesops.leads._common import MissingDataError
from salesops.leads.page import Unavailable, _sentence, missing, review_moment, table
from salesops.territory.baseline import compare_designs, greedy_assignment
from salesops.territory.buckets import bucket_summary
from salesops.territory.config import TerritorySettings, prepare
from salesops.territory.design import (
    TerritoryDesign,
    TerritoryInfeasibleError,
    design_territories,
    evaluate_assignment,
)

__all__ = [
    "TerritoryReview",
    "Unavailable",
    "describe_buckets",
    "describe_design",
    "metrics",
    "missing",
    "moves",
    "review",
    "review_moment",
    "table",
]


@dataclass
class TerritoryReview:
    """Everything the page shows.

    Attributes
    ----------
    accounts, territories : DataFrame
        The inputs (:func:`salesops.territory.config.prepare`).
    buckets : DataFrame
        :func:`~salesops.territory.buckets.bucket_summary` of the accounts.
    design : TerritoryDesign
        The optimised design.
    by_design : dict of str to DataFrame
        Per-territory balance of the current assignment, the greedy baseline and the design.
    comparison : DataFrame
        :func:`~salesops.territory.baseline.compare_designs` of the three.
    settings : TerritorySettings
    """

    accounts: pd.DataFrame
    territories: pd.DataFrame
    buckets: pd.DataFrame
    design: TerritoryDesign
    by_design: dict[str, pd.DataFrame]
    comparison: pd.DataFrame
    settings: TerritorySettings


def review(data: Any, settings: TerritorySettings, as_of: Any = None, time_limit: float = 30.0) -> Any:
    """Prepare the accounts and territories, design, and compare with the current assignment and the greedy
    baseline; an :class:`Unavailable` when the data lack something or the settings conflict."""
    try:
        accounts, terr = prepare(data, settings, as_of)
        values = list(settings.values)
        design = design_territories(accounts, terr, values=values, tolerance=settings.tolerance,
                                    keep_owners=settings.keep_owners, max_moved_share=settings.max_moved_share,
                                    time_limit=time_limit)
    except (MissingDataError, TerritoryInfeasibleError) as exc:
        return Unavailable(_sentence(str(exc)))
    greedy = greedy_assignment(accounts, terr, values)
    designs = {"current": accounts["current_territory"], "greedy": greedy, "optimised": design.assignment["territory_id"]}
    by_design = {name: evaluate_assignment(accounts, terr, asg, values)[0] for name, asg in designs.items()}
    buckets = bucket_summary(accounts, accounts["bucket"], values)
    buckets["territories"] = buckets["bucket"].map(terr["bucket"].value_counts()).fillna(0).astype(int)
    return TerritoryReview(accounts, terr, buckets, design, by_design,
                           compare_designs(accounts, terr, designs, values), settings)


def describe_buckets(result: Any) -> str:
    """Sentences under the bucket table."""
    if isinstance(result, Unavailable):
        return f"**Territories:** not available. {md(result.reason)}"
    b = result.buckets
    parts = [f"*{md(r['bucket'])}*: {r['accounts']:,} accounts ({r['share_of_accounts']:.0%}) in {r['territories']} "
             f"territories" for _, r in b.iterrows()]
    rules = ", ".join(md(x["name"]) for x in result.settings.buckets)
    return f"Buckets from the firmographic rules ({rules}, first match wins): " + "; ".join(parts) + "."


def describe_design(result: Any) -> str:
    """Sentences under the design's figures: balance, disruption, baselines, method."""
    if isinstance(result, Unavailable):
        return f"**Design:** not available. {md(result.reason)}"
    s = result.design.summary
    c = result.comparison.set_index("design")
    values = list(result.settings.values)
    dev = ", ".join(f"{md(v)} {c.loc['optimised', f'max_abs_deviation_{v}']:.1%}" for v in values)
    cur = ", ".join(f"{md(v)} {c.loc['current', f'max_abs_deviation_{v}']:.0%}" for v in values)
    text = (f"Today the territories stray up to {cur} from their fair part. The design brings every territory within "
            f"±{s['tolerance']:.0%} (largest deviations: {dev}) while {s['moved_accounts']:,} accounts "
            f"({s['moved_share']:.1%}) change owner, within the budget of {s['max_moved_share']:.0%}")
    if s.get("moved_share_lower_bound") is not None:
        text += (f"; no design within the tolerance can move fewer than {s['moved_share_lower_bound']:.1%} "
                 "(the linear relaxation's bound)")
    g = c.loc["greedy"]
    text += (". The greedy split balances to "
             + ", ".join(f"{md(v)} {g[f'max_abs_deviation_{v}']:.1%}" for v in values)
             + f" but hands {g['moved_share']:.0%} of the accounts to a new owner. ")
    if s.get("unowned_accounts"):
        text += (f"{s['unowned_accounts']:,} accounts have an owner who holds no territory on the review day (a rep who "
                 "left, or ownership exported later than that day); they are assigned without counting as moves. ")
    if not s["meets_tolerance"]:
        text += "**The tolerance is not met.** "
    text += " ".join(md(n) for n in result.design.notes)
    return text


def moves(result: Any) -> pd.DataFrame:
    """Per territory: owner, bucket, accounts, gained, lost and the deviations before and after."""
    if isinstance(result, Unavailable):
        return pd.DataFrame()
    after = result.by_design["optimised"].set_index("territory_id")
    before = result.by_design["current"].set_index("territory_id")
    out = after[[c for c in ("owner_rep_id", "bucket", "accounts", "gained", "lost") if c in after.columns]].copy()
    for v in result.settings.values:
        out[f"{v}_deviation_before"] = before[f"deviation_{v}"]
        out[f"{v}_deviation_after"] = after[f"deviation_{v}"]
    return out.reset_index().sort_values(["bucket", "territory_id"]).reset_index(drop=True)


def metrics(result: Any) -> dict[str, tuple[Any, str, str]]:
    """The page's headline numbers for ``metrics.json`` (None when unavailable, same keys every quarter)."""
    ok = not isinstance(result, Unavailable)
    c = result.comparison.set_index("design") if ok else None

    def dev(design: str, v: str) -> float | None:
        if not ok or f"max_abs_deviation_{v}" not in c.columns:
            return None
        return float(c.loc[design, f"max_abs_deviation_{v}"])

    s = result.design.summary if ok else {}
    return {
        "territories": (len(result.territories) if ok else None, "territories", "territories designed"),
        "accounts": (len(result.accounts) if ok else None, "accounts", "accounts assigned"),
        "current_max_deviation_potential": (dev("current", "potential"), "share",
                                            "largest deviation of a territory's potential from its target, today"),
        "current_max_deviation_workload": (dev("current", "workload"), "share",
                                           "largest deviation of a territory's workload from its target, today"),
        "design_max_deviation_potential": (dev("optimised", "potential"), "share",
                                           "largest deviation of potential from target in the design"),
        "design_max_deviation_workload": (dev("optimised", "workload"), "share",
                                          "largest deviation of workload from target in the design"),
        "design_moved_share": (s.get("moved_share"), "share", "share of accounts that change owner in the design"),
        "design_meets_tolerance": (s.get("meets_tolerance"), "flag", "every territory within the tolerance"),
        "greedy_moved_share": (float(c.loc["greedy", "moved_share"]) if ok else None, "share",
                               "share of accounts the greedy baseline would move"),
    }
