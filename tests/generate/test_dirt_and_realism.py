"""Every dirt class and the realistic shapes the platform depends on, found with DuckDB."""

from __future__ import annotations

from decimal import Decimal

from cdp_dev.generate.finalize import BAD_TIMESTAMPS
from orchestration.identifiers import normalize_phone

TS = "try_cast({} as timestamptz)"
PLACEHOLDERS = "('test@test.com', 'n/a', 'none', 'unknown')"


def test_event_duplicates_are_exact_and_about_two_percent(raw) -> None:
    total = raw.one("select count(*) from events")
    distinct = raw.one("select count(*) from (select distinct * from events)")
    repeated = raw.one(
        "select count(*) from (select message_id from events where message_id is not null "
        "group by 1 having count(*) > 1)"
    )
    assert repeated > 0
    assert 0.005 < (total - distinct) / total < 0.05
    # a repeated message id is the same message, not a collision
    assert (
        raw.one(
            "select count(*) from (select message_id from (select distinct * from events) "
            "where message_id is not null group by 1 having count(*) > 1)"
        )
        == 0
    )


def test_duplicate_shop_and_crm_rows(raw) -> None:
    for table in ("shop_orders", "shop_customers", "crm_contacts"):
        assert (
            raw.one(
                f"select count(*) - (select count(*) from (select distinct * from {table}))"
                f" from {table}"
            )
            > 0
        ), table


def test_cdc_versions(raw) -> None:
    assert (
        raw.one(
            "select count(*) from (select order_id from shop_orders group by 1 "
            "having count(distinct status) >= 3)"
        )
        > 0
    )
    statuses = {r[0] for r in raw.q("select distinct status from shop_orders")}
    assert statuses == {"pending", "paid", "fulfilled", "cancelled", "refunded"}
    assert (
        raw.one(
            "select count(*) from (select contact_id from crm_contacts group by 1 "
            "having count(distinct lifecycle_stage) > 1)"
        )
        > 0
    )
    assert (
        raw.one(
            "select count(*) from (select customer_id from shop_customers group by 1 "
            "having count(distinct updated_at) > 1)"
        )
        > 0
    )
    assert raw.one("select count(*) from crm_contacts where is_deleted = 'true'") > 0
    stages = {r[0] for r in raw.q("select distinct lifecycle_stage from crm_contacts")}
    assert stages <= {"subscriber", "lead", "mql", "sql", "opportunity", "customer"}
    assert len(stages) >= 4


def test_late_older_version_in_a_later_file(demo) -> None:
    """An order's older version arrives in a later batch file than its newer version."""
    parts = sorted((demo.path / "shop_orders").glob("*.csv"))
    newest_first: dict[str, object] = {}
    late = 0
    for part in parts:
        rows = demo.q(
            f"select order_id, {TS.format('updated_at')} from read_csv('{part}', "
            "all_varchar = true) where order_id is not null"
        )
        for order_id, updated in rows:
            seen = newest_first.get(order_id)
            if part != parts[0] and seen is not None and updated is not None and updated < seen:
                late += 1
            if updated is not None and part == parts[0]:
                newest_first[order_id] = max(updated, seen) if seen is not None else updated
    assert late > 0


def test_guest_orders_and_consistent_money(raw) -> None:
    assert (
        raw.one(
            "select count(distinct order_id) from shop_orders "
            "where customer_id is null and order_id is not null"
        )
        > 0
    )
    rows = raw.q(
        "select currency, subtotal, discount, tax, shipping, total from shop_orders where "
        "try_cast(subtotal as decimal(18,2)) is not null and "
        "try_cast(shipping as decimal(18,2)) is not null and total is not null"
    )
    checked = 0
    for currency, subtotal, discount, tax, shipping, total in rows:
        if total.startswith("-"):
            continue
        expected = Decimal(subtotal) - Decimal(discount) + Decimal(tax) + Decimal(shipping)
        assert Decimal(total) == expected
        if currency == "JPY":
            assert "." not in total
        checked += 1
    assert checked > 50
    mismatched = raw.one(
        "with items as (select order_id, sum(quantity::int * unit_price::decimal(18,2)) s "
        "from shop_order_items group by 1), o as (select distinct order_id, subtotal "
        "from shop_orders where try_cast(subtotal as decimal(18,2)) is not null) "
        "select count(*) from o join items using (order_id) where o.subtotal::decimal(18,2) <> s"
    )
    assert mismatched == 0
    currencies = {r[0] for r in raw.q("select distinct currency from shop_orders")}
    assert {"USD", "EUR", "GBP", "CAD", "AUD", "XYZ"} <= currencies


