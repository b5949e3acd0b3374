"""Segments in Dagster: dbt models, read back for people.

Each segment YAML is a generated dbt model (`seg_<name>`, activation/generated.py) whose
YAML gives it the Dagster asset key `segments/<name>`, the group `activation`, the owner
and the dbt tag of its refresh (`hourly` / `daily`): it is built by the dbt step after
`customer_profiles` like any model. After dbt has exited, `activation_reports` reads
back, through the Warehouse adapter (any engine), what `cdp run` prints and the UI shows:
one line per segment (its size, entries and exits, the most frequent reasons) and one for
the payloads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.reports import SUMMARY_KEY
from orchestration.warehouse import Warehouse

SEGMENT_PREFIX = "segments"
# dbt tags (from each YAML's `refresh`) become Dagster tags with an empty value.
HOURLY_TAG = "hourly"
PAYLOADS_KEY = dg.AssetKey(["activation", "audience_payloads"])
ENFORCEMENT_CHECK = "no_consent_or_erasure_violations"
HOURLY_SEGMENTS = dg.AssetSelection.tag(HOURLY_TAG, "")
SEGMENT_RELATIONS = (
    "marts.segment_sizes",
    "marts.segment_membership_history",
    "intermediate.int_as_of",
)
PAYLOAD_RELATIONS = ("intermediate.int_audience_candidates", "intermediate.int_audience_rules")


def segment_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([SEGMENT_PREFIX, name])


def _reasons_table(reasons: dict[str, int]) -> str:
    rows = "\n".join(
        f"| {count:,} | {reason.replace('|', '/')} |"
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1])[:10]
    )
    return "| persons | because |\n|---|---|\n" + rows if rows else "none"


def _counts(table: pa.Table, keys: list[str]) -> list[tuple[Any, ...]]:
    """Rows of `keys` values with their count, as tuples (values..., count)."""
    if table.num_rows == 0:
        return []
    grouped = table.group_by(keys).aggregate([([], "count_all")])
    return [(*(row[key] for key in keys), int(row["count_all"])) for row in grouped.to_pylist()]


def segment_report(warehouse: Warehouse, name: str) -> dict[str, Any] | None:
    """The latest size of segment `name` and why people entered or left in that build."""
    sizes = warehouse.read_arrow(
        "marts.segment_sizes",
        ["segment_name", "member_count", "entered_count", "exited_count", "computed_at", "run_id"],
    ).filter(pc.field("segment_name") == name)
    if sizes.num_rows == 0:
        return None
    latest = max(sizes.to_pylist(), key=lambda row: row["computed_at"])
    members, entered, exited, run_id = (
        latest["member_count"],
        latest["entered_count"],
        latest["exited_count"],
        latest["run_id"],
    )
    history = warehouse.read_arrow(
        "marts.segment_membership_history",
        [
            "segment_name",
            "entered_because",
            "entered_invocation_id",
            "exited_because",
            "exited_invocation_id",
        ],
    ).filter(pc.field("segment_name") == name)
    entered_reasons = {
        reason: count
        for reason, count in _counts(
            history.filter(pc.field("entered_invocation_id") == run_id), ["entered_because"]
        )
    }
    exited_reasons = {
        reason: count
        for reason, count in _counts(
            history.filter(pc.field("exited_invocation_id") == run_id), ["exited_because"]
        )
    }
    as_of = warehouse.read_arrow("intermediate.int_as_of", ["as_of_at"]).column(0).to_pylist()
    summary = f"segment {name}: {members:,} members (+{entered:,} entered, -{exited:,} exited)"
    return {
        "member_count": dg.MetadataValue.int(int(members)),
        "entered_count": dg.MetadataValue.int(int(entered)),
        "exited_count": dg.MetadataValue.int(int(exited)),
        "as_of": dg.MetadataValue.text(as_of[0].isoformat() if as_of else "-"),
        "entered_because": dg.MetadataValue.md(
            _reasons_table({str(k or "-"): int(v) for k, v in entered_reasons.items()})
        ),
        "exited_because": dg.MetadataValue.md(
            _reasons_table({str(k or "-"): int(v) for k, v in exited_reasons.items()})
        ),
        SUMMARY_KEY: dg.MetadataValue.text(summary),
    }


HELD_BACK = ("no_profile", "no_consent", "anonymous", "suppressed")


def payloads_report(warehouse: Warehouse) -> dict[str, Any]:
    """Members and held-back counts per (segment, destination)."""
    candidates = warehouse.read_arrow(
        "intermediate.int_audience_candidates",
        ["segment_name", "destination", "held_back_because"],
    )
    by_pair: dict[tuple[str, str], dict[str | None, int]] = {}
    for segment, destination, because, count in _counts(
        candidates, ["segment_name", "destination", "held_back_because"]
    ):
        by_pair.setdefault((segment, destination), {})[because] = count
    rows = [
        (
            segment,
            destination,
            sum(counts.values()),
            counts.get(None, 0),
            *(counts.get(reason, 0) for reason in HELD_BACK),
        )
        for (segment, destination), counts in sorted(by_pair.items())
    ]
    rules = warehouse.read_arrow("intermediate.int_audience_rules", ["segment_name", "destination"])
    pairs = len(set(zip(*(rules.column(i).to_pylist() for i in range(2)), strict=True)))
    totals = [sum(int(row[index]) for row in rows) for index in range(2, 8)]
    members, allowed, no_profile, no_consent, anonymous, suppressed = totals
    table = [
        "| segment | destination | members | allowed | no profile | no consent | anonymous "
        "| suppressed |",
        "|---|---|---|---|---|---|---|---|",
        *(f"| {' | '.join(str(value) for value in row)} |" for row in rows),
    ]
    summary = (
        f"activation payloads: {allowed:,} rows for {pairs} (segment, destination) pairs; "
        f"held back: {no_consent:,} without consent, {anonymous:,} anonymous, "
        f"{suppressed:,} suppressed, {no_profile:,} without a profile"
    )
    return {
        "rows": dg.MetadataValue.int(allowed),
        "members": dg.MetadataValue.int(members),
        "held_back_no_consent": dg.MetadataValue.int(no_consent),
        "held_back_anonymous": dg.MetadataValue.int(anonymous),
        "held_back_suppressed": dg.MetadataValue.int(suppressed),
        "held_back_no_profile": dg.MetadataValue.int(no_profile),
        "pairs": dg.MetadataValue.md("\n".join(table)),
        SUMMARY_KEY: dg.MetadataValue.text(summary),
    }


def activation_reports(
    selected: set[dg.AssetKey], connect: Callable[[], Any]
) -> Iterator[dg.AssetObservation]:
    """Observations for the selected segment and payload assets that were built."""
    names = sorted(key.path[1] for key in selected if key.path[0] == SEGMENT_PREFIX)
    if not names and PAYLOADS_KEY not in selected:
        return
    with connect() as warehouse:
        if names:
            if not all(warehouse.relation_exists(relation) for relation in SEGMENT_RELATIONS):
                return  # the build stopped before the sizes
            for name in names:
                metadata = segment_report(warehouse, name)
                if metadata is not None:
                    yield dg.AssetObservation(asset_key=segment_key(name), metadata=metadata)
        if PAYLOADS_KEY in selected and all(
            warehouse.relation_exists(relation) for relation in PAYLOAD_RELATIONS
        ):
            yield dg.AssetObservation(asset_key=PAYLOADS_KEY, metadata=payloads_report(warehouse))
