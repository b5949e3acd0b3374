"""The simulated humans and their devices, and how they write their own identifiers.

A `Person` is one human of the simulation (not a resolved profile: the ground truth
decides which identifiers a correct resolver can tie together). Ids are derived from
the person's global index, so they are unique across batches without shared state.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from cdp_dev.generate.catalog import (
    ANDROID_MODELS,
    APP_VERSIONS,
    COUNTRIES,
    DESKTOP_AGENTS,
    IOS_MODELS,
    MOBILE_AGENTS,
    TABLET_MODEL,
    Country,
    Phone,
    compact_json,
    slug,
)

# ---------------------------------------------------------------------------- ids


def uuid4(r: random.Random, upper: bool = False) -> str:
    """A random version-4 UUID from the batch's generator (uuid.uuid4 would be unseeded)."""
    h = f"{r.getrandbits(128):032x}"
    text = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"
    return text.upper() if upper else text


def customer_id_for(g: int, numeric: bool) -> str:
    """`C0001234`, or a legacy numeric-looking id with leading zeros (`0001234`)."""
    return f"{g + 1:07d}" if numeric else f"C{g + 1:07d}"


def contact_id_for(g: int) -> str:
    """CRM contact id: numeric-looking with leading zeros (Salesforce-style 003 prefix)."""
    return f"003{g + 1:09d}"


def order_id_for(g: int, k: int) -> str:
    """Shop order number: numeric-looking, zero-padded, unique per (person, k)."""
    return f"{(g + 1) * 100 + k:011d}"


# ---------------------------------------------------------------------------- writing


def email_variant(r: random.Random, email: str, rate: float = 0.05) -> str:
    """How a person types their email: mostly clean, sometimes capitals or stray spaces."""
    if r.random() >= rate:
        return email
    local, _, domain = email.partition("@")
    choice = r.randrange(5)
    if choice == 0:
        return local.capitalize() + "@" + domain.capitalize()
    if choice == 1:
        return email.upper()
    if choice == 2:
        return " " + email
    if choice == 3:
        return email + "  "
    return " " + local.title() + "@" + domain + " "


def phone_form(r: random.Random, phone: Phone, record_country: str | None) -> str:
    """A written form of the phone that still reads back to its E.164.

    The national form needs the reader to know the number's country: it is used only
    when the record's own country is the phone's (or, for North American numbers, when
    the record has no country and readers default to US, or is US/CA itself).
    """
    x = r.random()
    nanp = phone.cc == "1" and record_country in (None, "US", "CA")
    if (nanp or record_country == phone.region) and x < 0.40:
        return phone.render("national")
    if x < 0.65:
        return phone.render("intl")
    if x < 0.78:
        return phone.render("00")
    return phone.render("e164")


# ---------------------------------------------------------------------------- devices


@dataclass(slots=True)
class Device:
    """A browser (cookie = anonymous id) or an app install (anonymous id + device id)."""

    kind: str  # desktop | mobile_web | ios | android
    anon_id: str
    device_id: str | None
    source: str  # web | ios | android
    ctx_head: str  # context JSON text without its closing brace (web adds page/campaign)
    logs_in: bool = False
    shared: bool = False  # the family tablet: its ids belong to no single person
    sdk_bug: bool = False  # sends anonymousId "undefined" on some sessions

    @property
    def is_app(self) -> bool:
        return self.kind in ("ios", "android")

    @property
    def ctx_full(self) -> str:
        return self.ctx_head + "}"


def _ip(r: random.Random) -> str:
    first = r.choice((24, 31, 46, 62, 73, 81, 92, 98, 109, 151, 176, 185, 203, 213))
    return f"{first}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"


def make_device(r: random.Random, kind: str, country: Country) -> Device:
    """A device with its context JSON prefix precomputed (events only append page data)."""
    if kind in ("desktop", "mobile_web"):
        anon = uuid4(r)
        device: dict[str, str] = {"type": "desktop" if kind == "desktop" else "mobile"}
        device_id = None
        if r.random() < 0.15:
            device_id = "br-" + f"{r.getrandbits(64):016x}"
            device["id"] = device_id
        agents = DESKTOP_AGENTS if kind == "desktop" else MOBILE_AGENTS
        ctx = {
            "library": {"name": "analytics.js", "version": "next-1.72.0"},
            "locale": country.locale,
            "userAgent": r.choice(agents),
            "ip": _ip(r),
            "device": device,
        }
        return Device(kind, anon, device_id, "web", compact_json(ctx)[:-1])
    return make_app_device(r, kind, country)


