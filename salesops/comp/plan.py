"""Compensation plans as data: the YAML schema, its validation and the payout curve.

A plan pays, per rep and period, for each measure :math:`m` with weight :math:`w_m`

.. math::

    \\text{commission}_m = S_m \\cdot \\min\\Big(\\text{cap}, \\sum_i r_i \\,
    \\operatorname{clip}(x_m - a_i, 0, b_i - a_i)\\Big),

where :math:`x_m` is attainment (achieved / quota) and the marginal tiers :math:`[a_i, b_i)` carry rate
:math:`r_i` (rate 1 pays the target incentive at 100 %, below 1 decelerates, above 1 accelerates).
For a ``quota`` plan the scale is :math:`S_m = w_m \\cdot` the period's (prorated) target incentive; for a
``per_unit`` plan (SDRs) it is ``unit_rate x unit_quota``, so rate 1 pays ``unit_rate`` per unit.

Validation raises :class:`PlanError` naming the field at fault (``tiers[1].from``, ``measures[0].name``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from salesops.paths import templates_dir
from salesops.safe_yaml import YamlLimitError, load_yaml

__all__ = [
    "MEASURES",
    "PLAN_KINDS",
    "Clawback",
    "CompPlan",
    "Draw",
    "Measure",
    "PlanError",
    "Spif",
    "Tier",
    "list_templates",
    "load_plan",
    "parse_plan",
    "payout_multiple",
]

#: Measures a plan may pay on, and what they count.
MEASURES: dict[str, str] = {
    "bookings": "won amount of all opportunities: new_business, expansion and renewal (close_date in the period)",
    "new_business": "won amount of new_business opportunities",
    "expansion": "won amount of expansion opportunities",
    "sqls": "leads reaching SQL (leads.sql_at in the period), credited to the lead owner",
    "meetings": "meetings held (activities of type meeting with outcome held)",
}
UNIT_MEASURES = ("sqls", "meetings")
PLAN_KINDS = ("quota", "per_unit")
PERIODS = {"month": 12, "quarter": 4, "year": 1}


class PlanError(ValueError):
    """A comp plan that does not validate; ``field`` names the offending entry."""

    def __init__(self, field_name: str, message: str):
        self.field = field_name
        super().__init__(f"{field_name}: {message}")


@dataclass(frozen=True)
class Tier:
    """Marginal tier: attainment in ``[lower, upper)`` earns ``rate`` (``upper`` None = no end)."""

    lower: float
    upper: float | None
    rate: float


@dataclass(frozen=True)
class Measure:
    """One paid measure with its weight in the target incentive and, when the quotas table holds no row for
    it, the share of the bookings quota it carries."""

    name: str
    weight: float = 1.0
    quota_share: float | None = None


@dataclass(frozen=True)
class Draw:
    """Advance against commission per period; a recoverable draw is paid back from later earnings.

    ``periods``: the draw applies in a rep's first ``periods`` periods of the computed range (a new hire
    enters the range when hired, so these are their first periods); None: in every period.
    """

    amount: float
    recoverable: bool
    periods: int | None = None


@dataclass(frozen=True)
class Spif:
    """Fixed bonus per won deal matching ``product`` / ``type`` closed in ``[start, end]``."""

    amount: float
    product: str | None = None
    type: str | None = None
    start: str | None = None
    end: str | None = None


@dataclass(frozen=True)
class Clawback:
    """Commission of a won deal is taken back when its account churns within ``days`` of the close."""

    days: int


@dataclass(frozen=True)
class CompPlan:
    """A validated comp plan (see the module docstring for the payout formula)."""

    name: str
    role: str
    kind: str
    period: str
    measures: tuple[Measure, ...]
    tiers: tuple[Tier, ...]
    cap: float | None = None
    ote: float | None = None
    base_share: float | None = None
    unit_rate: float | None = None
    unit_quota: float | None = None
    quota: float | None = None
    ramp: tuple[float, ...] = ()
    prorate: bool = True
    draw: Draw | None = None
    spif: Spif | None = None
    clawback: Clawback | None = None
    description: str = ""
    source: str = field(default="", compare=False)

    @property
    def periods_per_year(self) -> int:
        return PERIODS[self.period]

    @property
    def variable_annual(self) -> float:
        """Annual target incentive: ``ote x (1 - base_share)`` (0 for a per-unit plan without OTE)."""
        if self.ote is None or self.base_share is None:
            return 0.0
        return self.ote * (1.0 - self.base_share)

    @property
    def base_annual(self) -> float:
        """Annual base salary: ``ote x base_share``."""
        if self.ote is None or self.base_share is None:
            return 0.0
        return self.ote * self.base_share

    @property
    def monotone(self) -> bool:
        """Every tier rate is >= 0, so payout never falls as attainment rises (guaranteed by validation)."""
        return all(t.rate >= 0 for t in self.tiers)

    def multiple(self, attainment: Any) -> np.ndarray:
        """Payout as a multiple of the scale at ``attainment`` (vectorised): see :func:`payout_multiple`."""
        return payout_multiple(attainment, self.tiers, self.cap)

    def with_changes(
        self,
        base_rate: float | None = None,
        accelerator: float | None = None,
        decelerator: float | None = None,
        cap: float | None | str = "keep",
        spif_amount: float | None = None,
        quota_scale: float | None = None,
    ) -> CompPlan:
        """A copy with what-if changes: rates of the tiers below 50 % (``decelerator``), from 50 % to
        100 % (``base_rate``) and from 100 % up (``accelerator``); a new ``cap`` (None: no cap); a new SPIF
        amount; a plan quota scaled by ``quota_scale``. The result is validated again."""
        tiers = []
        for t in self.tiers:
            rate = t.rate
            if t.lower >= 1.0 and accelerator is not None:
                rate = accelerator
            elif t.upper is not None and t.upper <= 0.5 and decelerator is not None:
                rate = decelerator
            elif t.lower >= 0.5 and t.upper is not None and t.upper <= 1.0 and base_rate is not None:
                rate = base_rate
            tiers.append(Tier(t.lower, t.upper, rate))
        changes: dict[str, Any] = {"tiers": tuple(tiers)}
        if cap != "keep":
            changes["cap"] = cap
        if spif_amount is not None:
            changes["spif"] = replace(self.spif or Spif(0.0), amount=float(spif_amount))
        if quota_scale is not None and self.quota is not None:
            changes["quota"] = self.quota * quota_scale
        plan = replace(self, **changes)
        return parse_plan(to_dict(plan), source=self.source)


def payout_multiple(attainment: Any, tiers: tuple[Tier, ...] | list[Tier], cap: float | None = None) -> np.ndarray:
    """Payout multiple :math:`\\min(\\text{cap}, \\sum_i r_i \\operatorname{clip}(x - a_i, 0, b_i - a_i))`.

    Parameters
    ----------
    attainment : array-like
        Attainment :math:`x` (1.0 = quota); any shape.
    tiers : sequence of Tier
        Contiguous marginal tiers starting at 0.
    cap : float, optional
        Largest multiple paid.

    Returns
    -------
    numpy.ndarray
        Same shape as ``attainment``.
    """
    x = np.maximum(np.asarray(attainment, dtype=float), 0.0)
    out = np.zeros_like(x)
    for t in tiers:
        width = math.inf if t.upper is None else t.upper - t.lower
        out += t.rate * np.clip(x - t.lower, 0.0, width)
    if cap is not None:
        out = np.minimum(out, cap)
    return out


# --- parsing and validation ---------------------------------------------------------------------------------

_TOP_KEYS = {
    "name", "role", "kind", "period", "description", "measures", "tiers", "cap", "pay", "unit_rate",
    "unit_quota", "quota", "ramp", "prorate", "draw", "spif", "clawback",
}


def _num(value: Any, name: str, minimum: float | None = 0.0, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(float(value)):
        raise PlanError(name, f"must be a finite number, got {value!r}")
    if minimum is not None and value < minimum:
        raise PlanError(name, f"must be >= {minimum:g}, got {value!r}")
    return float(value)


def _mapping(value: Any, name: str) -> dict:
    if not isinstance(value, dict):
        raise PlanError(name, f"must be a mapping, got {type(value).__name__}")
    return value


def _check_keys(d: dict, allowed: set[str], name: str) -> None:
    unknown = sorted(set(d) - allowed)
    if unknown:
        prefix = f"{name}." if name else ""
        raise PlanError(f"{prefix}{unknown[0]}", f"unknown field; allowed: {', '.join(sorted(allowed))}")


def _tiers(raw: Any) -> tuple[Tier, ...]:
    if not isinstance(raw, list) or not raw:
        raise PlanError("tiers", "must be a non-empty list of {from, to, rate}")
    tiers: list[Tier] = []
    for i, t in enumerate(raw):
        t = _mapping(t, f"tiers[{i}]")
        _check_keys(t, {"from", "to", "rate"}, f"tiers[{i}]")
        for key in ("from", "rate"):
            if key not in t:
                raise PlanError(f"tiers[{i}].{key}", "is required")
        lower = _num(t["from"], f"tiers[{i}].from")
        upper = _num(t.get("to"), f"tiers[{i}].to", allow_none=True)
        rate = t["rate"]
        if isinstance(rate, int | float) and not isinstance(rate, bool) and rate < 0:
            raise PlanError(f"tiers[{i}].rate", f"is {rate!r}: a negative marginal rate would make payout fall "
                                                "as attainment rises")
        rate = _num(rate, f"tiers[{i}].rate")
        if upper is not None and upper <= lower:
            raise PlanError(f"tiers[{i}].to", f"must be above from ({lower:g}), got {upper:g}")
        if i == 0 and lower != 0:
            raise PlanError("tiers[0].from", f"the first tier must start at 0, got {lower:g}")
        if i > 0:
            prev = tiers[-1]
            if prev.upper is None:
                raise PlanError(f"tiers[{i}].from", f"overlaps tiers[{i - 1}], which has no upper end")
            if lower < prev.upper:
                raise PlanError(f"tiers[{i}].from", f"{lower:g} overlaps tiers[{i - 1}] ending at {prev.upper:g}")
            if lower > prev.upper:
                raise PlanError(f"tiers[{i}].from", f"{lower:g} leaves a gap after tiers[{i - 1}] ending at "
                                                     f"{prev.upper:g}")
        tiers.append(Tier(lower, upper, rate))
    return tuple(tiers)


def parse_plan(raw: dict, source: str = "") -> CompPlan:
    """Validate a plan given as a dict (parsed YAML) and return a :class:`CompPlan`.

    Raises
    ------
    PlanError
        Naming the field at fault: unknown fields or measures, overlapping or gapped tiers, a negative rate
        (payout would fall as attainment rises), a cap below zero, weights that do not sum to 1, ...
    """
    raw = _mapping(raw, "plan")
    _check_keys(raw, _TOP_KEYS, "")
    for key in ("name", "role", "kind", "measures", "tiers"):
        if key not in raw:
            raise PlanError(key, "is required")
    kind = raw["kind"]
    if kind not in PLAN_KINDS:
        raise PlanError("kind", f"must be one of {', '.join(PLAN_KINDS)}, got {kind!r}")
    role = raw["role"]
    if role not in ("AE", "SDR", "AM", "manager"):
        raise PlanError("role", f"must be AE, SDR, AM or manager, got {role!r}")
    period = raw.get("period", "quarter")
    if period not in PERIODS:
        raise PlanError("period", f"must be one of {', '.join(PERIODS)}, got {period!r}")
    if not isinstance(raw["measures"], list) or not raw["measures"]:
        raise PlanError("measures", "must be a non-empty list")
    measures = []
    for i, m in enumerate(raw["measures"]):
        m = _mapping(m, f"measures[{i}]")
        _check_keys(m, {"name", "weight", "quota_share"}, f"measures[{i}]")
        name = m.get("name")
        if name not in MEASURES:
            raise PlanError(f"measures[{i}].name", f"unknown measure {name!r}; known: {', '.join(MEASURES)}")
        if (kind == "per_unit") != (name in UNIT_MEASURES):
            raise PlanError(f"measures[{i}].name", f"measure {name!r} does not fit a {kind} plan")
        weight = _num(m.get("weight", 1.0), f"measures[{i}].weight")
        share = _num(m.get("quota_share"), f"measures[{i}].quota_share", allow_none=True)
        measures.append(Measure(name, weight, share))
    if len({m.name for m in measures}) != len(measures):
        raise PlanError("measures", "a measure is listed twice")
    if abs(sum(m.weight for m in measures) - 1.0) > 1e-9:
        raise PlanError("measures", f"weights must sum to 1, got {sum(m.weight for m in measures):g}")
    tiers = _tiers(raw["tiers"])
    cap = _num(raw.get("cap"), "cap", allow_none=True)
    if cap is not None and cap <= 0:
        raise PlanError("cap", f"must be above 0, got {cap:g}")
    ote = base_share = unit_rate = unit_quota = None
    if kind == "quota":
        pay = _mapping(raw.get("pay"), "pay") if "pay" in raw else None
        if pay is None:
            raise PlanError("pay", "a quota plan needs pay: {ote, base_share}")
        _check_keys(pay, {"ote", "base_share"}, "pay")
        for key in ("ote", "base_share"):
            if key not in pay:
                raise PlanError(f"pay.{key}", "is required")
        ote = _num(pay["ote"], "pay.ote")
        base_share = _num(pay["base_share"], "pay.base_share")
        if not base_share < 1:
            raise PlanError("pay.base_share", f"must be below 1 (some pay must be variable), got {base_share:g}")
    else:
        if "unit_rate" not in raw:
            raise PlanError("unit_rate", "a per_unit plan needs unit_rate (pay per unit)")
        unit_rate = _num(raw["unit_rate"], "unit_rate")
        unit_quota = _num(raw.get("unit_quota", 1.0), "unit_quota")
        if unit_quota <= 0:
            raise PlanError("unit_quota", "must be above 0")
        if "pay" in raw:
            pay = _mapping(raw["pay"], "pay")
            _check_keys(pay, {"ote", "base_share"}, "pay")
            ote = _num(pay.get("ote"), "pay.ote", allow_none=True)
            base_share = _num(pay.get("base_share"), "pay.base_share", allow_none=True)
    quota = _num(raw.get("quota"), "quota", allow_none=True)
    ramp_raw = raw.get("ramp", [])
    if not isinstance(ramp_raw, list):
        raise PlanError("ramp", "must be a list of quota multipliers per month of tenure")
    ramp = tuple(_num(v, f"ramp[{i}]") for i, v in enumerate(ramp_raw))
    for i, v in enumerate(ramp):
        if v > 1:
            raise PlanError(f"ramp[{i}]", f"must be <= 1 (a ramp lowers the quota), got {v:g}")
    prorate = raw.get("prorate", True)
    if not isinstance(prorate, bool):
        raise PlanError("prorate", f"must be true or false, got {prorate!r}")
    draw = None
    if raw.get("draw") is not None:
        d = _mapping(raw["draw"], "draw")
        _check_keys(d, {"amount", "recoverable", "periods"}, "draw")
        if "amount" not in d or "recoverable" not in d:
            raise PlanError("draw", "needs amount and recoverable")
        if not isinstance(d["recoverable"], bool):
            raise PlanError("draw.recoverable", "must be true or false")
        periods = d.get("periods")
        if periods is not None and (not isinstance(periods, int) or periods < 1):
            raise PlanError("draw.periods", f"must be a whole number >= 1, got {periods!r}")
        draw = Draw(_num(d["amount"], "draw.amount"), d["recoverable"], periods)
    spif = None
    if raw.get("spif") is not None:
        s = _mapping(raw["spif"], "spif")
        _check_keys(s, {"amount", "product", "type", "start", "end"}, "spif")
        if "amount" not in s:
            raise PlanError("spif.amount", "is required")
        spif = Spif(_num(s["amount"], "spif.amount"), s.get("product"), s.get("type"),
                    None if s.get("start") is None else str(s["start"]),
                    None if s.get("end") is None else str(s["end"]))
    clawback = None
    if raw.get("clawback") is not None:
        c = _mapping(raw["clawback"], "clawback")
        _check_keys(c, {"days"}, "clawback")
        days = c.get("days")
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise PlanError("clawback.days", f"must be a whole number of days >= 1, got {days!r}")
        clawback = Clawback(days)
    return CompPlan(
        name=str(raw["name"]), role=role, kind=kind, period=period, measures=tuple(measures), tiers=tiers,
        cap=cap, ote=ote, base_share=base_share, unit_rate=unit_rate, unit_quota=unit_quota, quota=quota,
        ramp=ramp, prorate=prorate, draw=draw, spif=spif, clawback=clawback,
        description=str(raw.get("description", "")), source=source,
    )


def to_dict(plan: CompPlan) -> dict:
    """The plan back as a YAML-ready dict (inverse of :func:`parse_plan`)."""
    out: dict[str, Any] = {
        "name": plan.name, "role": plan.role, "kind": plan.kind, "period": plan.period,
        "measures": [{"name": m.name, "weight": m.weight, **({"quota_share": m.quota_share}
                                                             if m.quota_share is not None else {})}
                     for m in plan.measures],
        "tiers": [{"from": t.lower, "to": t.upper, "rate": t.rate} for t in plan.tiers],
        "prorate": plan.prorate,
    }
    if plan.description:
        out["description"] = plan.description
    if plan.cap is not None:
        out["cap"] = plan.cap
    if plan.ote is not None or plan.base_share is not None:
        out["pay"] = {"ote": plan.ote, "base_share": plan.base_share}
    if plan.kind == "per_unit":
        out["unit_rate"] = plan.unit_rate
        out["unit_quota"] = plan.unit_quota
    if plan.quota is not None:
        out["quota"] = plan.quota
    if plan.ramp:
        out["ramp"] = list(plan.ramp)
    if plan.draw is not None:
        out["draw"] = {"amount": plan.draw.amount, "recoverable": plan.draw.recoverable,
                       **({"periods": plan.draw.periods} if plan.draw.periods else {})}
    if plan.spif is not None:
        out["spif"] = {k: v for k, v in vars(plan.spif).items() if v is not None}
    if plan.clawback is not None:
        out["clawback"] = {"days": plan.clawback.days}
    return out


def plans_dir() -> Path:
    """``templates/comp_plans/``."""
    return templates_dir() / "comp_plans"


def list_templates() -> list[str]:
    """Names of the template plans (file stems in ``templates/comp_plans/``)."""
    return sorted(p.stem for p in plans_dir().glob("*.yaml"))


def load_plan(plan: str | Path | dict) -> CompPlan:
    """Load and validate a plan: a template name (``"ae_standard"``), a YAML file or a parsed dict.

    Raises
    ------
    PlanError
        When the plan does not validate (the message names the field).
    FileNotFoundError
        When the name is neither a template nor a file.
    """
    if isinstance(plan, dict):
        return parse_plan(plan)
    path = Path(plan)
    if not path.suffix and not path.exists():
        path = plans_dir() / f"{plan}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"comp plan {plan!r} is neither a file nor a template ({', '.join(list_templates())})")
    try:
        raw = load_yaml(path, f"comp plan {path}")
    except YamlLimitError as exc:
        raise PlanError(path.name, str(exc)) from None
    try:
        return parse_plan(raw, source=str(path))
    except PlanError as exc:
        raise PlanError(exc.field, f"{str(exc).split(': ', 1)[1]} (in {path.name})") from None
