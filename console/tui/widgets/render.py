"""Drawing primitives shared by the panes: fixed-width cells, bars, stacked bars, sparklines.

Colours come from component classes (``tc--warn``, ``tc--priority`` ...) styled in
``tui/styles/dashboard.tcss``, so every theme (and NO_COLOR's monochrome) applies to them.
"""
from __future__ import annotations

import math

from typing import Iterable, Sequence
from weakref import WeakKeyDictionary

from rich.cells import get_character_cell_size
from rich.console import Console
from rich.style import Style
from rich.segment import Segment
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

STYLE_NAMES = (
    "muted", "strong", "accent", "ok", "warn", "crit", "empty",
    "priority", "default", "flex", "reserved", "badge-accent", "badge-warn", "badge-crit", "selected",
)
COMPONENT_CLASSES = {f"tc--{name}" for name in STYLE_NAMES}

FILL = "━"
EMPTY = "━"
MARK = "┊"
SPARKS = "▁▂▃▄▅▆▇█"
#: Without colour (NO_COLOR) a tier is told apart by its pattern, and a bar's empty part by a thin line.
TIER_PATTERN = {"priority": "█", "default": "▓", "flex": "▒", "reserved": "█"}
MONO_FILL = "█"
MONO_EMPTY = "─"


class PaletteHost(Widget):
    """Holds the ``tc--*`` component classes once per screen, hidden, for every pane to draw with.

    Textual styles each component class of each widget against the whole stylesheet when the
    widget is styled (at mount, on focus and hover changes). Declared on every pane body that
    was 15 classes × a dozen widgets, most of the dashboard's time to first frame beyond a bare app;
    declared once here it is 15. The classes' rules are plain (``.tc--warn { ... }``) so the styles
    do not depend on which widget asks.
    """

    COMPONENT_CLASSES = COMPONENT_CLASSES
    DEFAULT_CSS = "PaletteHost { display: none; }"


_HOSTS: WeakKeyDictionary[Widget, Widget] = WeakKeyDictionary()


def palette_source(widget: Widget) -> Widget:
    """The screen's :class:`PaletteHost`, or ``widget`` itself when its screen has none."""
    try:
        screen = widget.screen
    except Exception:  # noqa: BLE001 - not mounted yet: NoScreen
        return widget
    host = _HOSTS.get(screen)
    if host is None:
        hosts = screen.query(PaletteHost)
        host = hosts.first() if hosts else widget
        if host is not widget:
            _HOSTS[screen] = host
    return host


class Palette:
    """Rich styles of the ``tc--*`` component classes, by short name: ``palette["warn"]``."""

    def __init__(self, widget: Widget) -> None:
        self._widget = palette_source(widget)
        self._styles: dict[str, Style] = {}
        try:
            self.mono = bool(widget.app.no_color)  # NO_COLOR: every colour is drawn as a grey
        except Exception:  # noqa: BLE001 - no app (not mounted)
            self.mono = False

    def fill(self, name: str = "") -> str:
        """The glyph a bar segment in style ``name`` is drawn with: the tier's pattern without colour."""
        return TIER_PATTERN.get(name, MONO_FILL) if self.mono else FILL

    @property
    def empty(self) -> str:
        return MONO_EMPTY if self.mono else EMPTY

    def __getitem__(self, name: str) -> Style:
        # Looked up once per palette: a pane draws with one palette per build, and a style lookup
        # through Textual's CSS costs ~20 µs, a dozen times per row.
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self._widget.get_component_rich_style(f"tc--{name}", partial=True)
        return style

    def level(self, fraction: float, warn: float, crit: float = 1.0) -> str:
        """``crit`` at or above ``crit``, ``warn`` at or above ``warn``, else ``ok``."""
        return "crit" if fraction >= crit else "warn" if fraction >= warn else "ok"


def to_strips(lines: Iterable[Text], width: int, base: Style, console: Console) -> list[Strip]:
    """Each line exactly ``width`` cells (cut with an ellipsis, padded) on the widget's ``base`` style.

    Neighbouring segments of the same style are merged: fewer escape codes per frame over SSH.
    """
    strips = []
    for line in lines:
        if line.cell_len > width:
            line = line.copy()
            line.truncate(width, overflow="ellipsis")
        segments = Segment.apply_style(line.render(console), base)
        strips.append(Strip(Segment.simplify(segments)).crop_extend(0, width, base))
    return strips


#: Unchanged cells between two changed runs of a line that are sent anyway, so the runs go as one:
#: a separate run costs a cursor move and its colour codes (about 30 bytes over SSH).
MERGE_GAP = 6


def _cell_list(strip: Strip) -> list[tuple[str, Style | None]]:
    """One (character, style) per cell; the second cell of a wide character is ("", style)."""
    cells: list[tuple[str, Style | None]] = []
    for text, style, control in strip:
        if control:
            continue
        for char in text:
            cells.append((char, style))
            if get_character_cell_size(char) == 2:
                cells.append(("", style))
    return cells


