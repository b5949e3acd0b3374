"""`generate_raw_folder`: batches of people -> a raw folder in the input contract.

Memory is bounded by one batch of people (default 20,000): each batch is simulated,
finalised and written as the next `part-NNNNN` file of every table before the next one
starts. Output is a pure function of the options (seeded per batch, fixed end date).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tqdm import tqdm

from cdp_dev.generate.catalog import FX_BASE_RATE
from cdp_dev.generate.contract import TABLES
from cdp_dev.generate.finalize import Columns, concat, finalize_batch, fx_rates
from cdp_dev.generate.simulate import simulate_batch
from cdp_dev.generate.state import BatchState, Window
from cdp_dev.generate.timefmt import DAY_MS, date_to_ms
from cdp_dev.generate.traps import MIN_PERSONS
from cdp_dev.generate.truth import Linker, Node, TruthWriter
from cdp_dev.generate.writers import RawFolderWriter, TableStats, clear_tables

DEFAULT_END_DATE = date(2026, 11, 1)
FORMATS = ("csv", "parquet", "jsonl")
MAX_PERSONS = 10_000_000  # phone and id schemes are unique up to here
# Tables that are batched by people; fx_rates is one global file.
PER_PERSON_TABLES = tuple(t for t in TABLES if t != "fx_rates")
# Written as folders even in a one-batch run: events always; orders because a late,
# older version arrives in a later file than its newer one.
ALWAYS_FOLDERS = frozenset({"events", "shop_orders"})


@dataclass
class GenerationSummary:
    """What was written: rows and files per table, and how long it took."""

    out_dir: Path
    persons: int
    days: int
    seed: int
    start_date: date
    end_date: date
    batches: int
    tables: dict[str, TableStats]
    elapsed_seconds: float
    truth_path: Path | None = None
    truth_persons: int = 0

    @property
    def total_rows(self) -> int:
        return sum(s.rows for s in self.tables.values())

    def render(self) -> str:
        """A short plain-text table for the CLI."""
        lines = [
            f"Raw folder {self.out_dir} | {self.persons:,} persons, {self.days} days "
            f"({self.start_date} .. {self.end_date}), seed {self.seed}, {self.batches} batch(es)",
            f"{'table':<20}{'format':<9}{'layout':<8}{'files':>7}{'rows':>14}",
        ]
        for table, s in self.tables.items():
            lines.append(f"{table:<20}{s.fmt:<9}{s.layout:<8}{s.files:>7}{s.rows:>14,}")
        lines.append(
            f"{'total':<37}{sum(s.files for s in self.tables.values()):>7}{self.total_rows:>14,}"
        )
        if self.truth_path is not None:
            lines.append(f"ground truth: {self.truth_path} ({self.truth_persons:,} persons)")
        lines.append(f"elapsed: {self.elapsed_seconds:.1f} s")
        return "\n".join(lines)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _resolve(value: object, key_of: dict[Node, str]) -> object:
    """Trap facts mention identifier nodes; the truth names the person they resolve to."""
    if isinstance(value, tuple):
        return key_of.get(value)  # type: ignore[arg-type]
    if isinstance(value, list):
        return [_resolve(v, key_of) for v in value]
    return value


def batch_traps(st: BatchState, key_of: dict[Node, str]) -> dict[str, object]:
    """Batch 0's trap description with `*_node(s)` facts replaced by `*_key(s)`."""
    out: dict[str, object] = {}
    for name, facts in st.traps.items():
        assert isinstance(facts, dict)
        resolved = {}
        for key, value in facts.items():
            if key.endswith(("_node", "_nodes")):
                new_key = key.removesuffix("_node").removesuffix("_nodes")
                new_key += "_keys" if key.endswith("_nodes") else "_key"
                resolved[new_key] = _resolve(value, key_of)
            else:
                resolved[key] = value
        out[name] = resolved
    return out


def erased_entries(st: BatchState, key_of: dict[Node, str]) -> list[dict[str, object]]:
    out = []
    for entry in st.erased:
        record = {k: v for k, v in entry.items() if k not in ("node", "requested_at_ms")}
        record["person_key"] = key_of.get(entry["node"])  # type: ignore[arg-type]
        record["requested_at"] = _iso(int(entry["requested_at_ms"]))  # type: ignore[call-overload]
        out.append(record)
    return out


