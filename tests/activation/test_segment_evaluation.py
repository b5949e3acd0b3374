"""The compiled rules on tiny hand-made DuckDB warehouses: operators, time windows, event
sequences, audience and consent, and the membership history across evaluations."""

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.activation.columns import WarehouseSchema
from orchestration.activation.compiler import compile_rule
from orchestration.activation.membership import LEFT_PROFILES, evaluate_segment
from orchestration.activation.model import SegmentDefinition
from orchestration.activation.segments import membership_condition

from .segment_warehouse import (
    AS_OF,
    build_warehouse,
    load_segments,
    members,
    segment_yaml,
    write_segment,
)

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


class World:
    """A tiny warehouse plus segment files, evaluated through the real membership code."""

    def __init__(self, tmp_path: Path, **rows: Any) -> None:
        self.path = build_warehouse(tmp_path / "tiny.duckdb", **rows)
        self.segments_dir = tmp_path / "segments"
        self.con = duckdb.connect(str(self.path))
        self.con.execute("set TimeZone = 'UTC'")
        self.runs = 0

    def add(self, name: str = "test_segment", **document: Any) -> None:
        write_segment(self.segments_dir, segment_yaml(name, **document))

    def definitions(self) -> dict[str, SegmentDefinition]:
        return load_segments(self.segments_dir, self.con)

    def evaluate(self, name: str = "test_segment", as_of: dt.datetime | None = None) -> set[str]:
        self.runs += 1
        definition = self.definitions()[name]
        schema = WarehouseSchema.from_connection(self.con)
        evaluate_segment(
            self.con, definition, run_id=f"run-{self.runs}", schema=schema, as_of=as_of
        )
        return members(self.con, name)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params or []).fetchall()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Any]:
    opened: list[World] = []

    def make(**rows: Any) -> World:
        created = World(tmp_path / f"world{len(opened)}", **rows)
        opened.append(created)
        return created

    yield make
    for created in opened:
        created.con.close()


def evaluate_rule(world: Any, rule: dict[str, Any], profiles: list[dict[str, Any]], **rows: Any):
    tiny = world(profiles=profiles, **rows)
    tiny.add(rule=rule)
    return tiny.evaluate()


CART_RULE = {
    "did": {
        "event": ["Product Added", "Checkout Started"],
        "within": "4 hours",
        "not_followed_by": {"event": "Order Completed"},
    }
}


def test_cart_in_the_last_4_hours_with_no_order_since(world):
    events = [
        {"person_id": "ann", "event_name": "Product Added", "event_at": AS_OF - 2 * HOUR},
        # Bob ordered after his cart: not abandoned.
        {"person_id": "bob", "event_name": "Checkout Started", "event_at": AS_OF - 3 * HOUR},
        {"person_id": "bob", "event_name": "Order Completed", "event_at": AS_OF - 2 * HOUR},
        # Cat ordered, then filled a new cart: abandoned again.
        {"person_id": "cat", "event_name": "Product Added", "event_at": AS_OF - 3 * HOUR},
        {"person_id": "cat", "event_name": "Order Completed", "event_at": AS_OF - 2 * HOUR},
        {"person_id": "cat", "event_name": "Product Added", "event_at": AS_OF - HOUR},
        # Dan's cart is 5 hours old.
        {"person_id": "dan", "event_name": "Product Added", "event_at": AS_OF - 5 * HOUR},
        # Gus's cart is after "now" (CDP_AS_OF pins an earlier moment): not yet.
        {"person_id": "gus", "event_name": "Product Added", "event_at": AS_OF + HOUR},
        # Hal's order came after "now": it has not happened yet, so the cart counts.
        {"person_id": "hal", "event_name": "Product Added", "event_at": AS_OF - HOUR},
        {"person_id": "hal", "event_name": "Order Completed", "event_at": AS_OF + HOUR},
        # An event without a person never matches anyone.
        {"person_id": None, "event_name": "Product Added", "event_at": AS_OF - HOUR},
        # The window is inclusive: exactly 4 hours ago counts.
        {"person_id": "ivy", "event_name": "Product Added", "event_at": AS_OF - 4 * HOUR},
    ]
    profiles = [{"person_id": name} for name in ("ann", "bob", "cat", "dan", "gus", "hal", "ivy")]
    assert evaluate_rule(world, CART_RULE, profiles, events=events) == {"ann", "cat", "hal", "ivy"}


