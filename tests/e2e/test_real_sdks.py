"""The real tracking SDKs, not hand-written payloads: a scripted journey is played through
Segment's `segment-analytics-python` and RudderStack's `rudder-sdk-python` against a
collector on loopback (127.0.0.1, a random port) that stores each batch as a JSON Lines
file, as a collector's storage destination does (gzip bodies unpacked, `receivedAt` and
the batch's `sentAt` added). The captured folder is the raw folder of a run through the
profiles; the people, traits and accounts that come out are asserted.

What the SDKs do differently, and the project must read either way: RudderStack puts
identify traits only under `context.traits` (and a national phone's country with them);
both send page/screen `name` and `category` at the top level and `channel`, `integrations`,
`context.library`; a group call's `traits` are the company's."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from rudderstack.analytics import Client as RudderClient
from segment.analytics import Client as SegmentClient

from tests.conftest import THROUGH_PROFILES, THROUGH_QUALITY, build_warehouse

pytestmark = pytest.mark.slow

SELECTION = (
    THROUGH_PROFILES
    | THROUGH_QUALITY
    | dg.AssetSelection.assets("marts/account_profiles", "marts/fct_events").upstream()
)


@dataclass
class Collector:
    """A loopback collector: every POST /v1/batch body, unpacked, with its headers."""

    url: str
    batches: list[tuple[str, dict]]

    def write_raw_folder(self, raw_dir: Path) -> int:
        """One `events/<n>.jsonl` per batch, messages as the SDK sent them plus what the
        collector adds (`receivedAt`, `sentAt` of the batch). Returns the message count."""
        events = raw_dir / "events"
        events.mkdir(parents=True)
        count = 0
        for number, (received_at, body) in enumerate(self.batches):
            lines = []
            for message in body["batch"]:
                message = {"sentAt": body.get("sentAt"), **message, "receivedAt": received_at}
                lines.append(json.dumps(message))
            (events / f"batch_{number:03d}.jsonl").write_text("\n".join(lines) + "\n")
            count += len(lines)
        return count


@pytest.fixture
def collector() -> Iterator[Collector]:
    batches: list[tuple[str, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            assert self.path == "/v1/batch", self.path
            received_at = datetime.now(UTC).isoformat(timespec="milliseconds")
            batches.append((received_at, json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"success": true}')

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Collector(f"http://127.0.0.1:{server.server_address[1]}", batches)
    finally:
        server.shutdown()
        server.server_close()


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def play_segment_journey(host: str) -> None:
    """Ann, a US customer, with Segment's SDK (gzip on): she browses anonymously, signs
    up, buys, joins her company's account and logs in on her phone (an alias)."""
    client = SegmentClient("seg-write-key", host=host, sync_mode=True, gzip=True)
    client.page(
        anonymous_id="seg-anon-1",
        category="Docs",
        name="Pricing",
        properties={"url": "https://shop.example/pricing", "path": "/pricing"},
        timestamp=at(2, 9),
    )
    client.identify(
        user_id="C-1001",
        anonymous_id="seg-anon-1",
        traits={
            "email": "\tAnn.Lee@Example.COM\n",
            "phone": "(415) 555-0134",
            "first_name": "Ann",
            "last_name": "Lee",
            "country": "US",
        },
        timestamp=at(2, 10),
    )
    client.track(
        user_id="C-1001",
        event="Order Completed",
        properties={"order_id": "O-1", "revenue": 42.5, "currency": "usd"},
        timestamp=at(2, 11),
    )
    client.group(
        user_id="C-1001",
        group_id="ACC-77",
        traits={"name": "Acme Ltd", "email": "billing@acme.example", "phone": "+12125550100"},
        timestamp=at(2, 12),
    )
    client.screen(
        anonymous_id="seg-anon-app",
        category="Account",
        name="Orders",
        context={"device": {"id": "device-ann-1", "type": "ios"}},
        timestamp=at(3, 8),
    )
    client.alias(previous_id="seg-anon-app", user_id="C-1001", timestamp=at(3, 9))
    client.flush()


