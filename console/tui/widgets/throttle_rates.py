"""The throttle pane's rates: one sparkline per tier of throttles per minute, on a shared scale."""
from __future__ import annotations

from typing import Mapping

from rich.text import Text

from ...core.domain import format as fmt
from .pane import Body
from .render import Palette, fit, spark

TIER_ORDER = ("priority", "default", "flex", "reserved")
RATE_WIDTH = 15


class ThrottleRates(Body):
    """One line per tier: throttles per minute over the last 15 minutes, on a shared scale."""

    def build(self, width: int, palette: Palette) -> list[Text]:
        rates: Mapping[str, tuple[float, ...]] = dict(self.data)
        tiers = [t for t in TIER_ORDER if t in rates or t != "reserved"]
        tiers += sorted(t for t in rates if t not in TIER_ORDER)
        top = max((max(v, default=0) for v in rates.values()), default=0) or 1
        lines = []
        for tier in tiers:
            values = rates.get(tier, ())
            last = values[-1] if values else 0
            style = palette[tier] if tier in TIER_ORDER else palette["accent"]
            line = Text.assemble(
                fit(fmt.tier_label(tier), 9, palette["strong"]),
                spark(values, top, style, palette, RATE_WIDTH),
                fit(f"{last:.0f}/min", 9, palette["warn"] if last else palette["muted"], "right"),
                fit(f"{sum(values):.0f} in 15m", 12, palette["muted"], "right"),
            )
            lines.append(line)
        return lines
