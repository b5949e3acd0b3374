"""Splink training and scoring on a small population with known fuzzy duplicates
(issue 10): the duplicates score high, distinct people in one postcode score low."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from orchestration.identity_matching import model_version, train_and_score
from orchestration.warehouse.duckdb_warehouse import DuckDBWarehouse

FIRST = [
    "jon",
    "mary",
    "anna",
    "peter",
    "lucy",
    "omar",
    "wei",
    "sofia",
    "liam",
    "emma",
    "noah",
    "mia",
]
LAST = [
    "smith",
    "nguyen",
    "garcia",
    "muller",
    "rossi",
    "kowalski",
    "tanaka",
    "okafor",
    "dubois",
    "silva",
]
CITIES = [
    ("sydney", "2000"),
    ("melbourne", "3000"),
    ("perth", "6000"),
    ("hobart", "7000"),
    ("darwin", "0800"),
]


def population(n: int = 300, seed: int = 7) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        city, postcode = rng.choice(CITIES)
        rows.append(
            {
                "match_record_id": f"crm_contacts:k{i}",
                "first_name": rng.choice(FIRST),
                "last_name": rng.choice(LAST) + rng.choice(["", "son", "er", "ley", "ton"]),
                "city": city,
                "postal_code": str(int(postcode) + rng.randrange(40)).zfill(4),
                "country": "AU",
                "email_local_part": f"u{i}x{rng.randrange(10**6)}",
                "phone_last_digits": f"{rng.randrange(10**4):04d}",
            }
        )
    return pd.DataFrame(rows)


def with_duplicates(
    records: pd.DataFrame, every: int = 5
) -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    """A shop record for every `every`-th contact: a typo in the surname, a nickname
    or typo in the first name, same postcode, the same or another e-mail local part."""
    dupes, truth = [], set()
    for i, row in records.iloc[::every].iterrows():
        twin = row.copy()
        twin["match_record_id"] = f"shop_customers:c{i}"
        twin["last_name"] = (
            row["last_name"][:-1] + "y" if len(row["last_name"]) > 4 else row["last_name"]
        )
        # A nickname, a typo (doubled letter) or the same first name.
        first = row["first_name"]
        twin["first_name"] = (
            "jonathan" if first == "jon" else (first + first[-1] if i % 3 == 0 else first)
        )
        # Half keep their e-mail's local part at another domain, half a private one.
        twin["email_local_part"] = row["email_local_part"] if i % 2 == 0 else f"private{i}"
        dupes.append(twin)
        truth.add(tuple(sorted((row["match_record_id"], twin["match_record_id"]))))
    return pd.concat([records, pd.DataFrame(dupes)], ignore_index=True), truth


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory):
    records, truth = with_duplicates(population())
    warehouse = DuckDBWarehouse.open(tmp_path_factory.mktemp("splink") / "w.duckdb")
    try:
        return records, truth, train_and_score(records, warehouse.splink_db_api())
    finally:
        warehouse.close()


def test_fuzzy_duplicates_score_above_distinct_people(scored):
    _, truth, result = scored
    pairs = result.pairs
    key = pairs.apply(lambda p: tuple(sorted((p.match_record_id_l, p.match_record_id_r))), axis=1)
    is_true = key.isin(truth)
    found = set(key[is_true & (pairs.match_probability >= 0.9)])
    false_positives = int((~is_true & (pairs.match_probability >= 0.9)).sum())
    assert len(found) >= 0.95 * len(truth), (len(found), len(truth))
    assert false_positives <= 0.005 * max(len(found), 1) + 1, false_positives


def test_m_and_u_are_trained_and_the_model_is_versioned(scored):
    records, _, result = scored
    comparisons = result.model_json["comparisons"]
    trained = [
        level
        for comparison in comparisons
        for level in comparison["comparison_levels"]
        if not level.get("is_null_level")
    ]
    assert all("u_probability" in level and "m_probability" in level for level in trained)
    assert result.version == model_version(records)
    assert result.version != model_version(records.iloc[1:])


def test_pairs_are_written_back_and_the_model_saved_by_version(scored, tmp_path):
    from orchestration.assets.identity_matching import (
        PAIRS_RELATION,
        model_metadata,
        save_model,
        write_pairs,
    )

    _, _, result = scored
    with DuckDBWarehouse.open(tmp_path / "w.duckdb") as warehouse:
        write_pairs(warehouse, result)
        written = warehouse.read_arrow(PAIRS_RELATION).to_pandas()
    assert len(written) == len(result.pairs)
    assert set(written.model_version) == {result.version}
    path = save_model(result, tmp_path / "models")
    assert path.name == f"identity_match_model_{result.version}.json"
    assert save_model(result, tmp_path / "models") == path
    metadata = model_metadata(result, path)
    assert metadata["pairs_scored"].value == len(result.pairs)
    assert all(
        p["m"] is not None and p["u"] is not None for p in metadata["parameters"].value.values()
    )
