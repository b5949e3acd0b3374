"""Segment files are validated before anything runs: every mistake names the file and the
rule path, and nothing from the YAML can reach the SQL text."""

from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.activation.columns import WarehouseSchema
from orchestration.activation.model import Audience, Refresh
from orchestration.activation.rule_ast import Did, EnteredSegment
from orchestration.activation.segment_files import (
    SEGMENTS_DIR,
    SegmentDefinitionError,
    load_segment_definitions,
)
from orchestration.warehouse import DuckDBWarehouse

from .segment_warehouse import build_warehouse, segment_yaml, write_segment


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> WarehouseSchema:
    """The columns of a tiny hand-made warehouse, read back through DESCRIBE."""
    path = build_warehouse(tmp_path_factory.mktemp("segments") / "tiny.duckdb")
    con = duckdb.connect(str(path), read_only=True)
    try:
        return WarehouseSchema.from_warehouse(DuckDBWarehouse(con, owned=False))
    finally:
        con.close()


def load_error(directory: Path, schema: WarehouseSchema, *documents: dict[str, Any]) -> str:
    for document in documents:
        write_segment(directory, document)
    with pytest.raises(SegmentDefinitionError) as raised:
        load_segment_definitions(directory, schema=schema)
    return str(raised.value)


def rule_error(tmp_path: Path, schema: WarehouseSchema, rule: Any, name: str = "lapsed") -> str:
    return load_error(tmp_path / "segments", schema, segment_yaml(name, rule=rule))


def test_the_shipped_segments_load_against_the_dbt_manifest(dbt_manifest):
    definitions = {definition.name: definition for definition in load_segment_definitions()}
    assert set(definitions) == {
        "abandoned_cart",
        "abandoned_cart_sms",
        "high_value_customers",
        "churn_risk",
        "pricing_page_visitors_no_purchase",
        "lapsed_customers",
        "engaged_b2b_accounts",
    }
    assert {path.stem for path in SEGMENTS_DIR.glob("*.yml")} == set(definitions)
    cart = definitions["abandoned_cart"]
    assert cart.refresh == Refresh.HOURLY
    assert cart.consent_purpose == "email_marketing"
    assert isinstance(cart.rule.children[0], Did)
    sms = definitions["abandoned_cart_sms"]
    assert isinstance(sms.rule.children[0], EnteredSegment)
    assert sms.attributes == {"discount_code": "CART10", "discount_percent": 10}
    pricing = definitions["pricing_page_visitors_no_purchase"]
    assert pricing.audience == Audience.ALL
    assert set(pricing.destinations) <= {"file", "webhook"}
    for name in ("high_value_customers", "lapsed_customers"):
        assert definitions[name].consent_purpose == "advertising"


def test_an_unknown_column_names_the_file_the_rule_path_and_the_closest_column(tmp_path, schema):
    rule = {
        "all": [
            {"trait": "order_count", "at_least": 1},
            {"trait": "last_order_att", "older_than": "180 days"},
        ]
    }
    assert rule_error(tmp_path, schema, rule) == (
        "segments/lapsed.yml: rule.all[1].trait: column 'last_order_att' is not a column "
        "of customer_profiles (did you mean 'last_order_at'?)"
    )


def test_a_string_compared_to_a_number_column_is_a_type_mismatch(tmp_path, schema):
    message = rule_error(tmp_path, schema, {"trait": "order_count", "at_least": "5"})
    assert message == (
        "segments/lapsed.yml: rule.at_least: 'order_count' is a number (bigint): the value "
        "must be a number, got '5'"
    )


def test_a_number_compared_to_a_text_column_is_a_type_mismatch(tmp_path, schema):
    message = rule_error(tmp_path, schema, {"trait": "country", "in": ["US", 49]})
    assert "segments/lapsed.yml: rule.in[1]: 'country' is text (varchar)" in message
    assert "got the number 49" in message


def test_a_date_window_on_a_column_that_is_not_a_timestamp_is_refused(tmp_path, schema):
    message = rule_error(tmp_path, schema, {"trait": "order_count", "within": "30 days"})
    assert message.startswith(
        "segments/lapsed.yml: rule.within: 'within' does not apply to 'order_count', which is "
        "a number (bigint)"
    )


