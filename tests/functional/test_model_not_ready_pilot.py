"""A ``ModelNotReadyException`` (HTTP 429, as a throttle is) of the console's own prompt, through the real TUI:
shown as itself in the lab and in the throttle feed, no escalation to Priority, no throttle counted."""
from __future__ import annotations

from tierconsole.sandbox.faults import parse_faults
from tests.conftest import NOVA
from tests.functional.test_actions_pilot import (WIDE, fill_lab, isolated, live_app, open_lab, ready,  # noqa: F401
                                                 row_text, send_and_wait, wait_for)


async def test_model_not_ready_is_shown_as_itself_and_is_not_a_throttle(isolated):  # noqa: F811
    app = live_app(speed=5.0)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        app.source.sandbox_thread.sandbox.faults.rules = parse_faults("notready#1")
        lab = await open_lab(pilot)
        await fill_lab(pilot, lab, "Escalate me", tier="escalate", max_tokens="50")
        await send_and_wait(pilot, lab)
        assert set(lab.results) == {"default"}, "a model that is not ready is no reason to pay for Priority"
        assert lab.results["default"].error == "ModelNotReadyException"
        assert row_text(lab, "default")[2] == "ModelNotReadyException"
        assert await wait_for(pilot, lambda: any(
            e.source == "console" and e.model_id == NOVA and e.error == "ModelNotReadyException"
            for e in app.dashboard.latest.throttle_events), timeout=20)
        latest = app.dashboard.latest
        assert not any(e.error == "ThrottlingException" for e in latest.throttle_events)
        assert sum(sum(v) for v in latest.throttle_rates.values()) == 0, "no throttle counted"
        await app.close_source()
