"""The predictive traits on a generated dataset of 2,000 persons: both models beat the
recency-only baseline on the holdout, and the same data and seed give the same scores.

The features are the dbt model `customer_features` (built by the generated build), read
the way the asset reads them."""

import duckdb
import pandas as pd
import pytest

from orchestration.assets.predictions import FEATURES_MODEL, dbt_relation
from orchestration.predictions import predict

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def generated_db(generated_predictions_build):
    con = duckdb.connect(str(generated_predictions_build.warehouse), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def features(generated_db) -> pd.DataFrame:
    return generated_db.sql(f"select * from {dbt_relation(FEATURES_MODEL)}").df()


def test_the_features_are_as_of_the_builds_now_and_a_horizon_before(generated_db, features):
    (as_of,) = generated_db.execute("select as_of_at from intermediate.int_as_of").fetchone()
    cutoffs = features.groupby("feature_set")["features_as_of_at"].unique()
    assert list(cutoffs["scoring"]) == [pd.Timestamp(as_of)]
    assert list(cutoffs["training"]) == [pd.Timestamp(as_of) - pd.Timedelta(days=30)]


def test_both_models_beat_the_recency_baseline(features):
    run = predict(features)
    for result in (run.purchase, run.churn):
        assert result.trained, result.reason
        assert result.holdout_rows >= 100
        print(f"{result.name}: AUC {result.holdout_auc:.3f} vs {result.baseline_auc:.3f}")
        assert result.holdout_auc > result.baseline_auc, result.name


def test_the_asset_wrote_what_the_model_predicts_deterministically(generated_db, features):
    first = predict(features).predictions.set_index("person_id")
    # The warehouse's row order does not matter.
    second = predict(features.sample(frac=1, random_state=1)).predictions.set_index("person_id")
    assert first.equals(second)
    stored = (
        generated_db.execute(
            "select person_id, purchase_propensity_30d, churn_risk from marts.customer_predictions"
        )
        .df()
        .set_index("person_id")
    )
    assert set(stored.index) == set(first.index)
    joined = stored.join(first, rsuffix="_now")
    assert (
        joined["purchase_propensity_30d"] - joined["purchase_propensity_30d_now"]
    ).abs().max() < 1e-9
