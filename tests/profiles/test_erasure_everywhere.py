"""Right to erasure: no identifier of a person the generator erased appears anywhere
people or syncs can read: every table outside the raw,
staging and intermediate layers, the serving copy (DuckDB file and Parquet) and the
export files. Erased persons are kept only as hashes in `marts.suppression_list`.
"""

from collections.abc import Iterable
from pathlib import Path

import duckdb
import pytest

# The layers that hold the raw records as delivered (the files are the system of
# record upstream of the CDP); everything built for readers is scanned.
INTERNAL_SCHEMAS = ("raw", "staging", "intermediate", "information_schema", "pg_catalog")
TEXT_TYPES = ("VARCHAR", "JSON")
ID_FIELDS = ("customer_ids", "emails", "phones", "anonymous_ids", "device_ids", "contact_ids")


@pytest.fixture(scope="module")
def erased_values(demo_truth) -> set[str]:
    values = {
        value
        for person in demo_truth["persons"]
        if person["is_erased"]
        for field in ID_FIELDS
        for value in person[field]
    }
    assert values, "the demo data has erased persons"
    return values


def text_values(con: duckdb.DuckDBPyConnection, relations: Iterable[str]) -> dict[str, set[str]]:
    """relation.column -> every distinct text value of that column."""
    found: dict[str, set[str]] = {}
    for relation in relations:
        columns = con.execute(f"describe select * from {relation}").fetchall()
        for name, column_type, *_ in columns:
            if column_type.upper() in TEXT_TYPES or column_type.upper().endswith("[]"):
                rows = con.execute(
                    f'select distinct cast("{name}" as varchar) from {relation} '
                    f'where "{name}" is not null'
                ).fetchall()
                found[f"{relation}.{name}"] = {row[0] for row in rows}
    return found


def leaks(values: dict[str, set[str]], erased: set[str]) -> dict[str, list[str]]:
    """Columns holding an erased value, whole or inside a longer text (JSON, lists).

    Values shorter than 10 characters (contact numbers like `0000017`) are matched whole
    only: inside a text they would match unrelated ids such as order `00000001700`.
    """
    hits: dict[str, list[str]] = {}
    for column, column_values in values.items():
        exact = column_values & erased
        inside = {
            secret
            for secret in erased
            for value in column_values
            if len(secret) >= 10 and secret in value
        }
        if exact | inside:
            hits[column] = sorted(exact | inside)
    return hits


def reader_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema not in {INTERNAL_SCHEMAS} order by 1, 2"
    ).fetchall()
    return [f'"{schema}"."{table}"' for schema, table in rows]


def test_no_mart_holds_an_erased_identifier(demo_db, erased_values):
    tables = reader_tables(demo_db)
    assert '"marts"."customer_profiles"' in tables
    assert '"quality"."quarantined_rows"' in tables
    values = text_values(demo_db, tables)
    assert leaks(values, erased_values) == {}


def test_the_suppression_list_keeps_only_hashes(demo_db, erased_values):
    columns = [row[0] for row in demo_db.execute("describe marts.suppression_list").fetchall()]
    assert "identifier_value" not in columns
    hashes = [
        row[0]
        for row in demo_db.execute("select identifier_hash from marts.suppression_list").fetchall()
    ]
    assert hashes
    assert all(len(value) == 64 for value in hashes)


def test_the_serving_copy_holds_no_erased_identifier(demo_build, erased_values):
    serving = Path(demo_build.warehouse).parent / "serving"
    database = serving / "cdp.duckdb"
    assert database.exists()
    secrets = erased_values
    with duckdb.connect(str(database), read_only=True) as con:
        tables = reader_tables(con)
        assert '"marts"."customer_profiles"' in tables
        assert leaks(text_values(con, tables), secrets) == {}
    parquet_files = sorted((serving / "parquet").rglob("*.parquet"))
    assert parquet_files
    with duckdb.connect() as con:
        relations = [f"read_parquet('{path}')" for path in parquet_files]
        assert leaks(text_values(con, relations), secrets) == {}


def test_no_export_file_holds_an_erased_identifier(demo_build, erased_values):
    exports = Path(demo_build.warehouse).parent / "exports"
    files = [path for path in exports.rglob("*") if path.is_file()] if exports.exists() else []
    for path in files:
        if path.suffix == ".parquet":
            with duckdb.connect() as con:
                text = str(con.execute(f"select * from read_parquet('{path}')").fetchall())
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
        assert not [value for value in erased_values if value in text], path


def test_the_scan_sees_an_erased_value_whole_and_inside_a_json_text(erased_values):
    email = next(value for value in erased_values if "@" in value)
    columns = {"t.email": {email}, "t.payload": {f'{{"email": "{email}"}}'}, "t.other": {"x"}}
    assert leaks(columns, erased_values) == {"t.email": [email], "t.payload": [email]}
