"""One estimate with its interval, or the reason there is none.

:class:`Estimate` is what the people and experiments studies hand to a notebook: a number with a confidence
interval and a p-value, or (``available`` False) a ``message`` saying what data were missing. It renders as a
one-row tidy frame (:meth:`Estimate.to_frame`) and as one sentence (:meth:`Estimate.describe`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

__all__ = ["Estimate"]


@dataclass(frozen=True)
class Estimate:
    """A named estimate with its interval.

    Attributes
    ----------
    name : str
        What is estimated, in words ("training effect on win rate").
    value, lower, upper : float
        Point estimate and confidence interval (NaN when not available).
    p_value : float
        Two-sided p-value of "no effect" (NaN when it does not apply).
    confidence : float
        Interval level.
    unit : str
        ``share`` (0-1, shown in points), ``months``, ``days``, ``ratio`` ...
    n : int
        Observations behind it (deals, leads, months ...).
    method : str
        How it was computed, one line.
    message : str
        Why there is no number (empty when there is one), or a caveat.
    null : float
        The value of "no effect" (0 for a difference, 1 for a ratio).
    """

    name: str
    value: float = math.nan
    lower: float = math.nan
    upper: float = math.nan
    p_value: float = math.nan
    confidence: float = 0.95
    unit: str = ""
    n: int = 0
    method: str = ""
    message: str = ""
    null: float = 0.0

    @classmethod
    def unavailable(cls, name: str, message: str, unit: str = "", method: str = "") -> Estimate:
        """An estimate that could not be made, with the reason."""
        return cls(name=name, unit=unit, method=method, message=message)

    @property
    def available(self) -> bool:
        """True when there is a finite number."""
        return isinstance(self.value, int | float) and math.isfinite(self.value)

    @property
    def significant(self) -> bool:
        """The interval excludes the no-effect value ``null`` (False when not available)."""
        return self.available and (self.lower > self.null or self.upper < self.null)

    def covers(self, value: float) -> bool:
        """``lower <= value <= upper``."""
        return self.available and self.lower <= value <= self.upper

    def to_frame(self) -> pd.DataFrame:
        """One tidy row: ``name, value, lower, upper, p_value, confidence, unit, n, method, message, null``."""
        return pd.DataFrame([asdict(self)])

    def _fmt(self, v: float) -> str:
        if not math.isfinite(v):
            return "n/a"
        if self.unit == "share":
            return f"{100 * v:+.1f} pts"
        if self.unit == "ratio":
            return f"{v:.2f}x"
        if self.unit in ("months", "days"):
            return f"{v:.1f} {self.unit}"
        return f"{v:,.3g}"

    def describe(self) -> str:
        """One Markdown sentence: the estimate with its interval and p-value, or why there is none."""
        if not self.available:
            return f"**{self.name}: no estimate.** {self.message}".strip()
        pct = round(100 * self.confidence)
        text = f"**{self.name}: {self._fmt(self.value)}** ({pct}% CI {self._fmt(self.lower)} to {self._fmt(self.upper)}"
        if math.isfinite(self.p_value):
            text += f", p = {self.p_value:.3g}"
        text += f", n = {self.n:,})."
        if self.message:
            text += f" {self.message}"
        return text
