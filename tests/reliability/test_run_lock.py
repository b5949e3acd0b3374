"""One writer at a time: the run lock beside the warehouse, taken by real processes.

The holders are separate Python processes (the kernel's `flock` is per open file, so a
lock taken in this process would prove nothing about two runs)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest

from orchestration.executor import locked_in_process_executor
from orchestration.run_lock import Holder, RunLockTimeout, lock_path, run_lock
from orchestration.settings import PROJECT_ROOT, Settings
from tests.commands import cdp

# Takes the lock, says so on stdout, holds it until stdin closes (or it is killed).
HOLDER = """
import sys
from pathlib import Path
from orchestration.run_lock import run_lock
with run_lock(Path(sys.argv[1]), timeout=float(sys.argv[2]), purpose="test holder") as got:
    print("held", got.waited_seconds, flush=True)
    sys.stdin.read()
print("released", flush=True)
"""


@contextmanager
def holder(warehouse: Path, timeout: float = 0.0) -> Iterator[subprocess.Popen]:
    """A process holding the warehouse's lock (until the block ends)."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(warehouse), str(timeout)],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().startswith("held"), process.stderr.read()
        yield process
    finally:
        if process.poll() is None:
            process.stdin.close()
            process.wait(timeout=30)


def test_the_lock_file_sits_beside_the_warehouse_and_names_its_holder(tmp_path):
    warehouse = tmp_path / "wh" / "cdp.duckdb"
    with holder(warehouse) as process:
        path = lock_path(warehouse)
        assert path == tmp_path / "wh" / "cdp.duckdb.lock"
        data = json.loads(path.read_text())
        assert data["pid"] == process.pid
        assert data["host"] == socket.gethostname()
        assert data["since"].endswith("+00:00")
        assert data["purpose"] == "test holder"
    # Released: emptied, not deleted (a waiter may have it open).
    assert path.exists()
    assert path.read_text() == ""


def test_a_second_process_gives_up_after_the_timeout_naming_the_holder(tmp_path):
    warehouse = tmp_path / "cdp.duckdb"
    with holder(warehouse) as first:
        started = time.monotonic()
        second = subprocess.run(
            [sys.executable, "-c", HOLDER, str(warehouse), "1.0"],
            cwd=PROJECT_ROOT,
            input="",
            capture_output=True,
            text=True,
            timeout=60,
        )
        waited = time.monotonic() - started
    assert second.returncode != 0
    assert "RunLockTimeout" in second.stderr
    assert f"pid {first.pid} on host {socket.gethostname()}" in second.stderr
    assert "waited 1s" in second.stderr
    assert "held" not in second.stdout
    assert waited >= 1.0


def test_a_waiting_process_gets_the_lock_when_the_holder_finishes(tmp_path):
    warehouse = tmp_path / "cdp.duckdb"
    with holder(warehouse) as first:
        second = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(warehouse), "30"],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)
        assert second.poll() is None  # still waiting, not holding
        first.stdin.close()
        assert first.wait(timeout=30) == 0
        line = second.stdout.readline()
    assert line.startswith("held")
    assert float(line.split()[1]) >= 0.9  # it waited for the first
    assert json.loads(lock_path(warehouse).read_text())["pid"] == second.pid
    second.stdin.close()
    assert second.wait(timeout=30) == 0


def test_a_holder_killed_with_sigkill_leaves_a_stale_lock_that_is_taken_over_at_once(tmp_path):
    warehouse = tmp_path / "cdp.duckdb"
    with holder(warehouse) as victim:
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
    stale = Holder.read(lock_path(warehouse))
    # The file still names the dead process: only the kernel's lock went with it.
    assert stale is not None
    assert stale.pid == victim.pid
    assert stale.is_dead_here()
    started = time.monotonic()
    with run_lock(warehouse, timeout=0) as acquired:
        assert time.monotonic() - started < 1.0
        assert acquired.took_over == stale
        assert Holder.read(lock_path(warehouse)).pid == os.getpid()


def test_a_free_lock_is_not_reported_as_taken_over(tmp_path):
    warehouse = tmp_path / "cdp.duckdb"
    with run_lock(warehouse, timeout=0) as first:
        assert first.took_over is None
    with run_lock(warehouse, timeout=0) as again:
        assert again.took_over is None


def test_a_live_holder_is_not_dead_here(tmp_path):
    warehouse = tmp_path / "cdp.duckdb"
    with holder(warehouse):
        assert Holder.read(lock_path(warehouse)).is_dead_here() is False
        with pytest.raises(RunLockTimeout), run_lock(warehouse, timeout=0):
            pass


