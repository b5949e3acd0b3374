"""Suite files: the repo's suites load and build in GX; mistakes are errors naming the file."""

from pathlib import Path
from textwrap import dedent

import dagster as dg
import pytest

from orchestration.checks.quality import build_quality_checks, suite_steps, with_quality_checks
from orchestration.quality.suite_files import (
    SUITES_DIR,
    SuiteFileError,
    load_suite,
    load_suites,
    render_template,
    resolve_guarded_assets,
)
from orchestration.quality.validation import build_gx_suite
from orchestration.resources import WarehouseResource
from orchestration.settings import Settings

VALID = """\
description: Orders as delivered.
asset: staging/stg_shop__orders
parameters:
  limit: 24
read:
  table: staging.base_shop__orders
  sample_rows: 1000
expectations:
  - name: created_at_not_in_future
    description: Few orders from the future.
    type: expect_column_values_to_be_between
    kwargs: {column: hours, max_value: {$PARAMETER: limit}, mostly: 0.99}
"""


def write_suite(suites_dir: Path, text: str, name: str = "staging/orders.yml") -> Path:
    path = suites_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text))
    return path


def load_error(tmp_path: Path, text: str) -> str:
    path = write_suite(tmp_path, text)
    with pytest.raises(SuiteFileError) as error:
        load_suite(path, tmp_path)
    message = str(error.value)
    assert message.startswith(str(path))
    return message


def test_every_suite_in_the_repo_loads_and_builds_a_gx_suite_per_guarded_asset():
    suites = load_suites()
    assert {suite.layer for suite in suites} == {"raw", "staging", "marts"}
    for suite in suites:
        for target in suite.targets:
            gx_suite = build_gx_suite(suite, target)
            assert len(gx_suite.expectations) == len(suite.expectations)
            assert {e.meta["cdp_check"] for e in gx_suite.expectations} == {
                e.name for e in suite.expectations
            }


def test_a_valid_suite_resolves_its_parameters_per_asset(tmp_path):
    suite = load_suite(write_suite(tmp_path, VALID), tmp_path)
    assert suite.id == "staging/orders"
    assert suite.op_name == "gx_staging__orders"
    assert [t.asset_key for t in suite.targets] == [("staging", "stg_shop__orders")]
    assert suite.targets[0].parameters == {"limit": 24}


def test_a_misspelt_key_is_an_error_naming_the_file_and_the_key(tmp_path):
    message = load_error(tmp_path, VALID.replace("    type:", "    typ:"))
    assert "expectations.0.typ" in message


def test_an_unknown_gx_expectation_type_suggests_the_closest(tmp_path):
    message = load_error(
        tmp_path, VALID.replace("expect_column_values_to_be_between", "expect_column_value_between")
    )
    assert "unknown GX expectation type 'expect_column_value_between'" in message
    assert "did you mean expect_column_values_to_be_between" in message


def test_blocking_without_error_severity_is_refused(tmp_path):
    message = load_error(tmp_path, VALID + "    blocking: true\n")
    assert "`blocking: true` needs `severity: error`" in message


def test_an_undeclared_parameter_in_kwargs_is_an_error(tmp_path):
    message = load_error(tmp_path, VALID.replace("$PARAMETER: limit", "$PARAMETER: limt"))
    assert "{$PARAMETER: limt} is not declared" in message
    assert "did you mean limit" in message


def test_an_unknown_placeholder_in_the_sql_is_an_error(tmp_path):
    message = load_error(
        tmp_path, VALID.replace("staging.base_shop__orders", '"{{ schema }}.{{ tabel }}"')
    )
    assert "`{{ tabel }}` is not a parameter" in message


def test_an_asset_override_of_an_undeclared_parameter_is_an_error(tmp_path):
    text = VALID.replace(
        "asset: staging/stg_shop__orders",
        "assets:\n  staging/stg_shop__orders: {limt: 12}",
    )
    message = load_error(tmp_path, text)
    assert "parameter 'limt' is not declared under `parameters`" in message


