"""Throttles: per-tier throttle-rate sparklines and a live, filterable event list.

The list is a virtual list on Textual's Line API: it keeps the (filtered) events as a sequence
and draws only the rows in view, so 100,000 events cost no more to show than 20.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input

from ...core.domain import format as fmt
from ...core.domain.views import PaneStatus, SearchIndex, ThrottleEvent, filter_events
from .pane import Pane
from .render import Palette, changed_regions
from .throttle_rates import TIER_ORDER, ThrottleRates

INDEX_AFTER = 5_000  # events: from here the filter's index is built ahead, after the frame is drawn

#: Throttling is this pane's normal case and stays plain; other errors are coloured.
_ERROR_STYLE = {"ThrottlingException": None, "ModelNotReadyException": "warn"}


class ThrottleList(ScrollView, can_focus=True):
    """Virtual table of throttle events, newest first. Row 0 is a fixed column header."""

    COMPONENT_CLASSES = {"throttle-list--header", "throttle-list--cursor"}
    ALLOW_MAXIMIZE = False  # the dashboard maximises whole panes (keys 1-4)
    DEFAULT_CSS = """
    ThrottleList { overflow-x: hidden; }
    ThrottleList > .throttle-list--cursor { text-style: reverse; }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "move(-10)", "Page up", show=False),
        Binding("pagedown", "move(10)", "Page down", show=False),
        Binding("home", "move(-1000000000)", "First", show=False),
        Binding("end", "move(1000000000)", "Last", show=False),
        Binding("enter", "open", "Incident", id="incident", tooltip="Open the incident view of the selected event"),
    ]

    class Selected(Message):
        """The operator chose an event (enter): the app opens the incident view around it."""

        def __init__(self, event: ThrottleEvent) -> None:
            super().__init__()
            self.event = event

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.events: Sequence[ThrottleEvent] = ()
        self.rows: Sequence[ThrottleEvent] = ()
        self._index: SearchIndex | None = None  # search keys of self.events, for the filter
        self.filter_text = ""
        self.cursor = 0  # index into rows of the selected event (drawn while the list has focus)
        self.renders = 0  # render_line calls, for tests that check only visible rows are drawn
        self.repainted: list[Region] | None = None  # what the last new events repainted (None: the whole list)
        self._palette: Palette | None = None
        self._shown: dict[int, Strip] = {}  # the lines last drawn, by line of the view

    @property
    def selected(self) -> ThrottleEvent | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    def action_move(self, step: int) -> None:
        if not self.rows:
            return
        before = self.cursor
        self.cursor = max(0, min(len(self.rows) - 1, self.cursor + step))
        top, height = round(self.scroll_y), max(1, self.size.height - 1)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)
        else:  # the view stays: repaint the two rows the cursor left and reached
            for row in (before, self.cursor):
                self.refresh(Region(0, row - top + 1, self.size.width, 1))

    def action_open(self) -> None:
        event = self.selected
        if event is not None:
            self.post_message(self.Selected(event))

    # Focus shows or hides the cursor row: repaint that row, not the list.
    def on_focus(self) -> None:
        self._refresh_cursor_row()

    def on_blur(self) -> None:
        self._refresh_cursor_row()

    def _refresh_cursor_row(self) -> None:
        y = self.cursor - round(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False,
                recompose: bool = False):
        if repaint and not regions:
            self._palette = None  # a whole repaint may follow a theme or style change
            self._shown.clear()
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def notify_style_update(self) -> None:
        self._palette = None
        self._shown.clear()
        super().notify_style_update()

    @property
    def palette(self) -> Palette:
        if self._palette is None:
            self._palette = Palette(self)
        return self._palette

    # --- data -------------------------------------------------------------------------------
    def set_events(self, events: Sequence[ThrottleEvent]) -> bool:
        """Show ``events`` (newest first). Returns False (and draws nothing) when unchanged."""
        events = events if isinstance(events, tuple) else tuple(events)
        if events is self.events or (len(events) == len(self.events) and events == self.events):
            return False
        self.events = events
        self._index = None
        self._refilter(keep_view=True)
        if not self.filter_text and len(events) >= INDEX_AFTER:
            self.call_after_refresh(self._build_index)  # after this frame is drawn, before a filter needs it
        return True

    def _build_index(self) -> SearchIndex:
        if self._index is None or self._index.events is not self.events:
            self._index = SearchIndex(self.events)
        return self._index

    def set_filter(self, text: str) -> None:
        text = text.strip()
        if text == self.filter_text:
            return
        self.filter_text = text
        self._refilter(keep_view=False)

    def _refilter(self, keep_view: bool) -> None:
        old, top = self.rows, round(self.scroll_y)
        shown, width = dict(self._shown), self.size.width
        chosen = old[self.cursor] if 0 <= self.cursor < len(old) else None
        self.rows = filter_events(self.events, self.filter_text, self._build_index() if self.filter_text else None)
        self.cursor = self._find(chosen, self.cursor) if keep_view and chosen is not None else 0
        relaid = self._set_height(len(self.rows) + 1)
        if not keep_view:
            self.scroll_to(y=0, animate=False, immediate=True)
        elif 0 < top < len(old):
            # Newer events arrived on top while the operator reads further down: keep the row at the
            # top of the view in place. Look for the same object first, then for an equal event
            # (collectors may rebuild events), nearest first.
            anchor, window = old[top], self.rows[top : top + 10_000]
            shift = next((i for i, e in enumerate(window) if e is anchor), None)
            if shift is None:
                shift = next((i for i, e in enumerate(window) if e == anchor), 0)
            if shift:
                self.scroll_to(y=top + shift, animate=False, immediate=True)
        self.repainted = None
        if keep_view and not relaid and round(self.scroll_y) == top and width == self.size.width and width > 0:
            self._repaint_changes(shown)
        else:
            self.refresh()

    def _repaint_changes(self, shown: dict[int, Strip]) -> None:
        """Repaint the cells of the view that differ from what it showed (new events arrive on top)."""
        height = self.size.height
        if any(y not in shown for y in range(height)):
            self.refresh()
            return
        width = self.size.width
        self.repainted = changed_regions([shown[y] for y in range(height)], [self._line(y) for y in range(height)],
                                         width)
        if self.repainted:
            super().refresh(*self.repainted)  # not ours: it would forget the palette

    def _find(self, event: ThrottleEvent, near: int) -> int:
        """Where ``event`` (or an equal one) is now, searching forward from ``near`` (events arrive on top)."""
        window = self.rows[near: near + 10_000]
        shift = next((i for i, e in enumerate(window) if e is event), None)
        if shift is None:
            shift = next((i for i, e in enumerate(window) if e == event), None)
        return min(near + shift, len(self.rows) - 1) if shift is not None else min(near, max(0, len(self.rows) - 1))

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def visible_rows(self) -> Sequence[ThrottleEvent]:
        """The events currently drawn in the viewport (below the header row)."""
        start = round(self.scroll_y)
        return self.rows[start : start + max(0, self.size.height - 1)]

    def on_resize(self) -> None:
        self._set_height(len(self.rows) + 1)
        self.refresh()

    def _set_height(self, height: int) -> bool:
        """Set the scrollable height without a screen relayout when the list's own size is unaffected.

        Assigning ``virtual_size`` lays the whole screen out again, which with four panes costs more
        than filtering 100k events. The list is ``height: 1fr``: its box never depends on its rows,
        only whether the scrollbar shows does. So unless that flips, this does what Textual does for
        a size change without layout (``Widget._size_updated(layout=False)``), with public API only:
        set the value without its layout, tell the vertical scrollbar the new extent, keep the scroll
        position in range; the caller repaints what changed in the list. Returns whether the screen is
        laid out again. (tests/functional/test_textual_internals.py pins it.)
        """
        size = Size(self.size.width, height)
        if size == self.virtual_size:
            return False
        fits = self.size.height
        if not self.is_mounted or not fits or (self.virtual_size.height > fits) != (height > fits):
            self.virtual_size = size
            return True
        self.set_reactive(ThrottleList.virtual_size, size)
        if self.show_vertical_scrollbar:
            bar = self.vertical_scrollbar
            bar.window_virtual_size = height
            bar.window_size = self.container_size.height - self.scrollbar_size_horizontal
        self.scroll_y = self.validate_scroll_y(self.scroll_y)
        return False

    # --- drawing ----------------------------------------------------------------------------
    @staticmethod
    def columns(width: int) -> tuple[int, int, int, int, int, int]:
        """Widths of time, model, tier, count, error, message; message is 0 when there is no room."""
        time_w, tier_w, count_w = 8, 8, 4
        rest = width - (time_w + tier_w + count_w + 5)  # five single-space gaps
        model_w = max(6, min(18, round(rest * 0.5)))
        error_w = max(6, min(14, rest - model_w))
        message_w = rest - model_w - error_w
        if message_w < 12:
            model_w += max(0, message_w)
            model_w = min(model_w, 22)
            message_w = 0
        return time_w, model_w, tier_w, count_w, error_w, message_w

    @staticmethod
    def _cell(text: str, width: int, right: bool = False) -> str:
        if width <= 0:
            return ""
        if cell_len(text) > width:
            return set_cell_size(text, width - 1) + "…"
        return text.rjust(width) if right else set_cell_size(text, width)

    def render_line(self, y: int) -> Strip:
        self.renders += 1
        strip = self._shown[y] = self._line(y)
        return strip

    def _line(self, y: int) -> Strip:
        """Line ``y`` of the view: the column header, an event, or blank."""
        width = self.size.width
        base = self.rich_style
        palette = self.palette
        cols = self.columns(width)
        if y == 0:
            names = ("TIME", "MODEL", "TIER", "CNT", "ERROR", "MESSAGE")
            header = " ".join(
                self._cell(n, w, right=(n == "CNT")) for n, w in zip(names, cols) if w
            )
            style = base + self.get_component_rich_style("throttle-list--header")
            return Strip([Segment(header, style)]).extend_cell_length(width, style).crop(0, width)
        index = round(self.scroll_y) + y - 1
        if index >= len(self.rows):
            if index == 0:
                note = f"No events match “{self.filter_text}”." if self.filter_text else "No throttles."
                return Strip([Segment(note, base + palette["muted"])]).extend_cell_length(width, base).crop(0, width)
            return Strip.blank(width, base)
        if index == self.cursor and self.has_focus:
            base = base + self.get_component_rich_style("throttle-list--cursor")
        return self._row(self.rows[index], cols, base, palette).extend_cell_length(width, base).crop(0, width)

    def _row(self, e: ThrottleEvent, cols: tuple[int, ...], base: Style, palette: Palette) -> Strip:
        time_w, model_w, tier_w, count_w, error_w, message_w = cols
        tier_style = palette[e.tier] if e.tier in TIER_ORDER else palette["muted"]
        error_name = _ERROR_STYLE.get(e.error, "crit")
        error_style = palette[error_name] if error_name else Style()
        space = Segment(" ", base)
        segments = [
            Segment(self._cell(fmt.clock(e.time), time_w), base + palette["muted"]), space,
            Segment(self._cell(e.label or fmt.short_model(e.model_id), model_w), base), space,
            Segment(self._cell(fmt.tier_label(e.tier), tier_w), base + tier_style), space,
            Segment(self._cell(str(e.count), count_w, right=True), base + palette["strong"]), space,
            Segment(self._cell(e.short_error, error_w), base + error_style),
        ]
        if message_w:
            segments += [space, Segment(self._cell(e.message or e.source, message_w), base + palette["muted"])]
        return Strip(segments)