def test_the_timeout_is_a_setting():
    assert Settings.from_env({}).lock_timeout == 600
    assert Settings.from_env({"CDP_LOCK_TIMEOUT": "2.5"}).lock_timeout == 2.5
    assert Settings.from_env({"CDP_LOCK_TIMEOUT": "2.5"}).as_env()["CDP_LOCK_TIMEOUT"] == "2.5"


def test_cdp_run_against_a_locked_warehouse_exits_naming_the_holder(tmp_path):
    warehouse = tmp_path / "wh" / "cdp.duckdb"
    with holder(warehouse) as process:
        completed = cdp(
            "run",
            "--warehouse",
            warehouse,
            "--exports-dir",
            tmp_path / "exports",
            "--lock-timeout",
            "0.5",
            dagster_home=tmp_path / "dagster_home",
            timeout=300,
        )
    assert completed.returncode == 3, completed.stdout + completed.stderr
    assert "cdp run FAILED before running" in completed.stderr
    assert f"held by pid {process.pid} on host {socket.gethostname()}" in completed.stderr
    # Nothing ran: no warehouse was created behind the holder's back.
    assert not warehouse.exists()


# A job the way Dagster's run worker executes it (execute_job: the job's own executor,
# as for a run from the UI, a schedule or a sensor), on a warehouse named by the env.
# Dagster caches a reconstructed job per function within a process: one function per test.
def touching_job() -> dg.JobDefinition:
    return _touching(Path(os.environ["CDP_TEST_LOCKED_WAREHOUSE"]))


def touching_job_after_a_kill() -> dg.JobDefinition:
    return _touching(Path(os.environ["CDP_TEST_KILLED_WAREHOUSE"]))


def _touching(warehouse: Path) -> dg.JobDefinition:

    @dg.asset
    def touched() -> None:
        (warehouse.parent / "touched").write_text("ran")

    definitions = dg.Definitions(
        assets=[touched],
        jobs=[dg.define_asset_job("touching", selection=[touched])],
        executor=locked_in_process_executor(warehouse, timeout=0.5),
    )
    return definitions.resolve_job_def("touching")


def test_a_dagster_launched_run_takes_the_lock_and_fails_naming_the_holder(tmp_path, monkeypatch):
    warehouse = tmp_path / "cdp.duckdb"
    monkeypatch.setenv("CDP_TEST_LOCKED_WAREHOUSE", str(warehouse))
    with dg.instance_for_test() as instance, holder(warehouse) as process:
        result = dg.execute_job(dg.reconstructable(touching_job), instance=instance)
        assert not result.success
        failure = next(event for event in result.all_events if event.is_run_failure)
        error = failure.event_specific_data.error
        assert error.cls_name == "RunLockTimeout"
        assert f"pid {process.pid} on host {socket.gethostname()}" in error.message
        assert not (tmp_path / "touched").exists()
    # Free: the same run goes through, and holds the lock while its steps run.
    with dg.instance_for_test() as instance:
        result = dg.execute_job(dg.reconstructable(touching_job), instance=instance)
    assert result.success
    assert (tmp_path / "touched").read_text() == "ran"


def test_the_project_job_runs_with_the_locked_executor(dbt_manifest):
    from orchestration.code_location import defs

    job = defs().resolve_job_def("cdp_all")
    assert job.executor_def.name == "cdp_locked_in_process"


def test_the_lock_is_reentrant_within_a_process_and_still_excludes_others(tmp_path):
    warehouse = tmp_path / "cdp.duckdb"
    with run_lock(warehouse, timeout=0) as outer:
        with run_lock(warehouse, timeout=0) as inner:
            assert inner is outer
        # The inner block's end does not release the outer hold.
        other = subprocess.run(
            [sys.executable, "-c", HOLDER, str(warehouse), "0"],
            cwd=PROJECT_ROOT,
            input="",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert other.returncode != 0
        assert f"pid {os.getpid()}" in other.stderr


def test_a_dagster_launched_run_takes_over_the_lock_of_a_killed_holder(tmp_path, monkeypatch):
    warehouse = tmp_path / "cdp.duckdb"
    monkeypatch.setenv("CDP_TEST_KILLED_WAREHOUSE", str(warehouse))
    with holder(warehouse) as victim:
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
    with dg.instance_for_test() as instance:
        result = dg.execute_job(dg.reconstructable(touching_job_after_a_kill), instance=instance)
        warnings = [
            entry.user_message
            for entry in instance.all_logs(result.run_id)
            if "took over from a holder that died" in entry.user_message
        ]
    assert result.success
    assert len(warnings) == 1
    assert f"pid {victim.pid}" in warnings[0]
    assert (tmp_path / "touched").read_text() == "ran"
    assert lock_path(warehouse).read_text() == ""
