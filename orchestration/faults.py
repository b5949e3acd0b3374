"""Named kill points for fault-injection tests (issue 12, "crash anywhere, resume cleanly").

`CDP_FAULT_KILL=<point>[:<nth>]` makes the process SIGKILL itself the nth time (default 1)
it reaches `kill_point("<point>")`. SIGKILL, not an exception: no `finally`, no atexit, no
flush - the same as the OOM killer or a pulled plug. A process that leads its own process
group (the fault harness starts `cdp run` with `start_new_session`) kills the whole group,
so a dbt subprocess dies in the same instant, as it would when a container is killed.

`CDP_FAULT_KILL=count:<file>` kills nothing and appends each point reached to `<file>`,
one name a line: the fault harness's reference run lists every (point, nth) a run passes,
which is what its seeded random kill points choose from.

When the variable is unset a kill point is one environment lookup (`armed()` for callers
that would have to compute a point's name first).

Points (grep `kill_point(` for the list):

* `ingest.after_file` (a file's rows and ledger row committed), `ingest.before_commit`
  (a file's rows written inside its transaction, not committed);
* `dbt.after_model` (the nth model or seed result in a dbt step's event stream, both dbt
  steps counted together), `dbt.after_test` (the nth test result), `dbt.after.<model>`
  (after that model's result, e.g. `dbt.after.seg_churn_risk`);
* `predictions.before_write`, `predictions.between_writes` (predictions written, the
  models' AUC table not yet);
* `deliver.after_plan` (outbox rows committed, nothing sent), `deliver.before_send`,
  `deliver.after_send` (the destination has the batch, the acknowledgement is not
  recorded), `deliver.after_ack`; `file.before_rename` (an export file written to its
  temporary name);
* `serving.mid_copy` (after the first table's parquet file), `serving.before_swap`,
  `serving.between_swaps` (new DuckDB copy in place, parquet link still old),
  `serving.after_swap` (old versions not yet removed).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

ENV = "CDP_FAULT_KILL"
COUNT_PREFIX = "count:"
_counts: dict[str, int] = {}


def armed() -> bool:
    """Whether any kill point can fire (one environment lookup)."""
    return bool(os.environ.get(ENV))


def _die() -> None:
    if os.getpgrp() == os.getpid():
        os.killpg(os.getpid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


def kill_point(name: str) -> None:
    """SIGKILL this process here if CDP_FAULT_KILL names `name` and this is the nth visit."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    if spec.startswith(COUNT_PREFIX):
        with Path(spec[len(COUNT_PREFIX) :]).open("a", encoding="utf-8") as log:
            log.write(name + "\n")
        return
    point, _, nth = spec.rpartition(":")
    if not nth.isdigit():
        point, nth = spec, "1"
    if point != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] == int(nth):
        _die()
