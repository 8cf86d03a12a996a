"""SVG snapshots of the fleet screen (issue 15) with the fixed sample fleet (no clock in rendering)."""
from __future__ import annotations

import pytest

from tierconsole.core.domain.fleetsample import sample_fleet
from tierconsole.tui.app import TierConsoleApp


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_fleet_screen(snap_compare, size):
    assert snap_compare(TierConsoleApp(theme="dark", fleet=sample_fleet()), terminal_size=size)


def test_fleet_screen_grouped_by_account(snap_compare):
    assert snap_compare(TierConsoleApp(theme="dark", fleet=sample_fleet()), terminal_size=(120, 40), press=["g"])


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_drilled_dashboard_keeps_the_fleet_pulse_beside_the_badges(snap_compare, size):
    """The pulse has a line of its own where the header's one line has no room for it (SANDBOX and READ-ONLY)."""
    import dataclasses

    from tierconsole.core.domain.sample import sample_dashboard

    data = dataclasses.replace(sample_dashboard(sandbox=True), profile="fleet/eu-retail@eu-west-1",
                               account_id="200000000008", region="eu-west-1", read_only=True)

    async def pulse(pilot):
        pilot.app.screen.set_pulse("2 accts over 80% · 1 throttling · 1 stale")
        await pilot.pause()

    assert snap_compare(TierConsoleApp(theme="dark", data=data), terminal_size=size, run_before=pulse)
