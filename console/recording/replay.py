"""Replay a recording: :class:`ReplaySource` is a cursor over a :class:`~.reader.Recording` with a
playback clock (play/pause, 0.25×-64×, step, seek). It also quacks like a
:class:`~tierconsole.core.source.LiveSource` (``profile``, ``refresh_seconds``, ``start``, ``refresh``,
``close``), so the console can show it as if it were live (:mod:`tierconsole.tui.replay` is the UI).

Every age on screen is computed from the frame's own ``DashboardData.time``, never from the
wall clock, so a replayed frame draws exactly as it did live.
"""
from __future__ import annotations

import math
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from ..core.domain.profile import Profile
from ..core.domain.views import DashboardData
from ..core.units import parse_duration
from .format import DamagedFrameError, RecordingError, stamp
from .reader import Recording

#: Playback speeds, slowest first; ``+``/``-`` move along them.
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
#: A gap in the recording (the recorder was stopped: the next frame is more than ten usual steps or
#: a minute away) is waited out for at most this long.
MAX_WAIT_S = 2.0
#: Shortest wait between two playback ticks; faster frames are skipped, as on a live console.
MIN_TICK_S = 0.05


# --------------------------------------------------------------------------------------- parsing
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?$")
JUMP_HELP = "HH:MM:SS (UTC), -5m, +30s, start, end or 2026-03-02T14:30:00"


