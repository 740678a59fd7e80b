"""The parameters a review may pass to its notebooks, read from their ``parameters`` cells.

Every notebook declares its parameters in its first code cell, tagged ``parameters``
(``horizon: int = 4  # quarters ahead``). :func:`declared_parameters` reads them with Papermill's inspector;
:func:`check_extra_parameters` validates ``--param key=value`` pairs against them before any kernel starts:
an unknown name is refused with the list of accepted ones, a value is converted to the declared type and
checked against :data:`PARAMETER_RULES`, the one table of the shipped notebooks' parameters with their kind
and range (``n_runs`` a whole number >= 1, ``stale_days`` >= 0 ...).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "PARAMETER_RULES",
    "RESERVED",
    "ParameterError",
    "ParameterRule",
    "check_extra_parameters",
    "check_value",
    "declared_parameters",
    "parse_assignments",
]

#: Parameters the review sets itself from its own options.
RESERVED = {"data_path": "--data", "quarter": "--quarter", "as_of": "--as-of", "mapping": "--mapping"}
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class ParameterError(ValueError):
    """A notebook parameter given to the review is unknown, reserved, of the wrong type or out of range."""


@dataclass(frozen=True)
class ParameterRule:
    """What a notebook parameter accepts.

    Attributes
    ----------
    kind : str
        ``int``, ``float``, ``str`` or ``bool`` (as the parameters cell declares it).
    low, high : float or None
        Inclusive bounds (None: unbounded); ``low_open`` / ``high_open`` make a bound exclusive.
    choices : tuple of str
        For text parameters limited to a few values; empty: any text.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        """``a whole number >= 1``, ``a number in (0, 1]``, ``one of 'day 1', 'week 4'`` ..."""
        noun = {"int": "a whole number", "float": "a number", "bool": "true or false"}.get(self.kind, "text")
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"{noun} in {left}{_number(self.low)}, {_number(self.high)}{right}"
        if self.low is not None:
            return f"{noun} {'>' if self.low_open else '>='} {_number(self.low)}"
        if self.high is not None:
            return f"{noun} {'<' if self.high_open else '<='} {_number(self.high)}"
        return noun


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


#: Every parameter of the shipped notebooks besides :data:`RESERVED`, with its kind and range; a ``--param``
#: is checked against it before any kernel starts. A parameter of another notebook folder that is not listed
#: here is only converted to the type its parameters cell declares.
PARAMETER_RULES: dict[str, ParameterRule] = {
    # 02_kpis, 09_process_evaluation
    "breakdown": ParameterRule("str"),
    "gross_margin": ParameterRule("float", 0.0, 1.0, low_open=True),
    # 03_pipeline_and_funnel
    "stale_days": ParameterRule("int", 0, 3650),
    # 04_forecast
    "backtest_quarters": ParameterRule("int", 0, 40),  # 0: the full backtest
    "backtest_point": ParameterRule("str", choices=("day 1", "week 4", "week 8")),
    # 05_leads_and_routing
    "routing_rules": ParameterRule("str"),
    "personas": ParameterRule("int", 0, 20),
    "test_days": ParameterRule("int", 1, 3650),
    # 06_comp_whatif
    "plan": ParameterRule("str"),
    "alt_accelerator": ParameterRule("float", 0.0, 100.0, low_open=True),
    "n_runs": ParameterRule("int", 1, 1_000_000),
    # 07_territories
    "territory_settings": ParameterRule("str"),
    "tolerance": ParameterRule("float", 0.0, 1.0, low_open=True, high_open=True),
    "max_moved_share": ParameterRule("float", 0.0, 1.0),
    # 08_training_and_ramp
    "program": ParameterRule("str"),
    "coaching_months": ParameterRule("int", 1, 240),
    # 09_process_evaluation
    "event": ParameterRule("str"),
    "campaign": ParameterRule("str"),
    "roi_months": ParameterRule("int", 1, 240),
}


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
            number = float(value)
            if not math.isfinite(number):
                raise ValueError("not a finite number")
            return number
        if kind == "bool":
            low = value.strip().lower()
            if low in _TRUE | _FALSE:
                return low in _TRUE
            raise ValueError(f"not one of {sorted(_TRUE | _FALSE)}")
    except ValueError as exc:
        rule = PARAMETER_RULES.get(name)
        if rule is not None:
            raise ParameterError(f"--param {name}={value}: expected {rule.describe()}") from exc
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
        out[stem] = {name: check_value(name, _convert(name, value, params[name]), given=value)
                     for name, value in extra.items() if name in params}
    return out


def check_value(name: str, value: Any, given: Any = None) -> Any:
    """``value`` when it is what :data:`PARAMETER_RULES` allows for ``name`` (any value for an unlisted name).

    ``given`` is the value as the user wrote it (``"0"`` for ``--param n_runs=0``), for the message.

    Raises
    ------
    ParameterError
        Naming the parameter, the value and what was expected: ``--param n_runs=0: expected a whole number in
        [1, 1000000]``.
    """
    rule = PARAMETER_RULES.get(name)
    if rule is None:
        return value
    expected = f"--param {name}={value if given is None else given}: expected {rule.describe()}"
    if rule.kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise ParameterError(expected)
    if rule.kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ParameterError(expected)
    if rule.kind == "str" and not isinstance(value, str):
        raise ParameterError(expected)
    if rule.choices and value not in rule.choices:
        raise ParameterError(expected)
    if rule.low is not None and (value < rule.low or (rule.low_open and value == rule.low)):
        raise ParameterError(expected)
    if rule.high is not None and (value > rule.high or (rule.high_open and value == rule.high)):
        raise ParameterError(expected)
    return value
