"""Probabilistic identity matching with Splink (issue 10): the model fitting boundary.

Reads the candidate records (`int_identity_match_candidates`), trains m by EM and u
by random sampling (never hand-set), and scores the candidate pairs the blocking rules
keep. The engine is the warehouse's own (`Warehouse.splink_db_api`), so no SQL and no
engine import live here. The trained model's JSON is versioned by a hash of the
settings and the training records.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

RECORD_ID = "match_record_id"
# Columns of the scored pairs the identity graph reads.
PAIR_COLUMNS = ("match_record_id_l", "match_record_id_r", "match_probability", "match_weight")


def settings() -> Any:
    """Splink settings: blocking near-linear (postcode, or surname + city, or e-mail
    local part, or phone last digits) and comparisons with graded levels."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=RECORD_ID,
        blocking_rules_to_generate_predictions=[
            block_on("postal_code"),
            block_on("last_name", "city"),
            block_on("email_local_part"),
            block_on("phone_last_digits", "country"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("first_name", [0.92, 0.8]),
            cl.DamerauLevenshteinAtThresholds("last_name", [1, 2]),
            cl.DamerauLevenshteinAtThresholds("postal_code", [1]),
            cl.ExactMatch("city"),
            cl.ExactMatch("email_local_part"),
            cl.ExactMatch("phone_last_digits"),
        ],
        retain_intermediate_calculation_columns=True,
    )


def model_version(records: pd.DataFrame) -> str:
    """A short hash of the settings and the training records: the artefact's version."""
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            settings().get_settings("duckdb").as_dict(), sort_keys=True, default=str
        ).encode()
    )
    digest.update(
        pd.util.hash_pandas_object(records.sort_values(RECORD_ID), index=False).values.tobytes()
    )
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class ScoredPairs:
    pairs: pd.DataFrame
    model_json: dict[str, Any]
    version: str


def train_and_score(
    records: pd.DataFrame, db_api: Any, *, threshold: float = 0.0, seed: int = 1
) -> ScoredPairs:
    """Train on `records` (one row per candidate) and score every blocked pair whose
    match probability is at least `threshold`."""
    from splink import Linker, block_on

    linker = Linker(records, settings(), db_api=db_api)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email_local_part"), block_on("phone_last_digits", "postal_code")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
    # EM blocked on two different fields, so every comparison is trained at least once.
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postal_code"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("last_name"))
    predicted = linker.inference.predict(
        threshold_match_probability=threshold
    ).as_pandas_dataframe()
    weights = [c for c in predicted.columns if c.startswith("bf_")]
    pairs = predicted[[*PAIR_COLUMNS, *weights]].sort_values(
        ["match_record_id_l", "match_record_id_r"]
    )
    return ScoredPairs(
        pairs=pairs.reset_index(drop=True),
        model_json=linker.misc.save_model_to_json(),
        version=model_version(records),
    )
