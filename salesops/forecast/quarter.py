r"""The quarter forecast: closed so far + a Monte Carlo over open deals + bookings from pipeline not yet created.

For a quarter :math:`Q` forecast as of :math:`t`,

.. math:: B_Q = C_Q(t) + \sum_{i \in \text{open}(t)} W_i\,r\,a_i + N_Q(t),
          \qquad W_i \sim \text{Bernoulli}(p_i)

where :math:`C_Q(t)` is what was won in :math:`Q` by :math:`t`, :math:`a_i` the open deal's amount at
:math:`t`, :math:`p_i` its probability of being won within the quarter (from a model trained only on quarters
that ended by :math:`t`), :math:`r` the won-to-open amount ratio learned on the same quarters (by quarter of
year, so year-end uplifts carry over), and :math:`N_Q(t)` the bookings of deals created after :math:`t` and won
in :math:`Q`, drawn from a :class:`~salesops.forecast.models.SeasonalQuarterly` model of that series.
P10, P50 and P90 are quantiles of ``n_sims`` simulated totals. Baselines are computed the same way with their
own rules (see :data:`METHODS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold

from salesops.io.data import SalesData
from salesops.periods import Quarter
from salesops.stats.shrinkage import fit_beta_prior, shrink_rates

from ._common import (
    InsufficientHistoryError,
    as_of_point,
    as_quarter,
    as_utc,
    group_list,
    quarter_end,
    quarter_start,
)
from .models import FEATURES, SeasonalQuarterly, StageAgeConversion, WinTimingModel
from .snapshot import SnapshotBuilder

__all__ = [
    "METHODS", "MODELS", "BASELINES", "QuarterForecast", "forecast_quarter", "bookings_history",
    "deal_features", "training_frame", "history_quarters", "TRAINING_OFFSETS",
]

#: Baselines: no training, always available (run-rate and seasonal naive need trailing quarters).
BASELINES = ("weighted_pipeline", "commit", "best_case", "run_rate", "seasonal_naive")
#: Models: trained on past quarters' snapshots.
MODELS = ("stage_age", "gbm")
METHODS = BASELINES + MODELS
#: Days into each past quarter at which training snapshots are taken.
TRAINING_OFFSETS = (0, 14, 28, 42, 56, 70)
_FORECAST_CODE = {"pipeline": 0.0, "best_case": 1.0, "commit": 2.0}


def _day(t: pd.Timestamp) -> pd.Timestamp:
    return t.tz_convert("UTC").tz_localize(None).normalize()


def _qlabel(dates: pd.Series) -> pd.Series:
    return pd.PeriodIndex(pd.DatetimeIndex(dates), freq="Q").astype(str)


def bookings_history(builder: SnapshotBuilder, as_of: object, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Won bookings per quarter as known at ``as_of``: ``sum(amount)`` of deals whose stage at ``as_of`` is won,
    by the quarter of their close date.

    Returns
    -------
    DataFrame
        Columns ``[*by, quarter, bookings, deals]``.
    """
    cols = group_list(by)
    snap = builder.at(as_of)
    won = snap.loc[snap["is_won"]]
    out = (won.assign(quarter=_qlabel(won["close_date"]))
           .groupby(cols + ["quarter"], observed=True)["amount"].agg(["sum", "count"]).reset_index())
    return out.rename(columns={"sum": "bookings", "count": "deals"})


def history_quarters(builder: SnapshotBuilder, as_of: object) -> list[Quarter]:
    """Complete quarters known at ``as_of``: from the first quarter with a won booking to the last quarter that
    ended by ``as_of``."""
    t = as_utc(as_of)
    hist = bookings_history(builder, t)
    if hist.empty:
        return []
    first = as_quarter(hist["quarter"].min())
    out, q = [], first
    while quarter_end(q) <= t:
        out.append(q)
        q = q.next()
    return out


