"""Pilot tests: press keys on the real dashboard and check what it draws and what state it is in."""
from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import time

import pytest
from textual.widgets import Input

from tierconsole.tui.app import TierConsoleApp
from tierconsole.core.domain.sample import SAMPLE_NOW, sample_dashboard, sample_throttle_events
from tierconsole.core.domain.views import PANES, PaneStatus, ThrottleEvent, filter_events
from tierconsole.tui.screens.dashboard import DashboardScreen
from tierconsole.tui.screens.help import HelpScreen
from tierconsole.tui.messages import PauseToggled, RefreshRequested
from tierconsole.tui.widgets.batch import BatchList
from tierconsole.tui.widgets.header import HeaderBar
from tierconsole.tui.widgets.pane import Body, Pane, StaleBanner
from tierconsole.tui.widgets.quota import QuotaBody, QuotaPane
from tierconsole.tui.widgets.reservations import ReservationsBody
from tierconsole.tui.widgets.throttles import ThrottleList, ThrottleRates, ThrottlesPane

WIDE = (120, 40)
NARROW = (80, 24)


class RecordingApp(TierConsoleApp):
    """The app with its collector hooks recording what the dashboard asked for."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.refreshes = 0
        self.pause_messages: list[bool] = []

    def on_refresh_requested(self, message: RefreshRequested) -> None:
        self.refreshes += 1

    def on_pause_toggled(self, message: PauseToggled) -> None:
        super().on_pause_toggled(message)
        self.pause_messages.append(message.paused)


def text_of(widget) -> str:
    """The widget's rendered lines as plain text."""
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


def dashboard(app: TierConsoleApp) -> DashboardScreen:
    assert isinstance(app.screen, DashboardScreen)
    return app.screen


async def started(pilot, data=None):
    pilot.app.show_data(data or sample_dashboard())
    await pilot.pause()
    return dashboard(pilot.app)


async def test_every_pane_shows_its_numbers():
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        screen = await started(pilot)
        header = text_of(app.query_one(HeaderBar))
        for expected in ("prod-ops", "123456789012", "us-east-1", "14:30:00 UTC", "age 14s", "▲ 1 quota over 80%"):
            assert expected in header
        reservations = text_of(app.query_one(ReservationsBody))
        for expected in ("claude-sonnet-4-5", "sonnet-prod-1", "70%", "70.4k/100k", "6.8k/10.0k", "not published"):
            assert expected in reservations
        quota = text_of(app.query_one(QuotaBody))
        for expected in ("Amazon Nova Lite", "▲ 85%", "341k/400k", "642/1.0k", "hold 52.4k", "P 61.3k"):
            assert expected in quota.replace("P61.3k", "P 61.3k")
        rates = text_of(app.query_one(ThrottleRates))
        assert "Standard" in rates and "21/min" in rates and "132 in 15m" in rates
        rows = app.query_one(ThrottleList)
        assert rows.row_count == 60
        first = rows.render_line(1).text
        assert first.startswith("14:29:00") and "nova-lite" in first and "Throttling" in first
        batch = text_of(app.query_one(BatchList))
        for expected in ("nightly-ticket-summaries", "InProgress", "64%", "6,420/10,000", "ETA 17m", "Partial",
                         "model 76.4k/25.3k TPM"):
            assert expected in batch, batch
        # Active jobs are listed before finished ones.
        assert batch.index("rag-eval-sonnet-v3") < batch.index("finished") < batch.index("weekly-churn-notes")
        assert screen.pane("quota").border_subtitle == "5 models · 1 over 80% · binds: Amazon Nova Lite TPM"
        assert not any(p.stale for p in screen.panes)


