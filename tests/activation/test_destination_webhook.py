"""The webhook destination against a real HTTP server on 127.0.0.1 that fails some
requests: retries with backoff, Retry-After (seconds and HTTP-date), the idempotency
key, no retry on a client error, and a missing URL skipped with a message."""

import email.utils
import random
import time
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from orchestration.activation.destinations import parse_destinations
from orchestration.activation.destinations.base import Batch, DeliveryError, Operation
from orchestration.activation.destinations.webhook import (
    WebhookDestination,
    backoff_delay,
    parse_retry_after,
)
from orchestration.activation.sync import sync_destination
from tests.activation.loopback import Reply, loopback
from tests.activation.payloads import person, run_info, write_payloads


def webhook(url: str | None, **options: object) -> WebhookDestination:
    options = {"backoff_base_seconds": 0.01, "max_attempts": 4, **options}
    if url is not None:
        options["url"] = url
    destination = parse_destinations(
        {"destinations": {"webhook": {"type": "webhook", "options": options}}}
    )["webhook"]
    assert isinstance(destination, WebhookDestination)
    return destination


def batch(number: int = 1, operation: Operation = Operation.ADD) -> Batch:
    return Batch(
        destination="webhook",
        segment="abandoned_cart",
        operation=operation,
        number=number,
        planned_in_run="run-1",
        records=({"person_id": "p1", "email": "ann@example.com"},),
    )


def scripted(*replies: Reply):
    """Reply n to request n; 200 once the script runs out."""
    return lambda number, received: replies[number - 1] if number <= len(replies) else Reply()


def test_a_batch_is_posted_as_json_with_its_idempotency_key(tmp_path):
    with loopback() as server:
        delivery = webhook(server.url).open(run_info(tmp_path, "r1"))
        delivery.send(batch())
    (request,) = server.requests
    assert request.key == batch().idempotency_key
    assert len(request.key) == 64
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == {
        "destination": "webhook",
        "segment": "abandoned_cart",
        "operation": "add",
        "batch": 1,
        "idempotency_key": request.key,
        "records": [{"person_id": "p1", "email": "ann@example.com"}],
    }


def test_the_key_is_the_same_for_the_same_batch_and_differs_otherwise():
    assert batch().idempotency_key == batch().idempotency_key
    assert batch(2).idempotency_key != batch().idempotency_key
    assert batch(operation=Operation.REMOVE).idempotency_key != batch().idempotency_key
    later = Batch("webhook", "abandoned_cart", Operation.ADD, 1, "run-2", batch().records)
    assert later.idempotency_key != batch().idempotency_key


def test_server_errors_are_retried_with_the_same_key_until_acknowledged(tmp_path):
    with loopback(scripted(Reply(500), Reply(502), Reply(200))) as server:
        delivery = webhook(server.url).open(run_info(tmp_path, "r1"))
        delivery.send(batch())
    assert [r.status for r in server.requests] == [500, 502, 200]
    assert len({r.key for r in server.requests}) == 1
    assert delivery.close() == {"requests": 3, "retries": 2, "batches_acknowledged": 1}


def test_429_with_retry_after_seconds_is_honoured(tmp_path):
    with loopback(scripted(Reply(429, {"Retry-After": "1"}))) as server:
        webhook(server.url).open(run_info(tmp_path, "r1")).send(batch())
    first, second = server.requests
    assert (first.status, second.status) == (429, 200)
    # The backoff alone would have waited ~0.01 s.
    assert second.at - first.at >= 0.95


def test_503_with_retry_after_http_date_is_honoured(tmp_path):
    def script(number, received):
        if number == 1:
            when = datetime.now(UTC) + timedelta(seconds=2)
            return Reply(503, {"Retry-After": email.utils.format_datetime(when, usegmt=True)})
        return Reply()

    with loopback(script) as server:
        webhook(server.url).open(run_info(tmp_path, "r1")).send(batch())
    first, second = server.requests
    # HTTP-dates have whole seconds: at least one second later.
    assert second.at - first.at >= 0.95


def test_408_is_retried(tmp_path):
    with loopback(scripted(Reply(408))) as server:
        webhook(server.url).open(run_info(tmp_path, "r1")).send(batch())
    assert [r.status for r in server.requests] == [408, 200]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_other_client_errors_are_not_retried(tmp_path, status):
    with loopback(scripted(Reply(status, body=b"bad record"))) as server:
        delivery = webhook(server.url).open(run_info(tmp_path, "r1"))
        with pytest.raises(DeliveryError, match=f"HTTP {status}: bad record") as error:
            delivery.send(batch())
    assert error.value.retryable is False
    assert len(server.requests) == 1


def test_attempts_run_out(tmp_path):
    with loopback(lambda number, received: Reply(500)) as server:
        delivery = webhook(server.url, max_attempts=3).open(run_info(tmp_path, "r1"))
        with pytest.raises(DeliveryError, match="failed after 3 attempt") as error:
            delivery.send(batch())
    assert error.value.retryable is True
    assert len(server.requests) == 3


def test_a_retry_after_longer_than_max_wait_leaves_the_batch_for_the_next_run(tmp_path):
    with loopback(scripted(Reply(429, {"Retry-After": "3600"}))) as server:
        delivery = webhook(server.url, max_wait_seconds=5).open(run_info(tmp_path, "r1"))
        started = time.monotonic()
        with pytest.raises(DeliveryError, match="Retry-After 3600s exceeds max_wait_seconds"):
            delivery.send(batch())
    assert time.monotonic() - started < 2
    assert len(server.requests) == 1


def test_connection_refused_is_retried_then_fails(tmp_path):
    with loopback() as server:
        url = server.url
    # The server is shut down: nothing listens on that port any more.
    delivery = webhook(url, max_attempts=2).open(run_info(tmp_path, "r1"))
    with pytest.raises(DeliveryError, match="connection failed"):
        delivery.send(batch())
    assert delivery.requests == 2


def test_parse_retry_after():
    now = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Sun, 22 Nov 2026 10:00:30 GMT", now) == 30
    assert parse_retry_after("Sun, 22 Nov 2026 09:00:00 GMT", now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_backoff_doubles_with_jitter_and_stays_under_the_cap():
    rng = random.Random(7)
    for attempt, step in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)]:
        delays = [backoff_delay(attempt, 1.0, 60.0, rng) for _ in range(200)]
        assert step / 2 <= min(delays)
        assert max(delays) <= step
        assert max(delays) - min(delays) > step / 4  # jittered, not constant
    assert backoff_delay(20, 1.0, 60.0, rng) <= 60.0


def test_without_a_url_the_destination_is_skipped_with_a_message(tmp_path, monkeypatch):
    monkeypatch.delenv("CDP_WEBHOOK_URL", raising=False)
    destination = webhook(None)
    assert "set CDP_WEBHOOK_URL" in destination.unavailable_reason()
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    write_payloads(con, "abandoned_cart", "webhook", [person(1)])
    result = sync_destination(con, destination, [("abandoned_cart", {})], run_info(tmp_path, "r1"))
    assert result.skipped
    assert "CDP_WEBHOOK_URL" in result.skipped
    # Nothing planned: the next run with a URL sends everything.
    assert con.execute("show tables from activation").fetchall() == [("audience_payloads",)]
    monkeypatch.setenv("CDP_WEBHOOK_URL", "http://127.0.0.1:9/x")
    assert destination.unavailable_reason() is None