def test_a_parameter_left_null_for_an_asset_is_an_error(tmp_path):
    message = load_error(tmp_path, VALID.replace("limit: 24", "limit: null"))
    assert "parameter 'limit' has no value for asset staging/stg_shop__orders" in message


def test_both_table_and_query_is_an_error(tmp_path):
    message = load_error(tmp_path, VALID.replace("  sample_rows: 1000", "  query: select 1"))
    assert "exactly one of `table` or `query`" in message


def test_a_band_takes_no_type_and_needs_a_bound(tmp_path):
    band = VALID.replace(
        "    type: expect_column_values_to_be_between\n"
        "    kwargs: {column: hours, max_value: {$PARAMETER: limit}, mostly: 0.99}\n",
        "    band: {column: rows}\n",
    )
    assert "give `min_ratio`, `max_ratio` or both" in load_error(tmp_path, band)


def test_a_file_that_is_not_yaml_names_the_file(tmp_path):
    assert "not valid YAML" in load_error(tmp_path, "description: [unclosed\n")


def test_the_same_check_on_the_same_asset_in_two_files_names_both(tmp_path):
    first = write_suite(tmp_path, VALID, "staging/orders.yml")
    second = write_suite(tmp_path, VALID, "staging/orders_again.yml")
    with pytest.raises(SuiteFileError) as error:
        load_suites(tmp_path)
    assert str(second) in str(error.value)
    assert str(first) in str(error.value)


def test_a_suite_file_outside_a_layer_folder_is_an_error(tmp_path):
    write_suite(tmp_path, VALID, "orders.yml")
    with pytest.raises(SuiteFileError, match=r"suites/<layer>/<name>\.yml"):
        load_suites(tmp_path)


def test_a_suite_guarding_an_asset_that_does_not_exist_names_the_file_and_a_close_key(tmp_path):
    path = write_suite(tmp_path, VALID.replace("stg_shop__orders", "stg_shop_orders"))
    with pytest.raises(SuiteFileError) as error:
        resolve_guarded_assets([load_suite(path, tmp_path)], {"staging/stg_shop__orders"})
    assert str(path) in str(error.value)
    assert "did you mean staging/stg_shop__orders" in str(error.value)


def test_gx_rejecting_kwargs_is_an_error_naming_the_file(tmp_path):
    path = write_suite(tmp_path, VALID.replace("{column: hours,", "{colum: hours,"))
    suite = load_suite(path, tmp_path)
    with pytest.raises(SuiteFileError) as error:
        build_gx_suite(suite, suite.targets[0])
    assert str(path) in str(error.value)
    assert "created_at_not_in_future" in str(error.value)


def test_template_values_that_are_not_identifiers_never_reach_the_sql():
    assert render_template("select * from {{ schema }}.t", {"schema": "raw"}) == (
        "select * from raw.t"
    )
    with pytest.raises(ValueError, match="not identifier-like"):
        render_template("select * from {{ schema }}.t", {"schema": "raw; drop table x"})


def test_raw_suites_leave_the_graph_when_an_el_tool_lands_the_raw_tables():
    suites = [suite for suite in load_suites() if suite.layer != "raw"]
    keys = {t.asset_key_string for suite in suites for t in suite.targets if not t.is_pattern}
    keys |= {dep for suite in suites for dep in suite.spec.additional_deps}
    settings = Settings.from_env({"CDP_RAW_SCHEMA": "landing"})
    checks = build_quality_checks(settings, keys, SUITES_DIR)
    guarded = {key.asset_key.path[0] for c in checks for key in c.check_keys}
    assert guarded == {"staging", "marts"}


