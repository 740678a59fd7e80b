"""Lead scoring: a calibrated model of lead -> SQL and lead -> won, trained on a time split, with reason codes.

The model is a penalised logistic regression (scikit-learn) on what is known about a lead once it has
been touched: its source, the company's industry, size (employees) and country, the contact's persona,
and the speed to lead (hours from creation to the first touch). Categories are one-hot encoded; size and
speed enter through quadratic splines of their logarithms, so steps (a size band that converts better)
and curves are learnt without being spelled out. The probabilities are then calibrated (Platt scaling) on
the most recent labelled leads before the cut-off, so they follow the current conversion level.

Nothing evaluated on the past uses future information: a lead's outcome is "converted within
``horizon_days`` of its creation"; the model learns from leads whose horizon ended before the cut-off
(outcomes as seen at the cut-off) and is evaluated on the leads created after it whose horizon ended by the
as-of moment::

    |---- train (created < cutoff - horizon) ----|-- gap --|---- test ----|-- horizon --|
                                  calibration: last days of train   cutoff      test_end     as_of

Public face: :func:`score_leads` (fit, evaluate, explain) and :class:`LeadScoreModel` (the estimator).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, SplineTransformer
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from salesops.leads._common import MissingDataError
from salesops.leads.evaluation import auc_table, calibration_table, lift_table
from salesops.periods import Quarter

__all__ = [
    "CATEGORICAL",
    "DEFAULT_HORIZON_DAYS",
    "FEATURE_LABELS",
    "NUMERIC",
    "LeadScoreModel",
    "LeadScoring",
    "TimeSplit",
    "conversion_labels",
    "lead_features",
    "lead_outcomes",
    "reason_codes",
    "score_leads",
    "time_split",
]

from salesops.leads.lead_data import (
    CATEGORICAL,
    DEFAULT_HORIZON_DAYS,
    FEATURE_LABELS,
    NUMERIC,
    Target,
    TimeSplit,
    _require,
    _utc,
    conversion_labels,
    lead_features,
    lead_outcomes,
    time_split,
)


def _log1p10(x: np.ndarray) -> np.ndarray:
    return np.log10(1.0 + np.clip(x, 0.0, None))


class LeadScoreModel(ClassifierMixin, BaseEstimator):
    """Calibrated logistic lead-conversion model.

    ``logit P(convert) = b0 + sum_c beta_c[x_c] + sum_n s_n(log10(1 + x_n))`` with one-hot categories ``c`` and
    quadratic B-splines ``s_n`` (``n_knots`` knots at quantiles) of the numeric features, fitted by
    L2-penalised maximum likelihood (inverse strength ``C``); missing numbers are imputed by the median.
    The probability is then mapped through a calibrator fitted on separate, later leads: Platt scaling
    ``sigmoid(a * logit + b)`` (``calibration="sigmoid"``) or isotonic regression.

    Parameters
    ----------
    categorical, numeric : tuple of str, optional
        Feature columns; default: those of :data:`CATEGORICAL` and :data:`NUMERIC` present in ``X``.
    C : float
        Inverse L2 penalty of the logistic regression.
    n_knots : int
        Spline knots per numeric feature.
    calibration : {"sigmoid", "isotonic"}
        Calibrator.
    """

    def __init__(self, categorical: tuple[str, ...] | None = None, numeric: tuple[str, ...] | None = None,
                 C: float = 1.0, n_knots: int = 5, calibration: str = "sigmoid"):
        self.categorical = categorical
        self.numeric = numeric
        self.C = C
        self.n_knots = n_knots
        self.calibration = calibration

    def _columns(self, X: pd.DataFrame) -> tuple[list[str], list[str]]:
        cat = list(self.categorical) if self.categorical is not None else [c for c in CATEGORICAL if c in X.columns]
        num = list(self.numeric) if self.numeric is not None else [c for c in NUMERIC if c in X.columns]
        missing = [c for c in cat + num if c not in X.columns]
        if missing:
            raise ValueError(f"feature column(s) {', '.join(missing)} missing from X")
        if not cat + num:
            raise ValueError("no feature column found in X")
        return cat, num

    def _pipeline(self, cat: list[str], num: list[str]) -> Pipeline:
        parts = []
        if cat:
            parts.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cat))
        for col in num:
            parts.append((f"num_{col}", make_pipeline(
                FunctionTransformer(_log1p10, feature_names_out="one-to-one"),
                SimpleImputer(strategy="median"),
                SplineTransformer(n_knots=self.n_knots, degree=2, extrapolation="constant"),
            ), [col]))
        return Pipeline([
            ("features", ColumnTransformer(parts, verbose_feature_names_out=True)),
            ("logit", LogisticRegression(C=self.C, max_iter=5000)),
        ])

    def fit(self, X: pd.DataFrame, y: Any, X_cal: pd.DataFrame | None = None, y_cal: Any = None) -> LeadScoreModel:
        """Fit the regression on ``(X, y)`` and the calibrator on ``(X_cal, y_cal)``.

        Without a calibration set, the calibrator is fitted by 5-fold cross-validation on ``(X, y)``.
        """
        if self.calibration not in ("sigmoid", "isotonic"):
            raise ValueError(f"calibration must be 'sigmoid' or 'isotonic', got {self.calibration!r}")
        X = pd.DataFrame(X)
        y = np.asarray(y).astype(int)
        cat, num = self._columns(X)
        if len(np.unique(y)) < 2:
            raise ValueError("the training leads hold a single outcome class; widen the training window")
        self.categorical_, self.numeric_ = cat, num
        self.feature_names_in_ = np.array(cat + num, dtype=object)
        self.classes_ = np.array([0, 1])
        if X_cal is not None and len(X_cal):
            y_cal = np.asarray(y_cal).astype(int)
            if len(np.unique(y_cal)) < 2:
                raise ValueError("the calibration leads hold a single outcome class; widen calibration_days")
            self.pipeline_ = self._pipeline(cat, num).fit(X[cat + num], y)
            self.calibrated_ = CalibratedClassifierCV(FrozenEstimator(self.pipeline_), method=self.calibration)
            self.calibrated_.fit(pd.DataFrame(X_cal)[cat + num], y_cal)
        else:
            self.calibrated_ = CalibratedClassifierCV(self._pipeline(cat, num), method=self.calibration, cv=5,
                                                      ensemble=False)
            self.calibrated_.fit(X[cat + num], y)
            self.pipeline_ = self.calibrated_.calibrated_classifiers_[0].estimator
        pre = self.pipeline_.named_steps["features"]
        z = pre.transform(X[cat + num])
        self.feature_means_ = np.asarray(z).mean(axis=0)
        names = pre.get_feature_names_out()
        self.column_feature_ = np.array([self._feature_of(n, cat, num) for n in names], dtype=object)
        return self

    @staticmethod
    def _feature_of(name: str, cat: list[str], num: list[str]) -> str:
        block, _, rest = name.partition("__")
        if block.startswith("num_"):
            return block[4:]
        for c in sorted(cat, key=len, reverse=True):
            if rest.startswith(c + "_"):
                return c
        raise ValueError(f"cannot map encoded column {name!r} to a feature")

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities, shape (n, 2)."""
        check_is_fitted(self, "calibrated_")
        return self.calibrated_.predict_proba(pd.DataFrame(X)[list(self.feature_names_in_)])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """1 where the calibrated probability is at least one half."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """The regression's logit before calibration (ranks leads exactly as the probability does)."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.decision_function(pd.DataFrame(X)[list(self.feature_names_in_)])

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        r"""Each feature's push on a lead's logit, relative to the average training lead.

        For feature :math:`f` with encoded columns :math:`j \in f`:
        :math:`c_f(x) = \sum_{j \in f} \beta_j (z_j(x) - \bar z_j)`, so that
        ``logit(x) = baseline + sum_f c_f(x)`` with ``baseline`` the logit of the average encoded lead.

        Returns
        -------
        DataFrame
            Indexed like ``X``, one column per feature plus ``baseline``.
        """
        check_is_fitted(self, "pipeline_")
        X = pd.DataFrame(X)
        pre = self.pipeline_.named_steps["features"]
        lr = self.pipeline_.named_steps["logit"]
        z = np.asarray(pre.transform(X[list(self.feature_names_in_)]))
        part = (z - self.feature_means_) * lr.coef_[0]
        out = pd.DataFrame(index=X.index)
        for f in self.feature_names_in_:
            out[f] = part[:, self.column_feature_ == f].sum(axis=1)
        out["baseline"] = float(lr.intercept_[0] + lr.coef_[0] @ self.feature_means_)
        return out


