"""The B2B CRM: accounts, contacts (lifecycle CDC, soft deletes), deals and tickets.

Contacts are simulated people too: some are also shop customers, written with the same
email in another case or with the same mobile number, which is what lets a resolver
join B2B and B2C records of one human.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdp_dev.generate.catalog import (
    COMPANY_WORDS_1,
    COMPANY_WORDS_2,
    DEAL_PRODUCTS,
    DEAL_STAGES,
    INDUSTRIES,
    JOB_TITLES,
    LEAD_SOURCES,
    LIFECYCLE_STAGES,
    PLACEHOLDER_EMAILS,
    PLACEHOLDER_PHONES,
    TICKET_CHANNELS,
    TICKET_PRIORITIES,
    TICKET_SUBJECTS,
    Country,
    Phone,
    format_money,
    slug,
)
from cdp_dev.generate.people import Person, contact_id_for, email_variant, phone_form
from cdp_dev.generate.state import BatchState
from cdp_dev.generate.timefmt import DAY_MS, HOUR_MS, MINUTE_MS, NULL_TS

# Office switchboards use the work-phone scheme from this index up (direct lines use the
# person's index), which bounds a run at 10 million persons.
OFFICE_PHONE_BASE = 10_000_000


@dataclass
class ContactPlan:
    person: Person
    contact_id: str
    email_raw: str | None
    email_norm: str | None
    phone_raw: str | None
    phone_norm: str | None
    deleted: bool
    created_ms: int = 0
    live: bool = True  # False once the soft-delete version is written


@dataclass
class AccountPlan:
    number: int
    account_id: str
    name: str
    domain: str
    country: Country
    office_phone: Phone | None = None
    contacts: list[ContactPlan] = field(default_factory=list)


def account_identity(number: int, country: Country) -> tuple[str, str]:
    """(name, domain): the domain is unique per account number (work emails depend on it)."""
    w1 = COMPANY_WORDS_1[number % len(COMPANY_WORDS_1)]
    rest = number // len(COMPANY_WORDS_1)
    w2 = COMPANY_WORDS_2[rest % len(COMPANY_WORDS_2)]
    series = rest // len(COMPANY_WORDS_2)
    name = f"{w1} {w2}{country.company_suffix}"
    domain = slug(w1) + slug(w2) + (str(series) if series else "") + country.company_tld
    return name, domain


def _chunk_sizes(st: BatchState, n: int) -> list[int]:
    sizes = []
    while n > 0:
        size = min(n, st.r.choice((1, 1, 2, 2, 3, 3, 4, 5, 6, 8)))
        sizes.append(size)
        n -= size
    return sizes


def plan_accounts(st: BatchState, people: list[Person], first_number: int) -> list[AccountPlan]:
    """Group the batch's contacts into companies; the office-phone hub gets its own account."""
    r = st.r
    hub = [p for p in people if p.is_contact and p.hub]
    others = [p for p in people if p.is_contact and not p.hub]
    r.shuffle(others)
    groups: list[list[Person]] = [hub] if hub else []
    start = 0
    for size in _chunk_sizes(st, len(others)):
        groups.append(others[start : start + size])
        start += size
    accounts = []
    for k, members in enumerate(groups):
        number = first_number + k
        country = members[0].country
        name, domain = account_identity(number, country)
        account = AccountPlan(number, f"001{number:09d}", name, domain, country)
        if members[0].hub:
            account.office_phone = country.work_phone(OFFICE_PHONE_BASE + number)
        taken: dict[str, None] = {}
        for p in members:
            account.contacts.append(plan_contact(st, p, account, taken))
        accounts.append(account)
    _ensure_a_soft_delete(accounts)
    return accounts


def _ensure_a_soft_delete(accounts: list[AccountPlan]) -> None:
    """Every batch has at least one soft-deleted contact (a dirt class the checks expect)."""
    plans = [c for a in accounts for c in a.contacts]
    if any(c.deleted for c in plans):
        return
    for c in plans:
        p = c.person
        if not (p.hub or p.forced_contact_email is not None or p.erase):
            c.deleted = True
            return


def _work_email(p: Person, domain: str, taken: dict[str, None]) -> str:
    local = f"{slug(p.first_name)}.{slug(p.last_name)}"
    if local in taken:
        local = f"{local}{p.g}"
    taken[local] = None
    return f"{local}@{domain}"


