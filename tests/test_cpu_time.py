"""The per-test CPU figures (tests/cpu_time.py) charge a test the CPU it and its
subprocesses used, per phase, and list the most expensive first."""

from __future__ import annotations

import json

import pytest

BURNING = """
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def warm():
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(30_000_000))"], check=True)


def test_idle():
    pass


def test_burns_in_a_subprocess(warm):
    pass


def test_burns_here():
    sum(i * i for i in range(10_000_000))
"""


def test_the_summary_charges_each_test_its_cpu(pytester: pytest.Pytester, monkeypatch) -> None:
    pytester.makeconftest('pytest_plugins = ["tests.cpu_time"]')
    pytester.makepyfile(test_burn=BURNING)
    monkeypatch.setenv("CDP_TEST_ARTEFACTS_DIR", str(pytester.path / "artefacts"))
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    result = pytester.runpytest_subprocess("-p", "no:xdist", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*CPU seconds (user + system, subprocesses included)*"])
    seconds = json.loads((pytester.path / "artefacts" / "cpu-seconds.json").read_text())
    idle = seconds["test_burn.py::test_idle"]
    fixture = seconds["test_burn.py::test_burns_in_a_subprocess"]
    here = seconds["test_burn.py::test_burns_here"]
    # The module fixture's subprocess is charged to the test that made it, not to the idle one.
    assert fixture > 0.5, seconds
    assert here > 0.2, seconds
    assert idle < 0.2, seconds
    assert fixture > here > idle
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if "CPU seconds" in line)
    listed = [line for line in lines[start + 1 :] if line.strip()]
    assert "test_burns_in_a_subprocess" in listed[0]  # the most expensive first
