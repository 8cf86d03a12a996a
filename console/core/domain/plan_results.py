"""What a capacity plan says (:mod:`.planning` builds it): per-tier statistics, the recommendation, the
cost of each option and every assumption behind the figures, each JSON-able."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Mapping


@dataclass(frozen=True)
class Assumption:
    key: str
    value: Any
    text: str
    source: str


@dataclass(frozen=True)
class TierStats:
    """One tier (or ``all``): per-minute TPM distribution and totals over the window."""

    tier: str
    input_tpm: Mapping[str, float]  # p50, p90, p99, max, mean (input + cache write per minute)
    output_tpm: Mapping[str, float]
    input_tokens: float
    cache_write_tokens: float
    output_tokens: float
    invocations: float
    throttles: float
    throttled_minutes: int
    active_minutes: int  # minutes with any tokens or invocations
    token_share: float | None  # share of the model's tokens (input + cache write + output)
    invocation_share: float | None


@dataclass(frozen=True)
class Recommendation:
    percentile: float
    input_tpm_at_percentile: float
    output_tpm_at_percentile: float
    input_tpm: int  # recommended reservation: rounded up to the step, never below the minimum
    output_tpm: int
    input_step: int
    output_step: int
    input_minimum: int
    output_minimum: int
    input_raised_to_minimum: bool
    output_raised_to_minimum: bool
    minutes_over_input: int  # minutes whose traffic exceeds the recommended reservation
    minutes_over_output: int
    overflow_input_share: float | None  # share of input tokens above the reservation (billed at Standard)
    overflow_output_share: float | None
    current_input_tpm: int | None  # the profile's reservation for the model, if any
    current_output_tpm: int | None
    basis: str


@dataclass(frozen=True)
class CostOption:
    key: str  # reserved | standard | priority | flex | batch | current
    label: str
    monthly_usd: float | None  # None: not computable; ``note`` says why
    components: Mapping[str, float | None]
    basis: str
    note: str | None = None
    delta_vs_standard_usd: float | None = None  # monthly_usd - all-Standard's; negative is a saving


@dataclass(frozen=True)
class CapacityPlan:
    model_id: str
    start: datetime
    end: datetime  # exclusive
    minutes: int
    tier_split: bool  # False: only model totals were available
    tiers: tuple[TierStats, ...]  # per tier (empty without a split)
    all: TierStats  # every tier together, percentiles of the per-minute sum
    recommendation: Recommendation
    costs: tuple[CostOption, ...]
    assumptions: tuple[Assumption, ...]
    notes: tuple[str, ...] = ()

    def cost(self, key: str) -> CostOption | None:
        return next((c for c in self.costs if c.key == key), None)

    def assumption(self, key: str) -> Assumption | None:
        return next((a for a in self.assumptions if a.key == key), None)

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["start"], doc["end"] = self.start.isoformat(), self.end.isoformat()
        return doc


