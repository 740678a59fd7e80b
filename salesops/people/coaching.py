"""Coaching signals: where in the funnel and in which activities each rep departs from peers, after shrinkage.

A rep who lost 4 of 5 proposals last quarter is not necessarily bad at proposals; one who lost 120 of 150 is.
Every rate here is shrunk towards the rep's peer group (empirical-Bayes beta-binomial,
:func:`salesops.stats.shrink_rates`), so small samples say little and large ones speak; a rep is flagged only
when the posterior probability of being below (or above) the peers' typical rate is high.

* :func:`stage_exits` — for every deal and open stage it entered: when it left the stage and whether it moved
  forward (a later, higher stage that is not a loss) or not.
* :func:`rep_rates` — per rep and metric, successes and trials: win rate, conversion out of each open stage,
  share of each activity type.
* :func:`coaching_signals` — the shrunk rates, the gap to peers and the flags.
* :func:`coaching_topics` — per rep, the few largest flagged gaps turned into coaching topics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from salesops.experiments.common import MissingData, cutoff_of, known_at, require_table
from salesops.paths import templates_dir
from salesops.safe_yaml import load_yaml
from salesops.stats import fit_beta_prior, shrink_rates

__all__ = ["STAGE_TOPICS", "coaching_signals", "coaching_topics", "rep_rates", "stage_exits"]

#: Coaching topic per stage name (lower case); other stages get a generic topic.
STAGE_TOPICS = {
    "qualification": "qualifying: confirming need, budget and authority before investing in a deal",
    "discovery": "discovery: uncovering pain and building the business case",
    "proposal": "proposals: tying the offer to the buyer's value and decision process",
    "negotiation": "negotiation and closing: handling objections, mutual close plan",
}
_WIN_TOPIC = "closing: wins fewer of the deals that reach a decision"


def _stage_table(tables: dict) -> pd.DataFrame:
    st = tables.get("stages")
    if st is None or st.empty:
        st = pd.DataFrame(load_yaml(templates_dir() / "stages.yaml")["stages"])
    return st


def stage_exits(history: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """Every (deal, open stage) entered, with when the deal left that stage and whether it moved forward.

    For the first entry of open stage :math:`s` at time :math:`t`, the deal *exits* :math:`s` at the first later
    change to another stage, and *advances* when any later change reaches a stage of higher ``order`` that is not
    a lost stage (a closed-won stage counts as forward). A deal still in :math:`s` has no exit (censored) and is
    left out of conversion rates.

    Parameters
    ----------
    history : DataFrame
        ``opportunity_history`` (opportunity_id, changed_at, stage).
    stages : DataFrame
        ``stage, order, is_closed, is_won``.

    Returns
    -------
    DataFrame
        ``opportunity_id, stage, order, entered_at, exited_at, advanced``.
    """
    st = stages.set_index("stage")
    h = history[["opportunity_id", "changed_at", "stage"]].copy()
    h = h[h["stage"].isin(st.index)]
    h["order"] = h["stage"].map(st["order"]).astype(float)
    lost = st["is_closed"].astype(bool) & ~st["is_won"].astype(bool)
    h["lost"] = h["stage"].map(lost).astype(bool)
    open_stages = st.index[~st["is_closed"].astype(bool)]
    entries = (h[h["stage"].isin(open_stages)].groupby(["opportunity_id", "stage"], as_index=False)
               .agg(entered_at=("changed_at", "min"), order=("order", "first")))
    pairs = entries.merge(h[["opportunity_id", "changed_at", "stage", "order", "lost"]], on="opportunity_id",
                          suffixes=("", "_later"))
    later = pairs[pairs["changed_at"] > pairs["entered_at"]]
    moved = later[later["stage_later"] != later["stage"]]
    exit_at = moved.groupby(["opportunity_id", "stage"])["changed_at"].min().rename("exited_at")
    fwd = later[(later["order_later"] > later["order"]) & ~later["lost"]]
    adv = fwd.groupby(["opportunity_id", "stage"]).size().gt(0).rename("advanced")
    out = entries.join(exit_at, on=["opportunity_id", "stage"]).join(adv, on=["opportunity_id", "stage"])
    out["advanced"] = out["advanced"].astype("boolean").fillna(False).astype(bool)
    return out[["opportunity_id", "stage", "order", "entered_at", "exited_at", "advanced"]]


def _window(cutoff: pd.Timestamp | None, months: int, latest: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    end = cutoff if cutoff is not None else latest
    return end - pd.DateOffset(months=months), end


def rep_rates(data: Any, role: str = "AE", by: str = "segment", quarter: str | None = None, as_of: Any = None,
              months: int = 12) -> pd.DataFrame:
    """Successes and trials per rep and metric over the trailing ``months`` to the cutoff.

    Metrics (each a rate of successes over trials):

    * ``win_rate`` — won / closed deals (by close date in the window);
    * ``stage:<name>`` — deals that moved forward out of the open stage / deals that left it (by exit moment in
      the window), from ``opportunity_history``;
    * ``activity:<type>`` — activities of that type / all the rep's activities in the window.

    Metrics whose table is absent are skipped; ``.attrs["notes"]`` says which and why.

    Returns
    -------
    DataFrame
        ``rep_id, peer_group, kind`` (outcome / funnel / activity), ``metric, label, successes, trials``.
    """
    cutoff = cutoff_of(quarter, as_of if as_of is not None else getattr(data, "as_of", None))
    tables = known_at(data, cutoff, ("reps", "opportunities", "opportunity_history", "activities", "stages"))
    reps = require_table(tables, "reps", ["rep_id", "role"], "to know who the peers are")
    reps = reps[reps["role"] == role]
    group = reps.set_index("rep_id")[by] if by in reps.columns else pd.Series("all", index=reps["rep_id"])
    opps = require_table(tables, "opportunities", ["opportunity_id", "owner_rep_id", "close_date", "is_closed",
                                                   "is_won"], "for win rates")
    lo, hi = _window(cutoff, months, pd.Timestamp(opps["close_date"].max(), tz="UTC"))
    lo_day, hi_day = lo.tz_localize(None) if lo.tzinfo else lo, hi.tz_localize(None) if hi.tzinfo else hi
    lo_day, hi_day = lo_day.normalize(), hi_day.normalize()
    notes: list[str] = []
    parts = []
    closed = opps[opps["is_closed"].astype(bool) & (opps["close_date"] > lo_day) & (opps["close_date"] <= hi_day)
                  & opps["owner_rep_id"].isin(reps["rep_id"])]
    w = closed.groupby("owner_rep_id")["is_won"].agg(successes=lambda s: float(s.astype(bool).sum()),
                                                     trials="size").reset_index()
    parts.append(w.rename(columns={"owner_rep_id": "rep_id"}).assign(kind="outcome", metric="win_rate",
                                                                     label="win rate"))
    hist = tables.get("opportunity_history")
    if hist is None or hist.empty:
        notes.append("no `opportunity_history` table: funnel-stage conversions are not measured")
    else:
        ex = stage_exits(hist, _stage_table(tables))
        ex = ex[ex["exited_at"].notna() & (ex["exited_at"] > lo) & (ex["exited_at"] <= hi)]
        ex = ex.merge(opps[["opportunity_id", "owner_rep_id"]], on="opportunity_id")
        ex = ex[ex["owner_rep_id"].isin(reps["rep_id"])]
        f = ex.groupby(["owner_rep_id", "stage", "order"]).agg(successes=("advanced", "sum"),
                                                               trials=("advanced", "size")).reset_index()
        f = f.sort_values("order")
        parts.append(pd.DataFrame({"rep_id": f["owner_rep_id"], "successes": f["successes"].astype(float),
                                   "trials": f["trials"], "kind": "funnel", "metric": "stage:" + f["stage"],
                                   "label": f["stage"] + " → next stage"}))
    act = tables.get("activities")
    if act is None or act.empty:
        notes.append("no `activities` table: the activity mix is not measured")
    else:
        a = act[(act["occurred_at"] > lo) & (act["occurred_at"] <= hi) & act["rep_id"].isin(reps["rep_id"])]
        counts = a.groupby(["rep_id", "type"]).size().unstack(fill_value=0)
        total = counts.sum(axis=1)
        for typ in counts.columns:
            parts.append(pd.DataFrame({"rep_id": counts.index, "successes": counts[typ].to_numpy(float),
                                       "trials": total.to_numpy(), "kind": "activity", "metric": f"activity:{typ}",
                                       "label": f"share of {typ}s among activities"}))
    out = pd.concat(parts, ignore_index=True)
    out["peer_group"] = out["rep_id"].map(group).fillna("unassigned")
    out["trials"] = out["trials"].astype(float)
    out = out[["rep_id", "peer_group", "kind", "metric", "label", "successes", "trials"]]
    out.attrs["notes"] = notes
    out.attrs["window"] = (lo, hi)
    return out


def coaching_signals(data: Any, role: str = "AE", by: str = "segment", quarter: str | None = None,
                     as_of: Any = None, months: int = 12, probability: float = 0.8, min_gap: float = 0.02,
                     min_reps: int = 3, confidence: float = 0.9) -> pd.DataFrame:
    r"""Per rep and metric: the shrunk rate, the peers' rate, the gap and whether it is a coaching signal.

    Within each peer group (``by``: segment or team) and metric, a beta prior :math:`\mathrm{Beta}(\alpha,\beta)`
    is fitted to the reps' counts (:func:`salesops.stats.fit_beta_prior`: maximum likelihood for deal
    metrics, the method of moments for activity shares, whose thousands of trials make the two agree); its mean :math:`\mu = \alpha /
    (\alpha + \beta)` is the peers' typical rate. Rep :math:`j`'s posterior is
    :math:`\mathrm{Beta}(\alpha + x_j, \beta + n_j - x_j)` with mean :math:`\hat\theta_j` (the shrunk rate), and

    .. math::

        \text{gap}_j = \hat\theta_j - \mu, \qquad
        P(\text{below})_j = P(\theta_j < \mu \mid x_j) = I_{\mu}(\alpha + x_j, \beta + n_j - x_j).

    The flag is ``below`` when :math:`P(\text{below}) \ge` ``probability`` and the gap is at least ``min_gap``
    (a signal must be both likely and material: with tens of thousands of activities a 0.5-point difference in
    the mix is "significant" and of no use), ``above`` symmetrically. ``impact`` = :math:`-\text{gap} \cdot n_j`: deals (or activities) a rep would gain at the
    peers' rate over the same volume. Groups with fewer than ``min_reps`` reps get no prior and no flags.

    Returns
    -------
    DataFrame
        ``rep_id, peer_group, kind, metric, label, successes, trials, raw_rate, shrunk_rate, lower, upper,
        peer_rate, gap, p_below, flag, impact``; ``.attrs["notes"]`` lists what could not be measured (empty,
        with the reason as its note, when the data have no reps or no deals).
    """
    cols = ["rep_id", "peer_group", "kind", "metric", "label", "successes", "trials", "raw_rate", "shrunk_rate",
            "lower", "upper", "peer_rate", "gap", "p_below", "flag", "impact"]
    try:
        rates = rep_rates(data, role, by, quarter, as_of, months)
    except MissingData as exc:  # no reps or no deals: the page says what is missing instead of failing
        out = pd.DataFrame(columns=cols)
        out.attrs["notes"] = [str(exc)]
        return out
    rows = []
    for (_grp, _metric), sub in rates.groupby(["peer_group", "metric"], sort=False):
        sub = sub[sub["trials"] > 0]
        res = sub.copy()
        res["raw_rate"] = res["successes"] / res["trials"]
        if len(sub) < min_reps:
            res[["shrunk_rate", "lower", "upper", "peer_rate", "gap", "p_below"]] = np.nan
            res["flag"] = ""
            rows.append(res)
            continue
        try:
            method = "moments" if sub["kind"].iat[0] == "activity" else "mle"
            prior = fit_beta_prior(sub["successes"], sub["trials"], method=method)
        except ValueError:
            res[["shrunk_rate", "lower", "upper", "peer_rate", "gap", "p_below"]] = np.nan
            res["flag"] = ""
            rows.append(res)
            continue
        sh = shrink_rates(sub["successes"].to_numpy(), sub["trials"].to_numpy(), prior, confidence)
        res["shrunk_rate"] = sh["shrunk_rate"].to_numpy()
        res["lower"], res["upper"] = sh["lower"].to_numpy(), sh["upper"].to_numpy()
        mu = prior.mean
        res["peer_rate"] = mu
        res["gap"] = res["shrunk_rate"] - mu
        a = prior.alpha + sub["successes"].to_numpy()
        b = prior.beta + sub["trials"].to_numpy() - sub["successes"].to_numpy()
        res["p_below"] = special.betainc(a, b, mu)
        res["flag"] = np.where((res["p_below"] >= probability) & (res["gap"] <= -min_gap), "below",
                               np.where((res["p_below"] <= 1 - probability) & (res["gap"] >= min_gap), "above", ""))
        rows.append(res)
    if not rows:
        out = pd.DataFrame(columns=cols)
    else:
        out = pd.concat(rows, ignore_index=True)
        out["impact"] = -out["gap"] * out["trials"]
        out = out[cols]
    out.attrs["notes"] = rates.attrs.get("notes", [])
    return out


def _topic(metric: str, label: str) -> str:
    if metric == "win_rate":
        return _WIN_TOPIC
    if metric.startswith("stage:"):
        stage = metric.split(":", 1)[1]
        return STAGE_TOPICS.get(stage.lower(), f"moving deals forward out of {stage}")
    if metric.startswith("activity:"):
        typ = metric.split(":", 1)[1]
        return f"activity mix: the share of {typ}s differs from peers"
    return label


def coaching_topics(signals: pd.DataFrame, top: int = 3, kinds: tuple[str, ...] = ("funnel", "outcome",
                                                                                      "activity")) -> pd.DataFrame:
    """Per rep, up to ``top`` coaching topics: the flagged ``below`` metrics, largest ``impact`` first.

    Funnel stages come before the overall win rate when both are flagged (the stage says where to coach); the
    win rate stands as a topic only when no stage explains it.

    Returns
    -------
    DataFrame
        ``rep_id, peer_group, rank, metric, topic, rate, peer_rate, gap, p_below, trials, evidence``.
    """
    cols = ["rep_id", "peer_group", "rank", "metric", "topic", "rate", "peer_rate", "gap", "p_below", "trials",
            "evidence"]
    below = signals[(signals["flag"] == "below") & signals["kind"].isin(kinds)].copy()
    if below.empty:
        return pd.DataFrame(columns=cols)
    below["_first"] = np.where(below["kind"] == "funnel", 0, np.where(below["kind"] == "outcome", 1, 2))
    has_stage = below.loc[below["kind"] == "funnel", "rep_id"].unique()
    below = below[~((below["kind"] == "outcome") & below["rep_id"].isin(has_stage))]
    below = below.sort_values(["rep_id", "_first", "impact"], ascending=[True, True, False])
    below["rank"] = below.groupby("rep_id").cumcount() + 1
    below = below[below["rank"] <= top]
    below["topic"] = [_topic(m, lab) for m, lab in zip(below["metric"], below["label"])]
    below["rate"] = below["shrunk_rate"]
    below["evidence"] = [
        f"{lab}: {100 * r:.0f}% (shrunk; raw {int(s)}/{int(n)}) vs peers {100 * p:.0f}%, "
        f"P(below peers) = {pb:.2f}"
        for lab, r, s, n, p, pb in zip(below["label"], below["shrunk_rate"], below["successes"], below["trials"],
                                       below["peer_rate"], below["p_below"])
    ]
    return below[cols].reset_index(drop=True)
