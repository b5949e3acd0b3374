"""Segments and membership for the enforcement and export tests, on a copy of the demo
warehouse (the session build): every person of customer_profiles is a member, so the
rules alone decide who leaves."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from orchestration.activation.model import Audience, Refresh, SegmentDefinition

SEGMENT_FILE = Path("orchestration/activation/segments/test_segments.yml")


def segment(
    name: str,
    purpose: str,
    destinations: tuple[str, ...],
    audience: Audience = Audience.ALL,
    **attributes: object,
) -> SegmentDefinition:
    return SegmentDefinition(
        name=name,
        description=f"test segment {name}",
        owner="team:test",
        consent_purpose=purpose,
        destinations=destinations,
        refresh=Refresh.DAILY,
        audience=audience,
        rule=None,
        attributes=dict(attributes),
        source_file=SEGMENT_FILE,
    )


# Ad platforms and a first-party file from one advertising segment; first-party only
# (anonymous allowed) for the newsletter; known persons only for the CRM file.
SEGMENTS = (
    segment("everyone_ads", "advertising", ("google_ads", "meta", "file")),
    segment("newsletter", "email_marketing", ("file", "webhook"), discount_code="NEWS10"),
    segment("known_email", "email_marketing", ("file",), Audience.KNOWN),
)


def copy_warehouse(source: Path, target_dir: Path) -> Path:
    """A writable copy of the demo warehouse (never write the session's file)."""
    target = target_dir / "cdp.duckdb"
    shutil.copyfile(source, target)
    return target


def write_membership(con: duckdb.DuckDBPyConnection, segment_name: str) -> None:
    """Every profile is a member; a JSON attribute per member."""
    con.execute(
        """create table if not exists marts.segment_membership (
            segment_name varchar, person_id varchar, entered_at timestamp, attributes json)"""
    )
    con.execute("delete from marts.segment_membership where segment_name = ?", [segment_name])
    con.execute(
        """insert into marts.segment_membership
        select ?, person_id, timestamp '2026-11-01 00:00:00',
            json_object('rfm_segment', rfm_segment)
        from marts.customer_profiles""",
        [segment_name],
    )
