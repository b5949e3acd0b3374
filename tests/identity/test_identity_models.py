"""Every identity guard on the real models: int_identity_resolved and int_identity_persons
built by dbt (the identity_resolution materialization) into a small fixture warehouse.

Why pytest and not dbt unit tests: a dbt unit test runs a model's select on fixture
rows, but the solve is iterative and lives in the materialization, which unit tests do
not run (they would only check the graph the model selects; those unit tests are in the
models' YAML). So the staging tables are written into a real DuckDB file, one scenario
per set of identifiers, and dbt builds the link rules seed and the identity models on it
for real, as `cdp run` does, twice (the second run incremental).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_inprocess import invoke_dbt

from .conftest import Warehouse

IDENTITY_MODELS = [
    "identity_link_rules",
    "int_identifiers",
    "int_identity_edges",
    "int_identity_resolved",
    "int_identity_erasures",
    "int_identity_resolved_without_erasures",
    "int_identity_persons",
]

# Staging as the identity models read it (only the columns they use).
EVENT = (
    "event_type",
    "anonymous_id",
    "previous_id",
    "user_id",
    "email",
    "phone",
    "device_id",
    "event_at",
)
EVENTS = [
    # multi-hop chain: browser -> customer -> email -> CRM contact -> phone -> guest order
    ("track", "chain-anon", None, "chain-cust", None, None, None, "2026-01-01 00:00:00"),
    # strong outranks weak: a browser typed Ann's email, then logged in as Bob
    ("identify", "strong-anon", None, None, "strong-ann@x.io", None, None, "2026-01-05 00:00:00"),
    ("track", "strong-anon", None, "strong-bob", None, None, None, "2026-01-06 00:00:00"),
    # the family tablet: one browser and device, two customers logged in
    ("track", "tablet-anon", None, "tablet-c1", None, None, "tablet-dev", "2026-01-05 00:00:00"),
    ("track", "tablet-anon", None, "tablet-c2", None, None, "tablet-dev", "2026-01-06 00:00:00"),
    # placeholders were nulled in staging: two strangers typed "test@test.com"
    ("identify", "ph-anon1", None, None, None, None, None, "2026-01-05 00:00:00"),
    ("identify", "ph-anon2", None, None, None, None, None, "2026-01-05 00:00:00"),
    # stable ids: two browsers of one person, joined later by a shared email
    ("identify", "stable-old", None, None, "stable-old@x.io", None, None, "2026-01-01 00:00:00"),
    ("identify", "stable-new", None, None, "stable-new@x.io", None, None, "2026-02-01 00:00:00"),
    # erasure: Eve identified before her request; two browsers typed her email after it
    ("identify", "erase-anon0", None, None, "erase-eve@x.io", None, None, "2026-01-01 00:00:00"),
    ("identify", "erase-anon1", None, None, "erase-eve@x.io", None, None, "2026-04-01 00:00:00"),
    ("identify", "erase-anon2", None, None, "erase-eve@x.io", None, None, "2026-04-02 00:00:00"),
]
RECORD = ("id", "email", "phone", "created_at")
CONTACTS = [
    ("chain-k", "chain@x.io", "+14155550101", "2026-01-03 00:00:00"),
    *[(f"hub-k{i}", None, "+14155550199", "2026-01-01 00:00:00") for i in range(1, 6)],
    ("hub-k1", "hub-k1@x.io", None, "2026-01-01 00:00:00"),
    *[(f"edge-k{i}", None, "+14155550177", "2026-01-01 00:00:00") for i in range(1, 4)],
]
CUSTOMERS = [
    ("chain-cust", "chain@x.io", None, "2026-01-02 00:00:00"),
    ("strong-ann", "strong-ann@x.io", None, "2026-01-01 00:00:00"),
    ("strong-bob", "strong-bob@x.io", None, "2026-01-01 00:00:00"),
    ("tablet-c1", "tablet-c1@x.io", None, "2026-01-01 00:00:00"),
    ("tablet-c2", "tablet-c2@x.io", None, "2026-01-01 00:00:00"),
    ("limit-c1", "limit-shared@x.io", None, "2026-01-01 00:00:00"),
    ("limit-c2", "limit-shared@x.io", None, "2026-01-02 00:00:00"),
    ("ph-c1", None, None, "2026-01-01 00:00:00"),
    ("ph-c2", None, None, "2026-01-01 00:00:00"),
]
ORDERS = [
    # a guest order with a new email and the chain's phone
    (None, "chain-guest@x.io", "+14155550101", "2026-01-04 00:00:00"),
]
DELETIONS = [("r1", "email", "erase-eve@x.io", "2026-03-01 00:00:00")]


def values(rows: list[tuple]) -> str:
    def literal(value: object) -> str:
        return "null" if value is None else "'" + str(value).replace("'", "''") + "'"

    return ", ".join("(" + ", ".join(literal(value) for value in row) + ")" for row in rows)


def write_staging(path: Path, extra_events: list[tuple] = ()) -> None:
    """The staging relations the identity models ref, as tables of a fresh DuckDB file."""
    events = EVENTS + list(extra_events)
    timestamp = "cast({} as timestamp)"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists staging")
        con.execute(
            "create or replace table staging.stg_tracking__events as select "
            + ", ".join(
                f"{timestamp.format(column)} as {column}"
                if column == "event_at"
                else f"{column}::varchar as {column}"
                for column in EVENT
            )
            + f" from (values {values(events)}) as rows ({', '.join(EVENT)})"
        )
        for table, key in (
            ("stg_crm__contacts", "contact_id"),
            ("stg_shop__customers", "customer_id"),
        ):
            rows = CONTACTS if key == "contact_id" else CUSTOMERS
            con.execute(
                f"create or replace table staging.{table} as select id::varchar as {key},"
                " email::varchar as email, phone::varchar as phone,"
                " cast(created_at as timestamp) as created_at,"
                " cast(null as timestamp) as updated_at, cast(null as timestamp) as _loaded_at"
                f" from (values {values(rows)}) as rows ({', '.join(RECORD)})"
            )
        con.execute(
            "create or replace table staging.stg_shop__orders as select"
            " 'o' || row_number() over () as order_id, id::varchar as customer_id,"
            " email::varchar as email, phone::varchar as phone,"
            " cast(created_at as timestamp) as created_at"
            f" from (values {values(ORDERS)}) as rows ({', '.join(RECORD)})"
        )
        con.execute(
            "create or replace table staging.stg_privacy__deletion_requests as select"
            " request_id::varchar as request_id, identifier_type::varchar as identifier_type,"
            " identifier_value::varchar as identifier_value,"
            " cast(requested_at as timestamp) as requested_at"
            f" from (values {values(DELETIONS)})"
            " as rows (request_id, identifier_type, identifier_value, requested_at)"
        )


def build(work_dir: Path, *extra: str) -> list[str]:
    """dbt builds the link rules and the identity models (not their upstream) once."""
    lines: list[str] = []

    def on_event(event) -> None:
        if event.info.name == "JinjaLogInfo":
            lines.append(event.data.msg)

    result = invoke_dbt(
        [
            "build",
            "--select",
            " ".join(IDENTITY_MODELS),
            "--resource-type",
            "model",
            "--resource-type",
            "seed",
            "--target",
            "dev",
            "--target-path",
            str(work_dir / "target"),
            "--log-path",
            str(work_dir / "logs"),
            "--quiet",
            *extra,
        ],
        callbacks=[on_event],
    )
    assert result.success, result.exception
    return lines


def person_id(identifier: str) -> str:
    return "p_" + hashlib.md5(identifier.encode()).hexdigest()[:20]


class Persons:
    """int_identity_persons (and int_identity_resolved) of the fixture warehouse."""

    def __init__(self, path: Path) -> None:
        with duckdb.connect(str(path), read_only=True) as con:
            rows = con.execute(
                "select identifier_type, identifier_value, person_id, is_hub"
                " from intermediate.int_identity_persons"
            ).fetchall()
            self.resolved_rows = con.execute(
                "select count(*) from intermediate.int_identity_resolved"
            ).fetchone()[0]
            self.tables = {
                name
                for (name,) in con.execute(
                    "select table_name from duckdb_tables() where schema_name = 'intermediate'"
                ).fetchall()
            }
        self.person_of = {f"{kind}:{value}": person for kind, value, person, _ in rows}
        self.hubs = {f"{kind}:{value}" for kind, value, _, is_hub in rows if is_hub}

    def members(self, identifier: str) -> set[str]:
        person = self.person_of[identifier]
        return {key for key, value in self.person_of.items() if value == person}


@pytest.fixture(scope="module")
def fixture_build(warehouse: Warehouse, tmp_path_factory) -> tuple[Persons, Persons, list[str]]:
    """Run 1 on the scenarios; run 2 (incremental) after a late event joins two browsers."""
    work_dir = tmp_path_factory.mktemp("identity_models")
    write_staging(warehouse.path)
    build(work_dir)
    first = Persons(warehouse.path)
    late = ("identify", "stable-new", None, None, "stable-old@x.io", None, None, "2026-03-01")
    write_staging(warehouse.path, [late])
    log_lines = build(work_dir)
    return first, Persons(warehouse.path), log_lines


def test_a_multi_hop_chain_is_one_person_named_after_its_first_seen_identifier(fixture_build):
    persons, _, _ = fixture_build
    chain = {
        "anonymous_id:chain-anon",
        "customer_id:chain-cust",
        "email:chain@x.io",
        "contact_id:chain-k",
        "phone:+14155550101",
        "email:chain-guest@x.io",
    }
    assert persons.members("email:chain-guest@x.io") == chain
    # Seen first (2026-01-01, with the browser on one event): ties go to the customer id.
    assert persons.person_of["email:chain@x.io"] == person_id("customer_id:chain-cust")


def test_strong_evidence_decides_before_a_browser_can_merge_two_customers(fixture_build):
    persons, _, _ = fixture_build
    assert persons.members("customer_id:strong-ann") == {
        "customer_id:strong-ann",
        "email:strong-ann@x.io",
    }
    assert persons.members("customer_id:strong-bob") == {
        "customer_id:strong-bob",
        "email:strong-bob@x.io",
    }
    assert persons.members("anonymous_id:strong-anon") == {"anonymous_id:strong-anon"}


def test_a_weak_id_seen_with_two_strong_persons_merges_neither(fixture_build):
    persons, _, _ = fixture_build
    assert persons.members("customer_id:tablet-c1") == {
        "customer_id:tablet-c1",
        "email:tablet-c1@x.io",
    }
    assert persons.members("customer_id:tablet-c2") == {
        "customer_id:tablet-c2",
        "email:tablet-c2@x.io",
    }
    assert persons.members("anonymous_id:tablet-anon") == {
        "anonymous_id:tablet-anon",
        "device_id:tablet-dev",
    }


def test_an_identifier_over_the_hub_threshold_is_a_hub_and_links_nobody(fixture_build):
    persons, _, _ = fixture_build
    office = "phone:+14155550199"  # five contacts: more than the threshold of 3
    assert persons.hubs == {office}
    assert persons.members(office) == {office}
    assert persons.members("contact_id:hub-k1") == {"contact_id:hub-k1", "email:hub-k1@x.io"}
    assert persons.members("contact_id:hub-k2") == {"contact_id:hub-k2"}


def test_an_identifier_at_the_hub_threshold_still_links(fixture_build):
    persons, _, _ = fixture_build
    shared = "phone:+14155550177"  # three contacts: not more than 3
    assert persons.members(shared) == {
        shared,
        "contact_id:edge-k1",
        "contact_id:edge-k2",
        "contact_id:edge-k3",
    }


def test_an_email_two_customers_claim_joins_neither_one_customer_id_per_person(fixture_build):
    persons, _, _ = fixture_build
    assert persons.members("customer_id:limit-c1") == {"customer_id:limit-c1"}
    assert persons.members("customer_id:limit-c2") == {"customer_id:limit-c2"}
    assert persons.members("email:limit-shared@x.io") == {"email:limit-shared@x.io"}
    for identifier in persons.person_of:
        customers = [m for m in persons.members(identifier) if m.startswith("customer_id:")]
        assert len(customers) <= 1, identifier


def test_a_placeholder_nulled_in_staging_never_links(fixture_build):
    persons, _, _ = fixture_build
    assert not any("test@test.com" in identifier for identifier in persons.person_of)
    assert persons.members("anonymous_id:ph-anon1") == {"anonymous_id:ph-anon1"}
    assert persons.members("anonymous_id:ph-anon2") == {"anonymous_id:ph-anon2"}
    assert persons.members("customer_id:ph-c1") == {"customer_id:ph-c1"}


def test_an_erasure_splits_the_person_and_erased_identifiers_are_gone(fixture_build):
    persons, _, _ = fixture_build
    assert "email:erase-eve@x.io" not in persons.person_of
    assert "anonymous_id:erase-anon0" not in persons.person_of
    # Linked only through the erased email: two persons now, each its own founder.
    assert persons.members("anonymous_id:erase-anon1") == {"anonymous_id:erase-anon1"}
    assert persons.person_of["anonymous_id:erase-anon2"] == person_id("anonymous_id:erase-anon2")


def test_a_merge_keeps_the_oldest_founders_person_id_and_re_solves_only_what_changed(
    fixture_build,
):
    first, second, log_lines = fixture_build
    old, new = "anonymous_id:stable-old", "anonymous_id:stable-new"
    assert first.person_of[old] != first.person_of[new]
    assert second.person_of[new] == second.person_of[old] == first.person_of[old]
    # The founder is the oldest identifier (the email ties with its browser and wins by type).
    assert second.person_of[old] == person_id("email:stable-old@x.io")
    # Everyone else keeps their person id.
    unchanged = {key for key in first.person_of if "stable" not in key}
    assert {key: second.person_of[key] for key in unchanged} == {
        key: first.person_of[key] for key in unchanged
    }
    solved = [line for line in log_lines if "incremental run, re-solved" in line]
    assert len(solved) == 1
    re_solved, total = (int(word) for word in solved[0].split() if word.isdigit())
    assert 0 < re_solved < total


def test_the_solve_leaves_only_the_models_and_their_state_in_the_schema(fixture_build):
    _, second, _ = fixture_build
    scratch = {name for name in second.tables if "__" in name}
    assert scratch == {"int_identity_resolved__state__nodes", "int_identity_resolved__state__edges"}
    assert second.resolved_rows == len(second.person_of) + 2  # + the two erased identifiers
