"""Replay a recording in the console: the same dashboard, fed from a file instead of AWS.

:class:`ReplaySource` is a cursor over a :class:`~tierconsole.recording.Recording` with a playback
clock (play/pause, 0.25×-64×, step, seek). It also quacks like a
:class:`~tierconsole.live.LiveSource` (``profile``, ``refresh_seconds``, ``start``, ``refresh``,
``close``), so a plain :class:`~tierconsole.app.TierConsoleApp` can show it as if it were live.

:class:`ReplayApp` is the console with replay controls: a :class:`ReplayScreen` (the dashboard plus
a status line and keys) instead of the live dashboard, and no poller. Keys: ``space``/``p``
play/pause, ``.``/``,`` one frame forward/back, ``+``/``-`` speed, ``g`` jump to a time
(``HH:MM:SS``, ``-5m``, ``+30s``, ``start``, ``end`` or an ISO time).

Every age on screen is computed from the frame's own ``DashboardData.time``, never from the
wall clock, so a replayed frame draws exactly as it did live.
"""
from __future__ import annotations

import math
import re
import time
from functools import partial
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, ClassVar, Iterable

from rich.text import Text
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Input, Label

from .app import TierConsoleApp
from .core.domain import format as fmt
from .core.domain.profile import Profile
from .core.domain.views import DashboardData
from .recording import DamagedFrameError, Recording, RecordingError, parse_duration, stamp
from .screens.dashboard import DashboardScreen
from .screens.help import HelpScreen
from .widgets.pane import Body
from .widgets.render import Palette
from .widgets.throttles import ThrottlesPane

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
    from .core.domain import incident as inc  # noqa: PLC0415

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
class ReplayBar(Body):
    """The status line: REPLAY, play state and speed, the frame's time, position and a progress bar."""

    DEFAULT_CSS = "ReplayBar { height: 1; background: $panel; }"

    def show_state(self, source: ReplaySource) -> None:
        self.set_data((source.playing, source.at_end, source.speed, source.time, source.position, len(source),
                       source.times[0], source.times[-1]))

    def build(self, width: int, palette: Palette) -> list[Text]:
        playing, at_end, speed, now, position, count, first, last = self.data
        state = "▶" if playing else ("■" if at_end else "‖")
        speed_text = f"{speed:g}×"
        head = Text.assemble((" REPLAY ", palette["badge-warn"]), " ", (f"{state} {speed_text}", palette["strong"]),
                             "  ", (f"{stamp(now)} UTC", palette["strong"]))
        where = f"{position + 1:,}/{count:,}"
        span = last - first
        fraction = (now - first) / span if span > 0 else 1.0
        tail = Text.assemble(("frame ", palette["muted"]), (where, palette["strong"]), "  ",
                             (fmt.percent(fraction), palette["muted"]), " ")
        room = width - head.cell_len - tail.cell_len - 4
        if room < 6:  # narrow: keep the badge, state and time; then the position
            if head.cell_len + len(where) + 2 > width:
                return [head]
            return [Text.assemble(head, "  ", (where, palette["muted"]))]
        filled = max(0, min(room, round(fraction * room)))
        bar = Text.assemble(("━" * filled, palette["accent"]), ("━" * (room - filled), palette["empty"]))
        return [Text.assemble(head, "  ", bar, "  ", tail)]


