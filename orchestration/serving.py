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

import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.warehouse import Warehouse

SERVED_SCHEMAS = ("marts", "quality")
KEEP_PARQUET_VERSIONS = 2


@dataclass
class ServingReport:
    database: Path
    parquet: Path
    tables: dict[str, int] = field(default_factory=dict)  # "schema.table" -> rows


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def publish_serving_copy(warehouse: Path | Warehouse, serving_dir: Path) -> ServingReport:
    """Copy the served schemas of `warehouse` (a DuckDB file, or any engine's adapter) to
    `serving_dir`, atomically."""
    serving_dir.mkdir(parents=True, exist_ok=True)
    version = uuid.uuid4().hex[:12]
    temporary = serving_dir / f".cdp.{version}.duckdb.tmp"
    parquet_version = serving_dir / f"parquet.{version}"
    database = serving_dir / "cdp.duckdb"
    report = ServingReport(database=database, parquet=serving_dir / "parquet")
    con = duckdb.connect(str(temporary))
    try:
        if isinstance(warehouse, Path):
            _copy_from_duckdb_file(con, warehouse)
        else:
            _copy_through_adapter(con, warehouse)
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
    except BaseException:
        con.close()
        temporary.unlink(missing_ok=True)
        shutil.rmtree(parquet_version, ignore_errors=True)
        raise
    con.close()
    temporary.replace(database)  # atomic rename
    _swap_symlink(serving_dir / "parquet", parquet_version.name)
    _remove_old_versions(serving_dir, keep=parquet_version.name)
    return report


def _copy_from_duckdb_file(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    con.execute(f"attach '{str(warehouse).replace(chr(39), chr(39) * 2)}' as source (read_only)")
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = 'source' and schema_name in ? order by 1, 2",
        [list(SERVED_SCHEMAS)],
    ).fetchall()
    for schema, table in tables:
        qualified = f"{_quote(schema)}.{_quote(table)}"
        con.execute(f"create schema if not exists {_quote(schema)}")
        con.execute(f"create table {qualified} as select * from source.{qualified}")
    con.execute("detach source")


def _copy_through_adapter(con: duckdb.DuckDBPyConnection, warehouse: Warehouse) -> None:
    for schema in SERVED_SCHEMAS:
        for name in warehouse.list_relations(schema):
            relation = f"{schema}.{name}"
            con.execute(f"create schema if not exists {_quote(schema)}")
            con.register("_cdp_served", warehouse.read_arrow(relation))
            try:
                con.execute(
                    f"create table {_quote(schema)}.{_quote(name)} as select * from _cdp_served"
                )
            finally:
                con.unregister("_cdp_served")


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
