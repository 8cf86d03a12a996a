"""The fleet screen through Pilot (issue 15): rows worst first, `/` filter, `g` groups, the pulse in the
dashboard's header; a fleet with no session refuses nothing silently (enter does nothing without a source)."""
from __future__ import annotations

import pytest
from textual.widgets import Input

from tierconsole.core.domain.fleetsample import sample_fleet
from tierconsole.tui.app import TierConsoleApp
from tierconsole.tui.screens.dashboard import DashboardScreen
from tierconsole.tui.screens.fleet import FleetScreen
from tierconsole.tui.widgets.fleet_table import FleetTable
from tierconsole.tui.widgets.header import HeaderBar
from tests.functional.test_dashboard_pilot import text_of


def table(app) -> FleetTable:
    return app.screen.query_one(FleetTable)


async def test_rows_are_worst_first_and_filter_and_group_work():
    snap = sample_fleet(accounts=12, regions=3, models=3)
    app = TierConsoleApp(fleet=snap)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)
        lines = text_of(table(app)).splitlines()
        assert lines[0].startswith("  account") and "thr/min" in lines[0]
        assert lines[1].startswith("▲ risk-prod-") and "4 (S 3 P 1)" in lines[1]  # throttling first
        assert "88%" in lines[4]  # then the hot accounts
        pulse = str(app.screen.query_one("#fleet-pulse").render())
        assert pulse.startswith("2 accounts over 80% · 1 throttling · 1 stale")
        title = str(app.screen.query_one("#fleet-title").render())
        assert title.startswith(" tierconsole fleet  profile sample-fleet  monitoring ")  # F3: the field named

        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        for ch in "search !011":
            await pilot.press("space" if ch == " " else "exclamation_mark" if ch == "!" else ch)
        await pilot.press("enter")
        await pilot.pause()
        shown = [r for r in table(app).lines]
        assert len(shown) == 9 and {r.account_name for r in shown} == {"search-prod-001"}  # 3 regions × 3 models
        assert isinstance(app.focused, FleetTable)

        await pilot.press("slash", "ctrl+a", "ctrl+k", "enter")  # clear the filter
        await pilot.press("g")  # group by account
        await pilot.pause()
        headings = [x for x in table(app).lines if isinstance(x, str)]
        assert len(headings) == 12 and headings[0].startswith("risk-prod-005 (200000000005)")
        await pilot.press("g")  # by region
        await pilot.pause()
        assert [x for x in table(app).lines if isinstance(x, str)][0].split(" ")[0] in snap.regions
        assert "grouped by region" in str(app.screen.query_one("#fleet-pulse").render())


async def test_cursor_moves_over_rows_only_and_the_dashboard_header_carries_the_pulse():
    app = TierConsoleApp(fleet=sample_fleet())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("g", "down", "down")
        t = table(app)
        assert t.selected is not None and t.selected == t.lines[t.cursor]
        await app.pop_screen()  # the dashboard is under the fleet screen
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        header = text_of(app.screen.query_one(HeaderBar))
        assert "fleet: 2 accts over 80% · 1 throttling · 1 stale" in header


async def test_the_detail_line_says_what_the_columns_cannot_at_80_columns():
    app = TierConsoleApp(fleet=sample_fleet())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash", *"stale", "enter")
        await pilot.pause()
        detail = str(app.screen.query_one("#fleet-detail").render())
        assert "search-prod-011 (200000000011) us-east-1" in detail
        assert "STALE: access denied (GetMetricData)" in detail and "binding: On-demand model inference" in detail
        await pilot.press("down")
        await pilot.pause()
        assert str(app.screen.query_one("#fleet-detail").render()) != detail


async def test_only_visible_lines_are_built():
    app = TierConsoleApp(fleet=sample_fleet(accounts=100, regions=4, models=10))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        t = table(app)
        assert len(t.lines) == 4000
        assert t.lines_built < 200  # a screenful (twice at most), never the 4,000 rows
        before = t.lines_built
        await pilot.press("down")
        await pilot.pause()
        assert 1 <= t.lines_built - before <= 2  # a cursor move draws the two lines whose highlight changed


