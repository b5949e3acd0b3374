"""Benchmark of the identity-graph connected-components step (a script, not a test).

    uv run python benchmarks/identity_graph.py --edges 5000000   # the reference size
    uv run python benchmarks/identity_graph.py --edges 200000    # a quick run

Generates a synthetic identity graph of `type:value` identifiers and resolves the same
edges with scipy (the baseline, string->int mapping by np.unique included), networkx and
this project's dbt macros on a DuckDB file (`resolve_identifier_graph`: hash_bigint ->
connected_components -> map back, with the hash-collision check). Prints times, ratios,
passes and peak memory, and checks that every method found the same partition.

How "ours" is timed: dbt runs in this process (dbtRunner). The macro logs a line when it
starts and when it is done; an event callback stamps both with time.perf_counter() as
they are fired. dbt's start-up, parsing and connection opening come before the first
line and are not counted; hashing, solving, mapping back to the identifier strings and
the collision check come between them and are. Every method's CPU seconds (this
process, all threads) are printed beside its wall seconds: the machine's cores may be
shared. A thread samples this process's RSS (psutil) every 10 ms during the dbt
invocation for the peak memory of our step.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from orchestration.dbt_inprocess import run_operation

# Shape of the synthetic graph (see /work/shared/notes/identity-graph-performance.md):
# persons of 1-5 identifiers, chains of 20 hops, 5 hubs, 10% duplicate rows.
PERSON_SIZES = np.array([1, 2, 3, 4, 5])
PERSON_SIZE_WEIGHTS = np.array([0.04, 0.74, 0.12, 0.05, 0.05])
CHAIN_HOPS = 20
CHAIN_EDGE_SHARE = 0.01
HUB_LINKS_AT_5M = (1_000, 2_500, 5_000, 10_000, 25_000)
DUPLICATE_SHARE = 0.10
IDENTIFIER_TYPES = ("email", "phone", "anonymous_id", "customer_id", "device_id")


@dataclass(frozen=True)
class IdentityGraph:
    """Edge rows as two equal-length lists of identifier strings."""

    src: list[str]
    dst: list[str]

    @property
    def edges(self) -> int:
        return len(self.src)


def _identifier_strings(count: int, rng: np.random.Generator) -> list[str]:
    """`type:value` strings, unique by construction (the index is part of every value)."""
    types = rng.integers(0, len(IDENTIFIER_TYPES), size=count)
    noise = rng.integers(0, 2**32, size=count, dtype=np.uint64)
    out: list[str] = []
    append = out.append
    for index, (kind, bits) in enumerate(zip(types.tolist(), noise.tolist(), strict=True)):
        if kind == 0:
            append(f"email:user{index}.{bits % 9973}@example.com")
        elif kind == 1:
            append(f"phone:+1{2_000_000_000 + index}")
        elif kind == 2:
            append(f"anonymous_id:{index:08x}-{bits:08x}-4a1b-9c2d")
        elif kind == 3:
            append(f"customer_id:{index}")
        else:
            append(f"device_id:{bits:08x}{index:08x}")
    return out


def generate_identity_graph(n_edges: int, seed: int = 42) -> IdentityGraph:
    """About `n_edges` edge rows (~1.54 identifiers per row), in random row order.

    Persons have 1-5 identifiers joined by a random spanning tree (a person with one
    identifier is a self-loop: how an isolated identifier is represented); ~1% of the
    edges form chains of 20 hops; 5 hub identifiers (a shared device, a placeholder email)
    each link 1k-25k identifiers of different persons; 10% of rows are duplicates (half
    of them written the other way round).
    """
    rng = np.random.default_rng(seed)
    distinct_edges = round(n_edges / (1 + DUPLICATE_SHARE))
    scale = min(1.0, n_edges / 5_000_000)
    hub_links = [max(10, round(links * scale)) for links in HUB_LINKS_AT_5M]
    chain_count = max(1, round(distinct_edges * CHAIN_EDGE_SHARE / CHAIN_HOPS))
    person_edge_budget = distinct_edges - sum(hub_links) - chain_count * CHAIN_HOPS

    # Persons: draw sizes until their edges (size - 1, or 1 self-loop) fill the budget.
    mean_edges = float((PERSON_SIZE_WEIGHTS * np.maximum(PERSON_SIZES - 1, 1)).sum())
    sizes = rng.choice(
        PERSON_SIZES, size=int(person_edge_budget / mean_edges * 1.05) + 10, p=PERSON_SIZE_WEIGHTS
    )
    edges_per_person = np.maximum(sizes - 1, 1)
    sizes = sizes[: int(np.searchsorted(np.cumsum(edges_per_person), person_edge_budget)) + 1]

    # Node numbering: persons' identifiers, then chains, then hubs.
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    n_person_nodes = int(sizes.sum())
    src_parts: list[np.ndarray] = []
    dst_parts: list[np.ndarray] = []
    singles = starts[sizes == 1]
    src_parts.append(singles)
    dst_parts.append(singles)
    # Member j (j >= 1) of a person links to a random earlier member: stars, paths, trees.
    member_person = np.repeat(np.arange(len(sizes)), sizes - 1)
    member_rank = (
        np.arange(len(member_person)) - np.repeat(np.cumsum(sizes - 1) - (sizes - 1), sizes - 1) + 1
    )
    earlier = (rng.random(len(member_rank)) * member_rank).astype(np.int64)
    src_parts.append(starts[member_person] + member_rank)
    dst_parts.append(starts[member_person] + earlier)

    chain_start = n_person_nodes
    chain_nodes = np.arange(chain_start, chain_start + chain_count * (CHAIN_HOPS + 1))
    chain_nodes = chain_nodes.reshape(chain_count, CHAIN_HOPS + 1)
    src_parts.append(chain_nodes[:, :-1].ravel())
    dst_parts.append(chain_nodes[:, 1:].ravel())

    hub_start = chain_start + chain_nodes.size
    for hub, links in enumerate(hub_links):
        members = rng.choice(n_person_nodes, size=links, replace=False)
        src_parts.append(np.full(links, hub_start + hub))
        dst_parts.append(members)
    n_nodes = hub_start + len(hub_links)

    src = np.concatenate(src_parts)
    dst = np.concatenate(dst_parts)
    duplicates = rng.integers(0, len(src), size=n_edges - len(src))
    flip = rng.random(len(duplicates)) < 0.5
    src, dst = (
        np.concatenate([src, np.where(flip, dst[duplicates], src[duplicates])]),
        np.concatenate([dst, np.where(flip, src[duplicates], dst[duplicates])]),
    )
    swap = rng.random(len(src)) < 0.5
    src, dst = np.where(swap, dst, src), np.where(swap, src, dst)
    order = rng.permutation(len(src))
    # Identifier strings in a random order, so string order says nothing about persons.
    names = _identifier_strings(n_nodes, rng)
    relabel = rng.permutation(n_nodes)
    return IdentityGraph(
        src=[names[i] for i in relabel[src[order]].tolist()],
        dst=[names[i] for i in relabel[dst[order]].tolist()],
    )


GIB = 1024**3


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds, and CPU seconds of this process (all threads) over the same span.

    CPU time says how much work a method did even when other processes share the cores,
    which stretches wall time (DuckDB's two threads suffer more than one-threaded code).
    """

    wall: float
    cpu: float

    @classmethod
    def since(cls, wall_start: float, cpu_start: float) -> Timing:
        return cls(time.perf_counter() - wall_start, time.process_time() - cpu_start)


