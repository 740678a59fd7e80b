"""The routing rules and territory settings written beside a big synthetic CRM, naming only its own reps.

``templates/routing.yaml`` is set up for ``data/sample`` and names some of its reps (a ramping West SDR at half a
share, the East SDR manager who takes unmatched leads, an SDR on leave). A scaled data set has other reps, so
:func:`routing_config` takes the template and puts in their place the reps of the same standing in the scaled
reps table; :func:`territory_config` is the template as it is (it names roles and columns, no rep). The review's
pages read ``routing.yaml`` and ``territories.yaml`` from the data folder when it has them
(:func:`salesops.paths.config_file`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import yaml

from salesops.paths import templates_dir

from .large_people import MANAGER, NO_END, SDR, Reps
from .large_util import AS_OF_DAY, REGIONS, WINDOW_START

__all__ = ["ROUTING_STANDINS", "routing_config", "territory_config"]

_REP_ID = re.compile(r"^R\d+$")
EAST, WEST = REGIONS.index("East"), REGIONS.index("West")
_SDR_GROUP = {EAST: 8, WEST: 9}


def _newest_sdr(reps: Reps, region: int) -> int:
    """The West (``region``) SDR hired last among those employed at the as-of day."""
    ok = np.flatnonzero((reps.role == SDR) & (reps.region == region) & (reps.end_day == NO_END))
    return int(ok[np.argmax(reps.hire_day[ok])])


def _sdr_manager(reps: Reps, region: int) -> int:
    """The manager of the first SDR team of ``region`` (managers never leave in the window when permanent)."""
    ok = np.flatnonzero((reps.role == MANAGER) & (reps.group == _SDR_GROUP[region]) & (reps.end_day == NO_END))
    if ok.size == 0:  # every manager of the group left: the head of sales takes the leads
        return 0
    return int(ok[0])


def _permanent_sdr(reps: Reps, region: int) -> int:
    """The SDR of ``region`` employed throughout the window (each seller group has one)."""
    return int(reps.permanent[_SDR_GROUP[region]])


#: the reps ``templates/routing.yaml`` names, and who stands in for each in a scaled data set
ROUTING_STANDINS: dict[str, tuple[str, Callable[[Reps], int]]] = {
    "R0062": ("the newest West SDR employed at the as-of day (half a share while ramping)",
              lambda reps: _newest_sdr(reps, WEST)),
    "R0003": ("the manager of the first East SDR team (unmatched leads, fallback)",
              lambda reps: _sdr_manager(reps, EAST)),
    "R0039": ("the East SDR employed throughout (on leave 2025-08-04 to 2025-08-15)",
              lambda reps: _permanent_sdr(reps, EAST)),
}


def _rep_ids_in(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(_rep_ids_in(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_rep_ids_in(v) for v in node)) if node else set()
    return {node} if isinstance(node, str) and _REP_ID.match(node) else set()


def _replace(node: Any, mapping: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _replace(v, mapping) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace(v, mapping) for v in node]
    return mapping.get(node, node) if isinstance(node, str) else node


def routing_config(reps: Reps) -> str:
    """``templates/routing.yaml`` with every rep it names replaced by its stand-in (:data:`ROUTING_STANDINS`).

    Raises
    ------
    ValueError
        When the template names a rep that has no stand-in here (the template changed: add one).
    """
    path = templates_dir() / "routing.yaml"
    rules = yaml.safe_load(path.read_text(encoding="utf-8"))
    named = _rep_ids_in(rules)
    unknown = sorted(named - set(ROUTING_STANDINS))
    if unknown:
        raise ValueError(f"{path}: names rep(s) {', '.join(unknown)}, which have no stand-in in a scaled data set; "
                         "add them to salesops.sample.large_configs.ROUTING_STANDINS")
    mapping = {old: f"R{pick(reps) + 1:05d}" for old, (_, pick) in ROUTING_STANDINS.items() if old in named}
    lines = [
        "# Lead routing rules for this synthetic data set: templates/routing.yaml (which documents every key) with",
        "# the reps it names replaced by reps of the same standing in this reps table:",
    ]
    lines += [f"#   {old} -> {new}: {ROUTING_STANDINS[old][0]}" for old, new in sorted(mapping.items())]
    as_of = WINDOW_START.fromordinal(WINDOW_START.toordinal() + AS_OF_DAY)
    lines += [f"# (as of {as_of.isoformat()}). Written by salesops.sample.large.write_large.", ""]
    body = yaml.safe_dump(_replace(rules, mapping), sort_keys=False, allow_unicode=True, default_flow_style=None)
    return "\n".join(lines) + body


def territory_config() -> str:
    """``templates/territories.yaml`` unchanged: it names roles and columns, which a scaled data set shares."""
    text = (templates_dir() / "territories.yaml").read_text(encoding="utf-8")
    return ("# Territory settings for this synthetic data set: templates/territories.yaml as it is (it names no rep).\n"
            "# Written by salesops.sample.large.write_large.\n" + text)
