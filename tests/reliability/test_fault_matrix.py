"""Crash anywhere, resume cleanly (issue 12): a real `cdp run` is SIGKILLed at a named
kill point, run again, and compared with one uninterrupted run (scripts/fault_matrix.py):
identical marts, each member change applied once by the destinations, the serving copy
one whole version.

The short version (default suite) takes the session's demo build as the uninterrupted
run and kills two runs at once: inside a raw file's transaction, and inside dbt right
after a segment's evaluation. The full matrix (its default points and seeded random ones,
with a loopback webhook) is `-m faults_long`."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from orchestration.faults import kill_point
from orchestration.settings import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location(
    "fault_matrix", PROJECT_ROOT / "scripts" / "fault_matrix.py"
)
fault_matrix = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
sys.modules["fault_matrix"] = fault_matrix  # its dataclasses look their module up
_spec.loader.exec_module(fault_matrix)  # type: ignore[union-attr]

SHORT = ["ingest.before_commit:2", "dbt.after.seg_churn_risk"]


def _failures(outcomes) -> list[str]:
    return [o.row() for o in outcomes if not o.ok]


@pytest.mark.slow
def test_killed_runs_resume_to_the_uninterrupted_result(demo_build, tmp_path):
    outcomes = fault_matrix.matrix(
        SHORT, tmp_path, reference=demo_build.warehouse, jobs=len(SHORT), echo=False, webhook=False
    )
    assert [o.point for o in outcomes] == SHORT
    assert _failures(outcomes) == []


@pytest.mark.slow
@pytest.mark.faults_long
def test_full_matrix(tmp_path):
    outcomes = fault_matrix.matrix(
        fault_matrix.DEFAULT_POINTS, tmp_path, random_n=4, seed=12, jobs=2, echo=True
    )
    assert len(outcomes) >= 30
    assert _failures(outcomes) == []


def test_an_unset_kill_point_is_one_environment_lookup(monkeypatch):
    lookups = []

    class Environ(dict):
        def get(self, key, default=None):
            lookups.append(key)
            return super().get(key, default)

    monkeypatch.setattr("orchestration.faults.os.environ", Environ())
    kill_point("ingest.after_file")
    assert lookups == ["CDP_FAULT_KILL"]


def test_random_points_are_seeded_and_distinct():
    seen = ["a", "b", "a", "c", "a"]
    first = fault_matrix.random_points(seen, 4, seed=1, exclude={"b:1"})
    assert first == fault_matrix.random_points(seen, 4, seed=1, exclude={"b:1"})
    assert sorted(first) == ["a:1", "a:2", "a:3", "c:1"]
    assert fault_matrix.random_points(seen, 9, seed=2, exclude=set()) != first
    # a fixed point without its nth is its first visit
    assert "c:1" not in fault_matrix.random_points(seen, 9, seed=3, exclude={"c"})


def test_counting_mode_lists_the_points_reached(monkeypatch, tmp_path: Path):
    log = tmp_path / "points.txt"
    monkeypatch.setenv("CDP_FAULT_KILL", f"count:{log}")
    kill_point("x")
    kill_point("y")
    kill_point("x")
    assert log.read_text().split() == ["x", "y", "x"]


VISITS = """
from orchestration.faults import kill_point
for visit in range(3):
    print(visit, flush=True)
    kill_point("a.b")
"""


@pytest.mark.parametrize(
    ("spec", "returncode", "printed"),
    [("a.b:2", -9, "0\n1\n"), ("a.b", -9, "0\n"), ("other:1", 0, "0\n1\n2\n")],
)
def test_a_kill_point_fires_on_its_nth_visit_or_the_first(spec, returncode, printed):
    import os
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", VISITS],
        env={**os.environ, "CDP_FAULT_KILL": spec},
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stdout) == (returncode, printed), done.stderr
