"""One normal form on both sides: the shared vectors through orchestration/identifiers.py
here, and through the staging SQL in the generated dbt unit test (built on DuckDB in every
`cdp run`, and on Spark by the parity test)."""

from __future__ import annotations

import pytest

from orchestration.identifiers import identity_email, identity_phone
from tests.vectors.render import UNIT_TEST_FILE, load_vectors, render

VECTORS = load_vectors()


@pytest.mark.parametrize("vector", VECTORS["emails"], ids=lambda v: v["why"])
def test_python_gives_the_email_normal_form(vector: dict) -> None:
    assert identity_email(vector["raw"]) == vector["email"]


@pytest.mark.parametrize("vector", VECTORS["phones"], ids=lambda v: v["why"])
def test_python_gives_the_phone_normal_form(vector: dict) -> None:
    assert identity_phone(vector["raw"], vector["country"]) == vector["phone"]


def test_the_dbt_unit_test_holds_the_same_vectors() -> None:
    expected = render(VECTORS)
    assert UNIT_TEST_FILE.read_text(encoding="utf-8") == expected, (
        f"{UNIT_TEST_FILE} differs from tests/vectors/identifiers.yml: "
        "run `uv run python -m tests.vectors.render`"
    )


def test_the_vectors_cover_what_real_sources_send() -> None:
    raws = "".join(v["raw"] for v in VECTORS["emails"] + VECTORS["phones"])
    for character in ("\t", "\n", "\u00a0", "\u3000", "\u200b", "\ufeff", "\uff41", "\uff10"):
        assert character in raws
    assert any(v["email"] is None for v in VECTORS["emails"])
    assert any("+" in (v["email"] or "") for v in VECTORS["emails"])
