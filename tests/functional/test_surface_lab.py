"""The prompt lab and the dialogs at 80×24 and 120×40 (issue 11): reachable rows, whole errors, honest
checkboxes, real key names, esc that closes only what it should, notifications clear of buttons."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import Button, Checkbox, Input, Select
from textual.widgets._select import SelectCurrent
from textual.widgets._toast import Toast

from tierconsole.tui.app import TierConsoleApp
from tierconsole.core.domain.sample import sample_dashboard
from tierconsole.tui.screens.batch_submit import BatchSubmitScreen, ConfirmCancelScreen, JsonlTree
from tierconsole.tui.screens.help import HelpScreen
from tierconsole.tui.screens.prompt_lab import HistoryPicker, PromptLabScreen, sample_run
from tests.functional.test_actions_pilot import wait_for

WIDE = (120, 40)
NARROW = (80, 24)
THROTTLE_MESSAGE = "Too many tokens, please wait before trying again."


def screen_lines(app) -> list[str]:
    """What the terminal shows, line by line."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def open_lab_with_sample_run(pilot) -> PromptLabScreen:
    await pilot.press("t")
    lab = pilot.app.screen
    assert isinstance(lab, PromptLabScreen)
    await lab.show_run(*sample_run())
    await pilot.pause()
    return lab


async def lab_lines(size) -> list[str]:
    """The terminal's lines with the lab showing the sample all-tiers run at ``size``."""
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=size) as pilot:
        await open_lab_with_sample_run(pilot)
        return screen_lines(app)


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_tiers_row_and_cost_is_on_screen(size):
    lines = await lab_lines(size)
    expected = {"Reserved": "in reservation", "Priority": "$0.002893", "Standard": "Throttling",
                "Flex": "$0.000766"}
    for tier, cost in expected.items():
        row = [line for line in lines if re.search(rf"^\W*{tier}\s+(—|{tier})\s", line)]
        assert row and cost in row[0], (tier, cost, "\n".join(lines))
    assert not any("$0.000000" in line for line in lines)


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_whole_error_is_shown_on_one_line(size):
    lines = await lab_lines(size)
    assert any(THROTTLE_MESSAGE in line and "Standard" in line for line in lines), "\n".join(lines)


@pytest.mark.parametrize("size", [NARROW, WIDE, (100, 30)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_selects_never_wrap_into_the_next_field(size):
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=size) as pilot:
        lab = await open_lab_with_sample_run(pilot)
        lab.query_one("#lab-tier", Select).value = "escalate"
        await pilot.pause()
        below = lab.query_one("#lab-options").region
        for select in lab.query(Select):
            current = select.query_one(SelectCurrent)
            label = current.query_one("#label")
            assert label.region.height == 1, (select.id, label.region)
            assert current.region.bottom <= below.y, (select.id, current.region, below)


async def test_the_checkbox_looks_ticked_only_when_it_is():
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("t")
        await pilot.pause()
        box = app.screen.query_one("#lab-stream", Checkbox)
        assert not box.value
        unticked = str(box.render())
        box.value = True
        await pilot.pause()
        ticked = str(box.render())
        assert "Stream" in unticked and "Stream" in ticked
        mark = ticked.split("Stream")[0].strip("▐▌ ")
        assert mark and mark not in unticked.split("Stream")[0], (unticked, ticked)


async def test_the_lab_says_standard_never_default():
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("t")
        await pilot.pause()
        lab = app.screen
        assert lab.query_one("#lab-temperature", Input).placeholder != "default"
        picker = HistoryPicker([{"time": 1772461800.0, "profile": "prod-ops", "model": "amazon.nova-lite-v1:0",
                                 "tier": "default", "text": "hello"}])
        await app.push_screen(picker)
        await pilot.pause()
        shown = "\n".join(screen_lines(app))
        assert "Standard" in shown and not re.search(r"\bdefault\b", shown)


async def help_keys(pilot, *keys: str) -> list[str]:
    """Press ``keys`` (the last one opens help); the keys help lists, each checked spelled out."""
    for key in keys:
        await pilot.press(key)
        await pilot.pause()
    assert isinstance(pilot.app.screen, HelpScreen)
    names = [name for name, _ in pilot.app.screen.rows()]
    assert not any("^" in k or "," in k for k in names), names
    return names


async def test_help_shows_real_key_names():
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        keys = await help_keys(pilot, "t", "f1")
        assert "ctrl+enter / ctrl+s" in keys and "ctrl+r" in keys and "ctrl+p" in keys and "esc" in keys
        keys = await help_keys(pilot, "escape", "escape", "question_mark")
        assert "?" in keys and "enter" in keys and "tab" in keys and "shift+tab" in keys


async def test_esc_in_the_file_browser_closes_only_the_browser(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_text("{}\n")
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("b")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BatchSubmitScreen)
        await pilot.press("ctrl+o")
        await pilot.pause()
        tree = screen.query_one(JsonlTree)
        assert tree.display and tree.has_focus
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and not tree.display
        assert screen.query_one("#batch-path", Input).has_focus
        await pilot.press("escape")  # and esc again closes the form
        await pilot.pause()
        assert not isinstance(app.screen, BatchSubmitScreen)


async def _push_confirm(app):
    job = next(j for j in sample_dashboard().batch_jobs if j.job_name == "rag-eval-sonnet-v3")
    await app.push_screen(ConfirmCancelScreen(job, "123456789012", "prod-ops", "us-east-1"))


async def _push_submit(app):
    await app.push_screen(BatchSubmitScreen(None))


@pytest.mark.parametrize("size", [NARROW, WIDE], ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("dialog", [_push_confirm, _push_submit], ids=["confirm-cancel", "batch-submit"])
async def test_a_notification_never_covers_a_dialogs_buttons(size, dialog):
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.pause()
        await dialog(app)
        await pilot.pause()
        for i in range(3):
            app.notify(f"Now watching profile prod-ops-{i} (us-east-1). A prompt run finished meanwhile with "
                       "a summary long enough to wrap onto a few lines.", title="Profile switched", timeout=30)
        await pilot.pause(0.5)
        toasts = [t.region for t in app.screen.query(Toast) if t.region.area]
        assert toasts, "no notification on screen"
        for button in app.screen.query(Button):
            for toast in toasts:
                assert not button.region.overlaps(toast), (button.id, button.region, toast)


async def test_the_profile_switcher_counts_in_words(tmp_path, monkeypatch):
    from textual.widgets import Static

    from tierconsole.tui.screens.profile_switcher import ProfileSwitcher

    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var))
    monkeypatch.chdir(tmp_path)
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        await app.push_screen(ProfileSwitcher("sandbox"))

        def note() -> str:
            return str(app.screen.query_one("#switcher-note", Static).render())
        assert await wait_for(pilot, lambda: note()[:1].isdigit())  # discovered in a worker thread
        note = note()
        assert note == "3 profiles", note  # the built-in sandbox, fleet and aws-template
