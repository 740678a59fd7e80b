"""Draft a mapping file from an export: ``salesops map suggest PATH``.

For each tabular file the canonical table is guessed, and for each source column the canonical column, from
two kinds of evidence:

* **names**: a source column's normalised name (lower case, letters and digits only: ``Deal Stage``,
  ``dealstage`` and ``deal_stage`` all read ``dealstage``) is compared with the canonical column's name and
  with every source name the presets in ``templates/mappings/`` map onto it (so ``StageName``,
  ``dealstage`` and ``deal_stage`` are synonyms of ``stage`` because the Salesforce, HubSpot and Maven
  presets say so; nothing is listed twice). The name score is

  .. math:: s_{name} = \\begin{cases} 1 & \\text{a synonym of this table's column} \\\\
            0.9 & \\text{a synonym of the same column in another table} \\\\
            0.85 & \\text{the canonical name's words all appear in the source name} \\\\
            \\max(0.9\\, r, 0.6) & \\text{its last word ends a synonym (``dollar_value``, ``close_value``)} \\\\
            0.9\\, r & \\text{otherwise, } r = \\max \\text{ difflib ratio to a synonym} \\end{cases}

* **values**: a sample of the column's values is read with the loader's own coercers
  (:func:`salesops.io.coerce.coerce`). A column whose values read as dates may only feed a date or timestamp
  column, a column of numbers a number, id or (for ``YYYYMMDD`` and epoch shapes) date column, text an id
  or text column; text is tried as a date only when 90% of it starts like one (``2024-03-31``,
  ``26-02-2018``, ``3/31/24``) and 90% then reads. The factor :math:`f \\in \\{0, 0.6, 0.9, 1\\}` says how well the values fit the kind.

The confidence of a pair is :math:`s_{name} \\cdot f`. Pairs of confidence at least :data:`MIN_CONFIDENCE`
are taken greedily, highest first, one canonical column per source column; a required column still
unmatched may reuse a source column already taken when its confidence is at least 0.9 (Maven's
``sales_agent`` is both ``rep_id`` and ``name``).

A file's table score is :math:`0.35\\, n + 0.45\\, c + 0.2\\, b`: :math:`n` the file name's match (1 when a
preset reads this file stem for the table or it is the table's name, 0.8 when one of its words is),
:math:`c` the mean confidence over the table's required columns (``is_closed`` / ``is_won`` count as
matched when ``stage`` is, since the loader fills them from the stage table), :math:`b` the mean confidence over the
file's columns. A file whose best table scores below :data:`MIN_TABLE_SCORE` is listed under ``ignore:``.

Date columns get their convention detected (``iso``, ``dayfirst``, ``monthfirst``, ``yyyymmdd``,
``epoch_ms`` / ``epoch_s``) by the loader's own format ranking (:func:`salesops.io.coerce._format_candidates`)
and written under ``formats:``; when day-first and month-first read the sample alike (no day above 12)
the comment says the day/month order is a guess.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from salesops.io.coerce import DATE_FORMATS, ColumnFormat, _format_candidates, coerce, null_mask
from salesops.io.errors import LoadError
from salesops.io.readers import RawFrame, iter_source
from salesops.schema.tables import TABLES

__all__ = ["ColumnGuess", "FileGuess", "MIN_CONFIDENCE", "MIN_TABLE_SCORE", "render", "suggest", "suggest_file"]

MIN_CONFIDENCE = 0.5
MIN_TABLE_SCORE = 0.35
SAMPLE_SIZE = 2000
#: Filled from the stage table when the export does not carry them (see ``salesops.io.load.DERIVABLE``).
_FROM_STAGES = {("opportunities", "is_closed"), ("opportunities", "is_won")}


def norm(name: str) -> str:
    """``Deal Stage`` / ``deal_stage`` / ``DealStage`` -> ``dealstage``."""
    return re.sub(r"[^0-9a-z]", "", str(name).casefold())


def word_list(name: str) -> list[str]:
    """The words of a name in order: ``StageName`` -> [stage, name]; ``close_date`` -> [close, date]."""
    return [w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", str(name))]


def words(name: str) -> set[str]:
    """The words of a name as a set."""
    return set(word_list(name))


def head(name: str) -> str | None:
    """The last word of a name other than ``id`` (``close_value`` -> value, ``CustomerID`` -> customer)."""
    found = [w for w in word_list(name) if w != "id"]
    return found[-1] if found else None


@dataclass(frozen=True)
class _Synonyms:
    columns: dict[tuple[str, str], frozenset[str]]  # (table, column) -> normalised source names
    by_column: dict[str, frozenset[str]]  # column -> normalised names over all tables
    stems: dict[str, frozenset[str]]  # table -> normalised file stems
    heads: dict[str, frozenset[str]]  # column -> last words of its names over all tables


@lru_cache(maxsize=1)
def synonyms() -> _Synonyms:
    """Source names the presets map onto each canonical column, and the file stems they read per table."""
    from salesops.io.mapping import PRESETS, resolve_mapping

    columns: dict[tuple[str, str], set[str]] = {
        (t, c): {norm(c)} for t, spec in TABLES.items() for c in spec.column_names}
    stems: dict[str, set[str]] = {t: {norm(t), norm(t.rstrip("s"))} for t in TABLES}
    for preset in PRESETS:
        for source in resolve_mapping(preset).sources:
            stems[source.table] |= {norm(s) for s in source.sources}
            for column, alternatives in source.columns.items():
                columns[(source.table, column)] |= {norm(a) for a in alternatives}
    heads: dict[str, set[str]] = {c: {head(c)} - {None} for spec in TABLES.values() for c in spec.column_names}
    for preset in PRESETS:
        for source in resolve_mapping(preset).sources:
            for column, alternatives in source.columns.items():
                heads[column] |= {head(a) for a in alternatives} - {None}
    by_column: dict[str, set[str]] = {}
    for (_, column), names in columns.items():
        by_column.setdefault(column, set()).update(names)
    return _Synonyms({k: frozenset(v) for k, v in columns.items()},
                     {k: frozenset(v) for k, v in by_column.items()},
                     {k: frozenset(v) for k, v in stems.items()},
                     {k: frozenset(v) for k, v in heads.items()})


def name_score(source: str, table: str, column: str) -> float:
    """:math:`s_{name}` of the module docstring: how well a source column's name fits ``table.column``."""
    syn = synonyms()
    n = norm(source)
    if not n:
        return 0.0
    own = syn.columns[(table, column)]
    if n in own:
        return 1.0
    if n in syn.by_column[column]:
        return 0.9
    canonical = words(column) - {"id"} or words(column)
    if canonical <= words(source):
        return 0.85
    ratio = 0.0
    for s in own:
        m = difflib.SequenceMatcher(None, n, s)
        if m.real_quick_ratio() > ratio and m.quick_ratio() > ratio:
            ratio = max(ratio, m.ratio())
    fuzzy = 0.9 * ratio
    return max(fuzzy, 0.6) if head(source) in syn.heads[column] else fuzzy


