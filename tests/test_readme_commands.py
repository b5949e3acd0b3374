"""The README's two commands are the ones CI (`.ci/run`) and the Makefile run."""

import importlib.util
import re
import sys
import tomllib
from pathlib import Path

from orchestration.settings import PROJECT_ROOT

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
    assert scripts == {"cdp": "orchestration.cli:main"}
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