async def test_quota_warning_threshold_is_configurable():
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        screen = await started(pilot)
        pane = screen.query_one(QuotaPane)
        assert "▲" not in text_of(pane.body).split("Claude Sonnet 4.5")[1].splitlines()[0]
        pane.warn_at = 0.3
        await pilot.pause()
        sonnet_line = text_of(pane.body).split("Claude Sonnet 4.5")[1].splitlines()[0]
        assert "▲ 32%" in sonnet_line and "┊ 30%" in text_of(pane.body)
        assert pane.border_subtitle == "5 models · 4 over 30% · binds: Amazon Nova Lite TPM"
        pane.warn_at = 0.9  # Nova Lite's 85% and 64% RPM are now below the line
        await pilot.pause()
        assert "▲" not in text_of(pane.body) and pane.border_subtitle == "5 models"


async def test_data_given_before_mount_is_shown():
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        assert "70.4k/100k" in text_of(app.query_one(ReservationsBody))


async def test_unchanged_data_is_not_redrawn():
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        data = await started(pilot)
        data = sample_dashboard()
        bodies = list(app.query(Body))
        before = {b: b.renders for b in bodies}
        app.show_data(sample_dashboard())  # equal data, new objects
        await pilot.pause()
        assert {b: b.renders for b in bodies} == before
        # Change one quota: only the quota body lays out again.
        quotas = list(data.quotas)
        quotas[0] = dataclasses.replace(quotas[0], rpm_used=990)
        app.show_data(dataclasses.replace(data, quotas=tuple(quotas)))
        await pilot.pause()
        changed = {type(b).__name__ for b in bodies if b.renders != before[b]}
        assert changed == {"QuotaBody"}
        assert "990/1.0k" in text_of(app.query_one(QuotaBody))


async def test_a_changed_figure_repaints_that_figure_not_the_pane():
    """Over SSH a refresh must send what changed (bench/ssh_cost.py): one RPM figure of one model
    repaints a few cells of one line of the quota body; a new clock repaints the header's clock."""
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        await started(pilot)
        data = sample_dashboard()
        body = app.query_one(QuotaBody)
        line = next(y for y in range(body.size.height) if "RPM" in body.render_line(y).text)
        quotas = list(data.quotas)
        quotas[0] = dataclasses.replace(quotas[0], rpm_used=990)
        app.show_data(dataclasses.replace(data, quotas=tuple(quotas)))
        await pilot.pause()
        assert "990/1.0k" in body.render_line(line).text
        assert body.repainted and {r.y for r in body.repainted} == {line}
        assert sum(r.width for r in body.repainted) <= 16 < body.size.width  # the figure and its percentage
        header = app.query_one(HeaderBar)
        app.show_data(dataclasses.replace(data, quotas=tuple(quotas), time=data.time + 1))
        await pilot.pause()
        assert header.repainted and sum(r.width for r in header.repainted) <= 4  # "…:01" of the clock, the age


async def test_a_new_throttle_repaints_the_cells_that_changed_and_the_subtitle_line(monkeypatch):
    """A new event on top shifts the rows down, but columns that read the same (tier, error,
    model) are not sent again; the pane's "N events" repaints the bottom border, not the pane."""
    from textual.widget import Widget

    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        data = sample_dashboard()
        await started(pilot, data)
        lst = app.query_one(ThrottleList)
        pane = app.query_one(ThrottlesPane)
        first = data.throttle_events[0]
        new = dataclasses.replace(first, time=first.time + 5, count=first.count + 1)
        calls = []
        real = Widget.refresh

        def spy(self, *regions, **kwargs):
            if self is pane:
                calls.append(regions)
            return real(self, *regions, **kwargs)

        monkeypatch.setattr(Widget, "refresh", spy)
        app.show_data(dataclasses.replace(data, throttle_events=(new, *data.throttle_events)))
        await pilot.pause()
        assert lst.render_line(1).text.startswith(ThrottleList._cell(fmt_clock(new.time), 8))
        cells = sum(r.width for r in lst.repainted)
        assert lst.repainted and cells < 0.7 * lst.size.width * (lst.size.height - 1)
        assert pane.border_subtitle == f"{len(data.throttle_events) + 1} events"
        height = pane.outer_size.height
        assert calls and all(len(regions) == 1 and regions[0].height == 1 and
                             regions[0].y + pane.content_offset.y == height - 1 for regions in calls)


