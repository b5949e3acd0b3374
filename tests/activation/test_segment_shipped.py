"""Each shipped segment, computed independently in pandas, equals the membership the
pipeline wrote: on the demo build as `cdp run` left it, and on a copy of it evaluated at
chosen moments so that every segment has members (a cart 10 minutes old, the SMS 4.5
hours later, and 120 days on for lapsed customers)."""

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.activation.segment_files import load_segment_definitions
from orchestration.pipeline import RunSummary
from tests.activation.fixture_warehouse import dbt_build

HOUR = pd.Timedelta(hours=1)
CART_EVENTS = ("Product Added", "Checkout Started")
ORDER = "Order Completed"

pytestmark = pytest.mark.slow  # needs the demo build (session fixture)


@dataclass
class Frames:
    """The marts the segments read, as pandas frames."""

    profiles: pd.DataFrame
    events: pd.DataFrame
    accounts: pd.DataFrame

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> "Frames":
        profiles = con.execute("select * from marts.customer_profiles").df()
        events = con.execute(
            "select person_id, event_type, event_name, event_at, page_path from marts.fct_events"
        ).df()
        accounts = con.execute("select * from marts.account_profiles").df()
        for frame, columns in (
            (profiles, ["churn_risk", "order_count", "rfm_monetary_score"]),
            (accounts, ["open_pipeline_usd", "employee_count"]),
        ):
            for column in columns:
                frame[column] = frame[column].astype("float64")
        return cls(profiles, events, accounts)

    def persons(self, mask: pd.Series) -> set[str]:
        return set(self.profiles.loc[mask.fillna(False).astype(bool), "person_id"])

    def consent(self, purpose: str, known: bool = True) -> pd.Series:
        mask = self.profiles[f"consent_{purpose}"] == "granted"
        return mask & self.profiles["is_known"] if known else mask


def not_ordered_since(frames: Frames, moments: pd.DataFrame, as_of: pd.Timestamp) -> set[str]:
    """Persons whose latest moment in `moments` (person_id, event_at) has no order after it
    (up to as_of)."""
    events = frames.events
    orders = events[(events.event_name == ORDER) & (events.event_at <= as_of)]
    last_order = orders.groupby("person_id").event_at.max()
    latest = moments.groupby("person_id").event_at.max()
    return {
        person
        for person, at in latest.items()
        if person not in last_order.index or last_order[person] <= at
    }


def abandoned_cart(frames: Frames, as_of: pd.Timestamp, history: "History") -> set[str]:
    events = frames.events
    carts = events[
        events.event_name.isin(CART_EVENTS)
        & (events.event_at >= as_of - 4 * HOUR)
        & (events.event_at <= as_of)
        & events.person_id.notna()
    ]
    profiles = frames.profiles
    eligible = frames.persons(frames.consent("email_marketing") & profiles.email.notna())
    return eligible & not_ordered_since(frames, carts, as_of)


def abandoned_cart_sms(frames: Frames, as_of: pd.Timestamp, history: "History") -> set[str]:
    events = frames.events
    waited = set()
    for person, entries in history.entries.items():
        for entered in entries:
            if as_of - 24 * HOUR <= entered <= as_of - 4 * HOUR:
                orders = events[
                    (events.person_id == person)
                    & (events.event_name == ORDER)
                    & (events.event_at > entered)
                    & (events.event_at <= as_of)
                ]
                if orders.empty:
                    waited.add(person)
    profiles = frames.profiles
    return waited & frames.persons(frames.consent("sms_marketing") & profiles.phone.notna())


def high_value_customers(frames: Frames, as_of: pd.Timestamp, history: "History") -> set[str]:
    profiles = frames.profiles
    return frames.persons(
        frames.consent("advertising")
        & profiles.rfm_segment.isin(["champions", "loyal"])
        & (profiles.rfm_monetary_score >= 4)
    )


def churn_risk(frames: Frames, as_of: pd.Timestamp, history: "History") -> set[str]:
    profiles = frames.profiles
    return frames.persons(
        frames.consent("email_marketing")
        & (profiles.churn_risk >= 0.7)
        & (profiles.order_count >= 1)
        & profiles.email.notna()
    )


def pricing_page_visitors_no_purchase(
    frames: Frames, as_of: pd.Timestamp, history: "History"
) -> set[str]:
    events = frames.events
    visits = events[
        (events.event_type == "page")
        & events.page_path.fillna("").str.startswith("/pricing")
        & (events.event_at >= as_of - 14 * 24 * HOUR)
        & (events.event_at <= as_of)
        & events.person_id.notna()
    ]
    eligible = frames.persons(frames.consent("advertising", known=False))
    return eligible & not_ordered_since(frames, visits, as_of)


