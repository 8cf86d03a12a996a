"""The fleet screen (issue 15): every source account × region × model of a fleet profile, worst first.

``/`` filters (the throttle feed's syntax), ``g`` groups by none → account → region → model, ``enter`` drills
into the selected row's account and region (the four-pane dashboard running as that account; ``esc`` there
comes back), ``r`` refreshes. It has no mutating key: actions happen only inside an account."""
from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Static

from ...core.domain.fleetrows import GROUPS, FleetRow, FleetSnapshot, filter_rows
from ...core.domain.format import clock
from ..messages import RefreshRequested
from ...present.fleet import row_detail
from ..widgets.fleet_table import CursorMoved, FleetTable
from ..widgets.header import ENDPOINT_MIN, endpoint_text, shorten_host
from ..widgets.keybar import KeyBar
from ..widgets.render import PaletteHost


def fleet_title(s: FleetSnapshot, width: int | None) -> str:
    """The fleet's header line in ``width`` cells, given up as the dashboard's header gives up its own: the call
    count first, then the field labels and the brand, then the endpoint is shortened (never dropped, cut in the
    middle: :func:`~..widgets.header.shorten_host`), then the region count; the refresh time always stays."""
    mon, when = s.monitoring_account or "…", clock(s.time)
    endpoint, regions = endpoint_text(s.endpoint), f"{len(s.regions)} regions"
    calls = f"{sum(n for op, n in s.calls.items() if op == 'GetMetricData')} GetMetricData"
    variants = [(" tierconsole fleet", f"profile {s.profile}", f"monitoring {mon}", regions, endpoint,
                 f"refreshed {when} UTC", calls),
                (" tierconsole fleet", f"profile {s.profile}", f"monitoring {mon}", regions, endpoint,
                 f"refreshed {when} UTC"),
                (" fleet", s.profile, mon, regions, endpoint, f"refreshed {when} UTC"),
                (" fleet", s.profile, mon, regions, endpoint, f"{when} UTC")]
    for parts in variants:
        if width is None or len("  ".join(parts)) <= width:
            return "  ".join(parts)
    for parts in (variants[-1], (" fleet", s.profile, mon, endpoint, f"{when} UTC")):
        room = width - len("  ".join(p for p in parts if p is not endpoint)) - 2
        if room >= ENDPOINT_MIN // 2:
            return "  ".join(shorten_host(endpoint, room) if p is endpoint else p for p in parts)
    text = "  ".join((" fleet", s.profile, f"{when} UTC"))
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


class FleetDrill(Message):
    """The operator pressed ``enter`` on a fleet row: open that account and region's dashboard."""

    def __init__(self, row: FleetRow) -> None:
        super().__init__()
        self.row = row