def fmt_clock(t: float) -> str:
    from tierconsole.core.domain import format as fmt

    return fmt.clock(t)


async def test_filter_narrows_the_throttle_list():
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        screen = await started(pilot)
        rows = app.query_one(ThrottleList)
        field = app.query_one("#throttle-filter", Input)
        assert field.display and not field.has_focus and field.value == ""  # the hint line, closed
        await pilot.press("slash")
        await pilot.pause()
        assert field.has_focus and screen.current == "throttles"
        await pilot.press(*"flex")
        await pilot.pause()
        assert rows.row_count == 60  # not applied until enter
        await pilot.press("enter")
        await pilot.pause()
        expected = [e for e in sample_dashboard().throttle_events if "flex" in e.search_key]
        assert 0 < rows.row_count == len(expected) < 60
        assert not field.has_focus and rows.has_focus and field.value == "flex"  # shows what is applied
        visible = rows.visible_rows
        assert 0 < len(visible) <= rows.size.height - 1
        assert all(e.tier == "flex" or "flex" in e.search_key for e in visible)
        assert all("Flex" in rows.render_line(y).text or "gpt-oss" in rows.render_line(y).text
                   for y in range(1, len(visible) + 1))
        assert screen.pane("throttles").border_subtitle == f"/flex  {len(expected)} of 60"
        # Esc in the box closes it and keeps the applied filter; esc on the list clears it.
        await pilot.press("slash", "x", "escape")
        await pilot.pause()
        assert not field.has_focus and rows.filter_text == "flex" and field.value == "flex"  # "flexx" dropped
        await pilot.press("escape")
        await pilot.pause()
        assert rows.filter_text == "" and rows.row_count == 60 and field.value == ""


async def test_a_large_feed_is_indexed_after_its_frame_and_the_filter_uses_the_index():
    from tierconsole.tui.widgets.throttles import INDEX_AFTER
    events = tuple(sample_throttle_events(INDEX_AFTER + 1000))
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        await started(pilot, dataclasses.replace(sample_dashboard(), throttle_events=events))
        rows = app.query_one(ThrottleList)
        index = rows._index
        assert index is not None and index.events is rows.events and len(index.keys) == len(events)
        rows.set_filter("nova !flex")
        assert rows._index is index  # not rebuilt for the filter
        assert list(rows.rows) == [e for e in events if "nova" in e.search_key and "flex" not in e.search_key]
        rows.set_events(events[:-1])  # new events: a new index, never a stale one
        assert rows._index is not index and rows._index.events is rows.events
        assert list(rows.rows) == [e for e in events[:-1] if "nova" in e.search_key and "flex" not in e.search_key]


async def test_filter_with_no_match_says_so():
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        await started(pilot)
        await pilot.press("slash", *"nosuchmodel", "enter")
        await pilot.pause()
        rows = app.query_one(ThrottleList)
        assert rows.row_count == 0
        assert "No events match" in rows.render_line(1).text


async def test_the_scroll_range_follows_the_rows_with_and_without_a_scrollbar():
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        await started(pilot)
        rows = app.query_one(ThrottleList)
        assert rows.row_count == 60 and rows.show_vertical_scrollbar
        assert rows.max_scroll_y == 61 - rows.scrollable_content_region.height
        # Fewer rows that still overflow: the range shrinks, the scrollbar stays (no relayout needed).
        rows.set_filter("nova")
        await pilot.pause()
        assert rows.show_vertical_scrollbar and rows.max_scroll_y == rows.row_count + 1 - rows.size.height
        assert rows.vertical_scrollbar.window_virtual_size == rows.row_count + 1  # the thumb is sized to the rows
        rows.focus()
        await pilot.press("end")
        await pilot.pause()
        assert rows.render_line(rows.size.height - 1).text.strip()  # the last matching event is drawn
        # One row: the scrollbar goes, and the list takes its column back.
        rows.set_filter("nosuchmodel")
        await pilot.pause()
        assert not rows.show_vertical_scrollbar and rows.max_scroll_y == 0
        rows.set_filter("")
        await pilot.pause()
        assert rows.show_vertical_scrollbar and rows.row_count == 60 and rows.scroll_y == 0
        assert rows.vertical_scrollbar.window_virtual_size == 61


