"""One batch of people, simulated end to end: devices, sessions, accounts, orders, consent.

Per-person attributes are drawn for the whole batch at once with numpy; the life of each
person (a handful of sessions, logins, orders) is a short Python loop driven by a
`random.Random` seeded from the batch's numpy generator, because scalar numpy draws are
~20x slower than `random` for this kind of branching code.
"""

from __future__ import annotations

import random

import numpy as np

from cdp_dev.generate import crm, shop, traps
from cdp_dev.generate.catalog import (
    COUNTRY_WEIGHTS,
    PLACEHOLDER_EMAILS,
    PLACEHOLDER_PHONES,
    STATIC_PAGES,
    UNDEFINED_ANONYMOUS_ID,
    compact_json,
)
from cdp_dev.generate.events import Session, campaign_send_times, email_events, session_anon
from cdp_dev.generate.people import (
    Device,
    Person,
    customer_id_for,
    email_variant,
    make_device,
    new_person,
    phone_form,
)
from cdp_dev.generate.state import BatchState, Window
from cdp_dev.generate.timefmt import DAY_MS, HOUR_MS
from cdp_dev.generate.truth import Linker

_DEVICE_KINDS = ("desktop", "mobile_web", "ios", "android")
# Local hour-of-day weights for session starts (quiet nights, lunch and evening peaks).
_HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 7, 8, 9, 8, 7, 7, 7, 8, 10, 12, 12, 10, 6, 3)
_HOURS = tuple(range(24))
STATIC_TITLES = dict(STATIC_PAGES)


def batch_generators(seed: int, batch_index: int) -> tuple[np.random.Generator, random.Random]:
    """The batch's numpy generator (seed, batch index) and a `random.Random` derived from it."""
    rng = np.random.default_rng([seed, batch_index])
    return rng, random.Random(int(rng.integers(0, 2**63 - 1)))


def session_time(r: random.Random, lo: int, hi: int) -> int:
    """A time in [lo, hi) on a random day at a plausible hour (falls back to uniform)."""
    if hi - lo < 2 * DAY_MS:
        return lo + int(r.random() * max(1, hi - lo))
    t = lo + int(r.random() * (hi - lo))
    hour = r.choices(_HOURS, _HOUR_WEIGHTS)[0]
    t = t - t % DAY_MS + hour * HOUR_MS + r.randrange(HOUR_MS)
    return t if lo <= t < hi else lo + int(r.random() * (hi - lo))


# --------------------------------------------------------------------------- people


def make_people(st: BatchState, g0: int, g1: int) -> list[Person]:
    """The batch's people with roles drawn as vectors (one numpy call per attribute)."""
    rng, r, w = st.rng, st.r, st.window
    n = g1 - g0
    country = rng.choice(
        len(COUNTRY_WEIGHTS), size=n, p=np.array(COUNTRY_WEIGHTS) / sum(COUNTRY_WEIGHTS)
    )
    is_customer = rng.random(n) < 0.38
    is_guest = ~is_customer & (rng.random(n) < 0.22)
    is_subscriber = rng.random(n) < 0.22
    is_contact = rng.random(n) < 0.12
    n_devices = rng.choice(3, size=n, p=[0.5, 0.35, 0.15]) + 1
    activity = rng.lognormal(0.0, 0.9, size=n)
    n_sessions = 1 + rng.poisson(1.0 * activity)
    numeric_id = rng.random(n) < 0.2
    before = rng.random(n) < 0.4
    favourite = rng.integers(0, 8, size=n)
    sdk_bug = rng.random(n) < 0.01
    people = []
    for i in range(n):
        p = new_person(r, g0 + i, int(country[i]), w.end_ms)
        p.is_customer = bool(is_customer[i])
        p.is_guest = bool(is_guest[i])
        p.is_subscriber = bool(is_subscriber[i])
        p.is_contact = bool(is_contact[i])
        p.activity = float(activity[i])
        p.n_sessions = min(int(n_sessions[i]), 150)
        p.numeric_customer_id = bool(numeric_id[i])
        p.created_before_window = bool(before[i])
        p.favourite_category = int(favourite[i])
        p.undefined_bug = bool(sdk_bug[i])
        first_kind = r.choices(_DEVICE_KINDS, (50, 30, 11, 9))[0]
        kinds = [first_kind] + [r.choice(_DEVICE_KINDS) for _ in range(int(n_devices[i]) - 1)]
        p.devices = [make_device(r, kind, p.country) for kind in kinds]
        people.append(p)
    return people