def make_app_device(r: random.Random, kind: str, country: Country, tablet: bool = False) -> Device:
    """An app install: iOS ids are upper-case UUIDs (IDFV), Android ids 16 hex digits."""
    ios = kind == "ios"
    anon = uuid4(r, upper=ios)
    device_id = uuid4(r, upper=True) if ios else f"{r.getrandbits(64):016x}"
    model, maker, os_version = (
        TABLET_MODEL if tablet else r.choice(IOS_MODELS if ios else ANDROID_MODELS)
    )
    version, build = r.choice(APP_VERSIONS)
    ctx = {
        "app": {
            "name": "Northwind",
            "version": version,
            "build": build,
            "namespace": "com.northwindgoods.shop",
        },
        "device": {"id": device_id, "type": kind, "model": model, "manufacturer": maker},
        "library": {"name": "analytics-ios" if ios else "analytics-android", "version": "1.16.0"},
        "os": {"name": "iOS" if ios else "Android", "version": os_version},
        "locale": country.locale,
        "ip": _ip(r),
        "network": {"wifi": r.random() < 0.6, "cellular": r.random() < 0.5},
    }
    return Device(kind, anon, device_id, kind, compact_json(ctx)[:-1])


# ---------------------------------------------------------------------------- persons


@dataclass(slots=True)
class Person:
    """One simulated human and the roles they play in the raw sources."""

    g: int
    entity: str
    country: Country
    city: str
    postal_code: str
    first_name: str
    last_name: str
    email: str  # personal email, normalised
    phone: Phone  # personal mobile
    devices: list[Device] = field(default_factory=list)
    activity: float = 1.0
    favourite_category: int = 0
    # roles
    is_customer: bool = False
    customer_id: str | None = None
    customer_created_ms: int = 0
    account_email: str | None = None  # what they typed at sign-up (may be a placeholder)
    shop_phone: str | None = None  # raw phone on the shop account (None, real or placeholder)
    shop_phone_real: bool = False
    is_guest: bool = False
    guest_email: str | None = None  # raw email typed at guest checkout
    is_subscriber: bool = False
    is_contact: bool = False
    # time budget: an erased person stops at their request (then the traps add data)
    stop_ms: int = 0
    erase: bool = False
    undefined_bug: bool = False
    n_sessions: int = 1
    next_order: int = 0  # order number k of the next order (ids are per person)
    no_shop_phone: bool = False  # the multi-hop chain person never gives the shop a phone
    numeric_customer_id: bool = False
    created_before_window: bool = False
    # designed traps (batch 0 only)
    hub: bool = False  # CRM contact whose phone is the shared office line
    forced_contact_email: str | None = None
    after_kind: str = ""  # erased person: "event" or "order" arrives after the request
    erase_subject_type: str = ""
    tablet: Device | None = None
    # filled while simulating
    newsletter_email: str | None = None
    newsletter_ms: int = 0
    accepts_marketing: bool = False
    email_withdrawn_ms: int = 0


def email_local_part(first: str, last: str, g: int, style: int) -> str:
    """Unique per person (the trailing number is the person's index; names have no digits)."""
    f, la = slug(first) or "x", slug(last) or "x"
    if style == 0:
        return f"{f}.{la}{g}"
    if style == 1:
        return f"{f}{la}{g}"
    if style == 2:
        return f"{f[0]}{la}.{g}"
    return f"{f}_{g}"


def new_person(r: random.Random, g: int, country_index: int, stop_ms: int) -> Person:
    """A person with name, address and personal contact details; roles are added later."""
    country = COUNTRIES[country_index]
    first = r.choice(country.first_names)
    last = r.choice(country.last_names)
    city, postcodes = r.choice(country.cities)
    domain = r.choice(country.email_domains)
    email = email_local_part(first, last, g, r.randrange(4)) + "@" + domain
    return Person(
        g=g,
        entity=f"P{g + 1:07d}",
        country=country,
        city=city,
        postal_code=r.choice(postcodes),
        first_name=first,
        last_name=last,
        email=email,
        phone=country.personal_phone(g),
        stop_ms=stop_ms,
    )
