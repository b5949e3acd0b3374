"""Diff syncs in a real DuckDB file: adds, removes by key, updates, failed batches re-sent
with the same key, a crash after the destination wrote, full resync, and an erased person
taken back out by the hashed keys the state kept."""

import csv
import hashlib
import json

import duckdb
import pytest

from orchestration.activation.destinations import parse_destinations
from orchestration.activation.destinations.base import Batch
from orchestration.activation.destinations.file import FileDelivery
from orchestration.activation.sync import sync_destination
from tests.activation.loopback import Reply, loopback
from tests.activation.payloads import person, run_info, write_payloads


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def destination(name: str, type_: str, **options: object):  # type: ignore[no-untyped-def]
    return parse_destinations({"destinations": {name: {"type": type_, "options": options}}})[name]


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


def sync(con, target, tmp_path, run_id, minute=0, **kwargs):  # type: ignore[no-untyped-def]
    return sync_destination(
        con, target, [("cart", {})], run_info(tmp_path / "exports", run_id, minute), **kwargs
    )


def state(con, target_name):  # type: ignore[no-untyped-def]
    rows = con.execute(
        "select person_id, payload_hash, match_keys from activation.sync_state "
        "where destination = ? order by person_id",
        [target_name],
    ).fetchall()
    return {pid: (payload_hash, json.loads(keys)) for pid, payload_hash, keys in rows}


def outbox(con):  # type: ignore[no-untyped-def]
    return con.execute(
        "select idempotency_key, operation, count(*), max(attempts) from activation.sync_outbox "
        "group by all order by 2, 1"
    ).fetchall()


def csv_rows(paths):  # type: ignore[no-untyped-def]
    rows = []
    for path in sorted(paths):
        with path.open(newline="") as handle:
            rows += list(csv.DictReader(handle))
    return rows


# ---- adds, removes, updates -------------------------------------------------------------


def test_webhook_adds_then_only_the_changes(con, tmp_path):
    with loopback() as server:
        hook = destination("hook", "webhook", url=server.url, batch_size=2)
        write_payloads(con, "cart", "hook", [person(n) for n in (1, 2, 3)])
        first = sync(con, hook, tmp_path, "r1")
        assert (first.total("adds"), first.total("batches_sent")) == (3, 2)

        # Nothing changed: nothing is sent.
        assert sync(con, hook, tmp_path, "r2").total("batches_sent") == 0

        # p1 leaves, p2 changes, p4 joins: one removal, one update, one add.
        write_payloads(con, "cart", "hook", [person(2, first_name="Bo"), person(3), person(4)])
        third = sync(con, hook, tmp_path, "r3")
    assert (third.total("removes"), third.total("updates"), third.total("adds")) == (1, 1, 1)
    assert server.records("remove") == [{"person_id": "p00001"}]
    assert [r["first_name"] for r in server.records("update")] == ["Bo"]
    assert [r["person_id"] for r in server.records("add")] == [
        "p00001",
        "p00002",
        "p00003",
        "p00004",
    ]
    # Removes went before updates and adds in that run.
    operations = [r.body["operation"] for r in server.requests[2:]]
    assert operations == ["remove", "update", "add"]
    assert set(state(con, "hook")) == {"p00002", "p00003", "p00004"}
    assert outbox(con) == []


def test_ad_platform_changed_email_adds_the_new_and_removes_only_the_stale_key(con, tmp_path):
    google = destination("google_ads", "google_ads_customer_match")
    write_payloads(con, "cart", "google_ads", [person(1), person(2)])
    sync(con, google, tmp_path, "r1")
    write_payloads(con, "cart", "google_ads", [person(1, email="new1@example.com"), person(2)])
    result = sync(con, google, tmp_path, "r2", minute=5)
    assert (result.total("adds"), result.total("removes"), result.total("updates")) == (1, 1, 0)
    root = tmp_path / "exports" / "google_ads"
    (removes,) = csv_rows(root.glob("*/cart__remove__*.csv"))
    # Only the old email: the phone is still wanted and stays in the list.
    assert removes == {"Email": sha256("member1@example.com"), "Phone": ""}
    keys = dict(map(tuple, state(con, "google_ads")["p00001"][1]))
    assert keys == {"Email": sha256("new1@example.com"), "Phone": sha256("+14155550001")}


