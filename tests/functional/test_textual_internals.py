"""What the console relies on where Textual has no public API (tui/app.py: the ANSI-to-truecolor filter
of the starting theme) or where it uses public pieces to do what Textual does privately
(tui/widgets/throttles.py: the throttle list's scroll extent without a relayout). A Textual upgrade that
changes either fails here."""
from __future__ import annotations

import dataclasses

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.filter import ANSIToTruecolor

from tierconsole.core.domain.sample import sample_dashboard
from tierconsole.tui.app import TierConsoleApp
from tierconsole.tui.theming import builtin_themes
from tierconsole.tui.widgets.throttles import ThrottleList


def ansi_red_as_drawn(app: TierConsoleApp) -> list[Segment]:
    """ANSI red through the app's truecolor filter, as the screen is drawn."""
    (flt,) = [f for f in app._filters if isinstance(f, ANSIToTruecolor)]  # noqa: SLF001 - what is pinned
    return flt.apply([Segment("x", Style(color="red", bgcolor="black"))], Color.parse("black"))


@pytest.mark.parametrize("theme", sorted(builtin_themes()))
async def test_the_starting_theme_maps_ansi_colours_as_textuals_own_theme_switch_does(theme):
    started = TierConsoleApp(theme=theme, data=sample_dashboard())
    switched = TierConsoleApp(data=sample_dashboard())
    async with switched.run_test():
        switched.theme = theme  # Textual's public way, with its restyle
        expected = ansi_red_as_drawn(switched)
    assert started.current_theme.dark is builtin_themes()[theme].dark
    assert ansi_red_as_drawn(started) == expected


def test_light_and_dark_map_ansi_red_differently():
    """(Else the test above could not tell a light start from a dark one.)"""
    light = next(n for n, t in builtin_themes().items() if not t.dark)
    dark = next(n for n, t in builtin_themes().items() if t.dark)
    assert ansi_red_as_drawn(TierConsoleApp(theme=light)) != ansi_red_as_drawn(TierConsoleApp(theme=dark))


async def test_the_throttle_list_keeps_its_scrollbar_and_position_in_step_without_a_relayout():
    data = sample_dashboard()
    base = data.throttle_events[0]
    many = tuple(dataclasses.replace(base, time=base.time - i, message=f"event {i}") for i in range(400))
    app = TierConsoleApp(data=dataclasses.replace(data, throttle_events=many))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        lst = app.screen.query_one(ThrottleList)
        assert lst.show_vertical_scrollbar and lst.virtual_size.height == 401
        lst.scroll_end(animate=False)
        await pilot.pause()
        assert lst.scroll_y == lst.max_scroll_y > 0
        fewer = many[:200]  # still more than fit: the fast path (no relayout)
        app.show_data(dataclasses.replace(data, throttle_events=fewer))
        await pilot.pause()
        bar = lst.vertical_scrollbar
        assert lst.virtual_size.height == 201 and bar.window_virtual_size == 201
        assert bar.window_size == lst.container_size.height
        assert lst.scroll_y == lst.max_scroll_y == 201 - lst.container_size.height
        assert [e.message for e in lst.visible_rows][-1] == "event 199"

