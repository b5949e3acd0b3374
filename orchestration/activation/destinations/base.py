"""What every destination is: the contract the sync (activation/sync/) relies on, and the
registry.

A destination turns an audience member (a row of `activation.audience_payloads`, already
cleared by that dbt model and its blocking test) into the record it sends, and names the
*match keys* that record puts at the destination: the hashed email and phone for an ad
platform, the person id for a first-party tool. The sync keeps only those keys in its
state, so it can take back later what it sent (a member who left, withdrew consent or was
erased) without keeping anything else about the person.

Delivery is per batch. A batch carries an idempotency key that is deterministic for its
content and the run that planned it: a batch re-sent after a crash carries the same key,
so the receiver recognises it (a file destination finds the file already written).
"""

from __future__ import annotations

import hashlib
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError


class DestinationConfigError(ValueError):
    """A destination configured wrongly; the message names the config file and entry."""


class DeliveryError(Exception):
    """A batch the destination did not accept. `retryable` = worth trying again later."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class DestinationKind(StrEnum):
    """Ad platforms need advertising consent and known persons; first-party tools don't."""

    AD_PLATFORM = "ad_platform"
    FIRST_PARTY = "first_party"


class Operation(StrEnum):
    """What a batch does at the destination. Removes go first in a run."""

    REMOVE = "remove"
    UPDATE = "update"
    ADD = "add"


# A match key: (field, value) as the destination's removal record names it, e.g.
# ("Email", "<sha256>") for Google or ("person_id", "p_123") for a webhook.
MatchKey = tuple[str, str]


@dataclass(frozen=True)
class Member:
    """One person allowed to leave for one destination (a row of audience_payloads)."""

    person_id: str
    is_known: bool = True
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = None
    entered_at: datetime | None = None
    # The segment's static attributes merged with the member's own (e.g. a discount code).
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    """A member as this destination sends it, and the keys that let us take it back."""

    record: dict[str, Any]
    keys: frozenset[MatchKey]

    @property
    def payload_hash(self) -> str:
        return sha256_hex(canonical_json(self.record))


@dataclass(frozen=True)
class Batch:
    """Records of one operation for one (segment, destination), sent in one go."""

    destination: str
    segment: str
    operation: Operation
    number: int
    planned_in_run: str
    records: tuple[dict[str, Any], ...]

    @cached_property
    def idempotency_key(self) -> str:
        """SHA-256 of the batch: destination, segment, operation, the run that planned it
        and the records. The same batch re-sent after a crash gets the same key; a later
        run that legitimately sends identical records (a member who left and came back)
        gets a different one, so a receiver that honours keys does not drop it."""
        return sha256_hex(
            canonical_json(
                {
                    "destination": self.destination,
                    "segment": self.segment,
                    "operation": str(self.operation),
                    "planned_in_run": self.planned_in_run,
                    "number": self.number,
                    "records": list(self.records),
                }
            )
        )


@dataclass(frozen=True)
class RunInfo:
    """The run a delivery belongs to: export files are grouped by it."""

    run_id: str
    started_at: datetime
    exports_dir: Path
    log: logging.Logger | Any = field(default_factory=lambda: logging.getLogger("cdp.exports"))

    @property
    def folder_name(self) -> str:
        """`20261122T233500Z_1a2b3c4d`: sorts by time, unique per run."""
        return f"{self.started_at.strftime('%Y%m%dT%H%M%SZ')}_{self.run_id[:8]}"


class Delivery(ABC):
    """One destination's delivery within one run (opened by `Destination.open`)."""

    @abstractmethod
    def already_delivered(self, batch: Batch) -> bool:
        """True when the destination already holds this batch (checked before a
        re-send; a file destination finds the file, a webhook relies on the key)."""

    @abstractmethod
    def send(self, batch: Batch) -> None:
        """Deliver the batch; return only once it is written/acknowledged, else raise
        DeliveryError."""

    def close(self) -> dict[str, Any]:
        """Finish the run (e.g. write a manifest); returns what the metadata shows."""
        return {}


