"""Triage in the live console: enter on a throttle opens the incident view; c opens the capacity plan and cost."""
from __future__ import annotations

import dataclasses

import pytest

from textual.widgets import DataTable, OptionList, Static

from tierconsole.tui.app import TierConsoleApp
from tierconsole.core.source import LiveSource
from tierconsole.core.config.profiles import load_profile
from tierconsole.tui.screens.incident import IncidentScreen
from tierconsole.tui.screens.plan import PlanScreen
from tierconsole.tui.widgets.throttles import ThrottleList
from tests.conftest import NOVA
from tests.functional.test_live_pilot import isolated, throttle_burst, wait_for  # noqa: F401 - fixture


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
        assert await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen), timeout=20)
        diagnosis = str(app.screen.query_one("#incident-diagnosis", Static).render())
        # Each request held 10,000 tokens (5,000 in + maxTokens 5,000) but settled near 5,250: the holds, not
        # the real usage, filled the quota -- or, once settled, Standard drew it. Either way: named, with a cause.
        assert "Amazon Nova Lite" in diagnosis
        assert "maxTokens holds, not real usage" in diagnosis or "Standard drew" in diagnosis, diagnosis
        assert app.screen.query_one(DataTable).row_count >= 11  # the event's minute and the 10 before it
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
        assert await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen), timeout=20)
        plan_screen = app.screen
        assert await wait_for(pilot, lambda: plan_screen.plan is not None or plan_screen.error, timeout=20)
        assert plan_screen.error is None, plan_screen.error
        assert await wait_for(pilot, lambda: plan_screen.spends, timeout=20)
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


async def burst_at_minute_start(clock, endpoint: str, rounds: int = 1) -> float:
    """A throttling burst on Nova Lite early in a sandbox minute (so it does not cross into the next); its minute."""
    import asyncio

    from tests.functional.test_live_pilot import throttle_burst

    while clock() % 60 > 15:
        await asyncio.sleep(0.1)
    minute = clock() // 60 * 60
    throttled = sum(await asyncio.gather(*(throttle_burst(endpoint) for _ in range(rounds))))
    assert throttled > 0
    return minute


async def test_the_incident_view_is_about_the_selected_event(isolated):
    """Two bursts two minutes apart, the later one worse: opening the earlier event diagnoses the earlier minute,
    in a window around it, not the worst minute of the last quarter hour."""
    from tierconsole.core.domain import incident as inc

    profile = dataclasses.replace(load_profile("sandbox"), refresh_seconds=0.5)
    # a sandbox minute is 6 real seconds: at 20 (3 s) a loaded machine spread the bursts over minute ends
    source = LiveSource(profile, scenario="none", speed=10.0)
    app = TierConsoleApp(source=source)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_for(pilot, lambda: source.ctx is not None and app.polls > 0)
        clock, endpoint = source.collector.clock, source.ctx.target.endpoint_url
        first = await burst_at_minute_start(clock, endpoint)
        assert await wait_for(pilot, lambda: clock() >= first + 120, timeout=30)
        second = await burst_at_minute_start(clock, endpoint, rounds=3)
        lst = app.screen.query_one(ThrottleList)

        def cloudwatch_rows():
            return {e.time: i for i, e in enumerate(lst.rows) if e.source == "cloudwatch" and e.model_id == NOVA}
        assert await wait_for(pilot, lambda: {first, second} <= set(cloudwatch_rows()), timeout=30)
        assert lst.rows[cloudwatch_rows()[second]].count > lst.rows[cloudwatch_rows()[first]].count
        lst.focus()
        lst.cursor = cloudwatch_rows()[first]
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen), timeout=20)
        incident = app.screen.incident
        assert incident.focus == first
        assert inc._clock(first) in incident.diagnosis and inc._clock(second) not in incident.diagnosis, \
            incident.diagnosis
        times = [m.time for m in incident.minutes]
        assert first in times and min(times) >= first - 600 and max(times) <= first + 240
        diagnosis = str(app.screen.query_one("#incident-diagnosis", Static).render())
        assert diagnosis == incident.diagnosis
        await app.close_source()


