"""The generic file destination (CSV / Parquet), atomic writes, and config errors that
name the file and the entry."""

import csv
import json

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.activation.destinations import (
    DestinationConfigError,
    load_destinations,
    parse_destinations,
)
from orchestration.activation.destinations.file import FileDestination
from orchestration.activation.sync import sync_destination
from tests.activation.payloads import person, run_info, write_payloads


def file_destination(**options: object) -> FileDestination:
    destination = parse_destinations(
        {"destinations": {"file": {"type": "file", "options": options}}}
    )["file"]
    assert isinstance(destination, FileDestination)
    return destination


def export(tmp_path, destination, members, run_id="r1", minute=0):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    write_payloads(con, "winback", "file", members)
    result = sync_destination(
        con,
        destination,
        [("winback", {"code": "WIN10"})],
        run_info(tmp_path / "exports", run_id, minute),
    )
    con.close()
    return result


def test_csv_adds_then_removes_by_person_id(tmp_path):
    destination = file_destination(columns=["email", "first_name", "attributes"])
    export(tmp_path, destination, [person(1), person(2, attributes={"code": "VIP"})])
    (adds,) = (tmp_path / "exports" / "file").glob("*/winback__add__001__*.csv")
    with adds.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    # person_id always leads: it is the key a later removal names.
    assert list(rows[0]) == ["person_id", "email", "first_name", "attributes"]
    assert [(r["person_id"], r["email"]) for r in rows] == [
        ("p00001", "member1@example.com"),
        ("p00002", "member2@example.com"),
    ]
    # The segment's static attributes, overridden by the member's own.
    assert [json.loads(r["attributes"]) for r in rows] == [{"code": "WIN10"}, {"code": "VIP"}]

    result = export(tmp_path, destination, [person(2, attributes={"code": "VIP"})], "r2", 5)
    assert (result.total("adds"), result.total("removes")) == (0, 1)
    (removes,) = (tmp_path / "exports" / "file").glob("*/winback__remove__*.csv")
    assert removes.read_text() == "person_id\np00001\n"
    # One folder per run, each with its manifest; no temporary files left behind.
    folders = sorted(p.name for p in (tmp_path / "exports" / "file").iterdir())
    assert folders == ["20261122T100000Z_r1", "20261122T100500Z_r2"]
    manifest = json.loads((adds.parent / "manifest.json").read_text())
    assert manifest["files"][0]["rows"] == 2
    assert not list((tmp_path / "exports").rglob("*.tmp"))


def test_a_changed_member_is_an_update_file(tmp_path):
    destination = file_destination()
    export(tmp_path, destination, [person(1)])
    result = export(tmp_path, destination, [person(1, first_name="Anna")], "r2", 5)
    assert (result.total("adds"), result.total("updates")) == (0, 1)
    (update,) = (tmp_path / "exports" / "file").glob("*/winback__update__*.csv")
    assert "Anna" in update.read_text()


def test_parquet_files(tmp_path):
    export(tmp_path, file_destination(format="parquet"), [person(1), person(2)])
    (path,) = (tmp_path / "exports" / "file").glob("*/winback__add__*.parquet")
    table = pq.read_table(path)
    assert table.column("person_id").to_pylist() == ["p00001", "p00002"]
    assert table.column("email").to_pylist() == ["member1@example.com", "member2@example.com"]


def test_no_changes_no_files(tmp_path):
    destination = file_destination()
    export(tmp_path, destination, [person(1)])
    result = export(tmp_path, destination, [person(1)], "r2", 5)
    assert result.total("adds") == result.total("removes") == 0
    assert result.delivery == {"files": 0}
    assert len(list((tmp_path / "exports" / "file").iterdir())) == 1


def test_the_shipped_destinations_config_loads():
    destinations = load_destinations()
    assert {name: d.type_name for name, d in destinations.items()} == {
        "google_ads": "google_ads_customer_match",
        "meta": "meta_custom_audiences",
        "file": "file",
        "webhook": "webhook",
    }


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"type": "ftp"}, r"destinations.yml: destination 'bad': unknown type 'ftp' \(known: "),
        ({"type": "file", "options": {"fromat": "csv"}}, r"'bad' \(file\): fromat: Extra inputs"),
        ({"type": "file", "options": {"format": "xlsx"}}, r"'bad' \(file\): format: Input should"),
        ({"type": "file", "options": {"columns": ["ssn"]}}, r"'bad' \(file\): columns.0"),
        ({"type": "webhook", "options": {"batch_size": 0}}, r"'bad': batch_size must be"),
        ({"typ": "file"}, r"'bad': type: Field required; typ: Extra inputs"),
    ],
)
def test_a_bad_destination_entry_names_the_file_and_the_entry(tmp_path, entry, message):
    path = tmp_path / "destinations.yml"
    path.write_text(json.dumps({"destinations": {"bad": entry}}))
    with pytest.raises(DestinationConfigError, match=message):
        load_destinations(path)


def test_a_bad_destinations_file_is_named(tmp_path):
    path = tmp_path / "destinations.yml"
    path.write_text("destinations: [google_ads]\n")
    with pytest.raises(DestinationConfigError, match=r"destinations.yml: expected a mapping"):
        load_destinations(path)
    path.write_text("destinations:\n  Google Ads: {type: file}\n")
    with pytest.raises(DestinationConfigError, match=r"'Google Ads' must be snake_case"):
        load_destinations(path)
    with pytest.raises(DestinationConfigError, match=r"missing.yml: cannot read"):
        load_destinations(tmp_path / "missing.yml")


def test_an_unwritable_export_folder_fails_the_batch_naming_the_path(tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "file").write_text("a file where the folder should be")
    result = export(tmp_path, file_destination(), [person(1)])
    assert (result.total("adds"), result.total("failed")) == (0, 1)
    (error,) = result.errors
    assert "file: cannot write" in error
    assert "winback__add__001__" in error
