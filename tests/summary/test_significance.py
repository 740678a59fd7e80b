"""The tests behind the summary's words about rates, and the property that the narrative never claims more."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from salesops.stats.proportions import wilson_interval
from salesops.summary import biggest_movers, evidence_text, narrative, rate_tests

ALPHA = 0.05


def _rows(group: str, x: int, n: int, x0: int, n0: int) -> list[dict]:
    """The headline rows a segment needs: win rate (x of n now, x0 of n0 a year ago) and deals won."""
    lo, hi = wilson_interval(x, n)
    rate, base = x / n, x0 / n0
    common = {"group": group, "target": np.nan, "vs_target": np.nan, "note": "", "previous": np.nan,
              "n_previous": np.nan, "change_vs_previous": np.nan}
    return [
        {**common, "kpi": "win_rate", "label": "Win rate", "unit": "share", "value": rate, "lower": lo, "upper": hi,
         "n": n, "last_year": base, "n_last_year": n0, "change_vs_last_year": rate - base},
        {**common, "kpi": "deals_won", "label": "Deals won", "unit": "deals", "value": x, "lower": np.nan,
         "upper": np.nan, "n": x, "last_year": x0, "n_last_year": x0,
         "change_vs_last_year": x / x0 - 1 if x0 else np.nan},
    ]


def _headline(counts: dict[str, tuple[int, int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame([row for g, c in counts.items() for row in _rows(g, *c)])


def _p_by_hand(x: int, n: int, x0: int, n0: int) -> float:
    """The p-value the summary must use, computed here from scipy: Fisher when an expected count is below 5."""
    pooled = (x + x0) / (n + n0)
    if min(n, n0) * min(pooled, 1 - pooled) < 5:
        return float(sps.fisher_exact([[x, n - x], [x0, n0 - x0]])[1])
    se = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n0))
    return float(2 * sps.norm.sf(abs((x / n - x0 / n0) / se)))


def _holm(p: list[float]) -> list[float]:
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    out, running = [0.0] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def test_rate_tests_by_hand():
    h = _headline({"A": (52, 293, 51, 205), "B": (2, 3, 1, 1), "C": (115, 374, 89, 288)})
    t = rate_tests(h).set_index("group")
    assert t.loc["A", "test"] == "two-proportion test" and t.loc["B", "test"] == "Fisher exact test"
    p = [_p_by_hand(52, 293, 51, 205), 1.0, _p_by_hand(115, 374, 89, 288)]
    assert t["p_value"].tolist() == pytest.approx(p)
    assert t["p_adjusted"].tolist() == pytest.approx(_holm(p))
    assert (t["family"] == 3).all() and (t["adjustment"] == "holm").all() and not t["significant"].any()
    assert t.loc["A", "difference"] == pytest.approx(52 / 293 - 51 / 205)
    assert t.loc["A", "lower"] < t.loc["A", "difference"] < t.loc["A", "upper"]
    assert evidence_text(t.loc["A"], what="segments") == (
        "two-proportion test p = 0.053, Holm-adjusted p = 0.160 over 3 segments, difference -7.1 pts [-14.6, +0.1]")
    one = rate_tests(_headline({"all": (52, 293, 51, 205)})).iloc[0]
    assert one["family"] == 1 and one["adjustment"] == "" and one["p_adjusted"] == one["p_value"]
    assert evidence_text(one) == "two-proportion test p = 0.053, difference -7.1 pts [-14.6, +0.1]"
    bh = rate_tests(h, adjust="bh").set_index("group")
    assert (bh["p_adjusted"] <= t["p_adjusted"] + 1e-12).all()  # BH is never stricter than Holm
    with pytest.raises(ValueError, match="n_last_year"):
        rate_tests(h.drop(columns="n_last_year"))


def test_a_quarter_without_closed_deals_is_not_tested():
    h = _headline({"A": (10, 40, 20, 40)})
    h.loc[h["kpi"] == "win_rate", ["value", "n"]] = [np.nan, 0]
    t = rate_tests(h).iloc[0]
    assert t["test"] == "" and np.isnan(t["p_value"]) and not t["significant"] and t["family"] == 0
    assert evidence_text(t) == ""


_SEGMENT = st.tuples(st.integers(1, 80), st.integers(1, 80)).flatmap(
    lambda ns: st.tuples(st.integers(0, ns[0]), st.just(ns[0]), st.integers(1, ns[1]), st.just(ns[1])))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_SEGMENT, min_size=1, max_size=5))
def test_the_narrative_never_claims_significance_the_test_does_not_find(segments):
    """For random counts (this quarter x of n, a year ago x0 of n0, per segment), the word "significant" about a
    win rate appears only where the test's (Holm-adjusted, over the segments) p is below 5%, and a significant
    decline is never left out or called "not significant"."""
    counts = {f"Seg{i}": c for i, c in enumerate(segments)}
    by_segment = _headline(counts)
    x, n, x0, n0 = (sum(c[k] for c in segments) for k in range(4))
    company = _headline({"all": (x, n, x0, n0)})
    movers = biggest_movers(None, "2025Q4", kpis=("win_rate", "deals_won"), headline=by_segment)
    text = " ".join(narrative(company, movers, quarter="2025Q4", by_segment=by_segment, top=len(movers)))

    p = [_p_by_hand(*c) for c in segments]
    adjusted = _holm(p)
    p_all = _p_by_hand(x, n, x0, n0)
    subjects = [("the win rate", (x, n, x0, n0), p_all, r"on a year ago")]
    subjects += [(f"the {g} win rate", c, q, rf"{g} win rate [+-]\d+\.\d pts")
                 for (g, c), q in zip(counts.items(), adjusted, strict=True)]
    for name, (xs, ns, xb, nb), q, beside in subjects:
        significant = q < ALPHA
        risk = re.search(rf"{name} \([^)]*\) is ([^(]*)\(", text)
        if risk:
            said = risk.group(1)
            assert said.startswith("significantly below") == significant, (name, q, said)
            assert significant or "but not significantly" in said
        else:
            assert not (significant and xs / ns < xb / nb), f"{name}: significantly lower (p = {q:.4f}), not said"
        group = name.removeprefix("the ").removesuffix(" win rate")
        driver = rf"{group} deals won [+-]\d+\.\d% \([^()]*\), driven by [^();]*?a (?:higher|lower) win rate"
        for verdict in (re.search(rf"{beside} \(([^()]*)\)", text), re.search(rf"{driver} \(([^()]*)\)", text)):
            if verdict and "pts [" in verdict.group(1):
                assert ("; significant at 5%" in verdict.group(1)) == significant, (name, q, verdict.group(1))
                assert ("; not significant at 5%" in verdict.group(1)) == (not significant)
    claims = len(re.findall(r"(?<!not )significantly below|; significant at", text))
    # a risk, a verdict and a driver at most, each
    assert claims <= 3 * sum(q < ALPHA for q in [p_all, *adjusted])