async def test_switching_to_another_profile_leaves_the_fleet(tmp_path, monkeypatch):
    """`a` to a profile that is not a fleet: the fleet screen and its pulse go, the dashboard is the screen."""
    from tierconsole.core.domain.profile import parse_profile

    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var))
    other = parse_profile({"name": "solo", "endpoint_url": "http://127.0.0.1:9", "sandbox": {}}, default_name="solo")
    app = TierConsoleApp(fleet=sample_fleet())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)
        await app.switch_profile(other).wait()
        await pilot.pause(0.5)
        assert isinstance(app.screen, DashboardScreen) and app.fleet_screen is None
        assert "fleet:" not in text_of(app.screen.query_one(HeaderBar))
        assert app.session is not None and app.session.profile.name == "solo"
        await app.close_source()
        await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_esc_on_the_table_clears_an_applied_filter_and_the_footer_says_so(size):
    """F5 (newcomer-4): esc on the fleet table did not clear an active filter, and nothing said how to (also at
    80 columns, where the footer keeps only the keys that matter most)."""
    from tierconsole.tui.widgets.keybar import KeyBar

    app = TierConsoleApp(fleet=sample_fleet())
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        everything = len(table(app).lines)
        bar = app.screen.query_one(KeyBar)
        assert "Clear filter" not in text_of(bar)  # nothing to clear
        await pilot.press("slash", *"search", "enter")
        await pilot.pause()
        assert len(table(app).lines) < everything and isinstance(app.focused, FleetTable)
        assert "esc Clear filter" in text_of(bar)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.filter_text == "" and len(table(app).lines) == everything
        assert "filter:" not in str(app.screen.query_one("#fleet-pulse").render())
        assert "Clear filter" not in text_of(bar)
        await pilot.press("escape")  # no filter: esc does what it did (nothing here: the fleet stays)
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen) and len(table(app).lines) == everything


PULSE = "2 accts over 80% · 1 throttling · 1 stale"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_a_drilled_dashboard_header_always_shows_the_fleet_pulse(size):
    """The issue: "a pulse line in the header of every screen". At 80 columns, and at 120 beside the SANDBOX and
    READ-ONLY badges of a drill-in, the one-line header had no room and left it out."""
    import dataclasses

    from tierconsole.core.domain.sample import sample_dashboard

    data = dataclasses.replace(sample_dashboard(sandbox=True), profile="fleet/eu-retail@eu-west-1",
                               account_id="200000000008", region="eu-west-1", read_only=True)
    app = TierConsoleApp(data=data)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.screen.set_pulse(PULSE)
        await pilot.pause()
        header = text_of(app.screen.query_one(HeaderBar))
        assert f"fleet: {PULSE}" in header, header
        assert "SANDBOX" in header and "READ-ONLY" in header and "fleet/eu-retail@eu-west-1" in header
        assert size[0] == 80 or "200000000008" in header  # at 80 a sandbox's header gives up region and account
        assert all(len(line) <= size[0] for line in header.splitlines())


async def test_at_80_columns_the_table_keeps_throttles_and_state_and_the_header_its_endpoint():
    """newcomer-5 F8: the model and account columns give way first; the header keeps endpoint and refresh time,
    and takes back its parts when the terminal grows."""
    from tierconsole.core.domain.fleetsample import sample_fleet
    from tierconsole.tui.app import TierConsoleApp
    from tierconsole.tui.widgets.fleet_table import FleetTable

    app = TierConsoleApp(theme="dark", fleet=sample_fleet())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(FleetTable)
        head = table.render_line(0).text
        assert "thr/min" in head and "state" in head, head
        hot = next(i for i, r in enumerate(table.lines) if (getattr(r, "throttles_per_min", 0) or 0) > 0)
        assert "4 (S 3 P 1)" in table.render_line(hot + 1).text
        title = str(app.screen.query_one("#fleet-title").render())
        assert "127.0.0.1:4599" in title and "00:00:30" in title and "GetMetricData" not in title, title
        await pilot.resize_terminal(160, 40)
        await pilot.pause()
        title = str(app.screen.query_one("#fleet-title").render())
        assert "GetMetricData" in title and "refreshed 00:00:30 UTC" in title, title
