"""Cast generated frames to the canonical model of :mod:`salesops.schema.tables`: exactly the spec's columns,
in its order, with the dtypes of their kinds."""

from __future__ import annotations

import pandas as pd

from salesops.schema.tables import TABLES


def _as_object_str(s: pd.Series) -> pd.Series:
    values = s.to_numpy(dtype=object, copy=True)
    missing = pd.isna(values)
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        values[~missing] = values[~missing].astype(str)
    values[missing] = None
    return pd.Series(values, index=s.index, dtype=object)


def conform(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` as canonical table ``name``.

    Ids and text become ``object`` columns of ``str`` (``None`` when missing), dates naive
    ``datetime64[ns]`` at midnight, timestamps ``datetime64[ns, UTC]``, floats ``float64``, ints nullable
    ``Int64`` and bools ``bool``.
    """
    spec = TABLES[name]
    missing = [c for c in spec.column_names if c not in df.columns]
    if missing:
        raise KeyError(f"generated table {name!r} lacks columns {missing}")
    out = {}
    for col in spec.columns:
        s = df[col.name].reset_index(drop=True)
        if col.kind in ("id", "str"):
            s = _as_object_str(s)
        elif col.kind == "date":
            s = pd.to_datetime(s).astype("datetime64[ns]").dt.normalize()
        elif col.kind == "timestamp":
            s = pd.to_datetime(s, utc=True).astype("datetime64[ns, UTC]")
        elif col.kind == "float":
            s = s.astype("float64")
        elif col.kind == "int":
            s = s.astype("Int64")
        elif col.kind == "bool":
            s = s.astype(bool)
        out[col.name] = s
    return pd.DataFrame(out)
