"""Secrets and PII hygiene: the webhook's token never reaches a log record, an error, the
sync tables or Dagster's event log, even when the receiver echoes it back; export files
are readable by their owner only."""

from __future__ import annotations

import dataclasses
import logging
import os
import stat

import dagster as dg
import duckdb
import pytest
from dagster._serdes import serialize_value

from orchestration.activation.destinations import parse_destinations
from orchestration.activation.destinations.file import write_atomically
from orchestration.activation.destinations.webhook import redact, url_secrets
from orchestration.activation.segment_files import SEGMENTS_DIR, load_segment_definitions
from orchestration.activation.sync import sync_destination
from orchestration.assets.exports import ExportsFolderResource, build_export_assets
from orchestration.resources import WarehouseResource
from tests.activation.loopback import Received, Reply, loopback
from tests.activation.payloads import person, run_info, write_payloads

TOKEN = "s3cr3t-T0KEN-for-tests-9f8e7d"
TOKEN_ENV = "CDP_TEST_WEBHOOK_TOKEN"
# In the URL too (some receivers take it there): never shown either.
URL_SECRET = "urlsecret-5a4b3c"


def hostile(number: int, received: Received) -> Reply:
    """A receiver that rejects with the request's own Authorization header in the body
    (what careless gateways do): 401 for the first segment, 500 for the second, and
    accepts removals."""
    echoed = f"rejected {received.headers.get('Authorization')} at {received.body['segment']}"
    if received.body["operation"] == "remove":
        return Reply()
    if received.body["segment"] == "abandoned_cart":
        return Reply(status=401, body=echoed.encode())
    return Reply(status=500, body=echoed.encode())


def webhook(url: str):  # type: ignore[no-untyped-def]
    options = {
        "url": f"{url}?key={URL_SECRET}",
        "token_env": TOKEN_ENV,
        "max_attempts": 2,
        "backoff_base_seconds": 0,
    }
    return parse_destinations(
        {"destinations": {"webhook": {"type": "webhook", "options": options}}}
    )["webhook"]


def every_table(con: duckdb.DuckDBPyConnection) -> str:
    """Every row of every table in the database, as text."""
    text = []
    for schema, table in con.execute(
        "select table_schema, table_name from information_schema.tables"
    ).fetchall():
        text.append(repr(con.execute(f'select * from "{schema}"."{table}"').fetchall()))
    return "\n".join(text)


def assert_no_secret(text: str, where: str) -> None:
    assert TOKEN not in text, f"the token leaked into {where}"
    assert URL_SECRET not in text, f"the URL's secret leaked into {where}"


