"""Contract conformance: tables, columns, file layout, formats, and byte-level determinism."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cdp_dev.generate import DEFAULT_END_DATE, generate_raw_folder
from cdp_dev.generate.contract import load_contract
from orchestration.cli import main

CONTRACT = load_contract()


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_same_options_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    options = {"persons": 60, "days": 30, "fmt": "csv", "events_format": "jsonl", "progress": False}
    generate_raw_folder(tmp_path / "a", seed=5, truth_path=tmp_path / "a.json", **options)
    generate_raw_folder(tmp_path / "b", seed=5, truth_path=tmp_path / "b.json", **options)
    generate_raw_folder(tmp_path / "c", seed=6, **options)
    a, b, c = (_snapshot(tmp_path / x) for x in "abc")
    assert a == b
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert a.keys() == c.keys()
    assert a["events/part-00001.jsonl"] != c["events/part-00001.jsonl"]
    assert a["shop_customers.csv"] != c["shop_customers.csv"]


def test_truth_does_not_change_the_data(tmp_path: Path) -> None:
    """Tracking the truth must not consume randomness (off by default at scale)."""
    options = {"persons": 40, "days": 20, "seed": 9, "fmt": "parquet", "progress": False}
    generate_raw_folder(tmp_path / "with", truth_path=tmp_path / "t.json", **options)
    generate_raw_folder(tmp_path / "without", **options)
    assert _snapshot(tmp_path / "with") == _snapshot(tmp_path / "without")


def test_parquet_is_deterministic_and_rerun_replaces_output(tmp_path: Path) -> None:
    options = {"persons": 40, "days": 20, "seed": 2, "fmt": "parquet", "progress": False}
    generate_raw_folder(tmp_path / "x", **options)
    first = _snapshot(tmp_path / "x")
    generate_raw_folder(tmp_path / "x", **{**options, "fmt": "csv"})
    generate_raw_folder(tmp_path / "x", **options)
    assert _snapshot(tmp_path / "x") == first


def test_every_table_has_exactly_the_contract_columns(raw) -> None:
    for table, spec in CONTRACT.items():
        columns = [row[0] for row in raw.q(f"describe {table}")]
        assert columns == list(spec.columns), table
        assert raw.one(f"select count(*) from {table}") > 0, table


def test_csv_and_parquet_files_have_the_contract_header(flat_csv, batched) -> None:
    for table, spec in CONTRACT.items():
        for path in [*flat_csv.path.glob(f"{table}.csv"), *flat_csv.path.glob(f"{table}/*.csv")]:
            header = path.read_text(encoding="utf-8").split("\n", 1)[0]
            assert header.replace('"', "").split(",") == list(spec.columns), path
        cols = batched.q(
            f"describe select * from read_parquet('{batched.path}/{table}*/**')"
            if table != "fx_rates"
            else "describe fx_rates"
        )
        assert [c[0] for c in cols] == list(spec.columns)
        assert {c[1] for c in cols} == {"VARCHAR"}, table


def test_segment_jsonl_messages_use_camel_case_keys(demo) -> None:
    aliases = dict(CONTRACT["events"].jsonl_aliases)
    allowed = set(CONTRACT["events"].columns) | set(aliases) | {"integrations", "channel"}
    lines = [
        json.loads(line)
        for p in sorted((demo.path / "events").glob("*.jsonl"))
        for line in p.read_text(encoding="utf-8").splitlines()
    ]
    keys = set().union(*(m.keys() for m in lines))
    assert keys <= allowed
    assert {
        "messageId",
        "anonymousId",
        "userId",
        "previousId",
        "sentAt",
        "receivedAt",
        "originalTimestamp",
        "timestamp",
        "context",
        "properties",
        "traits",
    } <= keys
    mapped = {aliases.get(k, k) for k in keys} - {"integrations", "channel"}
    # The simulation makes no group calls and names pages in `properties` (finalize.py):
    # groupId, name and category are omitted, as Segment omits empty keys.
    assert mapped == set(CONTRACT["events"].columns) - {"group_id", "name", "category"}
    rudder = [m for m in lines if "originalTimestamp" in m]
    assert 0.05 < len(rudder) / len(lines) < 0.2
    assert not any("timestamp" in m for m in rudder)
    assert all(isinstance(m["context"], dict) for m in lines)
    assert any("integrations" in m for m in lines)
    assert any("channel" in m for m in lines)


def test_other_jsonl_tables_use_snake_case_and_keep_id_strings(all_jsonl) -> None:
    first = json.loads((all_jsonl.path / "shop_customers.jsonl").read_text().splitlines()[0])
    assert list(first) == list(CONTRACT["shop_customers"].columns)
    assert isinstance(first["customer_id"], str)
    assert first["accepts_marketing"] in (True, False)


def test_layouts_folder_and_single_file(demo, batched) -> None:
    assert (demo.path / "events").is_dir()
    assert (demo.path / "crm_accounts.csv").is_file()
    assert (demo.path / "fx_rates.csv").is_file()
    # the late-arriving order versions make shop_orders a folder of two batches
    assert sorted(p.name for p in (demo.path / "shop_orders").iterdir()) == [
        "part-00001.csv",
        "part-00002.csv",
    ]
    for table in CONTRACT:
        if table == "fx_rates":
            assert (batched.path / "fx_rates.parquet").is_file()
            continue
        parts = sorted((batched.path / table).glob("part-*.parquet"))
        assert parts, table
    assert len(list((batched.path / "events").glob("*.parquet"))) == 3
    assert not list(demo.path.glob("*.parquet"))


def test_history_window_and_default_end_date(demo) -> None:
    assert date(2026, 11, 1) == DEFAULT_END_DATE
    assert demo.truth["generator"]["end_date"] == "2026-11-01"
    lo, hi = demo.q(
        "select min(try_cast(received_at as timestamptz)), max(try_cast(received_at as "
        "timestamptz)) from events"
    )[0]
    assert lo.date() >= date(2026, 8, 4)
    assert hi.date() <= date(2026, 11, 2)


def test_cli_generate(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "generate",
            str(tmp_path / "out"),
            "--persons",
            "40",
            "--days",
            "10",
            "--format",
            "jsonl",
            "--end-date",
            "2026-01-31",
            "--truth",
            str(tmp_path / "t.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "events" in result.output
    assert "elapsed" in result.output
    assert (tmp_path / "out" / "events").is_dir()
    truth = json.loads((tmp_path / "t.json").read_text())
    assert truth["generator"]["start_date"] == "2026-01-22"


def test_rejects_too_few_persons(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="persons"):
        generate_raw_folder(tmp_path, persons=5, days=10, seed=1, fmt="csv", progress=False)


def test_committed_seeds_are_the_current_demo_output(demo) -> None:
    """`seeds/` must be regenerated whenever the generator changes (same options as `demo`)."""
    seeds = _snapshot(Path(__file__).resolve().parents[2] / "seeds")
    demo_files = _snapshot(demo.path)
    differing = sorted(
        k for k in seeds.keys() | demo_files.keys() if seeds.get(k) != demo_files.get(k)
    )
    assert not differing, (
        f"{differing}: regenerate with uv run cdp generate seeds --persons 300 --format csv "
        "--events-format jsonl --seed 42"
    )
