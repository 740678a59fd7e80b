"""As-of invariance: deleting every record dated after as_of changes no forecast made as of as_of."""

import numpy as np
import pandas as pd
import pytest

from salesops.forecast import SnapshotBuilder, deal_features, forecast_quarter
from salesops.io.data import SalesData


def truncated(data: SalesData, as_of: pd.Timestamp) -> SalesData:
    """The CRM as an export taken at ``as_of`` would hold it; later facts in the opportunities table are
    scrambled so that any use of them would show."""
    t = dict(data.tables)
    t["opportunity_history"] = data.opportunity_history.loc[data.opportunity_history["changed_at"] <= as_of]
    known = set(t["opportunity_history"]["opportunity_id"])
    opps = data.opportunities.loc[data.opportunities["opportunity_id"].isin(known)].copy()
    opps["stage"], opps["amount"], opps["is_won"] = "Closed Won", 1.0, True
    t["opportunities"] = opps
    t["activities"] = data.activities.loc[data.activities["occurred_at"] <= as_of]
    return SalesData(tables=t, as_of=as_of)


CASES = [("2024Q2", "2024-04-29", ("gbm", "stage_age", "weighted_pipeline")),
         ("2024Q4", "2024-10-01", ("commit", "run_rate", "seasonal_naive")),
         ("2025Q2", "2025-05-27", ("stage_age", "best_case"))]


@pytest.mark.parametrize(("quarter", "day", "methods"), CASES)
def test_forecast_unchanged_when_the_future_is_deleted(sample, builder, quarter, day, methods):
    as_of = pd.Timestamp(day, tz="UTC")
    cut = SnapshotBuilder(truncated(sample, as_of))
    a = deal_features(builder, as_of, quarter)
    b = deal_features(cut, as_of, quarter)
    pd.testing.assert_frame_equal(a, b)
    for m in methods:
        full = forecast_quarter(builder, quarter, as_of, method=m, n_sims=300).summary("segment")
        part = forecast_quarter(cut, quarter, as_of, method=m, n_sims=300).summary("segment")
        pd.testing.assert_frame_equal(full, part)
        assert np.isfinite(full["forecast"]).all()
