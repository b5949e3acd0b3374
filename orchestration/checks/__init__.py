"""Dagster asset checks (besides the dbt tests, which dagster-dbt turns into checks)."""