def lapsed_customers(frames: Frames, as_of: pd.Timestamp, history: "History") -> set[str]:
    profiles = frames.profiles
    return frames.persons(
        frames.consent("advertising")
        & (profiles.order_count >= 1)
        & (profiles.last_order_at <= as_of - 180 * 24 * HOUR)
    )


def engaged_b2b_accounts(frames: Frames, as_of: pd.Timestamp, history: "History") -> set[str]:
    accounts = frames.accounts
    chosen = accounts[
        accounts.is_engaged_30d.fillna(False).astype(bool)
        & ((accounts.open_pipeline_usd > 0) | (accounts.employee_count >= 50))
    ]
    profiles = frames.profiles
    return frames.persons(
        frames.consent("email_marketing")
        & profiles.account_id.isin(set(chosen.account_id))
        & profiles.email.notna()
    )


EXPECTED: dict[str, Callable[[Frames, pd.Timestamp, "History"], set[str]]] = {
    "abandoned_cart": abandoned_cart,
    "abandoned_cart_sms": abandoned_cart_sms,
    "high_value_customers": high_value_customers,
    "churn_risk": churn_risk,
    "pricing_page_visitors_no_purchase": pricing_page_visitors_no_purchase,
    "lapsed_customers": lapsed_customers,
    "engaged_b2b_accounts": engaged_b2b_accounts,
}


@dataclass
class History:
    """abandoned_cart's stays as the pandas side sees them: an entry whenever a person is
    a member at an evaluation and was not at the previous one."""

    current: set[str] = field(default_factory=set)
    entries: dict[str, list[pd.Timestamp]] = field(default_factory=dict)

    def record(self, members: set[str], as_of: pd.Timestamp) -> None:
        for person in members - self.current:
            self.entries.setdefault(person, []).append(as_of)
        self.current = set(members)


def expected_at(frames: Frames, as_of: pd.Timestamp, history: History) -> dict[str, set[str]]:
    """Every shipped segment at `as_of`, abandoned_cart first (the SMS reads its history)."""
    expected = {"abandoned_cart": abandoned_cart(frames, as_of, history)}
    history.record(expected["abandoned_cart"], as_of)
    for name, compute in EXPECTED.items():
        if name != "abandoned_cart":
            expected[name] = compute(frames, as_of, history)
    return expected