def test_audience_known_excludes_anonymous_persons_and_consent_must_be_granted(world):
    events = [
        {"person_id": person, "event_name": "Product Added", "event_at": AS_OF - HOUR}
        for person in ("known", "anonymous", "withdrawn", "never_asked")
    ]
    profiles = [
        {"person_id": "known"},
        {"person_id": "anonymous", "is_known": False},
        {"person_id": "withdrawn", "consent_email_marketing": "withdrawn"},
        {"person_id": "never_asked", "consent_email_marketing": "none"},
    ]
    tiny = world(profiles=profiles, events=events)
    tiny.add("known_only", rule=CART_RULE)
    tiny.add("everyone", rule=CART_RULE, audience="all")
    assert tiny.evaluate("known_only") == {"known"}
    assert tiny.evaluate("everyone") == {"known", "anonymous"}


def test_comparisons_on_traits(world):
    profiles = [
        {"person_id": "a", "order_count": 5, "country": "US", "rfm_segment": "champions"},
        {"person_id": "b", "order_count": 2, "country": "DE", "rfm_segment": "loyal"},
        {"person_id": "c", "order_count": 0, "country": None, "rfm_segment": None},
    ]

    def run(rule: dict[str, Any]) -> set[str]:
        return evaluate_rule(world, rule, profiles)

    assert run({"trait": "order_count", "at_least": 2}) == {"a", "b"}
    assert run({"trait": "order_count", "greater_than": 2}) == {"a"}
    assert run({"trait": "order_count", "less_than": 2}) == {"c"}
    assert run({"trait": "order_count", "at_most": 2}) == {"b", "c"}
    assert run({"trait": "order_count", "equals": 5}) == {"a"}
    assert run({"trait": "country", "not_equals": "US"}) == {"b"}  # NULL is not "not US"
    assert run({"trait": "rfm_segment", "in": ["champions", "loyal"]}) == {"a", "b"}
    assert run({"trait": "rfm_segment", "not_in": ["champions"]}) == {"b"}
    assert run({"trait": "country", "is_null": True}) == {"c"}
    assert run({"trait": "country", "is_not_null": True}) == {"a", "b"}


def test_a_missing_trait_makes_a_comparison_false_and_not_is_its_exact_complement(world):
    profiles = [
        {"person_id": "risky", "churn_risk": 0.9},
        {"person_id": "safe", "churn_risk": 0.1},
        {"person_id": "unpredicted", "churn_risk": None},
    ]
    risky = {"trait": "churn_risk", "at_least": 0.7}
    assert evaluate_rule(world, risky, profiles) == {"risky"}
    assert evaluate_rule(world, {"not": risky}, profiles) == {"safe", "unpredicted"}


def test_all_any_not_combine(world):
    profiles = [
        {"person_id": "a", "order_count": 3, "country": "US"},
        {"person_id": "b", "order_count": 3, "country": "FR"},
        {"person_id": "c", "order_count": 0, "country": "US"},
        {"person_id": "d", "order_count": 0, "country": "JP"},
    ]
    rule = {
        "any": [
            {
                "all": [
                    {"trait": "order_count", "at_least": 1},
                    {"not": {"trait": "country", "equals": "FR"}},
                ]
            },
            {"trait": "country", "equals": "JP"},
        ]
    }
    assert evaluate_rule(world, rule, profiles) == {"a", "d"}


def test_relative_and_absolute_time_on_timestamp_and_date_traits(world):
    profiles = [
        {
            "person_id": "lapsed",
            "last_order_at": AS_OF - 200 * DAY,
            "signup_date": dt.date(2025, 1, 5),
        },
        {
            "person_id": "edge",
            "last_order_at": AS_OF - 180 * DAY,
            "signup_date": dt.date(2026, 2, 27),
        },
        {
            "person_id": "recent",
            "last_order_at": AS_OF - 10 * DAY,
            "signup_date": dt.date(2026, 3, 1),
        },
        {"person_id": "never", "last_order_at": None, "signup_date": None},
    ]
    assert evaluate_rule(world, {"trait": "last_order_at", "older_than": "180 days"}, profiles) == {
        "lapsed",
        "edge",
    }
    assert evaluate_rule(world, {"trait": "last_order_at", "within": "30 days"}, profiles) == {
        "recent"
    }
    assert evaluate_rule(world, {"trait": "signup_date", "within": "3 days"}, profiles) == {
        "edge",
        "recent",
    }
    assert evaluate_rule(
        world, {"trait": "last_order_at", "less_than": "2025-09-03T00:00:00Z"}, profiles
    ) == {"lapsed", "edge"}
    assert evaluate_rule(
        world, {"trait": "signup_date", "in": ["2025-01-05", "2026-03-01"]}, profiles
    ) == {"lapsed", "recent"}