async def test_keys_typed_in_the_filter_do_not_trigger_bindings():
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        screen = await started(pilot)
        await pilot.press("slash", "p", "r", "q", "1")
        await pilot.pause()
        assert app.query_one("#throttle-filter", Input).value == "prq1"
        assert not screen.paused and app.refreshes == 0 and screen.maximized_pane is None
        assert app.is_running


async def test_refresh_key_posts_refresh_requested():
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        await started(pilot)
        await pilot.press("r")
        await pilot.pause()
        assert app.refreshes == 1


async def test_pause_freezes_the_display_and_resume_catches_up():
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        screen = await started(pilot)
        await pilot.press("p")
        await pilot.pause()
        assert screen.paused and app.paused and app.pause_messages == [True]
        assert "PAUSED" in text_of(app.query_one(HeaderBar))
        later = sample_dashboard(SAMPLE_NOW + 60)
        app.show_data(later)
        await pilot.pause()
        assert "14:30:00 UTC" in text_of(app.query_one(HeaderBar))  # still the paused frame
        await pilot.press("p")
        await pilot.pause()
        assert not app.paused and app.pause_messages == [True, False]
        header = text_of(app.query_one(HeaderBar))
        assert "PAUSED" not in header and "14:31:00 UTC" in header
        assert screen.shown is later


async def test_number_key_maximises_and_restores_a_pane():
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        screen = await started(pilot)
        assert all(p.region.area for p in screen.panes)
        await pilot.press("3")
        await pilot.pause()
        assert screen.maximized_pane == "throttles"
        throttles = screen.pane("throttles")
        assert throttles.region.width == 120 and throttles.has_focus_within
        assert [p.id for p in screen.panes if p.display and p.region.area] == ["throttles"]
        assert app.query_one("#pane-tabs").display
        await pilot.press("tab")
        await pilot.pause()
        assert screen.maximized_pane == "batch" and screen.pane("batch").region.width == 120
        await pilot.press("4")
        await pilot.pause()
        assert screen.maximized_pane is None
        assert all(p.region.area for p in screen.panes)
        assert screen.pane("batch").has_focus_within
        # Esc restores too.
        await pilot.press("2")
        await pilot.pause()
        assert screen.maximized_pane == "quota"
        await pilot.press("escape")
        await pilot.pause()
        assert screen.maximized_pane is None and all(p.region.area for p in screen.panes)


async def test_tab_cycles_focus_through_the_panes():
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        screen = await started(pilot)
        seen = []
        for _ in PANES:
            await pilot.press("tab")
            await pilot.pause()
            focused = app.focused
            pane = next(n for n in focused.ancestors_with_self if isinstance(n, Pane))
            seen.append(pane.id)
        assert seen == ["quota", "throttles", "batch", "reservations"]
        assert screen.current == "reservations"


async def test_the_highlighted_pane_is_the_one_holding_focus():
    """The highlight (class -has-focus) matches :focus-within: it follows focus between panes, stays
    while focus moves inside one, and stays under a screen pushed on top, as the pane keeps its focus."""
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        screen = await started(pilot)

        def lit():
            return [p.id for p in screen.panes if p.has_class("-has-focus")]
        for _ in PANES:
            await pilot.press("tab")
            await pilot.pause()
            holder = next(n for n in app.focused.ancestors_with_self if isinstance(n, Pane))
            assert lit() == [holder.id]
            colours = {p.id: p.styles.border.top[1] for p in screen.panes}  # the CSS rule applied, not just the class
            assert [i for i, c in colours.items() if c != colours[holder.id]] == [i for i in colours if i != holder.id]
        screen.select("throttles")
        await pilot.pause()
        await pilot.press("slash")  # focus moves to the filter line, inside the same pane
        await pilot.pause()
        assert isinstance(app.focused, Input) and lit() == ["throttles"]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.focused, ThrottleList) and lit() == ["throttles"]
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and lit() == ["throttles"]
        await pilot.press("escape")
        await pilot.pause()
        assert lit() == ["throttles"]
        screen.set_focus(None)
        await pilot.pause()
        assert lit() == []


