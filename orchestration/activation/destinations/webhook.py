"""Webhook: HTTP POST of JSON batches to a first-party endpoint (our own email/SMS tool,
the website's personalisation service).

Each request is one batch:

    POST <url>
    Content-Type: application/json
    Idempotency-Key: <sha256 of the batch, see base.Batch.idempotency_key>

    {"destination": "webhook", "segment": "abandoned_cart", "operation": "add",
     "batch": 1, "idempotency_key": "...", "records": [{"person_id": ..., ...}, ...]}

A remove batch's records are `{"person_id": ...}`; an update batch carries the full record.

Delivery: a 2xx response acknowledges the batch. Connection errors, timeouts, 5xx, 408 and
429 are retried with exponential backoff and jitter (`backoff_base_seconds * 2**n`, at most
`backoff_max_seconds`) up to `max_attempts`; a `Retry-After` header (seconds or an
HTTP-date) is honoured instead of the backoff, unless it asks for more than
`max_wait_seconds` (the batch then stays pending for the next run). Any other 4xx is the
request's fault and is not retried. The key stays the same across retries and runs, so the
receiver can drop a batch it has already applied.

The URL comes from an environment variable (`url_env`, default `CDP_WEBHOOK_URL`) read at
run time; without it the destination is skipped with a message, not failed.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import Field

from orchestration.activation.destinations.base import (
    Batch,
    Delivery,
    DeliveryError,
    Destination,
    DestinationKind,
    Member,
    Prepared,
    RunInfo,
    StrictOptions,
    register,
)
from orchestration.activation.destinations.file import MEMBER_COLUMNS, first_party_record

RETRYABLE_STATUSES = frozenset({408, 429})
USER_AGENT = "composable-cdp-webhook/1"
REDACTED = "[redacted]"
# Any bearer credential, ours or one a receiver made up: never repeated in a message.
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"',;]+")
# Shorter values are not secrets worth the name, and would redact ordinary words.
_MIN_SECRET_CHARS = 6


def url_secrets(url: str) -> list[str]:
    """The parts of a URL that may be credentials: the user-info's password (and user)
    and every query value (`?key=...`, `?token=...`)."""
    parts = urllib.parse.urlsplit(url)
    found = [parts.password or "", parts.username or ""]
    found += [value for _, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)]
    return [value for value in found if len(value) >= _MIN_SECRET_CHARS]


def redact(text: str, secrets: list[str]) -> str:
    """`text` with every secret, and any `Bearer <credential>`, replaced by [redacted]:
    what a receiver echoes back (a 401 body quoting the request) never reaches a log,
    the outbox's last_error or Dagster's event log."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _BEARER.sub(rf"\1 {REDACTED}", text)


