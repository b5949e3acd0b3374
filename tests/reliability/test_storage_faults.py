"""Disk full and read-only (issue 12): a run on a real small or read-only file system the
test mounts (tmpfs) fails with a short message, not a stack trace.

Mounting needs root (or CAP_SYS_ADMIN); elsewhere the tests skip and say why."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.commands import cdp


def _can_mount() -> str | None:
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root (os.geteuid() != 0)"
    return None


@contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def mountable() -> None:
    reason = _can_mount()
    if reason:
        pytest.skip(reason)


def test_read_only_warehouse_folder_gives_a_clear_message(tmp_path: Path, mountable) -> None:
    with tmpfs(tmp_path / "ro", "ro,size=1m") as folder:
        result = cdp(
            "run",
            "--warehouse",
            folder / "cdp.duckdb",
            "--exports-dir",
            tmp_path / "exports",
            dagster_home=tmp_path / "dagster",
            timeout=300,
        )
    assert result.returncode == 4, result.stderr
    assert "cdp run FAILED: the folder is on a read-only file system" in result.stderr
    assert "Traceback" not in result.stderr
    assert "run `cdp run` again" in result.stderr
