"""The parity test's comparison (tests/spark/parity.py) finds what differs, and only that:
it must fail on a real difference, or the Spark parity test proves nothing."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa

from tests.spark.parity import compare, normalise


def _table(ids: list[str], amounts: list[float], names: list[str | None]) -> pa.Table:
    return pa.table({"person_id": ids, "amount": amounts, "name": names})


def test_the_same_rows_in_another_order_and_column_order_are_equal() -> None:
    duck = _table(["a", "b"], [1.5, 2.0], ["Ann", None])
    spark = pa.table({"name": [None, "Ann"], "amount": [2.0, 1.5], "person_id": ["b", "a"]})
    assert compare("marts.x", normalise(duck), normalise(spark)) is None


def test_floats_within_the_relative_tolerance_are_equal_and_beyond_it_differ() -> None:
    duck = _table(["a"], [1000.0], ["Ann"])
    close = _table(["a"], [1000.0 * (1 + 1e-12)], ["Ann"])
    far = _table(["a"], [1000.0 * (1 + 1e-6)], ["Ann"])
    assert compare("marts.x", normalise(duck), normalise(close)) is None
    difference = compare("marts.x", normalise(duck), normalise(far))
    assert difference is not None
    assert "marts.x" in str(difference)


def test_a_decimal_and_a_double_of_the_same_value_are_equal() -> None:
    duck = pa.table({"amount": pa.array([Decimal("12.3400000000")], pa.decimal128(38, 10))})
    spark = pa.table({"amount": [12.34]})
    assert compare("marts.x", normalise(duck), normalise(spark)) is None


def test_a_changed_text_value_a_missing_row_and_a_missing_column_each_differ() -> None:
    duck = _table(["a", "b"], [1.0, 2.0], ["Ann", "Bo"])
    renamed = _table(["a", "b"], [1.0, 2.0], ["Ann", "Bob"])
    shorter = _table(["a"], [1.0], ["Ann"])
    narrower = pa.table({"person_id": ["a", "b"], "amount": [1.0, 2.0]})
    for other in (renamed, shorter, narrower):
        assert compare("marts.x", normalise(duck), normalise(other)) is not None


def test_ignored_columns_are_left_out_of_the_comparison() -> None:
    duck = pa.table({"person_id": ["a"], "measured_at": [1]})
    spark = pa.table({"person_id": ["a"], "measured_at": [2]})
    assert compare("marts.x", normalise(duck), normalise(spark)) is not None
    ignore = {"measured_at"}
    assert compare("marts.x", normalise(duck, ignore), normalise(spark, ignore)) is None
