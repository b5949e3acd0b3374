"""Probabilistic identity matching with Splink (issue 10): the model fitting boundary.

Reads the candidate records (`int_identity_match_candidates`), trains m by EM and u
by random sampling (never hand-set), and scores the candidate pairs the blocking rules
keep. The engine is the warehouse's own (`Warehouse.splink_db_api`), so no SQL and no
engine import live here. The trained model's JSON is versioned by a hash of the
settings and the training records.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

RECORD_ID = "match_record_id"
# The comparisons of the model, by output column: each pair carries one match weight per
# comparison (`weight_<name>`, log2 of its Bayes factor; 0 when a side is null), the
# waterfall that `cdp explain` and the review mart show.
COMPARISONS = (
    "first_name",
    "last_name",
    "postal_code",
    "city",
    "email_local_part",
    "phone_last_digits",
)
WEIGHT_COLUMNS = tuple(f"weight_{name}" for name in COMPARISONS)
# Columns of the scored pairs the identity graph reads.
PAIR_COLUMNS = (
    "match_record_id_l",
    "match_record_id_r",
    "match_probability",
    "match_weight",
    *WEIGHT_COLUMNS,
)


def first_name_comparison() -> Any:
    """First names: exact, then one formal name (a nickname: bob / robert, from the seed
    identity_nicknames through `first_name_canonical`), then Jaro-Winkler >= 0.92, >= 0.8."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        output_column_name="first_name",
        comparison_levels=[
            cll.NullLevel("first_name"),
            cll.ExactMatchLevel("first_name"),
            cll.CustomLevel(
                "first_name_canonical_l = first_name_canonical_r",
                label_for_charts="Nickname of one formal name",
            ),
            cll.JaroWinklerLevel("first_name", 0.92),
            cll.JaroWinklerLevel("first_name", 0.8),
            cll.ElseLevel(),
        ],
    )


def settings() -> Any:
    """Splink settings: blocking near-linear (postcode, or surname + city, or e-mail
    local part, or phone last digits) and comparisons with graded levels (the first
    name's nickname-aware, `first_name_comparison`)."""
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
            first_name_comparison(),
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
    # Splink narrates every EM iteration on its logger; the run's log wants the outcome
    # (the trained m and u are in the asset metadata), so only its errors pass.
    with _quiet_splink():
        return _train_and_score(records, db_api, threshold=threshold, seed=seed)


@contextlib.contextmanager
def _quiet_splink() -> Iterator[None]:
    logger = logging.getLogger("splink")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _train_and_score(
    records: pd.DataFrame, db_api: Any, *, threshold: float, seed: int
) -> ScoredPairs:
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
    for name in COMPARISONS:
        # A Bayes factor of 1 (a null side) is weight 0: it moves nothing.
        predicted[f"weight_{name}"] = np.log2(predicted[f"bf_{name}"].astype(float))
    pairs = predicted[list(PAIR_COLUMNS)].sort_values(["match_record_id_l", "match_record_id_r"])
    return ScoredPairs(
        pairs=pairs.reset_index(drop=True),
        model_json=linker.misc.save_model_to_json(),
        version=model_version(records),
    )
