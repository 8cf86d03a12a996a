"""The plan screen draws a computed plan (it never fetches): fetching, plan and error states."""
from __future__ import annotations

import numpy as np
from textual.app import App
from textual.widgets import Static

from tierconsole.domain.planning import RESERVATION_PRICE_UNKNOWN, ReservationTerms, build_plan, empty_history, \
    pricing_from_profile
from tierconsole.domain.profile import Profile
from tierconsole.screens.plan import SECTIONS, PlanScreen

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
