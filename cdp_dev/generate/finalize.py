"""Row buffers -> contract columns, with delivery effects and dirt applied as vectors.

Dirt is injected here, after the simulation, on rows the simulator marked as safe to
spoil (an event that is not the first of its session, a registered order whose
identifiers are repeated on the customer record), so that a resolver quarantining the
bad rows still sees every identity link the truth file promises. Each dirt class gets
at least one row per batch, so even a small demo run has every kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cdp_dev.generate.contract import load_contract
from cdp_dev.generate.state import EV_ELIGIBLE, EV_TS, BatchState
from cdp_dev.generate.timefmt import (
    CONSENT_STYLE,
    CRM_STYLE,
    DAY_MS,
    EVENT_STYLE,
    RECEIVED_STYLE,
    SHOP_STYLE,
    TimestampStyle,
    format_dates,
    format_timestamps,
)

Columns = dict[str, np.ndarray]

BAD_TIMESTAMPS = ("not-a-date", "31/02/2026", "2026-13-45T25:61:00Z", "yesterday")
YEAR_MS = 365 * DAY_MS

# Per-row rates of each dirt class (a minimum of one row per batch applies).
RATES = {
    "event_duplicate": 0.02,
    "event_future": 0.001,
    "event_bad_timestamp": 0.0005,
    "event_bad_context": 0.001,
    "event_bad_properties": 0.001,
    "event_empty_key": 0.0002,
    "order_negative": 0.004,
    "order_missing_total": 0.004,
    "order_unknown_currency": 0.003,
    "order_bad_money_comma": 0.002,
    "order_bad_money_text": 0.002,
    "order_bad_timestamp": 0.003,
    "order_future": 0.002,
    "order_empty_key": 0.001,
    "order_late_version": 0.02,
    "row_duplicate": 0.01,
}

TABLE_STYLES: dict[str, TimestampStyle] = {
    "shop_customers": SHOP_STYLE,
    "shop_orders": SHOP_STYLE,
    "crm_accounts": CRM_STYLE,
    "crm_contacts": CRM_STYLE,
    "crm_deals": CRM_STYLE,
    "crm_tickets": CRM_STYLE,
    "consent": CONSENT_STYLE,
    "deletion_requests": CONSENT_STYLE,
}


@dataclass
class FinalBatch:
    """A batch's tables as object columns, plus what JSONL events need to render."""

    tables: dict[str, Columns] = field(default_factory=dict)
    rudder: np.ndarray | None = None  # events sent RudderStack-style (originalTimestamp)
    integrations: np.ndarray | None = None  # Segment messages carrying "integrations": {}
    late_orders: Columns | None = None  # older order versions delivered with the next batch


def count(rate_name: str, n: int) -> int:
    """How many rows a dirt class touches: the rate, but at least one when there are rows."""
    if n <= 0:
        return 0
    return min(n, max(1, round(RATES[rate_name] * n)))


def to_columns(rows: list[tuple], names: tuple[str, ...]) -> Columns:
    """Transpose tuples into one object array per column."""
    if not rows:
        return {name: np.empty(0, dtype=object) for name in names}
    transposed = list(zip(*rows, strict=True))
    out = {}
    for name, values in zip(names, transposed, strict=False):
        column = np.empty(len(rows), dtype=object)
        column[:] = values
        out[name] = column
    return out


def take(cols: Columns, index: np.ndarray) -> Columns:
    return {name: col[index] for name, col in cols.items()}


def concat(*parts: Columns) -> Columns:
    names = list(parts[0])
    return {name: np.concatenate([p[name] for p in parts]) for name in names}


def _int_column(col: np.ndarray) -> np.ndarray:
    return col.astype(np.int64)


