"""Opportunities: where they come from, how they move through the stages, and how they end.

A deal passes Qualification, Discovery, Proposal and Negotiation; at the end of each stage it moves on with
that stage's conversion probability or is lost. Stage times are log-normal shares of the segment's cycle,
rescaled so the median cycle of won deals is ``CYCLE_MEDIAN_DAYS``. The win probability of a deal is the
product of its conversions: the segment's base (with the Mid-Market Proposal bottleneck from 2025-04-01)
plus additive effects of the owner's skill, the training programme and the deal source. The effects are put
into the three non-Proposal conversions, so the Proposal conversion is exactly the planted one; the segment
bases are solved so the realised win rate of closed deals is ``WIN_RATE``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import params as P
from ._random import choice_codes, lognormal, stratified_uniform, stream, weighted_median
from .people import pick
from .timeline import AS_OF_DAY, N_DAYS, calendar

LOSS_EARLY = ("No decision", "Timing", "Product fit", "Budget")
LOSS_LATE = ("Price", "Competitor", "No decision", "Budget")
NB, EXP, REN = 0, 1, 2
#: boundaries (day numbers) of the periods inside which stage decisions are balanced: half-years, and the
#: training and bottleneck dates
PERIOD_BREAKS = np.array(
    sorted({0, 182, 365, 547, 731, 912, 1096, P.TRAINING_START_DAY, P.TRAINING_END_DAY + 1, P.BOTTLENECK_DAY})
)


def _amounts(rng: np.random.Generator, seg: np.ndarray, potential: np.ndarray) -> np.ndarray:
    med = np.asarray(P.ACV_MEDIAN)[seg]
    fit = (potential / (3.0 * med)) ** 0.35
    return np.maximum(np.round(lognormal(rng, med * fit, P.ACV_SIGMA, len(seg)), -2), 1000.0)


def _products(rng: np.random.Generator, t0: np.ndarray, kind: int) -> np.ndarray:
    n = len(t0)
    launched = t0 >= P.ANALYTICS_LAUNCH_DAY
    if kind == NB:
        after = choice_codes(rng, (0.70, 0.15, 0.15), n)
        before = choice_codes(rng, (0.85, 0.0, 0.15), n)
    elif kind == EXP:
        after = choice_codes(rng, (0.2, 0.5, 0.3), n)
        before = choice_codes(rng, (0.4, 0.0, 0.6), n)
    else:
        return np.zeros(n, dtype=np.int64)
    return np.where(launched, after, before)


def _seeds(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols)


def new_business_seeds(
    seed: int, leads: pd.DataFrame, accounts: pd.DataFrame, staff: pd.DataFrame
) -> pd.DataFrame:
    """Deals to simulate in phase 1: from SQL leads, AE-sourced, and the pipeline open on 2023-01-01."""
    rng = stream(seed, "deals.seeds")
    cal = calendar()
    potential = accounts["potential"].to_numpy()
    acc_seg = accounts["_seg"].to_numpy()
    acc_reg = accounts["_reg"].to_numpy()
    w = accounts["_weight"].to_numpy()

    sql = leads[leads["_sql"].notna()]
    t_lead = sql["_sql"].to_numpy()
    acc_lead = sql["_acc"].to_numpy()
    n_lead = len(sql)

    n_ae = int(rng.poisson(P.AE_SOURCED_SHARE / (1 - P.AE_SOURCED_SHARE) * n_lead))
    days = cal.working_days(0, N_DAYS - 1)
    t_ae = cal.snap(rng.choice(days, n_ae) + rng.uniform(13, 23, n_ae) / 24, rng)
    acc_ae = rng.choice(len(accounts), n_ae, p=w / w.sum())

    per_day = ((t_lead < 182).sum() + (t_ae < 182).sum()) / 182.0
    n_warm = int(rng.poisson(per_day * P.WARMUP_DAYS))
    wdays = cal.working_days(-P.WARMUP_DAYS, -1)
    t_warm = rng.choice(wdays, n_warm) + rng.uniform(13, 23, n_warm) / 24
    acc_warm = rng.choice(len(accounts), n_warm, p=w / w.sum())

    t0 = np.r_[t_lead, t_ae, t_warm]
    acc = np.r_[acc_lead, acc_ae, acc_warm]
    keep = t0 <= AS_OF_DAY
    src = np.r_[sql["_src"].to_numpy(), np.full(n_ae + n_warm, P.DEAL_SOURCES.index(P.AE_SOURCED))]
    lead = np.r_[sql.index.to_numpy(), np.full(n_ae + n_warm, -1)]
    seeds = _seeds(
        _t0=t0,
        _acc=acc,
        _src=src,
        _lead=lead,
        _type=np.full(len(t0), NB),
        _origin=np.repeat([0, 1, 2], [n_lead, n_ae, n_warm]),
    )[keep].reset_index(drop=True)
    seg = acc_seg[seeds["_acc"].to_numpy()]
    seeds["_seg"] = seg
    seeds["_owner"] = pick(
        rng,
        staff,
        seeds["_t0"].to_numpy(),
        "AE",
        segment=seg,
        region=acc_reg[seeds["_acc"].to_numpy()],
        use_ramp=True,
    )
    seeds["_amount0"] = _amounts(rng, seg, potential[seeds["_acc"].to_numpy()])
    seeds["_product"] = _products(rng, seeds["_t0"].to_numpy(), NB)
    return seeds


def customer_seeds(
    seed: int, spells: pd.DataFrame, accounts: pd.DataFrame, staff: pd.DataFrame
) -> pd.DataFrame:
    """Deals to simulate in phase 2: expansions and renewals of customers while they are customers."""
    rng = stream(seed, "deals.customers")
    cal = calendar()
    acc = spells["_acc"].to_numpy()
    seg = accounts["_seg"].to_numpy()[acc]
    start_day = np.where(
        spells["start_month"].to_numpy() < 0, -60.0, cal.month_start(np.maximum(spells["start_month"], 0))
    )
    churn_day = cal.month_start(np.minimum(spells["churn_month"].to_numpy(), 60)).astype(float)
    # customers from before 2023 already had expansions in the pipeline on 2023-01-01
    begin = np.where(
        spells["start_month"].to_numpy() < 0, -float(P.WARMUP_DAYS), np.maximum(start_day + 60.0, 0.0)
    )
    end = np.minimum(churn_day - 1.0, AS_OF_DAY)
    months = np.clip(end - begin, 0, None) / P.DAYS_PER_MONTH
    n_exp = rng.poisson(P.EXPANSIONS_PER_CUSTOMER_MONTH * months)
    s_exp = np.repeat(np.arange(len(spells)), n_exp)
    t_exp = begin[s_exp] + rng.random(len(s_exp)) * (end - begin)[s_exp]

    first = spells["first_close_day"].to_numpy()
    ann_s, ann_t = [], []
    for k in range(1, 8):
        ann = first + 365.0 * k
        t = ann - rng.uniform(60, 90, len(spells))
        ok = (
            (ann < churn_day)
            & (t >= -P.WARMUP_DAYS)
            & (t <= AS_OF_DAY)
            & (rng.random(len(spells)) < P.RENEWAL_OPPORTUNITY_PROB)
        )
        ann_s.append(np.flatnonzero(ok))
        ann_t.append(t[ok])
    s_ren = np.concatenate(ann_s)
    t_ren = np.concatenate(ann_t)

    s_all = np.r_[s_exp, s_ren]
    t0 = cal.snap(np.r_[t_exp, t_ren], rng)
    typ = np.r_[np.full(len(s_exp), EXP), np.full(len(s_ren), REN)]
    keep = t0 <= AS_OF_DAY
    s_all, t0, typ = s_all[keep], t0[keep], typ[keep]
    a = acc[s_all]
    sg = seg[s_all]
    owner0 = spells["owner"].to_numpy()[s_all]
    hire = staff["_hire"].to_numpy(float)[owner0]
    endw = staff["_end"].to_numpy(float)[owner0]
    still = (hire <= t0) & (t0 < endw + 1)
    repl = pick(rng, staff, t0, "AE", segment=sg, region=accounts["_reg"].to_numpy()[a])
    owner = np.where(still, owner0, repl)
    med = np.asarray(P.ACV_MEDIAN)[sg] * P.EXPANSION_ACV_FACTOR
    amt_exp = np.maximum(np.round(lognormal(rng, med, 0.5, len(t0)), -2), 500.0)
    amt_ren = np.round(spells["acv"].to_numpy()[s_all] * rng.uniform(1.0, 1.1, len(t0)), -2)
    prod = np.where(typ == EXP, _products(rng, t0, EXP), 0)
    return _seeds(
        _t0=t0,
        _acc=a,
        _src=np.full(len(t0), P.DEAL_SOURCES.index(P.EXISTING_CUSTOMER)),
        _lead=np.full(len(t0), -1),
        _type=typ,
        _origin=np.full(len(t0), 3),
        _seg=sg,
        _owner=owner,
        _amount0=np.where(typ == EXP, amt_exp, amt_ren),
        _product=prod,
    )


def _base_conversions(seg: np.ndarray, exposed: np.ndarray) -> np.ndarray:
    conv = np.asarray(P.STAGE_CONVERSION)[seg].copy()
    conv[exposed, 2] = P.BOTTLENECK["conversion_after"]
    return conv


def _durations(
    rng: np.random.Generator, t0: np.ndarray, seg: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list]:
    n = len(t0)
    raw = np.asarray(P.STAGE_TIME_SHARE)[None, :] * np.exp(P.STAGE_TIME_SIGMA * rng.standard_normal((n, 4)))
    scale = np.asarray(P.CYCLE_MEDIAN_DAYS, dtype=float).copy()
    mm = seg == P.MM
    for _ in range(6):
        d = raw * scale[seg][:, None]
        exposed = mm & (t0 + d[:, 0] + d[:, 1] >= P.BOTTLENECK_DAY)
        d[exposed, 2] *= P.BOTTLENECK["time_in_stage_factor"]
        conv = _base_conversions(seg, exposed)
        w = conv.prod(axis=1)
        cyc = d.sum(axis=1)
        won_at = t0 + cyc
        inwin = (won_at >= 0) & (won_at <= AS_OF_DAY)
        for s in range(3):
            m = (seg == s) & inwin
            if m.sum() >= 5:
                scale[s] *= P.CYCLE_MEDIAN_DAYS[s] / weighted_median(cyc[m], w[m])
    d = raw * scale[seg][:, None]
    exposed = mm & (t0 + d[:, 0] + d[:, 1] >= P.BOTTLENECK_DAY)
    d[exposed, 2] *= P.BOTTLENECK["time_in_stage_factor"]
    return d, exposed, scale.tolist()


def _conversions(svec: np.ndarray, seg: np.ndarray, base_conv: np.ndarray, delta: np.ndarray) -> np.ndarray:
    base = base_conv.prod(axis=1)
    p = np.clip(svec[seg] * base + delta, 0.005, 0.92)
    rho = (p / base) ** (1.0 / 3.0)
    conv = base_conv.copy()
    for k in (0, 1, 3):
        conv[:, k] = np.minimum(base_conv[:, k] * rho, 0.985)
    return conv


def _expected_closed_rate(conv: np.ndarray, exit_t: np.ndarray, seg: np.ndarray) -> np.ndarray:
    reach = np.cumprod(np.c_[np.ones(len(conv)), conv[:, :3]], axis=1)
    p_lost = reach * (1.0 - conv)
    p_won = reach[:, 3] * conv[:, 3]
    inwin = (exit_t >= 0) & (exit_t <= AS_OF_DAY)
    closed = (p_lost * inwin).sum(axis=1) + p_won * inwin[:, 3]
    won = p_won * inwin[:, 3]
    out = np.full(3, np.nan)
    for s in range(3):
        m = seg == s
        if closed[m].sum() > 0:
            out[s] = won[m].sum() / closed[m].sum()
    return out


def effects(staff: pd.DataFrame, owner: np.ndarray, src: np.ndarray, t0: np.ndarray) -> np.ndarray:
    """Additive win-probability effect of each deal: owner's skill + training + source."""
    trained = staff["_trained"].to_numpy(bool)[owner] & (np.floor(t0) > P.TRAINING_END_DAY)
    src_eff = np.array([P.SOURCE_WIN_EFFECT[s] for s in P.DEAL_SOURCES])[src]
    return staff["_skill"].to_numpy(float)[owner] + P.TRAINING["effect"] * trained + src_eff


