"""Territory design: firmographic buckets, balanced assignment of accounts with HiGHS, and baselines.

>>> from salesops.territory import assign_buckets, design_territories, greedy_assignment   # doctest: +SKIP
"""

from salesops.territory.baseline import compare_designs, greedy_assignment
from salesops.territory.buckets import (
    DEFAULT_SEGMENT_RULES,
    RuleError,
    assign_buckets,
    bucket_summary,
    condition_mask,
)
from salesops.territory.config import TerritorySettings, load_settings, prepare
from salesops.territory.design import (
    TerritoryDesign,
    TerritoryInfeasibleError,
    account_workload,
    design_territories,
    evaluate_assignment,
    territories_from_reps,
)

__all__ = [
    "DEFAULT_SEGMENT_RULES",
    "RuleError",
    "TerritoryDesign",
    "TerritoryInfeasibleError",
    "TerritorySettings",
    "account_workload",
    "assign_buckets",
    "bucket_summary",
    "compare_designs",
    "condition_mask",
    "design_territories",
    "evaluate_assignment",
    "greedy_assignment",
    "load_settings",
    "prepare",
    "territories_from_reps",
]
