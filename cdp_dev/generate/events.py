"""Segment-spec event streams: browsing sessions, logins, e-commerce funnels, email.

JSON payloads are assembled from precomputed fragments (a device's context prefix, a
page's `page` object, a product's properties) because `json.dumps` per event would
dominate a million-person run. Every fragment is produced by `compact_json`, so the
concatenations are valid JSON by construction.
"""

from __future__ import annotations

import functools
import random

from cdp_dev.generate.catalog import (
    CAMPAIGNS,
    CATEGORIES,
    EMAIL_CAMPAIGNS,
    EMAIL_PROVIDER_CONTEXT,
    LOCAL_PRICES,
    PRODUCTS,
    REFERRERS,
    SEARCH_QUERIES,
    SITE,
    STATIC_PAGES,
    UNDEFINED_ANONYMOUS_ID,
    compact_json,
    format_money,
    slug,
)
from cdp_dev.generate.people import Device, uuid4
from cdp_dev.generate.state import BatchState
from cdp_dev.generate.timefmt import DAY_MS, HOUR_MS, MINUTE_MS

PRODUCTS_BY_CATEGORY: tuple[tuple[int, ...], ...] = tuple(
    tuple(i for i, p in enumerate(PRODUCTS) if p.category == c) for c in CATEGORIES
)
_STATIC_TITLES = dict(STATIC_PAGES)
# Where people go when they are not shopping; /pricing is weighted up (segments use it).
_BROWSE_PAGES: tuple[str, ...] = (
    "/pricing",
    "/pricing",
    "/pricing",
    "/",
    "/about",
    "/blog",
    "/blog/how-we-source-merino",
    "/blog/packing-list-weekend-hike",
    "/help/shipping",
)
_LANDING_PAGES: tuple[str, ...] = ("/", "/", "/", "/pricing", "/blog", "/newsletter")


@functools.cache
def page_parts(path: str, title: str) -> tuple[str, str, str]:
    """(context prefix up to the referrer, context suffix after it, properties JSON)."""
    url = SITE + path
    pre = ',"page":{"path":' + compact_json(path) + ',"referrer":'
    post = ',"title":' + compact_json(title) + ',"url":' + compact_json(url) + "}"
    props = compact_json({"name": title.split(" | ")[0], "path": path, "url": url})
    return pre, post, props


@functools.cache
def campaign_fragment(index: int) -> str:
    source, medium, name = CAMPAIGNS[index]
    return ',"campaign":' + compact_json({"source": source, "medium": medium, "name": name})


@functools.cache
def product_props(index: int, currency: str) -> str:
    """Segment e-commerce v2 product properties (price in the shopper's currency)."""
    p = PRODUCTS[index]
    price = format_money(LOCAL_PRICES[currency][index], currency)
    return (
        '{"product_id":'
        + compact_json(p.product_id)
        + ',"sku":'
        + compact_json(p.sku)
        + ',"name":'
        + compact_json(p.name)
        + ',"category":'
        + compact_json(p.category)
        + ',"price":'
        + price
        + ',"currency":"'
        + currency
        + '"}'
    )


@functools.cache
def screen_props(screen: str) -> str:
    return compact_json({"name": screen})


@functools.cache
def list_props(category: int) -> str:
    return compact_json({"list_id": slug(CATEGORIES[category]), "category": CATEGORIES[category]})


@functools.cache
def search_props(query: str) -> str:
    return compact_json({"query": query})


@functools.cache
def product_path(index: int) -> tuple[str, str]:
    p = PRODUCTS[index]
    return "/products/" + p.slug, p.name + " | Northwind Goods"


@functools.cache
def category_path(index: int) -> tuple[str, str]:
    c = CATEGORIES[index]
    return "/collections/" + slug(c), c + " | Northwind Goods"


def products_json(lines: list[tuple[int, int, int]], currency: str) -> list[dict[str, object]]:
    """Products array of an e-commerce event from (product index, quantity, unit minor)."""
    out = []
    for index, quantity, unit in lines:
        p = PRODUCTS[index]
        out.append(
            {
                "product_id": p.product_id,
                "sku": p.sku,
                "name": p.name,
                "category": p.category,
                "price": float(format_money(unit, currency)),
                "quantity": quantity,
            }
        )
    return out


