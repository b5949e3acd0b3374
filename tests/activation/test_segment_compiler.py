"""The segment compiler: values become literals that mean the same on every engine and
are never executed; the committed generated dbt files are what the YAML gives."""

import datetime as dt

import duckdb
import jinja2
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestration.activation.compiler import sql_literal
from orchestration.activation.destinations import load_destinations
from orchestration.activation.generated import (
    RULES_MODEL,
    SEGMENT_MODELS_DIR,
    audience_rule_rows,
    expected_files,
    files_out_of_date,
)
from orchestration.activation.segment_files import SEGMENTS_DIR, load_segment_definitions


def rendered(literal: str) -> object:
    """What DuckDB reads from `literal` once dbt's Jinja has rendered the model text."""
    text = jinja2.Environment().from_string(f"select {literal} as value").render()
    return duckdb.sql(text).fetchall()[0][0]


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\\\x00\r"),
        max_size=200,
    )
)
def test_any_string_without_backslash_reads_back_as_itself(value):
    assert rendered(sql_literal(value, "    ")) == value


def test_sql_and_jinja_in_a_value_are_matched_as_literal_text():
    for value in (
        "x' or '1'='1",
        "'; drop table marts.customer_profiles; --",
        "{{ run_query('drop table x') }}",
        "{% do log('x') %}{# comment #}",
        "{" * 5,
    ):
        literal = sql_literal(value)
        assert "{{ run_query" not in literal
        assert "{%" not in literal
        assert rendered(literal) == value


def test_backslashes_nul_and_infinite_numbers_are_refused():
    for bad in ("a\\b", "nul\x00"):
        with pytest.raises(ValueError, match="backslash"):
            sql_literal(bad)
    with pytest.raises(ValueError, match="finite"):
        sql_literal(float("inf"))


def test_numbers_booleans_dates_and_timestamps_are_typed_literals():
    assert rendered(sql_literal(True)) is True
    assert float(rendered(sql_literal(0.7))) == 0.7  # a decimal literal
    assert rendered(sql_literal(50)) == 50
    assert rendered(sql_literal(dt.date(2026, 1, 31))) == dt.date(2026, 1, 31)
    moment = dt.datetime(2026, 1, 31, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert rendered(sql_literal(moment)) == dt.datetime(2026, 1, 31, 6, 0)
    assert sql_literal(None) == "null"


def test_the_committed_generated_dbt_files_are_what_the_segment_yaml_gives(dbt_manifest):
    # Regenerate with `uv run cdp segments compile` when this fails.
    assert files_out_of_date(expected_files()) == []


def test_each_segment_model_is_generated_with_its_refresh_tag_and_asset_key(dbt_manifest):
    files = expected_files()
    definitions = load_segment_definitions(SEGMENTS_DIR)
    for definition in definitions:
        sql = files[SEGMENT_MODELS_DIR / f"seg_{definition.name}.sql"]
        yml = files[SEGMENT_MODELS_DIR / f"seg_{definition.name}.yml"]
        assert sql.startswith("-- GENERATED from orchestration/activation/segments/")
        assert f"tags=['{definition.refresh.value}']" in sql
        (model,) = yaml.safe_load(yml)["models"]
        assert model["config"]["meta"]["dagster"]["asset_key"] == ["segments", definition.name]
        assert model["config"]["meta"]["owner"] == definition.owner
        # Portable SQL: no DuckDB-only constructs outside dispatch macros.
        for construct in ("qualify", "group by all", "starts_with(", "list_", "::"):
            assert construct not in sql.lower()
    sms = files[SEGMENT_MODELS_DIR / "seg_abandoned_cart_sms.sql"]
    # entered_segment reads the other segment's stays, paired from its change log (a ref).
    assert "({{ cdp.segment_stays(ref('seg_abandoned_cart')) }}) as stays" in sms
    # The model holds the rule; the change-log tail is the one macro, appended on any engine.
    assert sms.rstrip().endswith("{{ cdp.segment_stay_changes() }}")
    assert "incremental_strategy='append'" in sms
    assert "merge" not in sms.split("with\n", 1)[0]
    assert '"discount_code": "CART10"' in sms


def test_the_audience_rules_are_data_one_row_per_pair_and_purpose(dbt_manifest):
    rows = audience_rule_rows(load_segment_definitions(SEGMENTS_DIR), load_destinations())
    pairs = {(r["segment_name"], r["destination"]): r for r in rows}
    # Anonymous visitors may reach our own webhook, never an ad platform.
    assert pairs["pricing_page_visitors_no_purchase", "webhook"]["is_known_only"] is False
    assert all(r["is_known_only"] for r in rows if r["is_ad_platform"])
    assert {r["purpose"] for r in rows if r["segment_name"] == "abandoned_cart_sms"} == {
        "sms_marketing"
    }
    assert "'pricing_page_visitors_no_purchase' as segment_name" in expected_files()[RULES_MODEL]
