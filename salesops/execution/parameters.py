"""The parameters a review may pass to its notebooks, read from their ``parameters`` cells.

Every notebook declares its parameters in its first code cell, tagged ``parameters``
(``horizon: int = 4  # quarters ahead``). :func:`declared_parameters` reads them with Papermill's inspector;
:func:`check_extra_parameters` validates ``--param key=value`` pairs against them before any kernel starts:
an unknown name is refused with the list of accepted ones, a value is converted to the declared type.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["RESERVED", "ParameterError", "check_extra_parameters", "declared_parameters", "parse_assignments"]

#: Parameters the review sets itself from its own options.
RESERVED = {"data_path": "--data", "quarter": "--quarter", "as_of": "--as-of", "mapping": "--mapping"}
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class ParameterError(ValueError):
    """A notebook parameter given to the review is unknown, reserved or of the wrong type."""


def declared_parameters(notebook: str | os.PathLike[str]) -> dict[str, str]:
    """``{name: type name}`` of the notebook's ``parameters`` cell (``"None"`` when the type is not declared)."""
    import papermill as pm

    found = pm.inspect_notebook(os.fspath(notebook))
    return {name: str(info.get("inferred_type_name") or "None") for name, info in found.items()}


def parse_assignments(items: Sequence[str] | None) -> dict[str, str]:
    """``["horizon=4", "label=Q4 close"]`` -> ``{"horizon": "4", "label": "Q4 close"}``.

    Raises
    ------
    ParameterError
        For an item without ``=`` or with an empty name.
    """
    out: dict[str, str] = {}
    for item in items or ():
        name, sep, value = str(item).partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param {item!r} is not of the form key=value")
        out[name.strip()] = value
    return out


def _convert(name: str, value: Any, type_name: str) -> Any:
    if not isinstance(value, str):
        return value
    kind = type_name.split("[")[0].strip().lower()
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            low = value.strip().lower()
            if low in _TRUE | _FALSE:
                return low in _TRUE
            raise ValueError(f"not one of {sorted(_TRUE | _FALSE)}")
    except ValueError as exc:
        raise ParameterError(f"parameter {name} is declared {type_name}; {value!r} is not one ({exc})") from exc
    return value


def check_extra_parameters(
    extra: Mapping[str, Any] | None, notebooks: Sequence[str | os.PathLike[str]]
) -> dict[str, dict[str, Any]]:
    """Validate extra notebook parameters and split them per notebook.

    Parameters
    ----------
    extra : mapping
        ``{name: value}``; string values are converted to the type the notebook declares (int, float, bool).
    notebooks : sequence of path
        The notebooks the review will run.

    Returns
    -------
    dict
        ``{notebook stem: {name: value}}``: each notebook gets only the parameters it declares.

    Raises
    ------
    ParameterError
        For a name no notebook declares (listing the accepted ones), a name the review sets from its own option
        (``data_path`` ...), or a value that is not of the declared type.
    """
    declared = {Path(nb).stem: declared_parameters(nb) for nb in notebooks}
    if not extra:
        return {stem: {} for stem in declared}
    accepted = sorted({name for params in declared.values() for name in params} - set(RESERVED))
    reserved = [f"{name} (use {RESERVED[name]})" for name in extra if name in RESERVED]
    if reserved:
        raise ParameterError(f"parameter(s) set by the review's own options: {', '.join(reserved)}")
    unknown = sorted(name for name in extra if name not in accepted)
    if unknown:
        raise ParameterError(
            f"unknown parameter(s): {', '.join(unknown)}; accepted: {', '.join(accepted) or '(none)'} "
            f"(besides {', '.join(f'{o} for {n}' for n, o in RESERVED.items())})"
        )
    out: dict[str, dict[str, Any]] = {}
    for stem, params in declared.items():
        out[stem] = {name: _convert(name, value, params[name]) for name, value in extra.items() if name in params}
    return out