class FleetScreen(Screen[None]):
    DEFAULT_CSS = """
    FleetScreen #fleet-title { height: 1; }
    FleetScreen #fleet-pulse { height: 1; }
    FleetScreen #fleet-detail { height: 2; }
    FleetScreen #fleet-filter { display: none; height: 3; }
    FleetScreen #fleet-filter.-open { display: block; }
    """
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("enter", "drill", "Open", id="fleet-drill", tooltip="Open this account and region's dashboard"),
        Binding("slash", "filter", "Filter", key_display="/", id="filter",
                tooltip="Filter rows: account, name, region, model; !word excludes"),
        Binding("g", "group", "Group", id="fleet-group", tooltip="Group by none, account, region, model"),
        Binding("r", "refresh", "Refresh", id="refresh", tooltip="Refresh now"),
        Binding("question_mark", "help", "Help", key_display="?", id="help", tooltip="Show keys"),
        Binding("q", "app.quit", "Quit", id="quit", tooltip="Quit tierconsole"),
        Binding("escape", "close_filter", "Close filter", show=False, id="close-filter",
                tooltip="Close the filter line"),
        # once a filter is applied, esc on the table clears it (as on the throttle feed), and the footer says so
        Binding("escape", "clear_filter", "Clear filter", key_display="esc", id="clear-filter",
                tooltip="Clear the applied filter"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.snapshot: FleetSnapshot | None = None
        self.by = "none"
        self.filter_text = ""
        self._texts: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield PaletteHost()
        yield Static(" tierconsole fleet  waiting for the first refresh…", id="fleet-title")
        yield Static("", id="fleet-pulse")
        yield Input(placeholder="filter: terms ANDed, !word excludes (enter applies, esc closes)", id="fleet-filter")
        yield FleetTable(id="fleet-table")
        yield Static("", id="fleet-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(FleetTable).focus()
        if self.snapshot is not None:
            self._draw()

    def on_resize(self) -> None:
        if self.snapshot is not None:  # the header gives up or takes back its parts with the width
            self._set("#fleet-title", fleet_title(self.snapshot, self.size.width or None))

    # ------------------------------------------------------------------ data
    def show(self, snapshot: FleetSnapshot) -> None:
        self.snapshot = snapshot
        if self.is_mounted:
            self._draw()

    @property
    def rows(self) -> list[FleetRow]:
        return filter_rows(self.snapshot.rows, self.filter_text) if self.snapshot else []

    def _draw(self) -> None:
        s = self.snapshot
        if s is None:
            return
        self._set("#fleet-title", fleet_title(s, self.size.width or None))
        pulse = s.pulse.text()
        extra = []
        if self.filter_text:
            extra.append(f"filter: {self.filter_text}")
        if self.by != "none":
            extra.append(f"grouped by {self.by}")
        stale = [f"{r} stale: {why}" for r, why in sorted(s.region_stale.items())]
        self._set("#fleet-pulse", "  ·  ".join([pulse, *extra, *stale]))
        self.query_one(FleetTable).set_rows(self.rows, self.by, s.threshold)

    def _set(self, selector: str, text: str) -> None:
        """A line's text, updated only when it changed (an update lays the screen out again)."""
        if self._texts.get(selector) != text:
            self._texts[selector] = text
            self.query_one(selector, Static).update(Text(text))

    # ------------------------------------------------------------------ keys
    def action_drill(self) -> None:
        row = self.query_one(FleetTable).selected
        if row is not None:
            self.post_message(FleetDrill(row))

    def action_group(self) -> None:
        self.by = GROUPS[(GROUPS.index(self.by) + 1) % len(GROUPS)]
        self._draw()

    def action_help(self) -> None:
        from .help import HelpScreen  # noqa: PLC0415

        self.app.push_screen(HelpScreen(self.BINDINGS))

    def action_refresh(self) -> None:
        self.post_message(RefreshRequested())

    def action_filter(self) -> None:
        box = self.query_one("#fleet-filter", Input)
        box.add_class("-open")
        box.value = self.filter_text
        box.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("close_filter", "clear_filter"):  # esc passes on when there is nothing to close or clear
            open_ = self.query_one("#fleet-filter", Input).has_class("-open")
            return open_ if action == "close_filter" else not open_ and bool(self.filter_text)
        return True

    def footer_keep(self) -> frozenset[str]:
        """Binding ids the footer keeps however narrow the terminal: how to clear an applied filter."""
        return frozenset({"clear-filter"})

    def action_clear_filter(self) -> None:
        self.filter_text = ""
        self._draw()
        self.refresh_bindings()

    def action_close_filter(self) -> None:
        box = self.query_one("#fleet-filter", Input)
        box.remove_class("-open")
        self.query_one(FleetTable).focus()
        self.refresh_bindings()

    @on(CursorMoved)
    def _selected(self, event: CursorMoved) -> None:
        self._set("#fleet-detail", row_detail(event.row) if event.row else "")

    @on(Input.Changed, "#fleet-filter")
    def _typed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self._draw()

    @on(Input.Submitted, "#fleet-filter")
    def _applied(self, event: Input.Submitted) -> None:
        self.action_close_filter()
