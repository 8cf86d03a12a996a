"""The sandbox clock: wall-clock epoch seconds, optionally running faster (``--speed``)."""
from __future__ import annotations

import time

# A sandbox minute in 6 µs (the throughput bench runs here). Beyond it timers stop meaning anything, and
# the timeline would pass year 9999 (where datetimes end) within hours of real time.
MAX_SPEED = 10_000_000.0


class SandboxClock:
    """``now()`` is epoch seconds on the sandbox's timeline; at speed 1 it is the wall clock.

    At speed S, sandbox time advances S seconds per real second (starting from the wall clock
    at creation), so quota windows, generation pacing, waits and job durations all shrink by S.
    """

    def __init__(self, speed: float = 1.0, start_epoch: float | None = None):
        if not 0 < speed <= MAX_SPEED:  # NaN fails this too
            raise ValueError(f"speed must be a number above 0 and at most {MAX_SPEED:g}, got {speed}")
        self.speed = float(speed)
        self._mono0 = time.monotonic()
        self._epoch0 = time.time() if start_epoch is None else start_epoch

    def now(self) -> float:
        return self._epoch0 + (time.monotonic() - self._mono0) * self.speed

    def real_delay(self, sandbox_seconds: float) -> float:
        """Real seconds to sleep for ``sandbox_seconds`` of sandbox time."""
        return max(0.0, sandbox_seconds / self.speed)


class FakeClock(SandboxClock):
    """A clock tests move by hand."""

    def __init__(self, start: float = 1_800_000_000.0, speed: float = 1.0):
        super().__init__(speed=speed, start_epoch=start)
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds
