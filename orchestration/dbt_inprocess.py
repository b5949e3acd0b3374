"""Run dbt in this Python process (dbtRunner): the dbt steps of every Dagster run
(`InProcessDbtResource`), `cdp run`'s parse, benchmarks and tests.

dbt-duckdb keeps its DuckDB instance open after an invocation ends, so the same process
could not open the warehouse file again with other settings (a read-only connection, for
one). `invoke_dbt` closes it after every invocation.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import queue
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml
from dagster_dbt import DagsterDbtTranslator, DbtCliInvocation, DbtCliResource

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT


def invoke_dbt(
    args: Sequence[str],
    callbacks: Sequence[Callable[[Any], None]] = (),
    project_dir: Path = DBT_PROJECT_DIR,
    manifest: Any = None,
) -> Any:
    """`dbt <args>` against the project (this one by default) and profiles.yml; with
    `manifest` (dbt's Manifest, `parsed_manifest()`), without parsing the project.

    Returns dbt's dbtRunnerResult.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    try:
        return dbtRunner(manifest=manifest, callbacks=list(callbacks)).invoke(
            [*args, "--project-dir", str(project_dir), "--profiles-dir", str(PROJECT_ROOT)]
        )
    finally:
        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            environment.close()
            DuckDBConnectionManager._ENV = None


@dataclass
class OperationRun:
    """What a `dbt run-operation` did: success, the lines its macros logged, its errors."""

    success: bool
    log_lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run_operation(
    macro: str,
    arguments: Mapping[str, object],
    work_dir: Path,
    on_log_line: Callable[[str], None] | None = None,
) -> OperationRun:
    """`dbt run-operation <macro> --args <arguments>` on target `dev`, quietly.

    dbt's target/ and logs/ go to `work_dir`. `on_log_line` sees each line the macros log
    as it is fired (the benchmark times the macro's work between two of them).
    """
    run = OperationRun(success=False)

    def on_event(event: Any) -> None:
        if event.info.name == "JinjaLogInfo":
            run.log_lines.append(event.data.msg)
            if on_log_line is not None:
                on_log_line(event.data.msg)
        elif event.info.level == "error":
            run.errors.append(event.info.msg)

    result = invoke_dbt(
        [
            "run-operation",
            macro,
            "--args",
            yaml.safe_dump(dict(arguments), default_flow_style=True).strip(),
            "--target",
            "dev",
            "--target-path",
            str(work_dir / "target"),
            "--log-path",
            str(work_dir / "logs"),
            "--quiet",
        ],
        callbacks=[on_event],
    )
    run.success = result.success
    if result.exception is not None:
        run.errors.append(str(result.exception))
    return run


# dbt's partial parsing state, in a target folder.
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
# What dbt writes into the project folder: not an input of the parse.
DBT_OUTPUTS = frozenset({"target", "logs", "dbt_packages", "dbt_internal_packages"})


def manifest_inputs(environ: dict[str, str] | None = None) -> str:
    """A fingerprint of everything `dbt parse` reads: the project's files (path, size,
    modification time), profiles.yml, the CDP_* and DBT_* variables (profiles.yml and the
    models read them through `env_var`; dbt's partial parsing keys on the profile, whose
    DuckDB path is one of them) and the dbt version. Equal fingerprints, equal manifests."""
    environ = dict(os.environ if environ is None else environ)
    digest = hashlib.sha256()
    files = [PROJECT_ROOT / "profiles.yml"]
    files += sorted(
        path
        for path in DBT_PROJECT_DIR.rglob("*")
        if path.relative_to(DBT_PROJECT_DIR).parts[0] not in DBT_OUTPUTS and path.is_file()
    )
    for path in files:
        stat = path.stat()
        digest.update(
            f"{path.relative_to(PROJECT_ROOT)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
        )
    for name in sorted(environ):
        if name.startswith(("CDP_", "DBT_")):
            digest.update(f"{name}={environ[name]}\n".encode())
    digest.update(importlib.metadata.version("dbt-core").encode())
    return digest.hexdigest()


# --- dbt steps of a Dagster run, in this process ------------------------------------------
#
# dagster-dbt runs dbt as a subprocess: a new Python that imports dbt, parses the project
# again (partially) and, on Spark, starts its own JVM, for every dbt step of every run.
# `InProcessDbtResource` runs the same `dbt build` in a thread of the run's process with
# dbtRunner, on the manifest parsed once per process, and feeds dbt's events to
# dagster-dbt's own DbtCliInvocation as the JSON lines the subprocess would have printed, so
# the Dagster events (materialisations, asset checks) are made by dagster-dbt's code.

# dbt's stdout at its default log level: what dagster-dbt reads from a subprocess.
_STDOUT_LEVELS = frozenset({"info", "warn", "error"})


@dataclass
class _ParsedManifest:
    inputs: str
    project_dir: Path
    manifest: Any


_PARSED: list[_ParsedManifest] = []


def parsed_manifest(project_dir: Path = DBT_PROJECT_DIR, target_path: Path | None = None) -> Any:
    """dbt's Manifest of the project, parsed once per process while its inputs stay the
    same (`manifest_inputs`: the dbt files, profiles.yml, the CDP_*/DBT_*
    variables). Parsing is partial when `target/partial_parse.msgpack` is current. With
    `target_path`, dbt writes its manifest there, not into the project's target/."""
    inputs = manifest_inputs()
    if _PARSED and _PARSED[0].inputs == inputs and _PARSED[0].project_dir == project_dir:
        return _PARSED[0].manifest
    args = ["parse", "--quiet"]
    if target_path is not None:
        # Elsewhere than the project's target/ (which other processes read, and dbt
        # writes in place): partially, from a copy of the project's parse state.
        state = project_dir / "target" / PARTIAL_PARSE_FILE
        target_path.mkdir(parents=True, exist_ok=True)
        if state.exists() and not (target_path / PARTIAL_PARSE_FILE).exists():
            shutil.copy(state, target_path / PARTIAL_PARSE_FILE)
        args += ["--target-path", str(target_path), "--log-path", str(target_path)]
    result = invoke_dbt(args, project_dir=project_dir)
    if not result.success:
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    _PARSED[:] = [_ParsedManifest(inputs, project_dir, result.result)]
    return result.result


class _Lines:
    """The stdout pipe of a `DbtThread`: dbt's events as JSON lines, until dbt returns."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        while (line := self.queue.get()) is not None:
            yield line

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True


class DbtThread:
    """What DbtCliInvocation uses of `subprocess.Popen` (args, stdout, wait, returncode,
    send_signal), for a dbt command run by dbtRunner in a thread of this process.

    The exit code is dbt's: 0 success, 1 a node failed, 2 dbt itself failed (its
    exception is the last line, at level error, as dbt's CLI prints it)."""

    def __init__(self, args: Sequence[str], project_dir: Path, manifest: Any) -> None:
        self.args = list(args)
        self.returncode: int | None = None
        self.stdout = _Lines()
        self._thread = threading.Thread(
            target=self._run, args=(project_dir, manifest), name="dbt", daemon=True
        )
        self._thread.start()

    def _emit(self, event: Any) -> None:
        from dbt_common.events.functions import msg_to_dict

        if event.info.level in _STDOUT_LEVELS:
            self.stdout.queue.put(orjson.dumps(msg_to_dict(event)))

    def _run(self, project_dir: Path, manifest: Any) -> None:
        code = 2
        try:
            result = invoke_dbt(
                self.args[1:], callbacks=[self._emit], project_dir=project_dir, manifest=manifest
            )
            if result.exception is not None:
                self._error(str(result.exception))
            else:
                code = 0 if result.success else 1
        except BaseException as error:
            self._error(f"{type(error).__name__}: {error}")
        finally:
            self.returncode = code
            self.stdout.queue.put(None)

    def _error(self, text: str) -> None:
        event = {
            "info": {"name": "MainEncounteredError", "level": "error", "msg": text},
            "data": {"exc": text},
        }
        self.stdout.queue.put(orjson.dumps(event))

    def wait(self, timeout: float | None = None) -> int | None:
        self._thread.join(timeout)
        return self.returncode

    def poll(self) -> int | None:
        return self.returncode

    def send_signal(self, signal_number: int) -> None:
        """dbtRunner cannot be interrupted: the step's interruption ends the run's process,
        and this daemon thread with it (each model's statement is atomic)."""


class InProcessDbtResource(DbtCliResource):
    """DbtCliResource whose `cli` runs dbt in this process (module docstring above).

    The same arguments as dagster-dbt gives its subprocess: the run's selection of the
    step's assets and checks, a target folder of its own per invocation (dbt's logs and
    artefacts), JSON logs. Where dagster-dbt sets them as environment variables for the
    subprocess, they are flags here, so this process's environment is left as it is."""

    def cli(  # type: ignore[override]
        self,
        args: Sequence[str],
        *,
        raise_on_error: bool = True,
        manifest: Any = None,
        dagster_dbt_translator: DagsterDbtTranslator | None = None,
        context: Any = None,
        target_path: Path | None = None,
    ) -> DbtCliInvocation:
        from dagster_dbt.asset_utils import (
            extract_runtime_selection_from_args,
            get_updated_cli_invocation_params_for_context,
        )
        from dagster_dbt.dagster_dbt_translator import validate_opt_translator
        from dagster_dbt.dbt_manifest import validate_manifest

        translator = validate_opt_translator(dagster_dbt_translator) or DagsterDbtTranslator()
        cleaned_args, selects, excludes = extract_runtime_selection_from_args(args)
        params = get_updated_cli_invocation_params_for_context(
            context=context,
            manifest=validate_manifest(manifest) if manifest else {},
            dagster_dbt_translator=translator,
            runtime_selects=selects,
            runtime_excludes=excludes,
        )
        target_path = target_path or self._get_unique_target_path(context=context)
        project_dir = Path(
            params.dbt_project.project_dir if params.dbt_project else self.project_dir
        )
        if not target_path.is_absolute():
            target_path = project_dir / target_path
        target_path.mkdir(parents=True, exist_ok=True)
        flags = [
            "--target-path",
            str(target_path),
            "--log-path",
            str(target_path),
            "--log-format",
            "json",
            "--log-level",
            "none",
            "--log-level-file",
            "debug",
            "--no-send-anonymous-usage-stats",
        ]
        if params.indirect_selection:
            flags += ["--indirect-selection", params.indirect_selection]
        if self.target:
            flags += ["--target", self.target]
        full_args = ["dbt", *cleaned_args, *flags, *params.selection_args]
        process = DbtThread(full_args, project_dir, parsed_manifest(project_dir, target_path))
        return DbtCliInvocation(
            process=process,  # type: ignore[arg-type]
            manifest=params.manifest,
            dagster_dbt_translator=params.dagster_dbt_translator,
            project_dir=project_dir,
            target_path=target_path,
            raise_on_error=raise_on_error,
            cli_version=self._cli_version,
            project=params.dbt_project,
            context=context,
            adapter=None,
        )
