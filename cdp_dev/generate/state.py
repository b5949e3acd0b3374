"""Mutable per-batch state shared by the simulators: row buffers, randomness, the truth.

Rows are plain tuples in contract column order (appending tuples is the cheapest way
to collect millions of rows in Python); `finalize` turns them into columns.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from cdp_dev.generate.truth import Linker

# Event rows are the contract's first ten columns (message_id .. traits), then the event
# time (epoch ms; sent/received are derived from it) and whether dirt may spoil the row.
EV_TS, EV_ELIGIBLE = 10, 11


@dataclass(frozen=True)
class Window:
    """Simulated history: [start_ms, end_ms) in UTC epoch milliseconds."""

    start_ms: int
    end_ms: int

    @property
    def span_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass
class OrderGroup:
    """The contiguous rows (CDC versions) of one order in `shop_orders`."""

    order_id: str
    first_row: int
    n_rows: int
    registered: bool
    currency: str


@dataclass
class BatchState:
    """Everything one batch appends to; `index` 0 also carries the designed traps."""

    index: int
    rng: np.random.Generator
    r: random.Random
    window: Window
    linker: Linker
    events: list[tuple] = field(default_factory=list)
    shop_customers: list[tuple] = field(default_factory=list)
    shop_orders: list[tuple] = field(default_factory=list)
    order_groups: list[OrderGroup] = field(default_factory=list)
    shop_order_items: list[tuple] = field(default_factory=list)
    crm_accounts: list[tuple] = field(default_factory=list)
    crm_contacts: list[tuple] = field(default_factory=list)
    crm_deals: list[tuple] = field(default_factory=list)
    crm_tickets: list[tuple] = field(default_factory=list)
    consent: list[tuple] = field(default_factory=list)
    deletion_requests: list[tuple] = field(default_factory=list)
    # facts for the truth file (ordered dicts used as ordered sets)
    traps: dict[str, object] = field(default_factory=dict)
    placeholder_emails: dict[str, None] = field(default_factory=dict)
    placeholder_phones: dict[str, None] = field(default_factory=dict)
    erased: list[dict[str, object]] = field(default_factory=list)
    undefined_events: int = 0
    undefined_people: int = 0

    def rows(self, table: str) -> list[tuple]:
        return getattr(self, table)