class Session:
    """One visit on one device: keeps the clock, the current page and who is logged in."""

    __slots__ = ("anon", "ctx", "dev", "eligible_next", "nodes", "r", "st", "ts", "url", "user")

    def __init__(self, st: BatchState, dev: Device, ts: int, user: str | None, anon: str) -> None:
        self.st = st
        self.r = st.r
        self.dev = dev
        self.ts = ts
        self.user = user
        self.anon = anon
        self.ctx = dev.ctx_full
        self.url = ""
        self.eligible_next = False  # the first event of a session carries the link: keep it clean

    def _emit(
        self,
        typ: str,
        event: str | None,
        ctx: str,
        props: str | None,
        traits: str | None,
        prev: str | None = None,
        eligible: bool = True,
    ) -> str:
        mid = uuid4(self.r)
        self.st.events.append(
            (
                mid,
                typ,
                event,
                self.anon,
                self.user,
                prev,
                self.dev.source,
                ctx,
                props,
                traits,
                self.ts,
                eligible and self.eligible_next,
            )
        )
        self.eligible_next = True
        self.ts += 3_000 + int(self.r.random() * 72_000)
        return mid

    # -- views ---------------------------------------------------------------------------

    def view(
        self, path: str, title: str, screen: str, campaign: int = -1, referrer: str | None = None
    ) -> str:
        """A `page` call on the web (context.page, campaign on landing) or a `screen` in apps."""
        if self.dev.is_app:
            return self._emit("screen", None, self.ctx, screen_props(screen), None)
        pre, post, props = page_parts(path, title)
        ref = self.url if referrer is None else referrer
        ctx = self.dev.ctx_head + pre + '"' + ref + '"' + post
        if campaign >= 0:
            ctx += campaign_fragment(campaign)
        self.ctx = ctx + "}"
        self.url = SITE + path
        return self._emit("page", None, self.ctx, props, None)

    def track(self, event: str, props: str, eligible: bool = True) -> str:
        return self._emit("track", event, self.ctx, props, None, eligible=eligible)

    def identify(self, traits: str) -> str:
        return self._emit("identify", None, self.ctx, None, traits, eligible=False)

    def alias(self, previous_id: str) -> str:
        return self._emit("alias", None, self.ctx, None, None, prev=previous_id, eligible=False)

    # -- shopping ------------------------------------------------------------------------

    def land(self) -> None:
        r = self.r
        path = r.choice(_LANDING_PAGES)
        campaign = r.randrange(len(CAMPAIGNS)) if r.random() < 0.3 else -1
        referrer = "" if campaign >= 0 and r.random() < 0.5 else r.choice(REFERRERS)
        self.view(path, _STATIC_TITLES[path], "Home", campaign, referrer)

    def view_product(self, index: int, currency: str) -> None:
        path, title = product_path(index)
        self.view(path, title, "Product Detail")
        self.track("Product Viewed", product_props(index, currency))

    def browse(self, steps: int, favourite: int, currency: str) -> None:
        """A random walk over the shop: views, searches, lists, pricing, cart."""
        r = self.r
        last_product = -1
        for _ in range(steps):
            x = r.random()
            if x < 0.34:
                group = PRODUCTS_BY_CATEGORY[favourite if r.random() < 0.55 else r.randrange(8)]
                last_product = r.choice(group)
                self.view_product(last_product, currency)
            elif x < 0.50:
                cat = favourite if r.random() < 0.5 else r.randrange(len(CATEGORIES))
                path, title = category_path(cat)
                self.view(path, title, "Category")
                self.track("Product List Viewed", list_props(cat))
            elif x < 0.60:
                query = r.choice(SEARCH_QUERIES)
                self.track("Products Searched", search_props(query))
                self.view(
                    "/search?q=" + query.replace(" ", "+"), "Search | Northwind Goods", "Search"
                )
            elif x < 0.80:
                path = r.choice(_BROWSE_PAGES)
                self.view(path, _STATIC_TITLES[path], "Account" if path == "/pricing" else "Home")
            elif x < 0.92:
                if last_product < 0:
                    last_product = r.choice(PRODUCTS_BY_CATEGORY[favourite])
                    self.view_product(last_product, currency)
                props = product_props(last_product, currency)
                self.track("Product Added", props[:-1] + ',"quantity":1}')
            else:
                self.view("/cart", _STATIC_TITLES["/cart"], "Cart")
                self.track("Cart Viewed", '{"cart_id":"' + uuid4(self.r)[:8] + '"}')

    def checkout(
        self,
        order_id: str,
        lines: list[tuple[int, int, int]],
        currency: str,
        amounts: dict[str, str],
    ) -> str:
        """Adds, cart, `Checkout Started`, `Order Completed` (returns the completion's id)."""
        for index, quantity, _unit in lines:
            props = product_props(index, currency)
            self.track("Product Added", props[:-1] + ',"quantity":' + str(quantity) + "}")
        products = products_json(lines, currency)
        self.view("/cart", _STATIC_TITLES["/cart"], "Cart")
        self.track("Cart Viewed", compact_json({"products": products}))
        self.view("/checkout", _STATIC_TITLES["/checkout"], "Checkout")
        value = float(amounts["subtotal"])
        self.track(
            "Checkout Started",
            compact_json(
                {"order_id": order_id, "value": value, "currency": currency, "products": products}
            ),
        )
        return self.track(
            "Order Completed",
            compact_json(
                {
                    "order_id": order_id,
                    "total": float(amounts["total"]),
                    "revenue": round(float(amounts["subtotal"]) - float(amounts["discount"]), 2),
                    "shipping": float(amounts["shipping"]),
                    "tax": float(amounts["tax"]),
                    "discount": float(amounts["discount"]),
                    "currency": currency,
                    "products": products,
                }
            ),
            eligible=False,
        )