@dataclass
class TrapFacts:
    """What the truth's `traps` object says, gathered batch by batch."""

    traps: dict[str, object] = field(default_factory=dict)
    erased: list[dict[str, object]] = field(default_factory=list)
    placeholder_emails: dict[str, None] = field(default_factory=dict)
    placeholder_phones: dict[str, None] = field(default_factory=dict)
    undefined_events: int = 0
    undefined_people: int = 0

    def add(self, st: BatchState, key_of: dict[Node, str]) -> None:
        if st.index == 0:
            self.traps = batch_traps(st, key_of)
        self.erased.extend(erased_entries(st, key_of))
        self.placeholder_emails.update(st.placeholder_emails)
        self.placeholder_phones.update(st.placeholder_phones)
        self.undefined_events += st.undefined_events
        self.undefined_people += st.undefined_people

    def as_json(self) -> dict[str, object]:
        traps = dict(self.traps)
        undefined = dict(traps.get("undefined_anonymous_id", {}))  # type: ignore[call-overload]
        undefined["event_count"] = self.undefined_events
        undefined["people_with_buggy_sdk"] = self.undefined_people
        traps["undefined_anonymous_id"] = undefined
        traps["placeholders"] = {
            "emails": sorted(self.placeholder_emails),
            "phones": sorted(self.placeholder_phones),
        }
        traps["erased"] = self.erased
        return traps


def _validate(
    persons: int, days: int, fmt: str, events_format: str | None, batch_persons: int
) -> None:
    if not MIN_PERSONS <= persons <= MAX_PERSONS:
        raise ValueError(f"persons must be between {MIN_PERSONS} and {MAX_PERSONS:,}")
    if days < 1:
        raise ValueError("days must be at least 1")
    if batch_persons < MIN_PERSONS:
        raise ValueError(f"batch_persons must be at least {MIN_PERSONS}")
    for f in (fmt, events_format):
        if f is not None and f not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, not {f!r}")


def _write_batch(
    writer: RawFolderWriter, st: BatchState, carry: Columns | None, spoil_json: bool
) -> Columns:
    """Finalise and write one batch; returns the late order versions for the next part."""
    final = finalize_batch(st, spoil_json=spoil_json)
    if carry is not None:
        final.tables["shop_orders"] = concat(final.tables["shop_orders"], carry)
    for table in PER_PERSON_TABLES:
        extras = (final.rudder, final.integrations) if table == "events" else None
        writer.write(table, final.tables[table], st.index + 1, extras)  # type: ignore[arg-type]
    assert final.late_orders is not None
    return final.late_orders


def generate_raw_folder(
    out_dir: Path,
    *,
    persons: int,
    days: int,
    seed: int,
    fmt: str,
    events_format: str | None = None,
    end_date: date | None = None,
    truth_path: Path | None = None,
    progress: bool = True,
    batch_persons: int = 20_000,
) -> GenerationSummary:
    """Write a synthetic raw folder (every contract table) and optionally the ground truth.

    Same options => byte-identical files. History covers `days` days ending on `end_date`
    (default 2026-11-01, fixed so that output never depends on the wall clock).
    """
    started = time.perf_counter()
    _validate(persons, days, fmt, events_format, batch_persons)
    out_dir = Path(out_dir)
    end_date = end_date or DEFAULT_END_DATE
    start_date = end_date - timedelta(days=days - 1)
    window = Window(date_to_ms(start_date), date_to_ms(end_date) + DAY_MS)
    n_batches = math.ceil(persons / batch_persons)
    formats = {t: fmt for t in TABLES}
    if events_format is not None:
        formats["events"] = events_format
    folders = frozenset(PER_PERSON_TABLES) if n_batches > 1 else ALWAYS_FOLDERS
    out_dir.mkdir(parents=True, exist_ok=True)
    clear_tables(out_dir)
    writer = RawFolderWriter(out_dir, formats, folders)
    linker = Linker(enabled=truth_path is not None)
    options = {
        "persons": persons,
        "days": days,
        "seed": seed,
        "start_date": str(start_date),
        "end_date": str(end_date),
        "batch_persons": batch_persons,
    }
    truth = TruthWriter(truth_path, options) if truth_path is not None else None
    facts = TrapFacts()
    carry = None
    batches = tqdm(range(n_batches), desc="cdp generate", unit="batch", disable=not progress)
    for b in batches:
        g0 = b * batch_persons
        st = simulate_batch(seed, b, g0, min(persons, g0 + batch_persons), window, linker)
        carry = _write_batch(writer, st, carry, spoil_json=formats["events"] != "jsonl")
        key_of: dict[Node, str] = {}
        if truth is not None:
            persons_truth, key_of = linker.components()
            truth.add_persons(persons_truth)
        facts.add(st, key_of)
        linker.reset()
        del st
    if carry is not None and len(carry["order_id"]):
        writer.write("shop_orders", carry, n_batches + 1)
    fx_first = date_to_ms(start_date - timedelta(days=7))
    writer.write("fx_rates", fx_rates(seed, fx_first, window.end_ms, FX_BASE_RATE), 1)
    summary = GenerationSummary(
        out_dir=out_dir,
        persons=persons,
        days=days,
        seed=seed,
        start_date=start_date,
        end_date=end_date,
        batches=n_batches,
        tables=writer.stats,
        elapsed_seconds=0.0,
        truth_path=truth_path,
    )
    if truth is not None:
        truth.close(facts.as_json())
        summary.truth_persons = truth.count
    summary.elapsed_seconds = time.perf_counter() - started
    return summary