def test_the_token_never_leaks_from_a_failing_sync(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    caplog.set_level(logging.DEBUG)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    with loopback(hostile) as server:
        write_payloads(con, "abandoned_cart", "webhook", [person(n) for n in range(1, 4)])
        write_payloads(con, "abandoned_cart_sms", "webhook", [person(n) for n in range(4, 6)])
        result = sync_destination(
            con,
            webhook(server.url),
            [("abandoned_cart", {}), ("abandoned_cart_sms", {})],
            run_info(tmp_path / "exports", "r1"),
        )
    # The token was really in play: sent, and echoed back by the receiver.
    assert {r.headers.get("Authorization") for r in server.requests} == {f"Bearer {TOKEN}"}
    assert [r.status for r in server.requests] == [401, 500, 500]
    assert len(result.errors) == 2
    assert "HTTP 401" in result.errors[0]
    assert "HTTP 500" in result.errors[1]
    assert "[redacted]" in result.errors[0]
    assert_no_secret("\n".join(result.errors), "the sync's errors")
    assert_no_secret(repr(result), "the sync result")
    assert_no_secret(every_table(con), "the warehouse (sync_log, sync_outbox, sync_state)")
    assert caplog.records, "nothing was logged: the scan would prove nothing"
    assert_no_secret("\n".join(r.getMessage() for r in caplog.records), "the log records")
    con.close()


@pytest.fixture
def webhook_segments(dbt_manifest):  # type: ignore[no-untyped-def]
    return [
        dataclasses.replace(item, destinations=("webhook",))
        for item in load_segment_definitions(SEGMENTS_DIR)
        if "webhook" in item.destinations
    ]


def test_the_token_never_reaches_dagster_events_metadata_or_the_failure(
    tmp_path, monkeypatch, caplog, webhook_segments
):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    caplog.set_level(logging.DEBUG)
    warehouse = tmp_path / "cdp.duckdb"
    names = sorted(segment.name for segment in webhook_segments)
    with duckdb.connect(str(warehouse)) as con:
        for offset, name in enumerate(names):
            write_payloads(con, name, "webhook", [person(10 * offset + n) for n in range(1, 4)])
    instance = dg.DagsterInstance.ephemeral()
    with loopback(hostile) as server:
        (export,) = build_export_assets(webhook_segments, {"webhook": webhook(server.url)})
        result = dg.materialize(
            [export],
            resources={
                "warehouse": WarehouseResource(path=str(warehouse)),
                "exports_folder": ExportsFolderResource(path=str(tmp_path / "exports")),
            },
            instance=instance,
            raise_on_error=False,
        )
    assert {r.headers.get("Authorization") for r in server.requests} == {f"Bearer {TOKEN}"}
    assert not result.success  # the batches failed: the step fails with their errors
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    error = failure.step_failure_data.error
    assert "HTTP 401" in error.message
    assert_no_secret(serialize_value(error), "the step's failure")
    logs = instance.all_logs(result.run_id)
    assert any(entry.dagster_event and entry.dagster_event.is_step_failure for entry in logs)
    assert_no_secret(
        "\n".join(serialize_value(entry) for entry in logs), "Dagster's event log and metadata"
    )
    assert_no_secret("\n".join(r.getMessage() for r in caplog.records), "the log records")
    with duckdb.connect(str(warehouse)) as con:
        assert_no_secret(every_table(con), "the warehouse")


def test_redact_takes_out_the_secrets_and_any_bearer_credential():
    text = f"401: Bearer {TOKEN} rejected; other bearer abc.def-ghi; url ?key={URL_SECRET}"
    cleaned = redact(text, [TOKEN, URL_SECRET])
    assert cleaned == (
        "401: Bearer [redacted] rejected; other bearer [redacted]; url ?key=[redacted]"
    )


def test_url_secrets_are_the_password_and_the_query_values():
    url = f"https://svc:{URL_SECRET}@hooks.example.com/in?token={TOKEN}&v=1"
    assert sorted(url_secrets(url)) == sorted([URL_SECRET, TOKEN])
    assert url_secrets("http://127.0.0.1:8080/hooks/audience") == []


# ---- export files: owner only ------------------------------------------------------------


def test_write_atomically_creates_owner_only_files_whatever_the_umask(tmp_path):
    previous = os.umask(0o000)  # the loosest: nothing masked
    try:
        write_atomically(tmp_path / "a" / "members.csv", b"person_id\np1\n")
    finally:
        os.umask(previous)
    mode = stat.S_IMODE((tmp_path / "a" / "members.csv").stat().st_mode)
    assert mode == 0o600
    # Rewriting an existing file (a group-readable one from before) tightens it too.
    (tmp_path / "b.csv").write_bytes(b"old")
    (tmp_path / "b.csv").chmod(0o644)
    write_atomically(tmp_path / "b.csv", b"new")
    assert stat.S_IMODE((tmp_path / "b.csv").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("name", "type_", "options"),
    [
        ("file", "file", {"format": "csv"}),
        ("file_parquet", "file", {"format": "parquet"}),
        ("google_ads", "google_ads_customer_match", {"default_region": "US"}),
        ("meta", "meta_custom_audiences", {"default_region": "US"}),
    ],
)
def test_every_export_file_of_a_real_sync_is_owner_only(tmp_path, name, type_, options):
    target = parse_destinations({"destinations": {name: {"type": type_, "options": options}}})[name]
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    write_payloads(con, "cart", name, [person(n) for n in range(1, 4)])
    result = sync_destination(con, target, [("cart", {})], run_info(tmp_path / "exports", "r1"))
    write_payloads(con, "cart", name, [person(1)])
    sync_destination(con, target, [("cart", {})], run_info(tmp_path / "exports", "r2", 1))
    con.close()
    assert result.total("adds") == 3
    files = [path for path in (tmp_path / "exports").rglob("*") if path.is_file()]
    assert any(path.name == "manifest.json" for path in files)
    assert any("__remove__" in path.name for path in files)
    modes = {path.name: oct(stat.S_IMODE(path.stat().st_mode)) for path in files}
    assert set(modes.values()) == {"0o600"}, modes
