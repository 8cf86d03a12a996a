"""Capacity and cost planning from one model's per-minute history (pure: pandas/numpy, no I/O).

History format (what :mod:`tierconsole.core.aws.history` returns, and what :func:`build_plan` takes):
a DataFrame indexed by minute (a UTC ``DatetimeIndex`` at exactly 1-minute spacing, every minute
of the window present: quiet minutes are rows of zeros) with two-level columns ``(tier, field)``.
``tier`` is a ``ServiceTier`` wire value (``reserved``, ``priority``, ``default``, ``flex``), or
``total`` alone when only the model totals exist (no per-tier split). ``field`` is one of
:data:`FIELDS`: per-minute sums of ``InputTokenCount``, ``CacheWriteInputTokenCount``,
``OutputTokenCount``, ``Invocations`` and ``InvocationThrottles``.

Definitions (every one is also returned as an :class:`Assumption` next to the figures):

* input TPM of a minute = input tokens + cache-write tokens (what reserved input TPM counts);
  output TPM = output tokens. Cache reads are left out (they count against neither).
* Percentiles (and max and mean): :func:`numpy.percentile` with ``method="linear"`` (Hyndman &
  Fan type 7, the default of numpy and of :meth:`pandas.Series.quantile`) over the minutes *with
  traffic* (any tokens or invocations; of the tier, or of the model for "all tiers" and the
  recommendation). Idle minutes are left out, so a bursty model's P90 is the size of its bursts,
  not 0; how many minutes had traffic is returned with the figures.
* Monthly = cost over the window × minutes per month / minutes in the window.
* Reserved = reserved TPM × price per 1K TPM per month (one price for input and output TPM), plus
  the tokens above the reservation in each minute billed at Standard.
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import Final, Iterable, Sequence

import numpy as np
import pandas as pd

from .format import plural
from .plan_inputs import (  # re-exported: the plan's inputs are part of its interface
    RESERVATION_PRICE_UNKNOWN, Pricing, ReservationTerms, pricing_from_profile, reservation_terms,
)
from .plan_results import Assumption, CapacityPlan, CostOption, Recommendation, TierStats
from .profile import Profile

FIELDS = ("input", "cache_write", "output", "invocations", "throttles")
TOTAL_TIER = "total"  # the only tier of a history without a per-tier split
TIER_ORDER = ("reserved", "priority", "default", "flex")
PERCENTILES = (50, 90, 99)
PERCENTILE_METHOD: Final = "linear"
MIN_INPUT_TPM = 100_000
MIN_OUTPUT_TPM = 10_000
INPUT_STEP = 10_000
OUTPUT_STEP = 1_000
MINUTES_PER_MONTH = {"730h": 43_800, "30d": 43_200}
DEFAULT_MINUTES_PER_MONTH = MINUTES_PER_MONTH["730h"]


# ---------------------------------------------------------------------- history frames

def has_traffic(frame: pd.DataFrame) -> bool:
    """Whether a history holds any datapoint at all (tokens, invocations or throttles): CloudWatch publishes
    nothing for a quiet minute, so a model never used in the window is all zeros."""
    return bool(len(frame)) and bool((frame.to_numpy() != 0).any())


def empty_history(start: datetime | pd.Timestamp, minutes: int, tiers: Sequence[str]) -> pd.DataFrame:
    """A zero history of ``minutes`` rows from ``start`` (UTC) with every field of every tier."""
    ts = pd.Timestamp(start)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    index = pd.date_range(ts, periods=minutes, freq="min", name="minute")
    columns = pd.MultiIndex.from_product([list(tiers), list(FIELDS)], names=["tier", "field"])
    return pd.DataFrame(0.0, index=index, columns=columns)


def _check_history(history: pd.DataFrame) -> list[str]:
    """The history's tiers in display order; raises ValueError if it is not in the documented shape."""
    if not isinstance(history.index, pd.DatetimeIndex):
        raise ValueError("history must be indexed by minute (a DatetimeIndex)")
    if len(history) == 0:
        raise ValueError("history has no minutes")
    if len(history) > 1 and not (history.index[1:] - history.index[:-1] == pd.Timedelta(minutes=1)).all():
        raise ValueError("history must have one row per minute, every minute of the window present")
    if not isinstance(history.columns, pd.MultiIndex) or history.columns.nlevels != 2:
        raise ValueError("history columns must be (tier, field) pairs")
    tiers = list(dict.fromkeys(history.columns.get_level_values(0)))
    for tier in tiers:
        missing = [f for f in FIELDS if (tier, f) not in history.columns]
        if missing:
            raise ValueError(f"history tier {tier!r} lacks field(s): {', '.join(missing)}")
    if len(tiers) > 1 and TOTAL_TIER in tiers:
        raise ValueError(f"a history has either per-tier columns or {TOTAL_TIER!r}, not both")
    known = [t for t in TIER_ORDER if t in tiers]
    return known + sorted(t for t in tiers if t not in TIER_ORDER)


