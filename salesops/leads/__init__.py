"""Lead generation support: which leads matter, what kinds of companies buy, and who gets each lead.

==============  =================================================================================================
``scoring``     calibrated lead -> SQL and lead -> won models on a time split; AUC, lift, calibration, reason codes
``evaluation``  AUC with DeLong intervals, lift by decile, calibration by bin
``personas``    k-means personas of buying companies, k by silhouette and stability, profiled
``routing``     the routing rules engine (``templates/routing.yaml``): owner match, rules, weighted round robin
``replay``      past leads through candidate rules: load, speed to lead, expected conversion
``page``        the sentences and metrics of the leads notebook
==============  =================================================================================================

>>> from salesops.leads import route, load_rules, score_leads   # doctest: +SKIP
"""

from salesops.leads._common import MissingDataError
from salesops.leads.evaluation import auc_interval, auc_table, calibration_table, lift_table
from salesops.leads.personas import PersonaModel, choose_k, find_personas, persona_units, profile_personas
from salesops.leads.replay import ReplayResult, replay
from salesops.leads.routing import (
    RoutingRuleError,
    RoutingRules,
    UnroutableLeadError,
    load_rules,
    pool_load,
    route,
)
from salesops.leads.scoring import (
    LeadScoreModel,
    LeadScoring,
    TimeSplit,
    conversion_labels,
    lead_features,
    lead_outcomes,
    reason_codes,
    score_leads,
    time_split,
)

__all__ = [
    "LeadScoreModel",
    "LeadScoring",
    "MissingDataError",
    "PersonaModel",
    "ReplayResult",
    "RoutingRuleError",
    "RoutingRules",
    "TimeSplit",
    "UnroutableLeadError",
    "auc_interval",
    "auc_table",
    "calibration_table",
    "choose_k",
    "conversion_labels",
    "find_personas",
    "lead_features",
    "lead_outcomes",
    "lift_table",
    "load_rules",
    "persona_units",
    "pool_load",
    "profile_personas",
    "reason_codes",
    "replay",
    "route",
    "score_leads",
    "time_split",
]
