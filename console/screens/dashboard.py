"""The dashboard: header, four panes, footer. ``show(data)`` fans a :class:`DashboardData` out to the panes.

At 120×40 and larger the panes sit in a 2×2 grid. Below that one pane is shown at a time with a tab
line above it (keys ``1``-``4`` and ``tab`` switch), so nothing is squeezed or cut off. ``1``-``4``
in the grid maximise a pane; pressing the same key again restores the grid.
"""
from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.reactive import Reactive, reactive
from textual.screen import Screen
from textual.widget import Widget

from ..domain.views import PANES, DashboardData
from ..widgets.batch import BatchPane
from ..widgets.header import HeaderBar
from ..widgets.keybar import KeyBar
from ..widgets.pane import Body, Pane
from ..widgets.quota import QuotaPane
from ..widgets.render import Palette, PaletteHost
from ..widgets.reservations import ReservationsPane
from ..widgets.throttles import ThrottlesPane
from .help import HelpScreen
from .messages import PauseToggled, RefreshRequested

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
                tooltip="Maximise On-demand quota (again restores)"),
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
        Binding("c", "app.capacity_plan", "Plan", show=False, id="capacity-plan",
                tooltip="Capacity plan and cost view of a model (reservation sizing, spend per tier)"),
        Binding("r", "refresh", "Refresh", id="refresh", tooltip="Refresh now"),
        Binding("p", "pause", "Pause", id="pause", tooltip="Pause or resume live updates"),
        Binding("escape", "restore", "Restore", show=False, id="restore", tooltip="Restore the pane grid"),
        Binding("q", "app.quit", "Quit", id="quit", tooltip="Quit tierconsole"),
    ]

    paused: reactive[bool] = reactive(False)
    current: reactive[str] = reactive("reservations")  # the selected pane
    maximized_pane: reactive[str | None] = reactive(None)  # a pane maximised over the grid
    narrow: reactive[bool] = reactive(False)  # below GRID_MIN_SIZE: one pane at a time

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.latest: DashboardData | None = None  # the newest data received
        self.shown: DashboardData | None = None  # the data on screen (older than latest while paused)

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
        if self.latest is not None:
            self._show(self.latest)

    # --- data -------------------------------------------------------------------------------
    def show(self, data: DashboardData) -> None:
        """Display ``data`` (or keep it for later while paused). Panes redraw only what changed."""
        self.latest = data
        if self.is_mounted and not self.paused:
            self._show(data)

    def _show(self, data: DashboardData) -> None:
        self.shown = data
        now = data.time
        self.query_one(HeaderBar).update_data(data, self.paused)
        self.query_one(ReservationsPane).update_data(data.reservations, data.pane_status("reservations"), now)
        self.query_one(QuotaPane).update_data(data.quotas, data.pane_status("quota"), now)
        self.query_one(ThrottlesPane).update_data(data.throttle_events, data.throttle_rates,
                                                  data.pane_status("throttles"), now)
        self.query_one(BatchPane).update_data(data.batch_jobs, data.pane_status("batch"), now)
        self._update_tabs()

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
        self.post_message(RefreshRequested())

    def action_pause(self) -> None:
        self.paused = not self.paused

    def watch_paused(self, paused: bool) -> None:
        if not self.is_mounted:
            return
        self.post_message(PauseToggled(paused))
        self.refresh_bindings()
        if not paused and self.latest is not None and self.latest is not self.shown:
            self._show(self.latest)
        else:
            self.query_one(HeaderBar).update_data(self.shown, paused)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen([*self.BINDINGS, *ThrottlesPane.BINDINGS, *BatchPane.BINDINGS]))

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
        cancel = getattr(self.app, "cancel_job", None)
        if cancel is not None:
            cancel(job)

    def reset_for_profile(self) -> None:
        """Forget what belongs to the previous profile (the selected job); keep view preferences."""
        self.latest = self.shown = None
        if self.is_mounted:
            self.query_one(BatchPane).clear_selection()
