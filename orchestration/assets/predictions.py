"""`marts.customer_predictions`: predictive traits from scikit-learn (see predictions.py).

dbt builds the features (`customer_features`, in the first dbt step); this asset reads that
relation whole, fits, scores and writes the predictions back. The warehouse is touched only
by `read_features` and `write_predictions`.
"""

import json
from pathlib import Path

import dagster as dg
import pyarrow as pa

from orchestration.predictions import PredictionRun, TargetResult, predict
from orchestration.project import dbt_project
from orchestration.reports import SUMMARY_KEY
from orchestration.resources import WarehouseResource

PREDICTIONS_KEY = dg.AssetKey(["marts", "customer_predictions"])
FEATURES_MODEL = "customer_features"
FEATURES_KEY = dg.AssetKey(["marts", FEATURES_MODEL])
PREDICTIONS_RELATION = "marts.customer_predictions"


def dbt_relation(model: str, manifest_path: Path | None = None) -> str:
    """`schema.alias` of a model of this project, as the dbt manifest names it (so a
    schema or alias configured in dbt is followed here)."""
    manifest = json.loads((manifest_path or dbt_project.manifest_path).read_text())
    node = manifest["nodes"][f"model.cdp.{model}"]
    return f'"{node["schema"]}"."{node["alias"]}"'


def read_features(warehouse: WarehouseResource) -> pa.Table:
    """The whole `customer_features` relation."""
    relation = dbt_relation(FEATURES_MODEL)
    with warehouse.connect(read_only=True) as con:
        return con.sql(f"select * from {relation}").to_arrow_table()


def write_predictions(warehouse: WarehouseResource, predictions: pa.Table) -> None:
    """Replace `marts.customer_predictions` (read back by dbt as source `ml`)."""
    with warehouse.connect() as con:
        con.register("predictions_frame", predictions)
        con.execute(
            f"create or replace table {PREDICTIONS_RELATION} as select person_id, "
            "purchase_propensity_30d::double as purchase_propensity_30d, "
            "churn_risk::double as churn_risk, predicted_at::timestamp as predicted_at "
            "from predictions_frame"
        )
        con.unregister("predictions_frame")


class PredictionConfig(dg.Config):
    """The model's seed: the same data and seed give the same predictions."""

    seed: int = 42


def _target_metadata(result: TargetResult) -> dict[str, dg.MetadataValue]:
    prefix = result.name
    metadata: dict[str, dg.MetadataValue] = {
        f"{prefix}/trained": dg.MetadataValue.bool(result.trained),
        f"{prefix}/training_rows": dg.MetadataValue.int(result.training_rows),
        f"{prefix}/holdout_rows": dg.MetadataValue.int(result.holdout_rows),
        f"{prefix}/positive_rate": dg.MetadataValue.float(result.positive_rate),
    }
    if result.trained:
        metadata[f"{prefix}/holdout_roc_auc"] = dg.MetadataValue.float(result.holdout_auc)
        metadata[f"{prefix}/recency_baseline_roc_auc"] = dg.MetadataValue.float(result.baseline_auc)
    else:
        metadata[f"{prefix}/not_trained_because"] = dg.MetadataValue.text(result.reason)
    return metadata


def _summary(run: PredictionRun) -> str:
    parts = []
    for result in (run.purchase, run.churn):
        if result.trained:
            parts.append(
                f"{result.name} AUC {result.holdout_auc:.3f} "
                f"(recency baseline {result.baseline_auc:.3f})"
            )
        else:
            parts.append(f"{result.name} not trained: {result.reason}")
    return f"predictions ({len(run.predictions):,} persons): " + "; ".join(parts)


@dg.asset(
    key=PREDICTIONS_KEY,
    group_name="profiles",
    deps=[FEATURES_KEY],
    kinds={"python", "scikitlearn", "duckdb"},
    owners=["team:data-science"],
    description=(
        "Purchase propensity (next 30 days) and churn risk per person, trained on the time "
        "split of customer_features (features as of a cut-off, labels from the 30 days "
        "after) with a holdout "
        "ROC AUC compared to a recency-only baseline. Joined into customer_profiles."
    ),
)
def customer_predictions(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: PredictionConfig
) -> dg.MaterializeResult:
    run = predict(read_features(warehouse).to_pandas(), seed=config.seed)
    write_predictions(warehouse, pa.Table.from_pandas(run.predictions, preserve_index=False))
    for result in (run.purchase, run.churn):
        if result.trained and result.holdout_auc <= result.baseline_auc:
            context.log.warning(
                f"{result.name}: holdout AUC {result.holdout_auc:.3f} does not beat the "
                f"recency baseline {result.baseline_auc:.3f}"
            )
    return dg.MaterializeResult(
        metadata={
            "as_of": dg.MetadataValue.text(str(run.as_of)),
            "training_cutoff": dg.MetadataValue.text(str(run.cutoff)),
            "dagster/row_count": dg.MetadataValue.int(len(run.predictions)),
            **_target_metadata(run.purchase),
            **_target_metadata(run.churn),
            SUMMARY_KEY: dg.MetadataValue.text(_summary(run)),
        }
    )
