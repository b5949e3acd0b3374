"""What a dbt model's materialisation should tell a person, read back from the warehouse.

dbt holds the DuckDB file (or the Spark metastore) while it runs, so the dbt asset emits
these as observations once dbt has exited. Each report reads relations through the
Warehouse adapter (any engine) and returns metadata; `cdp/summary` lines are printed by
`cdp run`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg

from orchestration.warehouse import Warehouse

SUMMARY_KEY = "cdp/summary"

Report = Callable[[Warehouse], dict[str, Any]]


def identity_health_report(warehouse: Warehouse) -> dict[str, Any]:
    """The identity graph's health: persons, largest person, hubs, conflicts, changes."""
    health = warehouse.read_arrow("marts.identity_health", ["metric", "dimension", "metric_value"])
    rows = sorted(
        (str(row["metric"]), str(row["dimension"]), float(row["metric_value"]))
        for row in health.to_pylist()
    )
    value = {(metric, dimension): number for metric, dimension, number in rows}

    def total(metric: str) -> int:
        return int(sum(number for (name, _), number in value.items() if name == metric))

    persons = int(value.get(("persons", "all"), 0))
    known = int(value.get(("persons", "known"), 0))
    largest = int(value.get(("largest_person_identifiers", "all"), 0))
    table = "\n".join(f"| {m} | {d} | {n:g} |" for m, d, n in rows)
    summary = (
        f"identity: {persons:,} persons ({known:,} known), largest {largest} identifiers, "
        f"{total('hub_identifiers')} hubs, {total('conflicts')} links blocked, "
        f"{total('person_id_changes_this_run')} person id changes, "
        f"{total('erased_identifiers')} erased identifiers"
    )
    return {
        "persons": dg.MetadataValue.int(persons),
        "known_persons": dg.MetadataValue.int(known),
        "largest_person_identifiers": dg.MetadataValue.int(largest),
        "hub_identifiers": dg.MetadataValue.int(total("hub_identifiers")),
        "links_blocked": dg.MetadataValue.int(total("conflicts")),
        "person_id_changes_this_run": dg.MetadataValue.int(total("person_id_changes_this_run")),
        "persons_over_limit": dg.MetadataValue.int(total("persons_over_limit")),
        "health": dg.MetadataValue.md("| metric | dimension | value |\n|---|---|---|\n" + table),
        SUMMARY_KEY: dg.MetadataValue.text(summary),
    }


REPORTS: dict[dg.AssetKey, tuple[str, Report]] = {
    dg.AssetKey(["marts", "identity_health"]): ("marts.identity_health", identity_health_report),
}


def model_reports(
    selected: set[dg.AssetKey], connect: Callable[[], Any]
) -> Iterator[dg.AssetObservation]:
    """Observations for the selected assets that have a report and were built."""
    wanted = [(key, table, report) for key, (table, report) in REPORTS.items() if key in selected]
    if not wanted:
        return
    with connect() as warehouse:
        for key, relation, report in wanted:
            if warehouse.relation_exists(relation):
                yield dg.AssetObservation(asset_key=key, metadata=report(warehouse))
