"""Named kill points for fault-injection tests (issue 12, "crash anywhere, resume cleanly").

`CDP_FAULT_KILL=<point>[:<nth>]` makes the process SIGKILL itself the nth time (default 1)
it reaches `kill_point("<point>")`. SIGKILL, not an exception: no `finally`, no atexit, no
flush - the same as the OOM killer or a pulled plug. When the variable is unset a kill
point is one dict lookup and a comparison.

Points (grep `kill_point(` for the list): `ingest.after_file`, `deliver.before_send`,
`deliver.after_send`, `serving.before_swap`, `serving.between_swaps`.
"""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}


def _target() -> tuple[str, int] | None:
    spec = os.environ.get("CDP_FAULT_KILL")
    if not spec:
        return None
    point, _, nth = spec.partition(":")
    return point, int(nth) if nth else 1


def kill_point(name: str) -> None:
    """SIGKILL this process here if CDP_FAULT_KILL names `name` and this is the nth visit."""
    target = _target()
    if target is None or target[0] != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] == target[1]:
        os.kill(os.getpid(), signal.SIGKILL)
