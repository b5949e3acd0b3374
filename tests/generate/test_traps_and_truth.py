"""The identity traps are in the data, and the truth file agrees with the data.

`resolve_from_data` is a small reference resolver: it links identifiers that occur in
the same record, skipping exactly what the truth declares as traps (placeholders, the
`undefined` id, the shared tablet, the office phone) and soft-deleted contacts. If the
truth is consistent with the files, its persons are exactly the components found here.
"""

from __future__ import annotations

from orchestration.identifiers import normalize_email, normalize_phone

KINDS = {
    "customer_ids": "customer_id",
    "emails": "email",
    "phones": "phone",
    "anonymous_ids": "anonymous_id",
    "device_ids": "device_id",
    "contact_ids": "contact_id",
}


def truth_sets(truth: dict) -> dict[frozenset, dict]:
    return {
        frozenset((t, v) for key, t in KINDS.items() for v in p[key]): p for p in truth["persons"]
    }


def person_of(truth: dict, kind: str, value: str) -> dict:
    matches = [p for p in truth["persons"] if value in p[kind]]
    assert len(matches) == 1, (kind, value, matches)
    return matches[0]


def resolve_from_data(raw) -> set[frozenset]:
    traps = raw.truth["traps"]
    bad_email = {normalize_email(e) for e in traps["placeholders"]["emails"]}
    bad_email |= {"test@test.com", "n/a", "none", "unknown"}
    bad_anon = {"undefined", traps["shared_tablet"]["anonymous_id"]}
    bad_device = {traps["shared_tablet"]["device_id"]}
    bad_phone = {traps["office_phone"]["phone"]}

    def email(v: str | None) -> tuple | None:
        e = normalize_email(v)
        return ("email", e) if e and e not in bad_email else None

    def phone(v: str | None, country: str | None) -> tuple | None:
        p = normalize_phone(v, country)
        return ("phone", p) if p and p not in bad_phone else None

    tablet = [
        ("anonymous_id", traps["shared_tablet"]["anonymous_id"]),
        ("device_id", traps["shared_tablet"]["device_id"]),
    ]
    records: list[list] = []
    for anon, user, device, t_email, t_phone, p_email in raw.q(
        "select anonymous_id, user_id, "
        "case when json_valid(context) then json_extract_string(context, '$.device.id') end, "
        "case when json_valid(traits) then json_extract_string(traits, '$.email') end, "
        "case when json_valid(traits) then json_extract_string(traits, '$.phone') end, "
        "case when json_valid(properties) and event like 'Email %' then "
        "json_extract_string(properties, '$.email') end from events"
    ):
        records.append(
            [
                ("anonymous_id", anon) if anon and anon not in bad_anon else None,
                ("customer_id", user) if user else None,
                ("device_id", device) if device and device not in bad_device else None,
                email(t_email),
                phone(t_phone, None),
                email(p_email),
            ]
        )
        if anon == tablet[0][1]:  # the tablet's own ids stay together, linked to nobody
            records.append([tablet[0], tablet[1] if device == tablet[1][1] else None])
    for cid, e, p, country in raw.q(
        "select customer_id, email, phone, country from shop_customers"
    ):
        records.append([("customer_id", cid), email(e), phone(p, country)])
    for cid, e, p in raw.q("select customer_id, email, phone from shop_orders"):
        records.append([("customer_id", cid) if cid else None, email(e), phone(p, None)])
    for kid, e, p, country in raw.q(
        "select contact_id, email, phone, country from crm_contacts where contact_id not in "
        "(select contact_id from crm_contacts where is_deleted = 'true')"
    ):
        records.append([("contact_id", kid), email(e), phone(p, country)])

    parent: dict = {}

    def find(x: tuple) -> tuple:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for record in records:
        nodes = [n for n in record if n is not None]
        for n in nodes:
            parent.setdefault(n, n)
        for n in nodes[1:]:
            parent[find(n)] = find(nodes[0])
    groups: dict = {}
    for n in parent:
        groups.setdefault(find(n), set()).add(n)
    return {frozenset(g) for g in groups.values()}


