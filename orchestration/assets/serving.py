"""`serving/cdp`: the read-only copy of the marts BI tools read (orchestration/serving.py)."""

from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from orchestration.reports import SUMMARY_KEY
from orchestration.resources import WarehouseResource
from orchestration.serving import SERVED_SCHEMAS, publish_serving_copy

SERVING_KEY = dg.AssetKey(["serving", "cdp"])


class ServingFolderResource(dg.ConfigurableResource):
    """Where the serving copy is published (CDP_SERVING_DIR, default beside the warehouse)."""

    path: str


def served_keys(assets: Iterable[dg.AssetsDefinition]) -> list[dg.AssetKey]:
    """Every asset of the served schemas: the serving copy waits for all of them."""
    return sorted(
        {key for asset in assets for key in asset.keys if key.path[0] in SERVED_SCHEMAS},
        key=lambda key: key.to_user_string(),
    )


def build_serving_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=SERVING_KEY,
        deps=upstream,
        group_name="serving",
        kinds={"duckdb", "parquet"},
        owners=["team:data-platform"],
        description=(
            "A read-only copy of schemas marts and quality (a DuckDB file and Parquet "
            "files), swapped in atomically after every successful run, for BI tools and "
            "other readers while the warehouse file is being written (docs/serving.md)."
        ),
    )
    def serving_copy(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        serving_folder: ServingFolderResource,
    ) -> dg.MaterializeResult:
        if warehouse.engine == "duckdb":
            report = publish_serving_copy(Path(warehouse.path), Path(serving_folder.path))
        else:
            # The sync log lives in the DuckDB file beside the Spark catalog.
            with warehouse.open(read_only=True) as source:
                report = publish_serving_copy(
                    source, Path(serving_folder.path), state=Path(warehouse.path)
                )
        rows = sum(report.tables.values())
        tables = "\n".join(f"| {name} | {count:,} |" for name, count in report.tables.items())
        return dg.MaterializeResult(
            metadata={
                "database": dg.MetadataValue.path(str(report.database)),
                "parquet": dg.MetadataValue.path(str(report.parquet)),
                "tables": dg.MetadataValue.int(len(report.tables)),
                "rows": dg.MetadataValue.int(rows),
                "contents": dg.MetadataValue.md("| table | rows |\n|---|---|\n" + tables),
                SUMMARY_KEY: dg.MetadataValue.text(
                    f"serving copy: {len(report.tables)} tables ({rows:,} rows) -> "
                    f"{report.database} and {report.parquet}/"
                ),
            }
        )

    return serving_copy
