"""A shared, verified load result for processes that would otherwise load the same export again.

The quarterly review loads the data once, pickles the :class:`SalesData` into its private temporary
folder and points ``SALESOPS_LOAD_CACHE`` at it; each notebook kernel's ``salesops.load`` call with the
same source, mapping and as-of then reads it back (0.3 s instead of 4 s on the sample). The key is
compared before anything is used, so a call with other arguments loads as usual.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

CACHE_ENV = "SALESOPS_LOAD_CACHE"


def cache_key(source: Any, mapping: Any, as_of: Any) -> tuple[str, str, str] | None:
    """The identity of a load; ``None`` for sources that cannot be keyed (connections, parsed mappings)."""
    from salesops.io.readers import is_database_url

    if not isinstance(source, str | os.PathLike) or not (mapping is None or isinstance(mapping, str | os.PathLike)):
        return None
    where = str(source) if is_database_url(str(source)) else str(Path(source).resolve())
    return where, str(mapping or ""), str(as_of or "")


def write_cache(data: Any, key: tuple[str, str, str], path: str | os.PathLike[str]) -> Path:
    """Pickle ``data`` with its key to ``path`` (a file in a private temporary folder)."""
    path = Path(path)
    with path.open("wb") as handle:
        pickle.dump({"key": key, "data": data}, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def read_cache(key: tuple[str, str, str] | None) -> Any | None:
    """The cached result for ``key`` when ``SALESOPS_LOAD_CACHE`` names one written for the same key."""
    path = os.environ.get(CACHE_ENV)
    if key is None or not path or not Path(path).is_file():
        return None
    with Path(path).open("rb") as handle:
        stored = pickle.load(handle)  # noqa: S301 - our own file, written by this process tree
    return stored["data"] if stored.get("key") == key else None