def changed_regions(old: Sequence[Strip], new: Sequence[Strip], width: int, gap: int = MERGE_GAP) -> list[Region]:
    """The regions (one line high) of ``new`` that differ from ``old``, both lines of ``width`` cells.

    What a body tells Textual to repaint when its data changes, so that a refresh where one number
    changed sends that number to the terminal, not the pane. Runs of changed cells closer than
    ``gap`` cells are merged. Lines that only one of the two has are changed whole.
    """
    regions: list[Region] = []
    for y in range(max(len(old), len(new))):
        before = old[y] if y < len(old) else None
        after = new[y] if y < len(new) else None
        if before is not None and after is not None and before == after:
            continue
        a = _cell_list(before) if before is not None else []
        b = _cell_list(after) if after is not None else []
        if len(a) != len(b):
            regions.append(Region(0, y, width, 1))
            continue
        start = end = -1
        for x, (ca, cb) in enumerate(zip(a, b)):
            if ca == cb:
                continue
            if start < 0:
                start = x
            elif x - end > gap:
                regions.append(Region(start, y, end - start, 1))
                start = x
            end = x + 1
        if start >= 0:
            regions.append(Region(start, y, end - start, 1))
    return regions


def fit(text: str | Text, width: int, style: Style | str = "", align: str = "left") -> Text:
    """Exactly ``width`` cells: truncated with an ellipsis, padded left or right."""
    t = Text(text, style=style) if isinstance(text, str) else text.copy()
    if width <= 0:
        return Text()
    t.truncate(width, overflow="ellipsis")
    if align == "right":
        t.pad_left(width - t.cell_len)
    else:
        t.pad_right(width - t.cell_len)
    return t


def join(*parts: Text | str) -> Text:
    return Text.assemble(*parts)


def _cells(fraction: float, width: int) -> int:
    if not math.isfinite(fraction * width):  # infinite: full; NaN: empty
        return width if fraction > 0 else 0
    return max(0, min(width, round(fraction * width)))


def stacked_bar(
    segments: Sequence[tuple[float, Style] | tuple[float, Style, str]],
    total: float,
    width: int,
    palette: Palette,
    *,
    mark: float | None = None,
) -> Text:
    """A bar ``width`` cells wide: each (value, style[, glyph]) segment in turn, the rest empty.

    Cell boundaries come from cumulative sums, so the segments add up exactly. A value over
    ``total`` is clipped. ``mark`` (a fraction) draws a tick in the empty part, e.g. a warning line.
    A segment's glyph (default :meth:`Palette.fill`) tells it apart where colour cannot (NO_COLOR).
    """
    text = Text()
    if width <= 0:
        return text
    # Without colour an alert style is reverse video (tui/styles/dashboard.tcss), which would turn a
    # block glyph into an empty-looking cell: bars keep their glyphs upright.
    upright = Style(reverse=False) if palette.mono else Style()
    done = 0
    running = 0.0
    for value, style, *glyph in segments:
        running += max(0.0, value)
        edge = _cells(running / total, width) if total > 0 else 0
        if edge > done:
            text.append((glyph[0] if glyph else palette.fill()) * (edge - done), style + upright)
            done = edge
    empty = width - done
    blank = palette.empty
    if empty:
        mark_at = _cells(mark, width) if mark is not None else -1
        if done <= mark_at < width:
            text.append(blank * (mark_at - done), palette["empty"])
            text.append(MARK, palette["warn"] + upright)
            text.append(blank * (width - mark_at - 1), palette["empty"])
        else:
            text.append(blank * empty, palette["empty"])
    return text


def bar(fraction: float, width: int, style: Style, palette: Palette, *, mark: float | None = None) -> Text:
    return stacked_bar([(fraction, style)], 1.0, width, palette, mark=mark)


def spark(values: Sequence[float], top: float, style: Style, palette: Palette, width: int | None = None) -> Text:
    """One cell per value, scaled from 0 to ``top`` (so a full cell means "at the limit").

    Zero draws a dim baseline; any non-zero value shows at least the lowest bar.
    With ``width``, the newest values are kept and the line is left-padded.
    """
    if width is not None:
        values = values[-width:] if width else ()
    text = Text()
    if width is not None and len(values) < width:
        text.append(" " * (width - len(values)))
    values = [v if math.isfinite(v) else 0.0 for v in values]  # a NaN or infinite figure draws as none
    top = top if top and math.isfinite(top) else max(values, default=0) or 1
    for value in values:
        if value <= 0:
            text.append(SPARKS[0], palette["empty"])
        else:
            level = _cells(value / top, len(SPARKS) - 1)
            text.append(SPARKS[level], style)
    return text
