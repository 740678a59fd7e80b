"""Time-to-event statistics without a model: Kaplan–Meier curves, their median, and the log-rank test.

Sales cycles are durations with censoring: an open deal has been open for 40 days *so far*. Dropping open
deals biases cycle length down; treating "still open" as "closed today" biases it too. The Kaplan–Meier
estimator uses each open deal for as long as it has been observed.

Conventions used throughout:

* ``durations`` are non-negative numbers (or timedeltas, converted to days); ``observed`` is 1/True when the
  event (close) happened at that duration and 0/False when the duration is censored (still open).
* Ties: at a time :math:`t` with :math:`d` events and :math:`c` censorings, the censored durations count as
  at risk at :math:`t` (events come first), the usual convention.
* Left truncation (``entry``): a subject is at risk at :math:`t` when :math:`\\mathrm{entry} \\le t \\le T`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as sps

from salesops.stats._checks import check_confidence, critical_value

__all__ = ["LogrankResult", "MedianSurvival", "kaplan_meier", "km_by_group", "km_median", "logrank_test"]

#: Survival values within this of 0.5 count as having reached it (the product-limit estimate of, say,
#: 1 - 50/100 may come out as 0.5000000000000001).
_TOL = 1e-10


class MedianSurvival(NamedTuple):
    """Median survival time with its confidence interval.

    ``note`` explains a NaN (no events, or the curve never falls to one half); it is empty otherwise.
    """

    median: float
    lower: float
    upper: float
    n: int
    events: int
    note: str


class LogrankResult(NamedTuple):
    """Log-rank test of two survival curves (chi-square with 1 degree of freedom)."""

    statistic: float
    p_value: float
    observed_a: float
    expected_a: float
    observed_b: float
    expected_b: float


def _durations(values: Any, name: str) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)) and pd.api.types.is_timedelta64_dtype(values.dtype):
        values = values / pd.Timedelta(days=1)
    elif np.asarray(values).dtype.kind == "m":
        values = np.asarray(values) / np.timedelta64(1, "D")
    arr = np.ravel(np.asarray(values, dtype=float))
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has {int(np.sum(~np.isfinite(arr)))} missing or infinite value(s)")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0; {int(np.sum(arr < 0))} value(s) are negative (smallest {arr.min():g})")
    return arr


def _observed(values: Any, size: int, name: str) -> np.ndarray:
    if values is None:
        return np.ones(size, dtype=bool)
    raw = np.ravel(np.asarray(values))
    if raw.size != size:
        raise ValueError(f"{name} has {raw.size} values for {size} durations")
    if raw.dtype == object or raw.dtype.kind == "f":
        if pd.isna(raw).any():
            raise ValueError(f"{name} has {int(pd.isna(raw).sum())} missing value(s); pass 1/True for an event")
    arr = raw.astype(float)
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must be 0/1 or boolean (1 = event observed, 0 = censored)")
    return arr.astype(bool)


def kaplan_meier(durations: Any, observed: Any = None, entry: Any = None, confidence: float = 0.95) -> pd.DataFrame:
    r"""Kaplan–Meier (product-limit) survival curve with Greenwood variance and a log-log confidence band.

    At each distinct time :math:`t_j` with :math:`n_j` at risk and :math:`d_j` events,

    .. math::

        \hat S(t) = \prod_{t_j \le t} \Bigl(1 - \frac{d_j}{n_j}\Bigr), \qquad
        \widehat{\mathrm{Var}}\,\hat S(t) = \hat S(t)^2 \sum_{t_j \le t} \frac{d_j}{n_j (n_j - d_j)}
        \quad\text{(Greenwood)}.

    The band is symmetric on the :math:`\log(-\log S)` scale, so it stays inside (0, 1):
    with :math:`\sigma^2(t) = \sum d_j / (n_j (n_j - d_j)) \,/\, (\log \hat S(t))^2`,
    :math:`[\hat S^{\exp(z\sigma)}, \hat S^{\exp(-z\sigma)}]`. Where :math:`\hat S = 1` the band is [1, 1]; where
    :math:`\hat S = 0` the Greenwood variance is undefined (NaN) and the band is [0, 0].

    Parameters
    ----------
    durations : array-like
        Time to event or to censoring, >= 0 (timedeltas are converted to days).
    observed : array-like or None
        1/True for an event, 0/False for a censored duration; None means every duration is an event.
    entry : array-like or None
        Delayed entry (left truncation) times, ``0 <= entry <= duration``.
    confidence : float
        Pointwise coverage of the band.

    Returns
    -------
    DataFrame
        One row per distinct duration: ``time, at_risk, events, censored, survival, variance, lower, upper``.
        ``.attrs`` holds ``n``, ``events`` and ``confidence``.
    """
    t = _durations(durations, "durations")
    d_obs = _observed(observed, t.size, "observed")
    z = critical_value(check_confidence(confidence))
    times, inverse, counts = np.unique(t, return_inverse=True, return_counts=True)
    events = np.bincount(inverse, weights=d_obs.astype(float), minlength=times.size)
    if entry is None:
        removed_before = np.concatenate([[0], np.cumsum(counts)[:-1]])
        at_risk = t.size - removed_before
    else:
        e = _durations(entry, "entry")
        if e.size != t.size:
            raise ValueError(f"entry has {e.size} values for {t.size} durations")
        if np.any(e > t):
            raise ValueError(f"entry is after the duration for {int(np.sum(e > t))} subject(s)")
        at_risk = np.searchsorted(np.sort(e), times, side="right") - np.searchsorted(np.sort(t), times, side="left")
    at_risk = at_risk.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, events / at_risk, 0.0)
        survival = np.cumprod(1.0 - hazard)
        term = np.where(events > 0, events / (at_risk * (at_risk - events)), 0.0)
        greenwood = np.cumsum(term)
        variance = np.where(survival > 0, survival**2 * greenwood, np.nan)
        log_s = np.log(survival)
        sigma = np.sqrt(greenwood) / np.abs(log_s)
        lower = survival ** np.exp(z * sigma)
        upper = survival ** np.exp(-z * sigma)
    lower = np.where(survival >= 1.0, 1.0, np.where(survival <= 0.0, 0.0, lower))
    upper = np.where(survival >= 1.0, 1.0, np.where(survival <= 0.0, 0.0, upper))
    table = pd.DataFrame(
        {
            "time": times,
            "at_risk": at_risk.astype(np.int64),
            "events": events.astype(np.int64),
            "censored": (counts - events).astype(np.int64),
            "survival": survival,
            "variance": variance,
            "lower": lower,
            "upper": upper,
        }
    )
    table.attrs.update(n=int(t.size), events=int(d_obs.sum()), confidence=float(confidence))
    return table


def _first_time_at_or_below(times: np.ndarray, curve: np.ndarray, level: float) -> float:
    hit = np.flatnonzero(curve <= level + _TOL)
    return float(times[hit[0]]) if hit.size else float("nan")


def _median_from_table(table: pd.DataFrame) -> MedianSurvival:
    n, events = int(table.attrs.get("n", table["at_risk"].max())), int(table["events"].sum())
    if events == 0:
        note = f"no events: all {n} durations are censored, so the curve never falls and the median is unknown"
        return MedianSurvival(np.nan, np.nan, np.nan, n, 0, note)
    times = table["time"].to_numpy()
    median = _first_time_at_or_below(times, table["survival"].to_numpy(), 0.5)
    lower = _first_time_at_or_below(times, table["lower"].to_numpy(), 0.5)
    upper = _first_time_at_or_below(times, table["upper"].to_numpy(), 0.5)
    note = ""
    if np.isnan(median):
        last = table.iloc[-1]
        note = (
            f"median not reached: survival only falls to {last['survival']:.3f} by t = {last['time']:g} "
            f"({events} events among {n})"
        )
    elif np.isnan(upper):
        note = "upper confidence limit not reached: the band's upper edge stays above 0.5"
    return MedianSurvival(median, lower, upper, n, events, note)


def km_median(durations: Any, observed: Any = None, entry: Any = None, confidence: float = 0.95) -> MedianSurvival:
    r"""Median survival time from the Kaplan–Meier curve, with its confidence interval.

    The median is :math:`\min\{t : \hat S(t) \le 1/2\}`. Without censoring :math:`\hat S` is one minus the
    empirical CDF, so this is the *lower* empirical median, the order statistic :math:`x_{(\lceil n/2 \rceil)}`
    (``numpy.quantile(x, 0.5, method="inverted_cdf")``), which differs from ``numpy.median`` only when ``n`` is
    even and the two middle values differ.

    The interval inverts the log-log band (Brookmeyer & Crowley style): lower limit
    :math:`\min\{t : S_{\mathrm{lower}}(t) \le 1/2\}` (the band's lower edge falls first), upper limit
    :math:`\min\{t : S_{\mathrm{upper}}(t) \le 1/2\}`; NaN when the band never gets there.

    Parameters
    ----------
    durations, observed, entry, confidence
        As in :func:`kaplan_meier`.

    Returns
    -------
    MedianSurvival
        ``(median, lower, upper, n, events, note)``. With no events, or a curve that stays above one half, the
        median is NaN and ``note`` says why.
    """
    return _median_from_table(kaplan_meier(durations, observed, entry, confidence))


def km_by_group(
    frame: pd.DataFrame,
    duration: str,
    observed: str | None,
    by: str | list[str],
    entry: str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Kaplan–Meier median per group.

    Parameters
    ----------
    frame : DataFrame
        One row per subject (deal).
    duration, observed, entry : str
        Column names (``observed`` None: every duration is an event; ``entry`` None: no delayed entry).
    by : str or list of str
        Grouping column(s); missing keys form their own group.
    confidence : float
        Level of the medians' intervals.

    Returns
    -------
    DataFrame
        Indexed by group: ``n, events, censored, median, median_lower, median_upper, note`` (``note`` explains
        every NaN median, e.g. a group whose durations are all censored).
    """
    keys = [by] if isinstance(by, str) else list(by)
    needed = [c for c in [duration, observed, entry, *keys] if c is not None]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise KeyError(f"column(s) missing from frame: {missing}; it has {list(frame.columns)}")
    rows = []
    for key, group in frame.groupby(keys if len(keys) > 1 else keys[0], dropna=False, sort=True, observed=True):
        med = km_median(
            group[duration],
            None if observed is None else group[observed],
            None if entry is None else group[entry],
            confidence,
        )
        rows.append(
            {
                **dict(zip(keys, key if isinstance(key, tuple) else (key,))),
                "n": med.n,
                "events": med.events,
                "censored": med.n - med.events,
                "median": med.median,
                "median_lower": med.lower,
                "median_upper": med.upper,
                "note": med.note,
            }
        )
    columns = [*keys, "n", "events", "censored", "median", "median_lower", "median_upper", "note"]
    return pd.DataFrame(rows, columns=columns).set_index(keys)


def logrank_test(durations_a: Any, observed_a: Any, durations_b: Any, observed_b: Any) -> LogrankResult:
    r"""Log-rank test that two groups share one survival curve.

    At each distinct event time :math:`t` of the pooled sample, with :math:`n = n_a + n_b` at risk and
    :math:`d = d_a + d_b` events,

    .. math::

        E_a = \sum_t d \frac{n_a}{n}, \qquad
        V = \sum_t d \frac{n_a}{n} \frac{n_b}{n} \frac{n - d}{n - 1}, \qquad
        \chi^2 = \frac{(O_a - E_a)^2}{V} \sim \chi^2_1,

    where :math:`O_a = \sum_t d_a` (terms with :math:`n = 1` contribute nothing to :math:`V`).

    Parameters
    ----------
    durations_a, observed_a, durations_b, observed_b : array-like
        Each group's durations and event indicators (None: all events).

    Returns
    -------
    LogrankResult
        ``(statistic, p_value, observed_a, expected_a, observed_b, expected_b)``; NaN statistic and p-value when
        there is no event at all.
    """
    ta, tb = _durations(durations_a, "durations_a"), _durations(durations_b, "durations_b")
    ea = _observed(observed_a, ta.size, "observed_a")
    eb = _observed(observed_b, tb.size, "observed_b")
    event_times = np.unique(np.concatenate([ta[ea], tb[eb]]))
    if event_times.size == 0:
        return LogrankResult(np.nan, np.nan, 0.0, 0.0, 0.0, 0.0)

    def risk_and_events(t: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ts, te = np.sort(t), np.sort(t[e])
        at_risk = t.size - np.searchsorted(ts, event_times, side="left")
        deaths = np.searchsorted(te, event_times, side="right") - np.searchsorted(te, event_times, side="left")
        return at_risk.astype(float), deaths.astype(float)

    na, da = risk_and_events(ta, ea)
    nb, db = risk_and_events(tb, eb)
    n, d = na + nb, da + db
    exp_a = d * na / n
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(n > 1, d * (na / n) * (nb / n) * (n - d) / (n - 1), 0.0)
    o_a, e_a, v = da.sum(), exp_a.sum(), var.sum()
    if v <= 0:
        return LogrankResult(np.nan, np.nan, float(o_a), float(e_a), float(db.sum()), float(d.sum() - e_a))
    stat = (o_a - e_a) ** 2 / v
    return LogrankResult(
        float(stat), float(sps.chi2.sf(stat, 1)), float(o_a), float(e_a), float(db.sum()), float(d.sum() - e_a)
    )
