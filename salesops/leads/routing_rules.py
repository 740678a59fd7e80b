"""The routing rules as objects, and their reading and validation from YAML or a dict (errors name the rule, the
pool or the calendar and the key): :mod:`salesops.leads.routing` applies them to leads."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from salesops.calendars import CalendarError, WorkCalendar, work_calendar
from salesops.territory.buckets import RuleError, check_condition

_DAY_NAMES = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


class RoutingRuleError(RuleError):
    """The routing rules are malformed; the message names the rule, pool or calendar and what is wrong."""


class UnroutableLeadError(ValueError):
    """Some leads cannot be placed by any rule and no fallback owner is set; the message names them."""


# --- the rules as objects ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """Working time of a team: days, hours (local), holidays, in a time zone.

    Attributes
    ----------
    name : str
        Key in ``calendars``.
    timezone : str
        IANA zone (``Europe/Berlin``); hours and holidays are local to it.
    days : tuple of int
        Working weekdays, Monday = 0.
    start, end : datetime.time
        Working hours; an ``end`` at or before ``start`` runs past midnight.
    holidays : tuple of datetime.date
        Days off for everyone on the calendar.
    public_holidays : tuple of WorkCalendar
        Also take these calendars' holidays off (a country's public holidays, by subdivision, from
        :mod:`salesops.calendars`; written ``us_federal``, ``TH`` or ``US-CA`` in the rules).
    always : bool
        Around the clock, every day (no hours, no holidays).
    """

    name: str
    timezone: str = "UTC"
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(17, 0)
    holidays: tuple[dt.date, ...] = ()
    public_holidays: tuple[WorkCalendar, ...] = ()
    always: bool = False


@dataclass(frozen=True)
class Member:
    """A rep in a pool: weight (share of leads), daily cap, calendar (None: the pool's)."""

    rep_id: str
    weight: float = 1.0
    cap_per_day: int | None = None
    calendar: str | None = None


@dataclass(frozen=True)
class Pool:
    """A round-robin pool.

    Attributes
    ----------
    name : str
        Key in ``pools``.
    members : tuple of Member
        Explicit members (with ``select``, these override the selected reps' settings).
    select : mapping, optional
        Condition on the reps table (``{role: SDR, region: East}``); reps matching it join with weight 1.
    cap_per_day : int, optional
        Default daily cap of a member (leads per local calendar day).
    calendar : str, optional
        Default calendar of the members (None: always available, within employment and leave).
    when_unavailable : {"wait", "next_rule"}
        What a lead does when no member is available at its time.
    """

    name: str
    members: tuple[Member, ...] = ()
    select: Mapping[str, Any] | None = None
    cap_per_day: int | None = None
    calendar: str | None = None
    when_unavailable: str = "wait"


@dataclass(frozen=True)
class Rule:
    """One routing rule (see the module docstring for the kinds)."""

    name: str
    kind: str
    when: Mapping[str, Any] | None = None
    pool: str | None = None
    owner: str | None = None
    roles: tuple[str, ...] | None = None
    calendar: str | None = None


@dataclass(frozen=True)
class RoutingRules:
    """A validated rule set.

    Attributes
    ----------
    rules : tuple of Rule
        In the order they are tried.
    pools : dict of str to Pool
    calendars : dict of str to Calendar
    derive : dict of str to list
        Lead columns computed by bucket rules before routing (``segment`` from ``employees``, ...).
    account_columns : tuple of str
        Account columns copied onto each lead as ``account_<column>`` (``account_owner`` is always added when
        accounts are given).
    fallback : str, optional
        Owner of leads no rule places.
    leave : tuple of (rep_id, start, end)
        Leave periods (dates, end inclusive) on top of the ``leave`` table passed to :func:`route`.
    timezone : str
        Zone of the daily caps' days when a pool has no calendar.
    """

    rules: tuple[Rule, ...]
    pools: dict[str, Pool] = field(default_factory=dict)
    calendars: dict[str, Calendar] = field(default_factory=dict)
    derive: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    account_columns: tuple[str, ...] = ()
    fallback: str | None = None
    leave: tuple[tuple[str, dt.date, dt.date], ...] = ()
    timezone: str = "UTC"


# --- parsing and validation -----------------------------------------------------------------------------------


def _err(msg: str) -> RoutingRuleError:
    return RoutingRuleError(msg)


def _time(value: Any, where: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):  # YAML 1.1 reads 09:00 as 540 (sexagesimal)
        if 0 <= value < 24 * 60:
            return dt.time(value // 60, value % 60)
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError:
        raise _err(f"{where}: {value!r} is not a time of day like \"09:00\"") from None


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _err(f"{where}: {value!r} is not a date like 2025-12-25") from None


def _check_keys(obj: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = set(obj) - allowed
    if extra:
        raise _err(f"{where}: unknown key(s) {', '.join(sorted(map(str, extra)))}; allowed: {', '.join(sorted(allowed))}")


def _positive_int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _err(f"{where}: must be a whole number >= 0, got {value!r}")
    return int(value)


#: A country's public holidays in a calendar's ``holidays`` list: ``TH``, ``US`` or ``US-CA`` (with a subdivision).
_COUNTRY_RE = re.compile(r"([A-Za-z]{2})(?:-([A-Za-z0-9]{1,3}))?")


def _parse_calendar(name: str, raw: Any) -> Calendar:
    where = f"calendar {name!r}"
    if not isinstance(raw, Mapping):
        raise _err(f"{where}: must be a mapping (timezone, days, hours, holidays)")
    _check_keys(raw, {"timezone", "days", "hours", "holidays", "always"}, where)
    tz = str(raw.get("timezone", "UTC"))
    try:
        pd.Timestamp("2025-01-01").tz_localize(tz)
    except Exception:
        raise _err(f"{where}: unknown time zone {tz!r}") from None
    if raw.get("always"):
        return Calendar(name, tz, always=True)
    days_raw = raw.get("days", ["mon", "tue", "wed", "thu", "fri"])
    if not isinstance(days_raw, list) or not days_raw:
        raise _err(f"{where}: days must be a non-empty list such as [mon, tue, wed, thu, fri]")
    days = []
    for d in days_raw:
        key = str(d).strip().lower()[:3]
        if key not in _DAY_NAMES:
            raise _err(f"{where}: unknown day {d!r}; use mon, tue, wed, thu, fri, sat, sun")
        days.append(_DAY_NAMES[key])
    hours = raw.get("hours", ["09:00", "17:00"])
    if not isinstance(hours, list) or len(hours) != 2:
        raise _err(f"{where}: hours must be a [start, end] pair such as [\"09:00\", \"17:00\"]")
    start, end = _time(hours[0], f"{where}, hours"), _time(hours[1], f"{where}, hours")
    if start == end:
        raise _err(f"{where}: hours start and end at the same time; use always: true for round the clock")
    holidays_raw = raw.get("holidays", [])
    public: list[WorkCalendar] = []
    dates = []
    for h in holidays_raw if isinstance(holidays_raw, list) else [holidays_raw]:
        country = _COUNTRY_RE.fullmatch(h.strip()) if isinstance(h, str) else None
        if isinstance(h, str) and h.strip().lower() == "us_federal":
            public.append(work_calendar("US"))
        elif country is not None:
            try:
                public.append(work_calendar(country.group(1), country.group(2)))
            except CalendarError as exc:
                raise _err(f"{where}, holidays: {exc}") from None
        else:
            dates.append(_date(h, f"{where}, holidays"))
    return Calendar(name, tz, tuple(sorted(set(days))), start, end, tuple(sorted(dates)), tuple(public))


def _parse_member(raw: Any, where: str) -> Member:
    if isinstance(raw, str | int):
        return Member(str(raw))
    if not isinstance(raw, Mapping) or "rep_id" not in raw:
        raise _err(f"{where}: a member is a rep id or a mapping with rep_id (and weight, cap_per_day, calendar)")
    _check_keys(raw, {"rep_id", "weight", "cap_per_day", "calendar"}, where)
    w = raw.get("weight", 1.0)
    if isinstance(w, bool) or not isinstance(w, int | float) or not np.isfinite(w) or w <= 0:
        raise _err(f"{where}: weight of {raw['rep_id']!r} must be a number > 0, got {w!r}")
    return Member(str(raw["rep_id"]), float(w), _positive_int(raw.get("cap_per_day"), f"{where}, cap_per_day"),
                  raw.get("calendar"))


def _parse_pool(name: str, raw: Any, calendars: Mapping[str, Calendar]) -> Pool:
    where = f"pool {name!r}"
    if not isinstance(raw, Mapping):
        raise _err(f"{where}: must be a mapping with members or select")
    _check_keys(raw, {"members", "select", "cap_per_day", "calendar", "when_unavailable"}, where)
    members_raw = raw.get("members", [])
    if not isinstance(members_raw, list):
        raise _err(f"{where}: members must be a list")
    members = tuple(_parse_member(m, f"{where}, members[{i}]") for i, m in enumerate(members_raw))
    ids = [m.rep_id for m in members]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise _err(f"{where}: rep(s) {', '.join(dup)} listed twice")
    select = raw.get("select")
    if select is not None:
        check_condition(select, f"{where}, select")
    if not members and not select:
        raise _err(f"{where}: has no members and no select; name members or select reps (e.g. {{role: SDR}})")
    cal = raw.get("calendar")
    for c in [cal] + [m.calendar for m in members]:
        if c is not None and c not in calendars:
            raise _err(f"{where}: unknown calendar {c!r}; calendars: {', '.join(sorted(calendars)) or '(none)'}")
    wu = raw.get("when_unavailable", "wait")
    if wu not in ("wait", "next_rule"):
        raise _err(f"{where}: when_unavailable must be 'wait' or 'next_rule', got {wu!r}")
    return Pool(name, members, select, _positive_int(raw.get("cap_per_day"), f"{where}, cap_per_day"), cal, wu)


def _parse_rule(i: int, raw: Any, pools: Mapping[str, Pool], calendars: Mapping[str, Calendar]) -> Rule:
    if not isinstance(raw, Mapping):
        raise _err(f"rules[{i}]: must be a mapping with a name")
    name = raw.get("name")
    if not name:
        raise _err(f"rules[{i}]: has no name")
    where = f"rule {name!r} (rules[{i}])"
    _check_keys(raw, {"name", "type", "when", "pool", "owner", "roles", "calendar"}, where)
    kind = raw.get("type") or ("pool" if "pool" in raw else "owner" if "owner" in raw else None)
    if kind not in ("account_owner", "pool", "owner"):
        raise _err(f"{where}: type must be account_owner, pool or owner (or give a pool: or owner: key), got {kind!r}")
    check_condition(raw.get("when"), where)
    pool = raw.get("pool")
    if kind == "pool":
        if pool not in pools:
            raise _err(f"{where}: unknown pool {pool!r}; pools: {', '.join(sorted(pools)) or '(none)'}")
    elif pool is not None:
        raise _err(f"{where}: a rule of type {kind} takes no pool")
    owner = raw.get("owner")
    if kind == "owner" and not owner:
        raise _err(f"{where}: type owner needs an owner: rep id")
    roles = raw.get("roles")
    if roles is not None:
        roles = (roles,) if isinstance(roles, str) else tuple(str(r) for r in roles)
    cal = raw.get("calendar")
    if cal is not None and cal not in calendars:
        raise _err(f"{where}: unknown calendar {cal!r}; calendars: {', '.join(sorted(calendars)) or '(none)'}")
    return Rule(str(name), kind, raw.get("when"), pool, None if owner is None else str(owner), roles, cal)


def load_rules(source: str | os.PathLike[str] | Mapping[str, Any] | RoutingRules) -> RoutingRules:
    """Read and validate routing rules from a YAML file, a YAML string or a dict.

    The structure (``templates/routing.yaml`` documents every key)::

        version: 1
        timezone: UTC
        derive:   {segment: [{name: Enterprise, when: {employees: {min: 2000}}}, ..., {name: SMB}]}
        account_columns: [region]
        calendars: {us_east: {timezone: America/New_York, days: [mon, ..., fri], hours: ["09:00", "17:00"],
                              holidays: [us_federal, 2025-12-24]}}
        pools: {sdr_east: {select: {role: SDR, region: East}, cap_per_day: 60, calendar: us_east,
                           members: [{rep_id: R0005, weight: 2}]}}
        rules:
          - {name: existing owner, type: account_owner, roles: [AE]}
          - {name: east, when: {account_region: East}, pool: sdr_east}
        fallback: R0003
        leave: [{rep_id: R0005, from: 2025-08-04, to: 2025-08-15}]

    Returns
    -------
    RoutingRules

    Raises
    ------
    RoutingRuleError
        Naming the rule, pool or calendar at fault.
    """
    if isinstance(source, RoutingRules):
        return source
    try:
        return _load_rules(source)
    except RoutingRuleError:
        raise
    except RuleError as exc:  # a condition's own check, raised as the routing error it is
        raise RoutingRuleError(str(exc)) from None


def _load_rules(source: str | os.PathLike[str] | Mapping[str, Any]) -> RoutingRules:
    if isinstance(source, Mapping):
        raw = source
    else:
        import yaml

        from salesops.safe_yaml import YamlLimitError, load_yaml, load_yaml_text

        text = str(source)
        path = Path(text)
        try:
            if "\n" not in text and path.suffix.lower() in (".yaml", ".yml", ".json"):
                if not path.exists():
                    raise FileNotFoundError(f"routing rules file not found: {path}")
                raw = load_yaml(path, f"routing rules file {path}")
            else:
                raw = load_yaml_text(text, "routing rules")
        except YamlLimitError as exc:
            raise _err(str(exc)) from None
        except yaml.YAMLError as exc:
            raise _err(f"routing rules are not valid YAML: {exc}") from None
    if not isinstance(raw, Mapping):
        raise _err("routing rules must be a mapping with at least a 'rules' list")
    _check_keys(raw, {"version", "timezone", "derive", "account_columns", "calendars", "pools", "rules", "fallback",
                      "leave", "description"}, "routing rules")
    if raw.get("version", 1) != 1:
        raise _err(f"routing rules: version {raw.get('version')!r} is not supported (expected 1)")
    calendars = {str(k): _parse_calendar(str(k), v) for k, v in (raw.get("calendars") or {}).items()}
    pools = {str(k): _parse_pool(str(k), v, calendars) for k, v in (raw.get("pools") or {}).items()}
    rules_raw = raw.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise _err("routing rules: 'rules' must be a non-empty list")
    rules = tuple(_parse_rule(i, r, pools, calendars) for i, r in enumerate(rules_raw))
    names = [r.name for r in rules]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise _err(f"routing rules: rule name(s) {', '.join(map(repr, dup))} used twice")
    used: dict[str, str] = {}
    for r in rules:
        if r.pool is not None:
            if r.pool in used:
                raise _err(f"rule {r.name!r}: pool {r.pool!r} already serves rule {used[r.pool]!r}; a pool serves one "
                           "rule (combine the conditions with any: instead)")
            used[r.pool] = r.name
    derive = {}
    for col, rules_d in (raw.get("derive") or {}).items():
        if not isinstance(rules_d, list) or not rules_d:
            raise _err(f"derive {col!r}: must be a list of bucket rules ({{name, when}})")
        for j, b in enumerate(rules_d):
            if not isinstance(b, Mapping) or "name" not in b:
                raise _err(f"derive {col!r}[{j}]: a bucket rule is a mapping with name (and when)")
            check_condition(b.get("when"), f"derive {col!r}, bucket {b['name']!r}")
        derive[str(col)] = list(rules_d)
    acc_cols = raw.get("account_columns") or []
    if not isinstance(acc_cols, list):
        raise _err("routing rules: account_columns must be a list of account column names")
    leave = []
    for j, lv in enumerate(raw.get("leave") or []):
        where = f"leave[{j}]"
        if not isinstance(lv, Mapping) or not {"rep_id", "from", "to"} <= set(lv):
            raise _err(f"{where}: needs rep_id, from and to")
        a, b = _date(lv["from"], where), _date(lv["to"], where)
        if b < a:
            raise _err(f"{where}: leave of {lv['rep_id']!r} ends ({b}) before it starts ({a})")
        leave.append((str(lv["rep_id"]), a, b))
    tz = str(raw.get("timezone", "UTC"))
    try:
        pd.Timestamp("2025-01-01").tz_localize(tz)
    except Exception:
        raise _err(f"routing rules: unknown time zone {tz!r}") from None
    fb = raw.get("fallback")
    return RoutingRules(rules, pools, calendars, derive, tuple(map(str, acc_cols)), None if fb is None else str(fb),
                        tuple(leave), tz)