async def test_small_terminal_shows_one_pane_at_a_time():
    app = RecordingApp()
    async with app.run_test(size=NARROW) as pilot:
        screen = await started(pilot)
        assert screen.narrow
        shown = [p.id for p in screen.panes if p.region.area]
        assert shown == ["reservations"]
        assert screen.pane("reservations").region.width == 80
        tabs = text_of(app.query_one("#pane-tabs"))
        assert "1 Reservations" in tabs and "4 Batch jobs" in tabs
        await pilot.press("2")
        await pilot.pause()
        assert [p.id for p in screen.panes if p.region.area] == ["quota"]
        assert "Amazon Nova Lite" in text_of(app.query_one(QuotaBody))
        await pilot.press("slash")
        await pilot.pause()
        assert screen.current == "throttles" and app.query_one("#throttle-filter").has_focus
        await pilot.press("escape")
        await pilot.resize_terminal(*WIDE)
        await pilot.pause()
        assert not screen.narrow and all(p.region.area for p in screen.panes)


async def test_stale_pane_keeps_its_numbers_and_says_why():
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        screen = await started(pilot)
        data = sample_dashboard()
        reason = "AccessDeniedException: not authorized to perform servicequotas:ListServiceQuotas"
        status = dict(data.status, quota=PaneStatus(ok=False, updated_at=SAMPLE_NOW - 125, reason=reason))
        # The collector failed: it posts the old quotas again with a failed status.
        app.show_data(dataclasses.replace(data, status=status))
        await pilot.pause()
        pane = screen.pane("quota")
        banner = pane.query_one(StaleBanner)
        assert pane.stale and pane.has_class("-stale") and banner.display
        text = text_of(banner)
        assert "STALE" in text and "2m05s ago" in text and "AccessDeniedException" in text
        assert "341k/400k" in text_of(app.query_one(QuotaBody))
        assert "1 stale" in text_of(app.query_one(HeaderBar))
        assert not screen.pane("batch").query_one(StaleBanner).display
        # It recovers.
        app.show_data(sample_dashboard(SAMPLE_NOW + 5))
        await pilot.pause()
        assert not pane.stale and not banner.display


async def test_help_lists_every_binding_from_the_same_table():
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        await started(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = app.screen.rows()
        texts = [text for _, text in rows]
        for binding in [*DashboardScreen.BINDINGS, *ThrottlesPane.BINDINGS]:
            assert binding.tooltip in texts
        assert ("/", DashboardScreen.BINDINGS[6].tooltip) in rows and ("1", "Maximise Reservations (again restores)") in rows
        assert ("esc", "Clear the applied throttle filter") in rows
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)


async def test_palette_has_a_command_per_binding():
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        screen = await started(pilot)
        commands = {c.title: c for c in app.get_system_commands(screen)}
        for binding in DashboardScreen.BINDINGS:
            assert binding.tooltip in commands
        commands["Pause or resume live updates"].callback()
        await pilot.pause()
        assert screen.paused


