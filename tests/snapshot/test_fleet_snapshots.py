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
