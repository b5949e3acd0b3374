"""Benchmark of the studio's pages (a script, not a test): p50/p95 per page.

    uv run cdp generate /tmp/raw1m --persons 1000000 --quiet      # the reference size
    uv run cdp run --raw-dir /tmp/raw1m --warehouse /tmp/w1m/cdp.duckdb
    uv run python benchmarks/studio_pages.py --serving-dir /tmp/w1m/serving

    uv run python benchmarks/studio_pages.py --serving-dir warehouse/serving  # the demo

Serves the app in this process (Starlette's test client: routing, queries and template
rendering are timed, the network is not) and requests every page `--repeat` times for
`--people` persons picked at random (seeded): the search page (by an email, a customer
id, an anonymous id and a misspelt name), the 360° page, the audiences page, each
segment's page, identity health and data quality. The target: every page under 300 ms
at p95 on a 1,000,000-person build.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import defaultdict
from pathlib import Path

from starlette.testclient import TestClient

from orchestration.studio.app import StudioConfig, create_app

TARGET_MS = 300


def _misspelt(name: str, rng: random.Random) -> str:
    if len(name) < 4:
        return name
    position = rng.randrange(1, len(name) - 2)
    return name[:position] + name[position + 1] + name[position] + name[position + 2 :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serving-dir", type=Path, required=True)
    parser.add_argument("--people", type=int, default=20, help="persons sampled")
    parser.add_argument("--repeat", type=int, default=3, help="requests per page and person")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    app = create_app(StudioConfig(serving_dir=args.serving_dir))
    reader = app.state.reader
    rng = random.Random(args.seed)
    (count,) = reader.query("select count(*) as n from marts.customer_profiles")
    print(f"serving copy {args.serving_dir}: {count['n']:,} persons")
    sample = reader.query(
        "select person_id, first_name, last_name, email, customer_id from "
        f"marts.customer_profiles using sample reservoir({int(args.people)} rows) "
        f"repeatable ({int(args.seed)})"
    )
    anonymous = reader.query(
        "select identifier_value from marts.identity_map where identifier_type = "
        f"'anonymous_id' using sample reservoir({int(args.people)} rows) "
        f"repeatable ({int(args.seed)})"
    )
    segments = [
        row["segment_name"]
        for row in reader.query("select distinct segment_name from marts.segment_sizes order by 1")
    ]
    urls: dict[str, list[str]] = defaultdict(list)
    for person in sample:
        urls["person 360"].append(f"/person/{person['person_id']}")
        if person["email"]:
            urls["search: email"].append(f"/?q={person['email']}")
        if person["customer_id"]:
            urls["search: customer id"].append(f"/?q={person['customer_id']}")
        if person["last_name"]:
            urls["search: misspelt name"].append(f"/?q={_misspelt(person['last_name'], rng)}")
    for row in anonymous:
        urls["search: anonymous id"].append(f"/?q={row['identifier_value']}")
    urls["audiences"] = ["/audiences"]
    urls["segment"] = [f"/audiences/{name}" for name in segments]
    urls["identity health"] = ["/identity"]
    urls["data quality"] = ["/quality"]

    client = TestClient(app)
    client.get("/")  # warm: the first query opens the file
    print(f"{'page':<24}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  target")
    worst = 0.0
    for page, paths in urls.items():
        timings = []
        for _ in range(args.repeat):
            for path in paths:
                start = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (path, response.status_code)
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
        worst = max(worst, p95)
        verdict = "ok" if p95 < TARGET_MS else "SLOW"
        print(f"{page:<24}{len(timings):>9}{p50:>9.1f}{p95:>9.1f}{timings[-1]:>9.1f}  {verdict}")
    print(f"worst p95: {worst:.1f} ms (target < {TARGET_MS} ms)")


if __name__ == "__main__":
    main()