def test_page_path_filters_on_page_calls(world):
    def page(person: str, path: str, hours_ago: float, event_type: str = "page") -> dict:
        return {
            "person_id": person,
            "event_type": event_type,
            "event_name": None,
            "page_path": path,
            "event_at": AS_OF - hours_ago * HOUR,
        }

    events = [
        page("pricing", "/pricing", 30),
        page("enterprise", "/pricing/enterprise", 30),
        page("blog", "/blog/pricing-explained", 2),
        page("screen", "/pricing", 2, event_type="screen"),
        page("old", "/pricing", 24 * 20),
        page("bought", "/pricing", 30),
        {"person_id": "bought", "event_name": "Order Completed", "event_at": AS_OF - HOUR},
    ]
    profiles = [{"person_id": e["person_id"]} for e in events]
    visited = {
        "did": {
            "type": "page",
            "where": [{"column": "page_path", "starts_with": "/pricing"}],
            "within": "14 days",
            "not_followed_by": {"event": "Order Completed"},
        }
    }
    assert evaluate_rule(world, visited, profiles, events=events) == {"pricing", "enterprise"}
    exact = {"did": {"where": [{"column": "page_path", "in": ["/pricing"]}], "within": "14 days"}}
    assert evaluate_rule(world, exact, profiles, events=events) == {"pricing", "screen", "bought"}
    contains = {"did": {"where": [{"column": "page_path", "contains": "pricing-"}]}}
    assert evaluate_rule(world, contains, profiles, events=events) == {"blog"}


def test_min_times_did_not_and_older_than_on_events(world):
    def viewed(person: str, hours_ago: float) -> dict:
        return {
            "person_id": person,
            "event_name": "Product Viewed",
            "event_at": AS_OF - hours_ago * HOUR,
        }

    events = [viewed("thrice", 1), viewed("thrice", 2), viewed("thrice", 3), viewed("once", 1)]
    events += [viewed("long_ago", 24 * 40)]
    profiles = [{"person_id": p} for p in ("thrice", "once", "long_ago", "nothing")]
    rule = {"did": {"event": "Product Viewed", "within": "1 day", "min_times": 3}}
    assert evaluate_rule(world, rule, profiles, events=events) == {"thrice"}
    rule = {"did_not": {"event": "Product Viewed", "within": "30 days"}}
    assert evaluate_rule(world, rule, profiles, events=events) == {"long_ago", "nothing"}
    rule = {"did": {"event": "Product Viewed", "older_than": "30 days"}}
    assert evaluate_rule(world, rule, profiles, events=events) == {"long_ago"}


def test_account_traits_select_the_contacts_of_matching_accounts(world):
    accounts = [
        {
            "account_id": "acme",
            "is_engaged_30d": True,
            "employee_count": 10,
            "open_pipeline_usd": 5000,
        },
        {
            "account_id": "big",
            "is_engaged_30d": True,
            "employee_count": 900,
            "open_pipeline_usd": 0,
        },
        {
            "account_id": "idle",
            "is_engaged_30d": False,
            "employee_count": 900,
            "open_pipeline_usd": 9,
        },
    ]
    profiles = [
        {"person_id": "acme_buyer", "account_id": "acme"},
        {"person_id": "big_cto", "account_id": "big"},
        {"person_id": "idle_ceo", "account_id": "idle"},
        {"person_id": "consumer", "account_id": None},
    ]
    rule = {
        "all": [
            {"account_trait": "is_engaged_30d", "equals": True},
            {
                "any": [
                    {"account_trait": "open_pipeline_usd", "greater_than": 0},
                    {"account_trait": "employee_count", "at_least": 50},
                ]
            },
        ]
    }
    assert evaluate_rule(world, rule, profiles, accounts=accounts) == {"acme_buyer", "big_cto"}


