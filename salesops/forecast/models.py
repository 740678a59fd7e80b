"""Forecast models, in scikit-learn's conventions (parameters in ``__init__``, learning in ``fit``, which returns
``self``, fitted state in attributes ending in ``_``).

- :class:`StageAgeConversion`: historical conversion by stage and age, an empirical table of
  P(won within the quarter | stage, age, close-date position, time left), shrunk toward the stage's rate.
- :class:`WinTimingModel`: a calibrated gradient-boosting classifier of the same event on snapshot features.
- :class:`SeasonalQuarterly`: a log-linear trend with ridge-shrunk quarter-of-year effects for quarterly series
  (bookings from pipeline not yet created, activities, pipeline generation).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from salesops.periods import parse_quarter
from salesops.stats.shrinkage import fit_beta_prior

__all__ = ["StageAgeConversion", "WinTimingModel", "SeasonalQuarterly", "FEATURES", "CELL_COLUMNS"]

#: Snapshot features of :class:`WinTimingModel` (built by :func:`salesops.forecast.quarter.deal_features`).
FEATURES = (
    "stage_order", "age_days", "days_in_stage", "days_since_change", "days_to_close", "days_left",
    "close_by_quarter_end", "pushes", "log_amount", "amount_change", "recent_activities", "rep_win_rate",
    "forecast_code", "segment_code", "source_code", "type_code", "quarter_of_year",
)
#: Columns :class:`StageAgeConversion` reads.
CELL_COLUMNS = ("stage_order", "age_days", "days_to_close", "days_left")

_AGE_BINS = (-np.inf, 30, 90, 180, np.inf)
_LEFT_BINS = (-np.inf, 30, 60, np.inf)


class StageAgeConversion(BaseEstimator, ClassifierMixin):
    r"""Empirical probability that an open deal is won within the quarter, by stage and age.

    Cells are stage x age band (<30, 30-90, 90-180, >=180 days) x close-date position (overdue, by the quarter's
    end, after it) x time left in the quarter (<30, 30-60, >=60 days). A cell's rate is shrunk toward its stage's
    rate with an empirical-Bayes beta prior fitted over the stage's cells
    (:func:`salesops.stats.shrinkage.fit_beta_prior`):

    .. math:: \hat p_c = \frac{\alpha_s + x_c}{\alpha_s + \beta_s + n_c},

    falling back to a prior of strength ``prior_strength`` at the stage rate when the fit is impossible; a cell
    never seen gets its stage's rate, a stage never seen the overall rate.

    Parameters
    ----------
    prior_strength : float
        Pseudo-deals of the fallback prior.
    """

    def __init__(self, prior_strength: float = 20.0) -> None:
        self.prior_strength = prior_strength

    @staticmethod
    def _cells(X: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in CELL_COLUMNS if c not in X.columns]
        if missing:
            raise ValueError(f"StageAgeConversion needs the columns {missing}")
        age = np.digitize(X["age_days"].to_numpy(float), _AGE_BINS[1:-1])
        left = X["days_left"].to_numpy(float)
        to_close = X["days_to_close"].to_numpy(float)
        position = np.where(to_close < 0, 0, np.where(to_close <= left, 1, 2))
        return pd.DataFrame({
            "stage": X["stage_order"].to_numpy(float),
            "cell": (age * 100 + position * 10 + np.digitize(left, _LEFT_BINS[1:-1])).astype(int),
        }, index=X.index)

    def fit(self, X: pd.DataFrame, y: Sequence[int]) -> StageAgeConversion:
        """Count wins per cell and shrink; returns self."""
        y = np.asarray(y, dtype=float)
        cells = self._cells(X).assign(y=y)
        self.overall_rate_ = float(y.mean()) if y.size else 0.0
        stage_rates = cells.groupby("stage")["y"].mean()
        counts = cells.groupby(["stage", "cell"])["y"].agg(["sum", "count"]).reset_index()
        rates = []
        for stage, part in counts.groupby("stage"):
            mu = float(stage_rates[stage])
            try:
                prior = fit_beta_prior(part["sum"], part["count"])
                a, b = prior.alpha, prior.beta
            except ValueError:
                k = float(self.prior_strength)
                a, b = max(mu, 1e-3) * k, max(1 - mu, 1e-3) * k
            rates.append(part.assign(rate=(a + part["sum"]) / (a + b + part["count"])))
        table = pd.concat(rates) if rates else counts.assign(rate=[])
        self.table_ = table.set_index(["stage", "cell"])["rate"]
        self.stage_rates_ = stage_rates
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """``[[1 - p, p], ...]`` with ``p`` the cell's shrunk rate."""
        check_is_fitted(self, "table_")
        cells = self._cells(X)
        idx = pd.MultiIndex.from_arrays([cells["stage"], cells["cell"]])
        p = self.table_.reindex(idx).to_numpy()
        fallback = cells["stage"].map(self.stage_rates_).fillna(self.overall_rate_).to_numpy()
        p = np.where(np.isnan(p), fallback, p)
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """1 where the shrunk rate is at least 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


class WinTimingModel(ClassifierMixin, BaseEstimator):
    """Calibrated gradient boosting of "won within the quarter" on snapshot features.

    A :class:`~sklearn.ensemble.HistGradientBoostingClassifier` wrapped in
    :class:`~sklearn.calibration.CalibratedClassifierCV` (``cv`` folds, ``calibration`` method), so that the
    probabilities can be summed and simulated: among deals scored ``p``, a share ``p`` is won.

    Parameters
    ----------
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf : gradient-boosting settings.
    calibration : {"isotonic", "sigmoid"}
        Calibration method.
    cv : int
        Calibration folds.
    random_state : int
        Seed of the boosting (results are reproducible).
    n_threads : int
        OpenMP threads of the boosting (1 keeps a shared machine responsive and is usually fastest).
    """

    def __init__(self, max_iter: int = 80, learning_rate: float = 0.1, max_leaf_nodes: int = 15,
                 min_samples_leaf: int = 40, calibration: str = "isotonic", cv: int = 3,
                 random_state: int = 0, n_threads: int = 1) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.calibration = calibration
        self.cv = cv
        self.random_state = random_state
        self.n_threads = n_threads

    def fit(self, X, y) -> WinTimingModel:
        """Fit the boosted trees and their calibration; returns self."""
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        self.classes_ = np.unique(y)
        if self.classes_.size < 2:
            raise ValueError("WinTimingModel needs both won and not-won deals to learn from; got one class only")
        base = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf, random_state=self.random_state,
        )
        folds = int(min(self.cv, np.bincount(np.searchsorted(self.classes_, y)).min()))
        # one OpenMP thread: on a shared machine the boosting's thread pool oversubscribes the cores and a
        # 1-second fit takes 10 or more
        with threadpool_limits(self.n_threads):
            if folds < 2:
                self.model_ = base.fit(X, y)
            else:
                self.model_ = CalibratedClassifierCV(base, method=self.calibration, cv=folds).fit(X, y)
        if hasattr(self.model_, "calibrated_classifiers_"):
            self.n_iter_ = int(max(c.estimator.n_iter_ for c in self.model_.calibrated_classifiers_))
        else:
            self.n_iter_ = int(self.model_.n_iter_)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated class probabilities."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        with threadpool_limits(self.n_threads):
            return self.model_.predict_proba(X)

    def predict(self, X) -> np.ndarray:
        """The more probable class."""
        check_is_fitted(self, "model_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # the boosting handles missing features (no activities, say)
        return tags


class SeasonalQuarterly(RegressorMixin, BaseEstimator):
    r"""Quarterly series model: log-linear trend plus ridge-shrunk quarter-of-year effects.

    .. math:: \log(y_t + c) = a + b\,t + \gamma_{q(t)} + \varepsilon_t,\quad
              \hat\theta = \arg\min \lVert r \rVert^2 + \lambda \lVert \gamma \rVert^2

    with :math:`c` = 1 % of the mean (so zero quarters stay finite). The forecast is
    :math:`\exp(\hat a + \hat b t + \hat\gamma_q + \hat\sigma^2 / 2) - c` (the lognormal mean), and
    :math:`\hat\sigma` is the residual standard deviation with ``n - 2`` degrees of freedom, floored at
    ``min_sigma``. With fewer than ``min_quarters`` points, :meth:`fit` raises. With fewer than 6 points the trend
    is dropped (the level is the mean).

    Parameters
    ----------
    ridge : float
        :math:`\lambda`, shrinking the seasonal effects toward zero.
    min_quarters : int
        Quarters needed to fit.
    min_sigma : float
        Floor of the log-scale residual spread.
    """

    def __init__(self, ridge: float = 1.0, min_quarters: int = 4, min_sigma: float = 0.1) -> None:
        self.ridge = ridge
        self.min_quarters = min_quarters
        self.min_sigma = min_sigma

    @staticmethod
    def _index(quarters: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        qs = [parse_quarter(str(q)) for q in quarters]
        return np.array([4 * q.year + q.q - 1 for q in qs], dtype=float), np.array([q.q for q in qs])

    def _design(self, t: np.ndarray, qn: np.ndarray) -> np.ndarray:
        cols = [np.ones_like(t)]
        if self.trend_:
            cols.append(t - self.t0_)
        cols += [(qn == k).astype(float) for k in (1, 2, 3, 4)]
        return np.column_stack(cols)

    def fit(self, quarters: Sequence[str], y: Sequence[float]) -> SeasonalQuarterly:
        """Fit on one value per quarter (``YYYYQn`` labels); returns self."""
        y = np.asarray(y, dtype=float)
        if len(quarters) != y.size:
            raise ValueError("quarters and y differ in length")
        if y.size < self.min_quarters:
            raise ValueError(f"a seasonal quarterly model needs at least {self.min_quarters} quarters, got {y.size}")
        if np.any(y < 0) or not np.all(np.isfinite(y)):
            raise ValueError("the series must be finite and non-negative")
        t, qn = self._index(quarters)
        self.t0_ = float(t.mean())
        self.trend_ = y.size >= 6
        self.offset_ = max(0.01 * float(y.mean()), 1e-9)
        z = np.log(y + self.offset_)
        X = self._design(t, qn)
        pen = np.zeros(X.shape[1])
        pen[-4:] = self.ridge
        self.coef_ = np.linalg.solve(X.T @ X + np.diag(pen), X.T @ z)
        resid = z - X @ self.coef_
        dof = max(y.size - (2 if self.trend_ else 1), 1)
        self.sigma_ = max(float(np.sqrt(resid @ resid / dof)), self.min_sigma)
        self.n_quarters_ = int(y.size)
        return self

    def predict_log(self, quarters: Sequence[str]) -> np.ndarray:
        """Mean of :math:`\\log(y + c)` for each quarter."""
        check_is_fitted(self, "coef_")
        t, qn = self._index(quarters)
        return self._design(t, qn) @ self.coef_

    def predict(self, quarters: Sequence[str]) -> np.ndarray:
        """Expected value of each quarter (lognormal mean minus the offset, floored at 0)."""
        return np.maximum(np.exp(self.predict_log(quarters) + self.sigma_ ** 2 / 2) - self.offset_, 0.0)

    def sample(self, quarter: str, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws of one quarter's value from the fitted lognormal."""
        mu = float(self.predict_log([quarter])[0])
        return np.maximum(np.exp(mu + self.sigma_ * rng.standard_normal(n)) - self.offset_, 0.0)

