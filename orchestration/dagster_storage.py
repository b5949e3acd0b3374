"""Dagster's SQLite event log, without a new database engine and connection per event.

Dagster's `SqliteEventLogStorage` creates a SQLAlchemy engine, opens a connection,
initialises the dialect, closes it and disposes of the engine for every event it stores,
and two or three times for an asset event or check result (the run's database and the
cross-run index). A `cdp run` stores about 2,600 events (one per dbt model and test, GX
check and step): on the demo that was about half of the run process's own time (a
sampling profile, 2026-12-04).

`CdpSqliteEventLogStorage` keeps one engine and one open connection per database file.
Everything else is Dagster's: the same files, schema, transactions (one per write, so
each event is committed before the next step goes on) and rollback journal, so the UI's
live run view, which watches the run's `.db` file, sees every write as before, and the
UI and the daemon read while a run writes. Measured on 500 stored events
(`benchmarks/event_log.py`): see docs/performance.md.

The instance's `dagster.yaml`, written by `cdp` (pipeline.py) where there is none, names
it; every Dagster process that reads that instance (the UI, the daemon) imports it from
this package.
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# A long-lived process (the UI) reads many runs' databases: keep the most recent engines.
MAX_ENGINES = 64


class CdpSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage with one SQLAlchemy engine per database file (module docstring)."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data)

    @classmethod
    def config_type(cls) -> Any:
        # Optional: by default where Dagster keeps a DAGSTER_HOME's event logs.
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: Any, config_value: Any
    ) -> CdpSqliteEventLogStorage:
        default = Path(os.environ["DAGSTER_HOME"]) / "history" / "runs"
        return cls(config_value.get("base_dir") or str(default), inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        # One open connection per file, reused; `_connect` holds the storage's lock, so
        # one thread at a time uses it (hence check_same_thread off).
        engine = create_engine(
            self.conn_string_for_shard(shard),
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=1,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        self._engines[shard] = engine
        if len(self._engines) > MAX_ENGINES:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:  # type: ignore[override]
        # The parent's _connect, but for the engine: the same lock, the same per-shard
        # initialisation, one transaction per use.
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        super().dispose()
        while self._engines:
            _, engine = self._engines.popitem()
            engine.dispose()
