"""The dashboard's cost view of a model (also ``plan``'s "spend now"): what its traffic costs per hour on
each tier at the last hour's rates, and what moving Standard traffic to Flex or Batch saves (pure)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

from .planning import (
    DEFAULT_MINUTES_PER_MONTH,
    TIER_ORDER,
    TOTAL_TIER,
)
from .pricing import PriceTable
from .tiers import Tier


@dataclass(frozen=True)
class TierSpend:
    tier: str
    input_tpm: float
    output_tpm: float
    usd_per_hour: float | None  # None: the model has no price; reserved: 0 (fixed monthly fee)
    basis: str


@dataclass(frozen=True)
class TierMove:
    model_id: str
    from_tier: str
    to_tier: str
    input_tpm: float
    output_tpm: float
    usd_per_hour_before: float | None
    usd_per_hour_after: float | None
    saving_per_hour: float | None  # positive: the move saves money
    saving_per_month: float | None
    note: str | None = None
    assumptions: Mapping[str, Any] = field(default_factory=dict)


def _tier_key(tier: str) -> str:
    key = tier.strip().lower()
    return key if key in ("batch", TOTAL_TIER) else Tier.parse(tier).value


def _multiplier(prices: PriceTable, tier: str) -> float:
    """The tier's price multiplier; model totals (no per-tier split) are priced at Standard."""
    return prices.multipliers.get("default" if tier == TOTAL_TIER else tier, 1.0)


def _per_hour(prices: PriceTable, model_id: str, tier: str, input_tpm: float, output_tpm: float) -> float | None:
    base = prices.base(model_id)
    if base is None:
        return None
    if tier == "reserved":
        return 0.0
    return (input_tpm * base[0] + output_tpm * base[1]) / 1000.0 * _multiplier(prices, tier) * 60.0


def spend_per_hour(model_id: str, rates: Mapping[str, tuple[float, float]],
                   prices: PriceTable) -> tuple[TierSpend, ...]:
    """USD per hour per tier if each tier's current (input TPM, output TPM) went on for an hour."""
    out = []
    for tier, (i, o) in rates.items():
        key = _tier_key(tier)
        basis = ("reserved: a fixed monthly fee, no per-token cost" if key == "reserved" else
                 f"(input TPM × input price + output TPM × output price) / 1000 × {key} multiplier "
                 f"{_multiplier(prices, key):g} × 60")
        if key == TOTAL_TIER:
            basis = ("no per-tier split: every token at Standard prices (Flex, Priority or Reserved traffic in it "
                     "would cost less, more or nothing per token); " + basis)
        out.append(TierSpend(key, float(i), float(o), _per_hour(prices, model_id, key, i, o), basis))
    return tuple(out)


def tier_move_saving(model_id: str, input_tpm: float, output_tpm: float, from_tier: str, to_tier: str,
                     prices: PriceTable, minutes_per_month: int = DEFAULT_MINUTES_PER_MONTH) -> TierMove:
    """What moving a workload of this many TPM from one tier to another saves per hour and per month."""
    src, dst = _tier_key(from_tier), _tier_key(to_tier)
    if "reserved" in (src, dst):
        raise ValueError("moving onto or off a reservation is a capacity decision: use the capacity plan")
    before = _per_hour(prices, model_id, src, input_tpm, output_tpm)
    after = _per_hour(prices, model_id, dst, input_tpm, output_tpm)
    saving = before - after if before is not None and after is not None else None
    notes = {"flex": "Flex is only for work that can wait minutes", "batch": "Batch results take 24 h to 7 days",
             "priority": None, "default": None, TOTAL_TIER: None}
    note = "no price for this model" if before is None else notes.get(dst)
    return TierMove(model_id, src, dst, float(input_tpm), float(output_tpm), before, after, saving,
                    saving * minutes_per_month / 60.0 if saving is not None else None, note,
                    {"multipliers": {src: _multiplier(prices, src), dst: _multiplier(prices, dst)},
                     "minutes_per_month": minutes_per_month,
                     "prices_per_1k": prices.base(model_id),
                     "rates": "current rates held for the whole hour / month"})


@dataclass(frozen=True)
class CostView:
    """Spend now and what moving Standard traffic would save: one use case for the plan screen and ``plan``.

    ``spends``: each tier's $/hour at its mean rate over the last ``minutes`` of history (tier order);
    ``total_per_hour`` their sum (None when the model has no price). ``moves``: Standard (or the model
    totals, without a split) to Flex and to Batch, each starting from the Standard row of ``spends``:
    ``usd_per_hour_after = usd_per_hour_before - saving_per_hour``, and per month × ``minutes_per_month`` / 60.
    """

    model_id: str
    minutes: int
    minutes_per_month: int
    spends: tuple[TierSpend, ...]
    total_per_hour: float | None
    moves: tuple[TierMove, ...]


def cost_view(history: pd.DataFrame, model_id: str, prices: PriceTable, *, minutes: int = 60,
              minutes_per_month: int = DEFAULT_MINUTES_PER_MONTH) -> CostView:
    rates = current_rates(history, minutes)
    order = {t: i for i, t in enumerate((*TIER_ORDER, TOTAL_TIER))}
    rates = dict(sorted(rates.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
    spends = spend_per_hour(model_id, rates, prices)
    src = "default" if "default" in rates else (TOTAL_TIER if TOTAL_TIER in rates else None)
    moves = tuple(tier_move_saving(model_id, *rates[src], src, to, prices, minutes_per_month)
                  for to in ("flex", "batch")) if src else ()
    costs = [sp.usd_per_hour for sp in spends]
    known = [c for c in costs if c is not None]
    total = sum(known) if costs and len(known) == len(costs) else (0.0 if not costs else None)
    return CostView(model_id, minutes, minutes_per_month, spends, total, moves)


__all__ = ["TierSpend", "TierMove", "spend_per_hour", "tier_move_saving", "CostView", "cost_view", "current_rates"]


def current_rates(history: pd.DataFrame, minutes: int = 60) -> dict[str, tuple[float, float]]:
    """Per tier, the mean (input TPM incl. cache writes, output TPM) over the last ``minutes`` of history."""
    if history is None or history.empty:
        return {}
    recent = history.tail(minutes)
    out: dict[str, tuple[float, float]] = {}
    for tier in sorted({t for t, _ in recent.columns}):
        cols = recent[tier]
        inp = float((cols.get("input", 0) + cols.get("cache_write", 0)).mean()) if "input" in cols else 0.0
        outp = float(cols["output"].mean()) if "output" in cols else 0.0
        if inp or outp:
            out[tier] = (inp, outp)
    return out
