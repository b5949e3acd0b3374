"""Segments in Dagster: dbt models, read back for people.

Each segment YAML is a generated dbt model (`seg_<name>`, activation/generated.py) whose
YAML gives it the Dagster asset key `segments/<name>`, the group `activation`, the owner
and the dbt tag of its refresh (`hourly` / `daily`): it is built by the dbt step after
`customer_profiles` like any model. After dbt has exited, `activation_reports` reads
back what `cdp run` prints and the UI shows: one line per segment (its size, entries and
exits, the most frequent reasons) and one for the payloads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
import duckdb

from orchestration.reports import SUMMARY_KEY

SEGMENT_PREFIX = "segments"
# dbt tags (from each YAML's `refresh`) become Dagster tags with an empty value.
HOURLY_TAG = "hourly"
PAYLOADS_KEY = dg.AssetKey(["activation", "audience_payloads"])
ENFORCEMENT_CHECK = "no_consent_or_erasure_violations"
HOURLY_SEGMENTS = dg.AssetSelection.tag(HOURLY_TAG, "")

_LATEST_SIZE = """
select member_count, entered_count, exited_count, computed_at, run_id
from marts.segment_sizes
where segment_name = ?
order by computed_at desc
limit 1
"""
_ENTERED_REASONS = """
select entered_because, count(*)
from marts.segment_membership_history
where segment_name = ? and entered_invocation_id = ?
group by entered_because
"""
_EXITED_REASONS = """
select exited_because, count(*)
from marts.segment_membership_history
where segment_name = ? and exited_invocation_id = ?
group by exited_because
"""
_AS_OF = "select as_of_at from intermediate.int_as_of"
_PAIRS = """
select
    segment_name,
    destination,
    count(*) as members,
    count(*) filter (where held_back_because is null) as allowed,
    count(*) filter (where held_back_because = 'no_profile') as no_profile,
    count(*) filter (where held_back_because = 'no_consent') as no_consent,
    count(*) filter (where held_back_because = 'anonymous') as anonymous,
    count(*) filter (where held_back_because = 'suppressed') as suppressed
from intermediate.int_audience_candidates
group by segment_name, destination
order by segment_name, destination
"""
_RULE_PAIRS = """
select count(*)
from (select distinct segment_name, destination from intermediate.int_audience_rules)
"""


def segment_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([SEGMENT_PREFIX, name])


def _reasons_table(reasons: dict[str, int]) -> str:
    rows = "\n".join(
        f"| {count:,} | {reason.replace('|', '/')} |"
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1])[:10]
    )
    return "| persons | because |\n|---|---|\n" + rows if rows else "none"


def segment_report(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, Any] | None:
    """The latest size of segment `name` and why people entered or left in that build."""
    rows = con.execute(_LATEST_SIZE, [name]).fetchall()
    if not rows:
        return None
    members, entered, exited, _, run_id = rows[0]
    entered_reasons = dict(con.execute(_ENTERED_REASONS, [name, run_id]).fetchall())
    exited_reasons = dict(con.execute(_EXITED_REASONS, [name, run_id]).fetchall())
    as_of = con.execute(_AS_OF).fetchall()
    summary = f"segment {name}: {members:,} members (+{entered:,} entered, -{exited:,} exited)"
    return {
        "member_count": dg.MetadataValue.int(int(members)),
        "entered_count": dg.MetadataValue.int(int(entered)),
        "exited_count": dg.MetadataValue.int(int(exited)),
        "as_of": dg.MetadataValue.text(as_of[0][0].isoformat() if as_of else "-"),
        "entered_because": dg.MetadataValue.md(
            _reasons_table({str(k or "-"): int(v) for k, v in entered_reasons.items()})
        ),
        "exited_because": dg.MetadataValue.md(
            _reasons_table({str(k or "-"): int(v) for k, v in exited_reasons.items()})
        ),
        SUMMARY_KEY: dg.MetadataValue.text(summary),
    }


def payloads_report(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Members and held-back counts per (segment, destination)."""
    rows = con.execute(_PAIRS).fetchall()
    ((pairs,),) = con.execute(_RULE_PAIRS).fetchall()
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
    with connect() as con:
        for name in names:
            try:
                metadata = segment_report(con, name)
            except duckdb.CatalogException:  # the build stopped before the sizes
                return
            if metadata is not None:
                yield dg.AssetObservation(asset_key=segment_key(name), metadata=metadata)
        if PAYLOADS_KEY in selected:
            try:
                metadata = payloads_report(con)
            except duckdb.CatalogException:
                return
            yield dg.AssetObservation(asset_key=PAYLOADS_KEY, metadata=metadata)
