"""People: new-hire ramp, training and mentoring impact, coaching signals.

========================  ===================================================================================
``ramp``                  time to first deal and to productivity by hire cohort (survival-aware), ramp curve
``training``              difference-in-differences of a training programme with untrained controls
``coaching``              per-rep departures from peers (shrunk) turned into coaching topics
``page``                  the headline numbers notebook 08 records
========================  ===================================================================================
"""

from salesops.people.coaching import coaching_signals, coaching_topics, rep_rates, stage_exits
from salesops.people.ramp import (
    RampStudy,
    fit_ramp,
    hires,
    ramp_curve,
    ramp_study,
    tenure_panel,
    time_to_first_deal,
    time_to_productivity,
)
from salesops.people.training import Program, TrainingStudy, main_program, training_groups, training_study

__all__ = [
    "Program",
    "RampStudy",
    "TrainingStudy",
    "coaching_signals",
    "coaching_topics",
    "fit_ramp",
    "hires",
    "main_program",
    "ramp_curve",
    "ramp_study",
    "rep_rates",
    "stage_exits",
    "tenure_panel",
    "time_to_first_deal",
    "time_to_productivity",
    "training_groups",
    "training_study",
]
