"""The tiny hand-written history shared by the engine's history and snapshot tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def d(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


NAN, NAT = np.nan, pd.NaT


def tiny_history() -> pd.DataFrame:
    """Three deals, rows in file order (Y's rows come first; X's two rows at 01-20 10:00 tie).

    - X: Qualification 100 close 03-01 (pipeline); Discovery with every value blank; back to Qualification
      (a regression) at 150, close pushed to 04-01; in the same second Proposal (file order: after), amount
      blank, close pulled in to 03-15 (not a push), best_case.
    - Y: Negotiation 200 close 02-01 (commit); Closed Lost with amount and close blank; reopened in
      Negotiation at 250, close 03-31 (a push from the kept 02-01).
    - Z: Discovery with no amount, close 05-01; an amount 80 logged four days later (same stage).
    """
    rows = [
        ("Y", ts("2025-01-05 09:00"), "Negotiation", 200.0, d("2025-02-01"), "commit"),
        ("Y", ts("2025-02-01 09:00"), "Closed Lost", NAN, NAT, "omitted"),
        ("Y", ts("2025-02-15 09:00"), "Negotiation", 250.0, d("2025-03-31"), "commit"),
        ("X", ts("2025-01-01 10:00"), "Qualification", 100.0, d("2025-03-01"), "pipeline"),
        ("X", ts("2025-01-10 10:00"), "Discovery", NAN, NAT, None),
        ("X", ts("2025-01-20 10:00"), "Qualification", 150.0, d("2025-04-01"), None),
        ("X", ts("2025-01-20 10:00"), "Proposal", NAN, d("2025-03-15"), "best_case"),
        ("Z", ts("2025-03-01 08:00"), "Discovery", NAN, d("2025-05-01"), None),
        ("Z", ts("2025-03-05 08:00"), "Discovery", 80.0, NAT, None),
    ]
    return pd.DataFrame(rows, columns=["opportunity_id", "changed_at", "stage", "amount", "close_date",
                                       "forecast_category"])
