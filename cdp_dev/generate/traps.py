"""Identity traps designed into every run (batch 0), and the deletion requests.

The first people of batch 0 are cast in fixed roles so that even a 300-person demo
contains each trap a resolver must survive: a shared family tablet, a test email on
unrelated records, the `undefined` anonymous id, an office phone hub, a multi-hop
chain, and erased people whose data keeps arriving after their request.
"""

from __future__ import annotations

from cdp_dev.generate import shop
from cdp_dev.generate.catalog import (
    PLACEHOLDER_PHONES,
    TEST_EMAIL_VARIANTS,
    UNDEFINED_ANONYMOUS_ID,
    slug,
)
from cdp_dev.generate.crm import AccountPlan, ContactPlan
from cdp_dev.generate.events import Session
from cdp_dev.generate.people import (
    Person,
    email_variant,
    make_app_device,
    order_id_for,
    phone_form,
)
from cdp_dev.generate.state import BatchState
from cdp_dev.generate.timefmt import DAY_MS, HOUR_MS
from cdp_dev.generate.truth import Node

# Roles by position in batch 0 (person 0 stays an ordinary person).
TABLET_USERS = (1, 2)
CHAIN = 3
TEST_EMAIL_CUSTOMERS = (4, 5)
TEST_EMAIL_GUESTS = (6, 7)
TEST_EMAIL_CONTACTS = (8, 9)
OFFICE_HUB = (10, 11, 12, 13, 14)
ERASED_EVENT_AFTER = 15
ERASED_ORDER_AFTER = 16
UNDEFINED_USERS = (17, 18, 19, 20, 21)
MIN_PERSONS = 30
TABLET_ENTITY = "X0000001"  # truth person_key of the tablet: a device-only "person"


def _reset(p: Person) -> None:
    p.is_customer = p.is_guest = p.is_subscriber = p.is_contact = False
    p.undefined_bug = False
    p.created_before_window = True
    p.n_sessions = max(p.n_sessions, 3)


def assign(st: BatchState, people: list[Person]) -> None:
    """Cast batch 0's first people in the trap roles (before anything is simulated)."""
    if len(people) < MIN_PERSONS:
        raise ValueError(f"batch 0 needs at least {MIN_PERSONS} persons for the identity traps")
    r = st.r
    for i in (
        *TABLET_USERS,
        CHAIN,
        *TEST_EMAIL_CUSTOMERS,
        *TEST_EMAIL_GUESTS,
        *TEST_EMAIL_CONTACTS,
        *OFFICE_HUB,
        ERASED_EVENT_AFTER,
        ERASED_ORDER_AFTER,
    ):
        _reset(people[i])
    a, b = (people[i] for i in TABLET_USERS)
    tablet = make_app_device(r, "ios", a.country, tablet=True)
    tablet.shared = True
    tablet.logs_in = True
    for p in (a, b):
        p.is_customer = True
        p.tablet = tablet
        p.account_email = p.email
    chain = people[CHAIN]
    chain.is_customer = chain.is_contact = True
    chain.account_email = chain.email
    chain.no_shop_phone = True
    chain.devices = chain.devices[:1]  # one browser that logs in: the chain's first hop
    local, _, domain = chain.email.partition("@")
    chain.forced_contact_email = local.capitalize() + "@" + domain.upper() + " "
    for i, variant in zip(TEST_EMAIL_CUSTOMERS, TEST_EMAIL_VARIANTS[:2], strict=True):
        people[i].is_customer = True
        people[i].account_email = variant
    # ... and the all-zeros phone of someone who would not give theirs
    people[TEST_EMAIL_CUSTOMERS[0]].shop_phone = PLACEHOLDER_PHONES[0]
    st.placeholder_phones[PLACEHOLDER_PHONES[0]] = None
    for i, variant in zip(
        TEST_EMAIL_GUESTS, (TEST_EMAIL_VARIANTS[0], TEST_EMAIL_VARIANTS[2]), strict=True
    ):
        people[i].is_guest = True
        people[i].guest_email = variant
    for i, variant in zip(TEST_EMAIL_CONTACTS, TEST_EMAIL_VARIANTS[:2], strict=True):
        people[i].is_contact = True
        people[i].forced_contact_email = variant
    for i in OFFICE_HUB:
        people[i].is_contact = True
        people[i].hub = True
    for i, kind, subject in (
        (ERASED_EVENT_AFTER, "event", "customer_id"),
        (ERASED_ORDER_AFTER, "order", "email"),
    ):
        people[i].is_customer = True
        people[i].account_email = people[i].email
        people[i].after_kind = kind
        people[i].erase_subject_type = subject
    for i in UNDEFINED_USERS:
        people[i].undefined_bug = True
        people[i].n_sessions = max(people[i].n_sessions, 3)


