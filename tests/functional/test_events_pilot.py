"""The events screen (`e`): the live console's change events, from the same detector as `tierconsole watch`,
through Textual's Pilot against a real sandbox; the key is remappable by its binding id."""
from __future__ import annotations

import dataclasses

import pytest
from textual.widgets import DataTable

from tierconsole.core.config.profiles import load_profile
from tierconsole.core.source import LiveSource
from tierconsole.tui.app import TierConsoleApp
from tierconsole.tui.screens.events import EventsScreen
from tests.functional.test_live_pilot import wait_for

WIDE = (120, 40)


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("key, keymap", [("e", {}), ("f7", {"events": "f7"})])
async def test_e_shows_the_change_events_newest_first(isolated, key, keymap):
    profile = dataclasses.replace(load_profile("sandbox"), refresh_seconds=0.5, alert_threshold=0.05)
    source = LiveSource(profile, scenario="steady", speed=5.0, sandbox="embedded")
    app = TierConsoleApp(source=source, keymap=keymap)
    async with app.run_test(size=WIDE) as pilot:
        assert await wait_for(pilot, lambda: app.session is not None and any(
            e.kind == "quota_over" for e in app.session.events), timeout=60)
        await pilot.press(key)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EventsScreen)
        table = screen.query_one(DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert any(r[1] == "▲ start" and r[2] == "quota_over" and "≥ 5%" in r[3] for r in rows), rows
        times = [r[0] for r in rows]
        assert times == sorted(times, reverse=True)  # newest first
        assert "open:" in str(screen.query_one("#events-open").render())
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, EventsScreen)
