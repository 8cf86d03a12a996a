"""Recording a live source: :class:`RecordingSource` records every refresh of the live console
(``tierconsole --record FILE``), :func:`record_loop` polls a source with no UI (``tierconsole record``).
"""
from __future__ import annotations

import asyncio
import atexit
import logging
import time
from typing import Any, Callable

from .format import DEFAULT_MAX_BYTES, RecordingError

log = logging.getLogger("tierconsole.recording")



class RecordingSource:
    """A live source that records every refresh it returns. Everything else is the wrapped source's.

    A recording that fails (disk full, file removed) is logged and stopped; the console goes on.
    On a profile switch the new profile's source records to the same file.
    """

    def __init__(self, inner: Any, path: str | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 recorder: Any = None) -> None:
        from .recorder import Recorder  # noqa: PLC0415

        self.inner = inner
        self.recorder = recorder if recorder is not None else Recorder(path, inner.profile, max_bytes=max_bytes)
        self.error: str | None = None
        self._owner = True
        atexit.register(self.recorder.close)  # however the console ends, the last seconds are kept

    def __getattr__(self, name: str) -> Any:  # profile, refresh_seconds, ctx, collector, sandbox_thread…
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def start(self) -> None:
        self.inner.start()

    async def refresh(self):
        data = await self.inner.refresh()
        if self._owner and not self.recorder.closed:
            try:
                self.recorder.write(data)
            except RecordingError as e:
                self.error = str(e)
                log.error("recording stopped: %s", e)
                self.recorder.close()
        return data

    def for_profile(self, profile: Any) -> "RecordingSource":
        """The source of another profile, recording on to the same file (this one stops writing)."""
        self._owner = False
        return RecordingSource(self.inner.for_profile(profile), recorder=self.recorder)

    async def close(self) -> None:
        if self._owner:
            self.recorder.close()
        await self.inner.close()


def recording_source(source: Any, args: Any) -> Any:
    """``source`` wrapped to record when ``--record FILE`` was given, else ``source`` itself.
    Raises :class:`~.format.RecordingError` when FILE cannot be recorded to."""
    path = getattr(args, "record", None)
    if not path:
        return source
    return RecordingSource(source, path, max_bytes=getattr(args, "record_max_size", DEFAULT_MAX_BYTES))


async def record_loop(source: Any, recorder: Any, *, duration: float | None = None,
                      stop: asyncio.Event | None = None, clock: Callable[[], float] = time.monotonic,
                      progress: Callable[[str], None] | None = None) -> str:
    """Start ``source``, then write one refresh every ``source.refresh_seconds`` until ``duration``
    (wall seconds) has passed or ``stop`` is set (SIGINT/SIGTERM set it). Closes both. Returns why
    it stopped: ``"duration"`` or ``"signal"``."""
    from ..core.polling import poll_until, stop_on_signals  # noqa: PLC0415

    stop = stop or asyncio.Event()

    def write(data: Any) -> None:
        recorder.write(data)
        if progress is not None and recorder.frames_written % 60 == 1:
            progress(f"{recorder.frames_written:,} frames")

    with stop_on_signals(stop):
        try:
            await asyncio.to_thread(source.start)
            return await poll_until(source, write, stop, duration=duration, clock=clock)
        finally:
            recorder.close()
            await source.close()
