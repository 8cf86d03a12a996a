"""The prompt lab's tier choices, as its picker, rows and history say them."""
from __future__ import annotations

from ....core.domain import format as fmt

#: (label, value) of the tier picker; values are what :class:`PromptRequest` takes.
TIER_OPTIONS: list[tuple[str, str]] = [
    ("Standard", "standard"), ("Priority", "priority"), ("Flex", "flex"), ("Reserved", "reserved"),
    ("All tiers side by side", "all"), ("Escalate: Standard → Priority", "escalate"),
]

#: The tiers "all" sends, in display order (the same set as the core's ``ALL_TIERS``).
ALL_TIERS_ORDER = ("reserved", "priority", "default", "flex")


def wire_tier(tier: str) -> str:
    return "default" if tier == "standard" else tier

def first_tiers(tier: str) -> tuple[str, ...]:
    """The rows a run starts with (escalate adds Priority only after a Standard throttle)."""
    if tier == "all":
        return ALL_TIERS_ORDER
    if tier == "escalate":
        return ("default",)
    return (wire_tier(tier),)

def choice_label(tier: str | None) -> str:
    """A tier choice as the picker says it: ``default``/``standard`` → Standard, ``all`` → all tiers."""
    return {"all": "all tiers", "escalate": "escalate"}.get(tier or "", fmt.tier_label(tier or "?"))
