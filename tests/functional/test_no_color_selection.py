"""NO_COLOR: in every list with a selection the selected row is told apart without colour (reverse video),
not by a background grey a shade off its neighbours'."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable, DirectoryTree, OptionList

from tierconsole.core.domain.sample import sample_dashboard
from tierconsole.tui.app import TierConsoleApp
from tierconsole.tui.screens.pickers import Picker
from tierconsole.tui.widgets.batch import BatchPane

WIDE = (120, 40)


@pytest.fixture(params=[True, False], ids=["no-colour", "colour"])
def no_color(request, monkeypatch):
    if request.param:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    return request.param


def reversed_cells(strip) -> tuple[int, int]:
    """(cells drawn in reverse video, cells with text) of a rendered line."""
    rev = total = 0
    for seg in strip:
        cells = len(seg.text.strip())
        total += cells
        if seg.style is not None and seg.style.reverse:
            rev += cells
    return rev, total


def marked(strip) -> bool:
    """Told apart without colour: the whole line in reverse video. (Not a ▶ marker: the batch pane
    already draws ▶ for a running job.)"""
    rev, total = reversed_cells(strip)
    return total > 0 and rev == total


async def test_selected_batch_job_is_visible_without_colour(no_color):
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        pane = app.screen.query_one(BatchPane)
        body = pane.body
        for job in pane.ordered[:3]:  # an active job (three lines) and finished ones
            pane.select_job(job.job_arn)
            await pilot.pause()
            start, n = body.rows[job.job_arn]
            top = round(body.scroll_y)
            lines = [body.render_line(start - top + i) for i in range(n)]
            if no_color:
                assert all(marked(line) for line in lines), [line.text for line in lines]
            others = [body.render_line(y) for y in range(body.size.height)
                      if not start <= y + top < start + n and body.render_line(y).text.strip()]
            assert others and not any(marked(line) for line in others)


async def test_highlighted_option_is_visible_without_colour(no_color):
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        await app.push_screen(Picker("Model", [("a", "first model"), ("b", "second model"), ("c", "third model")]))
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        options.highlighted = 1
        await pilot.pause()
        lines = [options.render_line(y) for y in range(3)]
        assert "second" in lines[1].text
        if no_color:
            assert marked(lines[1]), lines[1].text
        assert not marked(lines[0]) and not marked(lines[2])


async def test_incident_timeline_cursor_is_visible_without_colour(no_color):
    from tierconsole.tui.screens.incident import IncidentScreen
    from tests.functional.test_incident_view import M, incident

    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        await app.push_screen(IncidentScreen(incident(), highlight=M + 5))
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        y = table.cursor_row + 1  # under the header line
        if no_color:
            assert marked(table.render_line(y)), table.render_line(y).text
        assert not marked(table.render_line(y - 1))


async def test_file_browser_cursor_is_visible_without_colour(no_color, tmp_path, monkeypatch):
    from tierconsole.tui.screens.batch_submit import BatchSubmitScreen

    for name in ("a.jsonl", "b.jsonl", "c.jsonl"):
        (tmp_path / name).write_text("{}\n")
    monkeypatch.chdir(tmp_path)
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, BatchSubmitScreen)
        await pilot.press("ctrl+o")
        await pilot.pause()
        tree = app.screen.query_one(DirectoryTree)
        tree.focus()
        await pilot.pause(0.3)
        tree.cursor_line = 1
        await pilot.pause()
        line = tree.render_line(1)
        assert "a.jsonl" in line.text
        if no_color:
            assert marked(line), line.text
        assert not marked(tree.render_line(2))


async def test_a_drop_down_choice_is_visible_without_colour(no_color):
    """The prompt lab's tier select, opened: the option under the cursor is reverse video."""
    from textual.widgets import Select
    from textual.widgets._select import SelectOverlay

    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        select = app.screen.query_one("#lab-tier", Select)
        select.focus()
        await pilot.press("enter")  # open the drop-down
        await pilot.pause()
        overlay = select.query_one(SelectOverlay)
        assert overlay.display and overlay.highlighted is not None
        lines = [overlay.render_line(y) for y in range(overlay.size.height)]
        chosen = [line for line in lines if line.text.strip() and marked(line)]
        if no_color:
            assert len(chosen) == 1, [line.text for line in lines]
        others = [line for line in lines if line.text.strip() and not marked(line)]
        assert others
