"""The synthetic CRM behind ``data/sample/``, with planted truths.

``generate(seed, size)`` builds every canonical table of a three-year CRM (2023-2025) in which known effects
are planted: segment win rates and cycles, Q4 seasonality, a Mid-Market Proposal bottleneck from 2025-04-01,
a training programme with a control group, a lead-qualification process change, low- and high-skill reps,
new-hire ramp, lead conversion driven by known attributes, churn by segment. ``truth`` records the planted
parameters and the figures realised in the tables; ``write(crm, out_dir)`` writes the folder with
``truth.json``. No code outside this package may read ``truth.json``.
"""

from __future__ import annotations

from .crm import SampleCRM, generate
from .writer import write

__all__ = ["SampleCRM", "generate", "write"]
