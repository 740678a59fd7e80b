"""The canonical data model: one :class:`TableSpec` per table, one :class:`ColumnSpec` per column.

Everything that needs to know what a table looks like (the loaders, the pandera schemas, the sample
generator, the data-quality notebook) reads it from here, so the model is written down exactly once.

Column kinds
------------
``id``         identifier, always a string (leading zeros survive)
``str``        free text or category
``date``       calendar date (``datetime64[ns]`` at midnight, no time zone)
``timestamp``  instant, timezone-aware UTC (``datetime64[ns, UTC]``)
``float``      number (money is a float in the table's currency)
``int``        whole number (nullable ``Int64``)
``bool``       true/false (nullable ``boolean``)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["id", "str", "date", "timestamp", "float", "int", "bool"]


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a canonical table.

    Parameters
    ----------
    name : str
        Snake-case column name.
    kind : Kind
        Logical type, see the module docstring.
    required : bool
        The column must be present and every value non-null.
    min_value : float, optional
        Smallest allowed value (``0`` for amounts that cannot be negative).
    allowed : tuple of str, optional
        Closed set of allowed values (case-sensitive, after mapping).
    not_after_as_of : bool
        A date or timestamp that records something that already happened, so it may not lie after the
        data's as-of moment (a close date of an open deal is a forecast and is exempt).
    default : str, optional
        The value of a missing cell, or of every row when the column is absent (``quotas.measure`` is
        ``bookings`` unless stated): filled in by the loader before the checks.
    """

    name: str
    kind: Kind
    required: bool = False
    min_value: float | None = None
    allowed: tuple[str, ...] | None = None
    not_after_as_of: bool = False
    default: str | None = None


@dataclass(frozen=True)
class ForeignKey:
    """``column`` of this table must match ``ref_column`` of an accepted row of ``ref_table``."""

    column: str
    ref_table: str
    ref_column: str


@dataclass(frozen=True)
class TableSpec:
    """A canonical table: its columns, primary key, foreign keys and row-level rules."""

    name: str
    columns: tuple[ColumnSpec, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    description: str = ""
    order_by: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}; columns: {', '.join(self.column_names)}")


def _c(name: str, kind: Kind, required: bool = False, **kw) -> ColumnSpec:
    return ColumnSpec(name, kind, required, **kw)


