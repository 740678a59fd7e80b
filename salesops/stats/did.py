"""Did the process change work? Difference-in-differences on a panel, and interrupted time series.

* :func:`diff_in_diff` — treated vs. control units, before vs. after a change at one common date, with
  standard errors clustered by unit (serial correlation within a rep or a team is the rule, not the exception).
* :func:`parallel_trends_test` — the identifying assumption's testable part: in the pre-period, does the
  treated group's outcome drift away from the control group's?
* :func:`interrupted_time_series` — one series, no control group: segmented regression with a level and a
  slope change at the break, Newey–West (HAC) standard errors.

Regressions use :mod:`salesops.stats._ols` (numpy only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salesops.stats._checks import check_confidence
from salesops.stats._ols import cluster_vcov, coef_table, hac_vcov, newey_west_lags, wls

__all__ = ["DidResult", "ItsResult", "TrendTest", "diff_in_diff", "interrupted_time_series", "parallel_trends_test"]


@dataclass(frozen=True)
class TrendTest:
    """Pre-period differential trend: treated × time coefficient (outcome units per period)."""

    estimate: float
    se: float
    lower: float
    upper: float
    p_value: float
    n_periods: int
    df: int
    confidence: float


@dataclass(frozen=True)
class DidResult:
    """A difference-in-differences estimate.

    Attributes
    ----------
    effect, se, lower, upper, p_value : float
        Treated × post coefficient, its cluster-robust standard error, confidence interval and two-sided p-value
        (Student t with ``df`` = clusters - 1).
    df : int
        Degrees of freedom of the t reference distribution.
    n_obs, n_units, n_treated_units : int
        Sample sizes.
    method : str
        ``"2x2"`` (group and period-block dummies) or ``"twfe"`` (unit and period fixed effects).
    means : DataFrame
        (Weighted) mean outcome by ``treated`` (rows) and ``post`` (columns); in the 2x2 design
        ``effect = (m11 - m10) - (m01 - m00)``.
    coef : DataFrame
        The regression's coefficient table.
    pretrend : TrendTest or None
        :func:`parallel_trends_test` on the pre-period, when it has at least 2 periods.
    note : str
        Caveats (e.g. why there is no pre-trend test).
    """

    effect: float
    se: float
    lower: float
    upper: float
    p_value: float
    df: int
    n_obs: int
    n_units: int
    n_treated_units: int
    confidence: float
    method: str
    means: pd.DataFrame = field(repr=False)
    coef: pd.DataFrame = field(repr=False)
    pretrend: TrendTest | None = None
    note: str = ""


def _panel(
    frame: pd.DataFrame, unit: str, period: str, treated: str, post: str | None, outcome: str, weights: str | None
) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    roles = {"unit": unit, "period": period, "treated": treated, "post": post, "outcome": outcome, "weights": weights}
    missing = [f"{c!r} ({r})" for r, c in roles.items() if c is not None and c not in frame.columns]
    if missing:
        raise KeyError(f"column(s) missing from frame: {', '.join(missing)}; it has {list(frame.columns)}")
    cols = [c for c in roles.values() if c is not None]
    data = frame[cols].copy()
    bad = data.isna().sum()
    if bad.any():
        raise ValueError(f"missing values in: {bad[bad > 0].to_dict()}")
    for role, col in (("treated", treated), ("post", post)):
        if col is None:
            continue
        values = pd.to_numeric(data[col], errors="coerce") if data[col].dtype != bool else data[col].astype(int)
        if values.isna().any() or not values.isin([0, 1]).all():
            raise ValueError(f"{col!r} ({role}) must be 0/1 or boolean")
        data[col] = values.astype(int)
    data[outcome] = pd.to_numeric(data[outcome], errors="coerce")
    if data[outcome].isna().any() or not np.isfinite(data[outcome]).all():
        raise ValueError(f"{outcome!r} (outcome) must be numeric and finite")
    if weights is not None:
        w = pd.to_numeric(data[weights], errors="coerce")
        if w.isna().any() or (w < 0).any():
            raise ValueError(f"{weights!r} (weights) must be numeric and >= 0")
        data[weights] = w.astype(float)
    varying = data.groupby(unit, observed=True)[treated].nunique()
    if (varying > 1).any():
        raise ValueError(
            f"{treated!r} varies within {int((varying > 1).sum())} unit(s) (e.g. {varying[varying > 1].index[0]!r}); "
            "it marks the units that get the change, and the design builds treated x post itself"
        )
    if post is not None:
        varying = data.groupby(period, observed=True)[post].nunique()
        if (varying > 1).any():
            raise ValueError(
                f"{post!r} varies within period {varying[varying > 1].index[0]!r}: this design needs one change date "
                "for every treated unit (staggered adoption is not supported)"
            )
    return data


def _period_rank(values: pd.Series) -> np.ndarray:
    order = pd.Index(pd.unique(values)).sort_values()
    return order.get_indexer(values).astype(float)


def _weighted_means(data: pd.DataFrame, treated: str, post: str, outcome: str, weights: str | None) -> pd.DataFrame:
    w = data[weights] if weights is not None else pd.Series(1.0, index=data.index)
    num = (data[outcome] * w).groupby([data[treated], data[post]]).sum()
    den = w.groupby([data[treated], data[post]]).sum()
    return (num / den).unstack(post).rename_axis(index=treated, columns=post)


def parallel_trends_test(
    frame: pd.DataFrame,
    outcome: str = "outcome",
    treated: str = "treated",
    post: str = "post",
    unit: str = "unit",
    period: str = "period",
    weights: str | None = None,
    confidence: float = 0.95,
) -> TrendTest:
    r"""Test for a differential linear trend of the treated units before the change.

    On the pre-period rows (``post == 0``) fit

    .. math::

        y_{it} = \lambda_t + \beta\, \mathrm{treated}_i + \gamma\, \mathrm{treated}_i \cdot \tau_t + \varepsilon_{it}

    with period fixed effects :math:`\lambda_t` and :math:`\tau_t = 0, 1, \dots` the rank of the period.
    :math:`\gamma` is the treated group's extra slope per period; its standard error is clustered by unit,
    and the p-value tests :math:`\gamma = 0` (Student t, clusters - 1 df). A small p-value is evidence
    against parallel trends; a large one is *absence* of evidence, no proof, with few pre-periods.

    Raises
    ------
    ValueError
        With fewer than 2 pre-periods (a trend needs two points).
    """
    conf = check_confidence(confidence)
    data = _panel(frame, unit, period, treated, post, outcome, weights)
    pre = data[data[post] == 0]
    n_periods = int(pre[period].nunique())
    if n_periods < 2:
        raise ValueError(f"the pre-period has {n_periods} period(s); a trend test needs at least 2")
    tau = _period_rank(pre[period])
    dummies = pd.get_dummies(pre[period], dtype=float).to_numpy()
    tr = pre[treated].to_numpy(dtype=float)
    if tr.min() == tr.max():
        raise ValueError("the pre-period has only treated or only control units")
    X = np.column_stack([dummies, tr, tr * tau])
    w = None if weights is None else pre[weights].to_numpy()
    fit = wls(X, pre[outcome].to_numpy(dtype=float), w)
    vcov, df = cluster_vcov(fit, pre[unit].to_numpy())
    row = coef_table([f"p{i}" for i in range(dummies.shape[1])] + ["treated", "trend"], fit.coef, vcov, df, conf)
    row = row.loc["trend"]
    return TrendTest(float(row.estimate), float(row.se), float(row.lower), float(row.upper), float(row.p_value),
                     n_periods, int(df), conf)


def diff_in_diff(
    frame: pd.DataFrame,
    outcome: str = "outcome",
    treated: str = "treated",
    post: str = "post",
    unit: str = "unit",
    period: str = "period",
    weights: str | None = None,
    confidence: float = 0.95,
    fixed_effects: bool = False,
) -> DidResult:
    r"""Difference-in-differences estimate with standard errors clustered by unit.

    ``fixed_effects=False`` (the 2x2 design):

    .. math::

        y_{it} = \beta_0 + \beta_1 \mathrm{treated}_i + \beta_2 \mathrm{post}_t
        + \delta\, \mathrm{treated}_i \mathrm{post}_t + \varepsilon_{it}

    ``fixed_effects=True`` (two-way fixed effects): :math:`y_{it} = \alpha_i + \lambda_t + \delta\,
    \mathrm{treated}_i \mathrm{post}_t + \varepsilon_{it}`, unit effects absorbed by (weighted) within-unit
    demeaning (Frisch–Waugh–Lovell), period effects as dummies. In a balanced panel both give the same
    :math:`\delta`; with units missing some periods, fixed effects compare each unit with itself.

    Weighted least squares with ``weights``. Covariance: cluster-robust by unit,
    :math:`c\,B (\sum_g s_g s_g^\top) B` with :math:`c = \frac{G}{G-1}\frac{N-1}{N-K}` (unit effects are nested
    in the clusters and not counted in :math:`K`); intervals and p-values from Student t with :math:`G - 1`
    degrees of freedom. With few clusters (say under 30, or few treated units) these are optimistic.

    Parameters
    ----------
    frame : DataFrame
        Long panel, one row per unit and period (repeated rows per cell are allowed).
    outcome, treated, post, unit, period, weights : str
        Column names. ``treated`` is 0/1 per unit (constant within unit), ``post`` 0/1 per period (constant
        within period: one change date).
    confidence : float
        Interval level.
    fixed_effects : bool
        Two-way fixed effects instead of the 2x2 design.

    Returns
    -------
    DidResult
    """
    conf = check_confidence(confidence)
    data = _panel(frame, unit, period, treated, post, outcome, weights)
    tr = data[treated].to_numpy(dtype=float)
    po = data[post].to_numpy(dtype=float)
    cells = data.groupby([treated, post]).size()
    if len(cells) < 4:
        have = ", ".join(f"treated={t}/post={p}" for t, p in cells.index)
        raise ValueError(f"difference-in-differences needs all four treated x post cells; the data have only {have}")
    y = data[outcome].to_numpy(dtype=float)
    w = None if weights is None else data[weights].to_numpy()
    units = data[unit].to_numpy()
    d = tr * po
    if not fixed_effects:
        X = np.column_stack([np.ones_like(y), tr, po, d])
        names = ["intercept", "treated", "post", "treated:post"]
        n_params = 4
        method = "2x2"
    else:
        periods = pd.get_dummies(data[period], dtype=float, drop_first=True)
        X_raw = np.column_stack([periods.to_numpy(), d])
        ww = np.ones_like(y) if w is None else w
        X, y = _within(X_raw, y, units, ww)
        names = [f"period[{c}]" for c in periods.columns] + ["treated:post"]
        n_params = X.shape[1] + 1
        method = "twfe"
    fit = wls(X, y, w)
    vcov, df = cluster_vcov(fit, units, n_params)
    table = coef_table(names, fit.coef, vcov, df, conf)
    est = table.loc["treated:post"]
    note, pretrend = "", None
    n_pre = int(data.loc[data[post] == 0, period].nunique())
    if n_pre >= 2:
        pretrend = parallel_trends_test(data, outcome, treated, post, unit, period, weights, conf)
    else:
        note = f"no pre-trend test: the pre-period has {n_pre} period(s), a trend needs at least 2"
    n_units = int(pd.Series(units).nunique())
    n_treated = int(data.loc[data[treated] == 1, unit].nunique())
    if n_units < 30 or min(n_treated, n_units - n_treated) < 10:
        few = f"{n_units} clusters ({n_treated} treated)"
        note = "; ".join(filter(None, [note, f"few clusters, {few}: cluster-robust intervals may be too narrow"]))
    return DidResult(
        effect=float(est.estimate), se=float(est.se), lower=float(est.lower), upper=float(est.upper),
        p_value=float(est.p_value), df=int(df), n_obs=int(len(data)), n_units=n_units, n_treated_units=n_treated,
        confidence=conf, method=method, means=_weighted_means(data, treated, post, outcome, weights), coef=table,
        pretrend=pretrend, note=note,
    )


def _within(X: np.ndarray, y: np.ndarray, groups: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Subtract each group's weighted mean from every column of X and from y."""
    codes, _ = pd.factorize(pd.Series(groups))
    n_groups = int(codes.max()) + 1
    wsum = np.bincount(codes, weights=w, minlength=n_groups)
    wsum[wsum == 0] = 1.0

    def demean(col: np.ndarray) -> np.ndarray:
        return col - (np.bincount(codes, weights=w * col, minlength=n_groups) / wsum)[codes]

    Xd = np.column_stack([demean(X[:, j]) for j in range(X.shape[1])])
    keep = np.any(np.abs(Xd) > 1e-12, axis=0)
    keep[-1] = True  # the treatment column always stays (rank checks will say if it is absorbed)
    return Xd[:, keep], demean(y)