def membership(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {name: set() for name in EXPECTED}
    for name, person in con.execute(
        "select segment_name, person_id from marts.segment_membership"
    ).fetchall():
        found[name].add(person)
    return found


@pytest.fixture(scope="module")
def demo_frames(demo_db: duckdb.DuckDBPyConnection) -> Frames:
    return Frames.read(demo_db)


def test_cdp_run_prints_size_entered_and_exited_per_segment(demo_build: RunSummary, demo_db):
    lines = [line for line in demo_build.results if line.startswith("segment ")]
    counts = dict(
        demo_db.execute(
            "select segment_name, count(*) from marts.segment_membership group by 1"
        ).fetchall()
    )
    assert len(lines) == len(EXPECTED)
    for name in EXPECTED:
        size = counts.get(name, 0)
        assert f"segment {name}: {size:,} members (+{size:,} entered, -0 exited)" in lines
    assert f"segment {name}" in demo_build.render()


def test_the_demo_build_memberships_equal_the_independent_computation(demo_db, demo_frames):
    as_of = pd.Timestamp(read_as_of(demo_db))
    expected = expected_at(demo_frames, as_of, History())
    assert membership(demo_db) == expected
    # The demo has members in most segments; the others are covered below.
    assert sum(1 for members in expected.values() if members) >= 4
    sizes = demo_db.execute(
        "select segment_name, member_count, entered_count, exited_count "
        "from marts.segment_sizes order by segment_name"
    ).fetchall()
    assert sizes == [
        (name, len(expected[name]), len(expected[name]), 0) for name in sorted(EXPECTED)
    ]


def read_as_of(con: duckdb.DuckDBPyConnection) -> dt.datetime:
    return con.execute("select as_of_at from intermediate.int_as_of").fetchall()[0][0]


SEGMENT_MODELS = [
    "int_as_of",
    *(f"seg_{name}" for name in sorted(EXPECTED)),
    "segment_membership",
    "segment_membership_history",
    "segment_sizes",
]


@pytest.fixture(scope="module")
def demo_copy(demo_build: RunSummary, tmp_path_factory) -> Path:
    """A writable copy of the demo warehouse with the segment tables dropped."""
    path = Path(tmp_path_factory.mktemp("segments_demo")) / "cdp.duckdb"
    shutil.copyfile(demo_build.warehouse, path)
    with duckdb.connect(str(path)) as con:
        for name in EXPECTED:
            con.execute(f"drop table marts.seg_{name}")
        con.execute("drop table marts.segment_sizes")
    return path


def sms_scenario_start(frames: Frames, as_of: pd.Timestamp) -> pd.Timestamp:
    """10 minutes after the latest cart of someone the SMS can reach who then ordered
    nothing for 5 hours, at least 6 hours before the build's now."""
    profiles = frames.profiles
    reachable = frames.persons(
        frames.consent("email_marketing")
        & frames.consent("sms_marketing")
        & profiles.email.notna()
        & profiles.phone.notna()
    )
    events = frames.events
    carts = events[events.event_name.isin(CART_EVENTS) & events.person_id.isin(reachable)]
    orders = events[events.event_name == ORDER]
    candidates = [
        cart.event_at
        for cart in carts.itertuples()
        if cart.event_at < as_of - 6 * HOUR
        and orders[
            (orders.person_id == cart.person_id)
            & (orders.event_at > cart.event_at)
            & (orders.event_at <= cart.event_at + 5 * HOUR)
        ].empty
    ]
    assert candidates, "the demo data should hold a cart the SMS follow-up can reach"
    return max(candidates) + pd.Timedelta(minutes=10)


def test_every_shipped_segment_matches_the_independent_computation_over_time(
    demo_copy, demo_frames, tmp_path
):
    with duckdb.connect(str(demo_copy), read_only=True) as con:
        build_as_of = pd.Timestamp(read_as_of(con))
    cart_at = sms_scenario_start(demo_frames, build_as_of)
    moments = [cart_at, cart_at + 4.5 * HOUR, build_as_of, build_as_of + 120 * 24 * HOUR]
    history = History()
    seen: dict[str, int] = dict.fromkeys(EXPECTED, 0)
    for index, moment in enumerate(moments):
        # The segment models at "now" = moment (CDP_AS_OF): dbt opens and closes stays.
        result = dbt_build(
            demo_copy, SEGMENT_MODELS, tmp_path / str(index), {"CDP_AS_OF": moment.isoformat()}
        )
        assert result.returncode == 0, result.log[-3000:]
        expected = expected_at(demo_frames, moment, history)
        with duckdb.connect(str(demo_copy), read_only=True) as con:
            assert membership(con) == expected, f"at {moment}"
        for name, members in expected.items():
            seen[name] += len(members)
    assert all(seen.values()), f"every segment has members at some moment: {seen}"

    with duckdb.connect(str(demo_copy), read_only=True) as con:
        # History and sizes agree with the membership changes between moments.
        open_stays = con.execute(
            "select segment_name, count(*) from marts.segment_membership_history "
            "where exited_at is null group by 1"
        ).fetchall()
        final = membership(con)
        assert dict(open_stays) == {
            name: len(members) for name, members in final.items() if members
        }
        closed = con.execute(
            "select count(*), count(exited_because) from marts.segment_membership_history "
            "where exited_at is not null"
        ).fetchall()[0]
        assert closed[0] > 0
        assert closed[0] == closed[1]  # every exit says why
        flows = con.execute(
            "select segment_name, sum(entered_count) - sum(exited_count), "
            "arg_max(member_count, computed_at) from marts.segment_sizes group by 1"
        ).fetchall()
    assert all(net == last for _, net, last in flows)


def test_no_member_without_consent_and_no_anonymous_member_bound_for_an_ad_platform(demo_db):
    for definition in load_segment_definitions():
        rows = demo_db.execute(
            f"""select count(*) from marts.segment_membership as membership
            left join marts.customer_profiles as profiles using (person_id)
            where membership.segment_name = ?
              and (profiles.person_id is null
                   or profiles.consent_{definition.consent_purpose} <> 'granted'
                   or (? and not profiles.is_known))""",
            [definition.name, definition.audience.value == "known"],
        ).fetchall()
        assert rows == [(0,)], definition.name


def test_entry_times_are_the_pipeline_now(demo_db):
    as_of = read_as_of(demo_db)
    entered = demo_db.execute(
        "select distinct entered_at from marts.segment_membership_history"
    ).fetchall()
    assert entered == [(as_of,)]
    assert isinstance(as_of, dt.datetime)
