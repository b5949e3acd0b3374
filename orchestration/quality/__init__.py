"""Data quality with Great Expectations: suites declared in YAML (`suites/<layer>/*.yml`),
validated on frames read through the Warehouse adapter (pandas from DuckDB, Spark
DataFrames on Spark), results kept in `quality.gx_validation_results`,
rendered as GX Data Docs. The Dagster asset checks that run them are in
`orchestration/checks/quality.py`; the policy is in docs/data-quality.md.

Nothing here imports great_expectations at module level: it takes seconds to import, and
loading the Dagster definitions (UI, sensors, tests) must not pay for it.
"""
