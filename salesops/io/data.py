"""``SalesData``: the validated tables of one load, and its quality report."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from salesops.io.quality import DataQualityReport
from salesops.schema.tables import TABLES


@dataclass
class SalesData:
    """Validated canonical tables (absent tables are ``None``) and the load's :class:`DataQualityReport`.

    Attributes
    ----------
    as_of : pandas.Timestamp
        The moment the data describes (tz-aware UTC): the ``as_of`` given to :func:`salesops.load`, else
        the latest recorded event in the data.
    source : str
        The folder, file or (password-redacted) URL it came from.
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    quality: DataQualityReport = field(default_factory=DataQualityReport)
    as_of: pd.Timestamp | None = None
    source: str = ""

    def __getattr__(self, name: str) -> pd.DataFrame | None:
        if name in TABLES:
            return self.__dict__.get("tables", {}).get(name)
        raise AttributeError(f"SalesData has no attribute {name!r}; tables: {', '.join(TABLES)}")

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={len(v):,}" for k, v in self.tables.items())
        return f"SalesData(source={self.source!r}, as_of={self.as_of}, {parts})"