# ---------------------------------------------------------------------------------------------- values

_EPOCH_SHAPE = re.compile(r"^\d{10}(?:\.\d+)?$|^\d{13}$")
#: The start of a text date the loader reads (ISO, M/D/Y, D.M.Y ...): text without it is not tried as a date.
_DATE_SHAPE = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}(?:[-/.]\d{1,4})?")
_YYYYMMDD_SHAPE = re.compile(r"^(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$")


@dataclass(frozen=True)
class ValueProfile:
    """What a sample of a column's values reads as.

    ``kind`` is ``empty``, ``date``, ``number``, ``bool`` or ``text``; ``date_like`` marks numbers shaped
    as ``YYYYMMDD`` or Unix time that also read as dates; ``convention`` is the date convention detected
    (a ``date_format`` value), ``ambiguous`` True when day-first and month-first read the sample alike.
    """

    kind: str
    date_like: bool = False
    binary: bool = False
    convention: str | None = None
    ambiguous: bool = False
    examples: tuple[str, ...] = ()


def _share_read(sample: pd.Series, kind: str, fmt: ColumnFormat | None = None) -> float:
    _, failed = coerce(sample, kind, fmt)
    return 1.0 - float(failed.sum()) / len(sample)


def profile(values: pd.Series) -> ValueProfile:
    """Classify a raw column from a sample of its distinct non-empty values (see :class:`ValueProfile`)."""
    present = values[~null_mask(values)]
    if present.empty:
        return ValueProfile("empty")
    sample = present.drop_duplicates()
    if len(sample) > SAMPLE_SIZE:
        sample = sample.sample(SAMPLE_SIZE, random_state=0)
    sample = sample.reset_index(drop=True)
    examples = tuple(str(v) for v in sample.head(3))
    if pd.api.types.is_datetime64_any_dtype(sample.dtype):
        return ValueProfile("date", examples=examples)  # typed (Parquet, Excel, database): no format needed
    if pd.api.types.is_bool_dtype(sample.dtype):
        return ValueProfile("bool", examples=examples)
    if _share_read(sample, "float") >= 0.95:
        text = sample.astype(str).str.strip()
        shaped = text.str.match(_YYYYMMDD_SHAPE).all() or text.str.match(_EPOCH_SHAPE).all()
        date_like = bool(shaped) and _share_read(sample, "timestamp") >= 0.95
        binary = set(text.str.lower()) <= {"0", "1", "0.0", "1.0"}
        return ValueProfile("number", date_like, binary, _convention(sample) if date_like else None,
                            examples=examples)
    if _share_read(sample, "bool") >= 0.95:
        return ValueProfile("bool", examples=examples)
    looks_dated = sample.astype(str).str.match(_DATE_SHAPE).mean() >= 0.9
    if looks_dated and _share_read(sample, "timestamp") >= 0.9:
        convention, ambiguous = _convention(sample), False
        if convention in ("dayfirst", "monthfirst"):
            ambiguous = _share_read(sample, "timestamp", ColumnFormat(date_format="dayfirst")) == \
                _share_read(sample, "timestamp", ColumnFormat(date_format="monthfirst"))
        return ValueProfile("date", convention=convention, ambiguous=ambiguous, examples=examples)
    return ValueProfile("text", examples=examples)


