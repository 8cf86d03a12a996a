"""Triage in the live console: enter on a throttle opens the incident view; c opens the capacity plan and cost."""
from __future__ import annotations

import dataclasses

import pytest

from textual.widgets import DataTable, OptionList, Static

from tierconsole.app import TierConsoleApp
from tierconsole.live import LiveSource
from tierconsole.profile_loader import load_profile
from tierconsole.screens.incident import IncidentScreen
from tierconsole.screens.plan import PlanScreen
from tierconsole.widgets.throttles import ThrottleList
from tests.conftest import NOVA
from tests.test_live_pilot import isolated, throttle_burst, wait_for  # noqa: F401 - fixture


async def test_throttle_event_opens_incident_and_c_opens_plan(isolated):
    profile = dataclasses.replace(load_profile("sandbox"), refresh_seconds=0.5)
    source = LiveSource(profile, scenario="none", speed=20.0)  # a sandbox minute is 3 real seconds
    app = TierConsoleApp(source=source)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_for(pilot, lambda: source.ctx is not None and app.polls > 0)
        assert await throttle_burst(source.ctx.target.endpoint_url) > 0
        lst = app.screen.query_one(ThrottleList)
        assert await wait_for(pilot, lambda: lst.row_count > 0 and lst.rows[0].source == "cloudwatch")
        lst.focus()
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen), timeout=5)
        diagnosis = str(app.screen.query_one("#incident-diagnosis", Static).render())
        # Each request held 10,000 tokens (5,000 in + maxTokens 5,000) but settled near 5,250: the holds, not
        # the real usage, filled the quota -- or, once settled, Standard drew it. Either way: named, with a cause.
        assert "Amazon Nova Lite" in diagnosis
        assert "maxTokens holds, not real usage" in diagnosis or "Standard drew" in diagnosis, diagnosis
        assert app.screen.query_one(DataTable).row_count >= 15
        await pilot.press("escape")
        await pilot.pause()

        # The cost view uses complete minutes: let the sandbox clock pass the burst's minute.
        clock = source.collector.clock
        burst_minute = clock() // 60
        assert await wait_for(pilot, lambda: clock() // 60 > burst_minute + 1, timeout=10)
        await pilot.press("c")
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        options.highlighted = ids.index(NOVA)
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen), timeout=5)
        plan_screen = app.screen
        assert await wait_for(pilot, lambda: plan_screen.plan is not None or plan_screen.error, timeout=20)
        assert plan_screen.error is None, plan_screen.error
        assert await wait_for(pilot, lambda: plan_screen.spends, timeout=5)
        by_tier = {sp.tier: sp for sp in plan_screen.spends}
        assert by_tier["default"].input_tpm > 0 and by_tier["default"].usd_per_hour > 0
        flex = next(m for m in plan_screen.moves if m.to_tier == "flex")
        assert flex.saving_per_hour == pytest.approx(by_tier["default"].usd_per_hour * 0.5)
        from rich.console import Console
        console = Console(width=120, record=True)
        console.print(plan_screen.query_one("#plan-spend", Static).content)
        shown = console.export_text()
        assert "Standard → Flex" in shown and "Spend now ($ per hour" in shown
        await app.close_source()
