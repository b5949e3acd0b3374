"""`identity.match_pairs`: Splink-scored candidate pairs (issue 10, see identity_matching.py).

Reads `int_identity_match_candidates` whole, trains and scores (`train_and_score`) on
the warehouse's own engine, and writes the pairs back for dbt to read as a source; the
model's JSON is saved as `<artefact_dir>/identity_match_model_<version>.json` and its
parameters go to the asset metadata. Not yet registered in the Definitions (the dbt
source and the probabilistic edge tier that read it are the next step of issue 10).
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pyarrow as pa

from orchestration.assets.predictions import dbt_relation
from orchestration.identity_matching import PAIR_COLUMNS, ScoredPairs, train_and_score
from orchestration.warehouse import Warehouse

CANDIDATES_MODEL = "int_identity_match_candidates"
PAIRS_RELATION = "identity.match_pairs"
PAIRS_SCHEMA = pa.schema(
    [
        ("match_record_id_l", pa.string()),
        ("match_record_id_r", pa.string()),
        ("match_probability", pa.float64()),
        ("match_weight", pa.float64()),
        ("model_version", pa.string()),
    ]
)


def score(warehouse: Warehouse, relation: str | None = None) -> ScoredPairs:
    """Train and score on the candidate records of `relation` (default: the dbt model)."""
    records = warehouse.read_arrow(relation or dbt_relation(CANDIDATES_MODEL)).to_pandas()
    return train_and_score(records, warehouse.splink_db_api())


def write_pairs(warehouse: Warehouse, scored: ScoredPairs) -> None:
    """Replace `identity.match_pairs` with the scored pairs of one model version."""
    pairs = scored.pairs[list(PAIR_COLUMNS)].assign(model_version=scored.version)
    warehouse.create_schema(PAIRS_RELATION.split(".")[0])
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
