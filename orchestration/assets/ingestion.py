"""One Dagster asset per raw contract table: files in the raw folder -> `raw.<table>`."""

# No `from __future__ import annotations` in asset modules: Dagster inspects the
# `context` annotation at definition time and needs the real class.

from collections.abc import Iterator

import dagster as dg

from orchestration.ingestion.contract import load_contract
from orchestration.ingestion.loader import RAW_SCHEMA, TableLoad, ensure_raw_schema, load_table
from orchestration.ingestion.readers import unknown_entries
from orchestration.resources import RawFolderResource, WarehouseResource

RAW_TABLES = sorted(load_contract().tables)


def raw_asset_key(table: str) -> dg.AssetKey:
    """The key dbt sources map to as well (see translator.py)."""
    return dg.AssetKey([RAW_SCHEMA, table])


def load_metadata(report: TableLoad, total_rows: int) -> dict[str, dg.MetadataValue]:
    """What a person looking at the asset wants to know about this load."""
    files = "\n".join(
        f"| {file.path} | {file.status} | {file.rows_loaded} | {file.rows_quarantined} |"
        for file in report.files
    )
    return {
        "rows_loaded": dg.MetadataValue.int(report.rows_loaded),
        "rows_quarantined": dg.MetadataValue.int(report.rows_quarantined),
        "files_loaded": dg.MetadataValue.int(report.files_loaded),
        "files_skipped": dg.MetadataValue.int(report.files_skipped),
        "files_empty": dg.MetadataValue.int(report.files_empty),
        "dagster/row_count": dg.MetadataValue.int(total_rows),
        "unknown_columns": dg.MetadataValue.text(", ".join(report.unknown_columns) or "none"),
        "missing_columns": dg.MetadataValue.text(", ".join(report.missing_columns) or "none"),
        "files": dg.MetadataValue.md(
            "| file | status | loaded | quarantined |\n|---|---|---|---|\n" + files
            if files
            else "no files (an empty source)"
        ),
    }


@dg.multi_asset(
    name="raw_tables",
    specs=[
        dg.AssetSpec(
            key=raw_asset_key(table),
            group_name="ingestion",
            description=(
                f"Raw `{table}` rows typed to the contract, with `_file`, `_row_number`, "
                "`_loaded_at`. Rows that cannot be typed go to `raw.quarantine`."
            ),
            kinds={"duckdb", "python"},
            owners=["team:data-platform"],
        )
        for table in RAW_TABLES
    ],
    can_subset=True,
)
def raw_tables(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    raw_folder: RawFolderResource,
) -> Iterator[dg.MaterializeResult]:
    """Load new files for every selected table, one warehouse connection for all of them.

    A file that cannot be read at all fails the step (naming the file) after the other
    files and tables have been loaded, so one bad delivery does not hold back the rest
    but nothing downstream runs on a partial picture.
    """
    raw_dir = raw_folder.directory
    if not raw_dir.is_dir():
        raise dg.Failure(description=f"Raw folder {raw_dir} does not exist (CDP_RAW_DIR).")
    extra = unknown_entries(raw_dir, RAW_TABLES)
    if extra:
        context.log.warning(f"Raw folder entries that match no contract table: {extra}")
    failures: list[str] = []
    with warehouse.open() as target:
        ensure_raw_schema(target)
        for key in sorted(context.selected_asset_keys, key=lambda k: k.to_user_string()):
            table = key.path[-1]
            report = load_table(target, raw_dir, table)
            total = target.row_count(f"{RAW_SCHEMA}.{table}")
            failures.extend(report.errors)
            for column in report.unknown_columns:
                context.log.warning(f"{table}: unknown column {column!r} ignored")
            yield dg.MaterializeResult(asset_key=key, metadata=load_metadata(report, total))
    if failures:
        raise dg.Failure(
            description="Raw files that could not be read:\n" + "\n".join(failures),
            metadata={"files": dg.MetadataValue.text("\n".join(failures))},
        )