def reason_codes(model: LeadScoreModel, X: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """The features that push each lead's score most, up or down.

    Ranked by :math:`|c_f(x)|` (see :meth:`LeadScoreModel.contributions`); a positive contribution raises the
    score above that of the average lead.

    Parameters
    ----------
    model : LeadScoreModel
        Fitted model.
    X : DataFrame
        Features (:func:`lead_features`), indexed by lead.
    top : int
        Reasons per lead.

    Returns
    -------
    DataFrame
        One row per lead and reason: ``lead_id, rank, feature, label, value, contribution, direction, reason``
        (``reason`` reads like "source = Referral raises the score (+1.05 logit)").
    """
    contrib = model.contributions(X).drop(columns="baseline")
    feats = np.array(contrib.columns, dtype=object)
    values = contrib.to_numpy()
    k = min(top, values.shape[1])
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :k]
    rows = np.repeat(np.arange(len(contrib)), k)
    cols = order.ravel()
    feature = feats[cols]
    c = values[rows, cols]
    raw = X.reindex(columns=list(feats))
    val = raw.to_numpy(dtype=object)[rows, cols]
    shown = [f"{v:,.0f}" if isinstance(v, float) and f == "employees" else
             (f"{v:.1f} h" if isinstance(v, float) and np.isfinite(v) else str(v)) for f, v in zip(feature, val)]
    label = np.array([FEATURE_LABELS.get(f, f) for f in feature], dtype=object)
    direction = np.where(c >= 0, "raises", "lowers")
    return pd.DataFrame({
        "lead_id": np.asarray(contrib.index)[rows],
        "rank": np.tile(np.arange(1, k + 1), len(contrib)),
        "feature": feature,
        "label": label,
        "value": shown,
        "contribution": c,
        "direction": direction,
        "reason": [f"{lab} = {s} {d} the score ({v:+.2f} logit)" for lab, s, d, v in zip(label, shown, direction, c)],
    })


