"""The canonical data model (:mod:`.tables`), its pandera schemas (:mod:`.models`), row rules and relations."""

from salesops.schema.models import build_schema
from salesops.schema.rules import RULES, ValidationContext
from salesops.schema.tables import LOAD_ORDER, TABLES, ColumnSpec, ForeignKey, TableSpec

__all__ = ["LOAD_ORDER", "RULES", "TABLES", "ColumnSpec", "ForeignKey", "TableSpec", "ValidationContext", "build_schema"]
