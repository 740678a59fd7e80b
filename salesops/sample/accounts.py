"""Accounts: the companies sold to, with firmographics, a segment derived from employees, and potential."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import params as P
from ._random import choice_codes, stream

_ADJ = (
    "Blue Red Green Silver Golden Bright Swift North South East West Summit Harbor River Stone Iron Cedar "
    "Maple Pine Oak Granite Crystal Polar Solar Lunar Coastal Prairie Canyon Alpine Urban Vivid Clear True "
    "Prime Noble Rapid Quiet Bold Steady Atlas Apex Vertex Horizon Pioneer Beacon Cobalt Crimson Amber Onyx "
    "Ivory Jade Copper Velvet Falcon Eagle Orca Lynx Fox Raven Heron Willow Aspen Birch Juniper Sierra Delta "
    "Nova Orbit Pixel Quantum Vector Nimbus Zenith Lumen Tidal Ember Frost Meadow"
).split()
_NOUN = (
    "Labs Works Systems Dynamics Analytics Logic Networks Health Foods Freight Media Partners Capital "
    "Industries Solutions Robotics Energy Learning Retail Brands Motors Bio Pharma Textiles Metals Studio "
    "Ventures Holdings Supply Logistics Software Data Cloud Security Finance Insurance Clinics Schools "
    "Markets Outfitters Apparel Devices Materials Chemicals Agritech Transit Shipping Telecom Games Films "
    "Publishing Print Foundry Machines Tools Instruments Optics Sensors Power Water Homes Realty Hospitality"
).split()
_SUFFIX = ("Inc", "LLC", "Ltd", "Group", "Co", "Corp", "GmbH", "SA", "plc", "Pty")

EMPLOYEE_BANDS = ((10, 199), (200, 1999), (2000, 60000))
REVENUE_PER_EMPLOYEE = dict(
    zip(P.INDUSTRIES, (250e3, 400e3, 180e3, 220e3, 150e3, 90e3, 200e3, 170e3), strict=True)
)
INDUSTRY_MIX = (0.22, 0.12, 0.12, 0.14, 0.12, 0.08, 0.08, 0.12)
COUNTRY_MIX = (0.65, 0.07, 0.10, 0.07, 0.05, 0.06)
#: share of each country's accounts in the East region (the rest are West)
COUNTRY_EAST = (0.55, 0.60, 1.0, 1.0, 1.0, 0.0)


def _names(rng: np.random.Generator, n: int) -> list[str]:
    total = len(_ADJ) * len(_NOUN)
    picks = rng.choice(total, size=min(n, total), replace=False)
    if n > total:
        picks = np.r_[picks, rng.integers(0, total, n - total)]
    suffix = rng.integers(0, len(_SUFFIX), n)
    names = [
        f"{_ADJ[c // len(_NOUN)]} {_NOUN[c % len(_NOUN)]} {_SUFFIX[s]}"
        for c, s in zip(picks, suffix, strict=True)
    ]
    seen: dict[str, int] = {}
    out = []
    for name in names:
        k = seen.get(name, 0)
        seen[name] = k + 1
        out.append(name if k == 0 else f"{name} {k + 1}")
    return out


def build_accounts(seed: int, scale: P.Scale) -> pd.DataFrame:
    """Accounts with their firmographics and internal columns.

    Internal columns: ``_seg`` and ``_reg`` (codes), ``_ind`` (industry code), ``_weight`` (relative
    propensity to produce leads) and ``_base_created`` (day the account was created in the CRM if it was there
    before the period, else NaN: such accounts are created when their first lead, deal or activity appears).
    """
    rng = stream(seed, "accounts")
    n = scale.accounts
    seg = choice_codes(rng, P.ACCOUNT_SEGMENT_MIX, n)
    lo = np.array([b[0] for b in EMPLOYEE_BANDS], dtype=float)[seg]
    hi = np.array([b[1] for b in EMPLOYEE_BANDS], dtype=float)[seg]
    # log-uniform inside the band, tilted towards its lower end
    x = rng.random(n) ** 1.3
    employees = np.floor(np.exp(np.log(lo) + x * (np.log(hi + 1) - np.log(lo))))
    employees = np.clip(employees, lo, hi)
    assert np.array_equal(P.segment_of_employees(employees), seg)
    ind = choice_codes(rng, INDUSTRY_MIX, n)
    country = choice_codes(rng, COUNTRY_MIX, n)
    east = rng.random(n) < np.asarray(COUNTRY_EAST)[country]
    reg = np.where(east, 0, 1)
    rev_pe = np.array([REVENUE_PER_EMPLOYEE[i] for i in P.INDUSTRIES])[ind]
    annual_revenue = np.round(employees * rev_pe * np.exp(0.35 * rng.standard_normal(n)), -3)
    mid = np.sqrt(lo * hi)
    size_factor = (employees / mid) ** 0.4
    noise = np.exp(0.3 * rng.standard_normal(n))
    potential = np.round(3.0 * np.asarray(P.ACV_MEDIAN)[seg] * size_factor * noise, -3)
    weight = size_factor * noise * np.exp(0.4 * rng.standard_normal(n))
    pre = rng.random(n) < 0.40
    base_created = np.where(pre, rng.uniform(-7 * 365, -1, n), np.nan)
    df = pd.DataFrame(
        {
            "name": _names(rng, n),
            "industry": np.asarray(P.INDUSTRIES, dtype=object)[ind],
            "employees": employees,
            "annual_revenue": annual_revenue,
            "country": np.asarray(P.COUNTRIES, dtype=object)[country],
            "region": np.asarray(P.REGIONS, dtype=object)[reg],
            "segment": np.asarray(P.SEGMENTS, dtype=object)[seg],
            "potential": potential,
            "_seg": seg,
            "_reg": reg,
            "_ind": ind,
            "_weight": weight,
            "_base_created": np.floor(base_created),
        }
    )
    width = max(6, len(str(n)))
    df.insert(0, "account_id", [f"AC{i + 1:0{width}d}" for i in range(n)])
    return df