class PeakRss:
    """Samples this process's resident set size in a thread; `peak` is the largest seen."""

    def __init__(self, interval: float = 0.01) -> None:
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.start_rss = self._process.memory_info().rss
        self.peak = self.start_rss
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            time.sleep(self._interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def load_edges(graph: IdentityGraph, warehouse: Path) -> None:
    """Write the edge rows to `main.raw_identity_edges` in the DuckDB file (not timed)."""
    table = pa.table({"src_identifier": graph.src, "dst_identifier": graph.dst})
    with duckdb.connect(str(warehouse)) as con:
        con.register("generated_edges", table)
        con.execute("create or replace table raw_identity_edges as select * from generated_edges")


def run_ours(warehouse: Path, work_dir: Path, max_passes: int) -> tuple[Timing, list[str], PeakRss]:
    """`dbt run-operation resolve_identifier_graph` in-process; times the macro's own work."""
    stamps: dict[str, Any] = {}

    def on_log_line(line: str) -> None:
        if line.startswith("resolve_identifier_graph: start"):
            stamps["start"] = time.perf_counter()
            stamps["start_cpu"] = time.process_time()
        elif line.startswith("resolve_identifier_graph: done"):
            stamps["done"] = Timing.since(stamps["start"], stamps["start_cpu"])

    os.environ["CDP_WAREHOUSE"] = str(warehouse)
    arguments = {
        "edges_relation": "main.raw_identity_edges",
        "output_relation": "main.identity_map_bench",
        "max_passes": max_passes,
    }
    with PeakRss() as rss:
        run = run_operation("resolve_identifier_graph", arguments, work_dir, on_log_line)
    if not run.success or "done" not in stamps:
        raise SystemExit("dbt run-operation failed:\n" + "\n".join(run.log_lines + run.errors))
    return stamps["done"], run.log_lines, rss


def ours_labels(warehouse: Path, identifiers: np.ndarray) -> np.ndarray:
    """Our component per identifier, in the order of `identifiers` (sorted, as np.unique)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        fetched = con.execute(
            "select identifier, component from identity_map_bench order by identifier"
        ).fetchnumpy()
    if len(fetched["identifier"]) != len(identifiers) or not np.array_equal(
        fetched["identifier"].astype(identifiers.dtype), identifiers
    ):
        raise SystemExit("ours: the identifiers differ from the input's")
    return fetched["component"]


def run_scipy(src: np.ndarray, dst: np.ndarray) -> tuple[Timing, np.ndarray, np.ndarray]:
    """np.unique (string -> int) + scipy.sparse.csgraph.connected_components."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    started, started_cpu = time.perf_counter(), time.process_time()
    identifiers, inverse = np.unique(np.concatenate([src, dst]), return_inverse=True)
    n_edges = len(src)
    graph = coo_matrix(
        (np.ones(n_edges, dtype=np.int8), (inverse[:n_edges], inverse[n_edges:])),
        shape=(len(identifiers), len(identifiers)),
    ).tocsr()
    _, labels = connected_components(graph, directed=False)
    return Timing.since(started, started_cpu), identifiers, labels


def run_scipy_factorize(src: np.ndarray, dst: np.ndarray) -> Timing:
    """The same with pandas.factorize (hash table) for the mapping: a stronger baseline."""
    import pandas as pd
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    started, started_cpu = time.perf_counter(), time.process_time()
    codes, uniques = pd.factorize(np.concatenate([src, dst]))
    n_edges = len(src)
    graph = coo_matrix(
        (np.ones(n_edges, dtype=np.int8), (codes[:n_edges], codes[n_edges:])),
        shape=(len(uniques), len(uniques)),
    ).tocsr()
    connected_components(graph, directed=False)
    return Timing.since(started, started_cpu)


def run_networkx(graph: IdentityGraph, identifiers: np.ndarray) -> tuple[Timing, np.ndarray]:
    """networkx.connected_components on a Graph of the identifier strings."""
    import networkx as nx

    started, started_cpu = time.perf_counter(), time.process_time()
    nx_graph = nx.Graph()
    nx_graph.add_edges_from(zip(graph.src, graph.dst, strict=True))
    components = list(nx.connected_components(nx_graph))
    timing = Timing.since(started, started_cpu)
    component_of = {node: index for index, members in enumerate(components) for node in members}
    return timing, np.fromiter((component_of[i] for i in identifiers.tolist()), np.int64)


def same_partition(left: np.ndarray, right: np.ndarray) -> bool:
    """Two labelings of the same items are one partition iff labels pair up one to one."""
    pairs = np.unique(np.stack([left.astype(np.int64), right.astype(np.int64)]), axis=1)
    return pairs.shape[1] == len(np.unique(left)) == len(np.unique(right))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edges", type=int, default=5_000_000, help="edge rows to generate")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--networkx-max-edges",
        type=int,
        default=6_000_000,
        help="skip networkx above this many edges (it needs ~2 min and 4+ GiB at 5M)",
    )
    parser.add_argument("--max-passes", type=int, default=30, help="connected_components pass cap")
    parser.add_argument("--keep", type=Path, default=None, help="keep the DuckDB file here")
    options = parser.parse_args(argv)

    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores: other work skews the times)")
    started = time.perf_counter()
    graph = generate_identity_graph(options.edges, seed=options.seed)
    print(f"generated {graph.edges:,} edge rows in {time.perf_counter() - started:.1f} s")

    with tempfile.TemporaryDirectory(prefix="identity-bench-") as tmp:
        work_dir = Path(tmp)
        warehouse = options.keep or work_dir / "bench.duckdb"
        load_edges(graph, warehouse)

        ours_timing, lines, rss = run_ours(warehouse, work_dir, options.max_passes)
        for line in lines:
            print("  dbt |", line)

        src = np.array(graph.src)
        dst = np.array(graph.dst)
        scipy_timing, identifiers, scipy_labels = run_scipy(src, dst)
        factorize_timing = run_scipy_factorize(src, dst)
        del src, dst
        print(f"{len(identifiers):,} identifiers, {len(np.unique(scipy_labels)):,} components")

        results = {"ours": ours_labels(warehouse, identifiers)}
        networkx_timing = None
        if graph.edges <= options.networkx_max_edges:
            networkx_timing, results["networkx"] = run_networkx(graph, identifiers)
        else:
            print(f"networkx skipped: {graph.edges:,} edges > --networkx-max-edges")

    agree = {name: same_partition(scipy_labels, labels) for name, labels in results.items()}
    print()
    rows = [
        ("scipy (np.unique mapping + csgraph)", scipy_timing),
        ("scipy (pandas.factorize mapping + csgraph)", factorize_timing),
        ("networkx connected_components", networkx_timing),
        ("ours (dbt macros on DuckDB)", ours_timing),
    ]
    print(f"{'method':<44}{'wall s':>10}{'cpu s':>10}")
    for name, timing in rows:
        if timing is not None:
            print(f"{name:<44}{timing.wall:>10.2f}{timing.cpu:>10.2f}")
    print()
    print("ratio (wall; cpu)")
    for name, ratio in [
        ("ours / scipy (np.unique)   target <= 1.2", (ours_timing, scipy_timing)),
        ("ours / scipy (factorize)", (ours_timing, factorize_timing)),
        ("networkx / ours            target >= 5", (networkx_timing, ours_timing)),
    ]:
        numerator, denominator = ratio
        if numerator is not None and denominator is not None:
            print(
                f"  {name:<42}{numerator.wall / denominator.wall:>7.2f}"
                f"{numerator.cpu / denominator.cpu:>7.2f}"
            )
    print(
        f"peak RSS during our step: {rss.peak / GIB:.2f} GiB "
        f"(+{(rss.peak - rss.start_rss) / GIB:.2f} GiB over the {rss.start_rss / GIB:.2f} GiB "
        f"the process held before it; target < 6 GiB)"
    )
    whole_run = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(f"peak RSS of the whole run: {whole_run / GIB:.2f} GiB")
    print(f"same partition as scipy: {agree}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0 if all(agree.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
