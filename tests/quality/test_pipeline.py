"""The GX checks in the real Dagster job (`cdp run`): the demo passes every check and
writes results and Data Docs; planted faults fail exactly their checks; a failed
blocking check stops what is downstream and the CLI names it (a consent file without
its status column stops dbt; an identity cluster that explodes stops the profiles,
activation and the serving copy)."""

import html
import json
import random
import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import phonenumbers
import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.pipeline import RunSummary, run_pipeline
from orchestration.quality.results import RESULTS_TABLE
from orchestration.settings import PROJECT_ROOT, Settings
from tests.quality.helpers import (
    copy_warehouse,
    gx_check_names,
    read_csv,
    resolved_suites,
    rewrite_csv,
    write_csv,
)

pytestmark = pytest.mark.slow

SEEDS = PROJECT_ROOT / "seeds"
# One fault per (table, check): the check meant to catch it, and only that one.
PLANTED = {
    "raw/shop_order_items:volume_within_band_of_previous_loads": "a batch with half the rows",
    "raw/crm_tickets:quarantined_share_below_threshold": "30% of rows with untypeable dates",
    "raw/crm_accounts:expected_columns_delivered": "the domain column no longer sent",
    "staging/stg_shop__customers:valid_email_share": "a column of broken emails",
    "staging/stg_crm__contacts:e164_phone_share": "phones that are not phone numbers",
    "staging/stg_crm__deals:currency_known_to_fx_rates": "30% of deals in an unknown currency",
    "staging/stg_shop__orders:created_at_not_in_future": "new orders dated 3 years ahead",
    "staging/stg_tracking__events:event_type_in_segment_spec": "30% of events of type click",
}
# The one blocking fault of the run: it stops what is downstream of identity_map.
EXPLODING_CLUSTER = "marts/identity_map:identity_health_within_bounds"
CHAIN_ORDERS = 250


def latest_results(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            f"""select asset_key || ':' || expectation, success, observed_value, details
                from {RESULTS_TABLE}
                where run_id = (
                    select run_id from {RESULTS_TABLE} order by validated_at desc limit 1
                )"""
        ).fetchall()


def test_the_demo_passes_every_gx_check_and_writes_results_and_data_docs(demo_build, demo_db):
    assert demo_build.success, demo_build.render()
    assert not demo_build.checks_warned
    assert not demo_build.checks_failed
    rows = demo_db.execute(
        f"select run_id, asset_key || ':' || expectation, success from {RESULTS_TABLE}"
    ).fetchall()
    assert len({row[0] for row in rows}) == 1
    assert sorted(row[1] for row in rows) == sorted(gx_check_names())
    assert all(row[2] for row in rows)

    index = demo_build.warehouse.parent / "data_docs" / "index.html"
    assert f"GX Data Docs: {index} (every outcome also in {RESULTS_TABLE})" in demo_build.results
    assert f"GX Data Docs: {index}" in demo_build.render()
    page = index.read_text()
    for suite in resolved_suites():
        for target in suite.targets:
            assert suite.gx_suite_name(target) in page


# ---- planted faults ----------------------------------------------------------------


def plant_faults(raw_dir: Path) -> None:
    """Rewrite or add raw files of the demo folder, one fault per table (see PLANTED).
    Faults land on new keys or keep every key, so no other check has a reason to fire."""
    # Half the rows: the loader sees a new delivery of the file with 152 of its 304 rows.
    rewrite_csv(raw_dir / "shop_order_items.csv", lambda i, row: row if i % 2 == 0 else None)

    def untypeable(index: int, row: dict) -> dict:
        if index % 10 < 3:
            row["created_at"] = "not-a-date"
        return row

    rewrite_csv(raw_dir / "crm_tickets.csv", untypeable)
    rewrite_csv(raw_dir / "crm_accounts.csv", lambda i, row: row, drop_columns=("domain",))

    def broken_email(index: int, row: dict) -> dict:
        row["email"] = row["email"].replace("@", " at ") if row["email"] else "nobody at all"
        return row

    rewrite_csv(raw_dir / "shop_customers.csv", broken_email)

    def broken_phone(index: int, row: dict) -> dict:
        row["phone"] = "ask reception"
        return row

    rewrite_csv(raw_dir / "crm_contacts.csv", broken_phone)

    def unknown_currency(index: int, row: dict) -> dict:
        if row["amount"] and index % 10 < 3:
            row["currency"] = "ABC"
        return row

    rewrite_csv(raw_dir / "crm_deals.csv", unknown_currency)

    # New orders (new keys: nothing staged before disappears), as many rows as an
    # average order file, 30% of them created three years after they arrive.
    header, rows = read_csv(raw_dir / "shop_orders" / "part-00001.csv")
    known = {"USD", "EUR", "GBP", "CAD", "AUD", "JPY"}
    clean = [
        row
        for row in rows
        if row["order_id"] and row["currency"] in known and row["total"]
        if not row["total"].startswith("-") and row["created_at"][:2] == "20"
    ]
    new_orders = []
    order_ids: list[str] = []
    for row in clean[:253]:
        order = dict(row, order_id="F" + row["order_id"])
        if order["order_id"] not in order_ids:
            order_ids.append(order["order_id"])
        if order_ids.index(order["order_id"]) % 10 < 3:
            order["created_at"] = "2029-11-01T00:00:00Z"
        new_orders.append(order)
    write_csv(raw_dir / "shop_orders" / "part-00003.csv", header, new_orders)

    # A second events batch of new messages, 30% of them of a type Segment does not have.
    lines = (raw_dir / "events" / "part-00001.jsonl").read_text().splitlines()
    chooser = random.Random(6)
    batch = []
    for line in lines:
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            batch.append(line)
            continue
        if isinstance(message, dict) and message.get("messageId"):
            message["messageId"] = "B2-" + message["messageId"]
            if chooser.random() < 0.3:
                message["type"] = "click"
        batch.append(json.dumps(message))
    (raw_dir / "events" / "part-00002.jsonl").write_text("\n".join(batch) + "\n")

    # Guest orders in a hub-free chain (EXPLODING_CLUSTER), as many as an average file.
    write_csv(raw_dir / "shop_orders" / "part-00004.csv", header, chain_of_guest_orders())


