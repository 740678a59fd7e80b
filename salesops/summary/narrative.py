"""Plain sentences from the headline numbers: what happened, the biggest movers and why, forecast, risks,
bottlenecks.

:func:`narrative` only formats numbers it is given; every number comes from :func:`salesops.summary.headline_kpis`,
:func:`salesops.summary.biggest_movers` and, when those modules exist, the forecast and the funnel's bottleneck
finder (:func:`optional_insights` looks for them and says which are missing).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from salesops.escape import md
from salesops.io.data import SalesData
from salesops.periods import Quarter
from salesops.summary.kpis import KPI_UNITS, as_quarter
from salesops.summary.significance import ALPHA, evidence_text, rate_tests

__all__ = [
    "CHANGE_HEADER",
    "COVERAGE_RULE",
    "Insights",
    "format_value",
    "headline_table",
    "movers_table",
    "narrative",
    "optional_insights",
]

#: The one rule for changes, as the tables' headers state it: rates change in points, the rest in %.
CHANGE_HEADER = "(rates in pts, others in %)"

#: Pipeline coverage below this multiple of quota is reported as a risk (the usual 3x rule of thumb).
COVERAGE_RULE = 3.0

#: Where the optional functions are looked for, in order.
_FORECAST_MODULES = ("salesops.forecast", "salesops.forecast.quarter")
_FUNNEL_MODULES = ("salesops.funnel", "salesops.funnel.bottlenecks")
#: Forecast method asked for: stage probability x amount of the open deals, simulated for its interval (fast).
#: The next quarter's forecast the summary quotes: the Forecast page's model, through the same call
#: (:func:`salesops.forecast.next_quarter_forecast`), so both pages show one number; the open-pipeline baseline
#: when the data hold too little history for the model.
FORECAST_METHOD = "gbm"
FALLBACK_METHOD = "weighted_pipeline"
#: How the narrative names a forecast method for a reader who does not know the models' names.
METHOD_LABELS = {"gbm": "model", "stage_age": "stage-and-age model", "weighted_pipeline": "weighted-pipeline"}


def format_value(value: float, unit: str | None, currency: str = "") -> str:
    """A KPI value for a sentence: ``$9.36M``, ``22.9%``, ``36 days``, ``2.1x``, ``189``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if unit == "currency":
        sign = "-" if value < 0 else ""
        v = abs(value)
        prefix = "$" if currency in ("", "USD") else f"{currency} "
        if v >= 1e6:
            return f"{sign}{prefix}{v / 1e6:.2f}M"
        if v >= 1e3:
            return f"{sign}{prefix}{v / 1e3:.1f}k"
        return f"{sign}{prefix}{v:.0f}"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "ratio":
        return f"{value:.2f}x"
    if unit == "days":
        return f"{value:.0f} days"
    if unit == "deals":
        return f"{value:.0f}"
    return f"{value:.1f}"


def _is_rate(kpi: str) -> bool:
    return KPI_UNITS.get(kpi) == "share"


def _change_text(change: float, kpi: str) -> str:
    """A change as text by the one rule: a rate's (unit ``share``) difference in points (``-7.2 pts``), any
    other KPI's relative change in % (``+16.2%``); ``change`` is as :func:`salesops.summary.headline_kpis` gives
    it (a share difference for rates, ``value / base - 1`` otherwise)."""
    if change is None or not math.isfinite(change):
        return "n/a"
    if _is_rate(kpi):
        return f"{100 * change:+.1f} pts"
    return f"{100 * change:+.1f}%"


def _mover_change(m: pd.Series) -> float:
    """The change of a mover by the one rule: the rate's difference, else the relative change."""
    return float(m["change"]) if _is_rate(str(m["kpi"])) else float(m["relative_change"])


