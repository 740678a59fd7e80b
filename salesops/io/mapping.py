"""Mapping files: how an export's files and fields map onto the canonical model.

A mapping is YAML of this form (presets live in ``templates/mappings/``)::

    name: salesforce
    timezone: UTC                    # of naive timestamps (optional)
    decimal: "."                     # or "," for decimal-comma exports (optional)
    date_format: monthfirst          # or dayfirst / iso / yyyymmdd / epoch_ms / epoch_s / a strftime pattern
    era: common                      # or buddhist: years written in the Buddhist era, 31/03/2568 (optional)
    ignore: [products]               # optional: files or tables of the export that hold no canonical table;
                                     # they are listed in SalesData.quality.ignored, never read
    stages:                          # optional: the stage table, as in templates/stages.yaml
      - {stage: Won, order: 3, probability: 1.0, is_closed: true, is_won: true}
    tables:
      opportunities:                 # a canonical table ...
        from: [Opportunity]          # ... read from these files (stem, any case) or database tables
        columns:                     # canonical column: source column
          opportunity_id: Id
          amount: Amount
          account_id: [AccountId, Account ID]   # or a list of alternatives: the first the file has is used
        values:                      # optional: recode values of a canonical column (quote keys
          type: {New Business: new_business}   # such as "Yes"/"No" that YAML reads as booleans)
        constants:                   # optional: a value for every row
          currency: USD
        derive:                      # optional: an expression over the *source* columns (salesops.io.expressions) ...
          amount: "Quantity * UnitPrice"
          name: "{FirstName} {LastName}"   # ... or a text template: {column} is replaced by its value
        formats:                     # optional per-column hints
          close_date: {date_format: dayfirst, era: buddhist}   # dayfirst / monthfirst / iso: optional
                                       # time part; era: buddhist reads Thai years (2568 = 2025)
        on_invalid:                  # optional, optional columns only: a value that cannot be read, is
          type: "null"               # outside the allowed set or below the minimum is nulled (the row is
                                     # kept; the cells are reported in SalesData.quality.ignored)
      leads:
        from: mql_leads
        join: {source: closed_deals, on: mql_id}   # left join on a key (or on: {left: id, right: lead_id});
                                     # the right key must be unique: rows sharing one are not joined, and
                                     # reported; a right column whose name the left has gets "_<source>"
        columns: {lead_id: mql_id, created_at: first_contact_date, owner_rep_id: sdr_id}
      accounts:
        from: order_lines
        distinct: true               # one row per account_id from a file that repeats it; rows that
                                     # disagree on a column null it for that key, reported
        columns: {account_id: customer_id, name: customer_name}
      opportunity_history:
        from: OpportunityFieldHistory
        where: {Field: StageName}    # optional: only rows whose source column holds this value (or list)
        columns: {opportunity_id: OpportunityId, changed_at: CreatedDate, stage: NewValue}
      activities:                    # a table may be assembled from several sources
        - {from: Task, columns: {...}, constants: {type: call}}
        - {from: Event, columns: {...}, constants: {type: meeting}}

Source columns that the mapping does not name are kept only when their name already is a canonical column.
Unknown tables, columns or keys are errors that name the mapping file and the offending key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from salesops.io.coerce import ColumnFormat
from salesops.io.era import check_era
from salesops.io.errors import LoadError
from salesops.paths import templates_dir
from salesops.safe_yaml import YamlLimitError, load_yaml
from salesops.schema.tables import TABLES


def find_column(name: str, available: list[str]) -> str | None:
    """The column of ``available`` called ``name``: matched exactly, else ignoring case; ``None`` if absent."""
    if name in available:
        return name
    folded = {str(c).casefold(): c for c in available}
    return folded.get(name.casefold())


@dataclass(frozen=True)
class Join:
    """A left join of a source onto another one: ``source`` (file stem or table) on ``left`` = ``right``."""

    source: str
    left: str
    right: str
    how: str = "left"


@dataclass(frozen=True)
class SourceMapping:
    """How one source (a file or database table) becomes (part of) a canonical table.

    Attributes
    ----------
    table : str
        The canonical table.
    sources : tuple of str
        File stems or database table names read into it (matched case-insensitively).
    columns : dict of str to tuple of str
        Canonical column -> source column names, in order of preference (the first one present is used).
    values, constants, derive, formats : dict
        Recodings, constant values, derived columns and parsing hints per canonical column.
    distinct : bool
        ``distinct: true``: the table is derived as one row per key from a source that repeats it (accounts
        from order lines): rows without a key are skipped and counted; a column whose rows disagree for one
        key is nulled for that key and reported, never silently picked (see ``salesops.io.distinct``).
    null_invalid : frozenset of str
        Optional canonical columns declared ``on_invalid: null``: an unreadable or disallowed value is nulled
        and reported instead of rejecting the row.
    where : dict of str to tuple of str
        Source column -> accepted values: only the rows that match feed this table (a long-format
        field-history export holds one row per changed field; the stage table wants the stage changes).
        The other rows are counted and listed in ``SalesData.quality.ignored``.
    """

    table: str
    sources: tuple[str, ...]
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    derive: dict[str, str] = field(default_factory=dict)
    formats: dict[str, ColumnFormat] = field(default_factory=dict)
    where: dict[str, tuple[str, ...]] = field(default_factory=dict)
    null_invalid: frozenset[str] = frozenset()
    join: Join | None = None
    distinct: bool = False
    origin: str | None = None  # the mapping file, for messages

    def matches(self, stem: str) -> bool:
        """True when a file or table named ``stem`` feeds this table."""
        return stem.lower() in {s.lower() for s in self.sources}

    def source_column(self, name: str, available: list[str]) -> str | None:
        """The source column that feeds canonical column ``name``: the first alternative in ``available``.

        Names match exactly, else ignoring case (Salesforce's Data Loader writes ``ACCOUNTID`` for
        ``AccountId``).
        """
        for candidate in self.columns.get(name, ()):
            found = find_column(candidate, available)
            if found is not None:
                return found
        return None

    @property
    def mapped_columns(self) -> set[str]:
        """Every source column named in ``columns`` (they are not taken again by their own name)."""
        return {c for alternatives in self.columns.values() for c in alternatives}


@dataclass(frozen=True)
class Mapping:
    """A whole mapping file. ``Mapping.identity()`` reads files named after the canonical tables as they are."""

    name: str
    sources: tuple[SourceMapping, ...]
    stages: list[dict[str, Any]] | None = None
    path: Path | None = None
    ignore: tuple[str, ...] = ()

    @classmethod
    def identity(cls) -> Mapping:
        """The canonical model as it is: files named after the tables, columns named after the columns."""
        return cls("canonical", tuple(SourceMapping(t, (t,)) for t in TABLES))

    def ignores(self, stem: str) -> bool:
        """True when the mapping declares the file or table ``stem`` as holding no canonical table."""
        return stem.lower() in {s.lower() for s in self.ignore}

    @property
    def joined_stems(self) -> set[str]:
        """Sources read only as the right side of a ``join:`` (lower case)."""
        return {m.join.source.lower() for m in self.sources if m.join is not None}

    def for_stem(self, stem: str) -> list[SourceMapping]:
        """Every source mapping that reads a file or table with this stem (canonical names always match)."""
        found = [m for m in self.sources if m.matches(stem)]
        if not found and stem.lower() in TABLES and not any(m.table == stem.lower() for m in self.sources):
            found = [SourceMapping(stem.lower(), (stem,))]
        return found

    @property
    def expected_stems(self) -> list[str]:
        """File stems this mapping reads (and the canonical table names), for error messages."""
        names = {s for m in self.sources for s in m.sources} | set(TABLES)
        return sorted(names, key=str.lower)


PRESETS = ("salesforce", "hubspot", "maven_crm")


def resolve_mapping(mapping: str | Path | dict | Mapping | None) -> Mapping:
    """Turn the ``mapping=`` argument of :func:`salesops.load` into a :class:`Mapping`.

    ``None`` is the canonical model as is; a preset name (``"salesforce"``, ``"hubspot"``) reads
    ``templates/mappings/<name>.yaml``; a path reads that file; a dict is taken as already-parsed YAML.
    """
    if mapping is None:
        return Mapping.identity()
    if isinstance(mapping, Mapping):
        return mapping
    if isinstance(mapping, dict):
        return parse_mapping(mapping, origin="<dict>")
    path = Path(mapping)
    if not path.exists() and str(mapping) in PRESETS:
        path = templates_dir() / "mappings" / f"{mapping}.yaml"
    if not path.exists():
        raise LoadError(
            f"mapping file {str(mapping)!r} not found; give a path to a YAML mapping or one of the presets: "
            f"{', '.join(PRESETS)}"
        )
    try:
        doc = load_yaml(path, f"mapping file {path}")
    except YamlLimitError as exc:
        raise LoadError(str(exc)) from None
    except yaml.YAMLError as exc:
        raise LoadError(f"mapping file {path}: not valid YAML: {exc}") from exc
    return parse_mapping(doc, origin=str(path), path=path)


TOP_LEVEL_KEYS = ("name", "timezone", "decimal", "date_format", "era", "stages", "ignore", "tables")


def parse_mapping(doc: Any, origin: str, path: Path | None = None) -> Mapping:
    """Validate a parsed mapping document; every error names the file and the offending key.

    Parameters
    ----------
    doc : Any
        The parsed YAML.
    origin : str
        Where it came from, for messages.
    path : Path, optional
        The mapping file.

    Returns
    -------
    Mapping

    Raises
    ------
    LoadError
        An unknown table, column or key, or a block of the wrong shape.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("tables"), dict):
        raise LoadError(f"mapping file {origin}: expected a mapping with a 'tables:' section")
    extra = sorted(set(doc) - set(TOP_LEVEL_KEYS))
    if extra:
        raise LoadError(f"mapping file {origin}: unknown key(s) {extra}; expected: {', '.join(TOP_LEVEL_KEYS)}")
    defaults = ColumnFormat(
        date_format=doc.get("date_format"),
        decimal=doc.get("decimal"),
        timezone=doc.get("timezone", "UTC"),
        era=_era(doc.get("era"), f"mapping file {origin}"),
    )
    sources: list[SourceMapping] = []
    for table, spec in doc["tables"].items():
        if table not in TABLES:
            raise LoadError(
                f"mapping file {origin}: unknown table {table!r}; expected one of: {', '.join(sorted(TABLES))}"
            )
        for item in spec if isinstance(spec, list) else [spec]:
            if item is not None and not isinstance(item, dict):
                raise LoadError(f"mapping file {origin}, table {table!r}: expected a mapping with 'from:' and 'columns:'")
            sources.append(_parse_source(table, item or {}, origin, defaults))
    stages = doc.get("stages")
    if stages is not None and not isinstance(stages, list):
        raise LoadError(f"mapping file {origin}: 'stages' must be a list of {{stage, order, probability, ...}}")
    ignore = doc.get("ignore") or []
    if isinstance(ignore, str):
        ignore = [ignore]
    if not isinstance(ignore, list) or not all(isinstance(i, str) for i in ignore):
        raise LoadError(f"mapping file {origin}: 'ignore' must be a list of file or table names")
    return Mapping(str(doc.get("name", Path(origin).stem)), tuple(sources), stages, path, tuple(ignore))


