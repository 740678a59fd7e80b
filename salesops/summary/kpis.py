"""Headline KPIs of a quarter, each against last quarter, the same quarter last year and target.

The KPIs, for quarter :math:`q` running from ``q.start`` to ``q.end`` (inclusive days):

* ``bookings`` — :math:`\\sum` amount of won opportunities with ``close_date`` in :math:`q`.
* ``deals_won`` — number of those opportunities.
* ``win_rate`` — won / closed among opportunities closed in :math:`q` (by count), with a Wilson interval.
* ``avg_deal_size`` — bookings / deals_won.
* ``median_cycle_days`` — median of ``close_date - created_date`` (days) over the deals won in :math:`q`.
* ``new_pipeline`` — :math:`\\sum` amount at creation of opportunities created in :math:`q`.
* ``next_quarter_pipeline`` — :math:`\\sum` amount of opportunities open at the end of :math:`q` whose expected
  close date *as recorded at that moment* falls in the next quarter (read from ``opportunity_history``, so a
  past quarter is seen as it was, without later information).
* ``next_quarter_coverage`` — next_quarter_pipeline / the bookings quota of the next quarter (when that quota
  is not set yet, the quarter's own quota stands in and the row's ``note`` says so).
* ``activities_per_rep_day`` — activities of AEs in :math:`q` / AE working days in :math:`q` (Monday to Friday
  except US federal holidays, from :data:`salesops.calendars.US_FEDERAL`, inside each AE's employment).

Targets: bookings against the quarter's bookings quota (``quotas`` with ``measure == "bookings"`` whose
period lies inside the quarter).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from salesops.calendars import US_FEDERAL, WorkCalendar
from salesops.io.data import SalesData
from salesops.periods import Quarter, parse_quarter
from salesops.stats.proportions import wilson_interval

__all__ = [
    "KPI_LABELS",
    "KPI_UNITS",
    "KPIS",
    "MissingInputError",
    "NO_DEALS",
    "NO_LOST_DEALS",
    "as_quarter",
    "headline_kpis",
    "kpis_by_quarter",
    "next_quarter_pipeline",
    "quarter_kpis",
    "quarter_quota",
    "reporting_currency",
    "trailing_quarters",
]

#: The KPIs in display order.
KPIS = (
    "bookings",
    "deals_won",
    "win_rate",
    "avg_deal_size",
    "median_cycle_days",
    "new_pipeline",
    "next_quarter_pipeline",
    "next_quarter_coverage",
    "activities_per_rep_day",
)
KPI_LABELS = {
    "bookings": "Bookings",
    "deals_won": "Deals won",
    "win_rate": "Win rate",
    "avg_deal_size": "Average deal size",
    "median_cycle_days": "Median sales cycle",
    "new_pipeline": "New pipeline created",
    "next_quarter_pipeline": "Pipeline for next quarter",
    "next_quarter_coverage": "Next-quarter coverage",
    "activities_per_rep_day": "Activities per AE per working day",
}
KPI_UNITS = {
    "bookings": "currency",
    "deals_won": "deals",
    "win_rate": "share",
    "avg_deal_size": "currency",
    "median_cycle_days": "days",
    "new_pipeline": "currency",
    "next_quarter_pipeline": "currency",
    "next_quarter_coverage": "ratio",
    "activities_per_rep_day": "activities",
}
_ALL = "all"


class MissingInputError(ValueError):
    """The data lack a table, or a column to group by, that a KPI (or its target) needs; the message names it.

    The KPI functions catch this one condition and record it as the row's ``note``; any other error propagates.
    """


def as_quarter(quarter: str | Quarter) -> Quarter:
    """``"2025Q4"`` or a :class:`~salesops.periods.Quarter` -> Quarter."""
    return quarter if isinstance(quarter, Quarter) else parse_quarter(quarter)


def _bounds(q: Quarter) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(q.start), pd.Timestamp(q.end)


def _require(data: SalesData, table: str, purpose: str) -> pd.DataFrame:
    frame = getattr(data, table, None)
    if frame is None:
        raise MissingInputError(f"{purpose} needs the table {table}, which this data does not have")
    return frame


def _dimension(
    data: SalesData, frame: pd.DataFrame, by: str | None, *, rep_col: str | None, account_col: str | None,
    purpose: str,
) -> pd.Series:
    """The ``by`` value of each row of ``frame``: its own column, else its account's, else its rep's."""
    if by is None:
        return pd.Series(_ALL, index=frame.index, dtype=object)
    if by in frame.columns:
        return frame[by].astype(object)
    accounts = getattr(data, "accounts", None)
    if account_col and account_col in frame.columns and accounts is not None and by in accounts.columns:
        return frame[account_col].map(accounts.set_index("account_id")[by]).astype(object)
    reps = getattr(data, "reps", None)
    if rep_col and rep_col in frame.columns and reps is not None and by in reps.columns:
        return frame[rep_col].map(reps.set_index("rep_id")[by]).astype(object)
    raise MissingInputError(
        f"{purpose} by {by!r} needs a column {by!r} in the table, its accounts or its reps; none has it")


def _groups(dim: pd.Series) -> list[Any]:
    return sorted(dim.dropna().unique().tolist(), key=str)


def quarter_quota(data: SalesData, quarter: str | Quarter, by: str | None = None) -> pd.Series:
    """Bookings quota of the quarter: :math:`\\sum` amount of ``quotas`` rows with ``measure == "bookings"``
    (rows without a measure count as bookings) whose period lies inside the quarter; by ``by`` when given.

    Raises
    ------
    MissingInputError
        When the data has no ``quotas`` table, or ``by`` cannot be placed on the quota rows.
    """
    q = as_quarter(quarter)
    quotas = _require(data, "quotas", "Quota")
    start, end = _bounds(q)
    measure = quotas["measure"].fillna("bookings") if "measure" in quotas.columns else "bookings"
    inside = quotas[(quotas["period_start"] >= start) & (quotas["period_end"] <= end) & (measure == "bookings")]
    dim = _dimension(data, inside, by, rep_col="rep_id", account_col=None, purpose="Quota")
    return inside["amount"].groupby(dim).sum()


def next_quarter_pipeline(data: SalesData, quarter: str | Quarter, by: str | None = None) -> pd.DataFrame:
    """Opportunities open at the end of ``quarter`` expected to close in the next quarter, as seen then.

    For every opportunity, the last ``opportunity_history`` row changed on or before the quarter's last day
    (23:59:59.999 UTC) gives its stage, amount and expected close date at that moment (amount and close date
    carried forward from earlier rows when a row leaves them empty). It counts when that stage is open and that
    close date falls in the next quarter.

    Returns
    -------
    pandas.DataFrame
        One row per ``by`` group: ``group``, ``deals``, ``amount``.

    Raises
    ------
    MissingInputError
        When the data has no ``opportunity_history`` table.
    """
    q = as_quarter(quarter)
    hist = _require(data, "opportunity_history", "Next-quarter pipeline")
    opps = _require(data, "opportunities", "Next-quarter pipeline")
    cutoff = pd.Timestamp(q.end, tz="UTC") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    h = hist.sort_values(["opportunity_id", "changed_at"], kind="mergesort")
    h = h.assign(
        amount=h.groupby("opportunity_id")["amount"].ffill(),
        close_date=h.groupby("opportunity_id")["close_date"].ffill(),
    )
    h = h[h["changed_at"] <= cutoff].groupby("opportunity_id", sort=False).tail(1)
    closed_stages = set(opps.loc[opps["is_closed"].astype(bool), "stage"].unique())
    nq_start, nq_end = _bounds(q.next())
    open_then = h[~h["stage"].isin(closed_stages) & h["close_date"].between(nq_start, nq_end)]
    frame = open_then.merge(opps[["opportunity_id", "account_id", "owner_rep_id"]
                                 + ([by] if by and by in opps.columns and by not in h.columns else [])],
                            on="opportunity_id", how="left")
    dim = _dimension(data, frame, by, rep_col="owner_rep_id", account_col="account_id", purpose="Pipeline")
    out = frame.groupby(dim)["amount"].agg(deals="size", amount="sum")
    out.index.name = "group"
    return out.reset_index()


def _amount_at_creation(data: SalesData, opps: pd.DataFrame) -> pd.Series:
    hist = getattr(data, "opportunity_history", None)
    if hist is None or hist.empty:
        return opps["amount"]
    first = (hist.dropna(subset=["amount"]).sort_values("changed_at", kind="mergesort")
             .groupby("opportunity_id")["amount"].first())
    return opps["opportunity_id"].map(first).fillna(opps["amount"])


def _working_days(start: pd.Timestamp, end: pd.Timestamp, calendar: WorkCalendar = US_FEDERAL) -> pd.DatetimeIndex:
    return calendar.working_days(start, end)


def _activity_rate(data: SalesData, q: Quarter, by: str | None) -> pd.DataFrame:
    acts = _require(data, "activities", "Activities per rep")
    reps = _require(data, "reps", "Activities per rep")
    start, end = _bounds(q)
    days = _working_days(start, end).values
    aes = reps[reps["role"] == "AE"].copy()
    first = aes["hire_date"].clip(lower=start)
    ends = aes["end_date"] if "end_date" in aes.columns else pd.Series(pd.NaT, index=aes.index)
    last = pd.to_datetime(ends).fillna(end).clip(upper=end)
    aes["working_days"] = [int(((days >= f) & (days <= lt)).sum()) if f <= lt else 0
                           for f, lt in zip(first.values, last.values, strict=True)]
    t0 = pd.Timestamp(q.start, tz="UTC")
    t1 = pd.Timestamp(q.next().start, tz="UTC")
    occurred = acts["occurred_at"]
    in_q = acts.loc[(occurred >= t0) & (occurred < t1) & acts["rep_id"].isin(aes["rep_id"]), "rep_id"]
    aes["activities"] = aes["rep_id"].map(in_q.value_counts()).fillna(0).astype(int)
    dim = _dimension(data, aes, by, rep_col="rep_id", account_col=None, purpose="Activities per rep")
    out = aes.groupby(dim)[["activities", "working_days"]].sum()
    out.index.name = "group"
    return out.reset_index()


def quarter_kpis(
    data: SalesData, quarter: str | Quarter, by: str | None = None, *, confidence: float = 0.95
) -> pd.DataFrame:
    """The headline KPIs of one quarter (see the module docstring for each formula).

    Parameters
    ----------
    data : SalesData
        Needs ``opportunities``; ``accounts`` or ``reps`` when ``by`` lives there. The pipeline KPIs need
        ``opportunity_history`` and ``quotas``, the activity KPI ``activities`` and ``reps``: when one is
        missing its KPIs are NaN and ``note`` names the missing table.
    quarter : str or Quarter
        ``YYYYQn``.
    by : str, optional
        A column of the opportunities, of their accounts (``segment``, ``region``) or of their owners.
    confidence : float
        Coverage of the win-rate interval (Wilson).

    Returns
    -------
    pandas.DataFrame
        Tidy: ``period, group, kpi, value, lower, upper, n, note``; ``group`` is ``"all"`` without ``by``.
        ``lower``/``upper`` are set for the win rate only; ``n`` is the count behind the value.
    """
    q = as_quarter(quarter)
    if getattr(data, "opportunities", None) is None and getattr(data, "transactions", None) is not None:
        return _transaction_kpis(data, q, by)
    opps = _require(data, "opportunities", "Headline KPIs")
    start, end = _bounds(q)
    no_lost = not bool((opps["is_closed"].astype(bool) & ~opps["is_won"].astype(bool)).any())
    dim = _dimension(data, opps, by, rep_col="owner_rep_id", account_col="account_id", purpose="Headline KPIs")
    closed = opps["is_closed"].astype(bool) & opps["close_date"].between(start, end)
    won = closed & opps["is_won"].astype(bool)
    created = opps["created_date"].between(start, end)
    groups = _groups(dim)
    rows: list[dict[str, Any]] = []

    def add(group: Any, kpi: str, value: float, n: float, lower: float = np.nan, upper: float = np.nan,
            note: str = "") -> None:
        rows.append({"period": str(q), "group": group, "kpi": kpi, "value": float(value), "lower": float(lower),
                     "upper": float(upper), "n": float(n), "note": note})

    creation_amount = _amount_at_creation(data, opps)
    for g in groups:
        in_g = dim == g
        w = opps[won & in_g]
        n_closed = int((closed & in_g).sum())
        n_won = len(w)
        bookings = float(w["amount"].sum())
        add(g, "bookings", bookings, n_won)
        add(g, "deals_won", n_won, n_won)
        if n_closed:
            lo, hi = wilson_interval(n_won, n_closed, confidence)
            add(g, "win_rate", n_won / n_closed, n_closed, lo, hi, note=NO_LOST_DEALS if no_lost else "")
        else:
            add(g, "win_rate", np.nan, 0, note="no deal closed")
        add(g, "avg_deal_size", bookings / n_won if n_won else np.nan, n_won)
        cycle = (w["close_date"] - w["created_date"]).dt.days
        add(g, "median_cycle_days", float(cycle.median()) if n_won else np.nan, n_won)
        add(g, "new_pipeline", float(creation_amount[created & in_g].sum()), int((created & in_g).sum()))

    for kpi_names, compute in (
        (("next_quarter_pipeline", "next_quarter_coverage"), _pipeline_rows),
        (("activities_per_rep_day",), _activity_rows),
    ):
        try:
            for row in compute(data, q, by, groups):
                add(**row)
        except MissingInputError as exc:
            for g in groups:
                for kpi in kpi_names:
                    add(g, kpi, np.nan, 0, note=str(exc))
    out = pd.DataFrame(rows, columns=["period", "group", "kpi", "value", "lower", "upper", "n", "note"])
    order = {k: i for i, k in enumerate(KPIS)}
    out["_o"] = out["kpi"].map(order)
    out["_g"] = out["group"].map({g: i for i, g in enumerate(groups)})
    return out.sort_values(["_g", "_o"], kind="mergesort").drop(columns=["_o", "_g"]).reset_index(drop=True)


#: The note of a win rate computed on data that hold no lost deal at all.
NO_LOST_DEALS = ("the data hold no lost deal, only won ones (and open ones), so the win rate is 100% by "
                 "construction and says nothing about how often deals are lost")
#: The note of the KPIs that need deals when the data hold transactions only.
NO_DEALS = "the data hold transactions (orders) but no opportunities table, so there are no deals to count"


def _transaction_kpis(data: SalesData, q: Quarter, by: str | None) -> pd.DataFrame:
    """The headline KPIs of a transactional business: bookings are the amount of the quarter's transactions,
    ``n`` the number of orders (distinct ``transaction_id``, else rows); the deal KPIs are NaN with a note."""
    tx = data.transactions
    start, end = _bounds(q)
    days = pd.to_datetime(tx["date"])
    days = days.dt.tz_convert(None) if getattr(days.dt, "tz", None) is not None else days
    in_q = tx[days.dt.normalize().between(start, end)]
    dim = _dimension(data, in_q, by, rep_col=None, account_col=None, purpose="Headline KPIs")
    all_dim = _dimension(data, tx, by, rep_col=None, account_col=None, purpose="Headline KPIs")
    rows = []
    for g in _groups(all_dim):
        part = in_q[dim == g]
        orders = part["transaction_id"].nunique() if "transaction_id" in part.columns else len(part)
        for kpi in KPIS:
            if kpi == "bookings":
                rows.append({"period": str(q), "group": g, "kpi": kpi, "value": float(part["amount"].sum()),
                             "lower": np.nan, "upper": np.nan, "n": float(orders),
                             "note": "amount of the quarter's transactions (orders)"})
            else:
                rows.append({"period": str(q), "group": g, "kpi": kpi, "value": np.nan, "lower": np.nan,
                             "upper": np.nan, "n": 0.0, "note": NO_DEALS})
    return pd.DataFrame(rows, columns=["period", "group", "kpi", "value", "lower", "upper", "n", "note"])


def _pipeline_rows(data: SalesData, q: Quarter, by: str | None, groups: Sequence[Any]) -> list[dict[str, Any]]:
    pipe = next_quarter_pipeline(data, q, by).set_index("group")
    quota = quarter_quota(data, q.next(), by)
    note = ""
    if float(quota.sum()) <= 0:  # next quarter's quota not set yet: this quarter's stands in, and the note says so
        quota = quarter_quota(data, q, by)
        note = f"no bookings quota for {q.next()} yet; coverage against {q}'s quota"
    rows = []
    for g in groups:
        amount = float(pipe["amount"].get(g, 0.0))
        deals = float(pipe["deals"].get(g, 0))
        rows.append({"group": g, "kpi": "next_quarter_pipeline", "value": amount, "n": deals})
        target = float(quota.get(g, 0.0))
        rows.append({"group": g, "kpi": "next_quarter_coverage", "value": amount / target if target > 0 else np.nan,
                     "n": deals, "note": note if target > 0 else "no bookings quota"})
    return rows


def _activity_rows(data: SalesData, q: Quarter, by: str | None, groups: Sequence[Any]) -> list[dict[str, Any]]:
    rate = _activity_rate(data, q, by).set_index("group")
    rows = []
    for g in groups:
        days = float(rate["working_days"].get(g, 0))
        acts = float(rate["activities"].get(g, 0))
        rows.append({"group": g, "kpi": "activities_per_rep_day", "value": acts / days if days else np.nan,
                     "n": days, "note": "" if days else "no AE working day"})
    return rows


def reporting_currency(data: SalesData) -> str:
    """The currency of the opportunities' amounts: the most frequent ``opportunities.currency``; ``""`` when the
    column is absent or empty (amounts are then shown without a currency)."""
    opps = getattr(data, "opportunities", None)
    if opps is None or "currency" not in opps.columns or opps["currency"].dropna().empty:
        return ""
    counts = opps["currency"].dropna().astype(str).value_counts()
    return str(counts[counts == counts.max()].index.sort_values()[0])


def trailing_quarters(quarter: str | Quarter, n: int = 8) -> list[Quarter]:
    """The ``n`` quarters ending with ``quarter``, oldest first."""
    qs = [as_quarter(quarter)]
    while len(qs) < n:
        qs.append(qs[-1].previous())
    return qs[::-1]


def kpis_by_quarter(
    data: SalesData, quarters: Sequence[str | Quarter], by: str | None = None, *, confidence: float = 0.95
) -> pd.DataFrame:
    """:func:`quarter_kpis` for several quarters, stacked (for trend figures)."""
    frames = [quarter_kpis(data, q, by, confidence=confidence) for q in quarters]
    return pd.concat(frames, ignore_index=True)


def _change(value: pd.Series, base: pd.Series, kpi: pd.Series) -> pd.Series:
    """Change against a base: a difference of shares for rates (unit ``share``; shown in points), relative
    (``value / base - 1``; shown in %) for amounts, counts and the rest."""
    rate = kpi.map(KPI_UNITS).eq("share")
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(base.abs() > 0, value / base - 1.0, np.nan)
    return pd.Series(np.where(rate, value - base, relative), index=value.index)


def headline_kpis(
    data: SalesData,
    quarter: str | Quarter,
    by: str | None = None,
    *,
    confidence: float = 0.95,
    kpis_of: Callable[..., pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Headline KPIs of ``quarter`` against last quarter, the same quarter last year and target.

    ``change_vs_previous = value / previous - 1`` (for the win rate: ``value - previous``, in share points);
    likewise ``change_vs_last_year``. ``target`` is the quarter's bookings quota (bookings only) and
    ``vs_target = value / target`` (attainment). When there is no target (no ``quotas`` table, ``by`` not
    placeable on the quotas, or no bookings quota for the quarter or group) the bookings row's ``note`` says
    why, starting ``no bookings target:``.

    Parameters
    ----------
    data : SalesData
        As for :func:`quarter_kpis`.
    quarter : str or Quarter
        ``YYYYQn``.
    by : str, optional
        Grouping column (``segment``...).
    confidence : float
        Coverage of the win-rate interval.
    kpis_of : callable, optional
        Replacement of :func:`quarter_kpis` (for tests).

    Returns
    -------
    pandas.DataFrame
        ``group, kpi, label, unit, value, lower, upper, n, previous, n_previous, change_vs_previous, last_year,
        n_last_year, change_vs_last_year, target, vs_target, note`` (``n_previous`` / ``n_last_year``: the count
        behind the base, deals closed for the win rate, so a change of a rate can be tested).
    """
    q = as_quarter(quarter)
    compute = kpis_of or quarter_kpis
    now = compute(data, q, by, confidence=confidence)
    keys = ["group", "kpi"]
    prev = compute(data, q.previous(), by, confidence=confidence).set_index(keys)
    last_year = compute(data, Quarter(q.year - 1, q.q), by, confidence=confidence).set_index(keys)
    out = now.drop(columns=["period"]).copy()
    idx = pd.MultiIndex.from_frame(out[keys])
    out["previous"] = prev["value"].reindex(idx).to_numpy()
    out["n_previous"] = prev["n"].reindex(idx).to_numpy()
    out["last_year"] = last_year["value"].reindex(idx).to_numpy()
    out["n_last_year"] = last_year["n"].reindex(idx).to_numpy()
    out["change_vs_previous"] = _change(out["value"], out["previous"], out["kpi"])
    out["change_vs_last_year"] = _change(out["value"], out["last_year"], out["kpi"])
    out["target"] = np.nan
    is_bookings = out["kpi"].eq("bookings")
    try:
        quota = quarter_quota(data, q, by)
    except MissingInputError as exc:  # no quotas table (or no way to split it by `by`): said on the row
        why = pd.Series(f"no bookings target: {exc}", index=out.index)
    else:
        target = out.loc[is_bookings, "group"].map(quota).astype(float)
        out.loc[is_bookings, "target"] = target.to_numpy()
        why = pd.Series("", index=out.index)
        why[target.index[~(target > 0)]] = f"no bookings target: the quotas table holds no bookings quota for {q}"
    why = why.where(is_bookings, "")
    note = out["note"].fillna("").astype(str)
    out["note"] = np.where(why.eq(""), note, np.where(note.eq(""), why, note + "; " + why))
    with np.errstate(divide="ignore", invalid="ignore"):
        out["vs_target"] = np.where(out["target"] > 0, out["value"] / out["target"], np.nan)
    out["label"] = out["kpi"].map(KPI_LABELS)
    out["unit"] = out["kpi"].map(KPI_UNITS)
    cols = ["group", "kpi", "label", "unit", "value", "lower", "upper", "n", "previous", "n_previous",
            "change_vs_previous", "last_year", "n_last_year", "change_vs_last_year", "target", "vs_target", "note"]
    return out[cols]