def test_ordering_a_boolean_is_refused_and_a_timestamp_needs_a_date_value(tmp_path, schema):
    assert "'greater_than' does not apply to 'is_known'" in rule_error(
        tmp_path, schema, {"trait": "is_known", "greater_than": True}
    )
    message = rule_error(tmp_path, schema, {"trait": "last_order_at", "at_least": "yesterday"})
    assert "rule.at_least: 'last_order_at' is a timestamp (timestamp)" in message


def test_an_unknown_operator_suggests_the_closest_one(tmp_path, schema):
    message = rule_error(tmp_path, schema, {"trait": "order_count", "greater": 3})
    assert message.startswith(
        "segments/lapsed.yml: rule.greater: 'greater' is not an operator: did you mean "
        "'greater_than'?"
    )


def test_symbols_are_accepted_as_operator_synonyms(tmp_path, schema):
    write_segment(tmp_path, segment_yaml("symbols", rule={"trait": "order_count", ">=": 2}))
    (definition,) = load_segment_definitions(tmp_path, schema=schema)
    assert definition.rule.operator == "at_least"
    assert definition.rule.value == 2


def test_unknown_keys_and_bad_durations_are_located(tmp_path, schema):
    assert "rule.did.withn: 'withn' is not allowed here: did you mean 'within'?" in rule_error(
        tmp_path, schema, {"did": {"event": "Product Added", "withn": "4 hours"}}, "a"
    )
    assert "rule.did.within: expected a duration like '4 hours'" in rule_error(
        tmp_path, schema, {"did": {"event": "Product Added", "within": "4 hrs"}}, "b"
    )
    assert "rule.did.type: 'click' is not an event type" in rule_error(
        tmp_path, schema, {"did": {"type": "click"}}, "c"
    )
    assert "rule.all[0].is_null: write 'is_null: true'" in rule_error(
        tmp_path, schema, {"all": [{"trait": "email", "is_null": False}]}, "d"
    )
    assert "older_than (1 day) must be shorter than within (4 hours)" in rule_error(
        tmp_path, schema, {"did": {"event": "x", "within": "4 hours", "older_than": "1 day"}}, "e"
    )
    assert "rule.any: expected a non-empty list of conditions" in rule_error(
        tmp_path, schema, {"any": []}, "f"
    )
    assert "rule: one condition per item, found trait, did" in rule_error(
        tmp_path, schema, {"trait": "email", "is_null": True, "did": {"event": "x"}}, "g"
    )


def test_event_filters_are_checked_against_fct_events(tmp_path, schema):
    rule = {"did": {"type": "page", "where": [{"column": "page_pth", "starts_with": "/pricing"}]}}
    assert rule_error(tmp_path, schema, rule).endswith(
        "rule.did.where[0].column: column 'page_pth' is not a column of fct_events "
        "(did you mean 'page_path'?)"
    )


def test_an_unknown_consent_purpose_is_refused(tmp_path, schema):
    message = load_error(
        tmp_path / "segments", schema, segment_yaml("a", consent_purpose="marketing")
    )
    assert message.startswith("segments/a.yml: consent_purpose: 'marketing' is not a consent")


def test_an_unknown_destination_is_refused_with_a_suggestion(tmp_path, schema):
    message = load_error(
        tmp_path / "segments", schema, segment_yaml("a", destinations=["webhook", "google_adds"])
    )
    assert message.startswith(
        "segments/a.yml: destinations[1]: unknown destination 'google_adds' (did you mean "
        "'google_ads'?)"
    )


def test_anonymous_persons_can_never_be_sent_to_an_ad_platform(tmp_path, schema):
    document = segment_yaml(
        "retarget", audience="all", consent_purpose="advertising", destinations=["webhook", "meta"]
    )
    message = load_error(tmp_path / "segments", schema, document)
    assert message.startswith("segments/retarget.yml: destinations: audience 'all' lets anonymous")
    write_segment(tmp_path / "ok", {**document, "destinations": ["webhook"]})
    assert load_segment_definitions(tmp_path / "ok", schema=schema)[0].audience == Audience.ALL


