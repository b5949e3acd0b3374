"""The embedded Spark engine: one local SparkSession configured like profiles.yml's
`spark` target, with the project's Python UDFs registered on it.

dbt-spark's `session` method calls `SparkSession.builder.getOrCreate()`, so a session
created here first, in the same process, is the one dbt uses, UDFs included: a run's dbt
steps run in its process (orchestration/dbt_inprocess.py) on the session its Python steps
use. For dbt by hand, `orchestration.spark_dbt` (`cdp-dbt-spark`) does exactly that
before it hands over to dbt's own CLI.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# The project's Python UDFs by SQL name (see dbt_project/macros/normalisation).
PHONE_UDF = "cdp_normalize_phone"


def spark_conf(spark_dir: Path, master: str | None = None) -> dict[str, str]:
    """The session configuration; profiles.yml's `spark` target sets the same keys.

    Embedded: a Derby metastore and the table files under `spark_dir` (one JVM at a time
    may open that metastore), session time zone UTC (the raw contract's zone).
    """
    spark_dir = spark_dir.resolve()
    return {
        "spark.master": master or os.environ.get("CDP_SPARK_MASTER", "local[2]"),
        "spark.app.name": "cdp",
        "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={spark_dir / 'metastore_db'};create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir}",
        # The embedded driver is the whole cluster: Spark's 1g default heap ran out
        # (OutOfMemoryError) on a generated 100,000-person folder (docs/spark.md).
        "spark.driver.memory": os.environ.get("CDP_SPARK_DRIVER_MEMORY", "4g"),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.catalogImplementation": "hive",
        # The demo is small: 200 shuffle partitions cost more than they split.
        "spark.sql.shuffle.partitions": os.environ.get("CDP_SPARK_SHUFFLE_PARTITIONS", "4"),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # dbt-spark forces this too; the adapter's SQL must see the same semantics.
        "spark.sql.ansi.enabled": "false",
    }


def _normalize_phone_series(phones, countries, defaults):  # type: ignore[no-untyped-def]
    """The DuckDB UDF's body (orchestration.identifiers.normalize_phone) over pandas."""
    import pandas as pd

    from orchestration.identifiers import normalize_phone

    def clean(value: object) -> str | None:
        return None if value is None or pd.isna(value) else str(value)

    return pd.Series(
        [
            normalize_phone(clean(phone), clean(country), clean(default) or "US")
            for phone, country, default in zip(phones, countries, defaults, strict=True)
        ],
        dtype="object",
    )


def register_udfs(session: SparkSession) -> None:
    """Register `cdp_normalize_phone(phone, country, default_country)` (libphonenumber)."""
    from pyspark.sql.functions import pandas_udf

    udf = pandas_udf(_normalize_phone_series, "string")  # type: ignore[call-overload]
    session.udf.register(PHONE_UDF, udf)


def get_session(
    settings: Settings | None = None, extra_conf: Mapping[str, str] | None = None
) -> SparkSession:
    """The process's SparkSession (created on first use) with the UDFs registered."""
    from pyspark.sql import SparkSession

    settings = settings or Settings.from_env()
    settings.spark_dir.mkdir(parents=True, exist_ok=True)
    # Python workers must import this package and phonenumbers: use this interpreter.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in {**spark_conf(settings.spark_dir), **(extra_conf or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel(os.environ.get("CDP_SPARK_LOG_LEVEL", "ERROR"))
    # pyspark logs every failed statement as JSON, dbt's probes of absent relations too;
    # the caller sees the exception anyway.
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    register_udfs(session)
    return session


def stop_session() -> None:
    """Stop the session and its JVM: embedded Derby lets one JVM at a time open the
    metastore, and the dbt subprocess (or the next asset) needs it after us."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    # The active session is per thread; the one this process created is not.
    session = SparkSession.getActiveSession() or SparkSession._instantiatedSession
    if session is not None:
        session.stop()
    gateway = SparkContext._gateway
    if gateway is not None:
        process = getattr(gateway, "proc", None)
        gateway.shutdown()
        if process is not None:
            process.stdin.close()
            process.wait(timeout=60)
        SparkContext._gateway = None
        SparkContext._jvm = None