def simulate(seed: int, name: str, seeds: pd.DataFrame, staff: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Run the stage process for ``seeds``; return them with outcome columns and the solved constants."""
    rng = stream(seed, f"deals.simulate.{name}")
    n = len(seeds)
    t0 = seeds["_t0"].to_numpy(float)
    seg = seeds["_seg"].to_numpy()
    owner = seeds["_owner"].to_numpy()
    dur, exposed, dscale = _durations(rng, t0, seg)
    exit_t = t0[:, None] + np.cumsum(dur, axis=1)
    base_conv = _base_conversions(seg, exposed)
    delta = effects(staff, owner, seeds["_src"].to_numpy(), t0)

    target = np.asarray(P.WIN_RATE)
    lo, hi = np.full(3, 0.2), np.full(3, 5.0)
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        rate = _expected_closed_rate(_conversions(mid, seg, base_conv, delta), exit_t, seg)
        low = np.nan_to_num(rate, nan=1.0) < target
        lo = np.where(low, mid, lo)
        hi = np.where(low, hi, mid)
    svec = 0.5 * (lo + hi)
    conv = _conversions(svec, seg, base_conv, delta)

    period = np.searchsorted(PERIOD_BREAKS, np.floor(t0), side="right")
    alive = np.ones(n, dtype=bool)
    final = np.full(n, 4)
    for k in range(4):
        idx = np.flatnonzero(alive)
        key = owner[idx] * 64 + period[idx] * 2 + exposed[idx]
        fail = stratified_uniform(rng, key) >= conv[idx, k]
        final[idx[fail]] = k
        alive[idx[fail]] = False
    won = final == 4
    t_close = exit_t[np.arange(n), np.minimum(final, 3)]

    amount_change = rng.random(n) < P.AMOUNT_CHANGE_PROB
    amount_factor = rng.uniform(0.8, 1.25, n)
    amount_cur = np.where(
        amount_change, np.round(seeds["_amount0"].to_numpy() * amount_factor, -2), seeds["_amount0"]
    )
    amount_cur = np.maximum(amount_cur, 100.0)
    close_month = calendar().month_of(t_close)
    q4 = won & (close_month % 12 >= 9)
    amount_final = np.where(q4, np.round(amount_cur * P.Q4_WON_AMOUNT_MULTIPLIER, -2), amount_cur)

    out = seeds.copy()
    for k in range(4):
        out[f"_d{k}"] = dur[:, k]
        out[f"_x{k}"] = exit_t[:, k]
        out[f"_c{k}"] = conv[:, k]
    out["_exposed"] = exposed
    out["_p"] = conv.prod(axis=1)
    out["_final"] = final
    out["_won"] = won
    out["_tclose"] = t_close
    out["_e0"] = t0 + lognormal(rng, np.asarray(P.CYCLE_MEDIAN_DAYS)[seg], 0.35, n)
    out["_skip"] = (rng.random(n) < P.SKIP_DISCOVERY_PROB) & (final >= 2)
    out["_regress"] = (rng.random(n) < P.REGRESSION_PROB) & (final >= 1) & ~out["_skip"] & (dur[:, 1] > 5)
    out["_fc_up"] = (rng.random(n) < P.FORECAST_UPGRADE_PROB) & (final >= 2)
    out["_amount_change"] = amount_change
    out["_amount_cur"] = amount_cur
    out["_amount_final"] = amount_final
    out["_u_amt"] = rng.uniform(0.15, 0.85, n)
    out["_u_push1"] = rng.uniform(0.55, 0.95, n)
    out["_u_push2"] = rng.uniform(0.55, 0.95, n)
    out["_u_split"] = rng.uniform(0.3, 0.7, n)
    out["_u_open"] = rng.uniform(3, 45, n)
    out["_u_fc"] = rng.uniform(0.3, 0.8, n)
    loss_early = np.asarray(LOSS_EARLY, dtype=object)[rng.integers(0, len(LOSS_EARLY), n)]
    loss_late = np.asarray(LOSS_LATE, dtype=object)[rng.integers(0, len(LOSS_LATE), n)]
    out["_loss_reason"] = np.where(final <= 1, loss_early, loss_late)
    nominal = np.asarray(P.STAGE_CONVERSION)
    calib = {
        "segment_win_scale": svec.tolist(),
        "duration_scale_days": dscale,
        "stage_conversions": {
            P.SEGMENTS[s]: {
                stage: float(nominal[s, k] * (svec[s] ** (1 / 3) if k != 2 else 1.0))
                for k, stage in enumerate(P.OPEN_STAGES)
            }
            for s in range(3)
        },
    }
    return out, calib


def expected_win(calib: dict, seg: np.ndarray, src: np.ndarray, t0: np.ndarray) -> np.ndarray:
    """Win probability of a new deal of a zero-effect owner (used for each lead's true P(won))."""
    svec = np.asarray(calib["segment_win_scale"])
    dscale = np.asarray(calib["duration_scale_days"])
    to_proposal = dscale[seg] * (P.STAGE_TIME_SHARE[0] + P.STAGE_TIME_SHARE[1])
    exposed = (seg == P.MM) & (t0 + to_proposal >= P.BOTTLENECK_DAY)
    base = _base_conversions(seg, exposed).prod(axis=1)
    src_eff = np.array([P.SOURCE_WIN_EFFECT[s] for s in P.DEAL_SOURCES])[src]
    return np.clip(svec[seg] * base + src_eff, 0.005, 0.92)


def history_events(deals: pd.DataFrame) -> pd.DataFrame:
    """One row per change of each deal (full state after the change), up to the as-of moment.

    Columns: ``_deal`` (row position in ``deals``), ``t`` (day number), ``stage`` and ``fc`` (codes),
    ``amount``, ``close_day``.
    """
    n = len(deals)
    t0 = deals["_t0"].to_numpy(float)
    final = deals["_final"].to_numpy()
    won = deals["_won"].to_numpy(bool)
    x = deals[["_x0", "_x1", "_x2", "_x3"]].to_numpy(float)
    d = deals[["_d0", "_d1", "_d2", "_d3"]].to_numpy(float)
    t_close = deals["_tclose"].to_numpy(float)
    e0 = deals["_e0"].to_numpy(float)
    a0 = deals["_amount0"].to_numpy(float)
    nan = np.full(n, np.nan)
    parts = []

    def add(mask, t, seq, stage=None, fc=None, amount=None, close=None):
        m = np.asarray(mask, dtype=bool)
        i = np.flatnonzero(m)
        parts.append(
            pd.DataFrame(
                {
                    "_deal": i,
                    "t": np.asarray(t, dtype=float)[i],
                    "seq": seq,
                    "stage": (np.full(n, -1) if stage is None else np.broadcast_to(stage, (n,)))[i],
                    "fc": (np.full(n, -1) if fc is None else np.broadcast_to(fc, (n,)))[i],
                    "amount": (nan if amount is None else np.broadcast_to(amount, (n,)))[i],
                    "close_day": (nan if close is None else np.broadcast_to(close, (n,)))[i],
                }
            )
        )

    fc_of = np.asarray(P.STAGE_FORECAST)
    add(np.ones(n), t0, 0, stage=0, fc=0, amount=a0, close=np.floor(e0))
    add((final >= 1) & ~deals["_skip"].to_numpy(bool), x[:, 0], 2, stage=1, fc=fc_of[1])
    add(final >= 2, x[:, 1], 2, stage=2, fc=fc_of[2])
    add(final >= 3, x[:, 2], 2, stage=3, fc=fc_of[3])
    add(
        np.ones(n),
        t_close,
        9,
        stage=np.where(won, 4, 5),
        fc=np.where(won, 3, 4),
        amount=deals["_amount_final"].to_numpy(float),
        close=np.floor(t_close),
    )
    regress = deals["_regress"].to_numpy(bool)
    add(regress, x[:, 0] + 0.35 * d[:, 1], 1, stage=0, fc=0)
    add(regress, x[:, 0] + 0.65 * d[:, 1], 1, stage=1, fc=0)
    add(deals["_fc_up"].to_numpy(bool), x[:, 1] + deals["_u_fc"].to_numpy() * d[:, 2], 3, fc=2)
    add(
        deals["_amount_change"].to_numpy(bool),
        t0 + deals["_u_amt"].to_numpy() * (t_close - t0),
        4,
        amount=deals["_amount_cur"].to_numpy(float),
    )
    # close-date pushes: the expected close passes while the deal is still open
    target = np.where(
        t_close <= AS_OF_DAY, t_close, np.maximum(t_close, AS_OF_DAY + deals["_u_open"].to_numpy())
    )
    gap = target - e0
    p1 = np.floor(e0) + deals["_u_push1"].to_numpy()
    do1 = (p1 < t_close) & (gap > 3)
    two = do1 & (gap > 45)
    e1 = e0 + gap * deals["_u_split"].to_numpy()
    p2 = np.floor(e1) + deals["_u_push2"].to_numpy()
    do2 = two & (p2 < t_close) & (p2 > p1)
    add(do1, p1, 5, close=np.where(two, np.floor(e1), np.floor(target)))
    add(do2, p2, 6, close=np.floor(target))

    ev = pd.concat(parts, ignore_index=True)
    ev = ev[ev["t"] <= AS_OF_DAY]
    ev = ev.sort_values(["_deal", "t", "seq"], kind="stable").reset_index(drop=True)
    # carry the state forward inside each deal (its first row, the creation, sets everything)
    pos = np.arange(len(ev))
    for col, missing in (("stage", -1), ("fc", -1)):
        v = ev[col].to_numpy()
        src = np.maximum.accumulate(np.where(v != missing, pos, 0))
        ev[col] = v[src]
    for col in ("amount", "close_day"):
        v = ev[col].to_numpy()
        src = np.maximum.accumulate(np.where(~np.isnan(v), pos, 0))
        ev[col] = v[src]
    # strictly increasing change times inside a deal (at least two seconds apart)
    step = 2.0 / 86_400.0
    deal = ev["_deal"].to_numpy()
    first = np.r_[0, np.flatnonzero(deal[1:] != deal[:-1]) + 1]
    rank = pos - np.repeat(first, np.diff(np.r_[first, len(ev)]))
    offset = deal * 10_000.0
    t = ev["t"].to_numpy()
    t = np.maximum.accumulate(t + offset - rank * step) - offset + rank * step
    ev["t"] = np.minimum(t, AS_OF_DAY)
    return ev


def opportunity_tables(
    deals: pd.DataFrame, ev: pd.DataFrame, accounts: pd.DataFrame, staff: pd.DataFrame, leads: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The canonical ``opportunities`` and ``opportunity_history`` tables.

    ``deals`` must already be in id order (``opportunity_id`` column set); each opportunity row is the last
    state of its history.
    """
    from .timeline import to_dates, to_timestamps

    ids = deals["opportunity_id"].to_numpy(dtype=object)
    stage_names = np.asarray(P.STAGE_NAMES, dtype=object)
    fc_names = np.asarray(P.FORECAST, dtype=object)
    hist = pd.DataFrame(
        {
            "opportunity_id": ids[ev["_deal"].to_numpy()],
            "changed_at": to_timestamps(ev["t"].to_numpy()).array,
            "stage": stage_names[ev["stage"].to_numpy()],
            "amount": ev["amount"].to_numpy(),
            "close_date": to_dates(ev["close_day"].to_numpy()).to_numpy(),
            "forecast_category": fc_names[ev["fc"].to_numpy()],
        }
    )
    last = ev.groupby("_deal", sort=True).tail(1).set_index("_deal").reindex(np.arange(len(deals)))
    stage = last["stage"].to_numpy()
    is_closed = stage >= 4
    is_won = stage == 4
    lead = deals["_lead"].to_numpy()
    lead_ids = leads["lead_id"].to_numpy(dtype=object)
    opps = pd.DataFrame(
        {
            "opportunity_id": ids,
            "account_id": accounts["account_id"].to_numpy(dtype=object)[deals["_acc"].to_numpy()],
            "owner_rep_id": staff["rep_id"].to_numpy(dtype=object)[deals["_owner"].to_numpy()],
            "created_date": to_dates(deals["_t0"].to_numpy()).to_numpy(),
            "close_date": to_dates(last["close_day"].to_numpy()).to_numpy(),
            "stage": stage_names[stage],
            "is_closed": is_closed,
            "is_won": is_won,
            "amount": last["amount"].to_numpy(),
            "currency": "USD",
            "type": np.asarray(P.DEAL_TYPES, dtype=object)[deals["_type"].to_numpy()],
            "source": np.asarray(P.DEAL_SOURCES, dtype=object)[deals["_src"].to_numpy()],
            "lead_id": np.where(lead >= 0, lead_ids[np.maximum(lead, 0)], None),
            "forecast_category": fc_names[last["fc"].to_numpy()],
            "loss_reason": np.where(is_closed & ~is_won, deals["_loss_reason"].to_numpy(dtype=object), None),
            "product": np.asarray(P.PRODUCTS, dtype=object)[deals["_product"].to_numpy()],
        }
    )
    return opps, hist


def calibrate_q4(deals: pd.DataFrame) -> dict[str, float]:
    """Solve, for each year, the multiplier on amounts won in Q4 so that the year's Q4 bookings are
    ``1 + Q4_UPLIFT_TARGET`` times the mean of its Q1-Q3 bookings; set ``_amount_final`` accordingly.

    Returns the multiplier per year.
    """
    t_close = deals["_tclose"].to_numpy()
    won = deals["_won"].to_numpy(bool) & (t_close >= 0) & (t_close <= AS_OF_DAY)
    month = calendar().month_of(t_close)
    q4 = won & (month % 12 >= 9)
    year = month // 12
    cur = deals["_amount_cur"].to_numpy(float)
    final = cur.copy()
    out = {}
    for y in range(3):
        in_y = won & (year == y)
        q4_sum = cur[in_y & q4].sum()
        rest = cur[in_y & ~q4].sum()
        mult = (
            (1.0 + P.Q4_UPLIFT_TARGET) * rest / (3.0 * q4_sum) if q4_sum > 0 else P.Q4_WON_AMOUNT_MULTIPLIER
        )
        mult = float(np.clip(mult, 0.8, 2.5))
        m = in_y & q4
        final[m] = np.round(cur[m] * mult, -2)
        out[str(2023 + y)] = mult
    deals["_amount_final"] = final
    return out
