"""Prices: the default table (us-east-1 Standard, USD per 1K tokens) and tier multipliers.

The profile can override both (``prices``, ``tier_price_multipliers``). Priority's premium is
commonly quoted as +75% and Flex's discount as 50%; neither is confirmed by an API, so both are
settings.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .routes import model_named_by

DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "amazon.nova-lite-v1:0": (0.00006, 0.00024),
    "amazon.nova-micro-v1:0": (0.000035, 0.00014),
    "amazon.nova-pro-v1:0": (0.0008, 0.0032),
    "openai.gpt-oss-20b-1:0": (0.00007, 0.0003),
    "openai.gpt-oss-120b-1:0": (0.00015, 0.0006),
    "anthropic.claude-sonnet-4-5": (0.003, 0.015),
}
DEFAULT_MULTIPLIERS = {"priority": 1.75, "default": 1.0, "flex": 0.5, "batch": 0.5, "reserved": 0.0}
CACHE_READ_DISCOUNT = {"anthropic": 0.9, "amazon": 0.75}


@dataclass(frozen=True)
class PriceTable:
    prices: Mapping[str, tuple[float, float]]
    multipliers: Mapping[str, float]

    @classmethod
    def from_profile(cls, prices: Mapping[str, Mapping[str, float]] | None = None,
                     multipliers: Mapping[str, float] | None = None) -> "PriceTable":
        table = dict(DEFAULT_PRICES)
        for model, p in (prices or {}).items():
            table[model] = (float(p["input"]), float(p["output"]))
        return cls(table, {**DEFAULT_MULTIPLIERS, **(multipliers or {})})

    def base(self, model_id: str) -> tuple[float, float] | None:
        """(input, output) per 1K tokens for a model id (or a system profile id or ARN: its model's price;
        an application profile is unpriced); prefix match handles dated versions."""
        model_id = model_named_by(model_id)
        if model_id in self.prices:
            return self.prices[model_id]
        bare = model_id.split(":")[0]
        for key in sorted(self.prices, key=len, reverse=True):
            if bare.startswith(key.split(":")[0]) or model_id.startswith(key):
                return self.prices[key]
        return None

    def cost(self, model_id: str, tier: str | None, input_tokens: int, output_tokens: int,
             cache_read_tokens: int = 0) -> float | None:
        """USD for one call at the tier that served it (reserved: 0 marginal cost). None if unpriced:
        no price for the model, or no multiplier for the tier (never guessed as Standard's)."""
        base = self.base(model_id)
        mult = self.multipliers.get(tier or "default")
        if base is None or mult is None:
            return None
        provider = model_named_by(model_id).split(".")[0]
        cache_discount = CACHE_READ_DISCOUNT.get(provider, 0.0)
        tokens_in = input_tokens + cache_read_tokens * (1.0 - cache_discount)
        return (tokens_in * base[0] + output_tokens * base[1]) / 1000.0 * mult