class ThrottlesPane(Pane):
    PANE = "throttles"
    TITLE = "Throttles"
    KEY = "3"

    # Esc means "close the box" while typing, and "clear the filter" once one is applied.
    BINDINGS = [
        Binding("escape", "close_filter", "Close filter", key_display="esc", id="close-filter",
                tooltip="Close the filter box, keeping the applied filter"),
        Binding("escape", "clear_filter", "Clear filter", key_display="esc", id="clear-filter",
                tooltip="Clear the applied throttle filter"),
    ]

    def compose_body(self) -> ComposeResult:
        yield ThrottleRates(classes="throttle-rates")
        yield Input(placeholder="/ filter: model, tier, error or text · !word excludes · enter applies",
                    id="throttle-filter", classes="filter-input")
        yield ThrottleList(classes="pane-focus")

    @property
    def list(self) -> ThrottleList:
        return self.query_one(ThrottleList)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#throttle-filter", Input)

    def update_data(self, events: Sequence[ThrottleEvent], rates: Mapping[str, tuple[float, ...]] | None = None,
                    status: PaneStatus | None = None, now: float = 0.0) -> bool:
        self.set_status(status, now)
        rates_changed = self.query_one(ThrottleRates).set_data(tuple(sorted((rates or {}).items())))
        events_changed = self.list.set_events(events)
        if events_changed:
            self._update_subtitle()
        return rates_changed or events_changed

    def _update_subtitle(self) -> None:
        lst = self.list
        total = len(lst.events)
        if lst.filter_text:
            self.set_subtitle(f"/{lst.filter_text}  {lst.row_count:,} of {total:,}")
        else:
            self.set_subtitle(fmt.plural(total, "event"))

    # --- filter -----------------------------------------------------------------------------
    # The filter line is always shown (the applied filter, or a hint) and "opening" it is focusing
    # it: showing and hiding a widget lays the whole screen out again, twice (the list's scrollbar
    # resizes), which cost more than filtering 100k events (bench/scale.py).
    @property
    def filter_open(self) -> bool:
        return self.filter_input.has_focus

    def open_filter(self) -> None:
        field = self.filter_input
        field.value = self.list.filter_text
        field.focus()
        self.refresh_bindings()

    def close_filter(self) -> None:
        """Leave the filter line; what was typed and not applied is dropped."""
        self.filter_input.value = self.list.filter_text
        self.list.focus()
        self.refresh_bindings()

    def apply_filter(self, text: str, *, refresh_bindings: bool = True) -> None:
        self.list.set_filter(text)
        if not self.filter_input.has_focus:
            self.filter_input.value = self.list.filter_text
        self._update_subtitle()
        if refresh_bindings:  # each refresh redraws the key bar: once per key is enough
            self.refresh_bindings()

    @on(Input.Submitted, "#throttle-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.apply_filter(event.value, refresh_bindings=False)
        self.close_filter()  # refreshes the bindings once

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Offered (and shown in the footer) only when they apply; otherwise esc falls through to the screen.
        if action == "close_filter":
            return self.filter_open
        if action == "clear_filter":
            return not self.filter_open and bool(self.list.filter_text)
        return True

    def action_close_filter(self) -> None:
        self.close_filter()

    def action_clear_filter(self) -> None:
        self.apply_filter("")