def test_values_are_bound_parameters_so_sql_in_a_value_is_just_a_string(world):
    injection = "x' or '1'='1"
    profiles = [
        {"person_id": "a", "email": "a@example.com"},
        {"person_id": "b", "email": injection},
    ]
    events = [{"person_id": "a", "event_name": "Order Completed') or true --", "event_at": AS_OF}]
    tiny = world(profiles=profiles, events=events)
    tiny.add("by_email", rule={"trait": "email", "equals": injection})
    tiny.add("by_event", rule={"did": {"event": "Order Completed') or true --"}})
    definitions = tiny.definitions()
    schema = WarehouseSchema.from_connection(tiny.con)
    for definition in definitions.values():
        compiled = compile_rule(membership_condition(definition, schema), schema, AS_OF)
        assert injection not in compiled.sql
        assert "or true" not in compiled.sql
    # Matched literally: only the person whose email IS that string; the tables survive.
    assert tiny.evaluate("by_email") == {"b"}
    assert tiny.evaluate("by_event") == {"a"}
    assert tiny.rows("select count(*) from marts.customer_profiles") == [(2,)]


def test_in_segment_reads_the_current_membership(world):
    profiles = [{"person_id": "a", "order_count": 3}, {"person_id": "b", "order_count": 1}]
    tiny = world(profiles=profiles)
    tiny.add("buyers", rule={"trait": "order_count", "at_least": 1})
    tiny.add(
        "loyal_buyers",
        rule={"all": [{"in_segment": "buyers"}, {"trait": "order_count", "at_least": 2}]},
    )
    tiny.evaluate("buyers")
    assert tiny.evaluate("loyal_buyers") == {"a"}


def test_the_sms_follow_up_waits_4_hours_after_entry_and_skips_those_who_ordered(world):
    t0 = AS_OF
    events = [
        {
            "person_id": person,
            "event_name": "Product Added",
            "event_at": t0 - 30 * dt.timedelta(minutes=1),
        }
        for person in ("waits", "orders", "no_phone")
    ]
    events.append(
        {"person_id": "orders", "event_name": "Order Completed", "event_at": t0 + 2 * HOUR}
    )
    profiles = [
        {"person_id": "waits", "phone": "+15550001"},
        {"person_id": "orders", "phone": "+15550002"},
        {"person_id": "no_phone", "phone": None},
    ]
    tiny = world(profiles=profiles, events=events)
    tiny.add("abandoned_cart", rule=CART_RULE)
    tiny.add(
        "abandoned_cart_sms",
        consent_purpose="sms_marketing",
        attributes={"discount_code": "CART10", "discount_percent": 10},
        rule={
            "all": [
                {
                    "entered_segment": {
                        "segment": "abandoned_cart",
                        "older_than": "4 hours",
                        "within": "1 day",
                        "not_followed_by": {"event": "Order Completed"},
                    }
                },
                {"trait": "phone", "is_not_null": True},
            ]
        },
    )
    assert tiny.evaluate("abandoned_cart", as_of=t0) == {"waits", "orders", "no_phone"}
    assert tiny.evaluate("abandoned_cart_sms", as_of=t0) == set()
    assert tiny.evaluate("abandoned_cart_sms", as_of=t0 + 3 * HOUR) == set()  # too early
    assert tiny.evaluate("abandoned_cart_sms", as_of=t0 + 4 * HOUR) == {"waits"}
    (stored,) = tiny.rows(
        "select attributes from marts.segment_membership where segment_name = 'abandoned_cart_sms'"
    )
    assert json.loads(stored[0]) == {"discount_code": "CART10", "discount_percent": 10}
    assert tiny.evaluate("abandoned_cart_sms", as_of=t0 + 30 * HOUR) == set()  # window over


