"""Personas and segments: cluster the companies that buy (won accounts and accounts of converting leads) on
firmographics, choose the number of clusters from the data, and profile each cluster.

Features: log10 employees and log10 annual revenue (standardised), optionally the industry (one-hot scaled by
1/sqrt(2), so that a different industry weighs like one standard deviation of size). k-means is fitted for
each k in a range; the silhouette (mean of :math:`(b_i - a_i) / \\max(a_i, b_i)`, with :math:`a_i` the mean
distance to the own cluster and :math:`b_i` to the nearest other) measures separation, and the stability
(mean adjusted Rand index between the clustering and clusterings of bootstrap resamples) measures how
reproducible it is. The chosen k is the one with the highest silhouette among the stable ones (ARI >= 0.8).

Profiles per persona: companies, size (median employees and revenue), main industries, win rate of closed
deals (empirical-Bayes shrunk, with a posterior interval), sales cycle of won deals (median with interval),
deal size of won new business (median and mean with interval), and, over every lead of those companies, the
lead -> SQL rate (Wilson interval).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from threadpoolctl import threadpool_limits

from salesops.leads._common import MissingDataError
from salesops.stats import km_by_group, shrink_rates, wilson_interval

__all__ = ["PersonaModel", "choose_k", "persona_units", "profile_personas", "find_personas"]


def persona_units(accounts: pd.DataFrame, opportunities: pd.DataFrame | None = None,
                  leads: pd.DataFrame | None = None, as_of: Any = None) -> pd.DataFrame:
    """The companies that buy: accounts with a won new-business deal or a lead that became an SQL.

    Parameters
    ----------
    accounts : DataFrame
        Canonical ``accounts`` (``employees`` required; ``annual_revenue``, ``industry`` used when present).
    opportunities, leads : DataFrame, optional
        At least one of them; deals closed (``close_date``) or leads qualified (``sql_at``) after ``as_of`` are
        ignored.
    as_of : timestamp, optional
        Cut-off (default: everything).

    Returns
    -------
    DataFrame
        The selected accounts, with ``won`` and ``converted_lead`` flags.
    """
    if accounts is None or "account_id" not in accounts.columns:
        raise MissingDataError("the accounts table is missing; personas need it")
    if "employees" not in accounts.columns:
        raise MissingDataError("accounts.employees is missing; personas cluster on company size")
    if opportunities is None and leads is None:
        raise MissingDataError("personas need the opportunities table (won deals) or the leads table (sql_at), both "
                               "missing")
    won_ids: set = set()
    if opportunities is not None:
        need = [c for c in ("account_id", "is_won") if c not in opportunities.columns]
        if need:
            raise MissingDataError(f"opportunities lack {', '.join(need)}; personas need them")
        o = opportunities[opportunities["is_won"].fillna(False).astype(bool)]
        if "type" in o.columns:
            o = o[o["type"].fillna("new_business").eq("new_business")]
        if as_of is not None and "close_date" in o.columns:
            o = o[o["close_date"] <= _naive(as_of)]
        won_ids = set(o["account_id"])
    sql_ids: set = set()
    if leads is not None and {"account_id", "sql_at"} <= set(leads.columns):
        ld = leads[leads["sql_at"].notna()]
        if as_of is not None:
            ld = ld[ld["sql_at"] <= _utc(as_of)]
        sql_ids = set(ld["account_id"].dropna())
    units = accounts[accounts["account_id"].isin(won_ids | sql_ids)].copy()
    units["won"] = units["account_id"].isin(won_ids)
    units["converted_lead"] = units["account_id"].isin(sql_ids)
    units = units[units["employees"].notna() & (units["employees"] > 0)]
    if len(units) < 10:
        raise MissingDataError(f"only {len(units)} won or converting accounts with employees; too few to find personas")
    return units.reset_index(drop=True)


def _utc(ts: Any) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _naive(ts: Any) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_convert("UTC").tz_localize(None) if t.tzinfo is not None else t


@dataclass
class PersonaModel:
    """Scaling and k-means of a persona clustering; ``assign`` places any account in a persona."""

    kmeans: KMeans
    numeric: list[str]
    mean: np.ndarray
    scale: np.ndarray
    industries: list[str] | None
    names: dict[int, str]

    def features(self, accounts: pd.DataFrame) -> np.ndarray:
        """The clustering features of ``accounts`` (missing revenue imputed from the fitted mean)."""
        cols = []
        for j, c in enumerate(self.numeric):
            x = np.log10(pd.to_numeric(accounts[c], errors="coerce").clip(lower=1.0).to_numpy(dtype=float))
            x = np.where(np.isfinite(x), x, self.mean[j])
            cols.append((x - self.mean[j]) / self.scale[j])
        X = np.column_stack(cols)
        if self.industries is not None:
            ind = accounts["industry"].astype(str).to_numpy()
            X = np.column_stack([X] + [(ind == i).astype(float) / np.sqrt(2.0) for i in self.industries])
        return X

    def assign(self, accounts: pd.DataFrame) -> pd.Series:
        """Persona name of each account (NaN for accounts without employees)."""
        ok = pd.to_numeric(accounts["employees"], errors="coerce").gt(0).to_numpy()
        out = pd.Series(np.full(len(accounts), None, dtype=object), index=accounts.index, name="persona")
        if ok.any():
            with threadpool_limits(1):
                lab = self.kmeans.predict(self.features(accounts[ok]))
            out[ok] = [self.names[int(k)] for k in lab]
        return out


def _fit_features(units: pd.DataFrame, use_industry: bool) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray,
                                                                     list[str] | None]:
    numeric = ["employees"] + (["annual_revenue"] if "annual_revenue" in units.columns
                               and units["annual_revenue"].notna().mean() > 0.5 else [])
    logs = np.column_stack([np.log10(pd.to_numeric(units[c], errors="coerce").clip(lower=1.0).to_numpy(dtype=float))
                            for c in numeric])
    mean = np.nanmean(logs, axis=0)
    logs = np.where(np.isfinite(logs), logs, mean)
    scale = logs.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    X = (logs - mean) / scale
    industries = None
    if use_industry and "industry" in units.columns:
        industries = sorted(units["industry"].dropna().astype(str).unique())
        ind = units["industry"].astype(str).to_numpy()
        X = np.column_stack([X] + [(ind == i).astype(float) / np.sqrt(2.0) for i in industries])
    return X, numeric, mean, scale, industries


def choose_k(X: np.ndarray, ks: range = range(2, 7), boots: int = 3, seed: int = 0, min_stability: float = 0.8,
             sample_size: int = 2000) -> pd.DataFrame:
    """Silhouette and bootstrap stability of k-means for each k, and which k is chosen.

    Silhouette on up to ``sample_size`` points; stability = mean adjusted Rand index between the full-data
    clustering and the clusterings fitted on ``boots`` bootstrap resamples (predicted on all points). Chosen:
    the highest silhouette among ks with stability >= ``min_stability`` (all ks when none is that stable).

    Returns
    -------
    DataFrame
        ``k, silhouette, stability, inertia, chosen``.
    """
    with threadpool_limits(1):  # k-means on a few thousand points: threads only add overhead
        return _choose_k(X, ks, boots, seed, min_stability, sample_size)


def _choose_k(X: np.ndarray, ks: range, boots: int, seed: int, min_stability: float, sample_size: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for k in ks:
        if k >= len(X):
            break
        km = KMeans(k, n_init=4, random_state=seed).fit(X)
        sil = silhouette_score(X, km.labels_, sample_size=min(sample_size, len(X)), random_state=seed)
        aris = []
        for b in range(boots):
            idx = rng.integers(0, len(X), len(X))
            kb = KMeans(k, n_init=2, random_state=seed + b + 1).fit(X[idx])
            aris.append(adjusted_rand_score(km.labels_, kb.predict(X)))
        rows.append({"k": k, "silhouette": float(sil), "stability": float(np.mean(aris)) if aris else np.nan,
                     "inertia": float(km.inertia_)})
    if not rows:
        raise ValueError("too few companies to try any k")
    out = pd.DataFrame(rows)
    pool = out[out["stability"] >= min_stability]
    pool = pool if len(pool) else out
    out["chosen"] = out["k"] == int(pool.loc[pool["silhouette"].idxmax(), "k"])
    return out


def _size_word(employees: float) -> str:
    for limit, word in ((50, "Micro"), (200, "Small"), (1000, "Mid-size"), (5000, "Large")):
        if employees < limit:
            return word
    return "Very large"


def _industry_words(shares: pd.Series) -> str:
    if shares.empty:
        return "unknown industry"
    top = shares.index[0]
    if shares.iloc[0] >= 0.5:
        return str(top)
    if len(shares) > 1 and shares.iloc[:2].sum() >= 0.6:
        return f"{shares.index[0]} & {shares.index[1]}"
    return "mixed industries"


def profile_personas(units: pd.DataFrame, label: pd.Series, opportunities: pd.DataFrame | None = None,
                     leads: pd.DataFrame | None = None, persona_of_account: pd.Series | None = None,
                     confidence: float = 0.95) -> pd.DataFrame:
    """Profile of each persona (see the module docstring for the figures).

    Parameters
    ----------
    units : DataFrame
        The clustered accounts.
    label : Series
        Persona of each unit (aligned with ``units``).
    opportunities, leads : DataFrame, optional
        For win rate, cycle, deal size and lead conversion.
    persona_of_account : Series, optional
        Persona of every account (indexed by ``account_id``), to attribute all deals and leads; default: the units'.
    confidence : float
        Coverage of the intervals.

    Returns
    -------
    DataFrame
        One row per persona: ``persona, companies, share, median_employees, median_revenue, top_industry,
        top_industry_share`` and, when the tables allow, ``win_rate, win_rate_lower, win_rate_upper, closed_deals,
        cycle_median_days, cycle_lower, cycle_upper, deal_size_median, deal_size_mean, deal_size_lower,
        deal_size_upper, leads, sql_rate, sql_rate_lower, sql_rate_upper``.
    """
    df = units.assign(persona=label.to_numpy())
    g = df.groupby("persona", observed=True)
    out = pd.DataFrame({"companies": g.size()})
    out["share"] = out["companies"] / out["companies"].sum()
    out["median_employees"] = g["employees"].median()
    if "annual_revenue" in df.columns:
        out["median_revenue"] = g["annual_revenue"].median()
    if "industry" in df.columns:
        top = g["industry"].agg(lambda s: s.value_counts(normalize=True).index[0] if s.notna().any() else None)
        out["top_industry"] = top
        out["top_industry_share"] = g["industry"].agg(lambda s: s.value_counts(normalize=True).iloc[0]
                                                      if s.notna().any() else np.nan)
    mapping = persona_of_account if persona_of_account is not None else pd.Series(
        df["persona"].to_numpy(), index=df["account_id"].to_numpy())
    if opportunities is not None and {"account_id", "is_closed", "is_won"} <= set(opportunities.columns):
        o = opportunities.assign(persona=opportunities["account_id"].map(mapping)).dropna(subset=["persona"])
        closed = o[o["is_closed"].fillna(False).astype(bool)]
        wins = closed.groupby("persona")["is_won"].sum().reindex(out.index).fillna(0)
        n = closed.groupby("persona").size().reindex(out.index).fillna(0)
        if (n > 0).sum() >= 2:
            shrunk = shrink_rates(wins, n, confidence=confidence)
            out["win_rate"] = shrunk["shrunk_rate"].to_numpy()
            out["win_rate_lower"] = shrunk["lower"].to_numpy()
            out["win_rate_upper"] = shrunk["upper"].to_numpy()
        out["closed_deals"] = n.astype(int)
        won = closed[closed["is_won"].astype(bool)]
        if {"created_date", "close_date"} <= set(won.columns) and len(won):
            cyc = won.assign(days=(won["close_date"] - won["created_date"]).dt.days.astype(float))
            cyc = cyc[cyc["days"] >= 0]
            km = km_by_group(cyc, "days", None, "persona", confidence=confidence)
            out["cycle_median_days"] = km["median"].reindex(out.index)
            out["cycle_lower"] = km["median_lower"].reindex(out.index)
            out["cycle_upper"] = km["median_upper"].reindex(out.index)
        if "amount" in won.columns and len(won):
            nb = won[won["type"].fillna("new_business").eq("new_business")] if "type" in won.columns else won
            a = nb.groupby("persona")["amount"]
            out["deal_size_median"] = a.median()
            mean, sd, cnt = a.mean(), a.std(), a.size()
            half = sps.t.ppf(0.5 + confidence / 2, np.maximum(cnt - 1, 1)) * sd / np.sqrt(cnt)
            out["deal_size_mean"] = mean
            out["deal_size_lower"] = mean - half
            out["deal_size_upper"] = mean + half
    if leads is not None and {"account_id", "sql_at"} <= set(leads.columns):
        ld = leads.assign(persona=leads["account_id"].map(mapping)).dropna(subset=["persona"])
        x = ld.groupby("persona")["sql_at"].count().reindex(out.index).fillna(0)
        n = ld.groupby("persona").size().reindex(out.index).fillna(0)
        lo, hi = wilson_interval(x.to_numpy(), n.to_numpy(), confidence)
        out["leads"] = n.astype(int)
        out["sql_rate"] = np.where(n > 0, x / n.where(n > 0), np.nan)
        out["sql_rate_lower"], out["sql_rate_upper"] = lo, hi
    out = out.sort_values("median_employees", kind="stable")
    return out.reset_index().rename(columns={"index": "persona"})


def find_personas(accounts: pd.DataFrame, opportunities: pd.DataFrame | None = None,
                  leads: pd.DataFrame | None = None, *, k: int | None = None, ks: range = range(2, 7),
                  use_industry: bool = False, as_of: Any = None, seed: int = 0
                  ) -> tuple[pd.DataFrame, pd.DataFrame, PersonaModel]:
    """Cluster buying companies into named personas and profile them.

    Parameters
    ----------
    accounts, opportunities, leads : DataFrame
        Canonical tables (see :func:`persona_units`).
    k : int, optional
        Number of personas; default chosen by :func:`choose_k`.
    ks : range
        The ks tried.
    use_industry : bool
        Also cluster on industry (one-hot); off by default, size being what usually separates buyers.
    as_of : timestamp, optional
        Ignore deals and leads after it.
    seed : int
        Seed of k-means and the bootstrap.

    Returns
    -------
    (profiles, k_table, model)
        :func:`profile_personas` (one row per persona, named like "Small Software" from the median size and
        the main industries), :func:`choose_k`'s table, and the fitted :class:`PersonaModel`.
    """
    units = persona_units(accounts, opportunities, leads, as_of)
    X, numeric, mean, scale, industries = _fit_features(units, use_industry)
    table = choose_k(X, ks, seed=seed)
    if k is None:
        k = int(table.loc[table["chosen"], "k"].iloc[0])
    elif k < 1 or k >= len(units):
        raise ValueError(f"k must be between 1 and {len(units) - 1}, got {k}")
    else:
        table["chosen"] = table["k"] == k
    with threadpool_limits(1):
        km = KMeans(k, n_init=10, random_state=seed).fit(X)
    lab = km.labels_
    names: dict[int, str] = {}
    for c in range(k):
        sel = units[lab == c]
        word = _size_word(float(sel["employees"].median()))
        ind = sel["industry"].value_counts(normalize=True) if "industry" in sel.columns else pd.Series(dtype=float)
        names[c] = f"{word} · {_industry_words(ind)}"
    seen: dict[str, int] = {}
    for c in sorted(names, key=lambda c: float(units.loc[lab == c, "employees"].median())):
        base = names[c]
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1:
            names[c] = f"{base} ({seen[base]})"
    model = PersonaModel(km, numeric, mean, scale, industries, names)
    label = pd.Series([names[int(c)] for c in lab], index=units.index)
    every = model.assign(accounts)
    every.index = accounts["account_id"].to_numpy()
    ld = leads
    if ld is not None and as_of is not None and "created_at" in ld.columns:
        ld = ld[ld["created_at"] <= _utc(as_of)]
    opp = opportunities
    if opp is not None and as_of is not None and "created_date" in opp.columns:
        opp = opp[opp["created_date"] <= _naive(as_of)]
        if "close_date" in opp.columns:  # a deal closed after the as-of moment was still open then
            later = opp["close_date"] > _naive(as_of)
            opp = opp.assign(is_closed=opp["is_closed"].astype(bool) & ~later, is_won=opp["is_won"].astype(bool) & ~later)
    profiles = profile_personas(units, label, opp, ld, persona_of_account=every)
    return profiles, table, model
