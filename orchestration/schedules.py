"""Schedules: the whole graph daily (time-sensitive segments add their own cadence)."""

import dagster as dg

from orchestration.jobs import cdp_all_job

daily_full_graph = dg.ScheduleDefinition(
    name="daily_full_graph",
    job=cdp_all_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    description="Rebuild everything at 02:00 UTC, after the nightly CRM and shop exports land.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
