"""Composable CDP: Dagster definitions, ingestion, CLI and activation for the dbt project."""