def choose_erasures(st: BatchState, people: list[Person]) -> None:
    """About 0.5% of people file a deletion request (those with an identifier to name);
    they stop at the request, and for some data keeps arriving afterwards."""
    r, w = st.r, st.window
    for p in people:
        designed = bool(p.after_kind)
        if not designed and (p.hub or p.tablet is not None or p.forced_contact_email is not None):
            continue
        if designed or r.random() < 0.0075:  # ~2/3 can be named: ~0.5% file a request
            p.erase = True
            lo = w.start_ms + w.span_ms * 45 // 100
            hi = max(lo + 1, w.end_ms - 4 * DAY_MS)
            p.stop_ms = lo + int(r.random() * (hi - lo))
            if not designed and r.random() < 0.4:
                p.after_kind = "event" if p.is_customer and r.random() < 0.5 else "order"


def assign_accounts(st: BatchState, p: Person) -> None:
    """Customer id, sign-up time, the email and phone typed into the shop account."""
    r, w = st.r, st.window
    p.customer_id = customer_id_for(p.g, p.numeric_customer_id)
    if p.created_before_window:
        p.customer_created_ms = w.start_ms - r.randrange(DAY_MS, 730 * DAY_MS)
    else:
        p.customer_created_ms = w.start_ms + int(r.random() * (p.stop_ms - w.start_ms) * 0.85)
    if p.account_email is None:
        if r.random() < 0.006:
            p.account_email = r.choice(PLACEHOLDER_EMAILS)
        else:
            p.account_email = p.email
    if p.account_email != p.email:
        st.placeholder_emails[p.account_email] = None
    if p.shop_phone is None and not p.no_shop_phone:
        x = r.random()
        if x < 0.75:
            p.shop_phone = phone_form(r, p.phone, p.country.code)
            p.shop_phone_real = True
        elif x < 0.77:
            p.shop_phone = r.choice(PLACEHOLDER_PHONES)
            st.placeholder_phones[p.shop_phone] = None
    p.accepts_marketing = r.random() < 0.55
    for i, dev in enumerate(p.devices):
        dev.logs_in = i == 0 or r.random() < 0.6


# --------------------------------------------------------------------------- one person


def _identify_traits(st: BatchState, p: Person) -> tuple[str, list]:
    """Traits of a login identify, and the identifier nodes they carry."""
    r = st.r
    typed = email_variant(r, p.email) if p.account_email == p.email else p.account_email
    traits = {"email": typed, "first_name": p.first_name, "last_name": p.last_name}
    nodes: list = []
    if p.account_email == p.email:
        nodes.append(("email", p.email))
    if p.shop_phone_real and p.shop_phone is not None:
        traits["phone"] = phone_form(r, p.phone, None)
        nodes.append(("phone", p.phone.e164))
    return compact_json(traits), nodes


