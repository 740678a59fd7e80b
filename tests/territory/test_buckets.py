"""The condition language and bucket rules."""

from __future__ import annotations

import pandas as pd
import pytest

from salesops.territory import (
    DEFAULT_SEGMENT_RULES,
    RuleError,
    assign_buckets,
    bucket_summary,
    condition_mask,
)

FRAME = pd.DataFrame({
    "employees": [10, 200, 1999, 2000, None],
    "country": ["Germany", "France", "United States", "Germany", None],
    "postal_code": ["80331", "75001", "94105", "10115", None],
})


@pytest.mark.parametrize(("when", "expected"), [
    ({"country": "Germany"}, [1, 0, 0, 1, 0]),
    ({"country": ["Germany", "France"]}, [1, 1, 0, 1, 0]),
    ({"employees": {"min": 200, "below": 2000}}, [0, 1, 1, 0, 0]),
    ({"employees": {"above": 200, "max": 2000}}, [0, 0, 1, 1, 0]),
    ({"country": {"not_in": ["Germany"]}}, [0, 1, 1, 0, 1]),
    ({"postal_code": {"startswith": ["8", "9"]}}, [1, 0, 1, 0, 0]),
    ({"employees": {"missing": True}}, [0, 0, 0, 0, 1]),
    ({"any": [{"country": "France"}, {"employees": {"min": 2000}}]}, [0, 1, 0, 1, 0]),
    ({"country": "Germany", "employees": {"min": 100}}, [0, 0, 0, 1, 0]),
    (None, [1, 1, 1, 1, 1]),
])
def test_conditions(when, expected):
    assert condition_mask(FRAME, when).astype(int).tolist() == expected


@pytest.mark.parametrize(("when", "message"), [
    ({"region": "East"}, "rule 'r': unknown column 'region'"),
    ({"employees": {"between": [1, 2]}}, "unknown operator\\(s\\) between"),
    ({"employees": {"min": "many"}}, "employees.min must be a number"),
    ({"country": {"min": 3}}, "'country' holds no numbers"),
    ({"any": []}, "'any' must be a non-empty list"),
    (["country"], "'when' must be a mapping"),
])
def test_bad_conditions_name_the_rule(when, message):
    with pytest.raises(RuleError, match=message):
        condition_mask(FRAME, when, "rule 'r'")


def test_first_matching_bucket_wins_and_unmatched_rows_are_named():
    rules = [{"name": "EU", "when": {"country": ["Germany", "France"]}}, {"name": "Big", "when": {"employees": {"min": 1000}}}]
    assert assign_buckets(FRAME, rules, default="Other").tolist() == ["EU", "EU", "Big", "EU", "Other"]
    with pytest.raises(RuleError, match="3 row\\(s\\) match no bucket rule"):
        assign_buckets(FRAME.iloc[:3].assign(country="Spain").assign(employees=[1, 2, 3]), rules)
    with pytest.raises(RuleError, match="bucket 'EU' is defined twice"):
        assign_buckets(FRAME, rules + [rules[0]])


def test_default_segment_rules_reproduce_the_sample_segments(sample, truth):
    th = truth["segments"]["thresholds"]
    assert {r["name"]: r.get("when", {}).get("employees", {}).get("min") for r in DEFAULT_SEGMENT_RULES} == {
        "Enterprise": th["Enterprise"], "Mid-Market": th["Mid-Market"], "SMB": None}
    bucket = assign_buckets(sample.accounts)
    assert (bucket == sample.accounts["segment"]).all()
    summary = bucket_summary(sample.accounts, bucket).set_index("bucket")
    assert summary["accounts"].sum() == len(sample.accounts)
    assert summary.loc["Enterprise", "potential_median"] > summary.loc["SMB", "potential_median"]
