"""Jobs: what a schedule, a sensor or `cdp run` materialises."""

import dagster as dg

from orchestration.assets.predictions import PREDICTIONS_KEY
from orchestration.assets.segments import HOURLY_SEGMENTS

# Everything: raw files -> staging -> identity -> profiles -> segments -> exports, with
# every asset check. `cdp run` executes exactly this job in-process.
cdp_all_job = dg.define_asset_job(
    name="cdp_all",
    selection=dg.AssetSelection.all(),
    description="The whole CDP graph, from raw files to activation, with all checks.",
)

# HOURLY_SEGMENTS: the segment models whose YAML says `refresh: hourly` (dbt tag
# `hourly`, e.g. abandoned_cart).


def hourly_segments_selection() -> dg.AssetSelection:
    """The hourly segments with what makes them fresh and what delivers them.

    Upstream: the new events and orders have to be loaded, stitched to persons
    (identity) and rolled into the profiles (consent included: a withdrawal counts within
    the hour), and "now" (int_as_of) has to move, or "in the last 4 hours" never changes.
    Downstream: the exports and syncs of those segments, or a fresh audience reaches no
    one. Left out: the predictive model (retrained daily; the hourly profiles keep the
    last predictions).
    """
    return (HOURLY_SEGMENTS.upstream() | HOURLY_SEGMENTS.downstream()) - dg.AssetSelection.assets(
        PREDICTIONS_KEY
    )


hourly_segments_job = dg.define_asset_job(
    name="hourly_segments",
    selection=hourly_segments_selection(),
    description=(
        "The time-sensitive (refresh: hourly) segments, everything upstream that makes them "
        "fresh except the daily predictive model, and their exports."
    ),
)