def test_ad_platforms_need_the_advertising_consent(tmp_path, schema):
    message = load_error(
        tmp_path / "segments", schema, segment_yaml("a", destinations=["google_ads"])
    )
    assert "consent_purpose: ad platforms (google_ads) need consent 'advertising'" in message


def test_duplicate_segment_names_are_refused(tmp_path, schema):
    write_segment(tmp_path, segment_yaml("twice"))
    write_segment(tmp_path, segment_yaml("twice"), suffix=".yaml")
    with pytest.raises(SegmentDefinitionError) as raised:
        load_segment_definitions(tmp_path, schema=schema)
    assert "twice.yml: name: 'twice' is also defined in twice.yaml" in str(raised.value)


def test_the_name_must_match_the_file(tmp_path, schema):
    path = tmp_path / "one.yml"
    write_segment(tmp_path, segment_yaml("two")).rename(path)
    with pytest.raises(SegmentDefinitionError, match="name: 'two' must match the file name"):
        load_segment_definitions(tmp_path, schema=schema)


def test_references_to_unknown_segments_and_cycles_are_refused(tmp_path, schema):
    message = load_error(
        tmp_path / "unknown", schema, segment_yaml("sms", rule={"in_segment": "abandoned_crt"})
    )
    assert message == "unknown/sms.yml: rule: segment 'abandoned_crt' is not defined"
    message = load_error(
        tmp_path / "cycle",
        schema,
        segment_yaml("first", rule={"in_segment": "second"}),
        segment_yaml("second", rule={"entered_segment": {"segment": "first"}}),
    )
    assert "segments reference each other in a cycle: first -> second -> first" in message
    message = load_error(
        tmp_path / "self", schema, segment_yaml("again", rule={"in_segment": "again"})
    )
    assert (
        message == "self/again.yml: rule: segments reference each other in a cycle: again -> again"
    )


def test_yaml_errors_and_duplicate_keys_give_the_line(tmp_path, schema):
    (tmp_path / "broken.yml").write_text("name: broken\nrule: [unclosed\n")
    (tmp_path / "twice.yml").write_text(
        "name: twice\nowner: team:a\nowner: team:b\ndescription: d\n"
    )
    with pytest.raises(SegmentDefinitionError) as raised:
        load_segment_definitions(tmp_path, schema=schema)
    problems = {problem.file: problem for problem in raised.value.problems}
    assert problems[f"{tmp_path.name}/twice.yml"].path == "line 3"
    assert "key 'owner' is given twice" in str(raised.value)
    assert f"{tmp_path.name}/broken.yml: line 3: not valid YAML" in str(raised.value)


def test_every_bad_file_is_reported_at_once(tmp_path, schema):
    write_segment(tmp_path, segment_yaml("a", refresh="weekly"))
    write_segment(tmp_path, segment_yaml("b", owner="growth team"))
    write_segment(tmp_path, segment_yaml("c"))
    with pytest.raises(SegmentDefinitionError) as raised:
        load_segment_definitions(tmp_path, schema=schema)
    assert [(p.file.split("/")[-1], p.path) for p in raised.value.problems] == [
        ("a.yml", "refresh"),
        ("b.yml", "owner"),
    ]
    assert raised.value.file.endswith("a.yml")
    assert raised.value.path == "refresh"


def test_sql_in_a_column_name_is_rejected_as_an_unknown_column(tmp_path, schema):
    injected = 'email" is not null or 1=1; drop table marts.customer_profiles; --'
    message = rule_error(tmp_path, schema, {"trait": injected, "equals": "x"})
    assert message.startswith(
        f"segments/lapsed.yml: rule.trait: column '{injected}' is not a column of customer_profiles"
    )
    message = rule_error(
        tmp_path,
        schema,
        {"did": {"where": [{"column": "page_path) or (1=1", "equals": "/"}]}},
        "b",
    )
    assert "rule.did.where[0].column: column 'page_path) or (1=1' is not a column" in message


def test_column_names_match_the_schema_exactly(tmp_path, schema):
    message = rule_error(tmp_path, schema, {"trait": "Order_Count", "at_least": 1})
    assert "column 'Order_Count' is not a column of customer_profiles" in message
