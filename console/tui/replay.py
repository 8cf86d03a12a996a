"""Replay a recording in the console: the same dashboard, fed from a file instead of AWS.

:class:`ReplayApp` is the console with replay controls: a :class:`ReplayScreen` (the dashboard plus
a status line and keys) instead of the live dashboard, and no poller, over a
:class:`~tierconsole.recording.replay.ReplaySource`. Keys: ``space``/``p`` play/pause, ``.``/``,``
one frame forward/back, ``+``/``-`` speed, ``g`` jump to a time (``HH:MM:SS``, ``-5m``, ``+30s``,
``start``, ``end`` or an ISO time).
"""
from __future__ import annotations

import time
from functools import partial
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

from ..core.domain import format as fmt
from ..recording.format import stamp
from ..recording.reader import Recording
from ..recording.replay import (
    JUMP_HELP,
    ReplaySource,
    incident_from_recording,
    parse_jump,
)
from .app import TierConsoleApp
from .screens.dashboard import DashboardScreen
from .screens.help import HelpScreen
from .widgets.pane import Body
from .widgets.render import Palette
from .widgets.throttles import ThrottlesPane


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
        from ..core.domain.incident import ReportContext  # noqa: PLC0415

        incident = incident_from_recording(self.replay.recording, event)
        if not isinstance(incident, str):  # named by the view and its export: the recording, as recorded
            source = f"recording {self.replay.recording.path.name} (CloudWatch AWS/Bedrock per-minute sums as recorded)"
            incident.context = ReportContext.of(self.replay.current(), source)
        return incident

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

