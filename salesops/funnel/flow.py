"""Pipeline flow of a quarter: how the pipeline due in the quarter got from its start to its end.

The **pipeline of quarter** :math:`Q` at moment :math:`t` is the amount of the opportunities open at
:math:`t` whose expected close date (as recorded at :math:`t`) lies in :math:`Q`:
:math:`P_Q(t) = \\sum_o a_o(t)\\,[\\text{open}_o(t)]\\,[\\text{close}_o(t) \\in Q]`, every state rebuilt from
``opportunity_history`` (:mod:`salesops.funnel.snapshot`). Between the start of the quarter :math:`t_0` (end
of the day before its first day) and its end :math:`t_1` (end of its last day, or the as-of moment of a
quarter still running) every history row changes one opportunity's contribution
:math:`c = a\\,[\\text{open}]\\,[\\text{close} \\in Q]` from :math:`c_{\\text{before}}` to
:math:`c_{\\text{after}}`, and the change is given to exactly one step:

``created``
    a new opportunity (its first row) due in the quarter: :math:`+c_{\\text{after}}`;
``pulled_in``
    an open deal's close date moved into the quarter: :math:`+c_{\\text{after}}`;
``reopened``
    a closed deal back to an open stage, due in the quarter: :math:`+c_{\\text{after}}`;
``pushed_out``
    close date moved out of the quarter *before* the old date arrived: :math:`-c_{\\text{before}}`;
``slipped``
    close date moved out of the quarter on or after the old date (the deal missed it):
    :math:`-c_{\\text{before}}`;
``won`` / ``lost``
    the deal closed: :math:`-c_{\\text{before}}`, the pipeline value it carried;
``amount_increase`` / ``amount_decrease``
    the amount of an open deal due in the quarter changed: :math:`c_{\\text{after}} - c_{\\text{before}}`.

A deal due after the quarter that is *won* inside it was pulled in and won by the same row (both steps show
the amount it carried), so ``won`` is all the pipeline won in the quarter; a deal due later that is *lost*
now was never this quarter's pipeline and changes nothing here (it leaves its own quarter's). A deal created
already won inside the quarter is created and won. Amounts are summed in whole cents, so for every quarter
and group :math:`P_Q(t_0) + \\sum \\text{steps} = P_Q(t_1)` holds exactly (it telescopes, row by row).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salesops.funnel._common import (
    as_list,
    as_quarter,
    opportunity_attributes,
    quarter_moments,
    require_columns,
    require_table,
    to_dt,
)
from salesops.funnel.snapshot import prepare_history
from salesops.periods import Quarter

__all__ = ["FLOW_STEPS", "flow_events", "pipeline_flow"]

#: Steps of the flow in waterfall order, with their kind.
FLOW_STEPS: dict[str, str] = {
    "start": "level",
    "created": "inflow",
    "pulled_in": "inflow",
    "reopened": "inflow",
    "pushed_out": "outflow",
    "slipped": "outflow",
    "won": "outflow",
    "lost": "outflow",
    "amount_increase": "inflow",
    "amount_decrease": "outflow",
    "end": "level",
}
_PREVENTS = "the pipeline flow"


def _contributions(h: pd.DataFrame, first_day: pd.Timestamp, last_day: pd.Timestamp) -> pd.DataFrame:
    close = to_dt(h["close_date"])
    inwin = ((close >= first_day) & (close <= last_day)).to_numpy()
    cents = np.rint(h["amount"].to_numpy(float) * 100.0)
    cents = np.where(np.isnan(cents), 0, cents).astype(np.int64)
    opp = h["opportunity_id"].to_numpy()
    first = np.r_[True, opp[1:] != opp[:-1]]
    is_open = h["is_open"].to_numpy(bool)

    def prev(a: np.ndarray, fill: Any) -> np.ndarray:
        out = np.roll(a, 1)
        out[first] = fill
        return out

    c = np.where(is_open & inwin, cents, 0)
    return pd.DataFrame(
        {
            "opportunity_id": opp,
            "changed_at": h["changed_at"].array,
            "first": first,
            "is_open": is_open,
            "is_won": h["is_won"].to_numpy(bool),
            "inwin": inwin,
            "cents": cents,
            "c": c,
            "c_prev": prev(c, 0),
            "open_prev": prev(is_open, False),
            "inwin_prev": prev(inwin, False),
            "cents_prev": prev(cents, 0),
            "close_prev": prev(close.to_numpy(), np.datetime64("NaT")),
        }
    )


def flow_events(
    history: pd.DataFrame,
    quarter: Quarter | str,
    stages: pd.DataFrame | None = None,
    as_of: Any = None,
    *,
    prepared: bool = False,
) -> pd.DataFrame:
    """Every change of the quarter's pipeline, one row per history row and step (module docstring).

    Parameters
    ----------
    history : DataFrame
        ``opportunity_history`` with ``amount`` and ``close_date`` (or :func:`prepare_history` output with
        ``prepared=True``).
    quarter : Quarter or str
        The quarter, e.g. ``"2025Q2"``.
    stages : DataFrame, optional
        Stage table (default ``templates/stages.yaml``).
    as_of : str, date or Timestamp, optional
        Latest moment read: a quarter still running ends there.

    Returns
    -------
    DataFrame
        ``opportunity_id, changed_at, step, cents`` (signed change in whole cents), ``amount`` (the same in
        currency units). ``.attrs`` holds ``start_cents``, ``end_cents``, ``start_deals``, ``end_deals``,
        ``start`` and ``end`` (the moments) and the per-opportunity levels ``start_levels`` / ``end_levels``
        (dicts of cents by opportunity, deals that contribute nothing left out).

    Raises
    ------
    MissingDataError
        When the history lacks ``amount`` or ``close_date``.
    """
    require_columns(history, "opportunity_history", ["amount", "close_date"], _PREVENTS)
    q = as_quarter(quarter)
    t0, t1 = quarter_moments(q, as_of)
    h = history if prepared else prepare_history(history, stages)
    h = h[h["changed_at"] <= t1]
    x = _contributions(h, pd.Timestamp(q.start), pd.Timestamp(q.end))
    when = x["changed_at"]
    before = x[(when <= t0).to_numpy()]
    start_levels = before.groupby("opportunity_id", sort=False)["c"].last()
    end_levels = x.groupby("opportunity_id", sort=False)["c"].last()
    w = x[(when > t0).to_numpy()]

    first, is_open, open_prev = w["first"].to_numpy(), w["is_open"].to_numpy(), w["open_prev"].to_numpy()
    inwin, inwin_prev = w["inwin"].to_numpy(), w["inwin_prev"].to_numpy()
    c, c_prev, cents, cents_prev = (w[k].to_numpy() for k in ("c", "c_prev", "cents", "cents_prev"))
    day = to_dt(w["changed_at"]).dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize().to_numpy()
    close_prev = w["close_prev"].to_numpy()
    close_step = np.where(w["is_won"].to_numpy(), "won", "lost")
    parts: list[tuple[np.ndarray, np.ndarray | str, np.ndarray]] = []

    # a first row: created (and won at once when it is created won inside the quarter)
    created_won = first & ~is_open & inwin & w["is_won"].to_numpy()
    parts.append((first & is_open, "created", c))
    parts.append((created_won, "created", cents))
    parts.append((created_won, "won", -cents))
    # an open deal closes: due in the quarter before, or won ahead of its later expected date
    was_due = ~first & open_prev & ~is_open & inwin_prev
    won_early = ~first & open_prev & ~is_open & ~inwin_prev & inwin & w["is_won"].to_numpy()
    parts.append((was_due, close_step, -c_prev))
    parts.append((won_early, "pulled_in", cents_prev))
    parts.append((won_early, "won", -cents_prev))
    # a closed deal reopens
    parts.append((~first & ~open_prev & is_open, "reopened", c))
    # an open deal stays open
    stay = ~first & open_prev & is_open
    out_of_q = stay & inwin_prev & ~inwin
    early = day < close_prev
    parts.append((out_of_q & early, "pushed_out", -c_prev))
    parts.append((out_of_q & ~early, "slipped", -c_prev))
    parts.append((stay & ~inwin_prev & inwin, "pulled_in", c))
    both = stay & inwin_prev & inwin
    delta = c - c_prev
    parts.append((both & (delta > 0), "amount_increase", delta))
    parts.append((both & (delta < 0), "amount_decrease", delta))

    ids, times = w["opportunity_id"].to_numpy(), w["changed_at"].array
    frames = []
    for mask, step, value in parts:
        m = mask & (value != 0)
        if m.any():
            frames.append(
                pd.DataFrame(
                    {
                        "opportunity_id": ids[m],
                        "changed_at": times[m],
                        "step": step[m] if isinstance(step, np.ndarray) else step,
                        "cents": value[m].astype(np.int64),
                    }
                )
            )
    events = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(
            {
                "opportunity_id": pd.Series([], dtype=object),
                "changed_at": pd.Series([], dtype="datetime64[ns, UTC]"),
                "step": pd.Series([], dtype=object),
                "cents": np.array([], np.int64),
            }
        )
    )
    events = events.sort_values(["changed_at", "opportunity_id"], kind="stable").reset_index(drop=True)
    events["amount"] = events["cents"] / 100.0
    start_cents, end_cents = int(start_levels.sum()), int(end_levels.sum())
    if start_cents + int(events["cents"].sum()) != end_cents:  # pragma: no cover - the steps telescope
        raise AssertionError("pipeline flow does not reconcile; a change was left unclassified")
    events.attrs.update(
        quarter=str(q),
        start=t0,
        end=t1,
        start_cents=start_cents,
        end_cents=end_cents,
        start_deals=int((start_levels != 0).sum()),
        end_deals=int((end_levels != 0).sum()),
        start_levels=start_levels[start_levels != 0].to_dict(),
        end_levels=end_levels[end_levels != 0].to_dict(),
    )
    return events


def pipeline_flow(
    data: Any, quarter: Quarter | str, by: str | list[str] | None = None, as_of: Any = None
) -> pd.DataFrame:
    r"""The quarter's pipeline flow as a waterfall table: start, each step, end (module docstring).

    For every group, ``start + sum(steps) = end`` holds exactly in cents.

    Parameters
    ----------
    data : SalesData
        Needs ``opportunity_history`` with ``amount`` and ``close_date``; ``by`` may need ``accounts`` /
        ``reps``.
    quarter : Quarter or str
        The quarter.
    by : str or list of str, optional
        Opportunity attribute(s) (``segment``, ``team``, ...): one waterfall per group.
    as_of : str, date or Timestamp, optional
        Latest moment read (default ``data.as_of``).

    Returns
    -------
    DataFrame
        ``[by...,] step, kind, amount, deals``: one row per step of :data:`FLOW_STEPS` (zero rows kept), the
        ``amount`` signed (outflows negative, levels positive), ``deals`` the number of opportunities with
        that step. ``.attrs``: ``quarter``, ``start``, ``end`` (moments) and ``reconciled`` (True).

    Raises
    ------
    MissingDataError
        Without ``opportunity_history``, its ``amount`` or ``close_date``, or a ``by`` column.
    """
    history = require_table(data, "opportunity_history", _PREVENTS)
    moment = as_of if as_of is not None else getattr(data, "as_of", None)
    ev = flow_events(history, quarter, getattr(data, "stages", None), moment)
    info = dict(ev.attrs)
    keys = as_list(by)
    levels = {k: pd.Series(info[f"{k}_levels"], dtype="int64") for k in ("start", "end")}
    if keys:
        attrs = opportunity_attributes(data, keys)[keys].astype(object).fillna("(none)")
        ev = ev.join(attrs, on="opportunity_id")
        groups = sorted({tuple(r) for r in attrs.drop_duplicates().itertuples(index=False)}, key=str)
    else:
        attrs = None
        groups = [()]
    rows = []
    for g in groups:
        if keys:
            sel = np.logical_and.reduce([ev[k].eq(v).to_numpy() for k, v in zip(keys, g, strict=True)])
            e = ev[sel]
            members = attrs.index[
                np.logical_and.reduce([attrs[k].eq(v).to_numpy() for k, v in zip(keys, g, strict=True)])
            ]
        else:
            e, members = ev, None
        per_step = e.groupby("step").agg(cents=("cents", "sum"), deals=("opportunity_id", "nunique"))
        level_rows = {}
        for name, lv in levels.items():
            lv = lv if members is None else lv[lv.index.isin(members)]
            level_rows[name] = (int(lv.sum()), int((lv != 0).sum()))
        if keys and level_rows["start"] == (0, 0) and level_rows["end"] == (0, 0) and per_step.empty:
            continue
        for step, kind in FLOW_STEPS.items():
            if kind == "level":
                cents, deals = level_rows[step]
            elif step in per_step.index:
                cents, deals = int(per_step.at[step, "cents"]), int(per_step.at[step, "deals"])
            else:
                cents, deals = 0, 0
            rows.append(
                {
                    **dict(zip(keys, g, strict=True)),
                    "step": step,
                    "kind": kind,
                    "cents": cents,
                    "deals": deals,
                }
            )
    table = pd.DataFrame(rows, columns=[*keys, "step", "kind", "cents", "deals"])
    table["amount"] = table["cents"] / 100.0
    reconciled = True
    for _, t in table.groupby(keys, sort=False) if keys else [((), table)]:
        steps = t[t["kind"] != "level"]["cents"].sum()
        start = t.loc[t["step"].eq("start"), "cents"].sum()
        end = t.loc[t["step"].eq("end"), "cents"].sum()
        reconciled &= bool(start + steps == end)
    table = table[[*keys, "step", "kind", "amount", "deals", "cents"]]
    table.attrs.update(quarter=info["quarter"], start=info["start"], end=info["end"], reconciled=reconciled)
    return table
