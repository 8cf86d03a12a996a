"""Pilot: the quota pane lists every quota a model's route draws on and marks the binding one with a glyph
(so it shows without colour), and names it in the subtitle when it is over the alert threshold."""
from __future__ import annotations

import dataclasses

from tierconsole.core.domain.sample import NOVA_LITE, sample_dashboard
from tierconsole.core.domain.views import ModelQuotaView, QuotaUseView
from tierconsole.tui.app import TierConsoleApp
from tierconsole.tui.widgets.quota import BINDING_GLYPH, QuotaBody, QuotaPane

WIDE = (120, 40)


def use(name, kind, measure, period, value, used, source="AWS CloudWatch"):
    return QuotaUseView("L-TEST0001", name, kind, measure, period, value, used,
                        None if used is None else used / value, source if used is not None else "")


def data_with(route_row: ModelQuotaView):
    data = sample_dashboard()
    return dataclasses.replace(data, quotas=(route_row,))


def lines_of(body) -> list[str]:
    return [body.render_line(y).text for y in range(body.size.height)]


async def test_the_pane_marks_the_binding_quota_of_each_route(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    uses = (use("Cross-region model inference tokens per minute for Amazon Nova Lite", "cross_region", "tokens", 60,
                400_000, 160_000),
            use("Cross-region model inference requests per minute for Amazon Nova Lite", "cross_region", "requests",
                60, 400, 384),
            use("Model invocation max tokens per day for Amazon Nova Lite", "model_daily", "tokens", 86_400,
                576_000_000, 69_120_000, "AWS utilization report"),
            use("Cross-Model Max Tokens Per Day", "cross_model_daily", "tokens", 86_400, 2e9, None))
    row = ModelQuotaView(NOVA_LITE, "Amazon Nova Lite", 400_000, 400, {"default": 160_000}, rpm_used=384,
                         route="cross-region", quotas=uses, binding=uses[1],
                         binding_text="cross-region RPM quota of Amazon Nova Lite (us-east-1), 96% used")
    app = TierConsoleApp(data=data_with(row))
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        assert app.no_color
        quota_line = next(t for t in lines_of(app.screen.query_one(QuotaBody)) if "cross-region" in t)
        assert "TPM 40%·" + BINDING_GLYPH + "RPM 96%·day 12%·account day —" in quota_line, quota_line
        assert quota_line.count(BINDING_GLYPH) == 1
        assert app.screen.query_one(QuotaPane).border_subtitle == \
            "1 model · 1 over 80% · binds: Amazon Nova Lite cross-region RPM"
        # the binding quota moves: the pane redraws the mark on the new one
        moved = dataclasses.replace(row, binding=uses[0])
        app.show_data(data_with(moved))
        await pilot.pause()
        quota_line = next(t for t in lines_of(app.screen.query_one(QuotaBody)) if "cross-region" in t)
        assert BINDING_GLYPH + "TPM 40%·RPM 96%" in quota_line and quota_line.count(BINDING_GLYPH) == 1


async def test_a_model_with_nothing_used_marks_nothing():
    uses = (use("On-demand model inference tokens per minute for Amazon Nova Lite", "on_demand", "tokens", 60,
                400_000, 0),)
    row = ModelQuotaView(NOVA_LITE, "Amazon Nova Lite", 400_000, 0, {}, quotas=uses)
    app = TierConsoleApp(data=data_with(row))
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        text = "\n".join(lines_of(app.screen.query_one(QuotaBody)))
        assert "on-demand  TPM 0%" in text and BINDING_GLYPH not in text


async def test_an_estimated_overrun_is_approximate_and_only_a_measured_one_is_crossed(monkeypatch):
    """The trailing minute spreads the previous minute evenly: an early spike can read 117% while no minute was
    over the quota. That reads ``~117%`` (approximate, explained in help), never ✖; a measured minute over is ✖."""
    monkeypatch.setenv("NO_COLOR", "1")
    row = ModelQuotaView(NOVA_LITE, "Amazon Nova Lite", 100_000, 100, {"default": 117_000}, rpm_used=10,
                         tpm_peak_minute=95_000, tpm_estimated=True)
    app = TierConsoleApp(data=data_with(row))
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        line = next(t for t in lines_of(app.screen.query_one(QuotaBody)) if t.startswith("Amazon Nova Lite"))
        assert "~117%" in line and "✖" not in line, line
        app.show_data(data_with(dataclasses.replace(row, tpm_peak_minute=104_000)))
        await pilot.pause()
        line = next(t for t in lines_of(app.screen.query_one(QuotaBody)) if t.startswith("Amazon Nova Lite"))
        assert "✖117%" in line, line
        app.show_data(data_with(dataclasses.replace(row, tpm_by_tier={"default": 85_000})))
        await pilot.pause()
        line = next(t for t in lines_of(app.screen.query_one(QuotaBody)) if t.startswith("Amazon Nova Lite"))
        assert "▲~85%" in line, line  # still marked over the alert threshold, and approximate
        await pilot.press("question_mark")
        await pilot.pause()
        from textual.widgets import Static
        legend = str(app.screen.query_one("#help-marks", Static).render())
        assert "~" in legend and "estimate" in legend and "✖" in legend
