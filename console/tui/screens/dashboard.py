"""The dashboard: header, four panes, footer. ``show(data)`` fans a :class:`DashboardData` out to the panes.

At 120×40 and larger the panes sit in a 2×2 grid. Below that one pane is shown at a time with a tab
line above it (keys ``1``-``4`` and ``tab`` switch), so nothing is squeezed or cut off. ``1``-``4``
in the grid maximise a pane; pressing the same key again restores the grid.
"""
from __future__ import annotations

import time
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.reactive import Reactive, reactive
from textual.screen import Screen
from textual.widget import Widget

from ...core.domain.alerts import DEFAULT_THRESHOLD, Crossings, quotas_over
from ...core.domain.views import PANES, DashboardData
from ..widgets.batch import BatchPane
from ..widgets.header import HeaderBar, HeaderInfo
from ..widgets.keybar import KeyBar
from ..widgets.pane import Body, Pane
from ..widgets.quota import QuotaPane
from ..widgets.render import Palette, PaletteHost
from ..widgets.reservations import ReservationsBody, ReservationsPane
from ..widgets.throttles import ThrottleList, ThrottlesPane
from .help import HelpScreen
from ..messages import CancelJobRequested, Notice, PauseToggled, RefreshRequested

#: Smallest terminal that gets the 2×2 grid.
GRID_MIN_SIZE = (120, 40)


class PaneTabs(Body):
    """A tab line shown when one pane fills the screen: which pane, which keys, which are stale."""

    DEFAULT_CSS = "PaneTabs { height: 1; }"

    def build(self, width: int, palette: Palette) -> list[Text]:
        current, titles, stale, maximized = self.data
        line = Text()
        for index, (name, title) in enumerate(titles):
            # The current tab carries no click action (so no link styling); the others switch to their pane.
            click = Style() if name == current else Style(meta={"@click": f"screen.select('{name}')"})
            style = palette["badge-accent"] if name == current else palette["muted"]
            line.append(f" {index + 1} {title} ", style + click)
            if name in stale:
                line.append("⚠", palette["warn"] + click)
            line.append(" ")
        if maximized:
            hint = f"{PANES.index(current) + 1} or esc restores the grid"
            line.append(" " * max(1, width - line.cell_len - len(hint) - 1))
            line.append(hint, palette["muted"])
        return [line]


