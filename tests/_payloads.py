"""A copy of the sample CRM whose every name carries script-injection payloads (tests/test_browser_payloads.py).

Every free-text column of every table (rep, team, segment, region, account, industry, country, lead source,
persona, reason, product, stage, channel, cost category, programme, event name and scope, activity type,
direction and outcome) is replaced by
``<original> <payload>``: the original stays first so distinct values stay distinct and the data still load,
and the same original gets the same new value in every table (a segment is the same segment in ``reps`` and
``accounts``; a lead source is the marketing channel of the same name). Identifiers, dates, amounts and the
closed vocabularies the schema checks (role, deal type, forecast category, event kind) are kept, and so are
``opportunities.currency`` and ``quotas.measure`` (codes the figures are converted and matched by).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import yaml

#: Appears in every payload that would run script; a dialog or a script element holding it means a payload ran.
MARKER = "xss"

#: What each name carries. ``<script>`` is in every value, so the literal ``<script>`` must be visible as text on
#: every page that shows a name; the second payload cycles through the catalogue.
SCRIPT = f'<script>alert("{MARKER}-script")</script>'
CATALOGUE = (
    f'<img src=x onerror=alert("{MARKER}-img")>',
    f'<svg onload=alert("{MARKER}-svg")>',
    f'"><img src=x onerror=alert("{MARKER}-break")>',
    f"'><svg/onload=alert('{MARKER}-quote')>",
    f'[click](javascript:alert("{MARKER}-mdlink"))',
    f'![pic](javascript:alert("{MARKER}-mdimage"))',
    f'<a href="javascript:alert(\'{MARKER}-href\')">link</a>',
    '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgneHNzLWRhdGEnKTwvc2NyaXB0Pg==)',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgneHNzLWRhdGEnKTwvc2NyaXB0Pg==">data link</a>',
    f'<iframe src="javascript:alert(\'{MARKER}-iframe\')"></iframe>',
    f'<details open ontoggle=alert("{MARKER}-toggle")>',
    f'&lt;script&gt;alert("{MARKER}-entity")&lt;/script&gt;',
    "\u202eRTL override",
    "$\\frac{x$ costs $5",
    "*star* _under_ `tick` | pipe # hash ~tilde~",
)
#: Payloads that keep a value free of ``;`` and ``,`` (an event's scope names its channel as ``channel: NAME;``).
PLAIN_CATALOGUE = tuple(p for p in CATALOGUE if ";" not in p and "," not in p)

#: table -> its free-text columns, each with the vocabulary it shares with other tables.
TEXT_COLUMNS: dict[str, dict[str, str]] = {
    "reps": {"name": "rep", "team": "team", "segment": "segment", "region": "region"},
    "accounts": {"name": "account", "industry": "industry", "country": "country", "region": "region",
                 "segment": "segment"},
    "leads": {"source": "source", "industry": "industry", "country": "country", "persona": "persona",
              "disqualification_reason": "reason"},
    "opportunities": {"stage": "stage", "source": "source", "loss_reason": "reason", "product": "product"},
    "opportunity_history": {"stage": "stage"},
    "activities": {"type": "activity_type", "direction": "direction", "outcome": "activity_outcome"},
    "stages": {"stage": "stage"},
    "marketing_spend": {"channel": "source"},
    "sales_costs": {"category": "category"},
    "trainings": {"program": "program"},
    "events": {"name": "event"},
}


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _write(df: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False, compression="infer")


def _table_file(folder: Path, table: str) -> Path | None:
    found = sorted(folder.glob(f"{table}.*"))
    return found[0] if found else None


class _Namer:
    """Original value -> payload-carrying value, the same in every table for one vocabulary."""

    def __init__(self) -> None:
        self.names: dict[tuple[str, str], str] = {}
        self.count = 0

    def __call__(self, vocabulary: str, value: object) -> object:
        if not isinstance(value, str) or value == "":
            return value
        key = (vocabulary, value)
        if key not in self.names:
            catalogue = PLAIN_CATALOGUE if vocabulary == "source" else CATALOGUE
            self.names[key] = f"{value} {SCRIPT} {catalogue[self.count % len(catalogue)]}"
            self.count += 1
        return self.names[key]


def write_payload_crm(sample: Path, out: Path) -> dict[tuple[str, str], str]:
    """Copy ``sample`` to ``out`` with every free-text value carrying payloads; return the renaming used."""
    shutil.copytree(sample, out)
    namer = _Namer()
    for table, columns in TEXT_COLUMNS.items():
        path = _table_file(out, table)
        if path is None:
            continue
        df = _read(path)
        for column, vocabulary in columns.items():
            if column in df.columns:
                df[column] = df[column].map(lambda v, voc=vocabulary: namer(voc, v))
        if table == "events" and "scope" in df.columns:
            df["scope"] = [_scope(str(s), namer) for s in df["scope"]]
        _write(df, path)
    _territory_settings(sample.parents[1] / "templates" / "territories.yaml", out / "territories.yaml", namer)
    return namer.names


def _territory_settings(template: Path, out: Path, namer: _Namer) -> None:
    """The default territory settings with each bucket named after its payload-carrying segment, written
    beside the tables (where the Territories page looks first), so that page shows segment names too."""
    settings = yaml.safe_load(template.read_text(encoding="utf-8"))
    for bucket in settings["buckets"]:
        bucket["name"] = namer("segment", bucket["name"])
    out.write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _scope(scope: str, namer: _Namer) -> str:
    """An event's scope with its channel and product renamed as in the tables, and a payload added."""
    if scope.startswith("channel: "):
        channel, _, rest = scope.removeprefix("channel: ").partition(";")
        return f"channel: {namer('source', channel.strip())};{rest} {SCRIPT}"
    if scope.startswith("product: "):
        return f"product: {namer('product', scope.removeprefix('product: ').strip())}"
    return f"{scope} {SCRIPT} {CATALOGUE[0]}"