def test_money_dirt(raw) -> None:
    assert raw.one("select count(*) from shop_orders where total like '-%'") > 0
    assert raw.one("select count(*) from shop_orders where total is null") > 0
    assert raw.one("select count(*) from shop_orders where currency = 'XYZ'") > 0
    assert raw.one("select count(*) from shop_orders where subtotal like '%,%'") > 0
    assert raw.one("select count(*) from shop_orders where shipping = 'abc'") > 0
    assert raw.one("select count(*) from shop_orders where order_id is null") > 0


def test_timestamp_forms_and_dirt(raw) -> None:
    ts = [r[0] for r in raw.q("select timestamp from events where timestamp is not null")]
    assert any(t.endswith("Z") for t in ts)
    assert any(t[-6] in "+-" and t[-3] == ":" for t in ts)
    assert any(len(t) == 23 for t in ts)  # no offset: UTC
    assert raw.one(f"select count(*) from events where timestamp in {tuple(BAD_TIMESTAMPS)}") > 0
    assert (
        raw.one(
            f"select count(*) from events where {TS.format('timestamp')} > timestamptz '2027-11-02'"
        )
        > 0
    )
    assert (
        raw.one(
            f"select count(*) from shop_orders where {TS.format('created_at')} > "
            "timestamptz '2027-11-02'"
        )
        > 0
    )
    assert (
        raw.one(f"select count(*) from shop_orders where updated_at in {tuple(BAD_TIMESTAMPS)}") > 0
    )
    assert raw.one("select count(*) from events where message_id is null") > 0
    # sentAt / receivedAt follow the event by milliseconds to seconds (clean rows)
    lags = raw.q(
        f"select epoch({TS.format('received_at')}) - epoch({TS.format('timestamp')}) "
        f"from events where {TS.format('timestamp')} < timestamptz '2027-01-01'"
    )
    lags = [x[0] for x in lags if x[0] is not None]
    assert min(lags) > 0
    assert sorted(lags)[len(lags) // 2] < 5


def test_malformed_json_only_in_text_formats(flat_csv, demo) -> None:
    assert flat_csv.one("select count(*) from events where not json_valid(context)") > 0
    assert flat_csv.one("select count(*) from events where not json_valid(properties)") > 0
    share = flat_csv.one("select avg((not json_valid(context))::int) from events")
    assert share < 0.01
    assert demo.one("select count(*) from events where not json_valid(context)") == 0


def test_email_and_phone_writing_dirt(raw) -> None:
    emails = [
        r[0]
        for r in raw.q(
            "select email from shop_customers union all select email from crm_contacts "
            "union all select email from shop_orders"
        )
        if r[0]
    ]
    assert any(e != e.strip() for e in emails)
    assert any(e.strip() != e.strip().lower() and "test" not in e.lower() for e in emails)
    phones = raw.q(
        "select phone, country from shop_customers where phone is not null union all "
        "select phone, country from crm_contacts where phone is not null"
    )
    texts = [p for p, _ in phones]
    assert any(p.startswith("(") for p in texts)  # (415) 201-4567
    assert any(p.startswith("+") and " " in p for p in texts)  # +44 20 7946 0958
    assert any(p.startswith("00") for p in texts)  # 0044 20 7946 0958
    assert any(
        p.startswith("0") and not p.startswith("00") and c not in ("US", "CA") for p, c in phones
    )  # 030 901820 with country DE
    placeholders_email = raw.one(
        f"select count(*) from (select lower(trim(email)) e from "
        f"shop_customers union all select lower(trim(email)) from "
        f"crm_contacts) where e in {PLACEHOLDERS}"
    )
    assert placeholders_email > 0
    assert (
        raw.one(
            "select count(*) from (select phone from shop_customers union all select "
            "phone from crm_contacts union all select phone from shop_orders) where "
            "phone in ('0000000000', 'n/a', 'none', 'unknown')"
        )
        > 0
    )


def test_phones_normalise_to_the_truth(raw) -> None:
    """Every real phone in any written form reads back as a truth E.164 (with its country)."""
    truth_phones = {p for person in raw.truth["persons"] for p in person["phones"]}
    truth_phones.add(raw.truth["traps"]["office_phone"]["phone"])
    rows = raw.q(
        "select phone, country from shop_customers union all select phone, country "
        "from crm_contacts where contact_id not in (select contact_id from crm_contacts "
        "where is_deleted = 'true') union all select phone, null from shop_orders "
        "union all select subject_id, null from consent where subject_type = 'phone' "
        "union all select subject_id, null from deletion_requests where subject_type = 'phone'"
    )
    placeholders = {"0000000000", "n/a", "none", "unknown"}
    checked = 0
    for phone, country in rows:
        if phone is None or phone in placeholders:
            continue
        assert normalize_phone(phone, country) in truth_phones, (phone, country)
        checked += 1
    assert checked > 20


def test_ids_keep_leading_zeros(raw) -> None:
    assert raw.one("select count(*) from shop_customers where customer_id like '0%'") > 0
    assert raw.one("select count(*) from shop_customers where customer_id like 'C%'") > 0
    assert raw.one("select count(*) from shop_orders where order_id like '000%'") > 0
    assert raw.one("select count(*) from crm_contacts where contact_id like '003%'") > 0
    assert raw.one("select count(*) from events where user_id like '0%'") > 0


def test_fx_rates_weekdays_only_and_cover_every_order(raw) -> None:
    assert raw.one("select count(*) from fx_rates where dayofweek(rate_date::date) in (0, 6)") == 0
    assert raw.one("select count(*) - count(distinct (rate_date, currency)) from fx_rates") == 0
    assert {r[0] for r in raw.q("select distinct currency from fx_rates")} == {
        "EUR",
        "GBP",
        "CAD",
        "AUD",
        "JPY",
    }
    assert (
        raw.one(
            "select count(*) from fx_rates where not regexp_matches(rate_to_usd, "
            "'^\\d+\\.\\d{6,}$')"
        )
        == 0
    )
    # weekday gaps: exactly 5 rows a week per currency over the span
    per_week = raw.q("select currency, count(*) from fx_rates group by 1")
    n_weeks = raw.one("select (max(rate_date::date) - min(rate_date::date)) / 7 from fx_rates")
    assert all(abs(count - 5 * n_weeks) <= 5 for _, count in per_week)
    # weekend orders exist and have an earlier (Friday) rate to fall back on
    uncovered = raw.one(
        f"with o as (select distinct currency, {TS.format('created_at')} at time zone 'UTC' t "
        "from shop_orders where currency not in ('USD', 'XYZ')) select count(*) from o "
        "where t < timestamp '2027-01-01' and t::date not in (select rate_date::date from "
        "fx_rates) and not exists (select 1 from fx_rates f where f.currency = o.currency "
        "and f.rate_date::date < t::date)"
    )
    assert uncovered == 0
    assert (
        raw.one(
            f"select count(*) from shop_orders where dayofweek({TS.format('created_at')} "
            "at time zone 'UTC') in (0, 6)"
        )
        > 0
    )


def test_ecommerce_spec_events_and_pages(demo) -> None:
    names = {r[0] for r in demo.q("select distinct event from events where type = 'track'")}
    assert {
        "Products Searched",
        "Product List Viewed",
        "Product Viewed",
        "Product Added",
        "Cart Viewed",
        "Checkout Started",
        "Order Completed",
        "Email Delivered",
        "Email Opened",
        "Email Clicked",
    } <= names
    types = {r[0] for r in demo.q("select distinct type from events")}
    assert types == {"track", "page", "screen", "identify", "alias"}
    assert (
        demo.one(
            "select count(*) from events where type = 'page' and "
            "json_extract_string(context, '$.page.path') = '/pricing'"
        )
        > 0
    )
    assert (
        demo.one(
            "select count(*) from events where "
            "json_extract_string(context, '$.campaign.source') is not null"
        )
        > 0
    )
    order = demo.q("select properties from events where event = 'Order Completed' limit 1")[0][0]
    for key in ('"order_id"', '"revenue"', '"currency"', '"products"', '"sku"', '"quantity"'):
        assert key in order
    devices = {
        r[0]
        for r in demo.q(
            "select distinct json_extract_string(context, '$.device.type') from events "
            "where source is distinct from 'email'"
        )
    }
    assert {"ios", "android", "desktop", "mobile"} <= devices
    # newsletter sign-up: identify with traits.email and no user id
    assert (
        demo.one(
            "select count(*) from events where type = 'identify' and user_id is null "
            "and json_extract_string(traits, '$.email') is not null"
        )
        > 0
    )
    # logins: identify with the customer id and full traits
    assert (
        demo.one(
            "select count(*) from events where type = 'identify' and user_id is not null "
            "and json_extract_string(traits, '$.first_name') is not null"
        )
        > 0
    )
    assert (
        demo.one(
            "select count(*) from events where type = 'alias' and previous_id = "
            "anonymous_id and user_id is not null"
        )
        > 0
    )
    email = demo.q(
        "select anonymous_id, json_extract_string(properties, '$.email') from events "
        "where event = 'Email Opened'"
    )
    assert email
    assert all(a is None and e for a, e in email)
    per_person = demo.one("select count(*) from events") / 300
    assert 8 < per_person < 30


def test_consent_changes(raw) -> None:
    assert {r[0] for r in raw.q("select distinct subject_type from consent")} == {
        "email",
        "phone",
        "user_id",
        "anonymous_id",
        "contact_id",
        "customer_id",
    }
    assert {r[0] for r in raw.q("select distinct status from consent")} == {
        "granted",
        "denied",
        "withdrawn",
    }
    purposes = {r[0] for r in raw.q("select distinct purpose from consent")}
    assert purposes == {
        "email_marketing",
        "sms_marketing",
        "advertising",
        "analytics",
        "personalization",
    }
    # a grant on the customer id, withdrawn later on the email of the same person
    crossed = raw.one(
        "select count(*) from consent w join shop_customers c on lower(trim(w.subject_id)) = "
        "lower(trim(c.email)) join consent g on g.subject_type = 'customer_id' and "
        "g.subject_id = c.customer_id and g.purpose = w.purpose and g.status = 'granted' "
        "where w.subject_type = 'email' and w.status = 'withdrawn'"
    )
    assert crossed > 0


def test_crm_shapes(raw) -> None:
    assert (
        raw.one(
            "select count(*) from crm_deals where stage = 'closed_won' and is_won = 'true' "
            "and closed_at is not null"
        )
        + raw.one("select count(*) from crm_deals where stage = 'closed_lost' and is_won = 'false'")
        > 0
    )
    assert (
        raw.one(
            "select count(*) from crm_tickets where csat_score is not null and resolved_at is null"
        )
        == 0
    )
    assert raw.one("select count(*) from crm_tickets where csat_score::int between 1 and 5") > 0
    # some contacts are shop customers: same email written differently
    assert (
        raw.one(
            "select count(*) from crm_contacts k join shop_customers c on "
            "lower(trim(k.email)) = lower(trim(c.email)) and k.email <> c.email and "
            f"lower(trim(k.email)) not in {PLACEHOLDERS}"
        )
        > 0
    )