@dataclass
class LeadScoring:
    """A fitted lead score with its evaluation on the held-out period.

    Attributes
    ----------
    target : str
        ``"sql"`` or ``"won"``.
    model : LeadScoreModel
        The calibrated model.
    split : TimeSplit
        Dates of training, calibration and test.
    counts : DataFrame
        Leads and conversions per part (train, calibration, test).
    test : DataFrame
        Test leads: ``created_at, y, probability, score_logit`` plus the features, indexed by ``lead_id``.
    auc : DataFrame
        :func:`~salesops.leads.evaluation.auc_table` of the test leads.
    lift : DataFrame
        :func:`~salesops.leads.evaluation.lift_table` of the test leads (deciles).
    calibration : DataFrame
        :func:`~salesops.leads.evaluation.calibration_table` of the test leads.
    drivers : DataFrame
        Permutation importance of each feature on the test leads (drop in AUC), ranked.
    """

    target: str
    model: LeadScoreModel
    split: TimeSplit
    counts: pd.DataFrame
    test: pd.DataFrame
    auc: pd.DataFrame
    lift: pd.DataFrame
    calibration: pd.DataFrame
    drivers: pd.DataFrame
    features: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    @property
    def test_auc(self) -> float:
        """AUC on the test leads."""
        return float(self.auc["auc"].iloc[0])

    def score(self, leads: pd.DataFrame | None = None, accounts: pd.DataFrame | None = None) -> pd.DataFrame:
        """Calibrated probability and decile (1 best, cut on the test leads' scores) of each lead.

        ``leads`` None scores every lead the model was built from.
        """
        X = self.features if leads is None else lead_features(leads, accounts)
        p = self.model.predict_proba(X)[:, 1]
        cuts = np.asarray(self.lift["min_score"])[:-1]
        decile = 1 + np.searchsorted(-cuts, -p, side="left")
        return pd.DataFrame({"created_at": X["created_at"], "probability": p, "decile": decile}, index=X.index)

    def reasons(self, lead_ids: Any = None, top: int = 3) -> pd.DataFrame:
        """:func:`reason_codes` for the given leads (default: all)."""
        X = self.features if lead_ids is None else self.features.loc[list(lead_ids)]
        return reason_codes(self.model, X, top=top)


