"""Guarded mass changes: a sync that would take out or add far more of a destination's
audience than usual is held (nothing sent), fails the export's check with the numbers, and
goes through once confirmed."""

from __future__ import annotations

import dataclasses

import dagster as dg
import duckdb
import pytest

from orchestration.activation.destinations import parse_destinations
from orchestration.activation.destinations.base import Operation
from orchestration.activation.segment_files import SEGMENTS_DIR, load_segment_definitions
from orchestration.activation.sync import sync_destination
from orchestration.activation.sync.plan import (
    MassChangePolicy,
    PlannedRow,
    StateRow,
    mass_change,
)
from orchestration.assets.exports import (
    MASS_CHANGE_CHECK,
    ExportsFolderResource,
    build_export_assets,
    export_key,
    mass_change_policy,
)
from orchestration.pipeline import run_pipeline, summarise
from orchestration.reports import SUMMARY_KEY
from orchestration.resources import WarehouseResource
from orchestration.settings import Settings
from tests.activation.loopback import loopback
from tests.activation.payloads import person, run_info, write_payloads
from tests.commands import cdp

POLICY = MassChangePolicy(max_remove_share=0.2, max_add_factor=10, min_audience=10)


def held_state(count: int) -> dict[str, StateRow]:
    return {f"p{n}": StateRow("h", frozenset({("person_id", f"p{n}")})) for n in range(count)}


def removals(*numbers: int) -> list[PlannedRow]:
    return [PlannedRow(None, None, {}, frozenset({("person_id", f"p{n}")})) for n in numbers]


def adds(*numbers: int) -> list[PlannedRow]:
    return [PlannedRow(f"p{n}", "h", {}, frozenset({("person_id", f"p{n}")})) for n in numbers]


def plan(remove=(), add=()):  # type: ignore[no-untyped-def]
    return {Operation.REMOVE: removals(*remove), Operation.UPDATE: [], Operation.ADD: adds(*add)}


def guard(changes, state, policy=POLICY):  # type: ignore[no-untyped-def]
    return mass_change(changes, state, policy, segment="cart", destination="hook")


# ---- the decision, pure --------------------------------------------------------------


def test_removing_up_to_the_share_is_not_a_mass_change():
    assert guard(plan(remove=range(20)), held_state(100)) is None


def test_removing_more_than_the_share_is_held_with_the_numbers():
    held = guard(plan(remove=range(21)), held_state(100))
    assert held is not None
    assert (held.current, held.removes, held.adds) == (100, 21, 0)
    assert held.reasons == ("would remove 21 of 100 members (21%, more than 20%)",)
    assert "--confirm-mass-change cart" in held.describe()


def test_removing_everyone_is_held():
    held = guard(plan(remove=range(50)), held_state(50))
    assert held is not None
    assert held.removes == 50


def test_adding_up_to_the_factor_is_not_a_mass_change():
    assert guard(plan(add=range(100, 200)), held_state(10)) is None


def test_adding_more_than_the_factor_is_held():
    held = guard(plan(add=range(100, 201)), held_state(10))
    assert held is not None
    assert held.adds == 101
    assert held.reasons == ("would add 101 to 10 members (10.1x, more than 10x)",)


def test_both_rules_can_hold_one_plan():
    held = guard(plan(remove=range(5), add=range(100, 300)), held_state(10))
    assert held is not None
    assert len(held.reasons) == 2


def test_a_first_sync_to_an_empty_destination_is_never_a_mass_change():
    assert guard(plan(add=range(100_000)), {}) is None


def test_an_audience_below_the_minimum_is_not_guarded():
    assert guard(plan(remove=range(9)), held_state(9)) is None
    assert guard(plan(remove=range(10)), held_state(10)) is not None


def test_a_person_keeping_one_of_two_keys_is_not_removed():
    # Ad platforms: a changed email takes one key out; the person stays in the audience.
    state = {
        f"p{n}": StateRow("h", frozenset({("email", f"e{n}"), ("phone", f"t{n}")}))
        for n in range(10)
    }
    changes = {
        Operation.REMOVE: [
            PlannedRow(None, None, {}, frozenset({("email", f"e{n}")})) for n in range(10)
        ],
        Operation.UPDATE: [],
        Operation.ADD: [],
    }
    assert guard(changes, state) is None


def test_a_full_resync_re_adding_present_members_is_not_an_add():
    assert guard(plan(add=range(10)), held_state(10), POLICY) is None


