"""The incident view opened from a throttle event: timeline and diagnosis drawn, export written."""
from __future__ import annotations

from textual.app import App

from tierconsole.core.domain import incident as inc
from tierconsole.core.domain.metricsplan import Answers
from tierconsole.tui.screens.incident import IncidentScreen
from tierconsole.tui.theming import builtin_themes

M = 1_800_000_000.0


def incident() -> inc.Incident:
    a = Answers()
    a.series[("EstimatedTPMQuotaUsage", "m", "default")] = {M - 60: 50_000, M: 97_000}
    a.series[("InvocationThrottles", "m", "default")] = {M: 12}
    a.series[("EstimatedTPMQuotaUsage", "m", "priority")] = {M: 1_000}
    return inc.build(a, "m", "Model M", {"priority", "default", "flex"}, 100_000, 100, M - 300, M)


class Host(App):
    CSS_PATH = ["../../console/tui/styles/incident.tcss"]


async def open_view(app, pilot, tmp_path) -> IncidentScreen:
    """The incident view of :func:`incident`, opened on the event at ``M + 5``, exporting to ``tmp_path``."""
    screen = IncidentScreen(incident(), highlight=M + 5, export_dir=tmp_path)
    await app.push_screen(screen)
    await pilot.pause()
    return screen


async def test_incident_view_shows_diagnosis_timeline_and_exports(tmp_path):
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_view(app, pilot, tmp_path)
        from textual.widgets import DataTable, Static
        diag = str(screen.query_one("#incident-diagnosis", Static).render())
        assert "Standard drew 98% of the shared TPM quota on Model M" in diag and "Priority was unaffected" in diag
        table = screen.query_one(DataTable)
        assert table.row_count == 6 and table.cursor_row == 5  # the highlighted minute is selected
        assert "0/12/0" in [str(c) for c in table.get_row_at(5)]  # throttles P/S/F
        await pilot.press("e")
        await pilot.pause()
        written = list(tmp_path.glob("incident-m-*.md"))
        assert len(written) == 1 and "**Diagnosis:** Standard drew 98%" in written[0].read_text()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, IncidentScreen)


async def test_minutes_without_data_show_a_dash_not_zero(tmp_path):
    """The window reaches back before the metrics began: those minutes are no data (—), not 0."""
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_view(app, pilot, tmp_path)
        from textual.widgets import DataTable
        table = screen.query_one(DataTable)
        quiet = [str(c) for c in table.get_row_at(0)]  # M - 300: no data point of any metric
        assert quiet[1:] and all(c == "—" for c in quiet[1:]), quiet
        busy = [str(c) for c in table.get_row_at(4)]  # M - 60: Standard 50k, nothing else: those are zeros
        assert "50.0k" in busy[2] and busy[1] == "0", busy
        await pilot.press("e")
        await pilot.pause()
        text = next(tmp_path.glob("incident-m-*.md")).read_text()
        assert "| — | — |" in text