def test_truth_persons_are_exactly_the_components_of_the_data(raw) -> None:
    expected = truth_sets(raw.truth)
    found = resolve_from_data(raw)
    missing = [expected[s]["person_key"] for s in expected if s not in found]
    extra = [sorted(s)[:4] for s in found if s not in expected]
    assert not missing, missing[:5]
    assert not extra, extra[:5]
    keys = [p["person_key"] for p in raw.truth["persons"]]
    assert len(keys) == len(set(keys))
    assert all(
        p["is_known"] == bool(p["customer_ids"] or p["emails"] or p["phones"] or p["contact_ids"])
        for p in raw.truth["persons"]
    )
    assert sum(p["is_known"] for p in raw.truth["persons"]) > 0
    assert sum(not p["is_known"] for p in raw.truth["persons"]) > 0


def test_shared_family_tablet(raw) -> None:
    tablet = raw.truth["traps"]["shared_tablet"]
    anon, device = tablet["anonymous_id"], tablet["device_id"]
    users = raw.q(
        f"select user_id, min(received_at) from events where anonymous_id = '{anon}' "
        "and user_id is not null group by 1"
    )
    assert {u for u, _ in users} == set(tablet["customer_ids"])
    assert len(set(tablet["customer_ids"])) == 2
    assert (
        raw.one(
            f"select count(*) from events where anonymous_id = '{anon}' and "
            "case when json_valid(context) then json_extract_string(context, '$.device.id') "
            f"end = '{device}'"
        )
        > 0
    )
    assert (
        raw.one(f"select count(*) from events where anonymous_id = '{anon}' and type = 'identify'")
        >= 2
    )
    # the tablet belongs to neither customer
    owner = person_of(raw.truth, "anonymous_ids", anon)
    assert owner["person_key"] == tablet["tablet_person_key"]
    assert owner["customer_ids"] == []
    assert owner["device_ids"] == [device]
    for cid, key in zip(tablet["customer_ids"], tablet["customer_person_keys"], strict=True):
        assert person_of(raw.truth, "customer_ids", cid)["person_key"] == key


def test_test_email_on_unrelated_records(raw) -> None:
    trap = raw.truth["traps"]["test_email"]
    customers = raw.q(
        "select distinct customer_id, email from shop_customers "
        "where lower(trim(email)) = 'test@test.com'"
    )
    assert {c for c, _ in customers} >= set(trap["customer_ids"])
    assert len({e for _, e in customers}) >= 2  # ' TEST@test.com' and 'test@test.com'
    assert (
        raw.one(
            "select count(distinct order_id) from shop_orders where customer_id is null "
            "and lower(trim(email)) = 'test@test.com'"
        )
        >= 2
    )
    assert (
        raw.one(
            "select count(distinct contact_id) from crm_contacts "
            "where lower(trim(email)) = 'test@test.com'"
        )
        >= 2
    )
    keys = {person_of(raw.truth, "customer_ids", c)["person_key"] for c in trap["customer_ids"]}
    assert len(keys) == 2
    assert all("test@test.com" not in p["emails"] for p in raw.truth["persons"])


def test_undefined_anonymous_id(raw) -> None:
    people = raw.one(
        "select count(distinct coalesce(user_id, case when json_valid(context) then "
        "coalesce(json_extract_string(context, '$.device.id'), "
        "json_extract_string(context, '$.ip')) end)) "
        "from events where anonymous_id = 'undefined'"
    )
    assert people >= 2
    trap = raw.truth["traps"]["undefined_anonymous_id"]
    assert trap["event_count"] == raw.one(
        "select count(distinct message_id) from events where anonymous_id = 'undefined'"
    )
    assert trap["people_with_buggy_sdk"] >= 5
    assert all("undefined" not in p["anonymous_ids"] for p in raw.truth["persons"])


