"""Loaders: read a CRM export, map it onto the canonical model, coerce, validate.

The public face is :func:`load`; :class:`SalesData` and :class:`DataQualityReport` are what it returns.
"""

from salesops.io.data import SalesData
from salesops.io.errors import LoadError, ValidationError
from salesops.io.load import load
from salesops.io.mapping import Mapping, resolve_mapping
from salesops.io.quality import DataQualityReport, safe_for_spreadsheet

__all__ = [
    "DataQualityReport",
    "LoadError",
    "Mapping",
    "SalesData",
    "ValidationError",
    "load",
    "resolve_mapping",
    "safe_for_spreadsheet",
]
