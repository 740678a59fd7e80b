"""Input checks shared by the statistics modules: arrays out of array-likes, with errors that name the argument."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

__all__ = ["as_float_array", "check_confidence", "critical_value", "same_shape", "wrap_like"]


def as_float_array(values: Any, name: str, *, nonnegative: bool = False, finite: bool = True) -> np.ndarray:
    """``values`` as a float ndarray (at least 0-d), checked.

    Parameters
    ----------
    values : array-like
        Numbers; pandas objects lose their index here (see :func:`wrap_like` to put it back).
    name : str
        Argument name used in error messages.
    nonnegative : bool
        Reject negative values.
    finite : bool
        Reject NaN and infinities.
    """
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric, got {type(values).__name__}: {exc}") from None
    if finite and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} has {bad} missing or infinite value(s)")
    if nonnegative and np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0; smallest value is {np.nanmin(arr)!r}")
    return arr


def same_shape(**arrays: np.ndarray) -> None:
    """Raise when the named arrays cannot be broadcast together."""
    try:
        np.broadcast_shapes(*(np.shape(a) for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items())
        raise ValueError(f"arguments have incompatible shapes: {shapes}") from None


def check_confidence(confidence: float) -> float:
    """Confidence level as a float strictly between 0 and 1."""
    conf = float(confidence)
    if not 0.0 < conf < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    return conf


def critical_value(confidence: float, df: float | None = None) -> float:
    """Two-sided critical value: the ``(1 + confidence) / 2`` quantile of N(0, 1), or of Student t with ``df``."""
    q = 0.5 + check_confidence(confidence) / 2.0
    if df is None or not np.isfinite(df):
        return float(sps.norm.ppf(q))
    return float(sps.t.ppf(q, df))


def wrap_like(template: Any, values: np.ndarray, name: str | None = None) -> Any:
    """Give ``values`` the form of ``template``: a Series with its index, a float for a scalar, else an array."""
    if isinstance(template, pd.Series):
        return pd.Series(np.broadcast_to(values, template.shape), index=template.index, name=name)
    if np.ndim(values) == 0:
        return float(values)
    return values