class Destination(ABC):
    """A configured destination: `name` in destinations.yml, `type` a registered class."""

    type_name: ClassVar[str]
    kind: ClassVar[DestinationKind]
    # Consent purposes this destination needs on top of the segment's own purpose.
    required_purposes: ClassVar[tuple[str, ...]] = ()
    # True: a changed member is sent as an `update`; False: re-added (ad platforms
    # replace nothing: the new identifiers are added, stale ones removed by key).
    supports_updates: ClassVar[bool] = False
    # The columns of a removal record, in order (each removal row fills one of them).
    removal_fields: ClassVar[tuple[str, ...]]
    # The largest batch the destination takes (None = no limit).
    max_batch_size: ClassVar[int | None] = None
    Options: ClassVar[type[BaseModel]]

    def __init__(self, name: str, options: BaseModel, source: Path | None = None) -> None:
        self.name = name
        self.options = options
        self.source = source

    @property
    def batch_size(self) -> int | None:
        return getattr(self.options, "batch_size", None)

    @property
    def allows_anonymous(self) -> bool:
        """Anonymous persons can only go to first-party destinations."""
        return self.kind == DestinationKind.FIRST_PARTY

    def unavailable_reason(self) -> str | None:
        """Why this destination cannot deliver in this environment (None = it can).
        Checked at run time, so setting an env var needs no code change."""
        return None

    @abstractmethod
    def prepare(self, member: Member) -> Prepared | None:
        """The member as this destination sends it; None when it cannot be matched
        (an ad platform record without email or phone: we only send what we can take
        back)."""

    def removal_record(self, key: MatchKey) -> dict[str, Any]:
        """The record that removes one match key (the other removal fields empty)."""
        field_name, value = key
        return {name: (value if name == field_name else None) for name in self.removal_fields}

    @abstractmethod
    def open(self, run: RunInfo) -> Delivery:
        """Start delivering for one run."""

    def describe(self) -> str:
        return f"{self.name} ({self.type_name})"


# ---- registry and config --------------------------------------------------------------

DESTINATION_TYPES: dict[str, type[Destination]] = {}


def register(cls: type[Destination]) -> type[Destination]:
    """Class decorator: make a destination type available to destinations.yml."""
    DESTINATION_TYPES[cls.type_name] = cls
    return cls


class StrictOptions(BaseModel):
    """Options of a destination type: unknown keys are errors (typos must not pass)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str
    description: str = ""
    options: dict[str, Any] = {}


def build_destination(name: str, entry: Mapping[str, Any], source: Path | None) -> Destination:
    """One destination from its config entry; errors name the file and the entry."""
    where = f"{source or '<destinations config>'}: destination '{name}'"
    try:
        parsed = _Entry.model_validate(dict(entry))
    except ValidationError as error:
        raise DestinationConfigError(f"{where}: {_pydantic_message(error)}") from None
    cls = DESTINATION_TYPES.get(parsed.type)
    if cls is None:
        known = ", ".join(sorted(DESTINATION_TYPES))
        raise DestinationConfigError(f"{where}: unknown type '{parsed.type}' (known: {known})")
    try:
        options = cls.Options.model_validate(parsed.options)
    except ValidationError as error:
        raise DestinationConfigError(
            f"{where} ({parsed.type}): {_pydantic_message(error)}"
        ) from None
    limit = cls.max_batch_size
    size = getattr(options, "batch_size", None)
    if limit is not None and size is not None and not 1 <= size <= limit:
        raise DestinationConfigError(
            f"{where}: batch_size {size} is outside 1..{limit} ({parsed.type} takes at most "
            f"{limit:,} rows per request)"
        )
    if size is not None and size < 1:
        raise DestinationConfigError(f"{where}: batch_size must be at least 1")
    return cls(name, options, source)


def _pydantic_message(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(entry)"
        parts.append(f"{location}: {item['msg']}")
    return "; ".join(parts)


# ---- helpers ------------------------------------------------------------------------------


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces: equal content gives equal text (and equal hashes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chunked(items: Sequence[Any], size: int | None) -> Iterator[Sequence[Any]]:
    if not items:
        return
    step = size or len(items)
    for start in range(0, len(items), step):
        yield items[start : start + step]


def email_parts(email: str) -> tuple[str, str] | None:
    """(local part, domain) of a trimmed, lower-cased address; None for what no ad platform
    takes as an address: whitespace inside, not exactly one `@`, an empty part."""
    if any(character.isspace() for character in email) or email.count("@") != 1:
        return None
    local, _, domain = email.partition("@")
    return (local, domain) if local and domain else None


def hashed(value: str | None, normalise: Callable[[str], str | None]) -> str | None:
    """SHA-256 hex of the normalised value; None when nothing is left to hash."""
    if value is None:
        return None
    normal = normalise(value)
    return sha256_hex(normal) if normal else None