def _plan_sessions(st: BatchState, p: Person) -> list[tuple[int, int, str]]:
    """(time, device index, kind) of every visit, in time order."""
    r, w = st.r, st.window
    lo, hi = w.start_ms, p.stop_ms - HOUR_MS
    n_dev = len(p.devices)
    n = p.n_sessions
    if p.is_contact and not (p.is_customer or p.is_guest or p.is_subscriber) and r.random() < 0.4:
        n = 0
    sessions = [
        (session_time(r, lo, hi), 0 if r.random() < 0.45 else r.randrange(n_dev), "browse")
        for _ in range(n)
    ]
    if p.is_customer:
        created = p.customer_created_ms
        if created >= lo:
            sessions.append((created, 0, "signup"))
        first = max(lo, created + HOUR_MS)
        n_orders = min(int(r.expovariate(1.0) * p.activity * w.span_ms / (80 * DAY_MS)), 30)
        for _ in range(n_orders):
            if first < hi - HOUR_MS:
                sessions.append((session_time(r, first, hi), r.randrange(n_dev), "order"))
        if p.tablet is not None:
            sessions.append((session_time(r, first, hi), n_dev, "browse"))
            sessions.append((session_time(r, first, hi), n_dev, "browse"))
    elif p.is_guest:
        for _ in range(1 if r.random() < 0.8 else 2):
            sessions.append((session_time(r, lo, hi), r.randrange(n_dev), "order"))
    sessions.sort()
    if p.undefined_bug and sessions and sessions[0][1] != 0:
        sessions[0] = (sessions[0][0], 0, sessions[0][2])  # the buggy SDK shows up for sure
    if p.is_subscriber:
        browse = [i for i, s in enumerate(sessions) if s[2] == "browse" and s[1] < n_dev]
        if browse:
            i = r.choice(browse)
            sessions[i] = (sessions[i][0], sessions[i][1], "newsletter")
    return sessions


def simulate_person(st: BatchState, p: Person, sends: list[tuple[int, int]]) -> None:
    """Everything one person does in the shop, the apps and the inbox."""
    r = st.r
    linker = st.linker
    if p.is_customer:
        assign_accounts(st, p)
        versions = shop.customer_versions(st, p, phone_later=p.shop_phone_real and r.random() < 0.1)
        st.shop_customers.extend(versions)
        final = versions[-1]
        p.shop_phone_real = p.shop_phone_real and final[2] is not None
        linker.link(
            p.entity,
            (
                ("customer_id", p.customer_id),
                ("email", p.email) if p.account_email == p.email else None,
                ("phone", p.phone.e164) if p.shop_phone_real else None,
            ),
        )
        _customer_consent(st, p)
    devices = p.devices + ([p.tablet] if p.tablet is not None else [])
    if p.undefined_bug:
        devices[0].sdk_bug = True
        st.undefined_people += 1
    logged = [False] * len(devices)
    seen = [False] * len(devices)
    for t, d, kind in _plan_sessions(st, p):
        dev = devices[d]
        first_on_device = not seen[d]
        seen[d] = True
        anon = session_anon(dev, r, first_on_device)
        user, login_now = _login_state(st, p, dev, kind, t, logged, d)
        nodes = _run_session(st, p, dev, t, kind, anon, user, login_now, first_on_device)
        linker.link(p.entity, nodes)
    _marketing_email(st, p, sends)


def _login_state(
    st: BatchState, p: Person, dev: Device, kind: str, t: int, logged: list[bool], d: int
) -> tuple[str | None, bool]:
    """(user id sent from the start, whether this visit logs in): a device logs in once,
    then mostly stays logged in; sign-ups and checkouts always happen logged in."""
    if not p.is_customer or t < p.customer_created_ms:
        return None, False
    if kind in ("signup", "order") or dev.shared:
        dev.logs_in = True
    if not dev.logs_in:
        return None, False
    if not logged[d]:
        logged[d] = True
        return None, True
    if kind == "order" or st.r.random() < 0.88:
        return p.customer_id, False
    return None, False