async def test_hundred_thousand_events_filter_correctly_and_draw_only_visible_rows():
    events = sample_throttle_events(100_000)
    data = dataclasses.replace(sample_dashboard(), throttle_events=events)
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        await started(pilot, data)
        rows = app.query_one(ThrottleList)
        assert rows.row_count == 100_000
        assert rows.virtual_size.height == 100_001
        rows.renders = 0
        start = time.perf_counter()
        rows.focus()
        await pilot.press("slash", *"gpt-oss", "enter")
        await pilot.pause()
        elapsed = time.perf_counter() - start
        expected = [e for e in events if "gpt-oss" in e.search_key]
        assert rows.row_count == len(expected) and 0 < len(expected) < 100_000
        assert list(rows.rows) == expected
        assert all("gpt-oss" in rows.render_line(y).text for y in range(1, rows.size.height))
        # Only the rows in view are drawn, not 100k.
        assert rows.renders < 20 * rows.size.height
        assert elapsed < 5.0
        # Scroll to the end: the last event is drawn on the last line.
        rows.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert rows.visible_rows[-1] is expected[-1]
        # Two terms (AND) and a negation.
        rows.set_filter("nova flex !request")
        assert rows.row_count == len(filter_events(events, "nova flex !request"))
        assert all("nova" in e.search_key and "flex" in e.search_key and "request" not in e.search_key
                   for e in rows.rows)


async def test_new_events_keep_a_scrolled_view_in_place():
    events = sample_throttle_events(500)
    data = dataclasses.replace(sample_dashboard(), throttle_events=events[10:])
    app = RecordingApp()
    async with app.run_test(size=WIDE) as pilot:
        await started(pilot, data)
        rows = app.query_one(ThrottleList)
        rows.scroll_to(y=100, animate=False, immediate=True)
        await pilot.pause()
        reading = rows.visible_rows[0]
        app.show_data(dataclasses.replace(data, throttle_events=events, time=SAMPLE_NOW + 1))
        await pilot.pause()
        assert rows.row_count == 500
        assert rows.visible_rows[0] is reading
        # Collectors may rebuild the events (equal values, new objects): the view still holds.
        newer = tuple(ThrottleEvent(SAMPLE_NOW + k, "amazon.nova-lite-v1:0", "flex") for k in range(20, 0, -1))
        rebuilt = tuple(dataclasses.replace(e) for e in newer + events)
        app.show_data(dataclasses.replace(data, throttle_events=rebuilt, time=SAMPLE_NOW + 2))
        await pilot.pause()
        assert rows.visible_rows[0] == reading and rows.scroll_y == 130


@pytest.mark.parametrize("theme", ["dark", "light", "high-contrast"])
async def test_themes_are_registered_and_render(theme):
    app = TierConsoleApp(theme=theme)
    async with app.run_test(size=WIDE) as pilot:
        await started(pilot)
        assert app.theme == theme
        assert app.current_theme.variables["tier-standard"].startswith("#")
        assert "85%" in text_of(app.query_one(QuotaBody))


def segment_with(widget, text: str):
    """The first drawn segment of ``widget`` containing ``text``."""
    for y in range(widget.size.height):
        for segment in widget.render_line(y):
            if text in segment.text:
                return segment
    raise AssertionError(f"{text!r} not drawn")


async def test_switching_theme_redraws_the_kept_lines_in_the_new_colours():
    app = TierConsoleApp(theme="dark")
    async with app.run_test(size=WIDE) as pilot:
        await started(pilot)
        from tierconsole.tui.widgets.render import PaletteHost

        body, host = app.query_one(QuotaBody), app.screen.query_one(PaletteHost)

        def theme_warning():
            return host.get_component_rich_style("tc--warn", partial=True).color

        warn_dark = segment_with(body, "▲").style.color
        assert warn_dark is not None and warn_dark == theme_warning()
        app.theme = "light"
        await pilot.pause()
        warn_light = segment_with(body, "▲").style.color
        assert warn_light == theme_warning() != warn_dark


