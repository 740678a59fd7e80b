"""salesops: a notebook-driven analysis kit for sales operations.

>>> import salesops as so
>>> data = so.load("data/sample")          # doctest: +SKIP
>>> data.quality.summary()                 # doctest: +SKIP
"""

from salesops.io import DataQualityReport, LoadError, SalesData, ValidationError, load

__version__ = "0.1.0"

__all__ = ["DataQualityReport", "LoadError", "SalesData", "ValidationError", "__version__", "load"]
