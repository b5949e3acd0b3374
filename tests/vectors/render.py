"""Render tests/vectors/identifiers.yml as the dbt unit test that runs the same vectors
through the staging SQL (`cdp.normalize_email`, `cdp.normalize_phone`) on every engine.

    uv run python -m tests.vectors.render     # rewrite the committed unit-test file

test_identifier_vectors.py fails while the committed file and the vectors differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from orchestration.settings import DBT_PROJECT_DIR

VECTORS = Path(__file__).with_name("identifiers.yml")
UNIT_TEST_FILE = (
    DBT_PROJECT_DIR / "models" / "staging" / "shop" / "base" / "_base_shop__customers__vectors.yml"
)
HEADER = """\
# GENERATED from tests/vectors/identifiers.yml by `uv run python -m tests.vectors.render`:
# do not edit (tests/vectors/test_identifier_vectors.py fails while the two differ).
# The shared normalisation vectors through the staging SQL; the same vectors run
# through orchestration/identifiers.py in pytest.
"""


def load_vectors() -> dict[str, list[dict[str, Any]]]:
    return yaml.safe_load(VECTORS.read_text(encoding="utf-8"))


def render(vectors: dict[str, list[dict[str, Any]]]) -> str:
    # Every row names every column: dbt reads a fixture's columns from its rows.
    given: list[dict[str, Any]] = []
    expect: list[dict[str, Any]] = []
    for number, vector in enumerate(vectors["emails"], start=1):
        key = f"email_{number:03d}"
        given.append({"customer_id": key, "email": vector["raw"], "phone": None, "country": None})
        expect.append({"customer_id": key, "email": vector["email"], "phone": None})
    for number, vector in enumerate(vectors["phones"], start=1):
        key = f"phone_{number:03d}"
        given.append(
            {
                "customer_id": key,
                "email": None,
                "phone": vector["raw"],
                "country": vector["country"],
            }
        )
        expect.append({"customer_id": key, "email": None, "phone": vector["phone"]})
    document = {
        "version": 2,
        "unit_tests": [
            {
                "name": "base_shop__customers_shared_normalisation_vectors",
                "description": (
                    "The shared vectors of tests/vectors/identifiers.yml (Unicode whitespace, "
                    "invisible and full-width characters, case, plus-addressing, IDN domains, "
                    "national phones, placeholders): the SQL gives the normal forms "
                    "orchestration/identifiers.py gives."
                ),
                "model": "base_shop__customers",
                "given": [{"input": "source('shop', 'shop_customers')", "rows": given}],
                "expect": {"rows": expect},
            }
        ],
    }
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=False, width=1000)
    return HEADER + body


def main() -> None:
    UNIT_TEST_FILE.write_text(render(load_vectors()), encoding="utf-8")
    print(f"wrote {UNIT_TEST_FILE}")


if __name__ == "__main__":
    main()