def test_history_records_entries_exits_and_why_across_evaluations(world):
    profiles = [
        {"person_id": "stays", "order_count": 3},
        {"person_id": "leaves", "order_count": 2},
        {"person_id": "withdraws", "order_count": 2},
        {"person_id": "erased", "order_count": 2},
        {"person_id": "joins", "order_count": 0},
    ]
    tiny = world(profiles=profiles)
    tiny.add("buyers", rule={"all": [{"trait": "order_count", "at_least": 1}]})
    tiny.add("other", rule={"trait": "order_count", "at_least": 0})
    first = AS_OF
    assert tiny.evaluate("buyers", as_of=first) == {"stays", "leaves", "withdraws", "erased"}
    tiny.evaluate("other", as_of=first)

    # A day later: one refund, one consent withdrawal, one erasure, one new buyer.
    tiny.con.execute(
        "update marts.customer_profiles set order_count = 0 where person_id = 'leaves'"
    )
    tiny.con.execute(
        "update marts.customer_profiles set consent_email_marketing = 'withdrawn' "
        "where person_id = 'withdraws'"
    )
    tiny.con.execute("delete from marts.customer_profiles where person_id = 'erased'")
    tiny.con.execute("update marts.customer_profiles set order_count = 1 where person_id = 'joins'")
    second = AS_OF + DAY
    assert tiny.evaluate("buyers", as_of=second) == {"stays", "joins"}

    history = {
        person: (entered, exited, entered_because, exited_because)
        for person, entered, exited, entered_because, exited_because in tiny.rows(
            "select person_id, entered_at, exited_at, entered_because, exited_because "
            "from marts.segment_membership_history where segment_name = 'buyers'"
        )
    }
    assert history["stays"] == (first, None, "rule.all[0]: order_count at least 1", None)
    assert history["joins"][:2] == (second, None)
    assert history["leaves"][1:] == (
        second,
        "rule.all[0]: order_count at least 1",
        "rule.all[0]: not order_count at least 1",
    )
    assert (
        history["withdraws"][3] == "consent_purpose: not consent_email_marketing equals 'granted'"
    )
    assert history["erased"][3] == LEFT_PROFILES

    # Membership keeps the original entry time of those who stayed.
    assert dict(
        tiny.rows(
            "select person_id, entered_at from marts.segment_membership "
            "where segment_name = 'buyers'"
        )
    ) == {"stays": first, "joins": second}
    sizes = tiny.rows(
        "select member_count, entered_count, exited_count, run_id from marts.segment_sizes "
        "where segment_name = 'buyers' order by computed_at"
    )
    assert sizes == [(4, 4, 0, "run-1"), (2, 1, 3, "run-3")]
    # The other segment's rows were left alone.
    assert len(members(tiny.con, "other")) == 5

    # Coming back opens a second stay; the first one stays closed.
    tiny.con.execute(
        "update marts.customer_profiles set order_count = 4 where person_id = 'leaves'"
    )
    tiny.evaluate("buyers", as_of=second + DAY)
    assert tiny.rows(
        "select entered_at, exited_at from marts.segment_membership_history "
        "where segment_name = 'buyers' and person_id = 'leaves' order by entered_at"
    ) == [(first, second), (second + DAY, None)]


def test_a_person_merged_into_another_exits_naming_the_merge(world):
    tiny = world(profiles=[{"person_id": "old", "order_count": 1}])
    tiny.add(rule={"trait": "order_count", "at_least": 1})
    tiny.evaluate()
    tiny.con.execute("update marts.customer_profiles set person_id = 'new'")
    tiny.con.execute(
        "create table marts.person_merges as select 'old' as old_person_id, "
        "'new' as new_person_id, 'merged' as change_reason"
    )
    assert tiny.evaluate(as_of=AS_OF + HOUR) == {"new"}
    assert tiny.rows(
        "select exited_because from marts.segment_membership_history where person_id = 'old'"
    ) == [("merged into new",)]


def test_an_evaluation_that_fails_leaves_membership_history_and_sizes_as_they_were(world):
    tiny = world(profiles=[{"person_id": "a", "order_count": 1}, {"person_id": "b"}])
    tiny.add(rule={"trait": "order_count", "at_least": 1})
    tiny.evaluate()
    # The last write of an evaluation (its sizes row) breaks a constraint: the history and
    # membership changes made before it in the same transaction must be rolled back.
    tiny.con.execute("drop table marts.segment_sizes")
    tiny.con.execute(
        "create table marts.segment_sizes (segment_name varchar, computed_at timestamp, "
        "member_count bigint check (member_count < 2), entered_count bigint, "
        "exited_count bigint, run_id varchar)"
    )
    tiny.con.execute("update marts.customer_profiles set order_count = 1")
    before = (
        tiny.rows("select * from marts.segment_membership order by all"),
        tiny.rows("select * from marts.segment_membership_history order by all"),
    )
    with pytest.raises(duckdb.ConstraintException):
        tiny.evaluate(as_of=AS_OF + HOUR)
    after = (
        tiny.rows("select * from marts.segment_membership order by all"),
        tiny.rows("select * from marts.segment_membership_history order by all"),
    )
    assert after == before
    assert tiny.rows("select count(*) from marts.segment_sizes") == [(0,)]