_FAMILY_NAMES = {"iso": "iso", "yyyymmdd": "yyyymmdd", "mdy": "monthfirst", "dmy": "dayfirst"}


def _convention(sample: pd.Series) -> str:
    """The ``date_format`` for these values: by shape for numbers, else the loader's ranking's first."""
    text = sample.astype(str).str.strip()
    if text.str.match(_YYYYMMDD_SHAPE).all():
        return "yyyymmdd"  # ISO 8601's basic form reads them too; the explicit name says what they are
    if text.str.match(_EPOCH_SHAPE).all():
        return "epoch_ms" if text.str.len().max() >= 13 else "epoch_s"
    first = _format_candidates(text, ColumnFormat())[0]
    for family, formats in DATE_FORMATS.items():
        if formats == first and family in _FAMILY_NAMES:
            return _FAMILY_NAMES[family]
    return "epoch_ms" if text.str.len().max() >= 13 else "epoch_s"


def value_factor(p: ValueProfile, kind: str) -> float:
    """:math:`f` of the module docstring: how well values of profile ``p`` fit a canonical ``kind``."""
    if p.kind == "empty":
        return 0.6
    if p.kind == "date":
        return 1.0 if kind in ("date", "timestamp") else 0.0
    if p.kind == "number":
        if kind in ("float", "int"):
            return 1.0
        if kind in ("date", "timestamp"):
            return 1.0 if p.date_like else 0.0
        if kind == "bool":
            return 0.9 if p.binary else 0.0
        return 0.9 if kind == "id" else 0.6
    if p.kind == "bool":
        return 1.0 if kind == "bool" else 0.6 if kind == "str" else 0.0
    return 1.0 if kind in ("id", "str") else 0.0


# ---------------------------------------------------------------------------------------------- guesses


@dataclass
class ColumnGuess:
    """One source column: the canonical column it feeds (or None), the confidence and the alternatives."""

    source: str
    profile: ValueProfile
    column: str | None = None
    confidence: float = 0.0
    alternatives: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class FileGuess:
    """One file: the canonical table guessed, its score, the alternatives and the column guesses.

    ``assigned`` maps canonical column -> (source column, confidence); ``missing`` lists the required
    canonical columns nothing matched.
    """

    stem: str
    origin: str
    table: str | None
    score: float
    alternatives: list[tuple[str, float]]
    columns: list[ColumnGuess]
    assigned: dict[str, tuple[str, float]]
    missing: list[str]
    stage_values: list[str] = field(default_factory=list)


