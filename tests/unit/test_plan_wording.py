"""The plan's words (newcomer defect 13): proper plurals, no negative zero, the operator's tier names in the
Assumptions table, and a rule line under each money table saying what it is computed from."""
from __future__ import annotations

import re

from rich.console import Console

from tests.unit.test_planning import NOVA, PRICING, UNKNOWN, history
from tierconsole.core.domain.costview import cost_view
from tierconsole.core.domain.planning import build_plan
from tierconsole.core.domain.pricing import PriceTable
from tierconsole.present.plan import cost_view_renderables, plan_renderables, usd, usd_hourly


def rendered(renderable) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def one_busy_minute(minutes: int = 1440, tokens: float = 900.0):
    """Traffic in the last minute only, at Standard (and a quiet Flex series): a tiny monthly cost."""
    zeros = [0.0] * minutes
    busy = zeros[:-1] + [tokens]
    calls = zeros[:-1] + [3.0]
    return history({"default": {"input": busy, "output": busy, "invocations": calls, "throttles": zeros},
                    "flex": {"input": zeros, "output": zeros, "invocations": zeros, "throttles": zeros}})


def plan_text(h) -> str:
    plan = build_plan(h, model_id=NOVA, pricing=PRICING, reservation=UNKNOWN, percentile=90.0)
    return rendered(plan_renderables(plan))


def test_money_is_never_negative_zero():
    for value in (-0.0, -0.001, -0.004999):
        assert usd(value) == "$0.00", value
    assert usd(-0.005) == "-$0.01" and usd(-1.5) == "-$1.50"
    for value in (-0.0, -0.00004):
        assert usd_hourly(value) == "$0.0000", value
    text = plan_text(one_busy_minute())
    assert "-$0.00" not in text and "-$0.0000" not in text, text


def test_one_minute_is_singular():
    text = plan_text(one_busy_minute())
    assert "over the 1 minute with traffic" in text, text
    assert "1 minutes" not in text and "minute(s)" not in text and "day(s)" not in text


def test_the_assumptions_table_says_tiers_in_the_operators_words():
    text = plan_text(one_busy_minute())
    table = text[text.index("Assumptions"):]
    for raw in ('["default"', '{"default"', '"flex"', "default:", " default "):
        assert raw not in table, (raw, table)
    tiers = next(line for line in table.splitlines() if line.strip().startswith("tiers"))
    assert "Standard, Flex" in tiers, tiers
    overflow = next(line for line in table.splitlines() if line.strip().startswith("overflow_billing"))
    assert "Standard" in overflow
    multipliers = next(line for line in table.splitlines() if line.strip().startswith("multipliers"))
    assert re.search(r"Standard 1×.*Flex 0\.5×.*Batch 0\.25×", multipliers), multipliers


def test_monthly_costs_and_spend_now_each_say_what_they_are_computed_from():
    h = one_busy_minute()
    text = plan_text(h)
    assert "computed from the average of the window's 1,440 minutes" in text, text
    now = rendered(cost_view_renderables(cost_view(h, NOVA, PriceTable.from_profile())))
    assert "at the rate of the last 60 minutes, not the window's average" in now, now