def headline_table(headline: pd.DataFrame, *, currency: str = "") -> pd.DataFrame:
    """The headline KPIs as text for reading: one row per KPI (and group), values formatted.

    Columns: ``KPI``, ``This quarter`` (with the win rate's interval), ``Last quarter``,
    ``vs last quarter (rates in pts, others in %)``, ``Last year``, ``vs last year (rates in pts, others in %)``,
    ``Target``, ``vs target`` (attainment in %), from :func:`salesops.summary.headline_kpis`. One rule for
    changes (:data:`CHANGE_HEADER`): a rate's change is its difference in points (``+4.7 pts``), an amount's or
    count's its relative change in % (``+16.2%``).
    """
    rows = []
    for _, r in headline.iterrows():
        value = format_value(r["value"], r["unit"], currency)
        if math.isfinite(r["lower"]) and math.isfinite(r["upper"]):
            value += f" ({format_value(r['lower'], r['unit'])}-{format_value(r['upper'], r['unit'])})"
        label = r["label"] if r["group"] == "all" else f"{r['label']} ({r['group']})"
        rows.append({
            "KPI": label,
            "This quarter": value,
            "Last quarter": format_value(r["previous"], r["unit"], currency),
            f"vs last quarter {CHANGE_HEADER}": _change_text(r["change_vs_previous"], r["kpi"]),
            "Last year": format_value(r["last_year"], r["unit"], currency),
            f"vs last year {CHANGE_HEADER}": _change_text(r["change_vs_last_year"], r["kpi"]),
            "Target": format_value(r["target"], r["unit"], currency) if math.isfinite(r["target"]) else "",
            "vs target": f"{100 * r['vs_target']:.0f}%" if math.isfinite(r["vs_target"]) else "",
        })
    return pd.DataFrame(rows)


def movers_table(movers: pd.DataFrame, *, currency: str = "", top: int | None = 8) -> pd.DataFrame:
    """:func:`salesops.summary.biggest_movers` as text for reading: ``Rank, Segment, KPI, Base, Now,
    Change (rates in pts, others in %), Test, Driven by``.

    ``Change`` follows the one rule (:data:`CHANGE_HEADER`): a rate's difference in points, an amount's or
    count's relative change in %. ``Test`` is the rate's test against its base (Holm-adjusted over the segments,
    see :func:`salesops.summary.significance.evidence_text`), empty for amounts and counts; ``Driven by`` is the
    factor that moved most.
    """
    change_col = f"Change {CHANGE_HEADER}"
    columns = ["Rank", "Segment", "KPI", "Base", "Now", change_col, "Test", "Driven by"]
    rows = []
    for _, m in (movers.head(top) if top else movers).iterrows():
        unit = KPI_UNITS.get(str(m["kpi"]), "currency")
        rows.append({
            "Rank": int(m["rank"]),
            "Segment": m["group"],
            "KPI": m["label"],
            "Base": format_value(m["base"], unit, currency),
            "Now": format_value(m["value"], unit, currency),
            change_col: _change_text(_mover_change(m), str(m["kpi"])),
            "Test": _verdict(m, what="segments") if _is_rate(str(m["kpi"])) else "",
            "Driven by": m["driver"],
        })
    return pd.DataFrame(rows, columns=columns)


_RATE_DRIVERS = ("a higher win rate", "a lower win rate")


def _driver_with_test(driver: str, rate: pd.Series | None) -> str:
    """A mover's driver; when it names the win rate going up or down, that rate's change and test beside it
    (``a higher win rate (+4.7 pts; two-proportion test p = 0.232, ...; not significant at 5%)``)."""
    for words in _RATE_DRIVERS:
        if words in driver:
            said = (f"{words} ({_change_text(float(rate['change']), str(rate['kpi']))}; {_verdict(rate)})"
                    if rate is not None else f"{words} (not tested)")
            return driver.replace(words, said)
    return driver


def _verdict(test: Any, *, what: str = "segments") -> str:
    """``two-proportion test p = 0.024, ...; not significant at 5%`` for a row carrying a test's columns
    (:data:`salesops.summary.significance.TEST_COLUMNS`, or a mover's); ``"no test"`` without one."""
    get = test.get if hasattr(test, "get") else (lambda k, d=None: getattr(test, k, d))
    fields = {k: get(k) for k in ("test", "p_value", "p_adjusted", "adjustment", "family", "difference", "lower",
                                  "upper")}
    if fields["difference"] is None:  # a mover: its change is the difference
        fields["difference"] = get("change")
    evidence = evidence_text(fields, what=what)
    if not evidence:
        return "no test"
    level = f"{100 * float(get('alpha', ALPHA)):g}%"
    return evidence + ("; significant at " if bool(get("significant")) else "; not significant at ") + level


@dataclass
class Insights:
    """What the optional modules contributed, and a sentence for each one that is missing.

    Attributes
    ----------
    forecast : mapping or None
        ``{"expected", "lower", "upper", "method"}``: the next quarter's bookings forecast (80% range).
    bottlenecks : DataFrame or None
        The funnel's bottlenecks, one row each, with at least ``stage``; ``segment`` when found per segment.
    notes : list of str
        Why something is not available.
    """

    forecast: Mapping[str, Any] | None = None
    bottlenecks: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


def _find(modules: Sequence[str], name: str) -> tuple[Any, str | None]:
    """The first callable ``name`` in ``modules`` (imported in turn), or None and why."""
    why = f"{modules[0]} is not available in this installation"
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        fn = getattr(module, name, None)
        if callable(fn):
            return fn, None
        why = f"{modules[0]} offers no {name}()"
    return None, why


def _forecast_row(raw: Any) -> dict[str, Any]:
    if hasattr(raw, "summary") and callable(raw.summary):
        raw = raw.summary()
    row = raw.iloc[0].to_dict() if isinstance(raw, pd.DataFrame) else dict(raw)
    expected = row.get("forecast", row.get("expected"))
    return {"expected": float(expected), "lower": float(row.get("p10", row.get("lower", math.nan))),
            "upper": float(row.get("p90", row.get("upper", math.nan))), "method": str(row.get("method", ""))}


def optional_insights(data: SalesData, quarter: str | Quarter) -> Insights:
    """Ask the forecast module for the next quarter's bookings and the funnel module for this quarter's bottlenecks.

    Each is used only when importable: ``next_quarter_forecast(data, quarter, method="gbm",
    fallback="weighted_pipeline")`` from ``salesops.forecast`` (the Forecast page's call, so both pages quote one
    number), else ``forecast_quarter(data, next_quarter, as_of=<last day of quarter>, method="weighted_pipeline")``
    (its ``.summary()`` gives ``forecast``, ``p10``, ``p90``; a mapping with ``expected``/``lower``/``upper`` is
    accepted too), and ``find_bottlenecks(data,
    quarter)`` from ``salesops.funnel`` (rows with ``flagged`` true, or every row when there is no such column,
    need a ``stage`` column). When a module is missing or fails, ``notes`` says so and the summary goes on.
    """
    q = as_quarter(quarter)
    out = Insights()
    review_fn, _ = _find(_FORECAST_MODULES, "next_quarter_forecast")
    fn, why = _find(_FORECAST_MODULES, "forecast_quarter")
    if review_fn is None and fn is None:
        out.notes.append(f"No forecast against quota: {why}.")
    else:
        try:
            if review_fn is not None:  # the Forecast page's own call: the review quotes one number
                forecast, ready = review_fn(data, str(q), method=FORECAST_METHOD, fallback=FALLBACK_METHOD)
                if forecast is None:
                    raise ValueError(ready.message)
            else:
                forecast = fn(data, str(q.next()), as_of=q.end.isoformat(), method=FALLBACK_METHOD)
            out.forecast = _forecast_row(forecast)
        except Exception as exc:  # noqa: BLE001 - an optional module must not break the summary
            out.notes.append(f"No forecast against quota: the forecast gave none ({type(exc).__name__}: {exc}).")
    fn, why = _find(_FUNNEL_MODULES, "find_bottlenecks")
    if fn is None:
        out.notes.append(f"No bottleneck analysis: {why}.")
    else:
        try:
            found = fn(data, str(q))
            if not isinstance(found, pd.DataFrame) or "stage" not in found.columns:
                raise TypeError("expected a DataFrame with a 'stage' column")
            if "flagged" in found.columns:
                found = found[found["flagged"].astype(bool)]
            out.bottlenecks = found.reset_index(drop=True)
        except Exception as exc:  # noqa: BLE001
            out.notes.append(f"No bottleneck analysis: the funnel's bottleneck scan failed "
                             f"({type(exc).__name__}: {exc}).")
    return out


def _get(h: pd.DataFrame | None, kpi: str, group: Any = "all") -> pd.Series | None:
    if h is None or h.empty:
        return None
    hit = h[(h["kpi"] == kpi) & (h["group"] == group)]
    return None if hit.empty else hit.iloc[0]


#: How the bookings row's note starts when there is no target (:func:`salesops.summary.headline_kpis`).
_NO_TARGET = "no bookings target:"


def _tests(headline: pd.DataFrame | None, alpha: float, adjust: Any) -> pd.DataFrame | None:
    """:func:`rate_tests` against last year, or None when the frame lacks the base quarter's counts."""
    if headline is None or "n_last_year" not in headline.columns:
        return None
    return rate_tests(headline, against="last_year", alpha=alpha, adjust=adjust)


def _rate_risk(name: str, r: pd.Series, test: pd.Series | None, fmt: Any, what: str = "groups") -> str:
    """A risk sentence for a rate below last year's, worded by its test; ``""`` when there is nothing to say.

    Said when the test finds the rate significantly lower, or when this quarter's interval lies wholly below
    last year's rate; "significantly" only in the first case."""
    value, base, upper = float(r["value"]), float(r["last_year"]), float(r["upper"])
    if not (math.isfinite(value) and math.isfinite(base)) or value >= base:
        return ""
    tested = test is not None and bool(test["test"])
    significant = tested and bool(test["significant"])
    if not significant and not (math.isfinite(upper) and upper < base):
        return ""
    head = f"{name} ({fmt(value, 'share')}) is "
    if tested:
        level = f"{100 * float(test['alpha']):g}%"
        evidence = evidence_text(test, what=what)
        if significant:
            return head + f"significantly below last year's {fmt(base, 'share')} at the {level} level ({evidence})"
        return (head + f"lower than last year's {fmt(base, 'share')}, but not significantly at the {level} level "
                f"({evidence})")
    return head + f"lower than last year's {fmt(base, 'share')} (not tested: last year's count of closed deals is unknown)"


