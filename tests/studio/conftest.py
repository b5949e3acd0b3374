"""The studio reads the demo build's serving copy (beside its warehouse), read-only."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestration.serving import ServingReader
from orchestration.settings import BESIDE_WAREHOUSE

# A person of the demo (seeds/ are generated with a fixed seed, person ids are stable):
# a shop customer with an email, devices and anonymous ids, and links refused by the
# over-merge guards.
KNOWN_PERSON = "p_8092b73008ee3a2c2ced"
KNOWN_EMAIL = "islawilson1@icloud.com"
KNOWN_CUSTOMER_ID = "C0000002"
# Erased by deletion requests in seeds/deletion_requests.csv.
ERASED_IDENTIFIERS = ("C0000016", "lindamiller16@aol.com", "customer_id:C0000153")


@pytest.fixture(scope="session")
def demo_serving_dir(demo_build) -> Path:
    return demo_build.warehouse.parent / BESIDE_WAREHOUSE["CDP_SERVING_DIR"]


@pytest.fixture(scope="session")
def demo_data_docs_dir(demo_build) -> Path:
    return demo_build.warehouse.parent / BESIDE_WAREHOUSE["CDP_DATA_DOCS_DIR"]


@pytest.fixture(scope="session")
def reader(demo_serving_dir: Path) -> Iterator[ServingReader]:
    opened = ServingReader(demo_serving_dir)
    yield opened
    opened.close()
