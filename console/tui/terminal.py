"""What goes to the terminal: a partial repaint sends the cells it names, not the line up to them.

Textual 8 writes a repaint of part of a widget's line from the widget's left edge to the end of
the region (``ChopsUpdate.render_segments`` crops the end, not the start: "TODO: crop to x
extents"; upstream https://github.com/Textualize/textual/issues/5625). So a changed figure at the
right of a pane re-sent most of the pane's line, colour codes and all: over SSH the dashboard's
1-second refresh cost ~3.6 KB/s where the figures that change are a few hundred bytes.

:func:`install` replaces that one method with one that writes each span from its first cell to
its last (widened by a cell where it would cut a wide character in two, which Textual's own end
crop does). The replacement is used only where Textual writes to a real terminal
(``App._display``); headless tests and screenshots render from the compositor, not from this.
Remove it when Textual crops the start itself. ``bench/screen_check.py`` plays the console's
output on a terminal emulator and compares it with a full repaint.
"""
from __future__ import annotations

import inspect

from rich.cells import get_character_cell_size
from rich.console import Console
from textual._compositor import ChopsUpdate  # private: textual#5625 (see the module docstring)
from textual.strip import Strip

#: Textual's own method, kept for comparison (tests/unit/test_partial_repaint.py).
textual_render_segments = ChopsUpdate.render_segments


def _boundaries(strip: Strip, start: int, end: int) -> tuple[int, int]:
    """The cells of ``strip`` to draw for ``start``..``end``, widened so no wide character is cut in two."""
    if start <= 0 and end >= strip.cell_length:
        return 0, strip.cell_length
    x, first, last = 0, 0, strip.cell_length
    for text, _style, control in strip:
        if control:
            continue
        for char in text:
            after = x + get_character_cell_size(char)
            if after <= start:
                first = after
            if x < end <= after:
                last = after
            x = after
            if x >= end:
                return first, last
    return first, last


def render_segments(self: ChopsUpdate, console: Console) -> str:
    """``ChopsUpdate.render_segments``, cropped to each span's start as well as its end."""
    sequences: list[str] = []
    append = sequences.append
    chops, chop_ends = self.chops, self.chop_ends
    last_y = self.spans[-1][0]
    for y, x1, x2 in self.spans:
        ends = chop_ends[y]
        for end, (x, strip) in zip(ends, chops[y].items()):
            if strip is None or x >= x2 or end <= x1:
                continue
            first, last = _boundaries(strip, x1 - x, x2 - x)
            if first or last < strip.cell_length:
                strip = strip.crop(first, last)
            if strip.cell_length:
                append(f"\x1b[{y + 1};{x + first + 1}H")
                append(strip.render(console))
        if y != last_y:
            append("\n")
    return "".join(sequences)


def install() -> bool:
    """Use :func:`render_segments` for every partial repaint of this process (idempotent).

    Only where ``ChopsUpdate`` is still built as this module expects (``chops``, ``spans``,
    ``chop_ends``); another Textual keeps its own method. Returns whether it is installed."""
    if list(inspect.signature(ChopsUpdate.__init__).parameters)[1:] != ["chops", "spans", "chop_ends"]:
        return False
    ChopsUpdate.render_segments = render_segments  # type: ignore[method-assign]
    return True
