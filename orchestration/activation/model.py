"""The shared vocabulary of activation: what a segment definition and a destination are.

Segment definitions are YAML files (orchestration/activation/segments/*.yml), parsed and
validated by orchestration/activation/segment_files.py into `SegmentDefinition`. Destinations
(orchestration/activation/destinations/) deliver a segment's members and read only the
fields below, so the two sides meet here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Refresh(StrEnum):
    """How often a segment is evaluated (and synced): time-sensitive ones hourly."""

    HOURLY = "hourly"
    DAILY = "daily"


class Audience(StrEnum):
    """Who may be in the segment: known persons only, or anonymous ones too.

    Anonymous persons can only go to first-party destinations (the website, our own
    webhook): an ad platform cannot match them and must never receive them.
    """

    KNOWN = "known"
    ALL = "all"


CONSENT_PURPOSES = (
    "email_marketing",
    "sms_marketing",
    "advertising",
    "analytics",
    "personalization",
)


@dataclass(frozen=True)
class SegmentDefinition:
    """One audience, as declared in its YAML file."""

    name: str  # snake_case, unique: the `segment_name` in the membership marts
    description: str
    owner: str
    consent_purpose: str  # one of CONSENT_PURPOSES: members must have it `granted`
    destinations: tuple[str, ...]  # destination names (see destinations config)
    refresh: Refresh
    audience: Audience
    rule: Any  # the parsed rule tree (rule_ast.py); destinations never read it
    # Static attributes every member carries to the destinations (e.g. a discount code).
    attributes: dict[str, Any] = field(default_factory=dict)
    source_file: Path | None = None