def emit_tablet_entity(st: BatchState, people: list[Person]) -> None:
    """The tablet's own ids form a person of their own in the truth (nobody's device)."""
    tablet = people[TABLET_USERS[0]].tablet
    assert tablet is not None
    st.linker.link(
        TABLET_ENTITY, (("anonymous_id", tablet.anon_id), ("device_id", tablet.device_id))
    )


# --------------------------------------------------------------------------- deletions


def _subject_options(
    st: BatchState, p: Person, contact: ContactPlan | None
) -> list[tuple[str, str, Node]]:
    """Identifiers a request could name, all in the component the later data joins.

    A customer is named by the account's own identifiers (customer id, its email, its
    phone: one shop record links them, and the later event or guest order joins them).
    Anyone else by the email they typed at checkout or sign-up, or their CRM contact id
    when no data is to follow (a contact may be a separate person in the truth).
    """
    r = st.r
    email = ("email", email_variant(r, p.email, 0.3), ("email", p.email))
    if p.is_customer and p.customer_id:
        options = [("customer_id", p.customer_id, ("customer_id", p.customer_id))]
        if p.account_email == p.email:
            options.append(email)
        if p.shop_phone_real:
            options.append(("phone", phone_form(r, p.phone, None), ("phone", p.phone.e164)))
        return options
    options = []
    if p.email in (p.guest_email, p.newsletter_email):
        options.append(email)
    if contact is not None and contact.live and not (p.after_kind and options):
        options.append(("contact_id", contact.contact_id, ("contact_id", contact.contact_id)))
    return options


def _event_after(st: BatchState, p: Person, t: int) -> list[str]:
    """A visit after the request on a device the person logged in on: anon id + user id."""
    devices = [d for d in p.devices if d.logs_in and not d.shared and not d.sdk_bug]
    if not p.is_customer or not devices:
        return []
    dev = devices[0]
    n_before = len(st.events)
    s = Session(st, dev, t, p.customer_id, dev.anon_id)
    s.land()
    s.browse(1 + st.r.randrange(2), p.favourite_category, p.country.currency)
    st.linker.link(
        p.entity,
        (
            ("anonymous_id", dev.anon_id),
            ("customer_id", p.customer_id),
            ("device_id", dev.device_id) if dev.device_id else None,
        ),
    )
    return [row[0] for row in st.events[n_before:]]


def _order_after(st: BatchState, p: Person, t: int) -> list[str]:
    """A guest checkout after the request, with the person's email and nothing else."""
    if p.is_customer:
        email_used = p.account_email == p.email
    else:
        email_used = p.email in (p.guest_email, p.newsletter_email)
    if not email_used:
        return []
    order = shop.place_order(
        st, p, p.next_order, t, None, email_variant(st.r, p.email, 0.5), None, "web"
    )
    p.next_order += 1
    st.linker.link(p.entity, (("email", p.email),))
    return [order.order_id]


def emit_deletions(st: BatchState, people: list[Person], accounts: list[AccountPlan]) -> None:
    """Deletion requests for the erased people, and the data that arrives afterwards."""
    r, w = st.r, st.window
    contacts = {c.person.g: c for a in accounts for c in a.contacts}
    for p in people:
        if not p.erase:
            continue
        options = _subject_options(st, p, contacts.get(p.g))
        if not options:
            p.erase = False  # nothing identifies them: nobody could ask for erasure
            continue
        forced = [o for o in options if o[0] == p.erase_subject_type]
        subject_type, subject_raw, node = forced[0] if forced else r.choice(options)
        requested = p.stop_ms
        request_id = f"DSR-{p.g + 1:07d}"
        st.deletion_requests.append((request_id, subject_type, subject_raw, requested))
        st.linker.erase(node)
        p.stop_ms = w.end_ms  # what follows is the data that should never re-link
        t = (
            requested
            + HOUR_MS
            + int(r.random() * max(1, min(3 * DAY_MS, w.end_ms - requested - 2 * HOUR_MS)))
        )
        message_ids: list[str] = []
        order_ids: list[str] = []
        if p.after_kind == "event":
            message_ids = _event_after(st, p, t)
            if not message_ids:
                order_ids = _order_after(st, p, t)
        elif p.after_kind == "order":
            order_ids = _order_after(st, p, t)
        st.erased.append(
            {
                "node": node,
                "request_id": request_id,
                "subject_type": subject_type,
                "subject_id": subject_raw,
                "requested_at_ms": requested,
                "arrived_after": {"message_ids": message_ids, "order_ids": order_ids},
            }
        )


