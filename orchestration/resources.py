"""Dagster resources: the warehouse and the raw folder, configured from Settings."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from orchestration.settings import Settings
from orchestration.warehouse import (
    DuckDBConnection,
    DuckDBWarehouse,
    SparkWarehouse,
    Warehouse,
    WarehouseLockedError,
    utc_connection,
)
from orchestration.warehouse.sync_state import SyncStateStore


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse every asset reads and writes: the DuckDB file (CDP_WAREHOUSE), or
    the Spark catalog when `target` (CDP_TARGET) is a Spark target."""

    path: str
    target: str = "dev"
    # The Spark catalog's folder (CDP_SPARK_DIR); default `spark/` beside `path`.
    spark_dir: str | None = None

    @property
    def engine(self) -> str:
        return "spark" if self.target.startswith("spark") else "duckdb"

    @property
    def settings(self) -> Settings:
        variables = {"CDP_WAREHOUSE": self.path, "CDP_TARGET": self.target}
        if self.spark_dir:
            variables["CDP_SPARK_DIR"] = self.spark_dir
        return Settings.from_env(variables)

    @contextlib.contextmanager
    def open(self, read_only: bool = False) -> Iterator[Warehouse]:
        """The Warehouse adapter of the configured engine.

        DuckDB: a connection, closed on exit (the dbt subprocess needs the file after us).
        Spark: the process's session, kept on exit, so that the Python steps of a run
        share one JVM (starting one takes tens of seconds); `release()` stops it before
        a dbt subprocess opens the metastore (assets/dbt.py), and the run stops it at
        its end (pipeline.py)."""
        if self.engine == "spark":
            from orchestration.spark import get_session

            yield SparkWarehouse(get_session(self.settings), owned=False)
            return
        with self.connect(read_only=read_only) as con:
            yield DuckDBWarehouse(con, owned=False)

    def prepare_dbt(self) -> None:
        """Before a dbt step (dbt runs in this process, dbt_inprocess.py): on Spark, make
        sure the process's session exists with the phone UDF registered, so dbt-spark's
        `session` method (`SparkSession.builder.getOrCreate()`) takes it and the run's
        Python and dbt steps share one JVM. Nothing to do on DuckDB, whose connections
        close with `open`."""
        if self.engine == "spark":
            from orchestration.spark import get_session

            get_session(self.settings)

    def release(self) -> None:
        """Let another process open the warehouse: on Spark, stop this process's session
        and its JVM (embedded Derby lets one JVM at a time open the metastore). Nothing
        to do on DuckDB, whose connections close with `open`."""
        if self.engine == "spark":
            from orchestration.spark import stop_session

            stop_session()

    @contextlib.contextmanager
    def open_sync(self) -> Iterator[tuple[SyncStateStore, Warehouse]]:
        """What a diff sync needs: the store of its operational state, a DuckDB database
        (transactions: orchestration/warehouse/sync_state.py), and the warehouse its
        payloads are read from. On DuckDB both are the warehouse file; on Spark the state
        lives in the DuckDB file at `path` and the payloads in the Spark catalog."""
        if self.engine == "spark":
            with self.connect() as con, self.open(read_only=True) as warehouse:
                yield SyncStateStore(con), warehouse
        else:
            with self.connect() as con:
                state = SyncStateStore(con)
                yield state, state.payloads()

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[DuckDBConnection]:
        """A DuckDB connection with the session settings the project relies on (UTC).

        Closed on exit: the dbt subprocess needs the file after us.
        """
        try:
            con = utc_connection(Path(self.path), read_only)
        except WarehouseLockedError as error:
            raise dg.Failure(description=str(error)) from error
        try:
            yield con
        finally:
            con.close()


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