def plan_contact(
    st: BatchState, p: Person, account: AccountPlan, taken: dict[str, None]
) -> ContactPlan:
    """Which email and phone the CRM holds for this person (and whether it is deleted)."""
    r = st.r
    email_raw: str | None
    email_norm: str | None
    if p.forced_contact_email is not None:
        email_raw, email_norm = p.forced_contact_email, None
        if p.forced_contact_email.strip().lower() == p.email:
            email_norm = p.email  # the multi-hop chain: same email, written differently
        else:
            st.placeholder_emails[email_raw] = None
    elif p.is_customer and p.account_email == p.email and r.random() < 0.55:
        email_raw, email_norm = email_variant(r, p.email, rate=1.0), p.email
    else:
        x = r.random()
        if x < 0.02:
            email_raw = email_norm = None
        elif x < 0.03:
            email_raw, email_norm = r.choice(PLACEHOLDER_EMAILS[1:]), None
            st.placeholder_emails[email_raw] = None
        else:
            email_norm = _work_email(p, account.domain, taken)
            email_raw = email_variant(r, email_norm, rate=0.03)
    phone_raw: str | None
    phone_norm: str | None
    if account.office_phone is not None:
        # the switchboard, typed differently by each contact (the k-th contact's form)
        form = ("intl", "00", "e164", "national")[len(account.contacts) % 4]
        if form == "national" and p.country.code != account.office_phone.region:
            form = "intl"
        phone_raw, phone_norm = account.office_phone.render(form), None
    elif p.forced_contact_email is not None and email_norm is not None:
        phone_raw, phone_norm = p.phone.render("national"), p.phone.e164
    else:
        x = r.random()
        if x < 0.40:
            phone_raw, phone_norm = phone_form(r, p.phone, p.country.code), p.phone.e164
        elif x < 0.75:
            work = p.country.work_phone(p.g)
            phone_raw, phone_norm = phone_form(r, work, p.country.code), work.e164
        elif x < 0.97:
            phone_raw = phone_norm = None
        else:
            phone_raw, phone_norm = r.choice(PLACEHOLDER_PHONES), None
            st.placeholder_phones[phone_raw] = None
    special = p.hub or p.forced_contact_email is not None or p.erase
    deleted = not special and r.random() < 0.03
    return ContactPlan(
        p, contact_id_for(p.g), email_raw, email_norm, phone_raw, phone_norm, deleted
    )


def _time_between(st: BatchState, lo: int, hi: int) -> int:
    return lo if hi <= lo else lo + int(st.r.random() * (hi - lo))


def emit_account(st: BatchState, account: AccountPlan) -> None:
    r = st.r
    w = st.window
    created = w.start_ms - r.randrange(30 * DAY_MS, 900 * DAY_MS)
    employees = int(r.lognormvariate(4.0, 1.5)) + 2
    revenue = employees * r.randrange(60_000, 260_000) * 100
    row = [
        account.account_id,
        account.name,
        account.domain,
        r.choice(INDUSTRIES),
        str(employees),
        format_money(revenue, "USD"),
        account.country.code,
        created,
        created,
    ]
    st.crm_accounts.append(tuple(row))
    if r.random() < 0.2:
        row[4] = str(max(2, int(employees * r.uniform(0.8, 1.4))))
        row[8] = _time_between(st, w.start_ms, w.end_ms)
        st.crm_accounts.append(tuple(row))


