"""Bounded memory (issue 14): every DuckDB connection the project opens, and dbt's
profile, carry CDP_DUCKDB_MEMORY_LIMIT (default half the machine's RAM)."""

from __future__ import annotations

from pathlib import Path

import yaml

from orchestration.settings import DEFAULT_DUCKDB_MEMORY_LIMIT, duckdb_memory_limit
from orchestration.warehouse.duckdb_warehouse import memory_connection, utc_connection

ROOT = Path(__file__).resolve().parents[2]


def test_default_is_half_the_ram_and_the_env_var_wins() -> None:
    assert duckdb_memory_limit({}) == DEFAULT_DUCKDB_MEMORY_LIMIT == "50%"
    assert duckdb_memory_limit({"CDP_DUCKDB_MEMORY_LIMIT": " 3GB "}) == "3GB"
    assert duckdb_memory_limit({"CDP_DUCKDB_MEMORY_LIMIT": ""}) == "50%"


def test_connections_carry_the_limit(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CDP_DUCKDB_MEMORY_LIMIT", "1GB")
    for con in (memory_connection(), utc_connection(tmp_path / "w.duckdb")):
        try:
            limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
            assert limit in ("953.6 MiB", "1.0 GiB", "1000.0 MB", "1GB"), limit
        finally:
            con.close()
    monkeypatch.delenv("CDP_DUCKDB_MEMORY_LIMIT")
    con = memory_connection()
    try:
        default = con.execute("select current_setting('memory_limit')").fetchone()[0]
        con.execute("reset memory_limit")
        duckdb_default = con.execute("select current_setting('memory_limit')").fetchone()[0]
        # DuckDB's own default is 80% of the RAM: ours is smaller.
        assert default != duckdb_default
    finally:
        con.close()


def test_dbt_profile_sets_the_limit_and_spills_beside_the_warehouse() -> None:
    text = (ROOT / "profiles.yml").read_text()
    settings = yaml.safe_load(text)["cdp"]["outputs"]["dev"]["settings"]
    assert "CDP_DUCKDB_MEMORY_LIMIT" in settings["memory_limit"]
    assert "'50%'" in settings["memory_limit"]
    assert settings["temp_directory"].startswith("{{ env_var('CDP_WAREHOUSE'")
    assert settings["temp_directory"].endswith(".tmp")
