"""One settings object, read from environment variables with clear defaults.

The same names are used by `profiles.yml` (`env_var('CDP_WAREHOUSE')`), the Dagster
resources and the `cdp` CLI, so the DuckDB file and the folders are named once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

DEFAULTS: dict[str, str] = {
    "CDP_RAW_DIR": "seeds",
    "CDP_WAREHOUSE": "warehouse/cdp.duckdb",
    "CDP_EXPORTS_DIR": "exports",
}
# DuckDB's memory limit, dbt's profile and every connection the project opens (a DuckDB
# size such as "6GB" or a share of the machine's RAM such as "50%"). Half the RAM leaves
# room for the Python process, dbt and the OS; DuckDB spills the rest to `<warehouse>.tmp`.
DUCKDB_MEMORY_LIMIT_ENV = "CDP_DUCKDB_MEMORY_LIMIT"
DEFAULT_DUCKDB_MEMORY_LIMIT = "50%"


def duckdb_memory_limit(env: Mapping[str, str] | None = None) -> str:
    """CDP_DUCKDB_MEMORY_LIMIT, default half the machine's RAM (docs/performance.md)."""
    value = (os.environ if env is None else env).get(DUCKDB_MEMORY_LIMIT_ENV, "").strip()
    return value or DEFAULT_DUCKDB_MEMORY_LIMIT


# Ten minutes: a schedule's run waits out a `cdp run` of the demo, not a stuck one.
DEFAULT_LOCK_TIMEOUT = 600.0
# Unless set, these live beside the warehouse file (a temp warehouse keeps them too).
BESIDE_WAREHOUSE = {
    "CDP_SERVING_DIR": "serving",
    "CDP_DATA_DOCS_DIR": "data_docs",
    "CDP_SPARK_DIR": "spark",
}


def _resolve(value: str, *, default: bool) -> Path:
    """Defaults are relative to the project root; user-given relative paths to the cwd."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    return (PROJECT_ROOT / path) if default else path.resolve()


def parse_as_of(value: str | None) -> datetime | None:
    """Parse CDP_AS_OF (ISO-8601; no offset means UTC) into an aware UTC datetime."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class Settings:
    """Where the raw data, the warehouse and the outputs live."""

    raw_dir: Path
    warehouse: Path
    exports_dir: Path
    # None = beside the warehouse file (see the properties below).
    serving_dir_override: Path | None = None
    data_docs_dir_override: Path | None = None
    spark_dir_override: Path | None = None
    # The moment "now" means for time windows (segments, recency). None = wall clock.
    as_of: datetime | None = None
    # Schema of the raw tables. `raw` = loaded from raw_dir by the ingestion assets; any
    # other schema = landed by an EL tool, and file ingestion leaves the graph.
    raw_schema: str = "raw"
    # The dbt target of profiles.yml: `dev` (DuckDB) or `spark` (embedded Spark session).
    target: str = "dev"
    # Seconds a run waits for another run's lock on the warehouse (CDP_LOCK_TIMEOUT,
    # `cdp run --lock-timeout`) before giving up with the holder's name (run_lock.py).
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    # When an export holds a segment's sync as a mass change (activation/sync/plan.py:
    # MassChangePolicy, docs/operations.md).
    mass_change_max_remove_share: float = 0.2
    mass_change_max_add_factor: float = 10.0
    mass_change_min_audience: int = 100

    @property
    def engine(self) -> str:
        """`spark` for the Spark targets, else `duckdb`: which Warehouse the assets use."""
        return "spark" if self.target.startswith("spark") else "duckdb"

    @property
    def spark_dir(self) -> Path:
        """The embedded Spark metastore and table files (CDP_SPARK_DIR, else beside the
        warehouse file)."""
        return self.spark_dir_override or self.warehouse.parent / BESIDE_WAREHOUSE["CDP_SPARK_DIR"]

    @property
    def ingests_files(self) -> bool:
        return self.raw_schema == "raw"

    @property
    def serving_dir(self) -> Path:
        """The read-only serving copy for BI (CDP_SERVING_DIR, else beside the warehouse)."""
        return (
            self.serving_dir_override or self.warehouse.parent / BESIDE_WAREHOUSE["CDP_SERVING_DIR"]
        )

    @property
    def data_docs_dir(self) -> Path:
        """GX Data Docs (CDP_DATA_DOCS_DIR, else beside the warehouse)."""
        return (
            self.data_docs_dir_override
            or self.warehouse.parent / BESIDE_WAREHOUSE["CDP_DATA_DOCS_DIR"]
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def path(name: str) -> Path:
            if env.get(name):
                return _resolve(env[name], default=False)
            return _resolve(DEFAULTS[name], default=True)

        def optional(name: str) -> Path | None:
            return _resolve(env[name], default=False) if env.get(name) else None

        return cls(
            raw_dir=path("CDP_RAW_DIR"),
            warehouse=path("CDP_WAREHOUSE"),
            exports_dir=path("CDP_EXPORTS_DIR"),
            serving_dir_override=optional("CDP_SERVING_DIR"),
            data_docs_dir_override=optional("CDP_DATA_DOCS_DIR"),
            spark_dir_override=optional("CDP_SPARK_DIR"),
            as_of=parse_as_of(env.get("CDP_AS_OF")),
            raw_schema=env.get("CDP_RAW_SCHEMA") or "raw",
            target=env.get("CDP_TARGET") or "dev",
            lock_timeout=float(env.get("CDP_LOCK_TIMEOUT") or DEFAULT_LOCK_TIMEOUT),
            mass_change_max_remove_share=float(env.get("CDP_MASS_CHANGE_MAX_REMOVE_SHARE") or 0.2),
            mass_change_max_add_factor=float(env.get("CDP_MASS_CHANGE_MAX_ADD_FACTOR") or 10.0),
            mass_change_min_audience=int(env.get("CDP_MASS_CHANGE_MIN_AUDIENCE") or 100),
        )

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields replaced; relative paths resolve against the cwd."""
        renamed = {
            "serving_dir": "serving_dir_override",
            "data_docs_dir": "data_docs_dir_override",
            "spark_dir": "spark_dir_override",
        }
        resolved = {
            renamed.get(key, key): (
                Path(value).expanduser().resolve() if isinstance(value, Path) else value
            )
            for key, value in changes.items()
            if value is not None
        }
        return replace(self, **resolved)

    def as_env(self) -> dict[str, str]:
        """The environment variables that make dbt and Dagster see these settings."""
        env = {
            "CDP_RAW_DIR": str(self.raw_dir),
            "CDP_WAREHOUSE": str(self.warehouse),
            "CDP_EXPORTS_DIR": str(self.exports_dir),
            "CDP_SERVING_DIR": str(self.serving_dir),
            "CDP_DATA_DOCS_DIR": str(self.data_docs_dir),
            "CDP_RAW_SCHEMA": self.raw_schema,
            "CDP_SPARK_DIR": str(self.spark_dir),
            "CDP_TARGET": self.target,
            "CDP_LOCK_TIMEOUT": f"{self.lock_timeout:g}",
            "CDP_MASS_CHANGE_MAX_REMOVE_SHARE": f"{self.mass_change_max_remove_share:g}",
            "CDP_MASS_CHANGE_MAX_ADD_FACTOR": f"{self.mass_change_max_add_factor:g}",
            "CDP_MASS_CHANGE_MIN_AUDIENCE": str(self.mass_change_min_audience),
        }
        if self.as_of is not None:
            env["CDP_AS_OF"] = self.as_of.isoformat()
        return env

    def as_of_or_now(self) -> datetime:
        return self.as_of or datetime.now(UTC)