def emit_contact(st: BatchState, account: AccountPlan, c: ContactPlan) -> None:
    """Lifecycle CDC versions, an optional soft delete, and the identity links."""
    r = st.r
    w = st.window
    p = c.person
    stop = p.stop_ms
    if r.random() < 0.5:
        created = w.start_ms - r.randrange(DAY_MS, 400 * DAY_MS)
    else:
        created = _time_between(st, w.start_ms, w.start_ms + (stop - w.start_ms) * 4 // 5)
    c.created_ms = created
    stage = r.choice((0, 0, 1, 1, 2))
    steps = r.choice((0, 1, 1, 2, 2, 3))
    base = [
        c.contact_id,
        account.account_id,
        c.email_raw,
        c.phone_raw,
        p.first_name,
        p.last_name,
        r.choice(JOB_TITLES),
        LIFECYCLE_STAGES[stage],
        r.choice(LEAD_SOURCES),
        p.country.code,
        p.city,
        p.postal_code,
        created,
        created,
        "false",
    ]
    st.crm_contacts.append(tuple(base))
    t = created
    for _ in range(steps):
        t += r.randrange(DAY_MS, 30 * DAY_MS)
        if t >= stop or stage + 1 >= len(LIFECYCLE_STAGES):
            break
        stage += 1
        base[7], base[13] = LIFECYCLE_STAGES[stage], t
        st.crm_contacts.append(tuple(base))
    if c.deleted:
        t = min(t + r.randrange(DAY_MS, 20 * DAY_MS), stop - HOUR_MS)
        if t > base[13]:
            base[13], base[14] = t, "true"
            st.crm_contacts.append(tuple(base))
            c.live = False
    if c.live:
        st.linker.link(
            p.entity,
            (
                ("contact_id", c.contact_id),
                ("email", c.email_norm) if c.email_norm else None,
                ("phone", c.phone_norm) if c.phone_norm else None,
            ),
        )
        emit_contact_consent(st, c)


def emit_contact_consent(st: BatchState, c: ContactPlan) -> None:
    """Marketing permission captured in the CRM; some later withdrawn on another identifier."""
    r = st.r
    if r.random() >= 0.6:
        return
    stop = c.person.stop_ms
    st.consent.append(
        ("contact_id", c.contact_id, "email_marketing", "granted", "crm", c.created_ms)
    )
    if r.random() < 0.2:
        t = _time_between(st, max(c.created_ms, st.window.start_ms) + HOUR_MS, stop)
        if t < stop:
            if c.email_norm and r.random() < 0.6:
                st.consent.append(
                    ("email", c.email_raw, "email_marketing", "withdrawn", "preference_center", t)
                )
            else:
                st.consent.append(
                    ("contact_id", c.contact_id, "email_marketing", "withdrawn", "crm", t)
                )


def emit_deals(st: BatchState, account: AccountPlan) -> None:
    """Opportunities moving through stages (CDC); closed ones carry closed_at and is_won."""
    r = st.r
    w = st.window
    live = [c for c in account.contacts if c.live]
    if not live:
        return
    currency = account.country.currency
    for j in range(r.choice((0, 1, 1, 2, 2, 3, 4))):
        c = r.choice(live)
        stop = c.person.stop_ms
        created = _time_between(st, w.start_ms - 150 * DAY_MS, stop - DAY_MS)
        amount = format_money(
            r.randrange(2_000, 250_000) * (100 if currency != "JPY" else 150), currency
        )
        name = f"{account.name.split(' ')[0]} - {r.choice(DEAL_PRODUCTS)}"
        deal_id = f"006{account.number:09d}{j}"
        t = created
        # half the deals end (won or lost), the others stop in an open stage
        x = r.random()
        final = r.randrange(len(DEAL_STAGES)) if x < 0.5 else len(DEAL_STAGES) + (x >= 0.75)
        for s in range(min(final, len(DEAL_STAGES) - 1) + 1):
            if t >= stop:
                break
            st.crm_deals.append(
                (
                    deal_id,
                    account.account_id,
                    c.contact_id,
                    name,
                    DEAL_STAGES[s],
                    amount,
                    currency,
                    created,
                    t,
                    NULL_TS,
                    None,
                )
            )
            t += r.randrange(2 * DAY_MS, 20 * DAY_MS)
        if final >= len(DEAL_STAGES) and t < stop:
            won = final == len(DEAL_STAGES)
            st.crm_deals.append(
                (
                    deal_id,
                    account.account_id,
                    c.contact_id,
                    name,
                    "closed_won" if won else "closed_lost",
                    amount,
                    currency,
                    created,
                    t,
                    t,
                    "true" if won else "false",
                )
            )


def emit_tickets(st: BatchState, c: ContactPlan) -> None:
    """Support tickets: new -> open -> solved -> closed, CSAT on some resolved ones."""
    r = st.r
    w = st.window
    stop = c.person.stop_ms
    for j in range(r.choice((0, 0, 0, 1, 1, 2))):
        created = _time_between(st, max(w.start_ms, c.created_ms), stop - HOUR_MS)
        ticket_id = f"500{c.person.g + 1:09d}{j}"
        channel, subject = r.choice(TICKET_CHANNELS), r.choice(TICKET_SUBJECTS)
        priority = r.choice(TICKET_PRIORITIES)
        path = ("new", "open", "solved", "closed")[: r.choice((1, 2, 3, 3, 4, 4))]
        csat = str(r.choice((1, 2, 3, 4, 4, 5, 5, 5))) if r.random() < 0.7 else None
        t = created
        resolved = NULL_TS
        for status in path:
            if t >= stop:
                break
            if status == "solved":
                resolved = t
            done = status in ("solved", "closed")
            st.crm_tickets.append(
                (
                    ticket_id,
                    c.contact_id,
                    channel,
                    subject,
                    status,
                    priority,
                    csat if done else None,
                    created,
                    t,
                    resolved,
                )
            )
            t += r.randrange(20 * MINUTE_MS, 3 * DAY_MS)


def emit_crm(st: BatchState, accounts: list[AccountPlan]) -> None:
    for account in accounts:
        emit_account(st, account)
        for c in account.contacts:
            emit_contact(st, account, c)
            if c.live:
                emit_tickets(st, c)
        emit_deals(st, account)
