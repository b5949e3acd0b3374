"""ServingReader: read-only, sees a new copy whole once it is swapped in; the copy is
sorted by person for one-person look-ups."""

import pytest

from orchestration.serving import ServingReader, publish_serving_copy


def test_the_reader_reads_the_new_copy_after_a_swap_and_never_writes(demo_build, tmp_path):
    serving = tmp_path / "serving"
    publish_serving_copy(demo_build.warehouse, serving)
    reader = ServingReader(serving)
    (before,) = reader.query("select count(*) as n from marts.customer_profiles")
    with pytest.raises(Exception, match="read-only"):
        reader.query("create table marts.scratch (x integer)")
    first_file = reader.database.stat().st_ino
    publish_serving_copy(demo_build.warehouse, serving)  # a run swaps a new copy in
    assert reader.database.stat().st_ino != first_file
    (after,) = reader.query("select count(*) as n from marts.customer_profiles")
    assert after == before
    assert reader.has_table("activation.sync_log")
    assert reader.has_table("quality.prediction_models")
    reader.close()


def test_a_missing_serving_copy_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `cdp run` first"):
        ServingReader(tmp_path)


def test_person_grained_tables_are_stored_sorted_by_person(demo_build, tmp_path):
    publish_serving_copy(demo_build.warehouse, tmp_path / "serving")
    reader = ServingReader(tmp_path / "serving")
    for table in ("marts.fct_events", "marts.identity_map", "marts.customer_profiles"):
        (row,) = reader.query(
            "select count(*) filter (where person_id < previous) as out_of_order from ("
            f"select person_id, lag(person_id) over (order by rowid) as previous from {table})"
        )
        assert row["out_of_order"] == 0, table
    reader.close()


def test_a_publish_removes_what_a_killed_publish_left(demo_build, tmp_path):
    """A run killed before its swap leaves its temporary file (and its WAL): the next
    successful publish removes them (one writer at a time, so they are no one's)."""
    serving = tmp_path / "serving"
    serving.mkdir()
    leftovers = [
        serving / ".cdp.0123456789ab.duckdb.tmp",
        serving / ".cdp.0123456789ab.duckdb.tmp.wal",
    ]
    for leftover in leftovers:
        leftover.write_bytes(b"half a copy")
    publish_serving_copy(demo_build.warehouse, serving)
    assert sorted(path.name for path in serving.glob(".cdp.*")) == []
    assert (serving / "cdp.duckdb").is_file()
