"""A suite that cannot be evaluated fails its checks with the reason, never passes."""

import datetime as dt
from textwrap import dedent

import duckdb

from orchestration.quality.suite_files import load_suite
from orchestration.quality.validation import DataDocs, validate_target
from orchestration.warehouse import DuckDBWarehouse
from tests.quality.helpers import run_suites


def test_a_read_that_fails_fails_every_check_of_the_suite_with_the_error(tmp_path):
    warehouse = tmp_path / "cdp.duckdb"
    duckdb.connect(str(warehouse)).close()
    outcomes = run_suites(warehouse, tmp_path / "docs", "run-1", {"staging/stg_crm__deals"}, None)
    assert {o.expectation.name for o in outcomes} == {
        "currency_known_to_fx_rates",
        "created_at_not_in_future",
    }
    assert not any(o.success for o in outcomes)
    assert all("stg_finance__fx_rates" in o.details["error"] for o in outcomes)


def test_an_expectation_on_a_column_the_read_does_not_return_fails_with_gx_error(tmp_path):
    suites_dir = tmp_path / "suites"
    (suites_dir / "staging").mkdir(parents=True)
    (suites_dir / "staging" / "orders.yml").write_text(
        dedent(
            """\
            description: Orders.
            asset: staging/stg_shop__orders
            read: {table: main.orders, sample_rows: null}
            expectations:
              - name: totals_not_negative
                description: No negative totals.
                type: expect_column_values_to_be_between
                kwargs: {column: total, min_value: 0}
              - name: ids_present
                description: Every order has an id.
                type: expect_column_values_to_not_be_null
                kwargs: {column: order_id}
            """
        )
    )
    suite = load_suite(suites_dir / "staging" / "orders.yml", suites_dir)
    warehouse = tmp_path / "cdp.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table main.orders as select 'o1' as order_id, 10 as amount")
        run = validate_target(
            DuckDBWarehouse(con, owned=False),
            DataDocs.for_folder(tmp_path / "docs"),
            suite,
            suite.targets[0],
            run_id="run-1",
            run_time=dt.datetime.now(dt.UTC),
            raw_schema="raw",
        )
    outcomes = {o.expectation.name: o for o in run.outcomes}
    assert not outcomes["totals_not_negative"].success
    assert (
        'column "total" in BatchData does not exist'
        in (outcomes["totals_not_negative"].details["error"])
    )
    assert outcomes["ids_present"].success


def test_a_failed_check_on_a_metric_frame_keeps_the_unexpected_rows_whole(tmp_path):
    suites_dir = tmp_path / "suites"
    (suites_dir / "marts").mkdir(parents=True)
    (suites_dir / "marts" / "nulls.yml").write_text(
        dedent(
            """\
            description: Null counts per column.
            asset: marts/customer_profiles
            read:
              sample_rows: null
              query: |
                with counts as (select count(*) - count(columns('^consent_')) from main.p)
                unpivot counts on columns(*) into name consent_column value null_profiles
            expectations:
              - name: never_null
                description: No nulls.
                type: expect_column_values_to_be_between
                kwargs: {column: null_profiles, max_value: 0}
            """
        )
    )
    suite = load_suite(suites_dir / "marts" / "nulls.yml", suites_dir)
    with duckdb.connect(str(tmp_path / "cdp.duckdb")) as con:
        con.execute(
            "create table main.p as select 'granted' as consent_email, "
            "case when range < 3 then null else 'none' end as consent_sms from range(10)"
        )
        run = validate_target(
            DuckDBWarehouse(con, owned=False),
            DataDocs.for_folder(tmp_path / "docs"),
            suite,
            suite.targets[0],
            run_id="run-1",
            run_time=dt.datetime.now(dt.UTC),
            raw_schema="raw",
        )
    (outcome,) = run.outcomes
    assert not outcome.success
    # GX lists the failing value (3); the row says which column it belongs to.
    assert outcome.details["result"]["partial_unexpected_list"] == [3]
    assert outcome.details["unexpected_rows"] == [
        {"consent_column": "consent_sms", "null_profiles": 3}
    ]


def test_sample_values_of_an_email_column_are_masked_in_results_and_data_docs(tmp_path):
    suites_dir = tmp_path / "suites"
    (suites_dir / "staging").mkdir(parents=True)
    (suites_dir / "staging" / "people.yml").write_text(
        dedent(
            """\
            description: People.
            asset: staging/stg_shop__customers
            read: {table: main.people, sample_rows: null}
            expectations:
              - name: emails_shaped
                description: Every e-mail has an @.
                type: expect_column_values_to_match_regex
                kwargs: {column: email, regex: "^[^@]+@[^@]+$"}
              - name: phones_e164
                description: Phones in E.164.
                type: expect_column_values_to_match_regex
                kwargs: {column: phone, regex: "^[+][0-9]+$"}
            """
        )
    )
    suite = load_suite(suites_dir / "staging" / "people.yml", suites_dir)
    docs_dir = tmp_path / "docs"
    with duckdb.connect(str(tmp_path / "cdp.duckdb")) as con:
        con.execute(
            "create table main.people as select * from (values "
            "('ann@example.com', '+14155550123'), ('zed.quill@x@example.org', '4155550188')"
            ") t(email, phone)"
        )
        run = validate_target(
            DuckDBWarehouse(con, owned=False),
            DataDocs.for_folder(docs_dir),
            suite,
            suite.targets[0],
            run_id="run-1",
            run_time=dt.datetime.now(dt.UTC),
            raw_schema="raw",
        )
    outcomes = {o.expectation.name: o for o in run.outcomes}
    assert not outcomes["emails_shaped"].success
    assert outcomes["emails_shaped"].details["result"]["partial_unexpected_list"] == [
        "z***@x@example.org"
    ]
    assert outcomes["phones_e164"].details["result"]["partial_unexpected_list"] == ["41******88"]
    stored = "\n".join(
        path.read_text(errors="replace")
        for path in tmp_path.rglob("*")
        if path.is_file() and path.suffix in {".json", ".html"}
    )
    assert "z***@x@example.org" in stored or "41******88" in stored  # the values are there
    assert "zed.quill" not in stored
    assert "4155550188" not in stored
