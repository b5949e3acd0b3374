"""The shop: customer accounts (CDC versions) and orders with their status lifecycle.

Money is computed in integer minor units so the contract's arithmetic holds exactly
(total = subtotal - discount + tax + shipping; items sum to the subtotal); it becomes
text only when written. Status changes are new rows with a later `updated_at`.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdp_dev.generate.catalog import (
    FREE_SHIPPING_FROM,
    LOCAL_PRICES,
    PRODUCTS,
    SHIPPING_FEE,
    format_money,
)
from cdp_dev.generate.events import PRODUCTS_BY_CATEGORY
from cdp_dev.generate.people import Person, order_id_for
from cdp_dev.generate.state import BatchState, OrderGroup
from cdp_dev.generate.timefmt import DAY_MS, HOUR_MS, MINUTE_MS


@dataclass
class Order:
    order_id: str
    currency: str
    lines: list[tuple[int, int, int]]  # (product index, quantity, unit price minor)
    amounts: dict[str, str]


def order_lines(st: BatchState, favourite: int, currency: str) -> list[tuple[int, int, int]]:
    """1-4 distinct products, mostly from the person's favourite category."""
    r = st.r
    n = 1 + (r.random() < 0.45) + (r.random() < 0.2) + (r.random() < 0.08)
    chosen: list[int] = []
    while len(chosen) < n:
        group = PRODUCTS_BY_CATEGORY[favourite if r.random() < 0.5 else r.randrange(8)]
        index = r.choice(group)
        if index not in chosen:
            chosen.append(index)
    lines = []
    for index in chosen:
        quantity = 1 if r.random() < 0.8 else (2 if r.random() < 0.75 else 3)
        unit = LOCAL_PRICES[currency][index]
        if r.random() < 0.1:  # on sale: 20% off, still a whole minor unit
            unit = unit * 8 // 10
        lines.append((index, quantity, unit))
    return lines


def order_amounts(
    st: BatchState, lines: list[tuple[int, int, int]], currency: str, tax_rate: float
) -> dict[str, int]:
    """Exact minor-unit amounts: discount codes, tax on the discounted subtotal, shipping."""
    r = st.r
    subtotal = sum(q * u for _, q, u in lines)
    x = r.random()
    discount = 0 if x < 0.75 else round(subtotal * (0.10 if x < 0.9 else 0.15))
    tax = round((subtotal - discount) * tax_rate)
    shipping = 0 if subtotal >= FREE_SHIPPING_FROM[currency] else SHIPPING_FEE[currency]
    total = subtotal - discount + tax + shipping
    return {
        "subtotal": subtotal,
        "discount": discount,
        "tax": tax,
        "shipping": shipping,
        "total": total,
    }


def status_versions(st: BatchState, created_ms: int, stop_ms: int) -> list[tuple[str, int]]:
    """pending -> paid -> fulfilled, with cancellations and refunds; only what happened by stop."""
    r = st.r
    versions = [("pending", created_ms)]
    if r.random() < 0.06:
        versions.append(("cancelled", created_ms + r.randrange(10 * MINUTE_MS, 2 * DAY_MS)))
    else:
        paid = created_ms + r.randrange(30_000, 20 * MINUTE_MS)
        versions.append(("paid", paid))
        if r.random() < 0.03:
            versions.append(("cancelled", paid + r.randrange(HOUR_MS, DAY_MS)))
        else:
            fulfilled = paid + r.randrange(DAY_MS, 4 * DAY_MS)
            versions.append(("fulfilled", fulfilled))
            if r.random() < 0.07:
                versions.append(("refunded", fulfilled + r.randrange(2 * DAY_MS, 15 * DAY_MS)))
    return [(s, t) for s, t in versions if t < stop_ms]


def place_order(
    st: BatchState,
    p: Person,
    k: int,
    created_ms: int,
    customer_id: str | None,
    email: str | None,
    phone: str | None,
    channel: str,
) -> Order:
    """Write the order's CDC rows and its items; return what the checkout events need."""
    currency = p.country.currency
    lines = order_lines(st, p.favourite_category, currency)
    minor = order_amounts(st, lines, currency, p.country.tax_rate)
    amounts = {name: format_money(value, currency) for name, value in minor.items()}
    order_id = order_id_for(p.g, k)
    first_row = len(st.shop_orders)
    for status, updated in status_versions(st, created_ms, p.stop_ms):
        st.shop_orders.append(
            (
                order_id,
                customer_id,
                email,
                phone,
                status,
                currency,
                amounts["subtotal"],
                amounts["discount"],
                amounts["tax"],
                amounts["shipping"],
                amounts["total"],
                channel,
                created_ms,
                updated,
            )
        )
    st.order_groups.append(
        OrderGroup(
            order_id, first_row, len(st.shop_orders) - first_row, customer_id is not None, currency
        )
    )
    for line_number, (index, quantity, unit) in enumerate(lines, start=1):
        product = PRODUCTS[index]
        st.shop_order_items.append(
            (
                order_id,
                str(line_number),
                product.product_id,
                product.sku,
                product.name,
                product.category,
                str(quantity),
                format_money(unit, currency),
            )
        )
    return Order(order_id, currency, lines, amounts)


def customer_versions(st: BatchState, p: Person, phone_later: bool) -> list[tuple]:
    """Account rows: the sign-up version, and for some a later change (a new CDC row).

    Identifiers are only ever added (a phone given later), never replaced, so the newest
    version holds every identifier the account ever had.
    """
    r = st.r
    created = p.customer_created_ms
    base = [
        p.customer_id,
        p.account_email,
        None if phone_later else p.shop_phone,
        p.first_name,
        p.last_name,
        "true" if p.accepts_marketing else "false",
        p.country.code,
        p.city,
        p.postal_code,
        created,
        created,
    ]
    rows = [tuple(base)]
    if phone_later or r.random() < 0.22:
        changed = created + r.randrange(DAY_MS, 60 * DAY_MS)
        if changed < p.stop_ms:
            later = list(base)
            later[2] = p.shop_phone
            if not phone_later:
                if r.random() < 0.5:
                    later[5] = "false" if p.accepts_marketing else "true"
                else:
                    city, postcodes = r.choice(p.country.cities)
                    later[7], later[8] = city, r.choice(postcodes)
            later[10] = changed
            rows.append(tuple(later))
    return rows