def test_each_expectation_is_a_check_on_each_guarded_asset_with_the_files_blocking_flag():
    suites = load_suites()
    keys = {"/".join(t.asset_key) for s in suites for t in s.targets if not t.is_pattern}
    keys |= {dep for s in suites for dep in s.spec.additional_deps}
    keys |= {"segments/vip", "segments/lapsed_customers"}
    checks = build_quality_checks(Settings.from_env({}), keys)
    specs = {
        f"{spec.asset_key.to_user_string()}:{spec.name}": spec
        for check in checks
        for spec in check.check_specs
    }
    # segments/* stands for two segment assets here.
    assert len(specs) == sum(len(s.targets) * len(s.expectations) for s in suites) + 1
    blocking = {name for name, spec in specs.items() if spec.blocking}
    assert blocking == {
        "raw/consent:expected_columns_delivered",
        "raw/deletion_requests:expected_columns_delivered",
        "marts/customer_profiles:consent_fields_never_null",
        "marts/customer_profiles:consent_column_per_purpose",
        "marts/customer_profiles:revenue_not_negative",
        "marts/fct_orders:revenue_not_negative",
        "marts/customer_profiles:order_count_matches_fct_orders",
        "marts/identity_map:identity_health_within_bounds",
        "segments/vip:segment_size_within_band_of_previous_run",
        "segments/lapsed_customers:segment_size_within_band_of_previous_run",
    }
    assert not specs["marts/customer_profiles:known_profiles_with_email_or_phone"].blocking
    assert specs["staging/stg_shop__orders:currency_known_to_fx_rates"].additional_deps
    assert isinstance(checks[0], dg.AssetChecksDefinition)


def test_a_broken_suite_file_stops_the_definitions_loading_with_its_path(tmp_path):
    @dg.asset(key=["staging", "stg_shop__orders"])
    def orders() -> None:
        pass

    path = write_suite(
        tmp_path,
        VALID.replace("severity: warn", "").replace(
            "    kwargs:", "    severity: fatal\n    kwargs:"
        ),
    )
    with pytest.raises(SuiteFileError) as error:
        with_quality_checks(dg.Definitions(assets=[orders]), Settings.from_env({}), tmp_path)
    assert str(path) in str(error.value)
    assert "expectations.0.severity: Input should be 'warn' or 'error'" in str(error.value)

    path.write_text(dedent(VALID))
    resources = {"warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb"))}
    definitions = with_quality_checks(
        dg.Definitions(assets=[orders], resources=resources), Settings.from_env({}), tmp_path
    )
    checks = definitions.resolve_asset_graph().asset_check_keys
    assert {key.name for key in checks} == {"created_at_not_in_future"}


# ---- key patterns: suites for assets that may not exist yet --------------------------

PATTERN = """\
description: The latest size of each segment.
asset: segments/*
read:
  sample_rows: null
  query: select member_count from marts.segment_sizes where segment_name = '{{ name }}'
expectations:
  - name: size_not_zero
    description: Never empty.
    type: expect_column_values_to_be_between
    kwargs: {column: member_count, min_value: 1}
    severity: error
    blocking: true
"""


def test_a_key_pattern_guards_every_asset_under_its_prefix_one_target_each(tmp_path):
    suite = load_suite(write_suite(tmp_path, PATTERN, "marts/sizes.yml"), tmp_path)
    known = {"segments/vip", "segments/churn_risk", "segments/vip/extra", "marts/vip"}
    (resolved,) = resolve_guarded_assets([suite], known)
    assert [t.asset_key for t in resolved.targets] == [
        ("segments", "churn_risk"),
        ("segments", "vip"),
    ]
    # One GX suite (and Data Docs page) per segment, not one shared by all of them.
    assert {resolved.gx_suite_name(t) for t in resolved.targets} == {
        "marts.sizes.segments.churn_risk",
        "marts.sizes.segments.vip",
    }


