"""The whole check, as CI runs it: lint, a dbt build of the demo data, the test suite.

Usage (README command 2):  uv run scripts/check.py  [--fast] [--workers N]
Each step prints its name and time; the first failure stops the run with its exit code.
sqlfluff runs beside the demo build (its output is shown when it ends), and pytest runs
in N worker processes (pytest-xdist, default: the machine's cores, at most 2; tests are
handed out by module, `--dist loadscope`, longest first: tests/conftest.py `run_order`).

The demo is built once: the `cdp run` step builds seeds/ into the scratch folder as a
user's shell would (no CDP_* variables), and pytest reuses that warehouse read-only
(`CDP_CHECK_DEMO_BUILD` names the folder; tests/conftest.py reads it). Run alone,
pytest builds the demo itself the same way.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TextIO

ROOT = Path(__file__).resolve().parents[1]

# The hand-over of the demo build to pytest: this variable names a folder laid out as
# below, written by the `cdp run` step (tests/conftest.py `demo_run` reads it).
DEMO_BUILD_ENV = "CDP_CHECK_DEMO_BUILD"
DEMO_WAREHOUSE = "cdp.duckdb"  # exports/, serving/, data_docs/, logs/ beside it
DEMO_SUMMARY = "summary.json"  # RunSummary.to_json() of the run
DEMO_STDOUT = "cdp_run.stdout"  # what the command printed
DEMO_STDERR = "cdp_run.stderr"  # and to stderr (the tests scan both for raw identifiers)


def demo_run_args(build_dir: Path) -> list[str]:
    """The `cdp run` arguments that build seeds/ into `build_dir` (the check's build step
    and pytest's own demo build use the same)."""
    return [
        "run",
        "--warehouse",
        str(build_dir / DEMO_WAREHOUSE),
        "--exports-dir",
        str(build_dir / "exports"),
        "--summary-json",
        str(build_dir / DEMO_SUMMARY),
    ]


def user_shell_env(environ: Mapping[str, str], dagster_home: Path) -> dict[str, str]:
    """The environment of a fresh shell: no CDP_* variables (every setting at its
    default), a new DAGSTER_HOME, and the virtual environment's bin/ not on PATH (as when
    the `cdp` script is called by its path). The demo build and the e2e tests run in it."""
    venv_bin = Path(sys.executable).parent.resolve()
    env = {
        name: value
        for name, value in environ.items()
        if not name.startswith("CDP_") and name not in {"VIRTUAL_ENV", "DAGSTER_HOME"}
    }
    env["PATH"] = os.pathsep.join(
        entry
        for entry in env.get("PATH", "").split(os.pathsep)
        if entry and Path(entry).resolve() != venv_bin
    )
    env["DAGSTER_HOME"] = str(dagster_home)
    return env


SQLFLUFF_STEP = "sqlfluff (dbt templater)"
DEMO_STEP = "dbt build of seeds/ through the Dagster job (cdp run)"


def default_workers() -> int:
    """pytest workers: one per core, at most 2 (the tests' own builds use the cores too)."""
    return max(1, min(2, os.cpu_count() or 1))


def pytest_command(fast: bool, workers: int) -> list[str]:
    # --no-loadscope-reorder: xdist would otherwise hand out the modules with the most tests
    # first, not the longest ones first (tests/conftest.py `run_order`): the Spark parity
    # module, few tests and the longest of all, started 21 minutes into the check.
    parallel = (
        ["-n", str(workers), "--dist", "loadscope", "--no-loadscope-reorder"] if workers > 1 else []
    )
    return [sys.executable, "-m", "pytest", *parallel, *(["-m", "not slow"] if fast else [])]


BYTECODE_DIRS = ("orchestration", "cdp_dev", "tests", "scripts", "benchmarks")


def steps(build_dir: Path, fast: bool, workers: int = 1) -> list[tuple[str, list[str]]]:
    python = sys.executable
    return [
        # The project's own modules, compiled once: where PYTHONDONTWRITEBYTECODE is set (CI
        # machines), each of the check's processes would compile them again on import (the
        # installed packages get theirs from uv: `compile-bytecode` in pyproject.toml).
        ("bytecode", [python, "-m", "compileall", "-q", *BYTECODE_DIRS]),
        ("ruff lint", [python, "-m", "ruff", "check", "."]),
        ("ruff format", [python, "-m", "ruff", "format", "--check", "."]),
        # The dbt templater compiles against the in-memory `lint` target (profiles.yml).
        (
            SQLFLUFF_STEP,
            [
                python,
                "-m",
                "sqlfluff",
                "lint",
                "dbt_project/models",
                "dbt_project/tests",
                "dbt_project/analyses",
            ],
        ),
        (DEMO_STEP, [python, "-m", "orchestration.cli", *demo_run_args(build_dir)]),
        ("pytest", pytest_command(fast, workers)),
    ]


def _tee(source: IO[str], sink: TextIO, copy: IO[str]) -> None:
    for line in source:
        sink.write(line)
        copy.write(line)
    sink.flush()


def run_teeing(command: list[str], env: Mapping[str, str], stdout: Path, stderr: Path) -> int:
    """Run `command`, showing its output as it comes and keeping stdout and stderr in the
    files `stdout` and `stderr`."""
    stdout.parent.mkdir(parents=True, exist_ok=True)
    with (
        stdout.open("w") as kept_out,
        stderr.open("w") as kept_err,
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as process,
    ):
        assert process.stdout is not None
        assert process.stderr is not None
        errors = threading.Thread(target=_tee, args=(process.stderr, sys.stderr, kept_err))
        errors.start()
        _tee(process.stdout, sys.stdout, kept_out)
        errors.join()
        return process.wait()


def report(name: str, code: int, started: float) -> None:
    print(f"    {name}: {'ok' if code == 0 else 'FAILED'} ({time.monotonic() - started:.0f}s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="Skip tests marked slow.")
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help="pytest worker processes (1: no xdist). Default: the cores, at most 2.",
    )
    options = parser.parse_args()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="cdp-check-") as scratch:
        scratch_dir = Path(scratch)
        build_dir = scratch_dir / "demo"
        # A throw-away Dagster instance: CI leaves nothing behind in the checkout.
        env["DAGSTER_HOME"] = str(scratch_dir / "dagster_home")
        env["CDP_DATA_DOCS_DIR"] = str(scratch_dir / "data_docs")
        lint: tuple[subprocess.Popen, Path, float] | None = None
        for name, command in steps(build_dir, options.fast, options.workers):
            if name == SQLFLUFF_STEP:
                # Beside the demo build (one process each): reported when the build ends.
                print(f"==> {name} (beside the next step)", flush=True)
                output = scratch_dir / "sqlfluff.out"
                with output.open("w") as sink:
                    process = subprocess.Popen(
                        command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
                    )
                lint = (process, output, time.monotonic())
                continue
            print(f"==> {name}", flush=True)
            started = time.monotonic()
            if name == DEMO_STEP:
                shell = user_shell_env(env, scratch_dir / "dagster_home")
                code = run_teeing(command, shell, build_dir / DEMO_STDOUT, build_dir / DEMO_STDERR)
                # pytest reuses this build instead of making its own.
                env[DEMO_BUILD_ENV] = str(build_dir)
                report(name, code, started)
                if lint is not None:
                    process, output, lint_started = lint
                    lint_code = process.wait()
                    print(f"==> {SQLFLUFF_STEP}\n{output.read_text()}", end="", flush=True)
                    report(SQLFLUFF_STEP, lint_code, lint_started)
                    code = code or lint_code
            else:
                code = subprocess.call(command, cwd=ROOT, env=env)
                report(name, code, started)
            if code != 0:
                return code
    print("==> all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