def test_office_phone_hub(raw) -> None:
    trap = raw.truth["traps"]["office_phone"]
    rows = raw.q(
        f"select distinct contact_id, phone, country from crm_contacts "
        f"where account_id = '{trap['account_id']}'"
    )
    sharing = {c for c, p, country in rows if normalize_phone(p, country) == trap["phone"]}
    assert sharing == set(trap["contact_ids"])
    assert len(sharing) >= 3
    assert len({p for _, p, _ in rows}) >= 2  # the same line written several ways
    assert all(trap["phone"] not in p["phones"] for p in raw.truth["persons"])
    assert len({person_of(raw.truth, "contact_ids", c)["person_key"] for c in sharing}) == len(
        sharing
    )


def test_multi_hop_chain(raw) -> None:
    chain = raw.truth["traps"]["multi_hop_chain"]
    anon, cid = chain["anonymous_id"], chain["customer_id"]
    assert (
        raw.one(
            f"select count(*) from events where anonymous_id = '{anon}' and "
            f"user_id = '{cid}' and type = 'identify'"
        )
        > 0
    )
    emails = {
        normalize_email(e)
        for (e,) in raw.q(f"select email from shop_customers where customer_id = '{cid}'")
    }
    assert emails == {chain["email"]}
    assert (
        raw.one(
            f"select count(*) from shop_customers where customer_id = '{cid}' and phone is not null"
        )
        == 0
    )
    contact = raw.q(
        f"select email, phone, country from crm_contacts where contact_id = '{chain['contact_id']}'"
    )
    assert {normalize_email(e) for e, _, _ in contact} == {chain["email"]}
    assert all(e != chain["email"] for e, _, _ in contact)  # written differently
    assert {normalize_phone(p, c) for _, p, c in contact} == {chain["phone"]}
    order = raw.q(
        f"select distinct customer_id, email, phone from shop_orders "
        f"where order_id = '{chain['guest_order_id']}'"
    )
    assert len(order) == 1
    assert order[0][0] is None
    assert normalize_email(order[0][1]) == chain["guest_email"]
    assert normalize_phone(order[0][2], None) == chain["phone"]
    # the new email appears nowhere but on that guest order
    assert (
        raw.one(
            f"select count(*) from shop_orders where lower(trim(email)) = "
            f"'{chain['guest_email']}' and order_id <> '{chain['guest_order_id']}'"
        )
        == 0
    )
    person = person_of(raw.truth, "customer_ids", cid)
    assert person["person_key"] == chain["person_key"]
    assert anon in person["anonymous_ids"]
    assert {chain["email"], chain["guest_email"]} <= set(person["emails"])
    assert chain["contact_id"] in person["contact_ids"]
    assert chain["phone"] in person["phones"]


def test_deletion_requests_and_data_after_them(raw) -> None:
    erased = raw.truth["traps"]["erased"]
    assert len(erased) >= 2
    assert raw.one("select count(*) from deletion_requests") == len(erased)
    kinds = {r[0] for r in raw.q("select distinct subject_type from deletion_requests")}
    assert kinds <= {"email", "customer_id", "contact_id", "phone"}
    after_events = after_orders = 0
    for entry in erased:
        person = next(p for p in raw.truth["persons"] if p["person_key"] == entry["person_key"])
        assert person["is_erased"]
        requested = entry["requested_at"]
        for mid in entry["arrived_after"]["message_ids"]:
            anon, user, late = raw.q(
                f"select anonymous_id, user_id, try_cast(timestamp as timestamptz) > "
                f"timestamptz '{requested}' from events where message_id = '{mid}'"
            )[0]
            assert late
            assert user in person["customer_ids"]
            assert anon in person["anonymous_ids"]
            after_events += 1
        for oid in entry["arrived_after"]["order_ids"]:
            cid, mail, late = raw.q(
                f"select customer_id, email, try_cast(created_at as timestamptz) > "
                f"timestamptz '{requested}' from shop_orders where order_id = '{oid}' limit 1"
            )[0]
            assert cid is None
            assert late
            assert normalize_email(mail) in person["emails"]
            after_orders += 1
    assert after_events > 0
    assert after_orders > 0
    assert sum(p["is_erased"] for p in raw.truth["persons"]) == len(erased)