async def test_the_key_bar_shows_the_focused_keys_and_a_click_presses_one():
    from tierconsole.tui.widgets.keybar import KeyBar

    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(KeyBar)
        line = text_of(bar)
        assert line.startswith(" 1-4 Panes  / Filter  ? Help") and line.rstrip().endswith("^p palette")
        assert len(line) == NARROW[0]  # cut short of the palette key, which stays at the right edge
        # The filter's esc binding shows only while the filter line has focus.
        await pilot.press("slash")
        await pilot.pause()
        assert "esc Close filter" in text_of(bar)
        await pilot.press("escape")
        await pilot.pause()
        assert "Close filter" not in text_of(bar)
        # A click on "? Help" presses ?.
        x = text_of(bar).index("? Help")
        await pilot.click(KeyBar, offset=(x + 1, 0))
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


def chromatic_colours(svg: str) -> set[str]:
    """Non-grey colours in a screenshot, ignoring the window decoration Textual draws around it."""
    chrome = {"28c840", "febc2e", "ff5f57", "c5c8c6"}
    colours = set(re.findall(r"#([0-9a-fA-F]{6})", svg)) - chrome
    return {c for c in colours if not c[0:2] == c[2:4] == c[4:6]}


@pytest.mark.parametrize("no_color", [False, True])
async def test_no_color_is_respected(monkeypatch, no_color):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    app = TierConsoleApp()
    async with app.run_test(size=WIDE) as pilot:
        await started(pilot)
        assert app.no_color is no_color
        colours = chromatic_colours(app.export_screenshot())
        # Everything we draw goes through Textual's monochrome filter: no colour gets past it.
        assert (colours == set()) if no_color else (len(colours) > 5)