# ---------------------------------------------------------------------- statistics

def tpm_percentiles(values: np.ndarray | pd.Series, percentiles: Iterable[float] = PERCENTILES) -> dict[str, float]:
    """``p<q>`` for each percentile, plus ``max`` and ``mean``, of per-minute values (all 0 when there are none)."""
    arr = np.asarray(values, dtype=float)
    qs = list(percentiles)
    if arr.size == 0:
        return {**{_pkey(q): 0.0 for q in qs}, "max": 0.0, "mean": 0.0}
    out = {_pkey(q): float(v) for q, v in zip(qs, np.percentile(arr, qs, method=PERCENTILE_METHOD))}
    out["max"] = float(arr.max())
    out["mean"] = float(arr.mean())
    return out


def with_traffic(f: pd.DataFrame) -> np.ndarray:
    """Per minute: whether it had traffic (any tokens or invocations). Percentiles are taken over these."""
    return np.asarray((f[["input", "cache_write", "output", "invocations"]].to_numpy() > 0).any(axis=1), dtype=bool)


def _pkey(q: float) -> str:
    return f"p{q:g}"


def _frame_of(history: pd.DataFrame, tiers: Sequence[str]) -> pd.DataFrame:
    """Fields summed over ``tiers``, one column per field."""
    return sum((history[t][list(FIELDS)] for t in tiers[1:]), history[tiers[0]][list(FIELDS)].copy())


def _stats(tier: str, f: pd.DataFrame, all_tokens: float, all_calls: float) -> TierStats:
    input_tpm = (f["input"] + f["cache_write"]).to_numpy(float)
    tokens = float(input_tpm.sum() + f["output"].sum())
    active = with_traffic(f)
    return TierStats(
        tier=tier, input_tpm=tpm_percentiles(input_tpm[active]),
        output_tpm=tpm_percentiles(f["output"].to_numpy(float)[active]),
        input_tokens=float(f["input"].sum()), cache_write_tokens=float(f["cache_write"].sum()),
        output_tokens=float(f["output"].sum()), invocations=float(f["invocations"].sum()),
        throttles=float(f["throttles"].sum()), throttled_minutes=int((f["throttles"] > 0).sum()),
        active_minutes=int(active.sum()),
        token_share=tokens / all_tokens if all_tokens else None,
        invocation_share=float(f["invocations"].sum()) / all_calls if all_calls else None)


def round_up(value: float, step: int) -> int:
    """Up to a multiple of ``step`` (interpolation noise such as 30000.000000004 does not add a step)."""
    return int(math.ceil(round(value / step, 9)) * step)


# ---------------------------------------------------------------------- the plan

