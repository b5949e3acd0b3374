"""Jobs: what a schedule, a sensor or `cdp run` materialises."""

import dagster as dg

# Everything: raw files -> staging -> identity -> profiles -> segments -> exports, with
# every asset check. `cdp run` executes exactly this job in-process.
cdp_all_job = dg.define_asset_job(
    name="cdp_all",
    selection=dg.AssetSelection.all(),
    description="The whole CDP graph, from raw files to activation, with all checks.",
)