def play_rudderstack_journey(host: str) -> None:
    """Ben, a UK customer, with RudderStack's SDK (gzip by default): its identify puts the
    traits in `context.traits` only, with a national UK phone."""
    client = RudderClient("rudder-write-key", host=host, sync_mode=True)
    client.page(
        anonymous_id="rs-anon-1",
        category="Shop",
        name="Home",
        properties={"url": "https://shop.example/", "path": "/"},
        timestamp=at(4, 9),
    )
    client.identify(
        user_id="C-2002",
        anonymous_id="rs-anon-1",
        traits={"email": "ben.ng@example.co.uk", "phone": "020 7946 0958", "country": "GB"},
        timestamp=at(4, 10),
    )
    client.track(
        user_id="C-2002",
        event="Product Viewed",
        properties={"product_id": "P-9", "sku": "SKU-9", "price": 12},
        timestamp=at(4, 11),
    )
    client.flush()


def test_journeys_through_the_real_sdks_give_the_people_traits_and_accounts(
    collector: Collector, tmp_path: Path
) -> None:
    play_segment_journey(collector.url)
    play_rudderstack_journey(collector.url)
    messages = collector.write_raw_folder(tmp_path / "raw")
    # Each sync-mode call is a batch of one; what the SDKs themselves put in them.
    sent = [message for _, body in collector.batches for message in body["batch"]]
    assert messages == len(sent) == 9
    identify = next(m for m in sent if m["type"] == "identify" and m["userId"] == "C-2002")
    assert "traits" not in identify
    assert identify["context"]["traits"]["country"] == "GB"

    summary = build_warehouse(tmp_path / "raw", tmp_path / "warehouse", selection=SELECTION)
    assert summary.success, summary.render()
    assert (summary.tables["events"].loaded, summary.tables["events"].quarantined) == (9, 0)

    with duckdb.connect(str(summary.warehouse), read_only=True) as con:
        # No valid spec message is quarantined, in ingestion or in staging.
        assert (
            con.sql(
                "select reason from quality.quarantined_rows where source_table = 'events'"
            ).fetchall()
            == []
        )
        staged = dict(
            con.sql(
                "select event_type, count(*) from marts.fct_events group by event_type"
            ).fetchall()
        )
        assert staged == {"page": 2, "identify": 2, "track": 2, "group": 1, "screen": 1, "alias": 1}

        identities = con.sql(
            "select identifier_type, identifier_value, person_id from marts.identity_map"
        ).fetchall()
        by_value = {(kind, value): person for kind, value, person in identities}
        ann = by_value[("customer_id", "C-1001")]
        ben = by_value[("customer_id", "C-2002")]
        assert ann != ben
        # Everything Ann used is one person; her company's email and phone are not hers.
        assert {k: p for k, p in by_value.items() if p == ann} == {
            ("customer_id", "C-1001"): ann,
            ("anonymous_id", "seg-anon-1"): ann,
            ("anonymous_id", "seg-anon-app"): ann,
            ("device_id", "device-ann-1"): ann,
            ("email", "ann.lee@example.com"): ann,
            ("phone", "+14155550134"): ann,
        }
        assert {k: p for k, p in by_value.items() if p == ben} == {
            ("customer_id", "C-2002"): ben,
            ("anonymous_id", "rs-anon-1"): ben,
            ("email", "ben.ng@example.co.uk"): ben,
            ("phone", "+442079460958"): ben,
        }
        assert len(identities) == 10

        profiles = {
            row[0]: row[1:]
            for row in con.sql(
                "select person_id, is_known, email, phone, first_name, country, account_id "
                "from marts.customer_profiles"
            ).fetchall()
        }
        assert profiles == {
            ann: (True, "ann.lee@example.com", "+14155550134", "Ann", "US", "ACC-77"),
            ben: (True, "ben.ng@example.co.uk", "+442079460958", None, "GB", None),
        }

        # The group call's account is not in a CRM (there is none): its traits make the row.
        accounts = con.sql(
            "select account_id, account_name, account_source, grouped_persons, contacts "
            "from marts.account_profiles"
        ).fetchall()
        assert accounts == [("ACC-77", "Acme Ltd", "events", 1, 0)]

        pages = con.sql(
            "select event_type, page_name, page_category, screen_name, group_id "
            "from marts.fct_events where event_type in ('page', 'screen', 'group') "
            "order by event_at"
        ).fetchall()
        assert pages == [
            ("page", "Pricing", "Docs", None, None),
            ("group", None, None, None, "ACC-77"),
            ("screen", "Orders", "Account", "Orders", None),
            ("page", "Home", "Shop", None, None),
        ]