def test_a_new_person_id_with_the_same_email_removes_nothing(con, tmp_path):
    # Identity merged p1 into p9: same email and phone, new person id.
    google = destination("google_ads", "google_ads_customer_match")
    write_payloads(con, "cart", "google_ads", [person(1)])
    sync(con, google, tmp_path, "r1")
    merged = person(1, person_id="p00009")
    write_payloads(con, "cart", "google_ads", [merged])
    result = sync(con, google, tmp_path, "r2", minute=5)
    assert result.total("removes") == 0
    assert list(state(con, "google_ads")) == ["p00009"]
    # Once p9 leaves, the keys are taken back exactly once.
    write_payloads(con, "cart", "google_ads", [])
    assert sync(con, google, tmp_path, "r3", minute=10).total("removes") == 2
    assert state(con, "google_ads") == {}


def test_full_resync_resends_every_member_and_still_removes(con, tmp_path):
    files = destination("file", "file")
    write_payloads(con, "cart", "file", [person(1), person(2)])
    sync(con, files, tmp_path, "r1")
    write_payloads(con, "cart", "file", [person(2), person(3)])
    result = sync(con, files, tmp_path, "r2", minute=5, full_resync=True)
    assert (result.total("adds"), result.total("removes"), result.total("updates")) == (2, 1, 0)
    folder = next(p for p in (tmp_path / "exports" / "file").iterdir() if "r2" in p.name)
    assert [r["person_id"] for r in csv_rows(folder.glob("cart__add__*"))] == ["p00002", "p00003"]
    assert list(state(con, "file")) == ["p00002", "p00003"]


# ---- failures and crashes ----------------------------------------------------------------


def test_a_failed_batch_stays_pending_and_is_resent_with_the_same_key(con, tmp_path):
    failing = True

    def script(number, received):  # type: ignore[no-untyped-def]
        return Reply(500) if failing and received.body["batch"] == 2 else Reply()

    with loopback(script) as server:
        hook = destination(
            "hook", "webhook", url=server.url, batch_size=2, max_attempts=2, backoff_base_seconds=0
        )
        write_payloads(con, "cart", "hook", [person(n) for n in range(1, 6)])
        first = sync(con, hook, tmp_path, "r1")
        assert (first.total("adds"), first.total("failed"), first.total("batches_failed")) == (
            3,
            2,
            1,
        )
        # The state did not advance for the failed rows; the batch waits in the outbox.
        assert set(state(con, "hook")) == {"p00001", "p00002", "p00005"}
        ((failed_key, operation, rows, attempts),) = outbox(con)
        assert (operation, rows, attempts) == ("add", 2, 1)

        failing = False
        second = sync(con, hook, tmp_path, "r2")
    assert (second.total("adds"), second.total("batches_resent")) == (2, 1)
    assert server.requests[-1].key == failed_key
    assert sorted(r["person_id"] for r in server.records("add")) == [
        f"p0000{n}" for n in range(1, 6)
    ]
    assert outbox(con) == []


class CrashAfter(Exception):
    """Stands for the process dying: not a DeliveryError, nothing catches it."""


def crashing_files(target, after_batches: int):  # type: ignore[no-untyped-def]
    """The real file destination whose process 'dies' right after writing batch N
    (the file is there, the state was not advanced)."""
    original_open = target.open

    def open_(run):  # type: ignore[no-untyped-def]
        delivery: FileDelivery = original_open(run)
        send = delivery.send

        def send_then_die(batch: Batch) -> None:
            send(batch)
            if len(delivery.written) == after_batches:
                raise CrashAfter(f"killed after batch {batch.number}")

        delivery.send = send_then_die  # type: ignore[method-assign]
        return delivery

    target.open = open_
    return target


