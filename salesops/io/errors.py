"""Errors raised by the loaders. Every message names the file, the column and what was expected."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from salesops.io.quality import DataQualityReport


class LoadError(ValueError):
    """The source cannot be loaded as it is: a missing required column, an unreadable or non-tabular
    file, an unknown table, or a malformed mapping file."""


class ValidationError(LoadError):
    """Raised by ``load(..., strict=True)`` when any row was rejected; lists every problem.

    Attributes
    ----------
    report : DataQualityReport
        The full report, as ``SalesData.quality`` would have held it.
    """

    def __init__(self, message: str, report: DataQualityReport) -> None:
        super().__init__(message)
        self.report = report
