"""The dbt steps run dbt in the run's process (orchestration/dbt_inprocess.py): dbt's
events reach dagster-dbt's DbtCliInvocation as the lines a dbt subprocess prints, a
failure is an exit code and an error dagster-dbt reports, and the project is parsed once
per process while its inputs stay the same."""

import threading
from pathlib import Path

import pytest
from dagster_dbt import DagsterDbtCliRuntimeError

from orchestration.dbt_inprocess import (
    _PARSED,
    DbtThread,
    InProcessDbtResource,
    manifest_inputs,
    parsed_manifest,
)
from orchestration.project import dbt_project
from orchestration.settings import PROJECT_ROOT


def _resource() -> InProcessDbtResource:
    return InProcessDbtResource(project_dir=dbt_project, profiles_dir=str(PROJECT_ROOT))


def test_a_dbt_command_runs_in_a_thread_and_streams_the_lines_a_subprocess_prints(
    tmp_path: Path,
) -> None:
    invocation = _resource().cli(
        ["ls", "--resource-type", "model", "--select", "stg_crm__contacts"],
        target_path=tmp_path / "target",
    )
    assert isinstance(invocation.process, DbtThread)
    events = list(invocation.stream_raw_events())

    assert invocation.process.returncode == 0
    assert invocation.is_successful()
    listed = [
        event.raw_event["data"]["msg"]
        for event in events
        if event.raw_event["info"]["name"] == "PrintEvent"
    ]
    assert listed == ["cdp.staging.crm.stg_crm__contacts"]
    # dbt's stdout at its default level: no debug events; its debug log in the target.
    assert {event.raw_event["info"]["level"] for event in events} <= {"info", "warn", "error"}
    assert (tmp_path / "target" / "dbt.log").stat().st_size > 0
    assert not [thread for thread in threading.enumerate() if thread.name == "dbt"]


def test_a_failing_dbt_command_is_an_exit_code_and_an_error_dagster_dbt_raises(
    tmp_path: Path,
) -> None:
    failing = _resource().cli(
        ["run-operation", "cdp_no_such_macro"], target_path=tmp_path / "a", raise_on_error=False
    )
    assert not failing.is_successful()
    assert failing.process.returncode != 0
    assert "cdp_no_such_macro" in str(failing.get_error())

    raising = _resource().cli(["run-operation", "cdp_no_such_macro"], target_path=tmp_path / "b")
    with pytest.raises(DagsterDbtCliRuntimeError, match="cdp_no_such_macro"):
        raising.wait()


def test_the_project_is_parsed_once_while_its_inputs_stay_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = parsed_manifest()
    assert parsed_manifest() is first
    assert "model.cdp.stg_crm__contacts" in first.nodes
    # A CDP_* variable is an input (profiles.yml and the models read them).
    monkeypatch.setenv("CDP_TEST_PARSE_INPUT", "changed")
    again = parsed_manifest()
    assert again is not first
    assert set(again.nodes) == set(first.nodes)


def test_a_dbt_step_parses_into_its_own_target_folder_not_the_projects(tmp_path: Path) -> None:
    """Other processes read the project's target/manifest.json while a run works, and dbt
    writes it in place: a step that has to parse writes into its own target folder."""
    project_manifest = Path(dbt_project.project_dir) / "target" / "manifest.json"
    before = project_manifest.stat().st_mtime_ns
    _PARSED.clear()
    invocation = _resource().cli(
        ["ls", "--select", "stg_crm__contacts"], target_path=tmp_path / "target"
    )
    invocation.wait()
    assert (tmp_path / "target" / "manifest.json").exists()
    assert project_manifest.stat().st_mtime_ns == before


def test_cdp_runs_parse_replaces_the_projects_manifest_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`prepare_dbt_manifest` parses into a folder of its own and moves the files into
    target/ (a new inode, never a file rewritten in place), leaving no scratch folder."""
    from orchestration.environment import MANIFEST_INPUTS_FILE, prepare_dbt_manifest

    target = Path(dbt_project.project_dir) / "target"
    before = (target / "manifest.json").stat().st_ino
    monkeypatch.setenv("CDP_TEST_PARSE_INPUT", "prepare")
    prepare_dbt_manifest()
    assert (target / "manifest.json").stat().st_ino != before
    assert (target / MANIFEST_INPUTS_FILE).read_text() == manifest_inputs()
    assert not list(target.glob(".parse-*"))
