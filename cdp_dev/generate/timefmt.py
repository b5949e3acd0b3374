"""Vectorised timestamp rendering in the mix of ISO-8601 forms real sources produce.

Times live as int64 epoch milliseconds (UTC) inside the simulator and are turned into
text only at the end, a whole column at a time: per-row `datetime.strftime` would be
the slowest part of a million-person run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

NULL_TS = np.iinfo(np.int64).min
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000

# Offsets a source may write; the instant is the same UTC instant (local = utc + offset).
_OFFSET_MINUTES = np.array([60, 120, -300, -240, -420, -480, 330, 540, 600, 0], dtype=np.int64)
_OFFSET_TEXT = np.array(
    [
        "+01:00",
        "+02:00",
        "-05:00",
        "-04:00",
        "-07:00",
        "-08:00",
        "+05:30",
        "+09:00",
        "+10:00",
        "+00:00",
    ]
)


@dataclass(frozen=True)
class TimestampStyle:
    """How one source writes timestamps: shares of `Z`, `+hh:mm` and no-offset (UTC) forms."""

    p_z: float
    p_offset: float
    unit: str  # "ms" or "s"

    @property
    def probabilities(self) -> tuple[float, float, float]:
        return (self.p_z, self.p_offset, 1.0 - self.p_z - self.p_offset)


EVENT_STYLE = TimestampStyle(p_z=0.72, p_offset=0.18, unit="ms")
RECEIVED_STYLE = TimestampStyle(p_z=0.95, p_offset=0.0, unit="ms")
SHOP_STYLE = TimestampStyle(p_z=0.35, p_offset=0.50, unit="s")
CRM_STYLE = TimestampStyle(p_z=0.55, p_offset=0.10, unit="s")
CONSENT_STYLE = TimestampStyle(p_z=0.60, p_offset=0.25, unit="s")


def date_to_ms(day: date) -> int:
    """Midnight UTC of a calendar day, in epoch milliseconds."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def format_timestamps(
    ms: np.ndarray, rng: np.random.Generator, style: TimestampStyle
) -> np.ndarray:
    """ISO-8601 text per row (object array, None where `ms` is NULL_TS).

    Every row draws its form (and offset) from `rng`, so the same column of a run
    always renders the same way: determinism does not depend on the data's order.
    """
    ms = np.asarray(ms, dtype=np.int64)
    n = ms.shape[0]
    null = ms == NULL_TS
    kind = rng.choice(3, size=n, p=style.probabilities)
    offset_index = rng.integers(0, _OFFSET_MINUTES.shape[0], size=n)
    shift = np.where(kind == 1, _OFFSET_MINUTES[offset_index] * MINUTE_MS, 0)
    local = np.where(null, 0, ms + shift).astype("datetime64[ms]")
    text = np.datetime_as_string(local, unit=style.unit)
    suffix = np.where(kind == 0, "Z", np.where(kind == 1, _OFFSET_TEXT[offset_index], ""))
    out = np.strings.add(text, suffix).astype(object)
    out[null] = None
    return out


def format_dates(ms: np.ndarray) -> np.ndarray:
    """`YYYY-MM-DD` text per row (object array)."""
    days = np.asarray(ms, dtype=np.int64).astype("datetime64[ms]").astype("datetime64[D]")
    return np.datetime_as_string(days, unit="D").astype(object)
