"""KPI page sections on customer value: acquisition cost, churn, lifetime value and its ratio to CAC, and the
BG/NBD customer lifetime value (:mod:`salesops.kpi.panels` assembles the page)."""

from __future__ import annotations

import numpy as np

from salesops.escape import md
from salesops.io.data import SalesData
from salesops.kpi._common import slug
from salesops.kpi.cac import cac, cac_payback
from salesops.kpi.churn import monthly_churn
from salesops.kpi.ltv import fit_clv, ltv_to_cac, rfm, subscription_ltv, transactional_ltv
from salesops.kpi.panel_base import (
    Panel,
    Window,
    _by_label,
    _currency,
    _guard,
    _money,
    _num,
    _pct,
    _with_total,
)
from salesops.kpi.retention import cohort_retention


def cac_panel(data: SalesData, window: Window, gross_margin: float) -> Panel:
    """CAC per quarter (blended) and by channel over the four quarters to the quarter, with payback.

    Parameters
    ----------
    data : SalesData
        The loaded CRM.
    window : Window
        The quarter under review (:func:`review_window`).
    gross_margin : float
        Gross margin of recurring revenue, for the payback.

    Returns
    -------
    Panel
        Tables: ``table`` (by channel, four quarters: new customers, marketing spend, allocated sales costs, CAC
        with interval, payback months when ``revenue`` is there); frames ``trend`` (blended CAC per quarter) and
        ``blended`` (blended, four quarters).
    """
    panel = Panel("cac", "Customer acquisition cost")
    prevents = "CAC, CAC payback or LTV:CAC"
    trend = _guard(panel, prevents, lambda: cac(data, None, "quarter", end=window.end))
    if trend is None:
        return panel
    panel.frames["trend"] = trend[trend["period"] <= window.label]
    kw = dict(start=window.trailing_start, end=window.end)
    if int(cac(data, None, **kw)["new_customers"].iloc[0]) == 0:
        panel.missing.append(f"No new customer was won in {window.trailing_label}, so CAC cannot be computed.")
        return panel
    by_channel = _guard(panel, "CAC by channel", lambda: cac(data, "channel", **kw))
    blended = cac(data, None, **kw)
    payback = _guard(panel, "CAC payback", lambda: cac_payback(data, gross_margin, "channel", **kw))
    blended_payback = cac_payback(data, gross_margin, None, **kw) if payback is not None else None
    if payback is not None:
        by_channel = payback
        blended = blended_payback
    panel.frames["blended"] = blended
    panel.table = by_channel
    unit = _currency(data)
    q = trend[trend["period"].eq(window.label)]
    b = blended.iloc[0]
    text = ""
    if len(q) and int(q["new_customers"].iloc[0]) > 0:
        r = q.iloc[0]
        text = (f"In {window.label}, {int(r['new_customers'])} new customers cost **{_money(r['cac'], unit)}** each "
                f"(marketing spend plus sales costs over new customers; 95% interval {_money(r['lower'], unit)} to "
                f"{_money(r['upper'], unit)}). ")
        panel.add_metric("cac.blended.quarter", r["cac"], unit.strip() or "money", "blended CAC in the quarter")
    text += (f"Over {window.trailing_label}: {_money(b['cac'], unit)} per new customer across "
             f"{int(b['new_customers'])} customers.")
    panel.add_metric("cac.blended.four_quarters", b["cac"], unit.strip() or "money",
                     "blended CAC over the four quarters to the quarter")
    if "payback_months" in blended.columns and np.isfinite(b["payback_months"]):
        text += (f" At a {_pct(gross_margin, 0)} gross margin a new customer repays it in "
                 f"**{_num(b['payback_months'], 1)} months**.")
        panel.add_metric("cac_payback_months.blended", b["payback_months"], "months",
                         "months of gross-margin MRR to repay blended CAC, four quarters")
    if by_channel is not None and len(by_channel):
        ch = by_channel[by_channel["new_customers"] > 0].sort_values("cac")
        if len(ch):
            text += ("\n\nBy channel (sales costs shared by customers won, so channels differ by their marketing "
                     "cost per customer): " + "; ".join(
                         f"{md(r['channel'])} {_money(r['cac'], unit)} ({int(r['new_customers'])} customers)"
                         for _, r in ch.iterrows()) + ".")
        for _, r in by_channel.iterrows():
            panel.add_metric(f"cac.{slug(r['channel'])}", r["cac"], unit.strip() or "money",
                             f"CAC of {r['channel']} over the four quarters to the quarter")
    panel.text = text
    return panel


def churn_panel(data: SalesData, window: Window, by: str | None = "segment") -> Panel:
    """Monthly churn (revenue and logos) over the twelve months to the quarter's end, and cohort retention.

    Parameters
    ----------
    data : SalesData
        The loaded CRM.
    window : Window
        The quarter under review (:func:`review_window`).
    by : str or None
        Account dimension of the breakdown.

    Returns
    -------
    Panel
        Tables: ``table`` (group: revenue churn with interval, logo churn with interval); frames ``trend``
        (revenue churn per quarter) and ``retention`` (logo retention by quarterly start cohort).
    """
    panel = Panel("churn", "Churn and retention")
    kw = dict(start=window.trailing_start, end=window.end)
    prevents = "churn, retention curves or subscription LTV"
    total = _guard(panel, prevents, lambda: monthly_churn(data, None, kind="revenue", **kw))
    if total is None:
        return panel
    logo_total = monthly_churn(data, None, kind="logo", **kw)
    breakdown = logo = None
    if by is not None:
        breakdown = _guard(panel, f"churn by {_by_label(by)}", lambda: monthly_churn(data, by, kind="revenue", **kw))
        if breakdown is not None:
            logo = monthly_churn(data, by, kind="logo", **kw)
    table = _with_total(breakdown, total, by)
    logo_table = _with_total(logo, logo_total, by)
    table = table.merge(logo_table[["group", "churn", "lower", "upper"]].rename(
        columns={"churn": "logo_churn", "lower": "logo_lower", "upper": "logo_upper"}), on="group", how="left")
    panel.table = table
    panel.frames["trend"] = monthly_churn(data, None, "quarter", kind="revenue", end=window.end)
    panel.frames["retention"] = cohort_retention(data, "quarter", end=window.end)
    t = table.iloc[0]
    text = (f"Over {window.trailing_label}, **{_pct(t['churn'], 2)}** of the recurring revenue was lost each month "
            f"to customers leaving (95% interval {_pct(t['lower'], 2)} to {_pct(t['upper'], 2)}); by customer count "
            f"{_pct(t['logo_churn'], 2)} a month.")
    rows = table.iloc[1:]
    if len(rows):
        text += "\n\nBy " + _by_label(by) + ": " + "; ".join(
            f"{md(r['group'])} {_pct(r['churn'], 2)} of revenue, {_pct(r['logo_churn'], 2)} of customers"
            for _, r in rows.iterrows()) + "."
    ret = panel.frames["retention"]
    at12 = ret[ret["months_since_start"].eq(12)]
    if len(at12):
        share = at12["retained"].sum() / at12["accounts"].sum()
        text += (f"\n\nOf the customers who started paying in the data's cohorts, {_pct(share, 0)} still paid twelve "
                 "months later.")
        panel.add_metric("retention.logo_12_months", share, "share", "customers still paying 12 months after start")
    panel.text = text
    for _, r in table.iterrows():
        panel.add_metric(f"churn.revenue_monthly.{slug(r['group'])}", r["churn"], "share per month",
                         f"monthly gross revenue churn, last four quarters ({r['group']})")
        panel.add_metric(f"churn.logo_monthly.{slug(r['group'])}", r["logo_churn"], "share per month",
                         f"monthly customer churn, last four quarters ({r['group']})")
    return panel