def test_persons_whose_keys_are_all_gone_do_not_count_as_the_audience():
    state = held_state(10) | {f"gone{n}": StateRow(None, frozenset()) for n in range(100)}
    assert guard(plan(remove=range(3)), state).current == 10


def test_the_policy_comes_from_the_settings():
    settings = Settings.from_env(
        {
            "CDP_MASS_CHANGE_MAX_REMOVE_SHARE": "0.5",
            "CDP_MASS_CHANGE_MAX_ADD_FACTOR": "3",
            "CDP_MASS_CHANGE_MIN_AUDIENCE": "7",
        }
    )
    assert mass_change_policy(settings) == MassChangePolicy(0.5, 3.0, 7)
    assert mass_change_policy(Settings.from_env({})) == MassChangePolicy(0.2, 10.0, 100)


# ---- through the real sync -------------------------------------------------------------


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


def hook(url: str):  # type: ignore[no-untyped-def]
    options = {"url": url, "batch_size": 100}
    return parse_destinations({"destinations": {"hook": {"type": "webhook", "options": options}}})[
        "hook"
    ]


def sync_log(con):  # type: ignore[no-untyped-def]
    return con.execute(
        "select run_id, members, adds, removes, batches_sent from activation.sync_log "
        "order by synced_at"
    ).fetchall()


def test_a_held_sync_sends_nothing_until_confirmed(con, tmp_path):
    with loopback() as server:
        target = hook(server.url)
        write_payloads(con, "cart", "hook", [person(n) for n in range(1, 41)])
        first = sync_destination(
            con, target, [("cart", {})], run_info(tmp_path, "r1"), guard=POLICY
        )
        assert first.total("adds") == 40  # a first sync is not a mass change
        sent_before = len(server.requests)

        # An upstream bug empties most of the segment: 30 of 40 would leave.
        write_payloads(con, "cart", "hook", [person(n) for n in range(1, 11)])
        held = sync_destination(con, target, [("cart", {})], run_info(tmp_path, "r2"), guard=POLICY)
        assert len(server.requests) == sent_before  # nothing sent
        (change,) = held.held
        assert (change.current, change.removes) == (40, 30)
        assert held.total("removes") == 0
        assert con.execute("select count(*) from activation.sync_outbox").fetchone() == (0,)
        assert con.execute("select count(*) from activation.sync_state").fetchone() == (40,)

        # Held again next run: the guard does not wear off by itself.
        again = sync_destination(
            con, target, [("cart", {})], run_info(tmp_path, "r3"), guard=POLICY
        )
        assert again.held
        assert len(server.requests) == sent_before

        # Confirmed: the removals go out and the state follows.
        confirmed = sync_destination(
            con,
            target,
            [("cart", {})],
            run_info(tmp_path, "r4"),
            guard=POLICY,
            confirmed=frozenset({"cart"}),
        )
        assert not confirmed.held
        assert confirmed.total("removes") == 30
        assert len(server.requests) == sent_before + 1
        assert server.requests[-1].body["operation"] == "remove"
    assert con.execute("select count(*) from activation.sync_state").fetchone() == (10,)
    assert [row[0] for row in sync_log(con)] == ["r1", "r2", "r3", "r4"]
    assert sync_log(con)[1] == ("r2", 10, 0, 0, 0)


# ---- through the export asset and its check ---------------------------------------------


@pytest.fixture
def webhook_segments(dbt_manifest):  # type: ignore[no-untyped-def]
    """The shipped segments that go to the webhook, and only there."""
    segments = load_segment_definitions(SEGMENTS_DIR)
    return [
        dataclasses.replace(item, destinations=("webhook",))
        for item in segments
        if "webhook" in item.destinations
    ]


def materialize_export(warehouse, exports, segments, url, confirm=()):  # type: ignore[no-untyped-def]
    destinations = parse_destinations(
        {"destinations": {"webhook": {"type": "webhook", "options": {"url": url}}}}
    )
    (export,) = build_export_assets(segments, destinations, POLICY)
    config = {"confirm_mass_change": list(confirm)} if confirm else {}
    return dg.materialize(
        [export],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "exports_folder": ExportsFolderResource(path=str(exports)),
        },
        run_config={"ops": {export.op.name: {"config": config}}},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def guard_check(result):  # type: ignore[no-untyped-def]
    (evaluation,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == MASS_CHANGE_CHECK
    ]
    return evaluation, {name: getattr(v, "value", v) for name, v in evaluation.metadata.items()}


