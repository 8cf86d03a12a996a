"""Polling a live source with no UI, shared by ``tierconsole record`` and ``tierconsole watch``: one refresh every
``refresh_seconds`` (less and less often while panes are stale, as the console does), until a duration has
passed or a stop is asked (SIGINT/SIGTERM set it: :func:`stop_on_signals`)."""
from __future__ import annotations

import asyncio
import signal
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from .domain.views import DashboardData

MAX_BACKOFF_S = 30.0  # as the live console: a failing account is polled less and less often


@contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set ``stop`` while inside (where the loop can take signals: the main thread)."""
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            pass
    try:
        yield
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


def panes_failing(data: DashboardData) -> bool:
    return any(not st.ok for st in data.status.values())


async def poll_until(source: Any, handle: Callable[[Any], object], stop: asyncio.Event, *,
                     duration: float | None = None, clock: Callable[[], float] = time.monotonic,
                     failing: Callable[[Any], bool] = panes_failing) -> str:
    """Refresh ``source`` (started) and hand each refresh to ``handle`` until ``duration`` (wall seconds) has
    passed or ``stop`` is set; a refresh under way when it is set is cancelled (``failing``: whether a refresh
    failed somewhere, to poll less often; a dashboard's panes by default). Returns ``"duration"`` or
    ``"signal"``."""
    started = clock()
    failures = 0
    while not stop.is_set():
        began = clock()
        refresh = asyncio.ensure_future(source.refresh())
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({refresh, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not refresh.done():
            refresh.cancel()
            await asyncio.gather(refresh, return_exceptions=True)
            break
        data = refresh.result()
        handle(data)
        failures = failures + 1 if failing(data) else 0
        if duration is not None and clock() - started >= duration:
            return "duration"
        cadence = source.refresh_seconds  # failing: doubled up to MAX_BACKOFF_S, never faster than the cadence
        wait = began + max(cadence, min(cadence * 2 ** min(failures, 5), MAX_BACKOFF_S)) - clock()
        if duration is not None:
            wait = min(wait, started + duration - clock())
        if wait > 0:
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait)
            except asyncio.TimeoutError:
                pass
        if duration is not None and clock() - started >= duration:
            return "duration"
    return "signal"
