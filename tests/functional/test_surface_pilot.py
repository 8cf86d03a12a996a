"""Trust the operator surface (issue 11): what the dashboard says, how it alerts, how it ages, at 80×24.

Pilot tests of the real app; the live ones run the real poller against an embedded sandbox on loopback.
"""
from __future__ import annotations

import dataclasses
import re
import time

import pytest
from rich.segment import Segment
from textual.color import Color
from textual.filter import Monochrome

from tierconsole.tui.app import TierConsoleApp
from tierconsole.core.domain.sample import SAMPLE_NOW, sample_dashboard
from tierconsole.core.domain.views import ModelQuotaView, PaneStatus, ThrottleEvent
from tierconsole.core.source import LiveSource
from tierconsole.core.config.profiles import load_profile
from tierconsole.tui.screens.dashboard import DashboardScreen
from tierconsole.tui.widgets.header import HeaderBar
from tierconsole.tui.widgets.keybar import KeyBar
from tierconsole.tui.widgets.pane import StaleBanner
from tierconsole.tui.widgets.quota import QuotaBody, QuotaPane
from tierconsole.tui.widgets.reservations import ReservationsBody
from tierconsole.tui.widgets.throttles import ThrottleList, ThrottlesPane
from tests.conftest import NOVA
from tests.functional.test_actions_pilot import isolated, wait_for  # noqa: F401 - fixture
from tests.functional.test_dashboard_pilot import text_of

WIDE = (120, 40)
NARROW = (80, 24)


class BellApp(TierConsoleApp):
    """The app, counting the bells it rings (Textual's ``App.bell`` writes BEL to the terminal)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.bells = 0

    def bell(self) -> None:
        self.bells += 1
        super().bell()


def with_nova_at(fraction: float, now: float = SAMPLE_NOW):
    """The sample data with Nova Lite's TPM use at ``fraction`` of its quota (RPM low)."""
    data = sample_dashboard(now)
    quotas = []
    for q in data.quotas:
        if q.model_id == NOVA:
            q = ModelQuotaView(q.model_id, q.name, 400_000, 1_000, {"default": 400_000 * fraction}, rpm_used=10)
        quotas.append(q)
    return dataclasses.replace(data, quotas=tuple(quotas))


# ------------------------------------------------------------------ words


async def test_counts_in_pane_titles_are_singular_for_one():
    data = sample_dashboard()
    one = dataclasses.replace(data, quotas=data.quotas[:1], throttle_events=data.throttle_events[:1])
    app = TierConsoleApp(data=one)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        assert app.screen.query_one(ThrottlesPane).border_subtitle == "1 event"
        assert app.screen.query_one(QuotaPane).border_subtitle.startswith("1 model ")
        assert app.screen.query_one(QuotaPane).border_subtitle == "1 model · 1 over 80% · binds: Amazon Nova Lite TPM"


# ------------------------------------------------------------------ alert threshold


async def test_the_header_counts_the_quotas_over_the_threshold_and_the_threshold_moves_marker_and_colours():
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        screen: DashboardScreen = app.screen
        header = app.screen.query_one(HeaderBar)
        assert "▲ 1 quota over 80%" in text_of(header)
        screen.set_alerts(0.3)
        await pilot.pause()
        assert "▲ 4 quotas over 30%" in text_of(header)  # Sonnet's cross-region route (72%) too
        body = screen.query_one(QuotaBody)
        assert body.warn_at == 0.3 and "┊ 30%" in text_of(body)
        sonnet = text_of(body).split("Claude Sonnet 4.5")[1].splitlines()[0]
        assert "▲ 32%" in sonnet
        assert screen.query_one(ReservationsBody).warn_at == 0.3
        screen.set_alerts(0.9)
        await pilot.pause()
        assert "over" not in text_of(header) and "▲" not in text_of(body)


