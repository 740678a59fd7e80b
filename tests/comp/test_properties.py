"""Property-based tests of the payout curve and the engine (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesops.comp.engine import commission_cents, compute_payouts
from salesops.comp.plan import parse_plan
from tests.comp.conftest import tiny_crm


@st.composite
def monotone_plans(draw):
    n = draw(st.integers(1, 4))
    cuts = sorted(draw(st.lists(st.floats(0.05, 3.0), min_size=n - 1, max_size=n - 1, unique=True)))
    bounds = [0.0] + cuts
    tiers = []
    for i, lower in enumerate(bounds):
        upper = bounds[i + 1] if i + 1 < len(bounds) else None
        tiers.append({"from": lower, "to": upper, "rate": draw(st.floats(0.0, 4.0))})
    cap = draw(st.one_of(st.none(), st.floats(0.1, 5.0)))
    return parse_plan({"name": "p", "role": "AE", "kind": "quota", "pay": {"ote": 100_000, "base_share": 0.5},
                       "measures": [{"name": "bookings"}], "tiers": tiers, "cap": cap})


attainments = st.lists(st.floats(0.0, 6.0), min_size=2, max_size=30)


#: reproducible runs, no example database in the checkout
REPRO = settings(derandomize=True, database=None)


@REPRO
@given(monotone_plans(), attainments)
def test_payout_never_falls_as_attainment_rises(plan, xs):
    x = np.sort(np.array(xs))
    pay = commission_cents(plan, x, np.ones_like(x), 25_000.0)
    assert np.all(np.diff(pay) >= 0)


@REPRO
@given(monotone_plans(), attainments)
def test_payout_never_exceeds_the_cap(plan, xs):
    m = plan.multiple(np.array(xs))
    if plan.cap is not None:
        assert np.all(m <= plan.cap + 1e-12)
    assert np.all(m >= 0)


@REPRO
@given(monotone_plans())
def test_zero_attainment_pays_no_commission(plan):
    assert commission_cents(plan, np.zeros(3), np.ones(3), 25_000.0).sum() == 0



@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True,
          database=None)
@given(monotone_plans(), st.lists(st.floats(1.0, 400_000.0), min_size=7, max_size=7))
def test_statements_sum_to_payouts(plan, amounts):
    data = tiny_crm()
    data.tables["opportunities"] = data.opportunities.assign(amount=np.round(amounts, 2))
    r = compute_payouts(plan, data)
    total = r.statements.groupby(["rep_id", "period"])["cents"].sum()
    idx = pd.MultiIndex.from_frame(r.payouts[["rep_id", "period"]])
    cents = np.rint(r.payouts["payout"].to_numpy() * 100).astype(np.int64)
    assert (total.reindex(idx).fillna(0).astype(np.int64).to_numpy() == cents).all()
    commission = r.statements[r.statements["line"] == "commission"].groupby(["rep_id", "period"])["cents"].sum()
    expected = np.rint(r.payouts["commission"].to_numpy() * 100).astype(np.int64)
    assert (commission.reindex(idx).fillna(0).astype(np.int64).to_numpy() == expected).all()
