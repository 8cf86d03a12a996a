"""SVG snapshots of the dashboard with fixed sample data and a fixed "now" (no clock in rendering).

Update after a deliberate change with ``pytest tests/test_snapshots.py --snapshot-update`` and
review ``snapshot_report.html`` / the SVGs in ``tests/__snapshots__/``.
"""
from __future__ import annotations

import dataclasses

import pytest
from textual.widgets import Input

from tierconsole.tui.app import TierConsoleApp
from tierconsole.core.domain.sample import SAMPLE_NOW, sample_dashboard
from tierconsole.core.domain.views import PaneStatus
from tierconsole.tui.screens.batch_submit import ConfirmCancelScreen
from tierconsole.tui.screens.prompt_lab import PromptArea, PromptLabScreen, sample_run

THEMES = ["dark", "light", "high-contrast"]
SIZES = [(80, 24), (120, 40)]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    # Snapshots are in colour whatever the developer's shell says.
    monkeypatch.delenv("NO_COLOR", raising=False)


def stale_quota_data():
    data = sample_dashboard()
    reason = "AccessDeniedException: not authorized to perform servicequotas:ListServiceQuotas"
    status = dict(data.status, quota=PaneStatus(ok=False, updated_at=SAMPLE_NOW - 125, reason=reason))
    return dataclasses.replace(data, status=status)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("theme", THEMES)
def test_dashboard(snap_compare, theme, size):
    assert snap_compare(TierConsoleApp(theme=theme, data=sample_dashboard()), terminal_size=size)


def test_stale_pane_and_applied_filter(snap_compare):
    app = TierConsoleApp(data=stale_quota_data())
    assert snap_compare(app, press=["slash", *"standard", "enter"], terminal_size=(120, 40))


def test_filter_box_open(snap_compare):
    async def open_filter(pilot):
        await pilot.press("slash", *"nova")
        field = pilot.app.query_one("#throttle-filter", Input)
        field.cursor_blink = False
        await pilot.pause()

    app = TierConsoleApp(data=sample_dashboard())
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_filter)


def test_maximised_quota_pane(snap_compare):
    assert snap_compare(TierConsoleApp(data=stale_quota_data()), press=["2"], terminal_size=(120, 40))


def test_paused_sandbox_on_light(snap_compare):
    app = TierConsoleApp(theme="light", data=sample_dashboard(sandbox=True))
    assert snap_compare(app, press=["p", "4"], terminal_size=(80, 24))


def test_help_screen(snap_compare):
    assert snap_compare(TierConsoleApp(data=sample_dashboard()), press=["question_mark"], terminal_size=(80, 24))


def test_waiting_for_data(snap_compare):
    assert snap_compare(TierConsoleApp(), terminal_size=(120, 40))


async def show_sample_prompt_run(pilot) -> None:
    """Open the prompt lab (``t``) and show a fixed all-tiers run (no clock, no network)."""
    await pilot.press("t")
    lab = pilot.app.screen
    assert isinstance(lab, PromptLabScreen)
    await lab.show_run(*sample_run())
    lab.query_one(PromptArea).cursor_blink = False
    for field in lab.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def test_prompt_lab_with_results(snap_compare):
    app = TierConsoleApp(data=sample_dashboard())
    assert snap_compare(app, terminal_size=(120, 40), run_before=show_sample_prompt_run)


async def ask_to_cancel(pilot) -> None:
    job = next(j for j in sample_dashboard().batch_jobs if j.job_name == "rag-eval-sonnet-v3")
    await pilot.app.push_screen(ConfirmCancelScreen(job, "123456789012", "prod-ops", "us-east-1"))
    await pilot.pause()


def test_cancel_confirmation(snap_compare):
    app = TierConsoleApp(data=sample_dashboard())
    assert snap_compare(app, terminal_size=(120, 40), run_before=ask_to_cancel)


def test_prompt_lab_at_80x24(snap_compare):
    """Short terminal: the form compacts so every tier's row, its cost and the whole error are on screen."""
    app = TierConsoleApp(data=sample_dashboard())
    assert snap_compare(app, terminal_size=(80, 24), run_before=show_sample_prompt_run)


def test_dashboard_without_colour(snap_compare, monkeypatch):
    """NO_COLOR: tiers as patterns (█ ▓ ▒), empty bar parts as ─, alerts in bold reverse video."""
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(TierConsoleApp(data=sample_dashboard()), terminal_size=(120, 40))
