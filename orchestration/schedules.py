"""Schedules: the whole graph daily; the time-sensitive segments also hourly."""

import dagster as dg

from orchestration.jobs import cdp_all_job, hourly_segments_job

daily_full_graph = dg.ScheduleDefinition(
    name="daily_full_graph",
    job=cdp_all_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    description=(
        "Rebuild everything at 02:00 UTC, after the nightly CRM and shop exports land: "
        "this is also the refresh of every `refresh: daily` segment."
    ),
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

hourly_time_sensitive_segments = dg.ScheduleDefinition(
    name="hourly_time_sensitive_segments",
    job=hourly_segments_job,
    cron_schedule="0 * * * *",
    execution_timezone="UTC",
    description=(
        "Every hour: the `refresh: hourly` segments (abandoned cart and its SMS follow-up) "
        "with fresh events and profiles, and their exports."
    ),
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
