"""The headless poll (``record``, ``watch``): a profile's refresh_seconds is its cadence, also above the 30-second
cap of the back-off (a fleet polls every 60 s by default: what a refresh costs is priced on it)."""
from __future__ import annotations

import asyncio

from tierconsole.core.domain.views import DashboardData, PaneStatus
from tierconsole.core.polling import poll_until


class Source:
    def __init__(self, refresh_seconds: float, ok: bool = True):
        self.refresh_seconds = refresh_seconds
        self.ok = ok
        self.refreshes = 0

    async def refresh(self) -> DashboardData:
        self.refreshes += 1
        return DashboardData(time=0.0, status={} if self.ok else {"quota": PaneStatus(False, reason="down")})


def _poll(source: Source, step: float) -> int:
    """Refreshes in one real second while every refresh moves the clock ``step`` seconds on."""
    now = [1000.0]

    def handle(_data: object) -> None:
        now[0] += step

    async def go() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(1.0, stop.set)
        await poll_until(source, handle, stop, clock=lambda: now[0])

    asyncio.run(go())
    return source.refreshes


def test_a_60_second_cadence_is_kept():
    assert _poll(Source(60.0), step=45.0) == 1  # 45 s after a refresh the next one is 15 s away, not due


def test_a_failing_source_backs_off_but_never_polls_faster_than_its_cadence():
    assert _poll(Source(60.0, ok=False), step=45.0) == 1
    assert _poll(Source(5.0, ok=False), step=31.0) > 1  # 5 s doubling: capped at 30 s, so due again at 31 s