class JumpScreen(ModalScreen[float | None]):
    """Ask for a time to jump to; dismissed with the epoch time, or None on escape."""

    DEFAULT_CSS = """
    JumpScreen { align: center middle; }
    JumpScreen > Vertical { width: 64; height: auto; padding: 1 2; background: $surface;
                            border: round $primary; }
    JumpScreen #jump-error { color: $error; height: auto; }
    JumpScreen #jump-help { color: $foreground-muted; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", show=False)]

    def __init__(self, current: float, start: float, end: float) -> None:
        super().__init__()
        self.current, self.start, self.end = current, start, end

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Jump to"
            yield Input(placeholder="14:30:00, -5m, +30s, start, end…", id="jump-input")
            yield Label(f"{JUMP_HELP}\nrecording: {stamp(self.start)} → {stamp(self.end)} UTC", id="jump-help")
            yield Label("", id="jump-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            target = parse_jump(event.value, current=self.current, start=self.start, end=self.end)
        except ValueError as e:
            self.query_one("#jump-error", Label).update(str(e))
            return
        self.dismiss(target)


def _action_name(action: str) -> str:
    return action.split("(", 1)[0]


#: Dashboard actions that only look (they make sense on recorded data); every other action of the
#: dashboard's key table (refresh, prompt lab, batch submit/cancel, profile switch…) is live-only.
VIEW_ACTIONS = frozenset({"pane", "cycle", "filter", "help", "restore", "select", "app.quit", "screen.copy_text"})
REPLAY_KEYS: list[Binding] = [
    Binding("space", "toggle_play", "Play/Pause", key_display="space", id="replay-play",
            tooltip="Play or pause the replay"),
    Binding("p", "toggle_play", "Play/Pause", show=False, id="replay-play-p", tooltip="Play or pause the replay"),
    Binding("full_stop", "step(1)", "Step", key_display=", .", id="replay-forward", tooltip="One frame forward"),
    Binding("comma", "step(-1)", "Back", show=False, id="replay-back", tooltip="One frame back"),
    Binding("plus,equals_sign", "speed(1)", "Speed", key_display="- +", id="replay-faster",
            tooltip="Play faster (up to 64×)"),
    Binding("minus", "speed(-1)", "Slower", show=False, id="replay-slower", tooltip="Play slower (down to 0.25×)"),
    Binding("g", "jump", "Jump", id="replay-jump", tooltip="Jump to a time: HH:MM:SS, -5m, +30s, start, end, ISO"),
]
_REPLAY_KEY_NAMES = {key for b in REPLAY_KEYS for key in b.key.split(",")}
#: Live-only actions of the dashboard's key table: refused on the replay screen / app.
LIVE_SCREEN_ACTIONS = frozenset(
    _action_name(b.action) for b in DashboardScreen.BINDINGS
    if _action_name(b.action) not in VIEW_ACTIONS and not b.action.startswith("app.")) - {"pause"}
LIVE_APP_ACTIONS = frozenset(
    _action_name(b.action)[4:] for b in DashboardScreen.BINDINGS
    if b.action.startswith("app.") and _action_name(b.action) not in VIEW_ACTIONS)


class ReplayScreen(DashboardScreen, inherit_bindings=False):
    """The dashboard, showing a :class:`ReplaySource`, with a status line and replay keys.

    Its key table is the replay keys, then the dashboard's viewing keys (panes, filter, help, quit);
    the live-only ones (refresh, actions, profile switch) are left out and refused.
    """

    BINDINGS: ClassVar[list[Binding]] = [
        *REPLAY_KEYS,
        *(b for b in DashboardScreen.BINDINGS
          if _action_name(b.action) in VIEW_ACTIONS and not set(b.key.split(",")) & _REPLAY_KEY_NAMES),
        *(b for b in Screen.BINDINGS if b.action == "screen.copy_text"),
    ]

    def __init__(self, source: ReplaySource, **kwargs) -> None:
        super().__init__(**kwargs)
        self.source = source
        self._timer: Timer | None = None
        self._told = 0

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield ReplayBar(id="replay-bar")

    def on_mount(self) -> None:  # (Textual then runs DashboardScreen.on_mount too)
        self._update_bar()
        self._tell_damage()
        if self.source.playing:
            self._schedule()

    # --- showing ----------------------------------------------------------------------------------
    def show_current(self) -> None:
        self.show(self.source.current())
        self._update_bar()
        self._tell_damage()

    def _tell_damage(self) -> None:
        """A damaged frame played or jumped around is said once, as a warning."""
        if self.source.notices > self._told:
            self._told = self.source.notices
            self.notify(self.source.notice or "damaged frame skipped", title="Damaged recording",
                        severity="warning", timeout=8)

    def _update_bar(self) -> None:
        try:
            bar = self.query_one(ReplayBar)
        except NoMatches:  # not composed yet: on_mount will do it
            return
        bar.show_state(self.source)

    # --- playback ---------------------------------------------------------------------------------
    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.source.playing:
            self._timer = self.set_timer(self.source.next_delay(), self._on_tick)

    def _on_tick(self) -> None:
        self._timer = None
        if self.source.tick():
            self.show_current()
        else:
            self._update_bar()
        self._schedule()

    def action_toggle_play(self) -> None:
        before = self.source.position
        self.source.toggle()  # playing from the end starts again from the first frame
        if self.source.position != before:
            self.show_current()
        self._update_bar()
        self._schedule()

    def action_step(self, frames: int) -> None:
        self.source.step(frames)
        self.show_current()
        self._schedule()

    def action_speed(self, steps: int) -> None:
        self.source.faster(steps)
        self._update_bar()
        self._schedule()

    def action_jump(self) -> None:
        src = self.source

        def done(target: float | None) -> None:
            if target is None:
                return
            if target < src.times[0] or target > src.times[-1]:
                edge = "start" if target < src.times[0] else "end"
                self.notify(f"{stamp(target)} UTC is outside the recording; showing its {edge}", timeout=4)
            src.seek_time(target)
            self.show_current()
            self._schedule()

        self.app.push_screen(JumpScreen(src.time, src.times[0], src.times[-1]), done)

    # --- the live dashboard's actions, adapted --------------------------------------------------
    def action_pause(self) -> None:  # the command palette's "Pause" plays/pauses the replay
        self.action_toggle_play()

    def action_refresh(self) -> None:
        pass

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in LIVE_SCREEN_ACTIONS:
            return False
        return super().check_action(action, parameters)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen([*self.BINDINGS, *ThrottlesPane.BINDINGS]))


class ReplayApp(TierConsoleApp):
    """The console replaying a recording: no AWS, no poller; the replay screen drives the data.

    ``at`` (epoch seconds) picks the first frame shown (default: the first frame); ``play`` starts
    playing at once.
    """

    def __init__(self, recording: Recording | str | Path, *, theme: str | None = None, at: float | None = None,
                 speed: float = 1.0, play: bool = False, clock: Callable[[], float] = time.monotonic,
                 **kwargs) -> None:
        super().__init__(theme, **kwargs)
        self.replay = ReplaySource(recording, speed=speed, clock=clock)
        if at is not None:
            self.replay.seek_time(at)
        self.dashboard = ReplayScreen(self.replay)
        self.dashboard.show(self.replay.current())
        if play:
            self.replay.play()
        self.sub_title = f"replay {self.replay.recording.path.name}"

    async def close_source(self) -> None:
        self.replay.pause()
        self.replay.recording.close()

    def incident_for(self, event):
        """The incident view of a replayed event, from the per-minute usage the recording holds."""
        return incident_from_recording(self.replay.recording, event)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in LIVE_APP_ACTIONS:  # a replay has no AWS: no prompts, batch jobs or profile switch
            return False
        return super().check_action(action, parameters)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own commands (theme, keys, quit…) and the replay screen's key table; none of the
        live console's."""
        yield from App.get_system_commands(self, screen)
        if isinstance(screen, ReplayScreen):
            for binding in ReplayScreen.BINDINGS:
                title = binding.tooltip or binding.description
                yield SystemCommand(title, f"key: {self.get_key_display(binding)}",
                                    partial(self.call_later, screen.run_action, binding.action))

