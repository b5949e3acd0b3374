"""The README's two commands are the ones CI (`.ci/run`) and the Makefile run."""

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from orchestration.settings import PROJECT_ROOT
from tests.commands import check_script

BUILD = "uv run cdp run"
CHECK = "uv run scripts/check.py"


def readme_quick_start_commands() -> list[str]:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, "the Quick start has a bash block"
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]


def make_recipe(target: str) -> list[str]:
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    match = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert match, f"Makefile has a `{target}` target"
    return [line.strip() for line in match.group(1).splitlines()]


def test_the_readme_gives_exactly_the_build_and_the_check_command():
    assert readme_quick_start_commands() == [BUILD, CHECK]


def test_ci_runs_the_readme_check_command():
    lines = (PROJECT_ROOT / ".ci" / "run").read_text().splitlines()
    commands = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert commands[-1] == CHECK


def test_make_run_and_make_test_are_the_readme_commands():
    assert make_recipe("run") == [BUILD]
    assert make_recipe("test") == [CHECK]


def test_cdp_is_the_projects_cli_and_check_builds_through_it():
    scripts = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    # The CLI, and dbt behind the embedded Spark session (what dagster-dbt runs on Spark).
    assert scripts == {
        "cdp": "orchestration.cli:main",
        "cdp-dbt-spark": "orchestration.spark_dbt:main",
    }
    spec = importlib.util.spec_from_file_location("check", PROJECT_ROOT / "scripts" / "check.py")
    assert spec is not None
    assert spec.loader is not None
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    commands = [command for _, command in check.steps(Path("build"), fast=False)]
    # CI's build step is `cdp run` (the same CLI, through the same interpreter), and
    # CI runs the whole test suite, slow tests included.
    assert [sys.executable, "-m", "orchestration.cli", "run"] in [c[:4] for c in commands]
    assert [sys.executable, "-m", "pytest"] in commands
    # The check's pytest runs in worker processes (xdist), the tests handed out by module.
    parallel = [command for _, command in check.steps(Path("build"), fast=False, workers=2)]
    # In the order of the collection (the longest first), not xdist's most-tests-first.
    distributed = ["-n", "2", "--dist", "loadscope", "--no-loadscope-reorder"]
    assert [sys.executable, "-m", "pytest", *distributed] in parallel


def test_the_check_builds_the_demo_with_the_arguments_pytest_reads():
    check = check_script()
    build_dir = Path("/scratch/demo")
    (build,) = [
        c for _, c in check.steps(build_dir, fast=False) if c[1:3] == ["-m", "orchestration.cli"]
    ]
    assert build == [sys.executable, "-m", "orchestration.cli", *check.demo_run_args(build_dir)]
    assert f"--summary-json {build_dir / check.DEMO_SUMMARY}" in " ".join(build)
    assert f"--warehouse {build_dir / check.DEMO_WAREHOUSE}" in " ".join(build)


def test_a_handed_over_demo_build_is_reused_not_rebuilt(demo_run, tmp_path):
    """pytest under scripts/check.py: CDP_CHECK_DEMO_BUILD names a finished build, and
    the session reads it (no demo folder of its own appears under its basetemp)."""
    check = check_script()
    basetemp = tmp_path / "basetemp"
    env = {**os.environ, check.DEMO_BUILD_ENV: str(demo_run.build_dir)}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={basetemp}",
            "tests/e2e/test_cli.py::test_cdp_run_builds_the_demo_warehouse_and_prints_the_summary",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-5000:]
    assert "1 passed" in completed.stdout
    assert not list(basetemp.glob("demo*"))


def test_a_handed_over_folder_without_a_build_fails_the_session_loudly(tmp_path):
    check = check_script()
    env = {**os.environ, check.DEMO_BUILD_ENV: str(tmp_path / "nothing_here")}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={tmp_path / 'basetemp'}",
            "tests/e2e/test_cli.py::test_cdp_run_builds_the_demo_warehouse_and_prints_the_summary",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode != 0
    assert f"{check.DEMO_BUILD_ENV}={tmp_path / 'nothing_here'}: no demo warehouse there" in (
        completed.stdout
    )


def test_bytecode_is_compiled_once_not_in_every_process():
    """With PYTHONDONTWRITEBYTECODE set (CI machines), no process writes the .pyc it
    compiles: uv compiles the installed packages at install time, the check the project's
    own folders first."""
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as handle:
        assert tomllib.load(handle)["tool"]["uv"]["compile-bytecode"] is True
    check = check_script()
    name, command = check.steps(Path("build"), fast=False)[0]
    assert name == "bytecode"
    assert command[:4] == [sys.executable, "-m", "compileall", "-q"]
    assert all((PROJECT_ROOT / folder).is_dir() for folder in command[4:])
    assert {"orchestration", "tests"} <= set(command[4:])


def test_the_check_keeps_both_streams_of_its_demo_build(tmp_path, capfd):
    """What the check's `cdp run` printed reaches the terminal and the build folder, stdout
    and stderr each (the log scans of tests/reliability read both)."""
    check = check_script()
    script = "import sys; print('out line'); print('err line', file=sys.stderr); sys.exit(3)"
    out, err = tmp_path / "build" / check.DEMO_STDOUT, tmp_path / "build" / check.DEMO_STDERR
    code = check.run_teeing([sys.executable, "-c", script], os.environ, out, err)
    assert code == 3
    assert out.read_text() == "out line\n"
    assert err.read_text() == "err line\n"
    shown = capfd.readouterr()
    assert "out line" in shown.out
    assert "err line" in shown.err
