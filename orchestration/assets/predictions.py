"""`marts.customer_predictions`: predictive traits from scikit-learn (see predictions.py).

dbt builds the features (`customer_features`, in the first dbt step); this asset reads that
relation whole, fits, scores and writes the predictions back, through the Warehouse adapter
(DuckDB or Spark): the warehouse is touched only by `read_features`, `write_predictions`
and `write_models` (the latest models' holdout AUC in `quality.prediction_models`).
"""

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa

from orchestration.faults import kill_point
from orchestration.predictions import PredictionRun, TargetResult, predict
from orchestration.project import dbt_project
from orchestration.reports import SUMMARY_KEY
from orchestration.resources import WarehouseResource
from orchestration.warehouse import Warehouse

PREDICTIONS_KEY = dg.AssetKey(["marts", "customer_predictions"])
FEATURES_MODEL = "customer_features"
FEATURES_KEY = dg.AssetKey(["marts", FEATURES_MODEL])
PREDICTIONS_RELATION = "marts.customer_predictions"


def dbt_relation(model: str, manifest_path: Path | None = None) -> str:
    """`schema.alias` of a model of this project, as the dbt manifest names it (so a
    schema or alias configured in dbt is followed here)."""
    manifest = json.loads((manifest_path or dbt_project.manifest_path).read_text())
    node = manifest["nodes"][f"model.cdp.{model}"]
    return f"{node['schema']}.{node['alias']}"


# The scores as the dbt source `ml.customer_predictions` declares them.
PREDICTIONS_SCHEMA = pa.schema(
    [
        ("person_id", pa.string()),
        ("purchase_propensity_30d", pa.float64()),
        ("churn_risk", pa.float64()),
        ("predicted_at", pa.timestamp("us")),
    ]
)


def read_features(warehouse: Warehouse) -> pa.Table:
    """The whole `customer_features` relation."""
    return warehouse.read_arrow(dbt_relation(FEATURES_MODEL))


# How the latest run's models did (one row per model), for readers of the serving copy
# (the studio shows each score with its model's holdout AUC); the same numbers as the
# asset's metadata. Book-keeping beside quality.gx_validation_results, written by Python.
MODELS_RELATION = "quality.prediction_models"
MODELS_SCHEMA = pa.schema(
    [
        ("model", pa.string()),  # the score's column in customer_predictions
        ("target", pa.string()),
        ("trained", pa.bool_()),
        ("holdout_auc", pa.float64()),
        ("baseline_auc", pa.float64()),
        ("training_rows", pa.int64()),
        ("holdout_rows", pa.int64()),
        ("trained_at", pa.timestamp("us")),
    ]
)


def write_models(warehouse: Warehouse, run: PredictionRun, trained_at: dt.datetime) -> None:
    """Replace quality.prediction_models with the models of `run`."""
    rows = [
        {
            "model": column,
            "target": result.name,
            "trained": result.trained,
            "holdout_auc": result.holdout_auc if result.trained else None,
            "baseline_auc": result.baseline_auc if result.trained else None,
            "training_rows": result.training_rows,
            "holdout_rows": result.holdout_rows,
            "trained_at": trained_at,
        }
        for column, result in (("purchase_propensity_30d", run.purchase), ("churn_risk", run.churn))
    ]
    warehouse.create_schema(MODELS_RELATION.split(".")[0])
    warehouse.write_arrow(MODELS_RELATION, pa.Table.from_pylist(rows, schema=MODELS_SCHEMA))


def write_predictions(warehouse: Warehouse, predictions: pd.DataFrame) -> None:
    """Replace `marts.customer_predictions` (read back by dbt as source `ml`)."""
    table = pa.Table.from_pandas(
        predictions[PREDICTIONS_SCHEMA.names], schema=PREDICTIONS_SCHEMA, preserve_index=False
    )
    warehouse.write_arrow(PREDICTIONS_RELATION, table, mode="replace")


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
    kinds={"python", "scikitlearn"},
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
    with warehouse.open(read_only=True) as reader:
        features = read_features(reader).to_pandas()
    run = predict(features, seed=config.seed)
    kill_point("predictions.before_write")
    with warehouse.open() as writer:
        write_predictions(writer, run.predictions)
        kill_point("predictions.between_writes")
        write_models(writer, run, dt.datetime.now(dt.UTC).replace(tzinfo=None))
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
