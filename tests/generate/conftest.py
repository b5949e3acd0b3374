"""Generated raw folders (built once per session) and a DuckDB view of each.

Every test reads the output the way ingestion would: DuckDB over the files, all
columns as text, Segment JSONL messages mapped back to the contract's snake_case names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from cdp_dev.generate import generate_raw_folder
from cdp_dev.generate.contract import load_contract
from tests.conftest import DEMO_GENERATE_OPTIONS

EVENT_JSONL_COLUMNS = {
    "messageId": "VARCHAR",
    "type": "VARCHAR",
    "event": "VARCHAR",
    "anonymousId": "VARCHAR",
    "userId": "VARCHAR",
    "previousId": "VARCHAR",
    "groupId": "VARCHAR",
    "name": "VARCHAR",
    "category": "VARCHAR",
    "source": "VARCHAR",
    "context": "JSON",
    "properties": "JSON",
    "traits": "JSON",
    "timestamp": "VARCHAR",
    "originalTimestamp": "VARCHAR",
    "sentAt": "VARCHAR",
    "receivedAt": "VARCHAR",
}


def table_source(raw: Path, table: str) -> tuple[str, str, str]:
    """(format, glob, layout) of a table in a raw folder."""
    for ext in ("csv", "parquet", "jsonl"):
        if (raw / f"{table}.{ext}").exists():
            return ext, str(raw / f"{table}.{ext}"), "file"
        if (raw / table).is_dir() and any((raw / table).glob(f"*.{ext}")):
            return ext, str(raw / table / f"*.{ext}"), "folder"
    raise FileNotFoundError(f"{table} not in {raw}")


def scan_sql(raw: Path, table: str) -> str:
    """A DuckDB query returning the table with exactly the contract's columns, as text."""
    fmt, glob, _ = table_source(raw, table)
    columns = load_contract()[table].columns
    if fmt == "csv":
        return f"select * from read_csv('{glob}', all_varchar = true, header = true)"
    if fmt == "parquet":
        return f"select * from read_parquet('{glob}')"
    if table == "events":
        spec = ", ".join(f"'{k}': '{v}'" for k, v in EVENT_JSONL_COLUMNS.items())
        return (
            "select messageId as message_id, type, event, anonymousId as anonymous_id, "
            "userId as user_id, previousId as previous_id, groupId as group_id, name, category, "
            "source, "
            "context::varchar as context, properties::varchar as properties, "
            'traits::varchar as traits, coalesce("timestamp", originalTimestamp) as "timestamp", '
            "sentAt as sent_at, receivedAt as received_at "
            f"from read_json('{glob}', format = 'newline_delimited', columns = {{{spec}}})"
        )
    spec = ", ".join(f"'{c}': 'VARCHAR'" for c in columns)
    return f"select * from read_json('{glob}', format = 'newline_delimited', columns = {{{spec}}})"


@dataclass
class RawFolder:
    """A generated folder, its ground truth, and DuckDB views named like the tables."""

    path: Path
    truth: dict
    con: duckdb.DuckDBPyConnection

    def q(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def one(self, sql: str) -> object:
        return self.q(sql)[0][0]


def _open(path: Path, truth_path: Path) -> RawFolder:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    for table in load_contract():
        con.execute(f"create view {table} as {scan_sql(path, table)}")
    return RawFolder(path, json.loads(truth_path.read_text(encoding="utf-8")), con)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> RawFolder:
    """The demo configuration: CSV tables, Segment JSONL events, one batch."""
    base = tmp_path_factory.mktemp("demo")
    generate_raw_folder(
        base / "raw",
        truth_path=base / "truth.json",
        progress=False,
        **DEMO_GENERATE_OPTIONS,
    )
    return _open(base / "raw", base / "truth.json")


@pytest.fixture(scope="session")
def batched(tmp_path_factory: pytest.TempPathFactory) -> RawFolder:
    """Parquet in three batches: every per-person table is a folder of part files."""
    base = tmp_path_factory.mktemp("batched")
    generate_raw_folder(
        base / "raw",
        persons=250,
        days=60,
        seed=7,
        fmt="parquet",
        truth_path=base / "truth.json",
        progress=False,
        batch_persons=100,
    )
    return _open(base / "raw", base / "truth.json")


@pytest.fixture(scope="session")
def flat_csv(tmp_path_factory: pytest.TempPathFactory) -> RawFolder:
    """Everything in CSV (events as CSV too: the malformed-JSON dirt only exists there)."""
    base = tmp_path_factory.mktemp("csv")
    generate_raw_folder(
        base / "raw",
        persons=300,
        days=120,
        seed=3,
        fmt="csv",
        truth_path=base / "truth.json",
        progress=False,
    )
    return _open(base / "raw", base / "truth.json")


@pytest.fixture(scope="session")
def all_jsonl(tmp_path_factory: pytest.TempPathFactory) -> RawFolder:
    base = tmp_path_factory.mktemp("jsonl")
    generate_raw_folder(
        base / "raw",
        persons=150,
        days=60,
        seed=11,
        fmt="jsonl",
        truth_path=base / "truth.json",
        progress=False,
    )
    return _open(base / "raw", base / "truth.json")


@pytest.fixture(scope="session", params=["demo", "batched", "flat_csv", "all_jsonl"])
def raw(request: pytest.FixtureRequest) -> RawFolder:
    """Each generated folder in turn (for checks that hold in every format and layout)."""
    return request.getfixturevalue(request.param)
