"""Plan validation: every error names the field at fault."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from salesops.comp.plan import (
    PlanError,
    Tier,
    list_templates,
    load_plan,
    parse_plan,
    payout_multiple,
    to_dict,
)

BASE = {
    "name": "t", "role": "AE", "kind": "quota", "period": "quarter",
    "pay": {"ote": 100_000, "base_share": 0.5},
    "measures": [{"name": "bookings", "weight": 1.0}],
    "tiers": [{"from": 0.0, "to": 1.0, "rate": 1.0}, {"from": 1.0, "to": None, "rate": 2.0}],
    "cap": 2.0,
}


def _with(path, value):
    raw = copy.deepcopy(BASE)
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        (("tiers", 1, "from"), 0.8, "tiers[1].from", "overlaps"),
        (("tiers", 1, "from"), 1.2, "tiers[1].from", "gap"),
        (("tiers", 1, "rate"), -0.5, "tiers[1].rate", "payout fall"),
        (("tiers", 0, "from"), 0.1, "tiers[0].from", "start at 0"),
        (("tiers", 0, "to"), 0.0, "tiers[0].to", "above from"),
        (("measures", 0, "name"), "revenue", "measures[0].name", "unknown measure"),
        (("measures", 0, "weight"), 0.5, "measures", "sum to 1"),
        (("cap",), -1, "cap", ">= 0"),
        (("pay", "base_share"), 1.0, "pay.base_share", "below 1"),
        (("kind",), "bonus", "kind", "must be one of"),
        (("bogus",), 1, "bogus", "unknown field"),
    ],
)
def test_errors_name_the_field(path, value, field, words):
    with pytest.raises(PlanError, match=words) as info:
        parse_plan(_with(path, value))
    assert info.value.field == field
    assert str(info.value).startswith(field)


def test_unit_measure_on_quota_plan_is_refused():
    with pytest.raises(PlanError) as info:
        parse_plan(_with(("measures", 0, "name"), "sqls"))
    assert info.value.field == "measures[0].name"


def test_templates_load_and_round_trip():
    for name in list_templates():
        plan = load_plan(name)
        assert plan.monotone
        assert parse_plan(to_dict(plan)) == plan


def test_template_error_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nrole: AE\nkind: quota\npay: {ote: 1, base_share: 0.5}\n"
                   "measures: [{name: bookings}]\ntiers: [{from: 0, rate: -1}]\n")
    with pytest.raises(PlanError, match=r"tiers\[0\].rate.*bad.yaml"):
        load_plan(bad)


def test_payout_multiple_by_hand():
    tiers = (Tier(0, 0.5, 0.5), Tier(0.5, 1.0, 1.0), Tier(1.0, None, 2.0))
    got = payout_multiple([0, 0.4, 0.5, 1.0, 1.2, 3.0], tiers, cap=2.5)
    np.testing.assert_allclose(got, [0, 0.2, 0.25, 0.75, 1.15, 2.5])


def test_with_changes_moves_the_right_tiers():
    plan = load_plan("ae_standard")
    new = plan.with_changes(base_rate=1.2, accelerator=3.0, decelerator=0.3, cap=None, spif_amount=900)
    assert [t.rate for t in new.tiers] == [0.3, 1.2, 3.0]
    assert new.cap is None and new.spif.amount == 900 and new.spif.product == plan.spif.product
    with pytest.raises(PlanError, match="tiers"):
        plan.with_changes(accelerator=-1.0)