def _parse_source(table: str, item: dict, origin: str, defaults: ColumnFormat) -> SourceMapping:
    known = set(TABLES[table].column_names)
    where = f"mapping file {origin}, table {table!r}"
    allowed_keys = {"from", "columns", "values", "constants", "derive", "formats", "where", "on_invalid", "join",
                    "distinct"}
    extra = set(item) - allowed_keys
    if extra:
        raise LoadError(f"{where}: unknown key(s) {sorted(extra)}; expected: {sorted(allowed_keys)}")
    src = item.get("from", table)
    if not isinstance(src, str) and not (isinstance(src, list) and src and all(isinstance(x, str) for x in src)):
        raise LoadError(f"{where}: 'from' must name a file or table, or list several")
    stems = tuple([src] if isinstance(src, str) else src)
    for column, recode in (item.get("values") or {}).items():
        if not isinstance(recode, dict):
            raise LoadError(f"{where}: values of {column!r} must map source values to canonical ones")
    for key in ("columns", "values", "constants", "derive", "formats", "on_invalid"):
        block = item.get(key) or {}
        if not isinstance(block, dict):
            raise LoadError(f"{where}: '{key}' must be a mapping of canonical column names")
        unknown = sorted(set(block) - known)
        if unknown:
            raise LoadError(
                f"{where}: '{key}' names unknown column(s) {unknown}; columns of {table}: {', '.join(sorted(known))}"
            )
    formats: dict[str, ColumnFormat] = {}
    for column in known:
        hint = (item.get("formats") or {}).get(column) or {}
        if not isinstance(hint, dict):
            raise LoadError(f"{where}: formats of {column!r} must be a mapping such as {{date_format: dayfirst}}")
        formats[column] = ColumnFormat(
            date_format=hint.get("date_format", defaults.date_format),
            decimal=hint.get("decimal", defaults.decimal),
            timezone=hint.get("timezone", defaults.timezone),
            era=_era(hint.get("era", defaults.era), f"{where}, formats of {column!r}"),
        )
    null_invalid = set()
    for column, action in (item.get("on_invalid") or {}).items():
        if action is not None and str(action).lower() not in ("null", "reject"):
            raise LoadError(f"{where}: on_invalid of {column!r} must be null or reject, got {action!r}")
        if action is None or str(action).lower() == "null":  # YAML reads a bare null as None
            if TABLES[table].column(column).required:
                raise LoadError(f"{where}: on_invalid: null is for optional columns; {column!r} is required, so a "
                                "row without it is rejected")
            null_invalid.add(column)
    return SourceMapping(
        table=table,
        sources=stems,
        columns={k: _alternatives(v, where, k) for k, v in (item.get("columns") or {}).items()},
        values={k: dict(v) for k, v in (item.get("values") or {}).items()},
        constants=dict(item.get("constants") or {}),
        derive={k: str(v) for k, v in (item.get("derive") or {}).items()},
        formats=formats,
        where=_where(item.get("where"), where),
        null_invalid=frozenset(null_invalid),
        join=_join(item.get("join"), where),
        distinct=_distinct(item.get("distinct", False), table, where),
        origin=origin,
    )


