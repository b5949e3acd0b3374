"""The project's commands as a user runs them: the `cdp` console script in a fresh shell,
and scripts/check.py (README command 2), loaded as a module for its layout and steps."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

from orchestration.settings import PROJECT_ROOT

VENV_BIN = Path(sys.executable).parent
CDP = VENV_BIN / "cdp"


@cache
def check_script() -> ModuleType:
    """scripts/check.py as a module (it is a script, not part of a package)."""
    spec = importlib.util.spec_from_file_location("check", PROJECT_ROOT / "scripts" / "check.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cdp(*args: str | Path, dagster_home: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the installed `cdp` console script (what `uv run cdp` executes) from the
    repository, in a fresh shell: no CDP_* variables, a new DAGSTER_HOME, and the
    virtual environment's bin/ not on PATH (as when the script is called by its path)."""
    return subprocess.run(
        [str(CDP), *map(str, args)],
        cwd=PROJECT_ROOT,
        env=check_script().user_shell_env(os.environ, dagster_home),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
