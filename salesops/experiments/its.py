"""Interrupted time series and difference-in-differences studies: the estimate, its interval, the placebo, or a
message saying what data are missing.

Thin wrappers over :mod:`salesops.stats.did` that add what a sales-ops reader needs around the regression:

* minimum-data rules (periods before and after, treated and control units) that turn "too little data" into a
  message instead of a number;
* a **placebo check**: the same analysis at a date where nothing happened (by default a year earlier, on data
  before the real change only); an effect found there means the design picks up noise, drift or seasonality;
* tidy tables and the pieces a figure needs (observed, fitted and counterfactual series; group means by period).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salesops.experiments.common import NotEnoughData
from salesops.experiments.result import Estimate
from salesops.stats import DidResult, ItsResult, diff_in_diff, interrupted_time_series, wilson_interval

__all__ = [
    "DidStudy",
    "ItsStudy",
    "did_study",
    "group_means",
    "its_study",
    "raise_if_unavailable",
    "study_table",
]

#: Fewest observations on each side of an interrupted-time-series break.
MIN_ITS_PRE = 6
MIN_ITS_POST = 3


@dataclass(frozen=True)
class ItsStudy:
    """An interrupted-time-series evaluation.

    Attributes
    ----------
    name : str
        What is evaluated.
    break_date : Timestamp
        First period of the post-change segment.
    effect : Estimate
        Level change at the break (outcome units), with its interval and p-value.
    slope : Estimate
        Change of slope per period after the break.
    series : DataFrame
        ``period, value, fitted, counterfactual, post`` (empty when there is no estimate).
    placebo : ItsStudy or None
        The same analysis at the placebo date, on data before ``break_date`` only.
    result : ItsResult or None
        The regression (:func:`salesops.stats.interrupted_time_series`).
    message : str
        Why there is no estimate, else empty.
    """

    name: str
    break_date: pd.Timestamp
    effect: Estimate
    slope: Estimate
    series: pd.DataFrame = field(repr=False)
    placebo: ItsStudy | None = None
    result: ItsResult | None = field(default=None, repr=False)
    message: str = ""

    @property
    def available(self) -> bool:
        """True when the level change could be estimated."""
        return self.effect.available


def _snap(index: pd.Index, when: Any) -> Any:
    """The first index value on or after ``when`` (None when there is none)."""
    after = index[index >= when]
    return after.min() if len(after) else None


def its_study(
    series: pd.Series,
    break_date: Any,
    name: str = "level change at the break",
    unit: str = "",
    placebo_offset: pd.DateOffset | None = None,
    confidence: float = 0.95,
    min_pre: int = MIN_ITS_PRE,
    min_post: int = MIN_ITS_POST,
    maxlags: int | None = None,
    counts: pd.Series | None = None,
    with_placebo: bool = True,
) -> ItsStudy:
    r"""Segmented regression of ``series`` around ``break_date``, with a placebo check.

    The model (:func:`salesops.stats.interrupted_time_series`) is

    .. math::

        y_t = \beta_0 + \beta_1 t + \beta_2 D_t + \beta_3 (t - t_0) D_t + \varepsilon_t

    with :math:`D_t = 1` from the break on; the effect reported is the level change :math:`\beta_2` with a
    Newey–West interval, the slope change :math:`\beta_3` beside it. The placebo runs the same model on the
    periods before ``break_date`` only, with the break moved back by ``placebo_offset`` (default one year);
    a significant placebo "effect" says the design mistakes noise or drift for change.

    Parameters
    ----------
    series : Series
        One value per period, indexed by period start (sorted here).
    break_date : scalar
        The change date; the break is the first period on or after it.
    name, unit : str
        Label and unit of the effect (``share`` for rates).
    placebo_offset : DateOffset or None
        How far before the break the placebo goes (default ``DateOffset(years=1)``).
    confidence : float
        Interval level.
    min_pre, min_post : int
        Fewest periods before and from the break; fewer gives a message instead of a number.
    maxlags : int or None
        Newey–West lag (default by the usual rule of thumb).
    counts : Series, optional
        Observations per period (leads, deals), summed into ``n`` of the estimates.
    with_placebo : bool
        Run the placebo check.

    Returns
    -------
    ItsStudy
    """
    s = pd.to_numeric(series, errors="coerce").dropna().sort_index()
    when = pd.Timestamp(break_date) if not isinstance(break_date, int | float) else break_date
    start = _snap(s.index, when)
    n_pre = int((s.index < when).sum())
    n_post = int((s.index >= when).sum())
    empty = pd.DataFrame(columns=["period", "value", "fitted", "counterfactual", "post"])
    slope_name = "slope change per period"
    problem = ""
    if start is None or n_post < min_post:
        problem = f"{n_post} period(s) on or after {_show(when)}; the analysis needs at least {min_post}"
    if n_pre < min_pre:
        problem = "; ".join(filter(None, [problem, f"{n_pre} period(s) before {_show(when)}; it needs at least {min_pre}"]))
    offset = placebo_offset if placebo_offset is not None else pd.DateOffset(years=1)
    placebo = None
    if with_placebo and n_pre >= 1 and isinstance(when, pd.Timestamp):
        before = s[s.index < when]
        placebo = _placebo(before, when - offset, name, unit, confidence, min_pre, min_post, maxlags, counts)
    if problem:
        msg = f"too little data: {problem}."
        return ItsStudy(name, when, Estimate.unavailable(name, msg, unit), Estimate.unavailable(slope_name, msg, unit),
                        empty, placebo, None, msg)
    res = interrupted_time_series(s, start, confidence=confidence, maxlags=maxlags)
    n = int(counts.reindex(s.index).fillna(0).sum()) if counts is not None else int(s.size)
    method = f"segmented regression, {res.n_pre} periods before and {res.n_post} after, Newey-West ({res.maxlags} lags)"

    def est(term: str, label: str) -> Estimate:
        row = res.coef.loc[term]
        return Estimate(label, float(row["estimate"]), float(row["lower"]), float(row["upper"]),
                        float(row["p_value"]), confidence, unit, n, method)

    frame = pd.DataFrame({
        "period": s.index,
        "value": s.to_numpy(),
        "fitted": res.fitted.to_numpy(),
        "counterfactual": res.counterfactual.to_numpy(),
        "post": np.asarray(s.index >= start),
    })
    return ItsStudy(name, when, est("level_change", name), est("slope_change", slope_name), frame, placebo, res)


def _placebo(before: pd.Series, when: pd.Timestamp, name: str, unit: str, confidence: float, min_pre: int,
             min_post: int, maxlags: int | None, counts: pd.Series | None) -> ItsStudy:
    return its_study(before, when, name=f"placebo: {name}", unit=unit, confidence=confidence, min_pre=min_pre,
                     min_post=min_post, maxlags=maxlags, counts=counts, with_placebo=False)


def _show(when: Any) -> str:
    return when.date().isoformat() if isinstance(when, pd.Timestamp) else str(when)


@dataclass(frozen=True)
class DidStudy:
    """A difference-in-differences evaluation.

    Attributes
    ----------
    name : str
        What is evaluated.
    effect : Estimate
        Treated x post effect with its cluster-robust interval.
    pretrend : Estimate
        Differential pre-period slope of the treated units (per period): the parallel-trends check.
    means : DataFrame
        Mean outcome per ``group`` (treated / control) and ``period`` with a 95% interval, for the figure.
    placebo : DidStudy or None
        The same design at a date where nothing happened.
    result : DidResult or None
        The regression (:func:`salesops.stats.diff_in_diff`).
    n_treated, n_control : int
        Units in each group.
    message : str
        Why there is no estimate, or a caveat.
    """

    name: str
    effect: Estimate
    pretrend: Estimate
    means: pd.DataFrame = field(repr=False)
    placebo: DidStudy | None = None
    result: DidResult | None = field(default=None, repr=False)
    n_treated: int = 0
    n_control: int = 0
    message: str = ""

    @property
    def available(self) -> bool:
        """True when the effect could be estimated."""
        return self.effect.available

    def with_placebo(self, placebo: DidStudy | None) -> DidStudy:
        """This study with ``placebo`` attached."""
        return DidStudy(self.name, self.effect, self.pretrend, self.means, placebo, self.result, self.n_treated,
                        self.n_control, self.message)


def group_means(
    panel: pd.DataFrame, outcome: str, treated: str, period: str, weights: str | None = None,
    binary: bool = False, confidence: float = 0.95,
) -> pd.DataFrame:
    r"""Mean outcome of the treated and control units per period, with an interval.

    For a 0/1 outcome (``binary``) the mean is a rate :math:`x / n` with a Wilson interval; otherwise the
    (weighted) mean :math:`\bar y = \sum w y / \sum w` with a normal interval :math:`\bar y \pm z\,s/\sqrt{n}`.

    Returns
    -------
    DataFrame
        ``period, group`` (``treated`` / ``control``), ``n, mean, lower, upper``.
    """
    from scipy import stats as sps

    df = panel[[period, treated, outcome] + ([weights] if weights else [])].copy()
    df["group"] = np.where(df[treated].astype(int) == 1, "treated", "control")
    w = df[weights] if weights else pd.Series(1.0, index=df.index)
    df["_w"] = w
    df["_wy"] = w * df[outcome]
    g = df.groupby([period, "group"], observed=True)
    out = g.agg(n=("_w", "size"), wsum=("_w", "sum"), wy=("_wy", "sum")).reset_index()
    out["mean"] = out["wy"] / out["wsum"]
    if binary:
        succ = g[outcome].sum().to_numpy()
        lo, hi = wilson_interval(succ, out["n"].to_numpy(), confidence)
        out["lower"], out["upper"] = lo, hi
    else:
        sd = g[outcome].std(ddof=1).to_numpy()
        z = sps.norm.ppf(0.5 + confidence / 2)
        half = z * np.nan_to_num(sd) / np.sqrt(out["n"].to_numpy())
        out["lower"], out["upper"] = out["mean"] - half, out["mean"] + half
    return out[[period, "group", "n", "mean", "lower", "upper"]].rename(columns={period: "period"})


def did_study(
    panel: pd.DataFrame,
    name: str,
    outcome: str = "outcome",
    treated: str = "treated",
    post: str = "post",
    unit: str = "unit",
    period: str = "period",
    weights: str | None = None,
    unit_label: str = "",
    binary: bool = False,
    fixed_effects: bool = True,
    confidence: float = 0.95,
    min_treated: int = 3,
    min_control: int = 3,
    min_pre_periods: int = 2,
    min_post_periods: int = 1,
) -> DidStudy:
    r"""Difference-in-differences on a long panel, or a message saying what is missing.

    Estimates :math:`\delta` in :math:`y_{it} = \alpha_i + \lambda_t + \delta\,\mathrm{treated}_i\,
    \mathrm{post}_t + \varepsilon_{it}` (two-way fixed effects; the 2x2 design with ``fixed_effects=False``)
    with standard errors clustered by unit (:func:`salesops.stats.diff_in_diff`), and the parallel-trends check
    :func:`salesops.stats.parallel_trends_test` (treated x period slope before the change).

    Parameters
    ----------
    panel : DataFrame
        One row per observation (a deal, a unit-week), with the columns named by the next arguments.
    name : str
        What is estimated.
    outcome, treated, post, unit, period, weights : str
        Column names (see :func:`salesops.stats.diff_in_diff`).
    unit_label : str
        Unit of the effect (``share`` for rates, ``log`` for log counts ...).
    binary : bool
        The outcome is 0/1 (group means get Wilson intervals).
    fixed_effects : bool
        Unit and period fixed effects (default) or the plain 2x2 design.
    confidence : float
        Interval level.
    min_treated, min_control : int
        Fewest treated and control units.
    min_pre_periods, min_post_periods : int
        Fewest periods before and after the change.

    Returns
    -------
    DidStudy
        With ``effect`` NaN and ``message`` saying what is missing when the panel is too small.
    """
    trend_name = "pre-period trend difference (treated - control, per period)"
    problems = []
    units = panel.groupby(treated)[unit].nunique() if len(panel) else pd.Series(dtype=int)
    n_t, n_c = int(units.get(1, 0) + units.get(True, 0)), int(units.get(0, 0) + units.get(False, 0))
    if n_t < min_treated:
        problems.append(f"{n_t} treated unit(s), at least {min_treated} needed")
    if n_c < min_control:
        problems.append(f"{n_c} control unit(s), at least {min_control} needed")
    n_pre = int(panel.loc[panel[post].astype(int) == 0, period].nunique()) if len(panel) else 0
    n_post = int(panel.loc[panel[post].astype(int) == 1, period].nunique()) if len(panel) else 0
    if n_pre < min_pre_periods:
        problems.append(f"{n_pre} period(s) before the change, at least {min_pre_periods} needed")
    if n_post < min_post_periods:
        problems.append(f"{n_post} period(s) after the change, at least {min_post_periods} needed")
    means = (group_means(panel, outcome, treated, period, weights, binary, confidence) if len(panel)
             else pd.DataFrame(columns=["period", "group", "n", "mean", "lower", "upper"]))
    if problems:
        msg = "too little data: " + "; ".join(problems) + "."
        return DidStudy(name, Estimate.unavailable(name, msg, unit_label), Estimate.unavailable(trend_name, msg),
                        means, None, None, n_t, n_c, msg)
    try:
        res = diff_in_diff(panel, outcome, treated, post, unit, period, weights, confidence, fixed_effects)
    except ValueError as exc:  # e.g. a missing treated x post cell
        msg = f"no estimate: {exc}"
        return DidStudy(name, Estimate.unavailable(name, msg, unit_label), Estimate.unavailable(trend_name, msg),
                        means, None, None, n_t, n_c, msg)
    method = (f"difference-in-differences ({'unit and period fixed effects' if fixed_effects else '2x2'}), "
              f"errors clustered by unit ({res.n_units} units, {res.n_treated_units} treated)")
    effect = Estimate(name, res.effect, res.lower, res.upper, res.p_value, confidence, unit_label, res.n_obs, method,
                      res.note)
    if res.pretrend is not None:
        pt = res.pretrend
        pretrend = Estimate(trend_name, pt.estimate, pt.lower, pt.upper, pt.p_value, confidence, unit_label, n_pre,
                            f"treated x period slope over {pt.n_periods} pre-periods")
    else:
        pretrend = Estimate.unavailable(trend_name, res.note)
    return DidStudy(name, effect, pretrend, means, None, res, n_t, n_c, res.note)


def study_table(*studies: ItsStudy | DidStudy) -> pd.DataFrame:
    """The estimates of several studies (and their placebos) as one tidy table.

    Returns
    -------
    DataFrame
        ``study, check`` (``actual`` / ``placebo`` / ``parallel trends``), ``estimate, value, lower, upper, p_value,
        unit, n, message``.
    """
    rows = []
    for st in studies:
        parts: list[tuple[str, Estimate]] = [("actual", st.effect)]
        if isinstance(st, ItsStudy):
            parts.append(("actual", st.slope))
        else:
            parts.append(("parallel trends", st.pretrend))
        if st.placebo is not None:
            parts.append(("placebo", st.placebo.effect))
        for check, e in parts:
            rows.append({"study": st.name, "check": check, "estimate": e.name, "value": e.value, "lower": e.lower,
                         "upper": e.upper, "p_value": e.p_value, "unit": e.unit, "n": e.n, "message": e.message})
    cols = ["study", "check", "estimate", "value", "lower", "upper", "p_value", "unit", "n", "message"]
    return pd.DataFrame(rows, columns=cols)


def raise_if_unavailable(study: ItsStudy | DidStudy) -> None:
    """Raise :class:`NotEnoughData` with the study's message when it has no estimate (for scripts)."""
    if not study.available:
        raise NotEnoughData(study.message or study.effect.message)
