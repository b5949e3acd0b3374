"""Raw tables an EL tool landed (`--raw-schema`, docs/own-data.md) instead of files."""

import duckdb
import pytest

from orchestration.ingestion.contract import load_contract
from tests.conftest import THROUGH_QUALITY, build_warehouse

LINEAGE = ("_file", "_row_number", "_loaded_at")


@pytest.mark.slow
def test_staging_builds_from_a_landing_schema_without_lineage_columns(
    tmp_path, demo_db, restore_environ
):
    """Contract tables in `landing`, as Fivetran / Airbyte / dlt would leave them (no
    `_file`, `_row_number`, `_loaded_at`): staging and the quality marts build from
    them, no file is ingested and the row accounting still balances. Only the sources
    differ from a file-loaded build, so only what reads them is built (the later layers
    read staging alone and are asserted on the demo build)."""
    tables = sorted(load_contract().tables)
    target = tmp_path / "el"
    target.mkdir()
    with duckdb.connect(str(target / "cdp.duckdb")) as con:
        con.execute("create schema landing")
        for table in tables:
            landed = demo_db.sql(
                f"select * exclude ({', '.join(LINEAGE)}) from raw.{table}"
            ).to_arrow_table()
            con.register("landed", landed)
            con.execute(f"create table landing.{table} as select * from landed")
            con.unregister("landed")

    # The raw folder does not exist: a file ingestion step would fail on it.
    summary = build_warehouse(
        tmp_path / "no_raw_folder", target, raw_schema="landing", selection=THROUGH_QUALITY
    )

    assert summary.success, summary.render()
    assert summary.tables == {}  # no ingestion asset materialised
    with duckdb.connect(str(target / "cdp.duckdb"), read_only=True) as con:
        schemas = {
            row[0] for row in con.execute("select schema_name from duckdb_schemas()").fetchall()
        }
        assert "raw" not in schemas  # nothing created the file-ingestion tables
        accounting = con.execute(
            "select source_table, raw_rows, staged_rows, quarantined_rows, superseded_rows, "
            "soft_deleted_rows from quality.row_accounting order by 1"
        ).fetchall()
        stages = {
            row[0]
            for row in con.execute(
                "select distinct quarantine_stage from quality.quarantined_rows"
            ).fetchall()
        }
        orders = con.execute("select count(*) from staging.stg_shop__orders").fetchone()[0]

    assert [row[0] for row in accounting] == tables
    for table, raw, staged, quarantined, superseded, soft_deleted in accounting:
        assert raw == staged + quarantined + superseded + soft_deleted, table
        landed = demo_db.execute(f"select count(*) from raw.{table}").fetchone()[0]
        assert raw == landed, table
    assert "staging" in stages
    assert "ingestion" not in stages  # no ingestion log without file ingestion
    # Same rows in, same rows staged as the file-loaded demo build.
    demo_staged = demo_db.execute(
        "select source_table, staged_rows from quality.row_accounting order by 1"
    ).fetchall()
    assert [(row[0], row[2]) for row in accounting] == demo_staged
    assert orders > 0