class WebhookOptions(StrictOptions):
    # The URL itself (for tests and fixed endpoints) or, usually, the env var holding it.
    url: str | None = None
    url_env: str = "CDP_WEBHOOK_URL"
    # Env var with a bearer token sent as `Authorization: Bearer <token>` (optional).
    token_env: str | None = None
    columns: list[Literal[MEMBER_COLUMNS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["person_id", "email", "phone", "first_name", "attributes"]
    )
    batch_size: int = 500
    max_attempts: int = Field(default=5, ge=1)
    backoff_base_seconds: float = Field(default=1.0, ge=0)
    backoff_max_seconds: float = Field(default=60.0, ge=0)
    max_wait_seconds: float = Field(default=300.0, ge=0)
    timeout_seconds: float = Field(default=30.0, gt=0)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with equal jitter: half the step fixed, half random."""
    step = min(cap, base * (2 ** (attempt - 1)))
    return step / 2 + rng.uniform(0, step / 2)


class WebhookDelivery(Delivery):
    def __init__(
        self,
        destination: WebhookDestination,
        run: RunInfo,
        url: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.destination = destination
        self.options: WebhookOptions = destination.options
        self.run = run
        self.url = url
        self.sleep = sleep
        self.rng = random.Random()
        self.requests = 0
        self.retries = 0
        self.batches = 0
        # Redacted from every message this delivery writes (docs/operations.md).
        self.secrets = [*([self._token()] if self._token() else []), *url_secrets(url)]

    def _token(self) -> str | None:
        return os.environ.get(self.options.token_env) if self.options.token_env else None

    def already_delivered(self, batch: Batch) -> bool:
        # The receiver recognises a re-sent batch by its Idempotency-Key.
        return False

    def _request(self, batch: Batch) -> urllib.request.Request:
        body = {
            "destination": batch.destination,
            "segment": batch.segment,
            "operation": str(batch.operation),
            "batch": batch.number,
            "idempotency_key": batch.idempotency_key,
            "records": list(batch.records),
        }
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": batch.idempotency_key,
            "User-Agent": USER_AGENT,
        }
        token = self._token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")
        return urllib.request.Request(self.url, data=data, headers=headers, method="POST")

    def send(self, batch: Batch) -> None:
        attempts = self.options.max_attempts
        last_error = ""
        for attempt in range(1, attempts + 1):
            self.requests += 1
            wait: float | None = None
            try:
                with urllib.request.urlopen(
                    self._request(batch), timeout=self.options.timeout_seconds
                ) as response:
                    response.read()
                self.batches += 1
                return
            except urllib.error.HTTPError as error:
                status = error.code
                detail = redact(error.read()[:200].decode("utf-8", "replace").strip(), self.secrets)
                last_error = f"HTTP {status}" + (f": {detail}" if detail else "")
                if 400 <= status < 500 and status not in RETRYABLE_STATUSES:
                    raise DeliveryError(
                        f"{self.destination.name}: {last_error} for batch {batch.number} of "
                        f"{batch.segment} ({batch.operation}); not retried",
                        retryable=False,
                    ) from None
                wait = parse_retry_after(error.headers.get("Retry-After"))
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                reason = redact(str(getattr(error, "reason", error)), self.secrets)
                last_error = f"connection failed: {reason}"
            if attempt == attempts:
                break
            if wait is not None and wait > self.options.max_wait_seconds:
                last_error += (
                    f" (Retry-After {wait:.0f}s exceeds max_wait_seconds "
                    f"{self.options.max_wait_seconds:.0f}; left for the next run)"
                )
                break
            if wait is None:
                wait = backoff_delay(
                    attempt,
                    self.options.backoff_base_seconds,
                    self.options.backoff_max_seconds,
                    self.rng,
                )
            self.retries += 1
            self.run.log.info(
                f"{self.destination.name}: {last_error}; retrying batch {batch.number} of "
                f"{batch.segment} in {wait:.2f}s (attempt {attempt + 1}/{attempts})"
            )
            self.sleep(wait)
        raise DeliveryError(
            f"{self.destination.name}: batch {batch.number} of {batch.segment} "
            f"({batch.operation}) failed after {attempt} attempt(s): {last_error}",
            retryable=True,
        )

    def close(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "batches_acknowledged": self.batches,
        }


@register
class WebhookDestination(Destination):
    """JSON batches POSTed to our own endpoint (first party: anonymous members allowed
    when the segment's audience allows them)."""

    type_name: ClassVar[str] = "webhook"
    kind: ClassVar[DestinationKind] = DestinationKind.FIRST_PARTY
    supports_updates: ClassVar[bool] = True
    removal_fields: ClassVar[tuple[str, ...]] = ("person_id",)
    Options = WebhookOptions

    @property
    def url(self) -> str | None:
        return self.options.url or os.environ.get(self.options.url_env) or None

    @property
    def columns(self) -> list[str]:
        columns = list(self.options.columns)
        return columns if "person_id" in columns else ["person_id", *columns]

    def unavailable_reason(self) -> str | None:
        if self.url:
            return None
        return (
            f"no URL: set {self.options.url_env} (or `url` in the destinations config) to "
            f"deliver to {self.name}"
        )

    def prepare(self, member: Member) -> Prepared:
        return Prepared(
            record=first_party_record(member, self.columns),
            keys=frozenset({("person_id", member.person_id)}),
        )

    def open(self, run: RunInfo) -> WebhookDelivery:
        url = self.url
        if not url:
            raise DeliveryError(self.unavailable_reason() or "no URL", retryable=True)
        return WebhookDelivery(self, run, url)