def narrative(
    headline: pd.DataFrame,
    movers: pd.DataFrame | None,
    *,
    quarter: str | Quarter,
    by_segment: pd.DataFrame | None = None,
    insights: Insights | None = None,
    currency: str = "",
    top: int = 3,
    escape: bool = True,
    limits: Sequence[str] = (),
    alpha: float = ALPHA,
    adjust: str = "holm",
) -> list[str]:
    """Turn the summary's numbers into short paragraphs (Markdown), in the order a CRO reads them.

    1. Bookings against last quarter, last year and quota; win rate with its interval; deal size and cycle.
    2. The ``top`` biggest movers with what drove them (from :func:`salesops.summary.biggest_movers`).
    3. The next quarter: pipeline, coverage, and the forecast against quota when one is given.
    4. Risks: coverage below :data:`COVERAGE_RULE`, segments below quota, bookings down on last year, and a
       win rate lower than last year's when the test finds it significantly lower, or when this quarter's
       interval lies wholly below last year's rate (then said to be lower "but not significantly" unless the
       test agrees).
    5. The bottlenecks found, or why none are reported.

    Claims about rates: a win rate is called significantly above or below its base only when the test of
    :func:`salesops.summary.significance.rate_tests` rejects equality at ``alpha`` (two-proportion z test, or
    Fisher's exact test when an expected count is below 5; over the segments, p-values adjusted by ``adjust``,
    Holm by default); the test's name, p-value (and adjusted p-value) and the difference's interval in points
    are written beside the sentence. Changes follow one rule: rates in points, amounts and counts in %.

    Parameters
    ----------
    headline : DataFrame
        :func:`salesops.summary.headline_kpis` without ``by`` (group ``"all"``).
    movers : DataFrame or None
        :func:`salesops.summary.biggest_movers`.
    quarter : str or Quarter
        Quarter under review.
    by_segment : DataFrame, optional
        :func:`salesops.summary.headline_kpis` by segment (for segment risks).
    insights : Insights, optional
        Forecast and bottlenecks from :func:`optional_insights`.
    currency : str
        Currency code of the amounts (``USD`` shows as ``$``).
    top : int
        Movers mentioned.
    escape : bool
        Make group names and labels coming from the data inert (HTML-escaped, Markdown marks backslash-escaped;
        default on: the text is shown as Markdown).
    limits : sequence of str
        What the data cannot show (:func:`salesops.summary.data_limits`): said in a paragraph of their own,
        and instead of "none flagged" when no risk was found, since the missing figures could hide one.

    Returns
    -------
    list of str
        Paragraphs.
    alpha : float
        Level of the tests behind words about rates.
    adjust : {"holm", "bh", "bonferroni"}
        Multiple-comparison adjustment over the segments scanned.
    """
    q = as_quarter(quarter)
    esc = md if escape else (lambda s: s)
    fmt = lambda v, unit: format_value(v, unit, currency)  # noqa: E731
    paras: list[str] = []

    b = _get(headline, "bookings")
    if b is not None:
        counted = "orders" if "transactions" in str(b.get("note") or "") else "deals won"
        text = (f"**Bookings** in {q} were {fmt(b['value'], 'currency')} from {fmt(b['n'], 'deals')} {counted}, "
                f"{_change_text(b['change_vs_previous'], 'bookings')} on {q.previous()} and "
                f"{_change_text(b['change_vs_last_year'], 'bookings')} on {Quarter(q.year - 1, q.q)}")
        if math.isfinite(b["vs_target"]):
            verb = "above" if b["vs_target"] >= 1 else "below"
            text += f"; that is {100 * b['vs_target']:.0f}% of the {fmt(b['target'], 'currency')} quota ({verb} target)"
        elif _NO_TARGET in str(b.get("note") or ""):
            why = str(b["note"]).split(_NO_TARGET, 1)[1].split(";")[0].strip()
            text += f"; there is no quota to compare with ({esc(why)})"
        paras.append(text + ".")
    company_tests = _tests(headline, alpha, adjust)
    segment_tests = _tests(by_segment, alpha, adjust)
    w = _get(headline, "win_rate")
    w_test = _get(company_tests, "win_rate")
    if w is not None and math.isfinite(w["value"]):
        text = (f"The **win rate** was {fmt(w['value'], 'share')} (95% interval {fmt(w['lower'], 'share')} to "
                f"{fmt(w['upper'], 'share')}, {w['n']:.0f} deals closed), "
                f"{_change_text(w['change_vs_last_year'], 'win_rate')} on a year ago")
        if w_test is not None and w_test["test"]:
            text += f" ({_verdict(w_test)})"
        if isinstance(w.get("note"), str) and w["note"]:
            text += f" (but {w['note']})"
        s = _get(headline, "avg_deal_size")
        c = _get(headline, "median_cycle_days")
        if s is not None and c is not None:
            text += (f"; the average deal was {fmt(s['value'], 'currency')} "
                     f"({_change_text(s['change_vs_last_year'], 'avg_deal_size')}) and the median won deal took "
                     f"{fmt(c['value'], 'days')} to close")
        paras.append(text + ".")

    if movers is not None and not movers.empty:
        items = []
        rate_rows = {r["group"]: r for _, r in movers.iterrows() if _is_rate(str(r["kpi"]))}
        for _, m in movers.head(top).iterrows():
            unit = KPI_UNITS.get(str(m["kpi"]), "currency")
            span = f"{fmt(m['base'], unit)} to {fmt(m['value'], unit)}"
            if _is_rate(str(m["kpi"])):
                span += f"; {_verdict(m)}"
            item = (f"{esc(str(m['group']))} {esc(str(m['label'])).lower()} "
                    f"{_change_text(_mover_change(m), str(m['kpi']))} ({span})")
            if m["driver"]:
                item += f", driven by {_driver_with_test(str(m['driver']), rate_rows.get(m['group']))}"
            items.append(item)
        base = "the previous quarter" if movers.attrs.get("against") == "previous" else "the same quarter last year"
        paras.append(f"**Biggest movers** against {base}: " + "; ".join(items) + ".")

    p = _get(headline, "next_quarter_pipeline")
    cov = _get(headline, "next_quarter_coverage")
    insights = insights or Insights()
    if p is not None and not math.isfinite(p["value"]):
        paras.append(f"**Next quarter**: no pipeline figure ({esc(str(p['note']))}).")
    elif p is not None:
        text = (f"**Next quarter**: {fmt(p['value'], 'currency')} of open pipeline ({p['n']:.0f} deals) is expected "
                f"to close in {q.next()}")
        if cov is not None and math.isfinite(cov["value"]):
            text += f", {fmt(cov['value'], 'ratio')} the quota"
            if cov["note"]:
                text += f" ({esc(cov['note'])})"
        paras.append(text + ".")
    if insights.forecast is not None:
        f = insights.forecast
        method = str(f.get("method") or "")
        label = METHOD_LABELS.get(method, method.replace("_", "-"))
        text = f"The {label + ' ' if label else ''}forecast for {q.next()} is " \
               f"{fmt(f['expected'], 'currency')}"
        if math.isfinite(f.get("lower", math.nan)) and math.isfinite(f.get("upper", math.nan)):
            text += f" (80% range {fmt(f['lower'], 'currency')} to {fmt(f['upper'], 'currency')})"
        quota = cov is not None and p is not None and math.isfinite(cov["value"]) and cov["value"] > 0
        if quota:
            target = p["value"] / cov["value"]
            text += f", {100 * f['expected'] / target:.0f}% of the {fmt(target, 'currency')} quota"
        if method == "weighted_pipeline":
            text += " (open deals only: pipeline still to be created comes on top)"
        paras.append(text + ".")

    risks = []
    if cov is not None and math.isfinite(cov["value"]) and cov["value"] < COVERAGE_RULE:
        risks.append(f"pipeline coverage for {q.next()} is {fmt(cov['value'], 'ratio')}, below the "
                     f"{COVERAGE_RULE:.0f}x rule of thumb")
    if w is not None:
        said = _rate_risk("the win rate", w, w_test, fmt)
        if said:
            risks.append(said)
    if by_segment is not None:
        for _, r in by_segment[by_segment["kpi"] == "bookings"].iterrows():
            if math.isfinite(r["vs_target"]) and r["vs_target"] < 1:
                risks.append(f"{esc(str(r['group']))} closed {100 * r['vs_target']:.0f}% of its quota")
            if math.isfinite(r["change_vs_last_year"]) and r["change_vs_last_year"] < 0:
                risks.append(f"{esc(str(r['group']))} bookings are "
                             f"{_change_text(r['change_vs_last_year'], 'bookings')} on last year")
        for _, r in by_segment[by_segment["kpi"] == "win_rate"].iterrows():
            said = _rate_risk(f"the {esc(str(r['group']))} win rate", r, _get(segment_tests, "win_rate", r["group"]),
                              fmt, what="segments")
            if said:
                risks.append(said)
    if risks:
        paras.append("**Risks**: " + "; ".join(risks) + (
            "; others cannot be judged from these data (see what the data cannot show below)." if limits else "."))
    elif limits:
        paras.append("**Risks**: none flagged by the headline numbers that these data allow; they cannot be "
                     "judged fully (see what the data cannot show below).")
    else:
        paras.append("**Risks**: none flagged by the headline numbers.")
    if limits:
        paras.append("**What these data cannot show**: " + " ".join(esc(str(x)) for x in limits))

    if insights.bottlenecks is not None:
        if insights.bottlenecks.empty:
            paras.append("**Bottlenecks**: the funnel analysis found none.")
        else:
            found = []
            for _, r in insights.bottlenecks.iterrows():
                where = f" in {esc(str(r['segment']))}" if "segment" in r and pd.notna(r["segment"]) else ""
                how = []
                if {"conversion", "baseline_conversion"} <= set(r.index) and pd.notna(r["conversion"]) \
                        and pd.notna(r["baseline_conversion"]):
                    how.append(f"conversion {fmt(r['conversion'], 'share')} against "
                               f"{fmt(r['baseline_conversion'], 'share')} before")
                if "time_ratio" in r.index and pd.notna(r["time_ratio"]) and r["time_ratio"] > 1:
                    how.append(f"{r['time_ratio']:.1f}x as long in the stage")
                found.append(f"{esc(str(r['stage']))}{where}" + (f" ({', '.join(how)})" if how else ""))
            paras.append("**Bottlenecks** found by the funnel analysis: " + ", ".join(found) + ".")
    for note in insights.notes:
        paras.append(esc(note))
    return paras
