"""CPU time per test: where the check's CPU goes (the 2-core machine is CPU-bound, so the
sum of these, not the wall time of one test, is what the check's wall time follows).

Each phase of a test (setup, call, teardown) is charged the user + system CPU seconds of
the pytest process and of its subprocesses that ended in it (a `cdp run`, a Spark JVM it
started), so a session or module fixture is charged to the test that made it. Under
pytest-xdist each worker measures itself and sends the figure with the test's report.

The terminal summary lists the tests that took the most, and per module; every test's
figure goes to `cpu-seconds.json` in `CDP_TEST_ARTEFACTS_DIR` (default `test-artefacts/`).
"""

from __future__ import annotations

import json
import os
import resource
from collections import defaultdict
from pathlib import Path

import pytest

PROPERTY = "cpu_seconds"
SHOWN = 25
ARTEFACTS = Path(__file__).resolve().parents[1] / "test-artefacts"
_mark = 0.0
_seconds: dict[str, float] = defaultdict(float)


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its ended (waited-for) children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    global _mark
    _mark = cpu_seconds()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    global _mark
    now = cpu_seconds()
    item.user_properties.append((PROPERTY, now - _mark))
    _mark = now
    yield


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Each phase's report carries the properties recorded so far: take this phase's, the last.
    figures = [value for name, value in report.user_properties if name == PROPERTY]
    if figures:
        _seconds[report.nodeid] += figures[-1]


def per_module(seconds: dict[str, float]) -> dict[str, float]:
    modules: dict[str, float] = defaultdict(float)
    for nodeid, value in seconds.items():
        modules[nodeid.split("::", 1)[0]] += value
    return modules


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not _seconds or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    total = sum(_seconds.values())
    write = terminalreporter.write_line
    terminalreporter.section(f"CPU seconds (user + system, subprocesses included): {total:,.0f}")
    for nodeid, value in sorted(_seconds.items(), key=lambda kv: -kv[1])[:SHOWN]:
        write(f"{value:8.1f}  {nodeid}")
    write("per module:")
    for module, value in sorted(per_module(_seconds).items(), key=lambda kv: -kv[1])[:SHOWN]:
        write(f"{value:8.1f}  {module}")
    folder = Path(os.environ.get("CDP_TEST_ARTEFACTS_DIR", ARTEFACTS))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cpu-seconds.json").write_text(json.dumps(dict(_seconds), indent=1))
