"""Transaction log → one row per customer: frequency, recency, T and mean repeat spend (the CLV models' input)."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["TIME_UNITS", "rfm_summary"]

#: Length in days of each time unit ``rfm_summary`` measures recency and T in.
TIME_UNITS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12.0, "Y": 365.25}


def _unit_days(freq: str | float) -> float:
    if isinstance(freq, str):
        try:
            return TIME_UNITS[freq.upper()]
        except KeyError:
            raise ValueError(f"freq must be one of {sorted(TIME_UNITS)} or a number of days, got {freq!r}") from None
    days = float(freq)
    if not days > 0:
        raise ValueError(f"freq as a number of days must be > 0, got {freq!r}")
    return days


def rfm_summary(
    transactions: pd.DataFrame,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    observation_end: str | pd.Timestamp | None = None,
    freq: str | float = "W",
    date_format: str | None = None,
) -> pd.DataFrame:
    """Summarise a transaction log the way the BG/NBD and Gamma-Gamma literature does.

    Purchases on the same calendar day are merged into one (amounts summed), transactions after
    ``observation_end`` are ignored, and each customer's *first* purchase only starts the clock:

    * ``frequency`` :math:`x` — number of repeat purchase days (purchase days minus one);
    * ``recency`` :math:`t_x` — time from first to last purchase day (0 when :math:`x = 0`);
    * ``T`` — time from first purchase day to ``observation_end``;
    * ``monetary_value`` — mean amount of the repeat purchase days (first purchase excluded; 0 when
      :math:`x = 0`), only when ``amount_col`` is given.

    Times are days divided by the unit length (``W``: 7, so weeks with decimals, as in Fader, Hardie & Lee's
    CDNOW data: 272 days = 38.86 weeks).

    Parameters
    ----------
    transactions : DataFrame
        One row per transaction.
    customer_col, date_col, amount_col : str
        Column names; ``amount_col=None`` skips the monetary value. Customer ids are kept as they are (read them
        as strings to keep leading zeros).
    observation_end : date-like or None
        Last day of the observation (calibration) period, inclusive; the latest transaction day when None.
    freq : {"D", "W", "M", "Y"} or float
        Time unit of ``recency`` and ``T`` (``M`` = 365.25/12 days), or its length in days.
    date_format : str or None
        ``strftime`` format to parse the dates with (``"%Y%m%d"`` for CDNOW's integer dates).

    Returns
    -------
    DataFrame
        Indexed by customer (sorted), columns ``frequency, recency, T`` and ``monetary_value``. Customers whose
        first purchase is after ``observation_end`` are absent.
    """
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(f"transactions must be a pandas DataFrame, got {type(transactions).__name__}")
    for role, col in (("customer_col", customer_col), ("date_col", date_col), ("amount_col", amount_col)):
        if col is not None and col not in transactions.columns:
            raise KeyError(f"{col!r} column ({role}) is missing from transactions; it has {list(transactions.columns)}")
    unit = _unit_days(freq)
    raw_dates = transactions[date_col]
    if date_format is not None:
        dates = pd.to_datetime(raw_dates.astype(str), format=date_format)
    elif pd.api.types.is_datetime64_any_dtype(raw_dates):
        dates = raw_dates
    else:
        dates = pd.to_datetime(raw_dates)
    if dates.isna().any():
        raise ValueError(f"{date_col!r} has {int(dates.isna().sum())} missing or unparseable date(s)")
    if transactions[customer_col].isna().any():
        raise ValueError(f"{customer_col!r} has {int(transactions[customer_col].isna().sum())} missing id(s)")
    days = dates.dt.normalize()
    tz = days.dt.tz
    if observation_end is None:
        end = days.max()
    else:
        end = pd.Timestamp(observation_end)
        if tz is not None and end.tzinfo is None:
            end = end.tz_localize(tz)
        elif tz is None and end.tzinfo is not None:
            raise ValueError("observation_end has a time zone but the transaction dates do not")
        end = end.normalize()
    frame = pd.DataFrame(
        {"customer": transactions[customer_col].reset_index(drop=True), "day": days.reset_index(drop=True)}
    )
    if amount_col is not None:
        amounts = pd.to_numeric(transactions[amount_col], errors="coerce")
        if amounts.isna().any():
            raise ValueError(f"{amount_col!r} has {int(amounts.isna().sum())} missing or non-numeric amount(s)")
        frame["amount"] = amounts.to_numpy(dtype=float)  # positional: frame has a fresh RangeIndex
    else:
        frame["amount"] = 0.0
    frame = frame[frame["day"] <= end]
    daily = frame.groupby(["customer", "day"], sort=True, observed=True)["amount"].sum().reset_index()
    per = daily.groupby("customer", sort=True, observed=True)
    first = per["day"].min()
    last = per["day"].max()
    n_days = per["day"].size()
    total = per["amount"].sum()
    first_amount = per["amount"].first()  # days are sorted within customer, so this is the first day's amount
    frequency = (n_days - 1).astype(np.int64)
    out = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last - first).dt.days.to_numpy() / unit,
            "T": (end - first).dt.days.to_numpy() / unit,
        },
        index=first.index,
    )
    if amount_col is not None:
        repeat = (total - first_amount).to_numpy()
        out["monetary_value"] = np.where(frequency > 0, repeat / np.maximum(frequency, 1), 0.0)
    out.index.name = customer_col
    return out
