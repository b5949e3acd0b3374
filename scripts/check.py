"""The whole check, as CI runs it: lint, a dbt build of the demo data, the test suite.

Usage (README command 2):  uv run scripts/check.py  [--fast]
Each step prints its name and time; the first failure stops the run with its exit code.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def steps(build_dir: Path, fast: bool) -> list[tuple[str, list[str]]]:
    python = sys.executable
    return [
        ("ruff lint", [python, "-m", "ruff", "check", "."]),
        ("ruff format", [python, "-m", "ruff", "format", "--check", "."]),
        # The dbt templater compiles against the in-memory `lint` target (profiles.yml).
        (
            "sqlfluff (dbt templater)",
            [python, "-m", "sqlfluff", "lint", "dbt_project/models", "dbt_project/tests"],
        ),
        (
            "dbt build of seeds/ through the Dagster job (cdp run)",
            [
                python,
                "-m",
                "orchestration.cli",
                "run",
                "--warehouse",
                str(build_dir / "cdp.duckdb"),
                "--exports-dir",
                str(build_dir / "exports"),
            ],
        ),
        ("pytest", [python, "-m", "pytest", *(["-m", "not slow"] if fast else [])]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="Skip tests marked slow.")
    options = parser.parse_args()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="cdp-check-") as scratch:
        scratch_dir = Path(scratch)
        # A throw-away Dagster instance: CI leaves nothing behind in the checkout.
        env["DAGSTER_HOME"] = str(scratch_dir / "dagster_home")
        env["CDP_DATA_DOCS_DIR"] = str(scratch_dir / "data_docs")
        for name, command in steps(scratch_dir, options.fast):
            print(f"==> {name}", flush=True)
            started = time.monotonic()
            code = subprocess.call(command, cwd=ROOT, env=env)
            print(
                f"    {name}: {'ok' if code == 0 else 'FAILED'} ({time.monotonic() - started:.0f}s)"
            )
            if code != 0:
                return code
    print("==> all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
