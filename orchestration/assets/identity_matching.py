"""`identity.match_pairs`: Splink-scored candidate pairs (issue 10, see identity_matching.py).

Reads `int_identity_match_candidates` whole, trains and scores (`train_and_score`) on
the warehouse's own engine, and writes the pairs back for dbt to read as the source
`identity_matching.match_pairs` (the probabilistic links and the review mart read it);
the model's JSON is saved as `<warehouse dir>/identity_models/identity_match_model_<version>.json`
and its parameters go to the asset metadata. An engine without a Splink backend (Spark,
for now) writes an empty table: the graph builds, with deterministic links only.
"""

import json
from pathlib import Path

import dagster as dg
import pyarrow as pa

from orchestration.assets.predictions import dbt_relation
from orchestration.identity_matching import (
    PAIR_COLUMNS,
    WEIGHT_COLUMNS,
    ScoredPairs,
    train_and_score,
)
from orchestration.reports import SUMMARY_KEY
from orchestration.resources import WarehouseResource
from orchestration.warehouse import Warehouse

CANDIDATES_MODEL = "int_identity_match_candidates"
PAIRS_RELATION = "identity.match_pairs"
PAIRS_KEY = dg.AssetKey(["identity", "match_pairs"])
CANDIDATES_KEY = dg.AssetKey(["intermediate", CANDIDATES_MODEL])
PAIRS_SCHEMA = pa.schema(
    [
        ("match_record_id_l", pa.string()),
        ("match_record_id_r", pa.string()),
        ("match_probability", pa.float64()),
        ("match_weight", pa.float64()),
        *((column, pa.float64()) for column in WEIGHT_COLUMNS),
        ("model_version", pa.string()),
    ]
)


def score(warehouse: Warehouse, relation: str | None = None) -> ScoredPairs:
    """Train and score on the candidate records of `relation` (default: the dbt model)."""
    records = warehouse.read_arrow(relation or dbt_relation(CANDIDATES_MODEL)).to_pandas()
    return train_and_score(records, warehouse.splink_db_api())


def write_pairs(warehouse: Warehouse, scored: ScoredPairs | None) -> None:
    """Replace `identity.match_pairs` with the scored pairs of one model version (None:
    no model on this engine, an empty table of the same columns)."""
    warehouse.create_schema(PAIRS_RELATION.split(".")[0])
    if scored is None:
        table = PAIRS_SCHEMA.empty_table()
    else:
        pairs = scored.pairs[list(PAIR_COLUMNS)].assign(model_version=scored.version)
        table = pa.Table.from_pandas(pairs, schema=PAIRS_SCHEMA, preserve_index=False)
    warehouse.write_arrow(PAIRS_RELATION, table, mode="replace")


def save_model(scored: ScoredPairs, artefact_dir: Path) -> Path:
    """The trained model's JSON, named by its version (same settings and data, same file)."""
    artefact_dir.mkdir(parents=True, exist_ok=True)
    path = artefact_dir / f"identity_match_model_{scored.version}.json"
    path.write_text(json.dumps(scored.model_json, indent=2, sort_keys=True))
    return path


def model_metadata(scored: ScoredPairs, model_path: Path) -> dict[str, dg.MetadataValue]:
    """Pairs scored, the version and every trained m and u, for the asset's metadata."""
    parameters = {
        f"{comparison['output_column_name']}: {level.get('label_for_charts', '')}": {
            "m": level.get("m_probability"),
            "u": level.get("u_probability"),
        }
        for comparison in scored.model_json["comparisons"]
        for level in comparison["comparison_levels"]
        if not level.get("is_null_level")
    }
    return {
        "model_version": dg.MetadataValue.text(scored.version),
        "model_path": dg.MetadataValue.path(str(model_path)),
        "pairs_scored": dg.MetadataValue.int(len(scored.pairs)),
        "probability_two_random_records_match": dg.MetadataValue.float(
            float(scored.model_json["probability_two_random_records_match"])
        ),
        "parameters": dg.MetadataValue.json(parameters),
    }


def _summary(scored: ScoredPairs | None, reason: str | None = None) -> str:
    if scored is None:
        return f"probabilistic matching skipped: {reason}"
    return (
        f"probabilistic matching: {len(scored.pairs):,} candidate pairs scored "
        f"(model {scored.version})"
    )


@dg.asset(
    key=PAIRS_KEY,
    group_name="identity",
    deps=[CANDIDATES_KEY],
    kinds={"python", "splink"},
    owners=["team:data-platform"],
    description=(
        "Candidate record pairs (CRM contacts, shop customers) scored by a Splink model "
        "trained on this run's records (m by EM, u by random sampling): match probability, "
        "match weight and one weight per comparison. Read by dbt as source "
        "identity_matching.match_pairs: the probabilistic links below every deterministic "
        "rule, and the clerical-review mart (docs/identity.md). Empty on an engine without "
        "a Splink backend."
    ),
)
def identity_match_pairs(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    scored: ScoredPairs | None = None
    reason = None
    with warehouse.open() as writer:
        try:
            scored = score(writer)
        except NotImplementedError as error:
            # Spark: no Splink backend wired yet; the graph builds without the tier.
            reason = str(error)
            context.log.warning(f"identity matching skipped: {reason}")
        write_pairs(writer, scored)
    if scored is None:
        return dg.MaterializeResult(
            metadata={
                "pairs_scored": dg.MetadataValue.int(0),
                "skipped_because": dg.MetadataValue.text(str(reason)),
                SUMMARY_KEY: dg.MetadataValue.text(_summary(None, reason)),
            }
        )
    model_path = save_model(scored, Path(warehouse.path).parent / "identity_models")
    return dg.MaterializeResult(
        metadata={
            **model_metadata(scored, model_path),
            "dagster/row_count": dg.MetadataValue.int(len(scored.pairs)),
            SUMMARY_KEY: dg.MetadataValue.text(_summary(scored)),
        }
    )