# --------------------------------------------------------------------------- extras


def _chain_guest_order(st: BatchState, chain: Person, contact: ContactPlan) -> dict[str, object]:
    """The chain's last hop: a guest order with only the CRM phone and a brand-new email."""
    r, w = st.r, st.window
    domains = [d for d in chain.country.email_domains if not chain.email.endswith("@" + d)]
    new_email = f"{slug(chain.first_name)}.{slug(chain.last_name)}.home{chain.g}@{domains[0]}"
    t = max(w.start_ms, contact.created_ms) + int(r.random() * w.span_ms * 0.5)
    t = min(t, w.end_ms - 2 * HOUR_MS)
    chain.stop_ms = w.end_ms
    order = shop.place_order(
        st, chain, chain.next_order, t, None, new_email, chain.phone.render("intl"), "web"
    )
    chain.next_order += 1
    st.linker.link(chain.entity, (("email", new_email), ("phone", chain.phone.e164)))
    return {"guest_order_id": order.order_id, "guest_email": new_email}


def emit_extras(st: BatchState, people: list[Person], accounts: list[AccountPlan]) -> None:
    """Trap records written after the main simulation, and their description for the truth."""
    contacts = {c.person.g: c for a in accounts for c in a.contacts}
    a, b = (people[i] for i in TABLET_USERS)
    tablet = a.tablet
    assert tablet is not None
    st.traps["shared_tablet"] = {
        "anonymous_id": tablet.anon_id,
        "device_id": tablet.device_id,
        "customer_ids": [a.customer_id, b.customer_id],
        "customer_person_nodes": [("customer_id", a.customer_id), ("customer_id", b.customer_id)],
        "tablet_person_node": ("anonymous_id", tablet.anon_id),
    }
    chain = people[CHAIN]
    chain_contact = contacts[chain.g]
    hops = _chain_guest_order(st, chain, chain_contact)
    anon = next(d.anon_id for d in chain.devices if not d.sdk_bug)
    st.traps["multi_hop_chain"] = {
        "anonymous_id": anon,
        "customer_id": chain.customer_id,
        "email": chain.email,
        "contact_id": chain_contact.contact_id,
        "contact_email_raw": chain_contact.email_raw,
        "phone": chain.phone.e164,
        **hops,
        "person_node": ("customer_id", chain.customer_id),
    }
    st.traps["test_email"] = {
        "value": TEST_EMAIL_VARIANTS[0],
        "variants": list(TEST_EMAIL_VARIANTS),
        "customer_ids": [people[i].customer_id for i in TEST_EMAIL_CUSTOMERS],
        "guest_order_ids": [
            order_id_for(people[i].g, k)
            for i in TEST_EMAIL_GUESTS
            for k in range(people[i].next_order)
        ],
        "contact_ids": [contacts[people[i].g].contact_id for i in TEST_EMAIL_CONTACTS],
    }
    hub_account = next(acc for acc in accounts if acc.office_phone is not None)
    assert hub_account.office_phone is not None
    st.traps["office_phone"] = {
        "phone": hub_account.office_phone.e164,
        "raw_values": sorted({c.phone_raw for c in hub_account.contacts if c.phone_raw}),
        "account_id": hub_account.account_id,
        "contact_ids": [c.contact_id for c in hub_account.contacts],
    }
    st.traps["undefined_anonymous_id"] = {
        "value": UNDEFINED_ANONYMOUS_ID,
        "designed_users_customer_ids": [
            people[i].customer_id for i in UNDEFINED_USERS if people[i].customer_id
        ],
    }
