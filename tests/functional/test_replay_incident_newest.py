"""Replay of a recording that stops inside the newest throttle's minute (#2 of newcomer-2): the incident view of
that event must hold its minute (marked partial: no per-minute figures recorded yet), diagnose that minute, and
its export must be named after it, never after the minute before."""
from __future__ import annotations

import dataclasses
import math
import time

import pytest

from tierconsole.core.domain import incident as inc
from tierconsole.core.domain.sample import SAMPLE_NOW, sample_dashboard
from tierconsole.core.domain.views import ThrottleEvent, UsageMinute
from tierconsole.recording.recorder import Recorder
from tierconsole.tui.replay import ReplayApp
from tierconsole.tui.screens.incident import IncidentScreen
from tierconsole.tui.widgets.throttles import ThrottleList

T0 = math.floor(SAMPLE_NOW / 60) * 60 - 20 * 60
THROTTLES = {3: 96, 4: 79, 5: 1, 7: 96, 8: 35}  # minute offset -> Standard throttles; minute 8 is the newest


def usage(model: str, m: int) -> UsageMinute:
    return UsageMinute(T0 + 60 * m, model, {"priority": 0.0, "default": 97_900.0 if m == 7 else 60_000.0,
                                            "flex": 0.0}, 100_000.0, 60.0, 300.0,
                       {"priority": 0, "default": THROTTLES.get(m, 0), "flex": 0})


@pytest.fixture
def spike(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    base = sample_dashboard(now=T0)
    model = base.quotas[0].model_id
    path = tmp_path / "spike.tcrec"
    with Recorder(path, "sandbox") as rec:
        for step in range(1, 8 * 2 + 2):  # every 30 s; the last frame is 30 s into minute 8
            now = T0 + 30 * step
            current = math.floor((now - T0) / 60)
            events = tuple(ThrottleEvent(T0 + 60 * m, model, "default", n, source="cloudwatch")
                           for m, n in sorted(THROTTLES.items(), reverse=True) if m <= current)
            rec.write(dataclasses.replace(sample_dashboard(now=now), throttle_events=events,
                                          usage_minutes=(usage(model, current - 1),) if current >= 1 else ()))
    return path, model


async def test_the_newest_event_keeps_its_minute_and_is_diagnosed(spike, tmp_path):
    path, model = spike
    newest = T0 + 8 * 60
    app = ReplayApp(path)
    app.replay.seek(len(app.replay) - 1)
    app.dashboard.show(app.replay.current())
    async with app.run_test(size=(120, 41)) as pilot:
        await pilot.pause()
        lst = app.screen.query_one(ThrottleList)
        index = next(i for i, e in enumerate(lst.rows) if e.model_id == model and e.time == newest)
        lst.focus()
        lst.cursor = index
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, IncidentScreen)
        incident = app.screen.incident
        times = [m.time for m in incident.minutes]
        assert newest in times, [inc._clock(t) for t in times]
        [row] = [m for m in incident.minutes if m.time == newest]
        assert not row.has_data  # not recorded yet: never shown as zeros
        assert f"at {inc._clock(newest)} UTC" in incident.diagnosis, incident.diagnosis
        assert "partial" in incident.diagnosis, incident.diagnosis
        app.screen.export_dir = tmp_path / "out"
        await pilot.press("e")
        await pilot.pause()
        stamp = time.strftime("%Y%m%d-%H%M", time.gmtime(newest))
        assert app.screen.exported and stamp in app.screen.exported, app.screen.exported
