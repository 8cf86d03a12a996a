"""Bedrock service tiers: names as operators say them and as the wire carries them."""
from __future__ import annotations

from enum import Enum


class Tier(str, Enum):
    """A service tier by its wire value (`serviceTier.type`, `X-Amzn-Bedrock-Service-Tier`)."""

    RESERVED = "reserved"
    PRIORITY = "priority"
    STANDARD = "default"
    FLEX = "flex"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def on_demand(self) -> bool:
        """Priority, Standard and Flex share one on-demand quota per model."""
        return self is not Tier.RESERVED

    @classmethod
    def parse(cls, value: str) -> "Tier":
        """Accept the wire value or the operator's name ('standard' is the wire's 'default')."""
        key = value.strip().lower()
        tier = _ALIASES.get(key)
        if tier is None:
            valid = ", ".join(sorted(_ALIASES))
            raise ValueError(f"unknown tier {value!r}; expected one of: {valid}")
        return tier


_LABELS = {
    Tier.RESERVED: "Reserved",
    Tier.PRIORITY: "Priority",
    Tier.STANDARD: "Standard",
    Tier.FLEX: "Flex",
}
_ALIASES = {
    "reserved": Tier.RESERVED,
    "priority": Tier.PRIORITY,
    "default": Tier.STANDARD,
    "standard": Tier.STANDARD,
    "flex": Tier.FLEX,
}

#: Queue order for the shared on-demand quota: lower is served first.
QUEUE_RANK = {Tier.PRIORITY: 0, Tier.STANDARD: 1, Tier.FLEX: 2}
ON_DEMAND_TIERS = (Tier.PRIORITY, Tier.STANDARD, Tier.FLEX)
ALL_TIERS = (Tier.RESERVED, Tier.PRIORITY, Tier.STANDARD, Tier.FLEX)