def ltv_panel(data: SalesData, window: Window, gross_margin: float, by: str | None = "segment") -> Panel:
    """Subscription LTV (ARPA x gross margin / monthly logo churn) over the four quarters to the quarter, and
    LTV:CAC blended and by acquisition channel.

    Parameters
    ----------
    data : SalesData
        The loaded CRM.
    window : Window
        The quarter under review (:func:`review_window`).
    gross_margin : float
        Gross margin of recurring revenue.
    by : str or None
        Account dimension of the breakdown.

    Returns
    -------
    Panel
        Tables: ``table`` (group: ARPA, churn, lifetime, LTV with interval); frames ``ratio`` (LTV:CAC,
        blended) and ``ratio_by_channel``.
    """
    panel = Panel("ltv", "Lifetime value and LTV:CAC")
    kw = dict(start=window.trailing_start, end=window.end)
    total = _guard(panel, "subscription LTV or LTV:CAC", lambda: subscription_ltv(data, gross_margin, None, **kw))
    if total is None:
        return panel
    breakdown = None
    if by is not None:
        breakdown = _guard(panel, f"LTV by {_by_label(by)}", lambda: subscription_ltv(data, gross_margin, by, **kw))
    table = _with_total(breakdown, total, by)
    panel.table = table
    unit = _currency(data)
    t = table.iloc[0]
    text = (f"At a {_pct(gross_margin, 0)} gross margin, an average customer paying {_money(t['arpa'], unit)} a "
            f"month and leaving at {_pct(t['churn'], 2)} a month is worth **{_money(t['ltv'], unit)}** over an "
            f"expected {_num(t['lifetime_months'])} months (95% interval {_money(t['lower'], unit)} to "
            f"{_money(t['upper'], unit)}).")
    rows = table.iloc[1:]
    if len(rows):
        text += "\n\nBy " + _by_label(by) + ": " + "; ".join(
            f"{md(r['group'])} {_money(r['ltv'], unit)}" for _, r in rows.iterrows()) + "."
    for _, r in table.iterrows():
        panel.add_metric(f"ltv.{slug(r['group'])}", r["ltv"], unit.strip() or "money",
                         f"subscription LTV, ARPA x margin / monthly logo churn ({r['group']})")
    cac_blended = _guard(panel, "LTV:CAC", lambda: cac(data, None, **kw))
    if cac_blended is not None:
        ratio = ltv_to_cac(total, cac_blended)
        panel.frames["ratio"] = ratio
        r = ratio.iloc[0]
        text += (f"\n\nLTV:CAC is **{_num(r['ltv_to_cac'], 1)}** (interval {_num(r['lower'], 1)} to "
                 f"{_num(r['upper'], 1)}); 3 is the usual bar for efficient growth.")
        panel.add_metric("ltv_to_cac.blended", r["ltv_to_cac"], "ratio", "subscription LTV / blended CAC")
        by_channel = _guard(panel, "LTV:CAC by channel", lambda: ltv_to_cac(
            subscription_ltv(data, gross_margin, "channel", **kw), cac(data, "channel", **kw), on="channel"))
        if by_channel is not None and len(by_channel):
            panel.frames["ratio_by_channel"] = by_channel
            ok = by_channel[np.isfinite(by_channel["ltv_to_cac"])].sort_values("ltv_to_cac")
            if len(ok):
                text += (f" By acquisition channel it runs from {_num(ok['ltv_to_cac'].iloc[0], 1)} "
                         f"({md(ok['channel'].iloc[0])}) to {_num(ok['ltv_to_cac'].iloc[-1], 1)} "
                         f"({md(ok['channel'].iloc[-1])}).")
    panel.text = text
    return panel


def clv_panel(data: SalesData, window: Window, *, horizon_months: int = 12, margin: float = 1.0) -> Panel:
    """Transactional customer lifetime value (BG/NBD x Gamma-Gamma) from the ``transactions`` table, as of
    the quarter's end.

    Parameters
    ----------
    data : SalesData
        The loaded CRM.
    window : Window
        The quarter under review (:func:`review_window`).
    horizon_months : int
        Months of purchases valued.
    margin : float
        Share of revenue kept.

    Returns
    -------
    Panel
        Tables: ``table`` (model parameters with intervals); frames ``customers`` (per-customer CLV).
    """
    panel = Panel("clv", "Transactional lifetime value (BG/NBD)")
    prevents = ("transactional lifetime value (BG/NBD and Gamma-Gamma); for subscription revenue the "
                "subscription LTV above applies")
    summary = _guard(panel, prevents, lambda: rfm(data, observation_end=window.as_of))
    if summary is None:
        return panel
    if summary.empty or int((summary["frequency"] > 0).sum()) < 2:
        panel.missing.append(f"Fewer than two customers bought twice by {window.as_of.date()}, so the BG/NBD and "
                             "Gamma-Gamma models cannot be fitted.")
        return panel
    fit = fit_clv(summary)
    customers = transactional_ltv(summary, horizon_months=horizon_months, margin=margin, fit=fit)
    panel.table = fit.params()
    panel.frames["customers"] = customers
    bg = fit.transactions
    text = (f"Fitted on {fit.customers:,} customers ({fit.repeat_customers:,} bought again): purchase rate "
            f"r = {bg.r_:.3f}, alpha = {bg.alpha_:.3f}, drop-out a = {bg.a_:.3f}, b = {bg.b_:.3f}. Over the next "
            f"{horizon_months} months a customer is expected to be worth **{_num(customers['clv'].mean(), 2)}** on "
            f"average (median {_num(customers['clv'].median(), 2)}); "
            f"{_pct((customers['prob_alive'] > 0.5).mean(), 0)} of customers are more likely alive than not.")
    doubts = fit.reliability()
    if doubts:
        text += "\n\n**These figures are unreliable.** " + " ".join(doubts)
    panel.text = text
    panel.add_metric("clv.mean_12_months" if horizon_months == 12 else f"clv.mean_{horizon_months}_months",
                     customers["clv"].mean(), "money", "mean expected value of a customer's purchases ahead")
    panel.add_metric("clv.customers", int(fit.customers), "customers", "customers the CLV models were fitted on")
    return panel