def test_importing_the_app_loads_no_aws_or_data_libraries():
    code = ("import sys, tierconsole.tui.app; "
            "heavy = [m for m in ('boto3', 'botocore', 'aiobotocore', 'pandas', 'moto') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_a_thousand_jobs_are_all_listed_and_only_those_in_view_drawn():
    from tierconsole.core.domain.views import BatchJobView
    from tierconsole.tui.widgets.batch import BatchPane
    jobs = tuple(BatchJobView(job_arn=f"arn:job/{i}", job_name=f"old-{i:04d}", model_id="m", status="Completed",
                              submit_time=1000.0 + i, end_time=2000.0 + i, total_records=10, processed=10,
                              success=10) for i in range(1000))
    running = BatchJobView(job_arn="arn:job/live", job_name="live-one", model_id="m", status="InProgress",
                           submit_time=5000.0, total_records=100, processed=40, success=40)
    data = dataclasses.replace(sample_dashboard(), batch_jobs=jobs + (running,))
    app = TierConsoleApp(data=data)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        pane = app.screen.query_one(BatchPane)
        body = pane.body
        assert len(body.rows) == 1001 and body.virtual_size.height == 3 + 1 + 1000  # job, separator, jobs
        assert [j.job_name for j in pane.ordered][:2] == ["live-one", "old-0999"]
        shown = text_of(body)
        assert "live-one" in shown and "old-0999" in shown and "old-0000" not in shown
        # A refresh draws only the jobs in view, not a thousand.
        body.renders = 0
        app.show_data(dataclasses.replace(data, time=data.time + 5))
        await pilot.pause()
        assert 0 < body.renders <= body.size.height
        # Every job is reachable: the selection walks to the oldest and the list scrolls with it.
        await pilot.press("4")
        await pilot.pause()
        pane.move_selection(10_000)
        await pilot.pause()
        assert pane.selected_job.job_name == "old-0000"
        assert "old-0000" in text_of(body) and "live-one" not in text_of(body)


@pytest.mark.parametrize("size", [WIDE, NARROW])
async def test_reservation_overflow_says_where_it_comes_from(size):
    """Overflow is a sandbox figure (tokens per minute, labelled); on AWS, where no metric counts it, the pane
    says so instead of showing a number."""
    from tierconsole.tui.widgets.reservations import ReservationsPane
    app = TierConsoleApp()
    async with app.run_test(size=size) as pilot:
        await started(pilot, sample_dashboard(sandbox=True))
        await pilot.press("1")  # the reservations pane, maximised (one pane at a time at 80x24)
        await pilot.pause()
        shown = text_of(app.query_one(ReservationsBody))
        assert "overflow 8.2k TPM (sandbox)" in shown, shown
        pane = app.query_one(ReservationsPane)
        assert "overflow 8.2k TPM (sandbox)" in str(pane.border_subtitle)
        await started(pilot, sample_dashboard(sandbox=False))
        shown = text_of(app.query_one(ReservationsBody))
        assert "not published" in shown and "sonnet-prod-1" in shown and "8.2k" not in shown, shown
        assert "overflow not published by AWS" in str(pane.border_subtitle)


async def test_batch_list_keeps_its_order_and_selection_between_refreshes():
    """A refresh may list jobs in another order (ties in submission time, another region's jobs, a new job on top):
    the pane keeps each job where it was and the same job selected, in view."""
    from tierconsole.core.domain.views import BatchJobView
    from tierconsole.tui.widgets.batch import BatchPane

    def queued(i, t=5000.0):
        return BatchJobView(job_arn=f"arn:job/q{i:02d}", job_name=f"queued-{i:02d}", model_id="m", status="Scheduled",
                            submit_time=t, total_records=100)

    def done(i):  # finished together (one end time)
        return BatchJobView(job_arn=f"arn:job/d{i:02d}", job_name=f"done-{i:02d}", model_id="m", status="Completed",
                            submit_time=1000.0, end_time=2000.0, total_records=10, processed=10, success=10)

    jobs = tuple(queued(i) for i in range(8)) + tuple(done(i) for i in range(12))  # same submit/end times: ties
    data = dataclasses.replace(sample_dashboard(), batch_jobs=jobs)
    app = TierConsoleApp(data=data)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        await pilot.press("4")
        await pilot.pause()
        pane = app.screen.query_one(BatchPane)
        body = pane.body
        order = [j.job_arn for j in pane.ordered]
        pane.select_job("arn:job/d04")
        await pilot.pause()
        assert "done-04" in text_of(body)

        for refreshed in (tuple(reversed(jobs)),  # the API answered in another order
                          jobs[10:] + jobs[:10],
                          (queued(99, t=6000.0),) + tuple(reversed(jobs))):  # and a new job on top
            app.show_data(dataclasses.replace(data, time=data.time + 5, batch_jobs=refreshed))
            await pilot.pause()
            assert [a for a in (j.job_arn for j in pane.ordered) if a in order] == order
            assert pane.selected_arn == "arn:job/d04"
            shown = text_of(body)
            assert "done-04" in shown, shown
            lines = {body.render_line(y).text.split()[1]: body.render_line(y) for y in range(body.size.height)
                     if body.render_line(y).text.startswith("✓ done-")}

            def background(name):
                return {seg.style.bgcolor for seg in lines[name] if seg.style and seg.text.strip()}
            assert background("done-04") != background("done-03"), "the selected job is drawn highlighted"


@pytest.mark.parametrize("size", [WIDE, NARROW])
async def test_batch_tokens_say_which_minute_they_are_from(size):
    """The model's batch tokens (AWS/Bedrock/Batch) name the minute they were published for; a job with no figure
    of its own yet shows none (never another job's)."""
    from tierconsole.core.domain.views import BatchJobView
    from tierconsole.tui.widgets.batch import BatchPane
    data = sample_dashboard()
    app = TierConsoleApp(data=data)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("4")
        await pilot.pause()
        shown = text_of(app.screen.query_one(BatchPane).body)
        assert re.search(r"76\.4k.*25\.3k.*14:29", shown), shown
        fresh = BatchJobView("arn:new", "fresh-job", "amazon.nova-lite-v1:0", "InProgress",
                             submit_time=SAMPLE_NOW - 30, total_records=100, processed=3, success=3)
        app.show_data(dataclasses.replace(data, batch_jobs=(fresh,)))
        await pilot.pause()
        shown = text_of(app.screen.query_one(BatchPane).body)
        assert "fresh-job" in shown and "TPM" not in shown, shown