def _assign(table: str, profiles: dict[str, ValueProfile]) -> tuple[dict[str, tuple[str, float]], dict]:
    """Greedy one-to-one assignment of source columns to ``table``'s columns; returns it and all scores."""
    spec = TABLES[table]
    scores = {(s, c.name): name_score(s, table, c.name) * value_factor(p, c.kind)
              for s, p in profiles.items() for c in spec.columns}
    assigned: dict[str, tuple[str, float]] = {}
    used: set[str] = set()
    for (s, c), conf in sorted(scores.items(), key=lambda kv: -kv[1]):
        if conf >= MIN_CONFIDENCE and s not in used and c not in assigned:
            assigned[c] = (s, conf)
            used.add(s)
    for c in spec.required_columns:  # one source column may feed two required columns (id and name)
        if c not in assigned:
            best = max(((scores[(s, c)], s) for s in profiles), default=(0.0, ""))
            if best[0] >= 0.9:
                assigned[c] = (best[1], best[0])
    return assigned, scores


def _stem_score(stem: str, table: str) -> float:
    stems = synonyms().stems[table]
    if norm(stem) in stems:
        return 1.0
    return 0.8 if any(norm(w) in stems for w in re.split(r"[^0-9A-Za-z]+", stem) if len(w) > 2) else 0.0


def _table_score(stem: str, table: str, assigned: dict[str, tuple[str, float]], n_columns: int) -> float:
    required = TABLES[table].required_columns
    conf = {c: v[1] for c, v in assigned.items()}
    if table == "opportunities" and "stage" in conf:
        conf.update({c: 1.0 for t, c in _FROM_STAGES})
    coverage = sum(conf.get(c, 0.0) for c in required) / len(required)
    breadth = sum(v[1] for v in assigned.values()) / max(n_columns, 1)
    return 0.35 * _stem_score(stem, table) + 0.45 * coverage + 0.2 * min(breadth, 1.0)


def suggest_file(raw: RawFrame) -> FileGuess:
    """Guess the canonical table and the column mapping of one raw frame."""
    profiles = {str(c): profile(raw.frame[c]) for c in raw.frame.columns}
    ranked = []
    for table in TABLES:
        assigned, scores = _assign(table, profiles)
        ranked.append((_table_score(raw.stem, table, assigned, len(profiles)), table, assigned, scores))
    ranked.sort(key=lambda r: -r[0])
    score, table, assigned, scores = ranked[0]
    alternatives = [(t, round(s, 2)) for s, t, _, _ in ranked[1:3]]
    if score < MIN_TABLE_SCORE:
        return FileGuess(raw.stem, raw.origin, None, score, [(table, round(score, 2)), *alternatives],
                         [ColumnGuess(s, p) for s, p in profiles.items()], {}, [])
    by_source: dict[str, list[tuple[str, float]]] = {}
    for c, (s, conf) in assigned.items():
        by_source.setdefault(s, []).append((c, conf))
    guesses = []
    for s, p in profiles.items():
        mine = by_source.get(s, [])
        others = sorted(((c, v) for (src, c), v in scores.items() if src == s and v >= 0.3
                         and c not in {m for m, _ in mine}), key=lambda cv: -cv[1])[:2]
        best = max(mine, key=lambda cv: cv[1]) if mine else (None, 0.0)
        guesses.append(ColumnGuess(s, p, best[0], best[1], [(c, round(v, 2)) for c, v in others]))
    filled = set(assigned) | ({c for _, c in _FROM_STAGES} if table == "opportunities" and "stage" in assigned else set())
    missing = [c for c in TABLES[table].required_columns if c not in filled]
    stage_values: list[str] = []
    if "stage" in assigned and table in ("opportunities", "opportunity_history"):
        column = raw.frame[assigned["stage"][0]]
        stage_values = [str(v) for v in column[~null_mask(column)].value_counts().index[:20]]
    return FileGuess(raw.stem, raw.origin, table, score, alternatives, guesses, assigned, missing, stage_values)


def suggest(path: str | Path) -> list[FileGuess]:
    """Guess a mapping for every tabular file of ``path`` (a folder or one file).

    Raises
    ------
    LoadError
        The path does not exist, holds no tabular file, or a file cannot be read (naming it).
    """
    guesses = [suggest_file(raw) for raw in iter_source(Path(path))]
    if not guesses:
        raise LoadError(f"{path}: no tabular file found; expected CSV, Excel or Parquet files")
    return guesses