def test_a_key_pattern_matching_no_asset_leaves_the_suite_out_without_an_error(tmp_path):
    suites_dir = tmp_path / "suites"
    write_suite(suites_dir, PATTERN, "marts/sizes.yml")
    write_suite(suites_dir, VALID, "staging/orders.yml")
    settings = Settings.from_env({}).with_overrides(data_docs_dir=tmp_path / "docs")
    assert [
        s.id for s in resolve_guarded_assets(load_suites(suites_dir), {"staging/stg_shop__orders"})
    ] == ["staging/orders"]

    @dg.asset(key=["staging", "stg_shop__orders"])
    def orders() -> None:
        pass

    resources = {"warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb"))}
    definitions = with_quality_checks(
        dg.Definitions(assets=[orders], resources=resources), settings, suites_dir
    )
    checks = definitions.resolve_asset_graph().asset_check_keys
    assert {key.name for key in checks} == {"created_at_not_in_future"}

    @dg.asset(key=["segments", "vip"])
    def vip() -> None:
        pass

    definitions = with_quality_checks(
        dg.Definitions(assets=[orders, vip], resources=resources), settings, suites_dir
    )
    checks = definitions.resolve_asset_graph().asset_check_keys
    assert {key.to_user_string() for key in checks} == {
        "staging/stg_shop__orders:created_at_not_in_future",
        "segments/vip:size_not_zero",
    }


def test_a_key_named_outright_keeps_its_parameters_over_a_pattern(tmp_path):
    text = PATTERN.replace(
        "asset: segments/*",
        "assets:\n  segments/*: {}\n  segments/vip: {floor: 5}\nparameters:\n  floor: 1",
    ).replace("min_value: 1", "min_value: {$PARAMETER: floor}")
    suite = load_suite(write_suite(tmp_path, text, "marts/sizes.yml"), tmp_path)
    (resolved,) = resolve_guarded_assets([suite], {"segments/vip", "segments/churn_risk"})
    assert {t.asset_key_string: t.parameters for t in resolved.targets} == {
        "segments/vip": {"floor": 5},
        "segments/churn_risk": {"floor": 1},
    }


def test_a_named_key_that_is_missing_is_still_an_error_beside_a_pattern(tmp_path):
    text = PATTERN.replace("asset: segments/*", "assets:\n  segments/*: {}\n  segments/vipp: {}")
    path = write_suite(tmp_path, text, "marts/sizes.yml")
    with pytest.raises(SuiteFileError) as error:
        resolve_guarded_assets([load_suite(path, tmp_path)], {"segments/vip"})
    assert str(path) in str(error.value)
    assert "asset segments/vipp is not in the Dagster definitions" in str(error.value)


def test_a_pattern_is_only_a_last_part_star(tmp_path):
    for key in ("*", "segments/*/x", "segm*", "segments/vip*"):
        message = load_error(tmp_path, PATTERN.replace("segments/*", f"'{key}'"))
        assert "is not of the form layer/name" in message


def test_a_check_a_pattern_and_another_file_both_put_on_one_asset_names_both_files(tmp_path):
    first = write_suite(tmp_path, PATTERN, "marts/sizes.yml")
    second = write_suite(
        tmp_path, PATTERN.replace("asset: segments/*", "asset: segments/vip"), "marts/vip.yml"
    )
    with pytest.raises(SuiteFileError) as error:
        resolve_guarded_assets(load_suites(tmp_path), {"segments/vip"})
    assert str(first) in str(error.value)
    assert str(second) in str(error.value)


def test_a_suite_that_may_block_runs_one_step_per_guarded_asset():
    suites = {suite.id: suite for suite in load_suites()}
    assert [name for name, _ in suite_steps(suites["marts/revenue_not_negative"])] == [
        "gx_marts__revenue_not_negative__marts__customer_profiles",
        "gx_marts__revenue_not_negative__marts__fct_orders",
    ]
    # Warnings only: one step reads and validates all eleven raw tables.
    ((name, targets),) = suite_steps(suites["raw/latest_load"])
    assert name == "gx_raw__latest_load"
    assert len(targets) == 11