def _rep_win_rates(snap: pd.DataFrame) -> pd.Series:
    closed = snap.loc[snap["is_closed"]]
    counts = closed.groupby("owner_rep_id")["is_won"].agg(["sum", "count"])
    if len(counts) < 2:
        return pd.Series(float(closed["is_won"].mean()) if len(closed) else np.nan, index=counts.index)
    try:
        prior = fit_beta_prior(counts["sum"], counts["count"], method="moments")
        return shrink_rates(counts["sum"], counts["count"], prior=prior)["shrunk_rate"]
    except ValueError:
        return pd.Series(float(counts["sum"].sum() / counts["count"].sum()), index=counts.index)


def deal_features(builder: SnapshotBuilder, as_of: object, quarter: Quarter | str,
                  categories: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Open deals at ``as_of`` with the features of :data:`~salesops.forecast.models.FEATURES` for ``quarter``.

    ``days_left = quarter's last day + 1 - as_of's day``; ``close_by_quarter_end = days_to_close <= days_left``;
    ``log_amount = log(1 + amount)``; ``amount_change = amount / first amount``; ``rep_win_rate`` = the owner's
    empirical-Bayes shrunk win rate over deals closed by ``as_of``; categorical columns are coded by their rank in
    ``categories`` (sorted values known at ``as_of`` when None; -1 when unseen).
    """
    q = as_quarter(quarter)
    t = as_utc(as_of)
    snap = builder.at(t)
    cache = builder.__dict__.setdefault("_feature_cache", {})
    if (t, str(q)) not in cache:
        cache[(t, str(q))] = _base_features(builder, snap, t, q)
    open_ = cache[(t, str(q))].copy()
    cats = categories or {c: sorted(snap[c].astype(str).unique()) for c in ("segment", "source", "type")}
    for c in ("segment", "source", "type"):
        codes = {v: float(i) for i, v in enumerate(cats[c])}
        open_[f"{c}_code"] = open_[c].astype(str).map(codes).fillna(-1.0)
    return open_


def _base_features(builder: SnapshotBuilder, snap: pd.DataFrame, t: pd.Timestamp, q: Quarter) -> pd.DataFrame:
    open_ = snap.loc[~snap["is_closed"]].copy()
    day = _day(max(t, quarter_start(q)))
    open_["days_left"] = float((pd.Timestamp(q.end) + pd.Timedelta(days=1) - day).days)
    open_["close_by_quarter_end"] = (open_["days_to_close"] <= open_["days_left"]).astype(float)
    open_["log_amount"] = np.log1p(open_["amount"].clip(lower=0))
    open_["amount_change"] = open_["amount"] / open_["first_amount"].where(open_["first_amount"] > 0)
    open_["rep_win_rate"] = open_["owner_rep_id"].map(_rep_win_rates(snap)).astype(float)
    open_["forecast_code"] = open_["forecast_category"].map(_FORECAST_CODE).fillna(-1.0)
    open_["quarter_of_year"] = float(q.q)
    open_["quarter"] = str(q)
    return open_.reset_index(drop=True)


def training_frame(builder: SnapshotBuilder, quarters: Sequence[Quarter], categories: dict[str, list[str]],
                   offsets: Sequence[int] = TRAINING_OFFSETS) -> pd.DataFrame:
    """Open deals at ``offsets`` days into each past quarter, labelled from the snapshot at that quarter's end:
    ``won = 1`` when the deal is won with a close date inside the quarter; ``won_amount`` its amount then."""
    frames = []
    for q in quarters:
        end = builder.at(quarter_end(q))
        final = end.set_index("opportunity_id")
        for d in offsets:
            f = deal_features(builder, as_of_point(q, d), q, categories)
            if f.empty:
                continue
            state = final.reindex(f["opportunity_id"])
            won = (state["is_won"].fillna(False).to_numpy(bool)
                   & state["close_date"].between(pd.Timestamp(q.start), pd.Timestamp(q.end)).to_numpy())
            frames.append(f.assign(won=won.astype(int), won_amount=np.where(won, state["amount"].to_numpy(), 0.0),
                                   offset=d))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _not_yet_created(builder: SnapshotBuilder, quarters: Sequence[Quarter], offset: int,
                     by: list[str]) -> pd.DataFrame:
    """Per past quarter, bookings in it of deals created after ``offset`` days into it."""
    rows = []
    for q in quarters:
        end = builder.at(quarter_end(q))
        cut = as_of_point(q, offset)
        won = end.loc[end["is_won"] & end["close_date"].between(pd.Timestamp(q.start), pd.Timestamp(q.end))
                      & (end["created_at"] > cut)]
        rows.append(won[by + ["amount"]].assign(quarter=str(q)))
    return pd.concat(rows, ignore_index=True)


@dataclass
class QuarterForecast:
    """A quarter's forecast as of a moment: its parts and the simulation behind its interval.

    Attributes
    ----------
    closed : DataFrame
        Deals won in the quarter by ``as_of`` (group columns, amount).
    deals : DataFrame
        Open deals with ``p_win`` (probability of being won in the quarter), ``ratio`` and
        ``expected = p_win * ratio * amount``.
    extra : DataFrame
        Deterministic additions per group (run-rate remainder, seasonal naive), column ``amount``.
    nyc_draws : ndarray
        Simulated bookings from pipeline not yet created (zeros when the method has none).
    nyc_shares : DataFrame
        Each group's share of the not-yet-created bookings of the trailing quarters (group columns, share).
    sims : ndarray
        Simulated won amount per open deal (deals x simulations); None for deterministic methods.
    """

    quarter: str
    as_of: pd.Timestamp
    method: str
    closed: pd.DataFrame
    deals: pd.DataFrame
    extra: pd.DataFrame
    nyc_draws: np.ndarray
    nyc_shares: pd.DataFrame
    sims: np.ndarray | None
    notes: list[str] = field(default_factory=list)

    def summary(self, by: str | Sequence[str] | None = None) -> pd.DataFrame:
        """The forecast per group: ``closed``, ``open_expected``, ``not_yet_created``, ``forecast`` (the mean of
        the simulated totals, = the sum of the three), ``p10``, ``p50``, ``p90`` (NaN for deterministic methods).

        Means add up across groups to the whole; quantiles do not (they are per group).
        """
        cols = group_list(by)
        keys: list[tuple] = []
        parts = [self.closed, self.deals, self.extra]
        if cols:
            for p in parts + [self.nyc_shares]:
                if len(p):
                    keys += [tuple(r) for r in p[cols].astype(str).itertuples(index=False)]
            keys = sorted(set(keys))
        else:
            keys = [()]
        n = self.nyc_draws.size
        rows = []
        for key in keys:
            def sel(frame: pd.DataFrame, key: tuple = key) -> np.ndarray:
                if not cols or frame.empty:
                    return np.ones(len(frame), bool)
                m = np.ones(len(frame), bool)
                for c, v in zip(cols, key, strict=True):
                    m &= frame[c].astype(str).to_numpy() == v
                return m
            closed = float(self.closed.loc[sel(self.closed), "amount"].sum()) if len(self.closed) else 0.0
            extra = float(self.extra.loc[sel(self.extra), "amount"].sum()) if len(self.extra) else 0.0
            share = float(self.nyc_shares.loc[sel(self.nyc_shares), "share"].sum()) if len(self.nyc_shares) else 0.0
            nyc = self.nyc_draws * share
            m = sel(self.deals)
            open_exp = float(self.deals.loc[m, "expected"].sum()) if len(self.deals) else 0.0
            if self.sims is not None:
                open_sims = self.sims[m].sum(axis=0) if len(self.deals) else np.zeros(n)
                total = closed + extra + open_sims + nyc
                p10, p50, p90 = np.quantile(total, [0.1, 0.5, 0.9])
            else:
                p10 = p50 = p90 = np.nan
            nyc_mean = float(nyc.mean()) if n else 0.0
            rows.append(dict(zip(cols, key, strict=True)) | {
                "method": self.method, "quarter": self.quarter, "as_of": self.as_of, "closed": closed,
                "open_expected": open_exp + extra, "not_yet_created": nyc_mean,
                "forecast": closed + open_exp + extra + nyc_mean, "p10": p10, "p50": p50, "p90": p90,
            })
        return pd.DataFrame(rows)


def _fit_win_model(builder: SnapshotBuilder, method: str, train_q: list[Quarter],
                   categories: dict[str, list[str]], random_state: int):
    key = (method, tuple(str(q) for q in train_q), tuple((k, tuple(v)) for k, v in categories.items()),
           random_state)
    cache = builder.__dict__.setdefault("_model_cache", {})
    if key in cache:
        return cache[key]
    tkey = (key[1], key[2])
    frames = builder.__dict__.setdefault("_train_cache", {})
    if tkey not in frames:
        frames[tkey] = training_frame(builder, train_q, categories)
    train = frames[tkey]
    if train.empty or train["won"].nunique() < 2:
        raise InsufficientHistoryError(f"the {method} model found no won and lost deals to learn from in "
                                       f"{train_q[0]}..{train_q[-1]}")
    if method == "gbm":
        model = WinTimingModel(random_state=random_state).fit(train[list(FEATURES)].to_numpy(float), train["won"])
    else:
        model = StageAgeConversion().fit(train, train["won"])
    # out-of-fold probabilities, folds by quarter, so the spread below sees how wrong the model is on a quarter
    # it has not learned from
    p_in = np.full(len(train), np.nan)
    groups = train["quarter"].to_numpy()
    for fit_idx, test_idx in GroupKFold(n_splits=min(4, len(set(groups)))).split(train, groups=groups):
        part, rest = train.iloc[fit_idx], train.iloc[test_idx]
        if part["won"].nunique() < 2:
            continue
        if method == "gbm":
            m = WinTimingModel(cv=1, random_state=random_state).fit(part[list(FEATURES)].to_numpy(float),
                                                                     part["won"])
            p_in[test_idx] = m.predict_proba(rest[list(FEATURES)].to_numpy(float))[:, 1]
        else:
            p_in[test_idx] = StageAgeConversion().fit(part, part["won"]).predict_proba(rest)[:, 1]
    train = train.loc[~np.isnan(p_in)]
    p_in = p_in[~np.isnan(p_in)]
    wins = train.loc[train["won"] == 1]
    ratio_all = float(wins["won_amount"].sum() / wins["amount"].sum()) if len(wins) else 1.0
    by_q = wins.groupby("quarter_of_year")[["won_amount", "amount"]].sum()
    n_q = wins.groupby("quarter_of_year").size()
    ratios = {int(k): float(by_q.loc[k, "won_amount"] / by_q.loc[k, "amount"]) for k in by_q.index if n_q[k] >= 15}
    # quarter-level overdispersion: the relative spread of won amount around the model's expectation per
    # (quarter, offset) beyond what independent Bernoulli draws explain
    ratio_of = train["quarter_of_year"].map(lambda k: ratios.get(int(k), ratio_all)).to_numpy(float)
    a = train["amount"].to_numpy(float) * ratio_of
    parts = pd.DataFrame({"quarter": train["quarter"], "offset": train["offset"], "o": train["won_amount"],
                          "e": p_in * a, "v": p_in * (1 - p_in) * a ** 2})
    agg = parts.groupby(["quarter", "offset"])[["o", "e", "v"]].sum()
    agg = agg.loc[agg["e"] > 0]
    excess = float(np.mean(((agg["o"] - agg["e"]) / agg["e"]) ** 2 - agg["v"] / agg["e"] ** 2)) if len(agg) else 0.0
    cache[key] = (model, ratio_all, ratios, float(np.sqrt(max(excess, 0.0))))
    return cache[key]


def forecast_quarter(
    data: SalesData | SnapshotBuilder,
    quarter: Quarter | str,
    as_of: object | None = None,
    method: str = "gbm",
    n_sims: int = 2000,
    seed: int = 0,
    min_history_quarters: int = 4,
) -> QuarterForecast:
    """Forecast a quarter's bookings as of a moment with one of :data:`METHODS`.

    Methods
    -------
    ``weighted_pipeline``
        closed + sum over open deals with a close date in the rest of the quarter of ``stage probability x
        amount`` (simulated as Bernoulli draws for its interval).
    ``commit`` / ``best_case``
        closed + amount of open deals closing in the quarter whose forecast category is commit
        (best case: commit or best_case).
    ``run_rate``
        closed + days left x the mean daily bookings of the trailing four complete quarters.
    ``seasonal_naive``
        the bookings of the same quarter a year before.
    ``stage_age`` / ``gbm``
        closed + Monte Carlo over every open deal with the model's probability of being won in the quarter and the
        learned won-to-open amount ratio + Monte Carlo of the not-yet-created bookings.

    Parameters
    ----------
    data : SalesData or SnapshotBuilder
    quarter : Quarter or ``YYYYQn``
    as_of : date-like, optional
        The moment of the forecast, from one day before the quarter starts to its end; default its first
        instant (day 1).
    method : str
    n_sims : int
        Monte Carlo draws.
    seed : int
        Seed of the draws (and of the boosting).
    min_history_quarters : int
        Complete quarters the models, the run-rate and the seasonal naive need before ``as_of``.

    Returns
    -------
    QuarterForecast
        ``.summary(by=...)`` gives the tidy table.

    Raises
    ------
    InsufficientHistoryError
        When a method needs more complete quarters than the data hold before ``as_of``, saying how many.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose among {', '.join(METHODS)}")
    builder = data if isinstance(data, SnapshotBuilder) else SnapshotBuilder(data)
    q = as_quarter(quarter)
    t = quarter_start(q) if as_of is None or str(as_of).strip() == "" else as_utc(as_of)
    if not (quarter_start(q) - pd.Timedelta(days=1) <= t <= quarter_end(q)):
        raise ValueError(f"as_of {t} is outside {q} (a forecast is made from the day before the quarter starts "
                         "to its end)")
    rng = np.random.default_rng(seed)
    snap = builder.at(t)
    group_cols = ["owner_rep_id", "team", "manager_id", "segment", "source", "type"]
    in_q = snap["close_date"].between(pd.Timestamp(q.start), pd.Timestamp(q.end))
    closed = snap.loc[snap["is_won"] & in_q, group_cols + ["opportunity_id", "amount"]].reset_index(drop=True)
    empty_extra = pd.DataFrame(columns=group_cols + ["amount"])
    no_nyc = np.zeros(n_sims)
    shares0 = pd.DataFrame(columns=group_cols + ["share"])
    day = _day(max(t, quarter_start(q)))
    open_ = snap.loc[~snap["is_closed"]]
    in_rest = open_["close_date"].between(day, pd.Timestamp(q.end))
    deal_cols = group_cols + ["opportunity_id", "stage", "amount", "close_date", "forecast_category", "pushes",
                              "age_days"]
    history = [h for h in history_quarters(builder, t) if h < q]
    need_history = method in ("run_rate", "seasonal_naive") + MODELS
    if need_history and len(history) < min_history_quarters:
        have = f"{len(history)} ({history[0]}..{history[-1]})" if history else "none"
        raise InsufficientHistoryError(
            f"the {method} forecast needs at least {min_history_quarters} complete quarters of history before "
            f"{t.date()}; the data hold {have}. The weighted_pipeline, commit and best_case baselines still run.")

    if method in ("weighted_pipeline", "commit", "best_case"):
        d = open_.loc[in_rest, deal_cols].copy()
        if method == "weighted_pipeline":
            d["p_win"] = open_.loc[in_rest, "probability"].to_numpy()
        else:
            cats = {"commit"} if method == "commit" else {"commit", "best_case"}
            d["p_win"] = d["forecast_category"].isin(cats).astype(float)
        d["ratio"] = 1.0
        d["expected"] = d["p_win"] * d["amount"]
        d = d.reset_index(drop=True)
        sims = None
        if method == "weighted_pipeline":
            sims = (rng.random((len(d), n_sims)) < d["p_win"].to_numpy()[:, None]) * d["amount"].to_numpy()[:, None]
        return QuarterForecast(str(q), t, method, closed, d, empty_extra, no_nyc, shares0, sims)

    if method in ("run_rate", "seasonal_naive"):
        books = bookings_history(builder, t, by=group_cols)
        if method == "run_rate":
            trailing = history[-4:]
            days = sum((pd.Timestamp(h.end) - pd.Timestamp(h.start)).days + 1 for h in trailing)
            part = books.loc[books["quarter"].isin([str(h) for h in trailing])]
            left = (pd.Timestamp(q.end) + pd.Timedelta(days=1) - day).days
            extra = part.groupby(group_cols, observed=True)["bookings"].sum().reset_index()
            extra["amount"] = extra["bookings"] / days * left
            return QuarterForecast(str(q), t, method, closed, pd.DataFrame(columns=deal_cols + ["expected"]),
                                   extra[group_cols + ["amount"]], no_nyc, shares0, None)
        last = str(Quarter(q.year - 1, q.q))
        extra = books.loc[books["quarter"] == last].rename(columns={"bookings": "amount"})
        return QuarterForecast(str(q), t, method, closed.iloc[0:0], pd.DataFrame(columns=deal_cols + ["expected"]),
                               extra[group_cols + ["amount"]], no_nyc, shares0, None)

    # models
    categories = {c: sorted(snap[c].astype(str).unique()) for c in ("segment", "source", "type")}
    model, ratio_all, ratios, spread = _fit_win_model(builder, method, history, categories, seed)
    feats = deal_features(builder, t, q, categories)
    if method == "gbm":
        p = model.predict_proba(feats[list(FEATURES)].to_numpy(float))[:, 1]
    else:
        p = model.predict_proba(feats)[:, 1]
    ratio = ratios.get(q.q, ratio_all)
    d = feats[deal_cols].copy()
    d["p_win"] = np.clip(p, 0.0, 1.0)
    d["ratio"] = ratio
    d["expected"] = d["p_win"] * d["ratio"] * d["amount"]
    won_amount = (d["amount"] * d["ratio"]).to_numpy()
    sims = (rng.random((len(d), n_sims)) < d["p_win"].to_numpy()[:, None]) * won_amount[:, None]
    if spread > 0:  # a common lognormal factor (mean 1) carries the quarter-level overdispersion
        s2 = np.log1p(spread ** 2)
        sims = sims * np.exp(np.sqrt(s2) * rng.standard_normal(n_sims) - s2 / 2)[None, :]

    offset = int(max(0, (day - pd.Timestamp(q.start)).days))
    nyc_rows = _not_yet_created(builder, history, offset, group_cols)
    series = nyc_rows.groupby("quarter")["amount"].sum().reindex([str(h) for h in history], fill_value=0.0)
    seasonal = SeasonalQuarterly(min_quarters=min_history_quarters).fit(list(series.index), series.to_numpy())
    nyc_draws = seasonal.sample(str(q), n_sims, rng)
    recent = nyc_rows.loc[nyc_rows["quarter"].isin(series.index[-4:])]
    total = float(recent["amount"].sum())
    shares = (recent.groupby(group_cols, observed=True)["amount"].sum() / total).rename("share").reset_index() \
        if total > 0 else shares0
    return QuarterForecast(str(q), t, method, closed, d, empty_extra, nyc_draws, shares, sims,
                           notes=[f"won-to-open amount ratio {ratio:.3f}", f"quarter-level spread {spread:.3f}", f"not-yet-created model on "
                                  f"{seasonal.n_quarters_} quarters, log-sd {seasonal.sigma_:.2f}"])
