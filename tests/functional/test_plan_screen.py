"""The plan screen draws a computed plan (it never fetches): fetching, plan and error states."""
from __future__ import annotations

import numpy as np
import pytest
from textual.app import App
from textual.widgets import Static

from tierconsole.core.domain.planning import (
    RESERVATION_PRICE_UNKNOWN, ReservationTerms, build_plan, empty_history, pricing_from_profile,
)
from tierconsole.core.domain.costview import cost_view
from tierconsole.core.domain.pricing import PriceTable
from tierconsole.core.domain.profile import Profile
from tierconsole.tui.screens.plan import SECTIONS, PlanScreen

NOVA = "amazon.nova-lite-v1:0"


def a_plan():
    h = empty_history("2026-01-01", 600, ["default", "flex"])
    rng = np.random.default_rng(0)
    for tier in ("default", "flex"):
        h[(tier, "input")] = rng.integers(0, 150_000, 600).astype(float)
        h[(tier, "output")] = rng.integers(0, 15_000, 600).astype(float)
    return build_plan(h, model_id=NOVA, pricing=pricing_from_profile(Profile(name="t"), NOVA),
                      reservation=ReservationTerms(None, RESERVATION_PRICE_UNKNOWN))


def text_of(widget) -> str:
    """The widget's rendered lines as plain text."""
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


async def test_plan_screen_states():
    app = App()
    async with app.run_test(size=(180, 60)) as pilot:
        screen = PlanScreen(NOVA)
        await app.push_screen(screen)
        await pilot.pause()
        status = screen.query_one("#plan-status", Static)
        assert "fetching" in text_of(status)
        assert not any(screen.query_one(f"#plan-{n}", Static).display for n in SECTIONS)

        plan = a_plan()
        screen.show_plan(plan)
        await pilot.pause()
        assert all(screen.query_one(f"#plan-{n}", Static).display for n in SECTIONS)
        assert NOVA in text_of(status)
        text = "\n".join(text_of(screen.query_one(f"#plan-{n}", Static)) for n in SECTIONS)
        for expected in ("Per-minute TPM", "Reservation recommendation", "All Standard", "Assumptions",
                         "reservation price unknown", f"{plan.recommendation.input_tpm:,}"):
            assert expected in text, expected

        screen.show_error("endpoint down: cannot connect [x]")
        await pilot.pause()
        assert "endpoint down: cannot connect [x]" in text_of(status)

        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, PlanScreen)


def a_busy_plan():
    """14 days of a large, bursty model: TPM in the millions, traffic in about a third of the minutes."""
    n = 20_160
    tiers = ["reserved", "priority", "default", "flex"]
    h = empty_history("2026-01-01", n, tiers)
    rng = np.random.default_rng(1)
    for tier in tiers:
        busy = rng.random(n) < 0.3
        h[(tier, "input")] = rng.integers(0, 2_500_000, n) * busy.astype(float)
        h[(tier, "output")] = rng.integers(0, 250_000, n) * busy.astype(float)
        h[(tier, "invocations")] = 40.0 * busy
        h[(tier, "throttles")] = (rng.random(n) < 0.01).astype(float)
    profile = Profile(name="t")
    plan = build_plan(h, model_id=NOVA, pricing=pricing_from_profile(profile, NOVA),
                      reservation=ReservationTerms(2.5, "contract"))
    return plan, cost_view(h, NOVA, PriceTable.from_profile())


async def test_plan_columns_fit_at_80x24_and_money_has_one_unit_per_table():
    plan, view = a_busy_plan()
    app = App()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = PlanScreen(NOVA)
        await app.push_screen(screen)
        screen.show_plan(plan)
        screen.show_spend(view)
        await pilot.pause()
        texts = {}
        for name in ("spend", *SECTIONS):
            widget = screen.query_one(f"#plan-{name}", Static)
            assert widget.display and widget.size.width <= 80
            texts[name] = text_of(widget)
            assert "…" not in texts[name], f"{name} cut at 80 columns:\n{texts[name]}"
        # every figure is there in full
        for s in (*plan.tiers, plan.all):
            for k in ("p50", "p90", "p99", "max"):
                assert f"{s.input_tpm[k]:,.0f}" in texts["stats"] and f"{s.output_tpm[k]:,.0f}" in texts["stats"]
        assert f"over the {plan.all.active_minutes:,} minutes with traffic (of 20,160)" in texts["stats"]
        # $ and one unit per table: monthly costs in $ per month; spend now and the what-ifs in $ per hour
        assert "$ per month" in texts["costs"] and "per hour" not in texts["costs"]
        spend = texts["spend"]
        assert "Spend now ($ per hour" in spend and "What if Standard moved ($ per hour)" in spend
        assert "/h" not in spend and "/month" not in spend
        standard = next(sp for sp in view.spends if sp.tier == "default")
        std_line = next(line for line in spend.splitlines() if line.strip().startswith("Standard "))
        assert std_line.split()[-1] == f"${standard.usd_per_hour:,.4f}"
        move_line = next(line for line in spend.splitlines() if "Standard → Flex" in line)
        now, after, saves = move_line.split()[-3:]
        assert now == f"${standard.usd_per_hour:,.4f}"  # the what-if starts from the spend-now figure
        assert float(now[1:].replace(",", "")) - float(after[1:].replace(",", "")) == \
            pytest.approx(float(saves[1:].replace(",", "")), abs=2e-4)