ROLES = ("AE", "SDR", "AM", "manager")
OPPORTUNITY_TYPES = ("new_business", "expansion", "renewal")
FORECAST_CATEGORIES = ("pipeline", "best_case", "commit", "closed", "omitted")
EVENT_KINDS = ("process_change", "product_launch", "campaign", "training")

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in [
        TableSpec(
            "reps",
            (
                _c("rep_id", "id", True),
                _c("name", "str", True),
                _c("role", "str", True, allowed=ROLES),
                _c("team", "str"),
                _c("segment", "str"),
                _c("region", "str"),
                _c("manager_id", "id"),
                # hire_date is optional (a design change from DESIGN.md): CRM user exports (Salesforce User,
                # HubSpot owners, the Maven CRM agents) rarely carry it; the ramp and activity analyses that
                # need it say so when it is missing.
                _c("hire_date", "date"),
                _c("end_date", "date"),
                _c("base_salary", "float", min_value=0),
                _c("ote", "float", min_value=0),
            ),
            primary_key=("rep_id",),
            description="Sellers and their managers, one row per person.",
        ),
        TableSpec(
            "quotas",
            (
                _c("rep_id", "id", True),
                _c("period_start", "date", True),
                _c("period_end", "date", True),
                _c("amount", "float", True, min_value=0),
                _c("measure", "str", default="bookings"),
            ),
            primary_key=("rep_id", "period_start", "measure"),
            foreign_keys=(ForeignKey("rep_id", "reps", "rep_id"),),
            description="Quota per rep and period (measure defaults to bookings).",
        ),
        TableSpec(
            "accounts",
            (
                _c("account_id", "id", True),
                _c("name", "str", True),
                _c("industry", "str"),
                _c("employees", "float", min_value=0),
                _c("annual_revenue", "float", min_value=0),
                _c("country", "str"),
                _c("region", "str"),
                _c("segment", "str"),
                _c("owner_rep_id", "id"),
                _c("created_date", "date", not_after_as_of=True),
                _c("potential", "float", min_value=0),
            ),
            primary_key=("account_id",),
            foreign_keys=(ForeignKey("owner_rep_id", "reps", "rep_id"),),
            description="Companies sold to.",
        ),
        TableSpec(
            "leads",
            (
                _c("lead_id", "id", True),
                _c("created_at", "timestamp", True, not_after_as_of=True),
                _c("source", "str", True),
                _c("campaign_id", "id"),
                _c("account_id", "id"),
                _c("industry", "str"),
                _c("employees", "float", min_value=0),
                _c("country", "str"),
                _c("persona", "str"),
                _c("owner_rep_id", "id"),
                _c("first_touch_at", "timestamp", not_after_as_of=True),
                _c("mql_at", "timestamp", not_after_as_of=True),
                _c("sql_at", "timestamp", not_after_as_of=True),
                _c("disqualified_at", "timestamp", not_after_as_of=True),
                _c("disqualification_reason", "str"),
                _c("opportunity_id", "id"),
            ),
            primary_key=("lead_id",),
            foreign_keys=(
                ForeignKey("owner_rep_id", "reps", "rep_id"),
                ForeignKey("account_id", "accounts", "account_id"),
            ),
            description="Inbound and outbound leads and their qualification milestones.",
        ),
        TableSpec(
            "opportunities",
            (
                _c("opportunity_id", "id", True),
                _c("account_id", "id", True),
                _c("owner_rep_id", "id", True),
                _c("created_date", "date", True, not_after_as_of=True),
                _c("close_date", "date", True),
                _c("stage", "str", True),
                _c("is_closed", "bool", True),
                _c("is_won", "bool", True),
                _c("amount", "float", True, min_value=0),
                _c("currency", "str"),
                _c("type", "str", allowed=OPPORTUNITY_TYPES),
                _c("source", "str"),
                _c("lead_id", "id"),
                _c("forecast_category", "str", allowed=FORECAST_CATEGORIES),
                _c("loss_reason", "str"),
                _c("product", "str"),
            ),
            primary_key=("opportunity_id",),
            foreign_keys=(
                ForeignKey("account_id", "accounts", "account_id"),
                ForeignKey("owner_rep_id", "reps", "rep_id"),
            ),
            description="Deals; close_date is the expected close date while a deal is open.",
        ),
        TableSpec(
            "opportunity_history",
            (
                _c("opportunity_id", "id", True),
                _c("changed_at", "timestamp", True, not_after_as_of=True),
                _c("stage", "str", True),
                _c("amount", "float", min_value=0),
                _c("close_date", "date"),
                _c("forecast_category", "str", allowed=FORECAST_CATEGORIES),
            ),
            foreign_keys=(ForeignKey("opportunity_id", "opportunities", "opportunity_id"),),
            description="One row per change of an opportunity, as CRMs keep it.",
        ),
        TableSpec(
            "activities",
            (
                _c("activity_id", "id", True),
                _c("rep_id", "id", True),
                _c("occurred_at", "timestamp", True, not_after_as_of=True),
                _c("type", "str", True),
                _c("direction", "str"),
                _c("account_id", "id"),
                _c("lead_id", "id"),
                _c("opportunity_id", "id"),
                _c("duration_s", "float", min_value=0),
                _c("outcome", "str"),
            ),
            primary_key=("activity_id",),
            foreign_keys=(ForeignKey("rep_id", "reps", "rep_id"),),
            description="Calls, emails, meetings and other logged touches.",
        ),
        TableSpec(
            "revenue",
            (
                _c("account_id", "id", True),
                _c("month", "date", True, not_after_as_of=True),
                _c("mrr", "float", True, min_value=0),
            ),
            primary_key=("account_id", "month"),
            foreign_keys=(ForeignKey("account_id", "accounts", "account_id"),),
            description="Recurring revenue booked per account and month.",
        ),
        TableSpec(
            "transactions",
            (
                _c("customer_id", "id", True),
                _c("date", "date", True, not_after_as_of=True),
                _c("amount", "float", True, min_value=0),
                _c("transaction_id", "id"),
                _c("quantity", "float"),
                _c("product", "str"),
                _c("country", "str"),
            ),
            description="Individual purchases, for transactional (non-subscription) businesses.",
        ),
        TableSpec(
            "marketing_spend",
            (
                _c("month", "date", True),
                _c("channel", "str", True),
                _c("campaign_id", "id"),
                _c("amount", "float", True, min_value=0),
            ),
            description="Marketing spend per month and channel: the marketing half of CAC.",
        ),
        TableSpec(
            "sales_costs",
            (
                _c("month", "date", True),
                _c("category", "str", True),
                _c("amount", "float", True, min_value=0),
            ),
            description="Sales costs per month and category (salaries, commissions, tools): the sales half of CAC.",
        ),
        TableSpec(
            "stages",
            (
                _c("stage", "str", True),
                _c("order", "int", True, min_value=0),
                _c("probability", "float", True, min_value=0),
                _c("is_closed", "bool", True),
                _c("is_won", "bool", True),
            ),
            primary_key=("stage",),
            description="The sales stages in order with their CRM win probability (default: templates/stages.yaml).",
        ),
        TableSpec(
            "trainings",
            (
                _c("rep_id", "id", True),
                _c("program", "str", True),
                _c("start_date", "date", True),
                _c("end_date", "date"),
            ),
            foreign_keys=(ForeignKey("rep_id", "reps", "rep_id"),),
            description="Training and mentoring programmes attended by reps.",
        ),
        TableSpec(
            "events",
            (
                _c("event_id", "id", True),
                _c("name", "str", True),
                _c("date", "date", True),
                _c("kind", "str", True, allowed=EVENT_KINDS),
                _c("scope", "str"),
            ),
            primary_key=("event_id",),
            description="Process changes, launches, campaigns and trainings to evaluate.",
        ),
        TableSpec(
            "fx_rates",
            (
                _c("date", "date", True),
                _c("currency", "str", True),
                _c("rate_to_reporting", "float", True, min_value=0),
            ),
            primary_key=("date", "currency"),
            description="Exchange rates into the reporting currency.",
        ),
    ]
}

#: Load order: parents before children, so foreign keys are checked against accepted parent rows.
LOAD_ORDER: tuple[str, ...] = (
    "stages",
    "reps",
    "accounts",
    "quotas",
    "opportunities",
    "opportunity_history",
    "leads",
    "activities",
    "revenue",
    "transactions",
    "marketing_spend",
    "sales_costs",
    "trainings",
    "events",
    "fx_rates",
)

assert set(LOAD_ORDER) == set(TABLES), "LOAD_ORDER must list every table"