def _distinct(value: Any, table: str, where: str) -> bool:
    """``distinct: true``: the table is the distinct rows of its source (accounts from order lines)."""
    if not isinstance(value, bool):
        raise LoadError(f"{where}: 'distinct' must be true or false, got {value!r}")
    if value and not TABLES[table].primary_key:
        raise LoadError(f"{where}: 'distinct: true' needs a table with a key; {table!r} has none")
    return value


def _era(value: Any, where: str) -> str:
    try:
        return check_era(value, where)
    except ValueError as exc:
        raise LoadError(str(exc)) from None


def _join(block: Any, where: str) -> Join | None:
    """``join: {source: deals, on: key}`` or ``on: {left: a, right: b}``, ``how: left`` (the only one)."""
    if block is None:
        return None
    if not isinstance(block, dict) or not block.get("source") or not block.get("on"):
        raise LoadError(f"{where}: 'join' must be a mapping such as {{source: closed_deals, on: mql_id}}")
    extra = sorted(set(block) - {"source", "on", "how"})
    if extra:
        raise LoadError(f"{where}: unknown key(s) {extra} in 'join'; expected: source, on, how")
    how = str(block.get("how", "left")).lower()
    if how != "left":
        raise LoadError(f"{where}: join how={how!r} is not supported; a left join keeps every row of the source")
    on = block["on"]
    if isinstance(on, dict):
        if not on.get("left") or not on.get("right"):
            raise LoadError(f"{where}: join 'on' must name a column, or give {{left: column, right: column}}")
        return Join(str(block["source"]), str(on["left"]), str(on["right"]), how)
    return Join(str(block["source"]), str(on), str(on), how)


def _where(block: Any, where: str) -> dict[str, tuple[str, ...]]:
    """``where: {Field: StageName}`` or ``{Field: [StageName, Amount]}`` as source column -> values."""
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise LoadError(f"{where}: 'where' must map source columns to the value(s) to keep")
    return {str(k): tuple(str(x) for x in (v if isinstance(v, list | tuple) else [v])) for k, v in block.items()}


def _alternatives(value: Any, where: str, column: str) -> tuple[str, ...]:
    """A source column name, or a list of alternative names, as a tuple of names."""
    if isinstance(value, list | tuple):
        if not value:
            raise LoadError(f"{where}: column {column!r} maps to an empty list of source columns")
        return tuple(str(v) for v in value)
    if value is None:
        raise LoadError(f"{where}: column {column!r} maps to no source column")
    return (str(value),)
