"""The predictive traits on a generated dataset of 2,000 persons: both models beat the
recency-only baseline on the holdout, and the same data and seed give the same scores."""

import duckdb
import pytest

from orchestration.predictions import predict

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def generated_db(generated_predictions_build):
    con = duckdb.connect(str(generated_predictions_build.warehouse), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def as_of(generated_db):
    return generated_db.execute("select as_of_at from intermediate.int_as_of").fetchone()[0]


def test_both_models_beat_the_recency_baseline(generated_db, as_of):
    run = predict(generated_db, as_of)
    for result in (run.purchase, run.churn):
        assert result.trained, result.reason
        assert result.holdout_rows >= 100
        print(f"{result.name}: AUC {result.holdout_auc:.3f} vs {result.baseline_auc:.3f}")
        assert result.holdout_auc > result.baseline_auc, result.name


def test_the_asset_wrote_what_the_model_predicts_deterministically(generated_db, as_of):
    first = predict(generated_db, as_of).predictions.set_index("person_id")
    second = predict(generated_db, as_of).predictions.set_index("person_id")
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