async def test_crossing_the_threshold_rings_the_bell_once():
    app = BellApp(data=with_nova_at(0.5))
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        assert app.bells == 0
        app.show_data(with_nova_at(0.85, SAMPLE_NOW + 1))  # crosses 80%
        await pilot.pause()
        assert app.bells == 1
        for i in range(3):  # stays over: no more bells
            app.show_data(with_nova_at(0.9 + i / 100, SAMPLE_NOW + 2 + i))
            await pilot.pause()
        assert app.bells == 1
        app.show_data(with_nova_at(0.4, SAMPLE_NOW + 10))  # back under
        await pilot.pause()
        app.show_data(with_nova_at(0.81, SAMPLE_NOW + 11))  # and over again
        await pilot.pause()
        assert app.bells == 2


async def test_the_bell_can_be_turned_off_and_quotas_over_at_start_do_not_ring():
    app = BellApp(data=with_nova_at(0.95))
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        assert app.bells == 0  # already over when first seen: the header says so, nothing crossed
        app.screen.set_alerts(0.8, bell=False)
        app.show_data(with_nova_at(0.4, SAMPLE_NOW + 1))
        await pilot.pause()
        app.show_data(with_nova_at(0.9, SAMPLE_NOW + 2))
        await pilot.pause()
        assert app.bells == 0 and "1 quota over 80%" in text_of(app.screen.query_one(HeaderBar))


# ------------------------------------------------------------------ NO_COLOR


def _brightness(style) -> float:
    color = style.color
    return Color.from_rich_color(color).monochrome.brightness if color is not None else 1.0


def _mono(segment: Segment) -> Segment:
    return Monochrome().apply([segment], Color(0, 0, 0))[0]


def _segment(strip, needle: str) -> Segment:
    return next(_mono(s) for s in strip if needle in s.text)