def session_anon(dev: Device, r: random.Random, first_on_device: bool) -> str:
    """The anonymous id a session sends: the device's, or `undefined` from a buggy SDK."""
    if dev.sdk_bug and (first_on_device or r.random() < 0.4):
        return UNDEFINED_ANONYMOUS_ID
    return dev.anon_id


def campaign_send_times(start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """(campaign number, send time): one campaign a fortnight, Tuesdays-ish at 09:00 UTC."""
    sends = []
    k = 0
    t = start_ms + 3 * DAY_MS + 9 * HOUR_MS
    while t < end_ms:
        sends.append((k, t))
        k += 1
        t += 14 * DAY_MS
    return sends


def email_events(
    st: BatchState,
    email_raw: str,
    user: str | None,
    opt_in_ms: int,
    stop_ms: int,
    sends: list[tuple[int, int]],
) -> int:
    """Delivered / Opened / Clicked track calls from the email tool (source `email`).

    They carry the address in `properties.email` and rarely an anonymous id; some carry
    `traits.email` and the shop's user id. Returns how many events were written.
    """
    r = st.r
    written = 0
    for k, sent in sends:
        if sent < opt_in_ms or sent >= stop_ms or r.random() >= 0.55:
            continue
        name, subject = EMAIL_CAMPAIGNS[k % len(EMAIL_CAMPAIGNS)]
        base = {
            "email": email_raw,
            "campaign_id": f"cmp_{k + 1:04d}",
            "campaign_name": name,
            "subject": subject,
        }
        with_user = user if r.random() < 0.3 else None
        traits = compact_json({"email": email_raw}) if r.random() < 0.4 else None
        t = sent + r.randrange(0, 2 * HOUR_MS)
        steps = [("Email Delivered", t, base)]
        if r.random() < 0.35:
            t += r.randrange(5 * MINUTE_MS, 2 * DAY_MS)
            steps.append(("Email Opened", t, base))
            if r.random() < 0.25:
                t += r.randrange(5_000, 10 * MINUTE_MS)
                steps.append(
                    ("Email Clicked", t, {**base, "url": SITE + "/?utm_source=newsletter"})
                )
        for event, ts, props in steps:
            if ts >= stop_ms:
                break
            st.events.append(
                (
                    uuid4(r),
                    "track",
                    event,
                    None,
                    with_user,
                    None,
                    "email",
                    EMAIL_PROVIDER_CONTEXT,
                    compact_json(props),
                    traits,
                    ts,
                    False,
                )
            )
            written += 1
    return written
