"""Rep statements: the lines behind one rep's payout, in the order a rep reads them."""

from __future__ import annotations

import pandas as pd

from salesops.comp.engine import PayoutResult

__all__ = ["rep_statement", "statement_totals"]

_ORDER = {"commission": 0, "spif": 1, "clawback": 2, "draw": 3}


def rep_statement(result: PayoutResult, rep_id: str, period: str | pd.Period | None = None) -> pd.DataFrame:
    """One rep's statement lines: commission per credited item (with the tier it reached), SPIFs,
    clawbacks and the draw adjustment, in that order; their ``amount`` sums exactly to the payout.

    Parameters
    ----------
    result : PayoutResult
    rep_id : str
    period : str or Period, optional
        One period; default all of them.

    Returns
    -------
    DataFrame
        ``period, line, item_id, date, credited, attainment_before, attainment_after, tier, amount``.
    """
    s = result.statements[result.statements["rep_id"] == rep_id]
    if period is not None:
        s = s[s["period"] == pd.Period(period, s["period"].dtype.freq if len(s) else "Q")]
    if s.empty and rep_id not in set(result.payouts["rep_id"]):
        raise ValueError(f"rep {rep_id!r} has no payout under plan {result.plan.name!r}")
    s = s.assign(_o=s["line"].map(_ORDER)).sort_values(["period", "_o", "date", "item_id"], kind="stable")
    cols = ["period", "line", "item_id", "date", "credited", "attainment_before", "attainment_after", "tier",
            "amount"]
    return s[cols].reset_index(drop=True)


def statement_totals(result: PayoutResult) -> pd.DataFrame:
    """Statement lines summed per rep, period and line kind, beside the payout they must equal.

    Returns
    -------
    DataFrame
        ``rep_id, period, commission, spif, clawback, draw, statement_total, payout, difference`` (the
        difference is computed in cents and is 0 by construction; shown so a reader can check it).
    """
    s = result.statements
    wide = s.pivot_table(index=["rep_id", "period"], columns="line", values="cents", aggfunc="sum", fill_value=0)
    for col in _ORDER:
        if col not in wide.columns:
            wide[col] = 0
    wide = wide[list(_ORDER)]
    idx = pd.MultiIndex.from_frame(result.payouts[["rep_id", "period"]])
    wide = wide.reindex(idx, fill_value=0)
    out = wide / 100.0
    out["statement_total"] = wide.sum(axis=1) / 100.0
    payout_cents = (result.payouts["payout"] * 100).round().astype("int64").to_numpy()
    out["payout"] = payout_cents / 100.0
    out["difference"] = (wide.sum(axis=1).to_numpy() - payout_cents) / 100.0
    return out.reset_index()
