"""Metrics a notebook records for the quarterly review, and the ``metrics.json`` file they end up in.

A notebook calls :func:`record` for each number worth tracking from quarter to quarter. When the review
runs the notebook, the environment variable ``SALESOPS_METRICS_FILE`` names a per-run file; every call
appends one JSON line to it. The review then merges the files of all notebooks into ``metrics.json``::

    {
      "metrics": {
        "data_quality.rows_accepted": {
          "description": "rows that passed every check", "notebook": "01_data_quality",
          "unit": "rows", "value": 1234
        }
      },
      "notebooks": {"01_data_quality": "ok"},
      "quarter": "2025Q4",
      "schema_version": 1
    }

Keys are sorted and values hold no clock time, so the same data and quarter give a byte-identical file and
two quarters' files can be diffed. Outside a review (in JupyterLab) :func:`record` only returns the metric.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "METRICS_ENV",
    "SCHEMA_VERSION",
    "Metric",
    "record",
    "read_records",
    "merge_records",
    "metrics_document",
    "write_metrics",
    "metrics_table",
    "markdown_rows",
]

#: Environment variable naming the file :func:`record` appends to.
METRICS_ENV = "SALESOPS_METRICS_FILE"
#: Version of the ``metrics.json`` layout.
SCHEMA_VERSION = 1

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
Value = int | float | bool | str | None


@dataclass(frozen=True)
class Metric:
    """One recorded value.

    Attributes
    ----------
    key : str
        Dotted snake-case name, area first: ``data_quality.rows_rejected``.
    value : int, float, bool, str or None
        A finite number, a flag, a short label, or None for "not available".
    unit : str or None
        ``rows``, ``EUR``, ``days``, ``share`` ...
    description : str or None
        One line saying what the value measures.
    """

    key: str
    value: Value
    unit: str | None = None
    description: str | None = None


def _clean_value(key: str, value: Any) -> Value:
    if value is None or isinstance(value, bool | str):
        return value
    if type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing values
        return None
    if hasattr(value, "item") and callable(value.item):  # numpy / pandas scalars
        value = value.item()
        if isinstance(value, bool):
            return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"metric {key!r}: value {value!r} is not a finite number; record None instead")
        return value
    raise TypeError(f"metric {key!r}: value of type {type(value).__name__} is not a number, flag, string or None")


def record(key: str, value: Any, *, unit: str | None = None, description: str | None = None) -> Metric:
    """Record a metric of the notebook being run.

    Parameters
    ----------
    key : str
        Dotted snake-case name, area first (``data_quality.rows_rejected``); stable across quarters.
    value : number, bool, str or None
        Numpy and pandas scalars are converted to Python values. NaN and infinity are refused.
    unit : str, optional
        Unit of the value.
    description : str, optional
        One line saying what the value measures.

    Returns
    -------
    Metric
        The recorded metric (also written to ``$SALESOPS_METRICS_FILE`` when that is set).

    Raises
    ------
    ValueError
        For a malformed key or a value that is not finite.
    TypeError
        For a value that is not a number, flag, string or None.
    """
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise ValueError(f"metric key {key!r} must be dotted snake case, e.g. 'data_quality.rows_rejected'")
    metric = Metric(key, _clean_value(key, value), unit, description)
    target = os.environ.get(METRICS_ENV)
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(metric), sort_keys=True, allow_nan=False) + "\n")
    return metric


def read_records(path: str | os.PathLike[str]) -> dict[str, Metric]:
    """The metrics one notebook run recorded, by key; a key recorded twice keeps its last value.

    A missing file (the notebook recorded nothing) gives an empty dict.
    """
    path = Path(path)
    if not path.exists():
        return {}
    out: dict[str, Metric] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            out[raw["key"]] = Metric(raw["key"], raw["value"], raw.get("unit"), raw.get("description"))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}, line {number}: not a metric record ({exc})") from exc
    return out


def merge_records(per_notebook: Mapping[str, Mapping[str, Metric]]) -> dict[str, dict[str, Any]]:
    """Merge the records of several notebooks into ``{key: {value, unit, description, notebook}}``.

    Raises
    ------
    ValueError
        When two notebooks record the same key: keys belong to one area.
    """
    merged: dict[str, dict[str, Any]] = {}
    for notebook in sorted(per_notebook):
        for key, metric in per_notebook[notebook].items():
            if key in merged:
                raise ValueError(
                    f"metric {key!r} is recorded by both {merged[key]['notebook']} and {notebook}; "
                    "each key must belong to one notebook"
                )
            merged[key] = {
                "value": metric.value,
                "unit": metric.unit,
                "description": metric.description,
                "notebook": notebook,
            }
    return dict(sorted(merged.items()))


def metrics_document(
    quarter: str, metrics: Mapping[str, Mapping[str, Any]], notebooks: Mapping[str, str]
) -> dict[str, Any]:
    """The ``metrics.json`` content: quarter, merged metrics and each notebook's status."""
    return {
        "schema_version": SCHEMA_VERSION,
        "quarter": quarter,
        "metrics": {k: dict(metrics[k]) for k in sorted(metrics)},
        "notebooks": {k: notebooks[k] for k in sorted(notebooks)},
    }


def write_metrics(path: str | os.PathLike[str], document: Mapping[str, Any]) -> Path:
    """Write ``document`` as sorted, indented JSON ending in a newline (byte-stable for equal input)."""
    path = Path(path)
    text = json.dumps(document, sort_keys=True, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def metrics_table(metrics: Iterable[Metric]) -> Any:
    """Recorded metrics as a DataFrame indexed by key, values kept as recorded (``6`` stays ``6``, not ``6.0``)."""
    import pandas as pd

    rows = [asdict(m) for m in metrics]
    frame = pd.DataFrame(rows, columns=["key", "value", "unit", "description"], dtype=object)
    return frame.set_index("key")


def iter_metric_values(document: Mapping[str, Any]) -> Iterable[tuple[str, Value]]:
    """``(key, value)`` pairs of a ``metrics.json`` document, for checks and diffs."""
    for key, entry in document.get("metrics", {}).items():
        yield key, entry.get("value")


def markdown_rows(document: Mapping[str, Any], keys: Iterable[str] | None = None) -> str:
    """Rows of the ``docs/metrics.md`` tables for ``keys`` (default: every key) of a ``metrics.json`` document.

    ``| `key` | unit | description | notebook |``, one line each, sorted; ``|`` in a description is escaped. Used
    to document new keys: ``python -c "import json, salesops.report.metrics as m;
    print(m.markdown_rows(json.load(open('review/metrics.json'))))"``.
    """
    metrics = document.get("metrics", {})
    wanted = sorted(metrics if keys is None else keys)
    lines = []
    for key in wanted:
        entry = metrics.get(key, {})
        cells = [f"`{key}`", entry.get("unit") or "", entry.get("description") or "", entry.get("notebook") or ""]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)
