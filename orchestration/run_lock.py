"""One writer at a time: a run lock beside the warehouse file (`<warehouse>.lock`).

Every run that writes the warehouse holds it for the whole run: `cdp run` (pipeline.py)
and every run Dagster launches, from the UI, a schedule or a sensor (the project's
executor, `locked_in_process_executor`). A second run waits up to `timeout` seconds
(CDP_LOCK_TIMEOUT, `cdp run --lock-timeout`), then gives up with a message naming the
holder.

The lock itself is `fcntl.flock` on the lock file: the kernel releases it when the holding
process dies (SIGKILL included), so a dead holder never blocks anyone and taking over is
the same atomic `flock` call as taking a free lock. The file's JSON content (pid, host,
start time, what runs) only says *who* holds it, for the message; it is overwritten by the
next holder and emptied on release. The file is never deleted (a waiter blocked on a
deleted file would lock a file no one else sees).

Local file systems only: `flock` over NFS is not reliable (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestration.settings import DEFAULT_LOCK_TIMEOUT

POLL_SECONDS = 0.2


def lock_path(warehouse: Path) -> Path:
    """`<warehouse>.lock`, beside the warehouse file."""
    return warehouse.with_name(warehouse.name + ".lock")


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) the lock, as its file says."""

    pid: int | None
    host: str | None
    since: str | None
    purpose: str | None = None

    @classmethod
    def read(cls, path: Path) -> Holder | None:
        try:
            data = json.loads(path.read_text() or "null")
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        pid = data.get("pid")
        return cls(
            pid=pid if isinstance(pid, int) else None,
            host=data.get("host"),
            since=data.get("since"),
            purpose=data.get("purpose"),
        )

    def describe(self) -> str:
        what = f" ({self.purpose})" if self.purpose else ""
        return f"pid {self.pid} on host {self.host} since {self.since}{what}"

    def is_dead_here(self) -> bool:
        """The holder ran on this host and its process is gone."""
        if self.pid is None or self.host != socket.gethostname():
            return False
        return not _pid_alive(self.pid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


# The locks this process holds, by resolved lock path.
_HELD: dict[Path, Acquired] = {}


class RunLockTimeout(RuntimeError):
    """Another run held the lock for longer than the timeout."""

    def __init__(self, path: Path, timeout: float, holder: Holder | None) -> None:
        self.path = path
        self.timeout = timeout
        self.holder = holder
        who = holder.describe() if holder else "a process that has not written its name yet"
        super().__init__(
            f"the warehouse is being written by another run: lock {path} held by {who}; "
            f"waited {timeout:g}s (CDP_LOCK_TIMEOUT / --lock-timeout). Try again when it "
            "has finished (docs/operations.md)."
        )


@dataclass(frozen=True)
class Acquired:
    """What taking the lock found: the previous holder when it died holding it."""

    path: Path
    waited_seconds: float
    took_over: Holder | None


@contextlib.contextmanager
def run_lock(
    warehouse: Path,
    *,
    timeout: float = DEFAULT_LOCK_TIMEOUT,
    purpose: str = "cdp run",
) -> Iterator[Acquired]:
    """Hold the warehouse's run lock for the block; wait up to `timeout` seconds for it.

    Raises RunLockTimeout naming the holder. A lock whose holder died is free to the
    kernel: it is taken at once and reported in `Acquired.took_over`.

    Re-entrant within a process (`cdp run` takes it before parsing, `run_pipeline` again
    around the job): a nested call yields the outer `Acquired`. Two `flock`s of one file
    from one process would otherwise block each other."""
    path = lock_path(warehouse)
    key = path.resolve()
    if key in _HELD:
        yield _HELD[key]
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # Not O_TRUNC: the holder's name must survive a waiter opening the file.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - started >= timeout:
                    raise RunLockTimeout(path, timeout, Holder.read(path)) from None
                time.sleep(POLL_SECONDS)
        previous = Holder.read(path)
        # We hold the lock, so whoever the file names no longer does: if it names anyone,
        # they died (or were killed) holding it.
        took_over = previous if previous is not None and previous.pid is not None else None
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
            "purpose": purpose,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        os.fsync(fd)
        _HELD[key] = Acquired(path, time.monotonic() - started, took_over)
        try:
            yield _HELD[key]
        finally:
            del _HELD[key]
            # Emptied while still held: a reader never sees a released lock's holder.
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