def parse_jump(text: str, *, current: float, start: float, end: float) -> float:
    """The epoch time an operator means by ``text`` while looking at ``current`` in a recording
    spanning ``start``-``end``: a UTC time of day (``14:30``, ``14:30:05``; on the current frame's
    day, or the nearest day in the recording), a relative ``-5m``/``+30s``, ``start``/``end``, or
    an ISO date-time (naive means UTC). :class:`ValueError` with a readable message otherwise."""
    s = text.strip()
    if not s:
        raise ValueError(f"type a time: {JUMP_HELP}")
    low = s.lower()
    if low in ("start", "first", "begin"):
        return start
    if low in ("end", "last"):
        return end
    if s[0] in "+-":
        try:
            offset = parse_duration(s[1:])
        except ValueError:
            raise ValueError(f"not a relative time: {text!r} (e.g. -5m, +30s, -1h30m)") from None
        return current + offset if s[0] == "+" else current - offset
    m = _CLOCK.match(s)
    if m:
        hours, minutes, seconds = int(m.group(1)), int(m.group(2)), float(m.group(3) or 0)
        if hours > 23 or minutes > 59 or seconds >= 60:
            raise ValueError(f"not a time of day: {text!r} (HH:MM or HH:MM:SS, UTC)")
        day = datetime.fromtimestamp(current, timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        offset = hours * 3600 + minutes * 60 + seconds
        first_day = datetime.fromtimestamp(start, timezone.utc).date()
        last_day = datetime.fromtimestamp(end, timezone.utc).date()
        candidates = []
        d = datetime(first_day.year, first_day.month, first_day.day, tzinfo=timezone.utc)
        while d.date() <= last_day:
            t = d.timestamp() + offset
            if start <= t <= end:
                candidates.append(t)
            d += timedelta(days=1)
        if candidates:
            return min(candidates, key=lambda t: abs(t - current))
        return day.timestamp() + offset
    try:
        when = datetime.fromisoformat(s)
    except ValueError:
        raise ValueError(f"not a time: {text!r} (use {JUMP_HELP})") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


# --------------------------------------------------------------------------------------- incident
def incident_from_recording(recording: Recording, event):
    """The incident around ``event`` as the live console would have diagnosed it once its window had
    passed, from the recording's frames (or why it cannot be).

    Every frame holds each model's last complete minute (:attr:`DashboardData.usage_minutes`); minute
    ``m`` is read from the last frame before minute ``m + 2`` starts (the most complete figures for it).
    Minutes the recording did not cover are left out of the timeline, never shown as zeros.
    """
    from ..core.domain import incident as inc  # noqa: PLC0415

    minute = math.floor(event.time / 60) * 60
    start, end = minute - inc.BEFORE_MINUTES * 60, minute + inc.AFTER_MINUTES * 60
    rows, name = [], event.model_id
    for m in range(int(start), int(end) + 1, 60):
        position = recording.index_at(m + 120 - 0.001)
        if position < 0:
            continue
        frame = recording.frame(position)
        if frame.time < m + 60:  # the recording stops before minute m was complete
            break
        rows += [r for r in frame.usage_minutes if r.model_id == event.model_id and r.time == m]
        name = next((q.name for q in frame.quotas if q.model_id == event.model_id), name)
    if not rows:
        return (f"This recording holds no per-minute figures for {event.model_id} around {stamp(event.time)} UTC "
                "(made by an older tierconsole, or the minute was not complete when it stopped).")
    return inc.from_minutes(event.model_id, name.split(" · ")[0], rows, max(start, rows[0].time),
                            min(end, rows[-1].time), focus=event.time)


# --------------------------------------------------------------------------------------- source
class ReplaySource:
    """A recording as a data source: a position, a speed and a playback clock.

    Playback is anchored: when play starts (or the speed or position changes) the source notes the
    frame's time and the wall time; :meth:`tick` then moves to the last frame whose time is due,
    skipping frames when they come faster than the screen is refreshed. ``clock`` (wall seconds,
    monotonic) is injectable for tests.
    """

    def __init__(self, recording: Recording | str | Path, *, position: int = 0, speed: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.recording = recording if isinstance(recording, Recording) else Recording(recording)
        if not len(self.recording):
            raise LookupError(f"{self.recording.path}: the recording has no frames")
        self.times = self.recording.times()
        self.position = max(0, min(position, len(self.recording) - 1))
        #: The last damaged frame played or jumped around (a message), and how many so far: the screen
        #: shows each once. A recording with no readable frame at all raises RecordingError here.
        self.notice: str | None = None
        self.notices = 0
        self._settle(forward=True)
        self.speed = min(SPEEDS, key=lambda s: abs(s - speed))
        self.playing = False
        self.clock = clock
        tail = self.times[-10_001:]
        steps = sorted(b - a for a, b in zip(tail, tail[1:]))
        #: Recorded seconds between two frames beyond which playback does not wait in real time.
        self.gap_s = max(60.0, 10 * steps[len(steps) // 2]) if steps else 60.0
        self._anchor_wall = self._moved_wall = clock()
        self._anchor_time = self.time
        meta = self.recording.meta
        #: LiveSource compatibility: the recorded profile (name, region, sandbox), read-only, no AWS.
        self.profile = Profile(name=str(meta.get("profile") or "replay"),
                               regions=(str(meta.get("region") or "us-east-1"),), read_only=True,
                               read_only_by="this is a replay of a recording",
                               sandbox={} if meta.get("is_sandbox") else None,
                               source=str(self.recording.path), origin="recording")
        self.sandbox_thread = self.ctx = self.collector = None
        self._started = False

    def __len__(self) -> int:
        return len(self.recording)

    @property
    def time(self) -> float:
        """The current frame's (index) time."""
        return self.times[self.position]

    @property
    def at_end(self) -> bool:
        return self.position >= len(self) - 1

    def current(self) -> DashboardData:
        try:
            return self.recording.frame(self.position)
        except DamagedFrameError:  # not settled yet (moved by hand): around the damage, forward
            self._settle(forward=True)
            return self.recording.frame(self.position)

    def _settle(self, forward: bool) -> None:
        """Stay on the current frame if it reads, else move to the nearest one that does (in the
        direction of travel first), noting the damage for the screen."""
        try:
            self.recording.frame(self.position)
            return
        except DamagedFrameError as e:
            damage = e
        found = self.recording.readable(self.position, forward)
        if found is None:
            raise RecordingError(self.recording.path, f"no frame can be read ({damage.reason})")
        self.position = found
        self.notice = f"{damage.reason}; showing frame {found + 1:,} instead"
        self.notices += 1

    # --- moving ---------------------------------------------------------------------------------
    def seek(self, position: int) -> int:
        """Go to a frame position (clamped to the recording; a damaged frame is skipped in the
        direction of travel). Returns the new position."""
        before = self.position
        self.position = max(0, min(position, len(self) - 1))
        self._settle(forward=self.position >= before)
        self._anchor()
        return self.position

    def seek_time(self, t: float) -> int:
        """Go to the frame at or before ``t`` (the first frame when ``t`` is before it)."""
        return self.seek(max(0, self.recording.index_at(t)))

    def step(self, frames: int) -> int:
        return self.seek(self.position + frames)

    def set_speed(self, speed: float) -> float:
        self.speed = min(SPEEDS, key=lambda s: abs(s - speed))
        self._anchor()
        return self.speed

    def faster(self, steps: int = 1) -> float:
        index = SPEEDS.index(self.speed) + steps
        return self.set_speed(SPEEDS[max(0, min(index, len(SPEEDS) - 1))])

    # --- playback -------------------------------------------------------------------------------
    def play(self) -> None:
        if self.at_end:
            self.seek(0)  # play again from the start, like a media player
        self.playing = True
        self._anchor()

    def pause(self) -> None:
        self.playing = False

    def toggle(self) -> bool:
        self.pause() if self.playing else self.play()
        return self.playing

    def _anchor(self) -> None:
        self._anchor_wall = self._moved_wall = self.clock()
        self._anchor_time = self.time

    def tick(self) -> bool:
        """Advance to the frame due now. True when the position moved; stops at the end."""
        if not self.playing:
            return False
        now = self.clock()
        due = self.recording.index_at(self._anchor_time + (now - self._anchor_wall) * self.speed)
        before = self.position
        if due > self.position:
            self.position = min(due, len(self) - 1)
            self._moved_wall = now
        elif self._before_gap() and now - self._moved_wall >= MAX_WAIT_S:  # skip the gap to the next frame
            self.position += 1
            self._anchor()
        else:
            return False
        self._settle(forward=True)
        if self.position <= before:  # nothing readable ahead: stop on the last frame that reads
            self.position = before
            self.playing = False
            return True
        if self.position > due:  # jumped over damage: play on from there
            self._anchor()
        if self.at_end:
            self.playing = False
        return True

    def next_delay(self) -> float:
        """Wall seconds until the next frame is due (at least :data:`MIN_TICK_S`)."""
        if self.at_end:
            return MAX_WAIT_S
        now = self.clock()
        played = self._anchor_time + (now - self._anchor_wall) * self.speed
        wait = (self.times[self.position + 1] - played) / self.speed
        if self._before_gap():
            wait = min(wait, MAX_WAIT_S - (now - self._moved_wall))
        return max(MIN_TICK_S, wait)

    def _before_gap(self) -> bool:
        """The next frame is a gap away (the recorder was stopped for a while)."""
        return not self.at_end and self.times[self.position + 1] - self.time > self.gap_s

    # --- LiveSource compatibility -----------------------------------------------------------------
    @property
    def refresh_seconds(self) -> float:
        """The recorded gap to the next frame at the current speed (for ``TierConsoleApp``'s poller)."""
        if self.at_end:
            return MAX_WAIT_S
        wait = (self.times[self.position + 1] - self.time) / self.speed
        return max(MIN_TICK_S, min(wait, MAX_WAIT_S) if self._before_gap() else wait)

    def start(self) -> None:
        pass

    async def refresh(self) -> DashboardData:
        """The next frame each call (the first call gives the current one); the last one repeats."""
        if self._started and not self.at_end:
            before = self.position
            self.position += 1
            self._settle(forward=True)
            if self.position < before:
                self.position = before
        self._started = True
        return self.current()

    async def close(self) -> None:
        self.recording.close()


# --------------------------------------------------------------------------------------- widgets