async def test_a_replayed_dashboard_opens_the_incident_view_from_the_recording(isolated, tmp_path):
    """Recorded live (real collector, real sandbox), replayed: enter on the recorded throttle event opens the same
    diagnosis the live console gives, from the per-minute figures in the recording."""
    import asyncio

    from tierconsole.core.domain import incident as inc
    from tierconsole.recording.recorder import Recorder
    from tierconsole.tui.replay import ReplayApp

    profile = dataclasses.replace(load_profile("sandbox"), refresh_seconds=0.25)
    source = LiveSource(profile, scenario="none", speed=20.0)
    await asyncio.to_thread(source.start)
    path = tmp_path / "incident.tcrec"
    try:
        with Recorder(path, profile.name) as recorder:
            clock = source.collector.clock
            recorder.write(await source.refresh())
            burst = asyncio.ensure_future(burst_at_minute_start(clock, source.ctx.target.endpoint_url))
            while not burst.done() or clock() < (await burst) + 180:  # until the minutes around it are complete
                recorder.write(await source.refresh())
                await asyncio.sleep(0.25)
            minute = await burst
        c = source.collector
        window = inc.event_window(minute, c.answers.start, clock())
        # as the live dashboard builds it: the on-demand route's rows, naming its quotas
        live = inc.from_minutes(NOVA, c.names[NOVA], c.route_timeline(c.answers, NOVA, "on_demand", *window),
                                *window, focus=minute)
    finally:
        await source.close()
    assert sum(m.throttles for m in live.minutes if m.time == minute) > 0

    app = ReplayApp(path)
    app.replay.seek(len(app.replay) - 1)
    app.dashboard.show(app.replay.current())
    async with app.run_test(size=(120, 41)) as pilot:
        await pilot.pause()
        lst = app.screen.query_one(ThrottleList)
        index = next(i for i, e in enumerate(lst.rows) if e.source == "cloudwatch" and e.model_id == NOVA
                     and e.time == minute)
        lst.focus()
        lst.cursor = index
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen), timeout=20)
        replayed = app.screen.incident
        assert replayed.diagnosis == live.diagnosis
        [row] = [m for m in replayed.minutes if m.time == minute]
        [live_row] = [m for m in live.minutes if m.time == minute]
        assert row == live_row
        assert app.screen.query_one(DataTable).row_count == len(replayed.minutes) >= 3


async def test_c_lists_a_model_with_two_routes_once_and_opens_its_plan(isolated):
    """A model with traffic on two routes (on-demand and the us. cross-region profile) is two rows of the quota
    pane: `c` gave the picker one option per row, Textual refused the duplicate ids and the console died with a
    traceback and exit 0 (newcomer-3)."""
    import asyncio

    from tests.conftest import boto3_client

    profile = dataclasses.replace(load_profile("sandbox"), refresh_seconds=0.5)
    source = LiveSource(profile, scenario="none", speed=20.0)
    app = TierConsoleApp(source=source)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_for(pilot, lambda: source.ctx is not None and app.polls > 0)
        rt = boto3_client("bedrock-runtime", source.ctx.target.endpoint_url)
        for model in (NOVA, f"us.{NOVA}"):
            await asyncio.to_thread(rt.converse, modelId=model, inferenceConfig={"maxTokens": 20},
                                    messages=[{"role": "user", "content": [{"text": "hi"}]}])

        def routes() -> int:
            latest = app.session.latest if app.session else None
            return sum(q.model_id == NOVA for q in (latest.quotas if latest else ()))

        assert await wait_for(pilot, lambda: routes() >= 2, timeout=30)
        await pilot.press("c")
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert ids.count(NOVA) == 1 and len(ids) == len(set(ids)), ids
        options.highlighted = ids.index(NOVA)
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen), timeout=20)