def chain_of_guest_orders(count: int = CHAIN_ORDERS) -> list[dict[str, str]]:
    """Guest orders that each share a phone or an email with the previous one: order 2i
    has (email i, phone i), order 2i+1 (email i+1, phone i). No identifier is linked to
    more than two of another type, so the hub guard does not fire, and there is no
    customer id, so no limit either: identity resolution joins all of them into one
    person of 2 x 125 + 1 identifiers (below the dbt test's 500)."""
    orders = []
    for index in range(count):
        orders.append(
            {
                "order_id": f"CHAIN{index:05d}",
                "customer_id": "",
                "email": f"chain.link{(index + 1) // 2:03d}@gmail.com",
                "phone": f"+447450{100000 + index // 2}",
                "status": "paid",
                "currency": "USD",
                "subtotal": "40.00",
                "discount": "0.00",
                "tax": "3.20",
                "shipping": "0.00",
                "total": "43.20",
                "channel": "web",
                "created_at": "2026-10-20T12:00:00Z",
                "updated_at": "2026-10-20T12:00:00Z",
            }
        )
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(o["phone"])) for o in orders)
    return orders


@pytest.fixture(scope="module")
def faulty_build(demo_build: RunSummary, tmp_path_factory: pytest.TempPathFactory) -> RunSummary:
    """The demo warehouse, then a second run on the demo folder with the faults planted."""
    root = tmp_path_factory.mktemp("faults")
    warehouse = copy_warehouse(demo_build, root)
    raw_dir = root / "raw"
    shutil.copytree(SEEDS, raw_dir)
    plant_faults(raw_dir)
    settings = Settings.from_env({}).with_overrides(
        raw_dir=raw_dir,
        warehouse=warehouse,
        exports_dir=root / "exports",
        serving_dir=root / "serving",
        data_docs_dir=root / "data_docs",
    )
    return run_pipeline(settings, instance=dg.DagsterInstance.ephemeral())


def test_planted_faults_fail_exactly_their_checks_and_nothing_else(faulty_build):
    # The raw and staging faults are warnings; the exploding cluster fails its blocking
    # check; no other check (GX or dbt) warns or fails.
    assert not faulty_build.success
    assert set(faulty_build.checks_warned) == set(PLANTED)
    assert faulty_build.checks_failed == [EXPLODING_CLUSTER]
    assert faulty_build.checks_blocking == [EXPLODING_CLUSTER]
    failed = {row[0] for row in latest_results(faulty_build.warehouse) if not row[1]}
    assert failed == {*PLANTED, EXPLODING_CLUSTER}