# ---------------------------------------------------------------------------------------------- YAML


def _q(value: str) -> str:
    """A YAML scalar for ``value``, quoted only when it has to be."""
    return yaml.safe_dump([str(value)], default_flow_style=True, width=10_000).strip()[1:-1]


def _alts(alternatives: list[tuple[str, float]]) -> str:
    return ", ".join(f"{name} {conf:.2f}" for name, conf in alternatives) or "none"


def render(guesses: list[FileGuess], name: str = "draft") -> str:
    """The draft mapping as YAML text, with the confidences and alternatives as comments.

    The text parses with :func:`salesops.io.mapping.resolve_mapping`; required columns nothing matched are
    ``# TODO`` comments, as are the stage values a ``stages:`` list must name.
    """
    out = [
        "# Draft mapping written by `salesops map suggest`: a guess from column names and sample values.",
        "# Confidence 0-1 per line (name similarity x fit of the values); check lines below 0.8 and every TODO,",
        "# then: salesops validate --data <PATH> --mapping <this file>",
        f"name: {_q(name)}",
    ]
    ignored = [g for g in guesses if g.table is None]
    if ignored:
        out.append("ignore:")
        for g in ignored:
            out.append(f"  - {_q(g.stem)}    # no canonical table fits (best: {_alts(g.alternatives[:1])})")
    stage_files = [g for g in guesses if g.stage_values]
    for g in stage_files[:1]:
        out.append(f"# TODO stages: the values of {g.stem}.{g.assigned['stage'][0]} must be listed with their order,")
        out.append("# probability and whether closed / won, unless they are those of templates/stages.yaml:")
        out.append("# stages:")
        for i, v in enumerate(g.stage_values, 1):
            out.append(f"#   - {{stage: {_q(v)}, order: {i}, probability: TODO, is_closed: TODO, is_won: TODO}}")
    out.append("tables:")
    by_table: dict[str, list[FileGuess]] = {}
    for g in guesses:
        if g.table is not None:
            by_table.setdefault(g.table, []).append(g)
    if not by_table:
        out.append("  {}    # TODO: no file matched a canonical table")
    for table, files in by_table.items():
        out.append(f"  {table}:")
        for g in files:
            out.extend(_block(g, indent="    - " if len(files) > 1 else "    "))
    return "\n".join(out) + "\n"


def _block(g: FileGuess, indent: str) -> list[str]:
    pad = " " * len(indent)
    lines = [f"{indent}from: {_q(g.stem)}    # {Path(g.origin).name}: table score {g.score:.2f}; "
             f"alternatives: {_alts(g.alternatives)}"]
    lines.append(f"{pad}columns:")
    order = TABLES[g.table].column_names
    for column in sorted(g.assigned, key=order.index):
        source, conf = g.assigned[column]
        guess = next(c for c in g.columns if c.source == source)
        others = [(c, v) for c, v in guess.alternatives]
        lines.append(f"{pad}  {column}: {_q(source)}    # confidence {conf:.2f}; alternatives: {_alts(others)}")
    if not g.assigned:
        lines[-1] += " {}"
    for column in g.missing:
        lines.append(f"{pad}  # TODO {column} (required): no source column matched; map one, or set it under "
                     "constants: / derive:")
    formats = []
    for column in sorted(g.assigned, key=order.index):
        source = g.assigned[column][0]
        p = next(c for c in g.columns if c.source == source).profile
        if p.convention is not None:
            note = f"{source}: e.g. {', '.join(p.examples[:2])}"
            if p.ambiguous:
                note += "; no day above 12 in the sample, so the day/month order is a guess: check"
            formats.append(f"{pad}  {column}: {{date_format: {p.convention}}}    # {note}")
    if formats:
        lines.append(f"{pad}formats:")
        lines.extend(formats)
    unmapped = [c for c in g.columns if c.source not in {s for s, _ in g.assigned.values()}]
    for c in unmapped:
        lines.append(f"{pad}# not mapped: {c.source} ({c.profile.kind}); best: {_alts(c.alternatives)}")
    return lines