def _run_session(
    st: BatchState,
    p: Person,
    dev: Device,
    t: int,
    kind: str,
    anon: str,
    user: str | None,
    login_now: bool,
    first_on_device: bool,
) -> list:
    """One visit's events (and its order); returns the identifier nodes it links."""
    r = st.r
    s = Session(st, dev, t, user, anon)
    n_before = len(st.events)
    s.land()
    nodes: list = []
    if first_on_device and not dev.is_app and not dev.shared and r.random() < 0.5:
        _banner_consent(st, dev.anon_id, t)
    if login_now:
        path = "/account/register" if kind == "signup" else "/login"
        s.view(path, STATIC_TITLES[path], "Account")
        s.user = p.customer_id
        traits, trait_nodes = _identify_traits(st, p)
        s.identify(traits)
        nodes.extend(trait_nodes)
        if kind == "signup" and anon != UNDEFINED_ANONYMOUS_ID and r.random() < 0.4:
            s.alias(anon)
    s.browse(int(r.expovariate(1 / 1.7)), p.favourite_category, p.country.currency)
    if kind == "newsletter":
        _newsletter(st, p, s, nodes)
    if kind == "order":
        email, phone, cid = _order_contact(st, p, s.ts)
        channel = "app" if dev.is_app else "web"
        order = shop.place_order(st, p, p.next_order, s.ts, cid, email, phone, channel)
        p.next_order += 1
        s.checkout(order.order_id, order.lines, order.currency, order.amounts)
        _link_order(st, p, cid, email, phone)
    if anon == UNDEFINED_ANONYMOUS_ID:
        st.undefined_events += len(st.events) - n_before
    if s.user is not None:
        nodes.append(("customer_id", s.user))
    if not dev.shared:  # the family tablet's ids are nobody's: its own truth person
        if anon != UNDEFINED_ANONYMOUS_ID:
            nodes.append(("anonymous_id", anon))
        if dev.device_id is not None:
            nodes.append(("device_id", dev.device_id))
    return nodes


def _order_contact(st: BatchState, p: Person, t: int) -> tuple[str | None, str | None, str | None]:
    """(email, phone, customer_id) written on an order: the account, or what a guest types."""
    r = st.r
    if p.is_customer:
        email = email_variant(r, p.email) if p.account_email == p.email else p.account_email
        phone = phone_form(r, p.phone, None) if p.shop_phone_real else None
        return email, phone, p.customer_id
    if p.guest_email is None:
        if r.random() < 0.015:
            p.guest_email = r.choice(PLACEHOLDER_EMAILS)
        else:
            p.guest_email = p.email
    if p.guest_email.strip().lower() != p.email:
        st.placeholder_emails[p.guest_email] = None
    email = email_variant(r, p.guest_email) if p.guest_email == p.email else p.guest_email
    x = r.random()
    if x < 0.6:
        phone = phone_form(r, p.phone, None)
    elif x < 0.62:
        phone = r.choice(PLACEHOLDER_PHONES)
        st.placeholder_phones[phone] = None
    else:
        phone = None
    if r.random() < 0.5:
        st.consent.append(
            (
                "email",
                email,
                "email_marketing",
                "granted" if r.random() < 0.6 else "denied",
                "checkout",
                t,
            )
        )
    return email, phone, None


def _link_order(
    st: BatchState, p: Person, cid: str | None, email: str | None, phone: str | None
) -> None:
    real_email = email is not None and email.strip().lower() == p.email
    real_phone = phone is not None and phone not in PLACEHOLDER_PHONES
    st.linker.link(
        p.entity,
        (
            ("customer_id", cid) if cid else None,
            ("email", p.email) if real_email else None,
            ("phone", p.phone.e164) if real_phone else None,
        ),
    )


def _newsletter(st: BatchState, p: Person, s: Session, nodes: list) -> None:
    """Sign-up form: an identify with the anonymous id and traits.email only (no userId)."""
    r = st.r
    email = p.newsletter_email or p.email
    raw = email_variant(r, email)
    s.view("/newsletter", "Newsletter | Northwind Goods", "Account")
    user, s.user = s.user, None
    s.identify(compact_json({"email": raw}))
    s.user = user
    nodes.append(("email", email))
    p.newsletter_email = email
    p.newsletter_ms = s.ts
    st.consent.append(("email", raw, "email_marketing", "granted", "web_form", s.ts))


def _banner_consent(st: BatchState, anon: str, t: int) -> None:
    r = st.r
    st.consent.append(
        (
            "anonymous_id",
            anon,
            "analytics",
            "granted" if r.random() < 0.75 else "denied",
            "cookie_banner",
            t,
        )
    )
    st.consent.append(
        (
            "anonymous_id",
            anon,
            "advertising",
            "granted" if r.random() < 0.55 else "denied",
            "cookie_banner",
            t,
        )
    )