def test_an_exploding_cluster_stops_profiles_and_serving_and_the_summary_names_it(
    faulty_build, demo_db
):
    rendered = faulty_build.render()
    assert rendered.startswith("cdp run FAILED")
    assert f"FAILED CHECK {EXPLODING_CLUSTER}" in rendered
    assert (
        f"STOPPED BY BLOCKING CHECK {EXPLODING_CLUSTER}: assets downstream of it did not run"
        in rendered
    )
    # The only failed step is the check's own: everything after it was skipped.
    assert [failure.split(":")[0] for failure in faulty_build.failures] == [
        "gx_marts__identity_health"
    ]
    profiles = "select count(*), sum(order_count) from marts.customer_profiles"
    with duckdb.connect(str(faulty_build.warehouse), read_only=True) as con:
        # Identity ran: the chain is one person ...
        largest = con.execute(
            "select count(*), count(case when identifier_type = 'email' then 1 end) "
            "from marts.identity_map group by person_id order by 1 desc limit 1"
        ).fetchall()
        # ... but customer_profiles was not rebuilt on it ...
        profiles_after = con.execute(profiles).fetchall()
        chain_profiles = con.execute(
            "select count(*) from marts.customer_profiles where email like 'chain.link%'"
        ).fetchall()
        (details,) = con.execute(
            f"select details from {RESULTS_TABLE} "
            "where asset_key || ':' || expectation = ? and not success",
            [EXPLODING_CLUSTER],
        ).fetchall()[0]
    assert largest == [(CHAIN_ORDERS + 1, CHAIN_ORDERS // 2 + 1)]
    assert profiles_after == demo_db.execute(profiles).fetchall()
    assert chain_profiles == [(0,)]
    # ... and the serving copy, downstream of every mart, was not published.
    assert not any("serving copy" in line for line in faulty_build.results)
    assert not (faulty_build.warehouse.parent / "serving").exists()
    unexpected = {(r["metric"], r["dimension"]) for r in json.loads(details)["unexpected_rows"]}
    assert unexpected == {
        ("largest_person_identifiers", "all"),
        ("max_identifiers_per_person", "email"),
        ("max_identifiers_per_person", "phone"),
    }


@pytest.mark.parametrize("check", sorted(PLANTED))
def test_each_planted_fault_is_visible_in_the_results_and_the_summary(faulty_build, check):
    (row,) = [row for row in latest_results(faulty_build.warehouse) if row[0] == check]
    assert row[1] is False
    details = json.loads(row[3])
    assert details["suite_file"].endswith(".yml")
    assert f"warning: check {check}" in faulty_build.render()


def test_observed_values_show_what_went_wrong(faulty_build):
    observed = {row[0]: json.loads(row[2]) for row in latest_results(faulty_build.warehouse)}
    assert observed["raw/shop_order_items:volume_within_band_of_previous_loads"] == (
        pytest.approx(152 / 304)
    )
    assert observed["raw/crm_tickets:quarantined_share_below_threshold"] == pytest.approx(
        0.3, abs=0.05
    )
    assert observed["raw/crm_accounts:expected_columns_delivered"] == {"missing": ["domain"]}
    assert observed["staging/stg_shop__customers:valid_email_share"]["unexpected_percent"] > 90
    deals = observed["staging/stg_crm__deals:currency_known_to_fx_rates"]
    assert deals["unexpected_count"] > 0


def page_text(path: Path) -> str:
    """The visible text of a Data Docs page."""
    text = re.sub(r"<(script|style).*?</\1>", " ", path.read_text(), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))


def test_the_data_docs_show_the_failed_validation_and_its_bad_values(faulty_build):
    index = faulty_build.warehouse.parent / "data_docs" / "index.html"
    folder = index.parent / "validations" / "staging" / "stg_shop__customers"
    (page,) = folder.rglob("*.html")
    text = page_text(page)
    assert "Status: Failed" in text
    assert "Unsuccessful Expectations 1" in text
    # The broken emails are listed as unexpected values, masked (orchestration/pii.py):
    # an e-mail column's value shows no part of the address it was meant to be.
    assert re.search(r"Sampled Unexpected Values (\*\*\* ){3}", text)
    assert not re.search(r"\S+ at \S+\.\w+", text)
    deals = next((index.parent / "validations" / "staging" / "stg_crm__deals").rglob("*.html"))
    assert "Status: Failed" in page_text(deals)  # unknown currency
    healthy = next(
        (index.parent / "validations" / "staging" / "stg_privacy__consent_changes").rglob("*.html")
    )
    assert "Status: Succeeded" in page_text(healthy)


# ---- blocking --------------------------------------------------------------------


def test_a_consent_file_without_status_stops_the_build_and_the_cli_names_the_check(
    demo_build, tmp_path, monkeypatch
):
    warehouse = copy_warehouse(demo_build, tmp_path)
    raw_dir = tmp_path / "raw"
    shutil.copytree(SEEDS, raw_dir)
    rewrite_csv(raw_dir / "consent.csv", lambda i, row: row, drop_columns=("status",))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("CDP_DATA_DOCS_DIR", str(tmp_path / "data_docs"))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        staged_before = con.execute(
            "select max(_loaded_at) from staging.base_privacy__consent_changes"
        ).fetchall()

    result = CliRunner().invoke(
        main, ["run", "--raw-dir", str(raw_dir), "--warehouse", str(warehouse)]
    )

    assert result.exit_code == 1, result.output
    assert "cdp run FAILED" in result.output
    assert "FAILED CHECK raw/consent:expected_columns_delivered" in result.output
    assert (
        "STOPPED BY BLOCKING CHECK raw/consent:expected_columns_delivered: "
        "assets downstream of it did not run" in result.output
    )
    assert "models materialised: 0" in result.output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # The new consent file was loaded, but dbt did not run: staging is as before.
        assert con.execute("select count(*) from raw.consent").fetchall()[0][0] == 2 * 593
        assert (
            con.execute(
                "select max(_loaded_at) from staging.base_privacy__consent_changes"
            ).fetchall()
            == staged_before
        )
