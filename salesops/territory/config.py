"""Territory design settings (``templates/territories.yaml``) and the tables a design starts from."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from salesops.leads._common import MissingDataError
from salesops.territory.buckets import DEFAULT_SEGMENT_RULES, RuleError, assign_buckets, check_condition
from salesops.territory.design import account_workload, territories_from_reps

__all__ = ["TerritorySettings", "load_settings", "prepare"]


@dataclass(frozen=True)
class TerritorySettings:
    """Everything a territory design needs to know besides the data (see ``templates/territories.yaml``)."""

    buckets: tuple[Mapping[str, Any], ...] = DEFAULT_SEGMENT_RULES
    role: str = "AE"
    bucket_column: str = "segment"
    capacity: int | None = None
    values: tuple[str, ...] = ("potential", "workload")
    tolerance: float = 0.05
    workload_roles: tuple[str, ...] = ("AE",)
    workload_window_days: float = 365.0
    workload_floor: float = 4.0
    keep_owners: bool = True
    max_moved_share: float = 0.20
    source: str = field(default="defaults", compare=False)


def _section(raw: Mapping[str, Any], key: str, allowed: set[str]) -> Mapping[str, Any]:
    sec = raw.get(key) or {}
    if not isinstance(sec, Mapping):
        raise RuleError(f"territory settings: {key} must be a mapping")
    extra = set(sec) - allowed
    if extra:
        raise RuleError(f"territory settings: {key} has unknown key(s) {', '.join(sorted(extra))}; "
                        f"allowed: {', '.join(sorted(allowed))}")
    return sec


def load_settings(source: str | os.PathLike[str] | Mapping[str, Any] | None = None, **overrides: Any
                  ) -> TerritorySettings:
    """Read territory settings from a YAML file or dict (None: the defaults), then apply ``overrides``.

    Raises
    ------
    RuleError
        Naming the section and key at fault.
    """
    label = "defaults"
    if source is None or source == "":
        raw: Mapping[str, Any] = {}
    elif isinstance(source, Mapping):
        raw, label = source, "dict"
    else:
        from salesops.safe_yaml import YamlLimitError, load_yaml

        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"territory settings file not found: {path}")
        try:
            raw, label = load_yaml(path, f"territory settings file {path}") or {}, str(path)
        except YamlLimitError as exc:
            raise RuleError(str(exc)) from None
    extra = set(raw) - {"buckets", "territories", "balance", "workload", "disruption"}
    if extra:
        raise RuleError(f"territory settings: unknown section(s) {', '.join(sorted(extra))}")
    buckets = raw.get("buckets", list(DEFAULT_SEGMENT_RULES))
    if not isinstance(buckets, list) or not buckets:
        raise RuleError("territory settings: buckets must be a non-empty list of {name, when}")
    for i, b in enumerate(buckets):
        if not isinstance(b, Mapping) or "name" not in b:
            raise RuleError(f"territory settings: buckets[{i}] needs a name")
        check_condition(b.get("when"), f"territory settings, bucket {b['name']!r}")
    terr = _section(raw, "territories", {"role", "bucket_column", "capacity"})
    bal = _section(raw, "balance", {"values", "tolerance"})
    work = _section(raw, "workload", {"roles", "window_days", "floor"})
    dis = _section(raw, "disruption", {"keep_owners", "max_moved_share"})
    kw: dict[str, Any] = {
        "buckets": tuple(buckets),
        "role": str(terr.get("role", "AE")),
        "bucket_column": str(terr.get("bucket_column", "segment")),
        "capacity": terr.get("capacity"),
        "values": tuple(bal.get("values", ("potential", "workload"))),
        "tolerance": float(bal.get("tolerance", 0.05)),
        "workload_roles": tuple(work.get("roles", ("AE",))),
        "workload_window_days": float(work.get("window_days", 365.0)),
        "workload_floor": float(work.get("floor", 4.0)),
        "keep_owners": bool(dis.get("keep_owners", True)),
        "max_moved_share": float(dis.get("max_moved_share", 0.20)),
        "source": label,
    }
    kw.update({k: v for k, v in overrides.items() if v is not None})
    if not 0 < kw["tolerance"] < 1:
        raise RuleError(f"territory settings: balance.tolerance must lie between 0 and 1, got {kw['tolerance']}")
    if not 0 <= kw["max_moved_share"] <= 1:
        raise RuleError("territory settings: disruption.max_moved_share must lie between 0 and 1")
    return TerritorySettings(**kw)


def prepare(data: Any, settings: TerritorySettings, as_of: Any = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The accounts (with ``bucket``, ``workload`` when balanced on and ``current_territory``) and the territories
    a design starts from.

    Parameters
    ----------
    data : SalesData
        Needs ``accounts`` and ``reps`` (and ``activities`` for the workload).
    settings : TerritorySettings
    as_of : timestamp, optional
        Day the territories' owners must be employed on, and end of the workload window.

    Returns
    -------
    (accounts, territories) : (DataFrame, DataFrame)
    """
    accounts, reps = getattr(data, "accounts", None), getattr(data, "reps", None)
    if accounts is None:
        raise MissingDataError("the accounts table is missing; territory design needs it")
    if reps is None:
        raise MissingDataError("the reps table is missing; territories come from the reps")
    acc = accounts.copy()
    try:
        acc["bucket"] = assign_buckets(acc, list(settings.buckets), context="territory settings, buckets").to_numpy()
    except RuleError as exc:
        if "unknown column" in str(exc):
            raise MissingDataError(str(exc)) from None
        raise
    terr = territories_from_reps(reps, as_of=as_of, role=settings.role, bucket_column=settings.bucket_column,
                                 capacity=settings.capacity)
    if "workload" in settings.values and "workload" not in acc.columns:
        ids = reps.loc[reps["role"].isin(settings.workload_roles), "rep_id"] if "role" in reps.columns else None
        acc["workload"] = account_workload(acc, getattr(data, "activities", None), as_of=as_of,
                                           window_days=settings.workload_window_days, floor=settings.workload_floor,
                                           roles_rep_ids=ids).to_numpy()
    owner = acc["owner_rep_id"] if "owner_rep_id" in acc.columns else pd.Series(None, index=acc.index)
    acc["current_territory"] = owner.where(owner.isin(terr["owner_rep_id"]))
    return acc, terr