def test_the_export_check_fails_with_the_numbers_and_confirmation_lets_it_through(
    tmp_path, webhook_segments
):
    warehouse = tmp_path / "cdp.duckdb"
    name = webhook_segments[0].name
    with loopback() as server:
        with duckdb.connect(str(warehouse)) as con:
            write_payloads(con, name, "webhook", [person(n) for n in range(1, 51)])
        first = materialize_export(warehouse, tmp_path / "exports", webhook_segments, server.url)
        assert first.success
        assert guard_check(first)[0].passed

        with duckdb.connect(str(warehouse)) as con:
            write_payloads(con, name, "webhook", [person(n) for n in range(1, 6)])
        sent = len(server.requests)
        held = materialize_export(warehouse, tmp_path / "exports", webhook_segments, server.url)
        evaluation, metadata = guard_check(held)
        assert not evaluation.passed
        assert evaluation.severity == dg.AssetCheckSeverity.ERROR
        assert metadata[f"{name}_current"] == 50
        assert metadata[f"{name}_removes"] == 45
        assert metadata["held_segments"] == 1
        assert f"--confirm-mass-change {name}" in metadata[SUMMARY_KEY]
        assert len(server.requests) == sent  # nothing sent
        # cdp run's summary names the failed check and prints the held line.
        summary = summarise(held, Settings.from_env({}), 0.0)
        assert f"exports/webhook:{MASS_CHANGE_CHECK}" in summary.checks_failed
        assert any(line.startswith(f"HELD {name} -> webhook") for line in summary.results)

        confirmed = materialize_export(
            warehouse, tmp_path / "exports", webhook_segments, server.url, confirm=[name]
        )
        assert guard_check(confirmed)[0].passed
        assert len(server.requests) == sent + 1
    with duckdb.connect(str(warehouse)) as con:
        assert con.execute("select count(*) from activation.sync_state").fetchone() == (5,)


@pytest.mark.slow
def test_cdp_runs_pipeline_holds_then_confirm_mass_change_lets_it_through(
    tmp_path, monkeypatch, dbt_manifest
):
    """`run_pipeline` (what `cdp run` calls) on the webhook export alone: the settings'
    guard holds the change, `confirm_mass_change` (the CLI's flag) passes it."""
    warehouse = tmp_path / "cdp.duckdb"
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    settings = Settings.from_env({}).with_overrides(
        warehouse=warehouse, exports_dir=tmp_path / "exports", mass_change_min_audience=10
    )
    only_webhook = dg.AssetSelection.assets(export_key("webhook"))
    with loopback() as server:
        monkeypatch.setenv("CDP_WEBHOOK_URL", server.url)
        with duckdb.connect(str(warehouse)) as con:
            write_payloads(con, "abandoned_cart", "webhook", [person(n) for n in range(1, 31)])
        first = run_pipeline(settings, selection=only_webhook)
        assert first.success, first.failures
        assert first.checks_failed == []

        with duckdb.connect(str(warehouse)) as con:
            write_payloads(con, "abandoned_cart", "webhook", [person(1)])
        sent = len(server.requests)
        held = run_pipeline(settings, selection=only_webhook)
        assert held.checks_failed == [f"exports/webhook:{MASS_CHANGE_CHECK}"]
        assert any("would remove 29 of 30 members" in line for line in held.results)
        assert "FAILED CHECK exports/webhook:mass_change_guard" in held.render()
        assert len(server.requests) == sent

        confirmed = run_pipeline(
            settings, selection=only_webhook, confirm_mass_change=["abandoned_cart"]
        )
        assert confirmed.checks_failed == []
        assert len(server.requests) == sent + 1


@pytest.mark.slow
def test_cdp_run_refuses_to_confirm_a_segment_that_does_not_exist(tmp_path, dbt_manifest):
    completed = cdp(
        "run",
        "--warehouse",
        tmp_path / "cdp.duckdb",
        "--confirm-mass-change",
        "churn_rsik",
        dagster_home=tmp_path / "dagster_home",
        timeout=300,
    )
    assert completed.returncode == 2
    assert "no segment named churn_rsik" in completed.stderr
    assert "churn_risk" in completed.stderr
    assert not (tmp_path / "cdp.duckdb").exists()
