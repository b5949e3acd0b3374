"""Runs one webhook sync in a separate process, so a test can kill it with a signal in
the middle of a run: `python -m tests.activation.sync_worker DB URL RUN_ID`."""

import sys
from pathlib import Path

import duckdb

from orchestration.activation.destinations import parse_destinations
from orchestration.activation.sync import sync_destination
from tests.activation.payloads import run_info

SEGMENT = "abandoned_cart"
BATCH_SIZE = 3


def webhook_destination(url: str):  # type: ignore[no-untyped-def]
    return parse_destinations(
        {
            "destinations": {
                "webhook": {
                    "type": "webhook",
                    "options": {"url": url, "batch_size": BATCH_SIZE, "max_attempts": 1},
                }
            }
        }
    )["webhook"]


def main(database: str, url: str, run_id: str) -> None:
    con = duckdb.connect(database)
    result = sync_destination(
        con, webhook_destination(url), [(SEGMENT, {})], run_info(Path(database).parent, run_id)
    )
    con.close()
    print(result.total("adds"), result.total("failed"))


if __name__ == "__main__":
    main(*sys.argv[1:4])
