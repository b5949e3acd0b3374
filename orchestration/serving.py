"""Publish a read-only serving copy of the marts for BI tools and other readers.

DuckDB lets one process write a database file, and a reader cannot open it while a run
writes. So after each successful run the marts (schemas `marts` and `quality`) are copied
to `<serving_dir>/cdp.duckdb` and to Parquet files under `<serving_dir>/parquet/`, and
swapped in atomically: a reader sees the previous copy or the new one, never half of it.

On DuckDB the copy attaches the warehouse file read-only and copies inside DuckDB; on
Spark (or any other engine) each table of the served schemas is read through the
Warehouse adapter as Arrow and written to the same DuckDB file and Parquet layout, so BI
tools read one format whatever the engine.

* the DuckDB copy is written to a temporary file and renamed over the old one
  (`os.replace`); a reader that already has the old file open keeps reading it;
* Parquet goes to a new versioned folder, then the `parquet` symlink is replaced (an
  atomic rename of a symlink) and older versions are removed.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from orchestration.faults import kill_point
from orchestration.settings import duckdb_memory_limit
from orchestration.warehouse import Warehouse

SERVED_SCHEMAS = ("marts", "quality")
# Operational tables outside those schemas that readers need too: the sync log holds
# counts per (run, destination, segment) only, no person data (the studio's audiences).
SERVED_EXTRA_TABLES = ("activation.sync_log",)
KEEP_PARQUET_VERSIONS = 2
# Pre-aggregated tables the copy adds for its readers (built from the copied marts).
STUDIO_SCHEMA = "studio"
NAME_SEARCH_TABLE = f"{STUDIO_SCHEMA}.name_search"
IDENTIFIER_SEARCH_TABLE = f"{STUDIO_SCHEMA}.identifier_search"


@dataclass
class ServingReport:
    database: Path
    parquet: Path
    tables: dict[str, int] = field(default_factory=dict)  # "schema.table" -> rows


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def publish_serving_copy(
    warehouse: Path | Warehouse, serving_dir: Path, state: Path | None = None
) -> ServingReport:
    """Copy the served schemas of `warehouse` (a DuckDB file, or any engine's adapter) to
    `serving_dir`, atomically. `state`: the DuckDB file that holds the operational tables
    (SERVED_EXTRA_TABLES) when the warehouse is another engine (on Spark, the sync state
    lives there); by default they are read from `warehouse` itself."""
    serving_dir.mkdir(parents=True, exist_ok=True)
    version = uuid.uuid4().hex[:12]
    temporary = serving_dir / f".cdp.{version}.duckdb.tmp"
    parquet_version = serving_dir / f"parquet.{version}"
    database = serving_dir / "cdp.duckdb"
    report = ServingReport(database=database, parquet=serving_dir / "parquet")
    con: duckdb.DuckDBPyConnection | None = None
    try:
        # Inside the try: on a full disk, creating the file fails already (and leaves it).
        con = duckdb.connect(str(temporary))
        con.execute("set enable_progress_bar = false")  # a long sort would draw one on stdout
        con.execute("set memory_limit = ?", [duckdb_memory_limit()])
        if isinstance(warehouse, Path):
            _copy_from_duckdb_file(con, warehouse)
        else:
            _copy_through_adapter(con, warehouse, state)
        _cluster_by_person(con)
        _build_serving_aggregates(con)
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = current_database() order by 1, 2"
        ).fetchall():
            qualified = f"{_quote(schema)}.{_quote(table)}"
            (rows,) = con.execute(f"select count(*) from {qualified}").fetchone()
            report.tables[f"{schema}.{table}"] = rows
            target = parquet_version / schema / f"{table}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            target_text = str(target).replace("'", "''")
            con.execute(f"copy {qualified} to '{target_text}' (format parquet)")
            kill_point("serving.mid_copy")
        con.close()  # checkpoints the temporary file: a full disk can fail here too
    except BaseException:
        if con is not None:
            with contextlib.suppress(duckdb.Error):
                con.close()
        _remove_temporary(temporary)
        shutil.rmtree(parquet_version, ignore_errors=True)
        raise
    kill_point("serving.before_swap")
    temporary.replace(database)  # atomic rename
    kill_point("serving.between_swaps")
    _swap_symlink(serving_dir / "parquet", parquet_version.name)
    kill_point("serving.after_swap")
    _remove_old_versions(serving_dir, keep=parquet_version.name)
    # A publish killed before its swap leaves its temporary file (and WAL): one writer at
    # a time (the run lock), so any left now is no one's.
    for leftover in serving_dir.glob(".cdp.*.duckdb.tmp"):
        _remove_temporary(leftover)
    for leftover in serving_dir.glob(".cdp.*.duckdb.tmp.wal"):
        leftover.unlink(missing_ok=True)
    return report


def _remove_temporary(temporary: Path) -> None:
    """A temporary serving file and its write-ahead log (a failed commit leaves one: a
    full disk stops DuckDB while it writes the WAL)."""
    temporary.unlink(missing_ok=True)
    temporary.with_name(f"{temporary.name}.wal").unlink(missing_ok=True)


def _cluster_by_person(con: duckdb.DuckDBPyConnection) -> None:
    """Store every table with a `person_id` column sorted by it, so a reader that looks up
    one person (the studio's person page) reads the few row groups whose min/max range
    holds that id instead of the whole table (DuckDB skips the others by zone maps)."""
    tables = con.execute(
        "select table_schema, table_name from information_schema.columns "
        "where table_catalog = current_database() and column_name = 'person_id' order by 1, 2"
    ).fetchall()
    for schema, table in tables:
        qualified = f"{_quote(schema)}.{_quote(table)}"
        con.execute(f"create or replace table {qualified} as from {qualified} order by person_id")


def _build_serving_aggregates(con: duckdb.DuckDBPyConnection) -> None:
    """Tables computed from the copied marts so a reader's page reads a few rows, not the
    whole copy.

    * `studio.name_search`: one row per distinct (first_name, last_name) of
      `marts.customer_profiles` with its lower-cased forms, initials and the sorted list
      of its persons, so the studio's typo-tolerant name search scores each distinct name
      once (a few thousand rows) instead of every profile;
    * `studio.identifier_search`: (identifier_type, identifier_value, person_id) of
      `marts.identity_map` sorted by value, so a lookup by value reads the row groups
      whose min/max holds it (identity_map itself is sorted by person_id)."""
    present = {
        table
        for (table,) in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database() "
            "and schema_name = 'marts' and table_name in ('customer_profiles', 'identity_map')"
        ).fetchall()
    }
    if not present:
        return
    con.execute(f"create schema if not exists {STUDIO_SCHEMA}")
    if "identity_map" in present:
        con.execute(
            f"create or replace table {IDENTIFIER_SEARCH_TABLE} as "
            "select identifier_type, identifier_value, person_id from marts.identity_map "
            "order by identifier_value, identifier_type"
        )
    if "customer_profiles" not in present:
        return
    con.execute(
        f"""
        create or replace table {NAME_SEARCH_TABLE} as
        select
            first_name,
            last_name,
            lower(left(first_name, 1)) as first_initial,
            lower(left(last_name, 1)) as last_initial,
            lower(coalesce(first_name, '')) as first_lower,
            lower(coalesce(last_name, '')) as last_lower,
            lower(concat_ws(' ', first_name, last_name)) as full_lower,
            list(person_id order by person_id) as person_ids
        from marts.customer_profiles
        where first_name is not null or last_name is not null
        group by first_name, last_name
        order by first_initial, last_initial, first_name, last_name
        """
    )


def _attach(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    con.execute(f"attach '{str(path).replace(chr(39), chr(39) * 2)}' as source (read_only)")


def _copy_from_duckdb_file(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    _attach(con, warehouse)
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = 'source' and schema_name in ? order by 1, 2",
        [list(SERVED_SCHEMAS)],
    ).fetchall()
    for schema, table in tables:
        qualified = f"{_quote(schema)}.{_quote(table)}"
        con.execute(f"create schema if not exists {_quote(schema)}")
        con.execute(f"create table {qualified} as select * from source.{qualified}")
    _copy_extra_tables(con)
    con.execute("detach source")


def _copy_extra_tables(con: duckdb.DuckDBPyConnection) -> None:
    """SERVED_EXTRA_TABLES from the attached `source` DuckDB file, where present."""
    for relation in SERVED_EXTRA_TABLES:
        schema, table = relation.split(".")
        (present,) = con.execute(
            "select count(*) from duckdb_tables() where database_name = 'source' "
            "and schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchone()
        if present:
            qualified = f"{_quote(schema)}.{_quote(table)}"
            con.execute(f"create schema if not exists {_quote(schema)}")
            con.execute(f"create table {qualified} as select * from source.{qualified}")


def _copy_state_file(con: duckdb.DuckDBPyConnection, state: Path) -> None:
    """The operational tables from the DuckDB file that holds them beside another engine
    (on Spark: the sync state at CDP_WAREHOUSE, activation/sync/store.py)."""
    if not state.exists():
        return
    _attach(con, state)
    _copy_extra_tables(con)
    con.execute("detach source")


def _copy_through_adapter(
    con: duckdb.DuckDBPyConnection, warehouse: Warehouse, state: Path | None
) -> None:
    relations = [
        (schema, name) for schema in SERVED_SCHEMAS for name in warehouse.list_relations(schema)
    ]
    if state is None:
        relations += [
            tuple(relation.split(".", 1))
            for relation in SERVED_EXTRA_TABLES
            if warehouse.relation_exists(relation)
        ]
    for schema, name in relations:
        relation = f"{schema}.{name}"
        con.execute(f"create schema if not exists {_quote(schema)}")
        con.register("_cdp_served", warehouse.read_arrow(relation))
        try:
            con.execute(
                f"create table {_quote(schema)}.{_quote(name)} as select * from _cdp_served"
            )
        finally:
            con.unregister("_cdp_served")
    if state is not None:
        _copy_state_file(con, state)


def _swap_symlink(link: Path, target_name: str) -> None:
    """Point `link` at `target_name` (relative) in one rename."""
    staged = link.with_name(f".{link.name}.{uuid.uuid4().hex[:8]}")
    staged.symlink_to(target_name, target_is_directory=True)
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)  # a plain folder from an older layout
    staged.replace(link)  # atomic rename of the symlink


def _remove_old_versions(serving_dir: Path, keep: str) -> None:
    versions = sorted(
        (path for path in serving_dir.glob("parquet.*") if path.is_dir()),
        key=lambda path: path.stat().st_mtime,
    )
    stale = [path for path in versions if path.name != keep][
        : max(0, len(versions) - KEEP_PARQUET_VERSIONS)
    ]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)


class ServingReader:
    """Read-only queries on the serving copy (`<serving_dir>/cdp.duckdb`), for the studio
    and other readers that must not import DuckDB themselves.

    The file is opened read-only, so a reader can never write to it (nor block a run: runs
    write the warehouse, and the copy is swapped in by rename). When a run swaps in a new
    copy, the next query reopens the file, so a reader sees one whole copy at a time.
    Queries from several threads each take their own cursor.
    """

    def __init__(self, serving_dir: Path) -> None:
        self.database = Path(serving_dir) / "cdp.duckdb"
        if not self.database.is_file():
            raise FileNotFoundError(f"no serving copy at {self.database}: run `cdp run` first")
        self._lock = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._inode: int | None = None
        self._tables: frozenset[str] = frozenset()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        inode = self.database.stat().st_ino
        with self._lock:
            if self._con is None or inode != self._inode:
                if self._con is not None:
                    self._con.close()
                self._con = duckdb.connect(str(self.database), read_only=True)
                self._inode = inode
                self._tables = frozenset(
                    f"{schema}.{table}"
                    for schema, table in self._con.execute(
                        "select schema_name, table_name from duckdb_tables() "
                        "where database_name = current_database()"
                    ).fetchall()
                )
            return self._con

    def has_table(self, relation: str) -> bool:
        """Whether `schema.table` is in the copy (an older build may lack a table)."""
        self._connection()
        return relation in self._tables

    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Rows of a read-only query as dicts (column name -> Python value)."""
        cursor = self._connection().cursor()
        try:
            result = cursor.execute(sql, list(parameters or []))
            names = [column[0] for column in result.description]
            return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
        finally:
            cursor.close()

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