def _drivers(model: LeadScoreModel, X: pd.DataFrame, y: np.ndarray, repeats: int, seed: int) -> pd.DataFrame:
    feats = list(model.feature_names_in_)
    imp = permutation_importance(model.pipeline_, X[feats], y, scoring="roc_auc", n_repeats=repeats,
                                 random_state=seed)
    mean, sd = imp.importances_mean, imp.importances_std
    half = 1.96 * sd / np.sqrt(repeats)
    out = pd.DataFrame({"feature": feats, "label": [FEATURE_LABELS.get(f, f) for f in feats],
                        "auc_drop": mean, "sd": sd, "lower": mean - half, "upper": mean + half})
    out = out.sort_values("auc_drop", ascending=False, kind="stable").reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def score_leads(
    leads: pd.DataFrame,
    opportunities: pd.DataFrame | None = None,
    accounts: pd.DataFrame | None = None,
    *,
    target: Target = "sql",
    as_of: Any = None,
    period: Quarter | tuple[Any, Any] | None = None,
    horizon_days: float | None = None,
    test_days: float = 182.0,
    calibration_days: float = 90.0,
    C: float = 1.0,
    by: str | None = None,
    importance_repeats: int = 8,
    seed: int = 0,
) -> LeadScoring:
    """Fit, calibrate and evaluate the lead -> SQL or lead -> won model on a time split.

    Outcome: conversion within ``horizon_days`` of creation (:func:`conversion_labels`). Dates: :func:`time_split`
    ending at ``as_of`` (capped at the end of ``period``, so a past quarter is judged with what was known then).
    The model (:class:`LeadScoreModel`) learns from the training leads, is Platt-calibrated on the last
    ``calibration_days`` of them, and is evaluated on the test leads: AUC with a DeLong interval, lift by
    decile and calibration by bin with Wilson intervals, and each feature's permutation importance (mean drop in
    test AUC when the feature is shuffled, over ``importance_repeats`` shuffles, with a normal interval).

    Parameters
    ----------
    leads : DataFrame
        Canonical ``leads`` (``sql_at`` for the SQL target).
    opportunities : DataFrame, optional
        Canonical ``opportunities``; needed for the won target.
    accounts : DataFrame, optional
        Fills missing firmographics of leads from their account.
    target : {"sql", "won"}
        Outcome.
    as_of : timestamp, optional
        When outcomes are read; default the latest timestamp among the leads' dates.
    period : Quarter or (start, end), optional
        The period under review: ``as_of`` is capped at its end.
    horizon_days : float, optional
        Default :data:`DEFAULT_HORIZON_DAYS` (45 for SQL, 180 for won).
    test_days, calibration_days : float
        Lengths of the test and calibration windows.
    C : float
        Inverse L2 penalty.
    by : str, optional
        Also report the test AUC per value of this feature column (e.g. ``"source"``).
    importance_repeats : int
        Shuffles per feature for the driver ranking.
    seed : int
        Seed of the shuffles.

    Returns
    -------
    LeadScoring
    """
    with threadpool_limits(1):  # a few thousand rows: BLAS threads only add overhead on a shared machine
        return _score_leads(leads, opportunities, accounts, target, as_of, period, horizon_days, test_days,
                            calibration_days, C, by, importance_repeats, seed)


