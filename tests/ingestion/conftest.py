"""Fixtures for ingestion tests: a fresh DuckDB file and a raw folder per test."""

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from orchestration.ingestion.loader import connect, ensure_raw_schema


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "raw"
    folder.mkdir()
    return folder


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(tmp_path / "warehouse.duckdb")
    ensure_raw_schema(connection)
    yield connection
    connection.close()
