"""Suites that join raw rows to staged rows by lineage also run on tables an EL tool
landed without the lineage columns (`_file`, `_row_number`, `_loaded_at`)."""

import duckdb

from orchestration.quality.frames import raw_schema_with_lineage
from orchestration.warehouse import DuckDBWarehouse


def test_raw_tables_with_lineage_are_read_in_place():
    con = duckdb.connect()
    con.execute(
        "create schema raw; create table raw.crm_contacts "
        "(email varchar, _file varchar, _row_number bigint, _loaded_at timestamp)"
    )
    assert raw_schema_with_lineage(DuckDBWarehouse(con, owned=False), "raw") == "raw"


def test_landed_tables_get_null_lineage_so_a_lineage_join_finds_no_partner():
    con = duckdb.connect()
    con.execute(
        "create schema landing; create table landing.crm_contacts (email varchar);"
        "insert into landing.crm_contacts values ('Ann@Example.com');"
        "create table base (email varchar, _file varchar, _row_number bigint);"
        "insert into base values ('ann@example.com', 'crm_contacts', 0)"
    )
    schema = raw_schema_with_lineage(DuckDBWarehouse(con, owned=False), "landing")
    assert schema == "temp"
    rows = con.execute(
        f"select base.email, raw.email from base left join {schema}.crm_contacts as raw "
        "on base._file = raw._file and base._row_number = raw._row_number"
    ).fetchall()
    assert rows == [("ann@example.com", None)]
    assert con.execute(f"select count(*) from {schema}.crm_contacts").fetchone() == (1,)