def test_a_crash_after_a_file_was_written_neither_loses_nor_duplicates(con, tmp_path):
    meta = destination("meta", "meta_custom_audiences", batch_size=4)
    write_payloads(con, "cart", "meta", [person(n) for n in range(1, 11)])
    with pytest.raises(CrashAfter):
        sync(con, crashing_files(meta, after_batches=2), tmp_path, "r1")
    assert len(state(con, "meta")) == 4  # batch 1 acknowledged, batch 2 not recorded
    assert [row[1:3] for row in outbox(con)] == [("add", 4), ("add", 2)]

    healthy = destination("meta", "meta_custom_audiences", batch_size=4)
    result = sync(con, healthy, tmp_path, "r2", minute=5)
    # Batch 2's file was already there: acknowledged without writing it again.
    assert (result.total("batches_already_delivered"), result.total("batches_sent")) == (1, 1)
    files = sorted((tmp_path / "exports" / "meta").glob("*/cart__add__*.csv"))
    assert len(files) == 3
    emails = [row["EMAIL"] for row in csv_rows(files)]
    assert sorted(emails) == sorted(sha256(f"member{n}@example.com") for n in range(1, 11))
    assert len(state(con, "meta")) == 10
    assert outbox(con) == []


def test_a_pending_batch_that_is_no_longer_right_is_taken_back(con, tmp_path):
    # The receiver applies batch 2 (p3, p4) but the client never hears back; before the
    # next run p3 withdraws consent (leaves the payload). The stale batch must not be
    # re-sent as it was, and since it did arrive, p3 must be removed.
    def script(number, received):  # type: ignore[no-untyped-def]
        return Reply(200, hang_up=True) if number == 2 else Reply()

    with loopback(script) as server:
        hook = destination("hook", "webhook", url=server.url, batch_size=2, max_attempts=1)
        write_payloads(con, "cart", "hook", [person(n) for n in (1, 2, 3, 4)])
        result = sync(con, hook, tmp_path, "r1")
        assert result.total("failed") == 2
        assert [row[1:3] for row in outbox(con)] == [("add", 2)]
        write_payloads(con, "cart", "hook", [person(1), person(2), person(4)])
        second = sync(con, hook, tmp_path, "r2")
    assert second.total("batches_superseded") == 1
    assert server.records("remove") == [{"person_id": "p00003"}]
    # p4 may or may not hold the batch's version: it is sent again (an update).
    assert [r["person_id"] for r in server.records("update")] == ["p00004"]
    assert set(state(con, "hook")) == {"p00001", "p00002", "p00004"}
    assert outbox(con) == []


# ---- erasure -----------------------------------------------------------------------------


def test_an_erased_person_is_removed_by_hashed_keys_and_nothing_else_is_kept(con, tmp_path):
    google = destination("google_ads", "google_ads_customer_match")
    erased = person(7, email="Erased.Person@gmail.com", phone="+14155550777")
    write_payloads(con, "cart", "google_ads", [person(1), erased])
    sync(con, google, tmp_path, "r1")
    # The state holds hashes only: no email, phone or name in clear.
    dump = json.dumps(con.execute("select * from activation.sync_state").fetchall(), default=str)
    for clear in ("Erased", "erasedperson@gmail.com", "4155550777", "member1@", "Ann", "Lee"):
        assert clear not in dump

    # Erasure: the person is gone from profiles, hence from the payload.
    write_payloads(con, "cart", "google_ads", [person(1)])
    result = sync(con, google, tmp_path, "r2", minute=5)
    assert result.total("removes") == 2
    removes = csv_rows((tmp_path / "exports" / "google_ads").glob("*/cart__remove__*.csv"))
    assert sorted((r["Email"], r["Phone"]) for r in removes) == sorted(
        [(sha256("erasedperson@gmail.com"), ""), ("", sha256("+14155550777"))]
    )
    assert list(state(con, "google_ads")) == ["p00001"]
    log = con.execute(
        "select run_id, adds, removes from activation.sync_log order by run_id"
    ).fetchall()
    assert log == [("r1", 2, 0), ("r2", 0, 2)]