def _score_leads(leads, opportunities, accounts, target, as_of, period, horizon_days, test_days, calibration_days,
                 C, by, importance_repeats, seed) -> LeadScoring:
    _require(leads, "leads", ["lead_id", "created_at", "source"], "lead scoring")
    if target == "sql":
        _require(leads, "leads", ["sql_at"], "the lead -> SQL model")
    elif target == "won":
        _require(opportunities, "opportunities", ["opportunity_id", "is_won", "close_date"], "the lead -> won model")
        if "opportunity_id" not in leads.columns and "lead_id" not in opportunities.columns:
            raise MissingDataError("leads.opportunity_id (or opportunities.lead_id) is missing; the lead -> won model needs "
                             "it to link leads to deals")
    else:
        raise ValueError(f"target must be 'sql' or 'won', got {target!r}")
    horizon = float(horizon_days if horizon_days is not None else DEFAULT_HORIZON_DAYS[target])
    end = _latest(leads) if as_of is None else _utc(as_of)
    if period is not None:
        period_end = _utc(pd.Timestamp(period.end if isinstance(period, Quarter) else period[1])) + pd.Timedelta(days=1)
        end = min(end, period_end)
    split = time_split(end, horizon, test_days, calibration_days)

    X = lead_features(leads, accounts)
    outcomes = lead_outcomes(leads, opportunities if target == "won" else None)
    y_train, mat_train = conversion_labels(outcomes, target, horizon, split.cutoff)
    y_test, mat_test = conversion_labels(outcomes, target, horizon, split.as_of)
    created = X["created_at"]
    fit_mask = (created < split.calibration_start) & mat_train
    cal_mask = (created >= split.calibration_start) & (created < split.train_end) & mat_train
    test_mask = (created >= split.cutoff) & (created < split.test_end) & mat_test
    for name, mask in (("training", fit_mask), ("test", test_mask)):
        if mask.sum() < 50:
            raise ValueError(
                f"only {int(mask.sum())} {name} leads between the split dates ({split.as_frame().to_string(index=False)}); "
                "the leads table does not reach far enough back for this horizon; shorten horizon_days or test_days"
            )
    model = LeadScoreModel(C=C).fit(X[fit_mask], y_train[fit_mask], X[cal_mask], y_train[cal_mask])
    Xt = X[test_mask]
    yt = y_test[test_mask].to_numpy().astype(int)
    if len(np.unique(yt)) < 2:
        raise ValueError("the test leads hold a single outcome class; the AUC is undefined (lengthen test_days)")
    p = model.predict_proba(Xt)[:, 1]
    test = Xt.copy()
    test.insert(1, "y", yt)
    test.insert(2, "probability", p)
    test.insert(3, "score_logit", model.decision_function(Xt))
    counts = pd.DataFrame({
        "part": ["train", "calibration", "test"],
        "from": [created[fit_mask].min(), split.calibration_start, split.cutoff],
        "before": [split.calibration_start, split.train_end, split.test_end],
        "leads": [int(fit_mask.sum()), int(cal_mask.sum()), int(test_mask.sum())],
        "conversions": [int(y_train[fit_mask].sum()), int(y_train[cal_mask].sum()), int(yt.sum())],
    })
    counts["rate"] = counts["conversions"] / counts["leads"].where(counts["leads"] > 0)
    auc = auc_table(test, "y", "probability")
    if by is not None:
        if by not in test.columns:
            raise ValueError(f"by={by!r} is not a feature column; choose one of {', '.join(model.feature_names_in_)}")
        auc = pd.concat([auc.assign(**{by: "all"}), auc_table(test, "y", "probability", by=by)], ignore_index=True)
        auc = auc[[by] + [c for c in auc.columns if c != by]]
    return LeadScoring(
        target=target,
        model=model,
        split=split,
        counts=counts,
        test=test,
        auc=auc,
        lift=lift_table(yt, p),
        calibration=calibration_table(yt, p),
        drivers=_drivers(model, Xt, yt, importance_repeats, seed),
        features=X,
    )


def _latest(leads: pd.DataFrame) -> pd.Timestamp:
    cols = [c for c in ("created_at", "first_touch_at", "mql_at", "sql_at", "disqualified_at") if c in leads.columns]
    return _utc(max(leads[c].max() for c in cols if leads[c].notna().any()))
