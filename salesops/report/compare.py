"""Compare two reviews: the change of every metric in ``metrics.json`` against a previous review.

:func:`compare_documents` diffs two ``metrics.json`` documents key by key; :func:`write_comparison` writes the
result as ``comparison.json`` (sorted, byte-stable) and ``comparison.html`` (Jinja, autoescaped) next to the
review's index.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from salesops.report.pages import report_template_dir

__all__ = ["COMPARISON_TEMPLATE", "compare_documents", "read_metrics_document", "render_comparison",
           "write_comparison"]

COMPARISON_TEMPLATE = "comparison.html.j2"


def read_metrics_document(folder_or_file: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``metrics.json`` of a review folder (or the file itself).

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    ValueError
        When it is not a metrics document (no ``metrics`` mapping).
    """
    path = Path(folder_or_file)
    if path.is_dir():
        path = path / "metrics.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; --compare needs the folder of an earlier review")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("metrics"), dict):
        raise ValueError(f"{path} is not a review's metrics.json (no 'metrics' object)")
    return doc


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def compare_documents(current: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """Key-by-key change of the metrics of ``current`` against ``previous``.

    For a key in both with numeric values: ``change = current - previous`` and
    ``relative_change = current / previous - 1`` (None when ``previous`` is 0). ``status`` is ``changed``,
    ``unchanged``, ``added`` (only in current), ``removed`` (only in previous) or ``not_numeric``.

    Returns
    -------
    dict
        ``{"quarter", "previous_quarter", "counts": {status: n}, "metrics": {key: {...}}}`` with keys sorted.
    """
    cur, prev = current.get("metrics", {}), previous.get("metrics", {})
    rows: dict[str, dict[str, Any]] = {}
    for key in sorted(set(cur) | set(prev)):
        c = cur.get(key, {}).get("value") if key in cur else None
        p = prev.get(key, {}).get("value") if key in prev else None
        entry = (cur.get(key) or prev.get(key) or {})
        row: dict[str, Any] = {"current": c, "previous": p, "change": None, "relative_change": None,
                               "unit": entry.get("unit"), "description": entry.get("description")}
        if key not in prev:
            row["status"] = "added"
        elif key not in cur:
            row["status"] = "removed"
        else:
            cn, pn = _number(c), _number(p)
            if cn is None or pn is None:
                row["status"] = "unchanged" if c == p else "not_numeric"
            else:
                row["change"] = cn - pn
                row["relative_change"] = cn / pn - 1.0 if pn != 0 else None
                row["status"] = "unchanged" if cn == pn else "changed"
        rows[key] = row
    counts: dict[str, int] = {}
    for row in rows.values():
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return {
        "quarter": current.get("quarter"),
        "previous_quarter": previous.get("quarter"),
        "counts": dict(sorted(counts.items())),
        "metrics": rows,
    }


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def render_comparison(comparison: Mapping[str, Any], *, previous_label: str, index_href: str = "index.html") -> str:
    """``comparison.html``: one row per metric, largest relative changes first; every value escaped."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(report_template_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    order = {"changed": 0, "added": 1, "removed": 2, "not_numeric": 3, "unchanged": 4}

    def sort_key(item: tuple[str, Mapping[str, Any]]) -> tuple[int, float, str]:
        key, row = item
        rel = row["relative_change"]
        return order[row["status"]], -abs(rel) if rel is not None else 0.0, key

    rows = [
        {
            "key": key,
            "previous": _fmt(row["previous"]),
            "current": _fmt(row["current"]),
            "change": _fmt(row["change"]),
            "relative": f"{100 * row['relative_change']:+.1f}%" if row["relative_change"] is not None else "",
            "unit": row["unit"] or "",
            "status": row["status"],
        }
        for key, row in sorted(comparison["metrics"].items(), key=sort_key)
    ]
    return env.get_template(COMPARISON_TEMPLATE).render(
        title=f"Review {comparison['quarter']} against {comparison['previous_quarter']}",
        quarter=comparison["quarter"],
        previous_quarter=comparison["previous_quarter"],
        previous_label=previous_label,
        counts=comparison["counts"],
        rows=rows,
        index_href=index_href,
    )


def write_comparison(
    out: str | os.PathLike[str], current: Mapping[str, Any], previous: Mapping[str, Any], *, previous_label: str
) -> tuple[Path, Path]:
    """Write ``comparison.json`` and ``comparison.html`` into ``out``; returns both paths."""
    out = Path(out)
    comparison = compare_documents(current, previous)
    json_path = out / "comparison.json"
    json_path.write_text(json.dumps(comparison, sort_keys=True, indent=2, allow_nan=False, ensure_ascii=False)
                         + "\n", encoding="utf-8")
    html_path = out / "comparison.html"
    html_path.write_text(render_comparison(comparison, previous_label=previous_label), encoding="utf-8")
    return json_path, html_path
