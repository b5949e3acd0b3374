"""Pure functions: settings resolution, the dbt command line, identifier normal forms."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestration.dbt_args import dbt_build_args
from orchestration.identifiers import normalize_email, normalize_phone
from orchestration.pipeline import FAILURE_LINES, failure_text
from orchestration.settings import PROJECT_ROOT, Settings, parse_as_of


def test_defaults_resolve_against_the_project_root_not_the_cwd(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.raw_dir == PROJECT_ROOT / "seeds"
    assert settings.warehouse == PROJECT_ROOT / "warehouse" / "cdp.duckdb"
    assert settings.as_of is None


def test_env_paths_relative_to_the_cwd_and_exported_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"CDP_WAREHOUSE": "w/x.duckdb", "CDP_AS_OF": "2026-03-01T10:00"})
    assert settings.warehouse == tmp_path / "w" / "x.duckdb"
    env = settings.as_env()
    assert Path(env["CDP_WAREHOUSE"]).is_absolute()
    assert env["CDP_AS_OF"] == "2026-03-01T10:00:00+00:00"


def test_overrides_replace_only_what_is_given(tmp_path):
    settings = Settings.from_env({}).with_overrides(raw_dir=tmp_path, warehouse=None)
    assert settings.raw_dir == tmp_path
    assert settings.warehouse == PROJECT_ROOT / "warehouse" / "cdp.duckdb"


def test_as_of_without_offset_is_utc_and_offsets_are_converted():
    assert parse_as_of("2026-03-01T10:00:00") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert parse_as_of("2026-03-01T10:00:00+01:00") == datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert parse_as_of("2026-03-01T10:00:00Z") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert parse_as_of("") is None


def test_dbt_build_args_default_is_a_build_without_unit_tests():
    assert dbt_build_args() == ["build", "--exclude-resource-type", "unit_test"]


def test_dbt_build_args_full_refresh_fail_fast_and_sorted_vars():
    assert dbt_build_args(
        full_refresh=True, fail_fast=True, dbt_vars={"b": 1, "a": "x"}, unit_tests=True
    ) == [
        "build",
        "--full-refresh",
        "--fail-fast",
        "--vars",
        '{"a": "x", "b": 1}',
    ]


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("(415) 555-2671", None, "+14155552671"),
        ("+44 20 7946 0958", None, "+442079460958"),
        ("0044 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("030 901820", "de", "+4930901820"),
        ("1-800-555-0100 ", "US", "+18005550100"),
        ("0000000000", None, None),
        ("n/a", None, None),
        ("", None, None),
        (None, "US", None),
        ("12345", "XX1", None),
    ],
)
def test_phones_normalise_to_e164_or_none(raw, country, expected):
    assert normalize_phone(raw, country) == expected


def test_emails_are_trimmed_and_lower_cased():
    assert normalize_email("  ALEXZ@Example.com ") == "alexz@example.com"
    assert normalize_email("   ") is None
    assert normalize_email(None) is None


def test_serving_and_data_docs_follow_the_warehouse_unless_set(tmp_path):
    moved = Settings.from_env({}).with_overrides(warehouse=tmp_path / "w" / "cdp.duckdb")
    assert moved.serving_dir == tmp_path / "w" / "serving"
    assert moved.data_docs_dir == tmp_path / "w" / "data_docs"
    pinned = Settings.from_env({"CDP_DATA_DOCS_DIR": str(tmp_path / "docs")}).with_overrides(
        warehouse=tmp_path / "w" / "cdp.duckdb", serving_dir=tmp_path / "serve"
    )
    assert pinned.data_docs_dir == tmp_path / "docs"
    assert pinned.serving_dir == tmp_path / "serve"


def test_a_failed_step_shows_its_error_without_class_name_colours_or_blank_lines():
    message = (
        "dagster._core.definitions.events.Failure: Raw files that could not be read:\n"
        "/data/raw/shop_orders/b.csv: not UTF-8 text\n\n"
        "\x1b[31mERROR\x1b[0m in 0.4s\n" + "more\n" * 20
    )
    text = failure_text("raw_tables", message)
    lines = text.splitlines()
    assert lines[:3] == [
        "raw_tables: Raw files that could not be read:",
        "/data/raw/shop_orders/b.csv: not UTF-8 text",
        "ERROR in 0.4s",
    ]
    assert len(lines) == FAILURE_LINES + 1
    assert lines[-1] == "... 11 more line(s) in the log"
    assert failure_text("step", "events: no such column") == "step: events: no such column"


def test_dbt_build_args_run_the_unit_tests_only_when_asked():
    assert dbt_build_args(unit_tests=True) == ["build"]
    assert dbt_build_args(unit_tests=False) == dbt_build_args()


def test_manifest_inputs_change_with_the_profile_variables_and_a_touched_dbt_file(tmp_path):
    import os

    from orchestration.dbt_inprocess import manifest_inputs
    from orchestration.settings import DBT_PROJECT_DIR

    environ = {"CDP_WAREHOUSE": str(tmp_path / "a.duckdb"), "HOME": "/somewhere"}
    same = manifest_inputs(environ)
    assert manifest_inputs({**environ, "HOME": "/elsewhere"}) == same
    assert manifest_inputs({**environ, "CDP_WAREHOUSE": str(tmp_path / "b.duckdb")}) != same
    assert manifest_inputs({**environ, "DBT_PARTIAL_PARSE": "false"}) != same
    project_file = DBT_PROJECT_DIR / "dbt_project.yml"
    stat = project_file.stat()
    try:
        os.utime(project_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
        assert manifest_inputs(environ) != same
    finally:
        os.utime(project_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert manifest_inputs(environ) == same


def test_a_wrapped_op_error_names_the_exception_it_wraps():
    from dagster._utils.error import SerializableErrorInfo

    from orchestration.pipeline import error_message

    cause = SerializableErrorInfo("OSError: [Errno 28] No space left on device\n", [], "OSError")
    wrapped = SerializableErrorInfo(
        "dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while "
        'executing op "gx_raw__latest_load":\n',
        [],
        "DagsterExecutionStepExecutionError",
        cause,
    )
    assert failure_text("gx", error_message(wrapped)).splitlines() == [
        'gx: Error occurred while executing op "gx_raw__latest_load":',
        "OSError: [Errno 28] No space left on device",
    ]
    plain = SerializableErrorInfo("events: no such column", [], "Failure", cause)
    assert error_message(plain) == "events: no such column"
    assert error_message(None) is None