def _truncate_json(text: str) -> str:
    """A JSON object cut short, as a crashed exporter leaves it: never valid JSON."""
    return text[: max(3, len(text) * 2 // 3)]


def split(rng: np.random.Generator, candidates: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    """Disjoint random picks of the given sizes from `candidates` (fewer if it runs out)."""
    order = rng.permutation(candidates)
    out, start = [], 0
    for size in sizes:
        out.append(np.sort(order[start : start + size]))
        start += size
    return out


# --------------------------------------------------------------------------- events

# The contract columns of a simulated event tuple, in tuple order (state.py: EV_TS follows).
EVENT_ROW_COLUMNS = (
    "message_id",
    "type",
    "event",
    "anonymous_id",
    "user_id",
    "previous_id",
    "source",
    "context",
    "properties",
    "traits",
)


def finalize_events(st: BatchState, spoil_json: bool) -> tuple[Columns, np.ndarray, np.ndarray]:
    """Events with sent/received times, duplicates, and dirt; sorted by arrival."""
    rng = st.rng
    spec = load_contract()["events"]
    rows = st.events
    n = len(rows)
    cols = to_columns([row[:10] for row in rows], EVENT_ROW_COLUMNS)
    # The simulation emits no group calls and keeps page/screen names in `properties`:
    # the top-level spec columns are there, empty, as an SDK that omits them sends them.
    for column in spec.columns:
        if column not in cols:
            cols[column] = np.full(n, None, dtype=object)
    ts = np.fromiter((row[EV_TS] for row in rows), dtype=np.int64, count=n)
    eligible = np.fromiter((row[EV_ELIGIBLE] for row in rows), dtype=bool, count=n)
    batching = rng.random(n) < 0.1  # mobile SDKs flush queued events later
    sent = ts + rng.integers(5, 2_500, n) + batching * rng.integers(1_000, 90_000, n)
    received = sent + rng.integers(15, 900, n)
    candidates = np.flatnonzero(eligible)
    future, bad_ts, bad_ctx, bad_props, no_key = split(
        rng,
        candidates,
        [
            count("event_future", n),
            count("event_bad_timestamp", n),
            count("event_bad_context", n),
            count("event_bad_properties", n),
            count("event_empty_key", n),
        ],
    )
    shift = rng.integers(2, 6, future.shape[0]) * YEAR_MS + rng.integers(0, DAY_MS, future.shape[0])
    ts[future] += shift  # a device clock years ahead: sentAt agrees with it, receivedAt not
    sent[future] += shift
    cols["timestamp"] = format_timestamps(ts, rng, EVENT_STYLE)
    cols["sent_at"] = format_timestamps(sent, rng, EVENT_STYLE)
    cols["received_at"] = format_timestamps(received, rng, RECEIVED_STYLE)
    cols["timestamp"][bad_ts] = rng.choice(np.array(BAD_TIMESTAMPS, dtype=object), bad_ts.shape[0])
    if spoil_json:
        for i in bad_ctx:
            cols["context"][i] = _truncate_json(cols["context"][i])
        for i in bad_props:
            cols["properties"][i] = _truncate_json(cols["properties"][i])
    rudder = rng.random(n) < 0.1
    integrations = rng.random(n) < 0.3
    duplicates = np.sort(rng.choice(n, count("event_duplicate", n), replace=False)) if n else no_key
    no_key_rows = take(cols, no_key)
    no_key_rows["message_id"] = np.full(no_key.shape[0], None, dtype=object)
    full = concat(cols, take(cols, duplicates), no_key_rows)
    arrival = np.concatenate(
        [
            received,
            received[duplicates] + rng.integers(1_000, 6 * 3_600_000, duplicates.shape[0]),
            received[no_key] + 1,
        ]
    )
    order = np.argsort(arrival, kind="stable")
    extra = np.concatenate([np.arange(n), duplicates, no_key])[order]
    return take(full, order), rudder[extra], integrations[extra]


# --------------------------------------------------------------------------- shop orders


def _order_rows(st: BatchState, groups: list, index: np.ndarray, single: bool) -> np.ndarray:
    """Row numbers of the chosen order groups (all versions, or one version each)."""
    rows: list[int] = []
    for gi in index:
        g = groups[gi]
        if single:
            rows.append(g.first_row + st.r.randrange(g.n_rows))
        else:
            rows.extend(range(g.first_row, g.first_row + g.n_rows))
    return np.array(rows, dtype=np.int64)


def finalize_orders(st: BatchState) -> tuple[Columns, Columns]:
    """Orders with money/timestamp dirt on registered orders, and late-arriving versions."""
    rng = st.rng
    names = load_contract()["shop_orders"].columns
    cols = to_columns(st.shop_orders, names)
    groups = [g for g in st.order_groups if g.n_rows > 0]
    n_groups = len(groups)
    registered = np.array([i for i, g in enumerate(groups) if g.registered], dtype=np.int64)
    negative, missing, xyz, comma, text, bad_ts, future, no_key = split(
        rng,
        registered,
        [
            count("order_negative", n_groups),
            count("order_missing_total", n_groups),
            count("order_unknown_currency", n_groups),
            count("order_bad_money_comma", n_groups),
            count("order_bad_money_text", n_groups),
            count("order_bad_timestamp", n_groups),
            count("order_future", n_groups),
            count("order_empty_key", n_groups),
        ],
    )
    created = _int_column(cols["created_at"])
    updated = _int_column(cols["updated_at"])
    rows = _order_rows(st, groups, future, single=False)
    shift = rng.integers(2, 6) * YEAR_MS
    created[rows] += shift
    updated[rows] += shift
    cols["created_at"] = format_timestamps(created, rng, SHOP_STYLE)
    cols["updated_at"] = format_timestamps(updated, rng, SHOP_STYLE)
    for row in _order_rows(st, groups, negative, single=False):
        cols["total"][row] = "-" + cols["total"][row]
    cols["total"][_order_rows(st, groups, missing, single=False)] = None
    cols["currency"][_order_rows(st, groups, xyz, single=False)] = "XYZ"
    for row in _order_rows(st, groups, comma, single=True):  # a European export: 12,50
        value = str(cols["subtotal"][row])
        cols["subtotal"][row] = value.replace(".", ",") if "." in value else value + ",00"
    cols["shipping"][_order_rows(st, groups, text, single=True)] = "abc"
    for row in _order_rows(st, groups, bad_ts, single=True):
        cols["updated_at"][row] = BAD_TIMESTAMPS[1] if row % 2 else BAD_TIMESTAMPS[0]
    n = len(st.shop_orders)
    no_key_rows = take(cols, _order_rows(st, groups, no_key, single=True))
    no_key_rows["order_id"] = np.full(no_key_rows["order_id"].shape[0], None, dtype=object)
    duplicates = (
        np.sort(rng.choice(n, count("row_duplicate", n), replace=False))
        if n
        else np.empty(0, dtype=np.int64)
    )
    multi = np.array([i for i, g in enumerate(groups) if g.n_rows > 1], dtype=np.int64)
    late_groups = (
        split(rng, multi, [count("order_late_version", n_groups)])[0] if multi.size else multi
    )
    late = np.array([groups[i].first_row for i in late_groups], dtype=np.int64)
    keep = np.setdiff1d(np.arange(n), late)
    current = concat(take(cols, keep), take(cols, duplicates), no_key_rows)
    return current, take(cols, late)


# --------------------------------------------------------------------------- the rest


def finalize_simple(st: BatchState, table: str, duplicate: bool) -> Columns:
    """Timestamps rendered in the table's style; optional at-least-once duplicate rows."""
    spec = load_contract()[table]
    rows = st.rows(table)
    cols = to_columns(rows, spec.columns)
    style = TABLE_STYLES.get(table)
    for name, kind in zip(spec.columns, spec.types, strict=True):
        if kind == "timestamp" and style is not None:
            cols[name] = format_timestamps(_int_column(cols[name]), st.rng, style)
    n = len(rows)
    if duplicate and n:
        dup = np.sort(st.rng.choice(n, count("row_duplicate", n), replace=False))
        cols = concat(cols, take(cols, dup))
    return cols


def finalize_batch(st: BatchState, spoil_json: bool) -> FinalBatch:
    """All tables of one batch, ready to write."""
    out = FinalBatch()
    events, out.rudder, out.integrations = finalize_events(st, spoil_json)
    out.tables["events"] = events
    out.tables["shop_orders"], out.late_orders = finalize_orders(st)
    for table, duplicate in (
        ("shop_customers", True),
        ("shop_order_items", False),
        ("crm_accounts", True),
        ("crm_contacts", True),
        ("crm_deals", False),
        ("crm_tickets", False),
        ("consent", False),
        ("deletion_requests", False),
    ):
        out.tables[table] = finalize_simple(st, table, duplicate)
    return out


# --------------------------------------------------------------------------- fx rates


def fx_rates(seed: int, first_ms: int, end_ms: int, base: dict[str, float]) -> Columns:
    """One row per weekday and non-USD currency: a slowly drifting, mean-reverting rate."""
    rng = np.random.default_rng([seed, 2**32 - 1])
    days = np.arange(first_ms, end_ms, DAY_MS, dtype=np.int64)
    weekday = (days // DAY_MS + 3) % 7  # 1970-01-01 was a Thursday (3)
    days = days[weekday < 5]
    dates = format_dates(days)
    out_dates, out_cur, out_rate = [], [], []
    for currency, start in base.items():
        steps = rng.normal(0.0, 0.0035, days.shape[0])
        level = np.empty(days.shape[0])
        x = float(rng.normal(0.0, 0.02))
        for i, step in enumerate(steps):
            x = 0.97 * x + step  # mean-reverting log deviation from the base rate
            level[i] = x
        rates = start * np.exp(level)
        decimals = 8 if currency == "JPY" else 6
        out_dates.append(dates)
        out_cur.append(np.full(days.shape[0], currency, dtype=object))
        out_rate.append(np.array([f"{v:.{decimals}f}" for v in rates], dtype=object))
    return {
        "rate_date": np.concatenate(out_dates),
        "currency": np.concatenate(out_cur),
        "rate_to_usd": np.concatenate(out_rate),
    }
