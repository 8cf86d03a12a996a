"""Partial repaints: what a body tells Textual to repaint, and what is then written to the terminal.

Over SSH the dashboard's refresh must send the figures that changed, not the panes
(bench/ssh_cost.py measures the bytes). Two pieces make that so, both checked here against a
small terminal model: ``changed_regions`` (which cells of a body differ) and
``terminal.render_segments`` (the escape sequences for a partial repaint).
"""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len, get_character_cell_size
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual._compositor import ChopsUpdate
from textual.strip import Strip

from tierconsole.tui import terminal
from tierconsole.tui.widgets.render import changed_regions

STYLES = [Style(color="red"), Style(color="blue", bold=True), Style(bgcolor="grey15"), Style()]
CHARS = "ab ━▁▇…界"  # narrow, box drawing, sparks, an ellipsis, a wide character
CONSOLE = Console(color_system="256", force_terminal=True, width=200)

segments = st.lists(st.tuples(st.text(CHARS, min_size=1, max_size=6), st.sampled_from(STYLES)), min_size=1,
                    max_size=6)


def strip_of(parts: list[tuple[str, Style]]) -> Strip:
    return Strip([Segment(text, style) for text, style in parts])


def cells(strip: Strip) -> list[tuple[str, Style | None]]:
    out = []
    for text, style, _ in strip:
        for ch in text:
            out.append((ch, style))
            if get_character_cell_size(ch) == 2:
                out.append(("", style))
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(segments, min_size=1, max_size=4), st.data())
def test_every_changed_cell_is_repainted_and_no_unchanged_line(lines, data):
    width = 24
    old = [strip_of(parts).crop_extend(0, width, None) for parts in lines]
    new = [
        strip_of(data.draw(segments)).crop_extend(0, width, None) if data.draw(st.booleans()) else strip
        for strip in old
    ]
    regions = changed_regions(old, new, width)
    covered = {(x, r.y) for r in regions for x in range(r.x, r.right)}
    for y, (a, b) in enumerate(zip(old, new)):
        ca, cb = cells(a), cells(b)
        if len(ca) != len(cb):
            assert all((x, y) in covered for x in range(width))
            continue
        for x, (p, q) in enumerate(zip(ca, cb)):
            if p != q:
                assert (x, y) in covered, (x, y)
        if a == b:
            assert not any(r.y == y for r in regions)
    assert all(0 <= r.x and r.right <= width and r.height == 1 for r in regions)


def test_one_changed_figure_is_a_small_region():
    line = lambda figure: strip_of([("Amazon Nova Lite  ", STYLES[1]), ("━" * 30, STYLES[0]),  # noqa: E731
                                    (f" 33% {figure}/120k", STYLES[3])])
    old, new = [line("39.5k"), line("x")], [line("39.6k"), line("x")]
    regions = changed_regions(old, new, 70)
    assert [(r.y, r.width) for r in regions] == [(0, 1)]  # the one digit that changed
    far = changed_regions([line("39.5k")], [line("49.6k")], 70)  # 3 and 5 changed, 9. kept between: merged
    assert [(r.y, r.width) for r in far] == [(0, 4)]


# ------------------------------------------------------------------ the terminal side
_TOKEN = re.compile(r"\x1b\[(\d+);(\d+)H|\x1b\[([0-9;]*)m|(\n)|([^\x1b\n])")


def apply(output: str, screen: dict[tuple[int, int], tuple[str, str]]) -> set[tuple[int, int]]:
    """Play ``output`` on ``screen`` ((x, y) -> (character, SGR in effect)); returns the cells written."""
    x = y = 0
    sgr = ""
    written = set()
    for m in _TOKEN.finditer(output):
        move_y, move_x, codes, newline, char = m.groups()
        if move_y is not None:
            y, x = int(move_y) - 1, int(move_x) - 1
        elif codes is not None:
            sgr = "" if codes in ("0", "") else codes
        elif newline is not None:
            y, x = y + 1, 0
        else:
            screen[(x, y)] = (char, sgr)
            written.add((x, y))
            for extra in range(1, cell_len(char)):
                screen[(x + extra, y)] = ("", sgr)
                written.add((x + extra, y))
            x += max(1, cell_len(char))
    return written


def chops_update(rows: list[list[tuple[int, Strip]]], spans: list[tuple[int, int, int]]) -> ChopsUpdate:
    chops = [{x: strip for x, strip in row} for row in rows]
    ends = [[x + strip.cell_length for x, strip in row] for row in rows]
    return ChopsUpdate(chops, spans, ends)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_partial_repaint_writes_the_span_and_only_correct_cells(data):
    """Played on a terminal, the output draws every cell of each span as a full repaint would, and
    every other cell it writes (from the start of the span's segment) is also what a full repaint draws."""
    rows = []
    for _ in range(data.draw(st.integers(1, 3))):
        x, row = 0, []
        for _ in range(data.draw(st.integers(1, 3))):  # widgets side by side: the compositor's chops
            strip = strip_of(data.draw(segments))
            row.append((x, strip))
            x += strip.cell_length
        rows.append(row)
    width = [row[-1][0] + row[-1][1].cell_length for row in rows]
    spans = []
    for y, w in enumerate(width):
        if data.draw(st.booleans()) or y == len(width) - 1:
            x1 = data.draw(st.integers(0, w - 1))
            spans.append((y, x1, data.draw(st.integers(x1 + 1, w))))
    full: dict = {}
    apply(terminal.textual_render_segments(chops_update(rows, [(y, 0, w) for y, w in enumerate(width)]), CONSOLE), full)
    partial: dict = {}
    written = apply(terminal.render_segments(chops_update(rows, spans), CONSOLE), partial)
    for y, x1, x2 in spans:
        for x in range(x1, x2):
            assert (x, y) in written, (x, y, spans)
    for cell in written:
        assert partial[cell] == full[cell], (cell, spans)


def test_a_figure_at_the_end_of_a_line_is_sent_alone():
    """Textual's own output for the same repaint starts at the widget's left edge."""
    row = [(0, strip_of([("Amazon Nova Lite ", STYLES[1]), ("━" * 40, STYLES[0]), (" 33%", STYLES[3]),
                         ("  39.6k/120k", STYLES[2])]))]
    ours = terminal.render_segments(chops_update([row], [(0, 63, 68)]), CONSOLE)
    theirs = terminal.textual_render_segments(chops_update([row], [(0, 63, 68)]), CONSOLE)
    assert "39.6k" in ours and "Amazon" not in ours and "━" not in ours
    assert "Amazon" in theirs
    assert len(ours) * 3 < len(theirs)


def test_installed_for_this_textual():
    """The Textual in use builds ChopsUpdate as terminal.py expects, so the cropped output is used."""
    original = ChopsUpdate.render_segments
    try:
        assert terminal.install()
        assert ChopsUpdate.render_segments is terminal.render_segments
    finally:
        ChopsUpdate.render_segments = original
