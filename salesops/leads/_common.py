"""What the lead and territory analyses share: the error raised when the data lack a table or column."""

from __future__ import annotations

__all__ = ["MissingDataError"]


class MissingDataError(ValueError):
    """The data lack a table or column an analysis needs; the message names it and the analysis."""