async def test_without_colour_tiers_have_their_own_patterns_and_alerts_are_emphasised(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        assert app.no_color
        body = app.screen.query_one(QuotaBody)
        legend = body.render_line(0).text
        glyphs = re.search(r"(\S) Priority\s+(\S) Standard\s+(\S) Flex", legend)
        assert glyphs and len(set(glyphs.groups())) == 3, legend
        nova = body.render_line(1).text  # Priority, Standard and Flex all draw on Nova Lite's quota
        assert all(g in nova for g in glyphs.groups()), (glyphs.groups(), nova)
        # The empty part of a bar does not look like a filled one.
        assert nova.count(glyphs.group(2)) < nova.count(glyphs.group(2)) + nova.count("─") and "─" in nova
        # Nova Lite (over 80%) is emphasised, never dimmer than a row under the threshold.
        alert = _segment(body.render_line(1), "Amazon Nova Lite")
        sonnet = next(y for y in range(body.size.height) if body.render_line(y).text.startswith("Claude Sonnet 4.5"))
        normal = _segment(body.render_line(sonnet), "Claude Sonnet 4.5")
        assert alert.style.bold and (alert.style.reverse or _brightness(alert.style) >= _brightness(normal.style))
        # The same for a reservation over the threshold and a failed call in the throttle feed.
        reservations = app.screen.query_one(ReservationsBody)
        haiku = next(y for y in range(reservations.size.height) if "92%" in reservations.render_line(y).text)
        assert _segment(reservations.render_line(haiku), "92%").style.reverse
        assert not _segment(reservations.render_line(haiku), "█").style.reverse  # a reversed block looks empty
        await pilot.press("3")  # the feed, maximised: every sample event in view
        await pilot.pause()
        feed = app.screen.query_one(ThrottleList)
        row = next(y for y in range(1, feed.size.height) if "ServiceUnav" in feed.render_line(y).text)
        error = _segment(feed.render_line(row), "ServiceUnav")
        assert error.style.bold and error.style.reverse


# ------------------------------------------------------------------ the footer at 80×24


async def test_the_footer_at_80x24_keeps_quit_help_and_the_focused_panes_keys():
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(KeyBar)
        for key, pane_keys in (("1", ["c Plan"]), ("2", ["c Plan"]), ("3", ["/ Filter", "⏎ Incident"]),
                               ("4", ["x Cancel", "b Batch"])):
            await pilot.press(key)
            await pilot.pause()
            line = text_of(bar)
            for needed in ["q Quit", "? Help", *pane_keys]:
                assert needed in line, (key, needed, line)
            assert len(line) == NARROW[0] and line.rstrip().endswith("^p palette")


async def test_the_plan_key_is_in_the_footer():
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        assert "c Plan" in text_of(app.screen.query_one(KeyBar))


# ------------------------------------------------------------------ ages, retries, pause (live)


def _seconds(text: str, pattern: str) -> int:
    """Seconds in the first match of ``pattern`` (a duration such as 42s or 2m05s as group 1)."""
    m = re.search(pattern, text)
    assert m, (pattern, text)
    value = m.group(1)
    minutes = re.fullmatch(r"(\d+)m(\d\d)s", value)
    return int(minutes.group(1)) * 60 + int(minutes.group(2)) if minutes else int(value.rstrip("s"))


def watching(sandbox, refresh_seconds: float) -> TierConsoleApp:
    """The console polling ``sandbox`` (a quiet one, in its own thread) every ``refresh_seconds``."""
    profile = dataclasses.replace(load_profile("sandbox"), refresh_seconds=refresh_seconds)
    return TierConsoleApp(source=LiveSource(profile, endpoint_url=sandbox.endpoint))


async def polled(pilot) -> None:
    app = pilot.app
    assert await wait_for(pilot, lambda: app.polls > 0 and app.dashboard.shown.quotas, timeout=20)


async def test_stale_ages_tick_every_second_and_the_header_says_when_it_retries(isolated, make_sandbox):
    sb = make_sandbox(scenario="none")
    app = watching(sb, 1.0)
    async with app.run_test(size=(160, 40)) as pilot:
        await polled(pilot)
        sb.stop()  # the endpoint goes away: every pane turns stale and the poller backs off
        assert await wait_for(pilot, lambda: app.failures >= 3, timeout=30)  # next retry 8 s away
        await pilot.pause(0.2)
        header = app.screen.query_one(HeaderBar)
        banner = app.screen.query_one("#quota").query_one(StaleBanner)
        first_header, first_banner = text_of(header), text_of(banner)
        await pilot.pause(3.2)  # the tick is once a second: at least two ticks have shown
        later_header, later_banner = text_of(header), text_of(banner)
        retry = _seconds(first_header, r"retrying in (\d+) s")
        assert 1 <= retry <= 8 and _seconds(later_header, r"retrying in (\d+) s") <= retry - 2, (first_header, later_header)
        assert _seconds(later_header, r"age (\S+)") >= _seconds(first_header, r"age (\S+)") + 2
        assert _seconds(later_banner, r"last good data (\S+) ago") >= _seconds(first_banner, r"last good data (\S+) ago") + 2
        await app.close_source()


async def test_paused_says_for_how_long_and_r_refreshes_once(isolated, make_sandbox):
    app = watching(make_sandbox(scenario="none"), 0.5)
    async with app.run_test(size=(160, 40)) as pilot:
        await polled(pilot)
        await pilot.press("p")
        await pilot.pause(0.3)
        header = app.screen.query_one(HeaderBar)
        assert "PAUSED" in text_of(header)
        shown, polls = app.dashboard.shown, app.polls
        await pilot.pause(2.2)
        assert _seconds(text_of(header), r"PAUSED (\S+)") >= 2 and app.polls == polls
        assert app.dashboard.shown is shown
        await pilot.press("r")  # one refresh, shown, still paused
        assert await wait_for(pilot, lambda: app.dashboard.shown is not shown, timeout=10)
        assert app.polls == polls + 1 and app.paused and app.dashboard.paused
        await pilot.pause(1.5)
        assert app.polls == polls + 1 and "PAUSED" in text_of(header)
        await app.close_source()


async def test_the_profiles_alert_threshold_reaches_the_dashboard(isolated):
    profile = dataclasses.replace(load_profile("sandbox"), alert_threshold=0.45, alert_bell=False)
    app = TierConsoleApp(source=LiveSource(profile, endpoint_url="http://127.0.0.1:9"))
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        screen = app.dashboard
        assert screen.query_one(QuotaBody).warn_at == 0.45 and screen.alert_threshold == 0.45
        assert screen.alert_bell is False
        await app.close_source()
