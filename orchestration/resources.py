"""Dagster resources: the DuckDB warehouse and the raw folder, configured from Settings."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.settings import Settings

# DuckDB allows one writing process per file; a BI tool or a second run holding the
# file is the usual cause of a lock error, so the message says so.
_LOCK_RETRIES = 5


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB file every asset reads and writes (CDP_WAREHOUSE)."""

    path: str

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection with the session settings the project relies on (UTC).

        Closed on exit: the dbt subprocess needs the file after us.
        """
        path = Path(self.path)
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        con = _connect_with_retry(path, read_only)
        try:
            con.execute("set TimeZone = 'UTC'")
            yield con
        finally:
            con.close()


def _connect_with_retry(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    for attempt in range(_LOCK_RETRIES):
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or attempt == _LOCK_RETRIES - 1:
                raise dg.Failure(
                    description=(
                        f"Cannot open the warehouse {path}: {error}. Another process (a BI "
                        "tool, the DuckDB CLI or another run) holds it; close it or read the "
                        "serving copy instead."
                    )
                ) from error
            time.sleep(2**attempt)
    raise AssertionError("unreachable")


class SettingsResource(dg.ConfigurableResource):
    """The run's Settings, for assets that need more than a path (e.g. whether raw tables
    are ingested from files): handed in, never read from the environment by an asset."""

    # Settings.as_env(): the CDP_* variables. (Not named `env`: Dagster reads a config
    # value {"env": ...} as an environment-variable reference.)
    variables: dict[str, str]

    @classmethod
    def from_settings(cls, settings: Settings) -> SettingsResource:
        return cls(variables=settings.as_env())

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.variables)


class RawFolderResource(dg.ConfigurableResource):
    """The folder of raw files in the raw input contract (CDP_RAW_DIR)."""

    path: str

    @property
    def directory(self) -> Path:
        return Path(self.path)