class DashboardScreen(Screen):
    """The live dashboard. Call :meth:`show` with each refresh."""

    #: Textual repaints the whole screen when focus moves (``Screen.focused`` repaints). The
    #: widgets whose look depends on focus repaint themselves (their ``:focus`` and
    #: ``:focus-within`` styles change), so here a focus change repaints only them: on a dashboard
    #: holding 100k events that halves the cost of leaving the filter line (bench/scale.py).
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    #: The one key table: the footer, the help screen and the command palette all read it.
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("1", "pane('reservations')", "Panes", key_display="1-4", id="pane-reservations",
                tooltip="Maximise Reservations (again restores)"),
        Binding("2", "pane('quota')", "Quota", show=False, id="pane-quota",
                tooltip="Maximise Quotas (again restores)"),
        Binding("3", "pane('throttles')", "Throttles", show=False, id="pane-throttles",
                tooltip="Maximise Throttles (again restores)"),
        Binding("4", "pane('batch')", "Batch", show=False, id="pane-batch",
                tooltip="Maximise Batch jobs (again restores)"),
        Binding("tab", "cycle(1)", "Next", key_display="⇥", show=False, id="next-pane", tooltip="Next pane"),
        Binding("shift+tab", "cycle(-1)", "Previous", show=False, id="previous-pane", tooltip="Previous pane"),
        Binding("slash", "filter", "Filter", key_display="/", id="filter",
                tooltip="Filter throttles: model, tier, text; !word excludes"),
        Binding("question_mark", "help", "Help", key_display="?", id="help", tooltip="Show keys"),
        Binding("t", "app.prompt_lab", "Prompt", id="prompt-lab",
                tooltip="Prompt lab: test a prompt at any tier or all tiers"),
        Binding("b", "app.batch_submit", "Batch", id="batch-submit", tooltip="Submit a batch job (JSONL file or s3:// URI)"),
        Binding("x", "cancel_job", "Cancel", id="cancel-job",
                tooltip="Cancel the selected batch job (asks first)"),
        Binding("a", "app.switch_profile", "Profile", id="switch-profile",
                tooltip="Switch profile (console or AWS config)"),
        Binding("e", "app.events", "Events", show=False, id="events",
                tooltip="Change events of this profile since the console started (what `tierconsole watch` logs)"),
        Binding("c", "app.capacity_plan", "Plan", id="capacity-plan",
                tooltip="Capacity plan and cost view of a model (reservation sizing, spend per tier)"),
        Binding("r", "refresh", "Refresh", id="refresh", tooltip="Refresh now (while paused: one refresh, still paused)"),
        Binding("p", "pause", "Pause", id="pause", tooltip="Pause or resume live updates"),
        Binding("escape", "restore", "Restore", show=False, id="restore", tooltip="Restore the pane grid"),
        Binding("q", "app.quit", "Quit", id="quit", tooltip="Quit tierconsole"),
    ]

    #: The keys the footer keeps for each pane when it is short of room (besides quit and help).
    PANE_KEYS: ClassVar[dict[str, frozenset[str]]] = {
        "reservations": frozenset({"capacity-plan"}), "quota": frozenset({"capacity-plan"}),
        "throttles": frozenset({"filter"}), "batch": frozenset({"cancel-job", "batch-submit"}),
    }

    paused: reactive[bool] = reactive(False)
    current: reactive[str] = reactive("reservations")  # the selected pane
    maximized_pane: reactive[str | None] = reactive(None)  # a pane maximised over the grid
    narrow: reactive[bool] = reactive(False)  # below GRID_MIN_SIZE: one pane at a time

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.latest: DashboardData | None = None  # the newest data received
        self.shown: DashboardData | None = None  # the data on screen (older than latest while paused)
        #: The profile's alert_threshold and alert_bell (the app sets them from the profile).
        self.alert_threshold = DEFAULT_THRESHOLD
        self.alert_bell = True
        self.crossings = Crossings()
        #: Live data (set by the app when a live source feeds this screen): ages then grow with the
        #: wall clock between refreshes, and the header says how long it has been paused. Fixed data
        #: (tests, snapshots, replay) is shown as of its own ``time``.
        self.live = False
        self.retry_at: float | None = None  # monotonic time of the poller's next try while panes are stale
        self._latest_at = self._shown_at = self._paused_at = 0.0  # monotonic times
        self._show_next = False  # ``r`` while paused: show the one refresh it asked for
        self.pulse = ""  # the fleet's pulse line while a fleet is watched (the app sets it)

    def compose(self) -> ComposeResult:
        yield PaletteHost()
        yield HeaderBar(id="header")
        yield PaneTabs(id="pane-tabs")
        with Container(id="panes"):
            yield ReservationsPane()
            yield QuotaPane()
            yield ThrottlesPane()
            yield BatchPane()
        yield KeyBar()

    def on_mount(self) -> None:
        self._layout()
        self._apply_alerts()
        if self.latest is not None:
            self._show(self.latest)
        # One cheap tick a second: only the header (and stale panes' banners) follow the clock, and
        # they redraw only when the text they show changes.
        self.set_interval(1.0, self.tick, name="age-tick")

    # --- data -------------------------------------------------------------------------------
    def show(self, data: DashboardData) -> None:
        """Display ``data`` (or keep it for later while paused). Panes redraw only what changed."""
        self.latest = data
        self._latest_at = time.monotonic()
        if self.is_mounted and (not self.paused or self._show_next):
            self._show_next = False
            self._show(data)

    def _show(self, data: DashboardData) -> None:
        self.shown = data
        self._shown_at = self._latest_at if data is self.latest else time.monotonic()
        now = data.time
        self._update_header()
        if data.quotas and self.crossings.observe(quotas_over(data.quotas, self.alert_threshold)) \
                and self.alert_bell:
            self.app.bell()  # once per crossing: a quota that stays over rings no more
        self.query_one(ReservationsPane).update_data(data.reservations, data.pane_status("reservations"), now)
        self.query_one(QuotaPane).update_data(data.quotas, data.pane_status("quota"), now)
        self.query_one(ThrottlesPane).update_data(data.throttle_events, data.throttle_rates,
                                                  data.pane_status("throttles"), now)
        self.query_one(BatchPane).update_data(data.batch_jobs, data.pane_status("batch"), now)
        self._update_tabs()

    # --- alerts, ages and the header ------------------------------------------------------------
    def set_alerts(self, threshold: float, bell: bool = True) -> None:
        """The profile's ``alert_threshold`` (marker, colours, header count) and ``alert_bell``."""
        self.alert_threshold, self.alert_bell = threshold, bell
        self.crossings.reset()  # a new threshold is not a crossing
        self._apply_alerts()

    def _apply_alerts(self) -> None:
        if not self.children:  # not composed yet: on_mount applies them
            return
        self.query_one(QuotaPane).warn_at = self.alert_threshold
        self.query_one(ReservationsBody).warn_at = self.alert_threshold
        self._update_header()

    def set_retry(self, at: float | None) -> None:
        """When (monotonic) the poller tries again after a failed refresh; None once it succeeds."""
        self.retry_at = at
        self._update_header()

    def _elapsed(self) -> float:
        """Seconds the shown data has aged since it arrived (0 for fixed data)."""
        return max(0.0, time.monotonic() - self._shown_at) if self.live and self.shown is not None else 0.0

    def _update_header(self) -> None:
        if not self.children:  # not composed yet
            return
        now = time.monotonic()
        retry_in = paused_for = None
        if self.live and self.retry_at is not None:
            retry_in = max(0, round(self.retry_at - now))
        if self.live and self.paused:
            paused_for = int(now - self._paused_at)
        self.query_one(HeaderBar).set_data(HeaderInfo.from_data(
            self.shown, self.paused, elapsed=self._elapsed(), threshold=self.alert_threshold,
            retry_in=retry_in, paused_for=paused_for, pulse=self.pulse))

    def set_pulse(self, text: str) -> None:
        """The fleet's pulse line, shown in this header (empty: no fleet watched)."""
        if text != self.pulse:
            self.pulse = text
            self._update_header()

    def tick(self) -> None:
        """Once a second on a live dashboard: the header's ages and countdowns, stale panes' ages."""
        if not self.live or self.shown is None:
            return
        self._update_header()
        now = self.shown.time + self._elapsed()
        for pane in self.panes:
            if pane.stale:
                pane.set_status(pane.status, now)

    def pane(self, name: str) -> Pane:
        return self.query_one(f"#{name}", Pane)

    @property
    def panes(self) -> list[Pane]:
        return list(self.query(Pane))

    # --- layout -----------------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        width, height = event.size
        self.narrow = width < GRID_MIN_SIZE[0] or height < GRID_MIN_SIZE[1]

    def watch_narrow(self) -> None:
        self._layout()

    def watch_current(self) -> None:
        self._layout()

    def watch_maximized_pane(self) -> None:
        self._layout()
        self.refresh_bindings()

    @property
    def single(self) -> bool:
        """One pane fills the screen (a narrow terminal, or a pane maximised)."""
        return self.narrow or self.maximized_pane is not None

    def _layout(self) -> None:
        if not self.is_mounted:
            return
        self.query_one("#panes").set_class(self.single, "-single")
        self.set_class(self.single, "-single")
        for pane in self.panes:
            pane.set_class(pane.id == self.current, "-current")
        self._update_tabs()

    def _update_tabs(self) -> None:
        stale = tuple(p.id for p in self.panes if p.stale)
        titles = tuple((p.id, p.TITLE) for p in self.panes)
        maximized = self.maximized_pane is not None and not self.narrow
        self.query_one(PaneTabs).set_data((self.current, titles, stale, maximized))

    def action_select(self, name: str) -> None:
        self.select(name)

    def select(self, name: str) -> None:
        """Make ``name`` the current pane and focus it."""
        if self.maximized_pane is not None and not self.narrow:
            self.maximized_pane = name
        self.current = name
        self.call_after_refresh(self.pane(name).focus_target.focus)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        for node in event.widget.ancestors_with_self:
            if isinstance(node, Pane):
                if node.id != self.current:
                    self.current = node.id
                break
        self._mark_focused_pane()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self._mark_focused_pane()

    def _mark_focused_pane(self) -> None:
        """``-has-focus`` on the pane holding this screen's focus, as ``:focus-within`` would match.

        A ``:focus-within`` rule makes Textual restyle the pane's whole subtree on every focus move
        inside it (leaving the filter line for the list: ~6 ms with 100k events, bench/scale.py). The
        class changes only when focus enters or leaves a pane. ``self.focused`` is already the new
        widget when Blur and Focus are handled, so both handlers reach the same answer.
        """
        holder = next((n for n in self.focused.ancestors_with_self if isinstance(n, Pane)), None) \
            if self.focused is not None else None
        for pane in self.query(Pane):
            pane.set_class(pane is holder, "-has-focus")

    # --- actions ----------------------------------------------------------------------------
    def action_pane(self, name: str) -> None:
        """Focus and maximise a pane; the same key again restores the grid."""
        if self.narrow:
            self.select(name)
        elif self.maximized_pane == name:
            self.maximized_pane = None
        else:
            self.maximized_pane = name
            self.select(name)

    def action_cycle(self, step: int) -> None:
        self.select(PANES[(PANES.index(self.current) + step) % len(PANES)])

    def action_restore(self) -> None:
        self.maximized_pane = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "restore":  # let esc pass on when there is nothing to restore
            return self.maximized_pane is not None and not self.narrow
        return True

    def action_filter(self) -> None:
        if self.current != "throttles":
            self.select("throttles")
        self.call_after_refresh(self.query_one(ThrottlesPane).open_filter)

    def action_refresh(self) -> None:
        """``r``: refresh now; while paused, one refresh is shown and the dashboard stays paused."""
        self._show_next = self.paused
        self.post_message(RefreshRequested(while_paused=self.paused))

    def action_pause(self) -> None:
        self.paused = not self.paused

    def watch_paused(self, paused: bool) -> None:
        self._paused_at = time.monotonic()
        self._show_next = False
        if not self.is_mounted:
            return
        self.post_message(PauseToggled(paused))
        self.refresh_bindings()
        if not paused and self.latest is not None and self.latest is not self.shown:
            self._show(self.latest)
        else:
            self._update_header()

    def footer_keep(self) -> frozenset[str]:
        """Binding ids the footer keeps however narrow the terminal: the current pane's keys."""
        return self.PANE_KEYS.get(self.current, frozenset())

    def action_help(self) -> None:
        pane_keys = [b for b in ThrottleList.BINDINGS if b.id]  # enter: incident view
        self.app.push_screen(HelpScreen([*self.BINDINGS, *ThrottlesPane.BINDINGS, *pane_keys, *BatchPane.BINDINGS]))

    def action_cancel_job(self) -> None:
        """``x``: cancel the job selected in the batch pane; with none selected, go and select one."""
        pane = self.query_one(BatchPane)
        job = pane.selected_job
        if job is None:
            self.select("batch")
            if pane.jobs:
                self.notify("Select the job with ↑/↓ in the batch pane, then press x.", title="Cancel batch job")
            else:
                self.notify("There are no batch jobs to cancel.", title="Cancel batch job")
            return
        self.post_message(CancelJobRequested(job))

    @on(Notice)
    def _notice(self, message: Notice) -> None:
        """The outcome of an action the app ran for this screen (a batch cancel)."""
        self.notify(message.text, title=message.title, severity=message.severity, timeout=message.timeout)
        if message.refresh:
            self.post_message(RefreshRequested())

    def reset_for_profile(self) -> None:
        """Forget what belongs to the previous profile (the selected job); keep view preferences."""
        self.latest = self.shown = None
        self.retry_at = None
        self.crossings.reset()
        if self.is_mounted:
            self.query_one(BatchPane).clear_selection()