def build_plan(history: pd.DataFrame, *, model_id: str, pricing: Pricing | None, reservation: ReservationTerms,
               percentile: float = 90.0, minutes_per_month: int = DEFAULT_MINUTES_PER_MONTH,
               input_step: int = INPUT_STEP, output_step: int = OUTPUT_STEP) -> CapacityPlan:
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    if minutes_per_month <= 0 or input_step <= 0 or output_step <= 0:
        raise ValueError("minutes_per_month and the steps must be positive")
    tiers = _check_history(history)
    split = tiers != [TOTAL_TIER]
    total = _frame_of(history, tiers)
    n = len(history)
    all_tokens = float(total[["input", "cache_write", "output"]].to_numpy().sum())
    all_calls = float(total["invocations"].sum())
    tier_stats = tuple(_stats(t, history[t], all_tokens, all_calls) for t in tiers) if split else ()
    all_stats = _stats("all", total, all_tokens, all_calls)

    in_m = (total["input"] + total["cache_write"]).to_numpy(float)
    out_m = total["output"].to_numpy(float)
    rec = _recommend(in_m, out_m, with_traffic(total), percentile, input_step, output_step, reservation)
    scale = minutes_per_month / n
    costs = _costs(history, tiers, split, in_m, out_m, rec, pricing, reservation, scale)

    notes = []
    if all_tokens == 0:
        notes.append("no traffic in the window: every figure is zero and the recommendation is the minimum")
    if 0 < all_stats.active_minutes < n:
        notes.append(f"traffic in {all_stats.active_minutes:,} of {n:,} minutes: percentiles are of those minutes "
                     "(idle minutes left out)")
    active = with_traffic(total)
    before = int(active.argmax()) if active.any() else 0
    if before >= max(60, n // 10):  # traffic began late in the window: the monthly figures count the quiet start
        first = history.index[before].to_pydatetime()
        notes.append(f"first traffic at {first:%Y-%m-%d %H:%M} UTC, after {before:,} of the {n:,} minutes of the "
                     "window: monthly figures average the whole window, those quiet minutes included (a younger "
                     "workload or sandbox: plan over a shorter window with --days)")
    if all_stats.throttled_minutes:
        notes.append(f"{plural(all_stats.throttled_minutes, 'minute')} had throttles: throttled requests carry no "
                     "tokens, so demand in those minutes is understated")
    if rec.input_raised_to_minimum or rec.output_raised_to_minimum:
        notes.append(f"P{percentile:g} traffic is below the reservation minimum "
                     f"({MIN_INPUT_TPM:,} input / {MIN_OUTPUT_TPM:,} output TPM): the recommendation is raised to it")
    for c in costs:
        if c.note and c.monthly_usd is None and c.note not in notes:
            notes.append(c.note)

    start = history.index[0].to_pydatetime()
    end = (history.index[-1] + pd.Timedelta(minutes=1)).to_pydatetime()
    return CapacityPlan(model_id, start, end, n, split, tier_stats, all_stats, rec, costs,
                        _assumptions(percentile, minutes_per_month, n, all_stats.active_minutes, tiers, split,
                                     input_step, output_step, pricing, reservation),
                        tuple(notes))


def _recommend(in_m: np.ndarray, out_m: np.ndarray, traffic: np.ndarray, percentile: float, input_step: int,
               output_step: int, reservation: ReservationTerms) -> Recommendation:
    p_in = float(np.percentile(in_m[traffic], percentile, method=PERCENTILE_METHOD)) if traffic.any() else 0.0
    p_out = float(np.percentile(out_m[traffic], percentile, method=PERCENTILE_METHOD)) if traffic.any() else 0.0
    r_in = max(round_up(p_in, input_step), MIN_INPUT_TPM)
    r_out = max(round_up(p_out, output_step), MIN_OUTPUT_TPM)
    over_in, over_out = np.maximum(in_m - r_in, 0), np.maximum(out_m - r_out, 0)
    return Recommendation(
        percentile=float(percentile), input_tpm_at_percentile=p_in, output_tpm_at_percentile=p_out,
        input_tpm=r_in, output_tpm=r_out, input_step=input_step, output_step=output_step,
        input_minimum=MIN_INPUT_TPM, output_minimum=MIN_OUTPUT_TPM,
        input_raised_to_minimum=round_up(p_in, input_step) < MIN_INPUT_TPM,
        output_raised_to_minimum=round_up(p_out, output_step) < MIN_OUTPUT_TPM,
        minutes_over_input=int((over_in > 0).sum()), minutes_over_output=int((over_out > 0).sum()),
        overflow_input_share=float(over_in.sum() / in_m.sum()) if in_m.sum() else None,
        overflow_output_share=float(over_out.sum() / out_m.sum()) if out_m.sum() else None,
        current_input_tpm=reservation.current_input_tpm, current_output_tpm=reservation.current_output_tpm,
        basis=f"P{percentile:g} of per-minute input TPM (input + cache write) and output TPM over all tiers, "
              f"in the minutes with traffic, rounded up to {input_step:,} / {output_step:,}, never below "
              f"{MIN_INPUT_TPM:,} / {MIN_OUTPUT_TPM:,}")


def _costs(history: pd.DataFrame, tiers: Sequence[str], split: bool, in_m: np.ndarray, out_m: np.ndarray,
           rec: Recommendation, pricing: Pricing | None,
           reservation: ReservationTerms, scale: float) -> tuple[CostOption, ...]:
    in_tokens, out_tokens = float(in_m.sum()), float(out_m.sum())
    unpriced = "no list price for this model: add it under the profile's prices" if pricing is None else None

    def all_at(tier: str) -> float | None:
        return pricing.usd(in_tokens, out_tokens, tier) * scale if pricing else None

    def fixed(r_in: int | None, r_out: int | None) -> float | None:
        price = reservation.price_per_1k_tpm_month
        return None if price is None or r_in is None or r_out is None else (r_in + r_out) / 1000.0 * price

    # Reserved at the recommendation, the tokens above it each minute at Standard.
    res_fixed = fixed(rec.input_tpm, rec.output_tpm)
    over_in = float(np.maximum(in_m - rec.input_tpm, 0).sum())
    over_out = float(np.maximum(out_m - rec.output_tpm, 0).sum())
    overflow = pricing.usd(over_in, over_out, "default") * scale if pricing else None
    price_note = None if reservation.price_per_1k_tpm_month is not None else RESERVATION_PRICE_UNKNOWN
    reserved = CostOption(
        "reserved", f"Reserved {rec.input_tpm:,} in / {rec.output_tpm:,} out TPM + overflow at Standard",
        _add(res_fixed, overflow),
        {"reservation_usd": res_fixed, "overflow_usd": overflow, "overflow_input_tokens_per_month": over_in * scale,
         "overflow_output_tokens_per_month": over_out * scale,
         "commitment_usd": res_fixed * reservation.term_months if res_fixed is not None else None,
         "term_months": float(reservation.term_months)},
        "(input TPM + output TPM) / 1000 × price per 1K TPM per month, plus the tokens above the reservation "
        "in each minute at Standard prices",
        price_note or unpriced)

    options = [reserved]
    for key, label, extra in (("standard", "All Standard", None), ("priority", "All Priority", None),
                              ("flex", "All Flex", "only for work that can wait minutes (lowest queue priority)"),
                              ("batch", "All Batch", "only for work that can wait 24 h to 7 days (async jobs)")):
        tier = "default" if key == "standard" else key
        options.append(CostOption(
            key, label, all_at(tier),
            {"input_tokens_per_month": in_tokens * scale, "output_tokens_per_month": out_tokens * scale,
             "multiplier": pricing.multipliers[tier] if pricing else None},
            f"every token of the window at the {label.split()[-1]} price (list price × {tier} multiplier), "
            "scaled to a month", unpriced or extra))

    # As served: each tier's tokens at its own price, the profile's current reservation at its fixed price.
    if split:
        on_demand = None
        if pricing:
            on_demand = sum(pricing.usd(float((history[t]["input"] + history[t]["cache_write"]).sum()),
                                        float(history[t]["output"].sum()), t) * scale
                            for t in tiers if t in pricing.multipliers)
        has_reserved = "reserved" in tiers and float(history["reserved"][["input", "output"]].to_numpy().sum()) > 0
        cur_fixed = fixed(reservation.current_input_tpm, reservation.current_output_tpm)
        note = unpriced
        if reservation.current_input_tpm is not None and cur_fixed is None:
            note = note or RESERVATION_PRICE_UNKNOWN
        elif reservation.current_input_tpm is None and has_reserved:
            note = note or ("reserved traffic but no reservation of this model in the profile: "
                            "its fixed cost is left out")
        unknown_tiers = [t for t in tiers if t != "reserved" and pricing and t not in pricing.multipliers]
        if unknown_tiers:
            note = note or f"no multiplier for tier(s) {', '.join(unknown_tiers)}: left out"
        current = _add(on_demand, cur_fixed) if reservation.current_input_tpm is not None else on_demand
        options.append(CostOption(
            "current", "As served (current tier mix)", current,
            {"on_demand_usd": on_demand, "reservation_usd": cur_fixed}, "each tier's tokens at that tier's price; "
            "the profile's current reservation (if any) at its fixed monthly price", note))

    std = options[1].monthly_usd
    return tuple(CostOption(o.key, o.label, o.monthly_usd, o.components, o.basis, o.note,
                            o.monthly_usd - std if o.monthly_usd is not None and std is not None else None)
                 for o in options)


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


def _assumptions(percentile: float, minutes_per_month: int, n: int, active: int, tiers: Sequence[str], split: bool,
                 input_step: int, output_step: int, pricing: Pricing | None, reservation: ReservationTerms) -> tuple[Assumption, ...]:
    month_name = {v: k for k, v in MINUTES_PER_MONTH.items()}.get(minutes_per_month, "custom")
    out = [
        Assumption("percentile", float(percentile), f"reservation sized at P{percentile:g} of per-minute TPM",
                   "parameter"),
        Assumption("percentile_method", PERCENTILE_METHOD,
                   "numpy.percentile(method='linear'), Hyndman & Fan type 7 (pandas quantile default), over "
                   "the minutes with traffic", "fixed"),
        Assumption("idle_minutes", "excluded",
                   f"percentiles, max and mean over the {plural(active, 'minute')} with traffic (tokens or invocations) of "
                   f"the {n:,} in the window; each tier over its own such minutes; costs count every minute",
                   "fixed"),
        Assumption("input_tpm", "InputTokenCount + CacheWriteInputTokenCount",
                   "input TPM counts input and cache-write tokens, as reserved sizing does; cache reads are "
                   "excluded from TPM and from costs", "reference: reserved sizing"),
        Assumption("window_minutes", n, f"{n:,} minutes of 1-minute history ({n / 1440:.3g} {'day' if n == 1440 else 'days'})", "history"),
        Assumption("tiers", list(tiers), "traffic of every tier of the model is planned for" if split else
                   "no ServiceTier series found for the model: model totals only "
                   "(no per-tier shares, no as-served cost)",
                   "CloudWatch ListMetrics"),
        Assumption("minutes_per_month", minutes_per_month,
                   {"730h": "730 hours (365 days / 12)", "30d": "30 days"}.get(month_name, "custom month length")
                   + f": monthly = window cost × {minutes_per_month:,} / {n:,}", "parameter"),
        Assumption("minimums", {"input_tpm": MIN_INPUT_TPM, "output_tpm": MIN_OUTPUT_TPM},
                   "smallest reservation", "reference: Reserved tier"),
        Assumption("steps", {"input_tpm": input_step, "output_tpm": output_step},
                   "recommendation rounded up to these steps", "parameter"),
        Assumption("overflow_billing", "default",
                   "traffic above the reservation overflows to Standard and is billed at Standard prices; "
                   "estimated per minute (requests overflow whole, over a rolling window)", "reference: Reserved tier"),
        Assumption("reservation_price", reservation.price_per_1k_tpm_month,
                   "USD per 1K TPM per month, the same for input and output TPM; term "
                   f"{plural(reservation.term_months, 'month')}", reservation.price_source),
        Assumption("cache_write_price", "input",
                   "cache-write tokens billed at the input price (the price table has no cache-write rate)",
                   "assumption"),
        Assumption("throttles", "not counted",
                   "throttled requests carry no token counts: demand in throttled minutes is understated",
                   "CloudWatch semantics"),
    ]
    if pricing is None:
        out.append(Assumption("prices", None, "no price for this model", "none"))
    else:
        out.append(Assumption("prices", {"input_per_1k": pricing.input_per_1k, "output_per_1k": pricing.output_per_1k},
                              "Standard USD per 1K tokens", pricing.source))
        out.append(Assumption("multipliers", dict(pricing.multipliers), "price multiplier per tier vs Standard",
                              "; ".join(f"{k}: {pricing.multiplier_sources[k]}" for k in pricing.multipliers)))
    return tuple(out)


def plan_from_profile(history: pd.DataFrame, profile: Profile, model_id: str, *, percentile: float = 90.0,
                      minutes_per_month: int = DEFAULT_MINUTES_PER_MONTH,
                      reservation_price: float | None = None) -> CapacityPlan:
    """:func:`build_plan` with the profile's prices, multipliers and reservation of the model."""
    return build_plan(history, model_id=model_id, pricing=pricing_from_profile(profile, model_id),
                      reservation=reservation_terms(profile, model_id, reservation_price),
                      percentile=percentile, minutes_per_month=minutes_per_month)


__all__ = [
    "FIELDS", "TOTAL_TIER", "PERCENTILES", "PERCENTILE_METHOD", "MIN_INPUT_TPM", "MIN_OUTPUT_TPM",
    "MINUTES_PER_MONTH", "DEFAULT_MINUTES_PER_MONTH", "RESERVATION_PRICE_UNKNOWN", "Assumption", "TierStats",
    "Recommendation", "CostOption", "CapacityPlan", "Pricing", "ReservationTerms", "empty_history", "build_plan",
    "plan_from_profile", "pricing_from_profile", "reservation_terms", "tpm_percentiles", "round_up",
]