def _customer_consent(st: BatchState, p: Person) -> None:
    """Grants at sign-up on the customer id; withdrawals often on another identifier."""
    r, stop = st.r, p.stop_ms
    created = p.customer_created_ms
    source = "checkout" if r.random() < 0.5 else "web_form"
    st.consent.append(
        (
            "customer_id",
            p.customer_id,
            "email_marketing",
            "granted" if p.accepts_marketing else "denied",
            source,
            created,
        )
    )
    later_lo = max(created, st.window.start_ms) + DAY_MS
    if p.accepts_marketing and p.account_email == p.email and r.random() < 0.2:
        t = later_lo + int(r.random() * max(0, stop - later_lo))
        if t < stop:
            raw = email_variant(r, p.email, rate=0.3)
            src = "email_unsubscribe" if r.random() < 0.6 else "preference_center"
            st.consent.append(("email", raw, "email_marketing", "withdrawn", src, t))
            p.email_withdrawn_ms = t
            if r.random() < 0.25:
                t2 = t + r.randrange(DAY_MS, 30 * DAY_MS)
                if t2 < stop:
                    st.consent.append(
                        (
                            "user_id",
                            p.customer_id,
                            "email_marketing",
                            "granted",
                            "preference_center",
                            t2,
                        )
                    )
    if p.shop_phone_real and r.random() < 0.35:
        st.consent.append(
            ("customer_id", p.customer_id, "sms_marketing", "granted", source, created)
        )
        if r.random() < 0.2:
            t = later_lo + int(r.random() * max(0, stop - later_lo))
            if t < stop:
                st.consent.append(
                    (
                        "phone",
                        phone_form(r, p.phone, None),
                        "sms_marketing",
                        "withdrawn",
                        "sms_stop",
                        t,
                    )
                )
    if r.random() < 0.1:
        t = later_lo + int(r.random() * max(0, stop - later_lo))
        if t < stop:
            st.consent.append(
                (
                    "user_id",
                    p.customer_id,
                    "personalization",
                    "granted" if r.random() < 0.7 else "denied",
                    "preference_center",
                    t,
                )
            )


def _marketing_email(st: BatchState, p: Person, sends: list[tuple[int, int]]) -> None:
    """Campaign emails to whoever opted in: the shop account or the newsletter address."""
    if p.is_customer and p.accepts_marketing and p.account_email == p.email:
        email, opt_in, user = p.email, p.customer_created_ms, p.customer_id
    elif p.newsletter_email is not None:
        email, opt_in, user = p.newsletter_email, p.newsletter_ms, p.customer_id
    else:
        return
    stop = p.email_withdrawn_ms or p.stop_ms
    n_before = len(st.events)
    raw = email_variant(st.r, email, rate=0.03)
    if email_events(st, raw, user, opt_in, stop, sends):
        with_user = any(row[4] is not None for row in st.events[n_before:])
        st.linker.link(p.entity, (("email", email), ("customer_id", user) if with_user else None))


# --------------------------------------------------------------------------- the batch


def simulate_batch(
    seed: int, batch_index: int, g0: int, g1: int, window: Window, linker: Linker
) -> BatchState:
    """All rows of people [g0, g1): deterministic in (seed, batch_index, window)."""
    rng, r = batch_generators(seed, batch_index)
    st = BatchState(index=batch_index, rng=rng, r=r, window=window, linker=linker)
    people = make_people(st, g0, g1)
    if batch_index == 0:
        traps.assign(st, people)
    choose_erasures(st, people)
    accounts = crm.plan_accounts(st, people, first_number=g0)
    for account in accounts:
        for c in account.contacts:
            p = c.person
            if p.is_subscriber and not p.is_customer and c.email_norm and r.random() < 0.5:
                p.newsletter_email = c.email_norm
    sends = campaign_send_times(window.start_ms, window.end_ms)
    for p in people:
        simulate_person(st, p, sends)
    if batch_index == 0:
        traps.emit_tablet_entity(st, people)
    crm.emit_crm(st, accounts)
    traps.emit_deletions(st, people, accounts)
    if batch_index == 0:
        traps.emit_extras(st, people, accounts)
    return st
