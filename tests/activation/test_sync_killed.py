"""A sync process killed by SIGKILL in the middle of a run: the next run sends the rest,
re-sends the batch in flight with the same idempotency key, and the receiver ends up with
every member exactly once."""

import os
import signal
import subprocess
import sys
import threading
import time

import duckdb

from orchestration.settings import PROJECT_ROOT
from tests.activation.loopback import Reply, loopback
from tests.activation.payloads import person, write_payloads
from tests.activation.sync_worker import SEGMENT, main

MEMBERS = 10  # batches of 3: 4 batches


def test_a_killed_run_is_finished_by_the_next_with_nothing_lost_or_duplicated(tmp_path):
    database = tmp_path / "w.duckdb"
    with duckdb.connect(str(database)) as con:
        write_payloads(con, SEGMENT, "webhook", [person(n) for n in range(1, MEMBERS + 1)])

    in_flight = threading.Event()
    release = threading.Event()

    def script(number, received):  # type: ignore[no-untyped-def]
        if number == 2:
            # The receiver has applied batch 2; the sender dies before hearing back.
            def hold() -> None:
                in_flight.set()
                release.wait(30)

            return Reply(200, before_reply=hold)
        return Reply()

    with loopback(script) as server:
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.activation.sync_worker", str(database), server.url, "r1"],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            assert in_flight.wait(120), worker.stderr.read().decode() if worker.stderr else ""
            os.kill(worker.pid, signal.SIGKILL)
            assert worker.wait(30) == -signal.SIGKILL
        finally:
            release.set()
            if worker.poll() is None:
                worker.kill()
        time.sleep(0.1)
        with duckdb.connect(str(database), read_only=True) as con:
            synced = con.execute("select count(*) from activation.sync_state").fetchall()
            pending = con.execute(
                "select count(distinct idempotency_key), count(*) from activation.sync_outbox"
            ).fetchall()
        # Batch 1 was acknowledged; batches 2-4 were planned and wait in the outbox.
        assert synced == [(3,)]
        assert pending == [(3, 7)]
        in_flight_key = server.requests[1].key

        main(str(database), server.url, "r2")

    # Batch 2 reached the receiver twice with the same key, and was applied once.
    keys = [request.key for request in server.requests]
    assert keys.count(in_flight_key) == 2
    assert len(server.requests) == 5
    assert len(server.applied) == 4
    applied = sorted(record["person_id"] for record in server.records("add"))
    assert applied == [f"p{n:05d}" for n in range(1, MEMBERS + 1)]
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from activation.sync_state").fetchall() == [(MEMBERS,)]
        assert con.execute("select count(*) from activation.sync_outbox").fetchall() == [(0,)]
