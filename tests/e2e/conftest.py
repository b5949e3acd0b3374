"""Helpers of the end-to-end tests: the `cdp` command as a user runs it, its summary."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from orchestration.settings import PROJECT_ROOT
from tests.commands import cdp as cdp  # re-exported: the e2e modules import it here

MANIFEST = PROJECT_ROOT / "dbt_project" / "target" / "manifest.json"


@dataclass
class PrintedSummary:
    """What `cdp run` printed, parsed back."""

    headline: str
    tables: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    models: int = -1
    checks: tuple[int, int, int] = (-1, -1, -1)  # passed, warned, failed
    failed_steps: list[str] = field(default_factory=list)


_TABLE_ROW = re.compile(r"^  ([a-z_]+)\s+([\d,]+)\s+([\d,]+)\s+(\d+)$")
_TOTALS = re.compile(
    r"models materialised: (\d+); checks passed: (\d+), warned: (\d+), failed: (\d+)"
)


def parse_summary(stdout: str) -> PrintedSummary:
    lines = stdout.splitlines()
    headline = next(line for line in lines if line.startswith("cdp run "))
    summary = PrintedSummary(headline=headline)
    for line in lines:
        if match := _TABLE_ROW.match(line):
            loaded, quarantined, files = (
                int(group.replace(",", "")) for group in match.groups()[1:]
            )
            summary.tables[match.group(1)] = (loaded, quarantined, files)
        elif match := _TOTALS.search(line):
            summary.models = int(match.group(1))
            summary.checks = (int(match.group(2)), int(match.group(3)), int(match.group(4)))
        elif line.strip().startswith("FAILED STEP"):
            summary.failed_steps.append(line.strip().removeprefix("FAILED STEP").strip())
    return summary


def manifest_counts() -> tuple[int, int]:
    """(dbt models, asset checks of the job `cdp run` executes: dbt tests, GX suites and
    the activation check), with the default settings a user's shell has."""
    manifest = json.loads(MANIFEST.read_text())
    models = sum(node["resource_type"] == "model" for node in manifest["nodes"].values())
    from orchestration.definitions import build_definitions
    from orchestration.settings import Settings

    saved = dict(os.environ)
    try:
        definitions = build_definitions(Settings.from_env({}))
        checks = len(definitions.resolve_asset_graph().asset_check_keys)
    finally:
        # build_definitions exports its settings to the environment (for dbt).
        os.environ.clear()
        os.environ.update(saved)
    return models, checks


@pytest.fixture
def restore_environ() -> Iterator[None]:
    """An in-process run exports its settings to os.environ (dbt reads them there); put
    the environment back so later tests see the defaults."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