@dataclass(frozen=True)
class ItsResult:
    """Segmented-regression result of an interrupted time series.

    Attributes
    ----------
    coef : DataFrame
        Rows ``intercept, pre_slope, level_change, slope_change``; columns ``estimate, se, t, p_value, lower,
        upper`` (HAC standard errors, Student t with n - 4 df).
    fitted, counterfactual : Series
        The fitted segmented line, and the pre-period line extended past the break (what would have happened
        without the change), on the series' index.
    maxlags : int
        Newey–West truncation lag used.
    n_pre, n_post : int
        Observations before and from the break.
    confidence : float
        Interval level.
    """

    coef: pd.DataFrame
    fitted: pd.Series = field(repr=False)
    counterfactual: pd.Series = field(repr=False)
    maxlags: int
    n_pre: int
    n_post: int
    confidence: float

    @property
    def level_change(self) -> float:
        """Immediate jump at the break."""
        return float(self.coef.loc["level_change", "estimate"])

    @property
    def slope_change(self) -> float:
        """Change of slope per period after the break."""
        return float(self.coef.loc["slope_change", "estimate"])


def interrupted_time_series(
    series: pd.Series, break_date: Any, confidence: float = 0.95, maxlags: int | None = None
) -> ItsResult:
    r"""Segmented regression of one series with a level and a slope change at ``break_date``.

    With :math:`t = 0, 1, \dots, n - 1` the position of each observation (the series is taken as equally
    spaced), :math:`D_t = 1` from the break on and :math:`t_0` the first post position,

    .. math::

        y_t = \beta_0 + \beta_1 t + \beta_2 D_t + \beta_3 (t - t_0) D_t + \varepsilon_t

    :math:`\beta_2` is the level change at the break, :math:`\beta_3` the slope change. Standard errors are
    Newey–West (HAC) with Bartlett weights and ``maxlags`` lags (default :math:`\lfloor 4 (n/100)^{2/9}
    \rfloor`), scaled by :math:`n / (n - 4)`; intervals and p-values from Student t with :math:`n - 4` df.
    Seasonality is not modelled: deseasonalise first, or compare the same months.

    Parameters
    ----------
    series : Series
        Outcome, indexed by date, period or number; sorted by the index here. Missing values are an error.
    break_date : scalar
        First index value of the post-change segment (comparable with the index).
    confidence : float
        Interval level.
    maxlags : int or None
        HAC truncation lag.

    Returns
    -------
    ItsResult
    """
    conf = check_confidence(confidence)
    if not isinstance(series, pd.Series):
        raise TypeError(f"series must be a pandas Series indexed by time, got {type(series).__name__}")
    s = series.sort_index()
    if s.index.has_duplicates:
        raise ValueError("series has duplicated index values; aggregate to one value per period first")
    y = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(y)):
        raise ValueError(f"series has {int(np.sum(~np.isfinite(y)))} missing or non-numeric value(s)")
    try:
        after = np.asarray(s.index >= break_date)
    except TypeError as exc:
        raise TypeError(f"break_date {break_date!r} cannot be compared with the series index: {exc}") from None
    n_post, n = int(after.sum()), y.size
    if n - n_post < 3 or n_post < 3:
        raise ValueError(f"need at least 3 observations on each side of the break; have {n - n_post} before, {n_post} after")
    t = np.arange(n, dtype=float)
    t0 = float(np.argmax(after))
    dummy = after.astype(float)
    X = np.column_stack([np.ones(n), t, dummy, (t - t0) * dummy])
    fit = wls(X, y)
    lags = newey_west_lags(n) if maxlags is None else int(maxlags)
    if lags < 0:
        raise ValueError(f"maxlags must be >= 0, got {maxlags!r}")
    vcov = hac_vcov(fit, lags)
    table = coef_table(["intercept", "pre_slope", "level_change", "slope_change"], fit.coef, vcov, n - 4, conf)
    fitted = pd.Series(X @ fit.coef, index=s.index, name="fitted")
    counterfactual = pd.Series(fit.coef[0] + fit.coef[1] * t, index=s.index, name="counterfactual")
    return ItsResult(table, fitted, counterfactual, lags, n - n_post, n_post, conf)
