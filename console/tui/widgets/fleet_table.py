"""The fleet's rows (issue 15): a virtual list drawn with the Line API. Only the visible lines are built, and
new data repaints only the visible lines whose text changed (over SSH a refresh where one account moved sends
that line). Group headings are lines of their own. Receives rows; never fetches."""
from __future__ import annotations

from typing import Sequence

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...core.domain.fleetrows import FleetRow, group
from ...present.fleet import COLUMNS, layout, line, mark, row_cells
from .render import Palette, to_strips

Line = FleetRow | str  # a row, or a group heading


class CursorMoved(Message):
    """The selected row changed (the screen shows its details)."""

    def __init__(self, row: FleetRow | None) -> None:
        super().__init__()
        self.row = row


class FleetTable(ScrollView, can_focus=True):
    DEFAULT_CSS = "FleetTable { height: 1fr; }"
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "move(-20)", "Page up", show=False),
        Binding("pagedown", "move(20)", "Page down", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: list[Line] = []
        self.cursor = 0
        self.threshold = 0.8
        self._texts: dict[int, str] = {}  # visible line index -> the text drawn there
        self.lines_built = 0  # how many lines were built (the bench and tests check only visible ones are)

    # ------------------------------------------------------------------ data
    def set_rows(self, rows: Sequence[FleetRow], by: str, threshold: float) -> None:
        """Show ``rows`` (worst first) grouped ``by``; the cursor stays on the same row where it still is."""
        chosen = self.selected
        self.threshold = threshold
        lines: list[Line] = []
        for key, members in group(rows, by):
            if by != "none":
                lines.append(f"{key} ({len(members)})")
            lines += members
        self.lines = lines
        if chosen is not None:
            same = next((i for i, x in enumerate(lines) if isinstance(x, FleetRow) and
                         (x.account_id, x.region, x.series) == (chosen.account_id, chosen.region, chosen.series)), None)
            self.cursor = same if same is not None else 0
        self.cursor = min(self.cursor, max(0, len(lines) - 1))
        self._skip_headings(1)
        if self.selected != chosen:
            self.post_message(CursorMoved(self.selected))
        size = Size(self.size.width, len(lines) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
            self._texts.clear()
            self.refresh()
            return
        self._repaint_changed()

    def _repaint_changed(self) -> None:
        top = round(self.scroll_y)
        for y in range(self.size.height):
            text = self._text(top + y - 1) if y else "header"
            if self._texts.get(y) != text:
                self.refresh_lines(y, 1)

    @property
    def selected(self) -> FleetRow | None:
        if 0 <= self.cursor < len(self.lines) and isinstance(self.lines[self.cursor], FleetRow):
            return self.lines[self.cursor]  # type: ignore[return-value]
        return None

    # ------------------------------------------------------------------ keys
    def action_move(self, step: int) -> None:
        if not self.lines:
            return
        old = self.cursor
        self.cursor = max(0, min(len(self.lines) - 1, self.cursor + step))
        self._skip_headings(1 if step > 0 else -1)
        if self.cursor != old:
            top = round(self.scroll_y)
            self.scroll_to_region_cursor()
            if round(self.scroll_y) == top:  # only the two lines whose highlight changed are drawn again
                for index in (old, self.cursor):
                    self.refresh_lines(index - top + 1, 1)
            else:
                self.refresh()
            self.post_message(CursorMoved(self.selected))

    def _skip_headings(self, step: int) -> None:
        n = len(self.lines)
        while 0 <= self.cursor < n and isinstance(self.lines[self.cursor], str):
            self.cursor += step
        if not 0 <= self.cursor < n:
            self.cursor = next((i for i, x in enumerate(self.lines) if isinstance(x, FleetRow)), 0)

    def scroll_to_region_cursor(self) -> None:
        top, height = round(self.scroll_y), max(1, self.size.height - 1)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def on_click(self, event: events.Click) -> None:
        index = round(self.scroll_y) + event.y - 1
        if event.y > 0 and 0 <= index < len(self.lines) and isinstance(self.lines[index], FleetRow):
            self.cursor = index
            self.refresh()
            self.post_message(CursorMoved(self.selected))

    # ------------------------------------------------------------------ drawing
    def _text(self, index: int) -> str:
        if not 0 <= index < len(self.lines):
            return ""
        item = self.lines[index]
        if isinstance(item, str):
            return item
        widths = layout(self.size.width)  # at 80 columns the model and account give way, never thr/min or state
        return line(row_cells(item, widths), mark(item, self.threshold), widths) + ("\x00" if index == self.cursor else "")

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        palette = Palette(self)
        if y == 0:  # the column heads stay in place while the rows scroll
            self._texts[0] = "header"
            return to_strips([Text(line(COLUMNS, widths=layout(width)), style=palette["muted"])], width, Style(),
                             self.app.console)[0]
        index = round(self.scroll_y) + y - 1
        text = self._text(index)
        self._texts[y] = text
        self.lines_built += 1
        if not text:
            return Strip.blank(width)
        item = self.lines[index]
        if isinstance(item, str):
            style = palette["strong"]
        elif item.stale:
            style = palette["muted"]
        elif (item.throttles_per_min or 0) > 0 or (item.use or 0) >= self.threshold:
            style = palette["warn"]
        else:
            style = Style()
        if index == self.cursor:
            style = style + Style(reverse=True)
        return to_strips([Text(text.rstrip("\x00"), style=style)], width, Style(), self.app.console)[0]

    def watch_scroll_y(self, old: float, new: float) -> None:
        self._texts.clear()
        super().watch_scroll_y(old, new)
