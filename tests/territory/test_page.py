"""The territory page: settings, the review on the sample, degradation on a CRM without potential, figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.figure import Figure

import salesops as so
from salesops.periods import parse_quarter
from salesops.plots import territory as tp
from salesops.territory import RuleError, load_settings, page

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini_crm"
Q = parse_quarter("2025Q4")


def test_template_settings_and_overrides():
    s = load_settings(ROOT / "templates" / "territories.yaml", tolerance=0.04)
    assert s.tolerance == 0.04 and s.max_moved_share == 0.20 and s.values == ("potential", "workload")
    assert [b["name"] for b in s.buckets] == ["Enterprise", "Mid-Market", "SMB"]
    assert load_settings() == load_settings(ROOT / "templates" / "territories.yaml")
    with pytest.raises(RuleError, match="balance has unknown key\\(s\\) tol"):
        load_settings({"balance": {"tol": 0.1}})
    with pytest.raises(RuleError, match="tolerance must lie between 0 and 1"):
        load_settings({"balance": {"tolerance": 5}})
    with pytest.raises(RuleError, match="bucket 'Big'"):
        load_settings({"buckets": [{"name": "Big", "when": {"employees": {"over": 5}}}]})


@pytest.fixture(scope="module")
def reviewed(sample):
    return page.review(sample, load_settings(), as_of=page.review_moment(sample, Q))


def test_review_of_the_sample(reviewed):
    s = reviewed.design.summary
    assert s["meets_tolerance"] and s["moved_share"] <= 0.2
    text = page.describe_design(reviewed)
    assert f"{s['moved_accounts']:,} accounts ({s['moved_share']:.1%})" in text
    assert f"{s['moved_share_lower_bound']:.1%}" in text
    m = page.metrics(reviewed)
    assert m["design_moved_share"][0] == s["moved_share"] and m["territories"][0] == 32
    assert m["current_max_deviation_potential"][0] > m["design_max_deviation_potential"][0]
    moves = page.moves(reviewed)
    assert moves["gained"].sum() == moves["lost"].sum() == s["moved_accounts"]
    assert "*SMB*: 2,031 accounts" in page.describe_buckets(reviewed)
    assert isinstance(tp.plot_territory_balance(reviewed.by_design), Figure)
    assert isinstance(tp.plot_design_comparison(reviewed.comparison), Figure)


def test_a_crm_without_potential_is_named():
    data = so.load(MINI)
    result = page.review(data, load_settings(), as_of=page.review_moment(data, Q))
    assert isinstance(result, page.Unavailable) and "potential" in result.reason
    assert all(v is None for v, _, _ in page.metrics(result).values())
    assert isinstance(tp.plot_territory_balance(page.table(result, "by_design"), missing=result.reason), Figure)
    assert isinstance(tp.plot_design_comparison(page.table(result, "comparison"), missing=result.reason), Figure)


def test_conflicting_settings_are_named_on_the_page(sample):
    result = page.review(sample, load_settings(tolerance=0.01, max_moved_share=0.01), as_of=page.review_moment(sample, Q))
    assert isinstance(result, page.Unavailable)
    assert "disruption" in result.reason and "balance_" in result.reason
