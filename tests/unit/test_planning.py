"""Capacity and cost planning: percentiles against direct computation, sizing rules, costs by hand."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierconsole.core.domain.catalog import ReservationSpec
from tierconsole.core.domain.planning import (
    MIN_INPUT_TPM, MIN_OUTPUT_TPM, RESERVATION_PRICE_UNKNOWN, TOTAL_TIER, Pricing, ReservationTerms, build_plan,
    empty_history, plan_from_profile, pricing_from_profile, reservation_terms, round_up,
)
from tierconsole.core.domain.costview import cost_view, spend_per_hour, tier_move_saving
from tierconsole.core.domain.pricing import PriceTable
from tierconsole.core.domain.profile import Profile

NOVA = "amazon.nova-lite-v1:0"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
START = "2026-01-01T00:00:00Z"
# Round prices so that hand computation is easy: $0.001 / $0.002 per 1K tokens.
PRICING = Pricing(0.001, 0.002, "test table", {"priority": 2.0, "default": 1.0, "flex": 0.5, "batch": 0.25},
                  {k: "test" for k in ("priority", "default", "flex", "batch")})
UNKNOWN = ReservationTerms(None, RESERVATION_PRICE_UNKNOWN)


def history(tiers: dict[str, dict[str, list[float]]]) -> pd.DataFrame:
    n = len(next(iter(next(iter(tiers.values())).values())))
    h = empty_history(START, n, list(tiers))
    for tier, fields in tiers.items():
        for f, values in fields.items():
            h[(tier, f)] = np.asarray(values, dtype=float)
    return h


def type7(values, q: float) -> float:
    """Hyndman & Fan type 7 by hand: the documented method, without numpy's implementation."""
    x = sorted(float(v) for v in values)
    pos = (len(x) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(x) - 1)
    return x[lo] + (x[hi] - x[lo]) * (pos - lo)


# ---------------------------------------------------------------------- percentiles

def random_history(seed: int = 7, minutes: int = 2_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tiers = {}
    for tier in ("reserved", "priority", "default", "flex"):
        active = rng.random(minutes) < 0.7
        tiers[tier] = {"input": rng.integers(0, 80_000, minutes) * active,
                       "cache_write": rng.integers(0, 5_000, minutes) * active,
                       "output": rng.integers(0, 9_000, minutes) * active,
                       "invocations": rng.integers(1, 40, minutes) * active,
                       "throttles": (rng.random(minutes) < 0.02).astype(int)}
    return history(tiers)


def test_percentiles_match_numpy_pandas_and_type7_by_hand():
    h = random_history()
    plan = build_plan(h, model_id=NOVA, pricing=PRICING, reservation=UNKNOWN)
    for s in (*plan.tiers, plan.all):
        f = h.T.groupby(level="field").sum().T if s.tier == "all" else h[s.tier]
        traffic = (f[["input", "cache_write", "output", "invocations"]] > 0).any(axis=1).to_numpy()
        assert s.active_minutes == traffic.sum() < len(h)
        inp = (f["input"] + f["cache_write"]).to_numpy()[traffic]  # percentiles over the minutes with traffic
        out = f["output"].to_numpy()[traffic]
        for q in (50, 90, 99):
            assert s.input_tpm[f"p{q}"] == pytest.approx(np.percentile(inp, q, method="linear"), rel=1e-12)
            assert s.input_tpm[f"p{q}"] == pytest.approx(pd.Series(inp).quantile(q / 100), rel=1e-12)
            assert s.input_tpm[f"p{q}"] == pytest.approx(type7(inp, q), rel=1e-12)
            assert s.output_tpm[f"p{q}"] == pytest.approx(type7(out, q), rel=1e-12)
        assert s.input_tpm["max"] == inp.max() and s.output_tpm["max"] == out.max()
        assert s.input_tpm["mean"] == pytest.approx(inp.mean())
        assert s.throttled_minutes == int((f["throttles"] > 0).sum())
        assert s.input_tokens == f["input"].sum() and s.cache_write_tokens == f["cache_write"].sum()
    # "all" is the percentile of the per-minute sum, not the sum of the tiers' percentiles
    assert plan.all.input_tpm["p90"] < sum(s.input_tpm["p90"] for s in plan.tiers)
    assert sum(s.token_share for s in plan.tiers) == pytest.approx(1.0)
    assert sum(s.invocation_share for s in plan.tiers) == pytest.approx(1.0)
    assert [s.tier for s in plan.tiers] == ["reserved", "priority", "default", "flex"]


series = st.lists(st.integers(min_value=0, max_value=2_000_000), min_size=1, max_size=200)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), percentile=st.floats(min_value=0.5, max_value=100.0))
def test_hypothesis_stats_and_recommendation_over_random_series(data, percentile):
    n = data.draw(st.integers(min_value=1, max_value=150))
    col = st.lists(st.integers(min_value=0, max_value=2_000_000), min_size=n, max_size=n)
    tiers = {t: {"input": data.draw(col), "cache_write": data.draw(col), "output": data.draw(col),
                 "invocations": [0] * n, "throttles": [0] * n} for t in ("default", "flex")}
    h = history(tiers)
    plan = build_plan(h, model_id=NOVA, pricing=PRICING, reservation=UNKNOWN, percentile=percentile)
    all_inp = np.array(tiers["default"]["input"]) + tiers["default"]["cache_write"] + tiers["flex"]["input"] \
        + tiers["flex"]["cache_write"]
    all_out = np.array(tiers["default"]["output"]) + tiers["flex"]["output"]
    traffic = (all_inp > 0) | (all_out > 0)
    if not traffic.any():
        assert plan.all.input_tpm["p90"] == 0 and plan.recommendation.input_tpm == MIN_INPUT_TPM
        return
    inp, out = all_inp[traffic], all_out[traffic]  # the rule: minutes with traffic
    for q in (50, 90, 99):
        assert plan.all.input_tpm[f"p{q}"] == pytest.approx(type7(inp, q), rel=1e-9, abs=1e-6)
        assert plan.all.output_tpm[f"p{q}"] == pytest.approx(type7(out, q), rel=1e-9, abs=1e-6)
    s = plan.all.input_tpm
    assert s["p50"] <= s["p90"] <= s["p99"] <= s["max"]
    r = plan.recommendation
    assert r.input_tpm_at_percentile == pytest.approx(type7(inp, percentile), rel=1e-9, abs=1e-6)
    assert r.input_tpm >= MIN_INPUT_TPM and r.output_tpm >= MIN_OUTPUT_TPM
    assert r.input_tpm % 10_000 == 0 and r.output_tpm % 1_000 == 0
    assert r.input_tpm >= r.input_tpm_at_percentile - 1e-6 and r.output_tpm >= r.output_tpm_at_percentile - 1e-6
    if not r.input_raised_to_minimum:
        assert r.input_tpm < r.input_tpm_at_percentile + 10_000
    assert r.minutes_over_input == int((all_inp > r.input_tpm).sum())
    # costs: all-Standard is every token at list price, scaled to the month
    std = plan.cost("standard").monthly_usd
    assert std == pytest.approx((all_inp.sum() * 0.001 + all_out.sum() * 0.002) / 1000 * 43_800 / n)
    assert plan.cost("flex").monthly_usd == pytest.approx(std * 0.5)


# ---------------------------------------------------------------------- recommendation

def test_recommendation_respects_minimums_and_rounds_up():
    tiny = history({"default": {"input": [10, 20, 30], "cache_write": [0, 0, 0], "output": [1, 2, 3],
                                "invocations": [1, 1, 1], "throttles": [0, 0, 0]}})
    r = build_plan(tiny, model_id=NOVA, pricing=PRICING, reservation=UNKNOWN).recommendation
    assert (r.input_tpm, r.output_tpm) == (100_000, 10_000)
    assert r.input_raised_to_minimum and r.output_raised_to_minimum
    assert r.minutes_over_input == 0 and r.overflow_input_share == 0.0

    flat = history({"default": {"input": [120_000] * 5, "cache_write": [3_456] * 5, "output": [12_345] * 5,
                                "invocations": [1] * 5, "throttles": [0] * 5}})
    r = build_plan(flat, model_id=NOVA, pricing=PRICING, reservation=UNKNOWN).recommendation
    assert r.input_tpm_at_percentile == 123_456  # input + cache write
    assert (r.input_tpm, r.output_tpm) == (130_000, 13_000)
    assert not r.input_raised_to_minimum and not r.output_raised_to_minimum

    exact = history({"default": {"input": [150_000] * 3, "cache_write": [0] * 3, "output": [20_000] * 3,
                                 "invocations": [1] * 3, "throttles": [0] * 3}})
    r = build_plan(exact, model_id=NOVA, pricing=PRICING, reservation=UNKNOWN).recommendation
    assert (r.input_tpm, r.output_tpm) == (150_000, 20_000)  # an exact multiple gains no step


def test_round_up_ignores_interpolation_noise():
    assert round_up(30_000.000000004, 10_000) == 30_000
    assert round_up(30_001, 10_000) == 40_000
    assert round_up(0, 1_000) == 0


# ---------------------------------------------------------------------- costs by hand

SMALL = {"default": {"input": [100_000, 200_000, 0, 50_000], "cache_write": [0, 20_000, 0, 0],
                     "output": [10_000, 30_000, 0, 5_000], "invocations": [10, 20, 0, 5], "throttles": [0, 3, 0, 0]}}


def test_costs_computed_by_hand_small_example():
    # 4 minutes, 40 minutes per month: every window figure × 10.
    plan = build_plan(history(SMALL), model_id=NOVA, pricing=PRICING, reservation=ReservationTerms(3.0, "contract"),
                      percentile=50, minutes_per_month=40)
    r = plan.recommendation
    # minutes with traffic: input TPM [100k, 220k, 50k]: P50 = 100k; output [10k, 30k, 5k]: P50 10k (the idle
    # third minute is left out)
    assert r.input_tpm_at_percentile == 100_000 and r.output_tpm_at_percentile == 10_000
    assert (r.input_tpm, r.output_tpm) == (100_000, 10_000)
    assert r.minutes_over_input == 1 and r.minutes_over_output == 1
    assert r.overflow_input_share == pytest.approx(120_000 / 370_000)
    assert r.overflow_output_share == pytest.approx(20_000 / 45_000)

    res = plan.cost("reserved")
    assert res.components["reservation_usd"] == pytest.approx((100 + 10) * 3.0)  # 330
    # overflow: 120k input and 20k output above the reservation in minute 2, at Standard
    assert res.components["overflow_usd"] == pytest.approx((120 * 0.001 + 20 * 0.002) * 10)  # 1.6
    assert res.monthly_usd == pytest.approx(331.6)
    assert res.components["commitment_usd"] == pytest.approx(330.0)
    # all-Standard: 370k input (incl. 20k cache write) and 45k output
    assert plan.cost("standard").monthly_usd == pytest.approx((370 * 0.001 + 45 * 0.002) * 10)  # 4.6
    assert plan.cost("priority").monthly_usd == pytest.approx(9.2)
    assert plan.cost("flex").monthly_usd == pytest.approx(2.3)
    assert plan.cost("batch").monthly_usd == pytest.approx(1.15)
    assert res.delta_vs_standard_usd == pytest.approx(331.6 - 4.6)
    assert plan.cost("flex").delta_vs_standard_usd == pytest.approx(-2.3)
    assert plan.cost("current").monthly_usd == pytest.approx(4.6)  # all served at Standard, no reservation
    assert plan.all.throttled_minutes == 1 and any("throttle" in n for n in plan.notes)

    # at P99 the reservation covers the peak: no overflow
    plan = build_plan(history(SMALL), model_id=NOVA, pricing=PRICING, reservation=ReservationTerms(3.0, "contract"),
                      percentile=99, minutes_per_month=40)
    r = plan.recommendation
    assert r.input_tpm_at_percentile == pytest.approx(217_600) and r.output_tpm_at_percentile == pytest.approx(29_600)
    assert (r.input_tpm, r.output_tpm) == (220_000, 30_000)
    assert plan.cost("reserved").components["overflow_usd"] == 0
    assert plan.cost("reserved").monthly_usd == pytest.approx((220 + 30) * 3.0)


def test_current_mix_uses_each_tier_price_and_the_current_reservation():
    tiers = {"reserved": {"input": [50_000] * 4, "cache_write": [0] * 4, "output": [5_000] * 4,
                          "invocations": [1] * 4, "throttles": [0] * 4},
             "priority": {"input": [10_000] * 4, "cache_write": [0] * 4, "output": [1_000] * 4,
                          "invocations": [1] * 4, "throttles": [0] * 4}}
    terms = ReservationTerms(3.0, "contract", term_months=3, current_id="r1", current_input_tpm=100_000,
                             current_output_tpm=10_000)
    plan = build_plan(history(tiers), model_id=NOVA, pricing=PRICING, reservation=terms, minutes_per_month=40)
    cur = plan.cost("current")
    assert cur.components["on_demand_usd"] == pytest.approx((40 * 0.001 + 4 * 0.002) * 2.0 * 10)  # 0.96
    assert cur.components["reservation_usd"] == pytest.approx(330.0)
    assert cur.monthly_usd == pytest.approx(330.96)
    assert plan.recommendation.current_input_tpm == 100_000
    assert plan.cost("reserved").components["commitment_usd"] == pytest.approx(330.0 * 3)


def test_unknown_reservation_price_is_said_not_invented():
    plan = build_plan(history(SMALL), model_id=NOVA, pricing=PRICING, reservation=UNKNOWN, percentile=50,
                      minutes_per_month=40)
    res = plan.cost("reserved")
    assert res.monthly_usd is None and res.components["reservation_usd"] is None
    assert res.note == RESERVATION_PRICE_UNKNOWN == "reservation price unknown — enter your contract's figure"
    assert res.components["overflow_usd"] == pytest.approx(0.16 * 10)  # still known
    assert RESERVATION_PRICE_UNKNOWN in plan.notes
    a = plan.assumption("reservation_price")
    assert a.value is None and a.source == RESERVATION_PRICE_UNKNOWN
    assert plan.cost("standard").monthly_usd == pytest.approx(4.6)


def test_unpriced_model_has_no_costs_but_has_stats():
    plan = build_plan(history(SMALL), model_id="acme.unknown-v1", pricing=None,
                      reservation=ReservationTerms(3.0, "contract"))
    assert all(c.monthly_usd is None for c in plan.costs)
    assert plan.all.input_tpm["max"] == 220_000
    assert plan.assumption("prices").value is None
    assert any("no list price" in n for n in plan.notes)


def test_model_totals_only_history():
    h = history({TOTAL_TIER: SMALL["default"]})
    plan = build_plan(h, model_id=NOVA, pricing=PRICING, reservation=UNKNOWN, minutes_per_month=40)
    assert not plan.tier_split and plan.tiers == ()
    assert plan.all.input_tpm["max"] == 220_000
    assert plan.cost("current") is None and plan.cost("standard").monthly_usd == pytest.approx(4.6)
    assert "model totals only" in plan.assumption("tiers").text


def test_bad_histories_are_refused():
    h = history(SMALL)
    with pytest.raises(ValueError, match="one row per minute"):
        build_plan(h.drop(h.index[1]), model_id=NOVA, pricing=PRICING, reservation=UNKNOWN)
    with pytest.raises(ValueError, match="lacks field"):
        build_plan(h.drop(columns=[("default", "cache_write")]), model_id=NOVA, pricing=PRICING, reservation=UNKNOWN)
    with pytest.raises(ValueError, match="no minutes"):
        build_plan(h.iloc[:0], model_id=NOVA, pricing=PRICING, reservation=UNKNOWN)
    with pytest.raises(ValueError, match="percentile"):
        build_plan(h, model_id=NOVA, pricing=PRICING, reservation=UNKNOWN, percentile=0)


# ---------------------------------------------------------------------- assumptions and the profile

def test_every_assumption_is_returned_next_to_the_figures():
    plan = build_plan(history(SMALL), model_id=NOVA, pricing=PRICING, reservation=ReservationTerms(3.0, "contract"),
                      percentile=95)
    keys = {a.key for a in plan.assumptions}
    assert keys >= {"percentile", "percentile_method", "idle_minutes", "input_tpm", "window_minutes", "tiers",
                    "minutes_per_month", "minimums", "steps", "overflow_billing", "reservation_price",
                    "cache_write_price", "throttles", "prices", "multipliers"}
    assert plan.assumption("percentile").value == 95
    assert plan.assumption("percentile_method").value == "linear"
    assert plan.assumption("minutes_per_month").value == 43_800
    assert plan.assumption("overflow_billing").value == "default"
    assert plan.assumption("prices").value == {"input_per_1k": 0.001, "output_per_1k": 0.002}
    assert plan.assumption("prices").source == "test table"
    assert plan.assumption("multipliers").value == {"priority": 2.0, "default": 1.0, "flex": 0.5, "batch": 0.25}
    assert plan.assumption("reservation_price").value == 3.0
    assert plan.assumption("minimums").value == {"input_tpm": 100_000, "output_tpm": 10_000}
    assert all(a.text and a.source for a in plan.assumptions)
    assert all(c.basis for c in plan.costs)
    # P95 of input TPM over the minutes with traffic [50k, 100k, 220k]: 100k + 0.9 × 120k = 208k → 210k
    assert plan.recommendation.input_tpm_at_percentile == pytest.approx(208_000)
    assert plan.assumption("idle_minutes").value == "excluded"
    assert "3 minutes with traffic" in plan.assumption("idle_minutes").text
    doc = json.loads(json.dumps(plan.to_json()))
    assert doc["recommendation"]["input_tpm"] == 210_000 and len(doc["assumptions"]) == len(plan.assumptions)


def test_profile_prices_multipliers_and_reservation_sources():
    builtin = Profile(name="p", reservations=(ReservationSpec("r1", SONNET, 100_000, 10_000, 3, 0.0),))
    pr = pricing_from_profile(builtin, SONNET)
    assert (pr.input_per_1k, pr.output_per_1k) == (0.003, 0.015)
    assert pr.source.startswith("built-in") and pr.multipliers == {"priority": 1.75, "default": 1.0, "flex": 0.5,
                                                                    "batch": 0.5}
    terms = reservation_terms(builtin, SONNET)
    assert terms.price_per_1k_tpm_month is None and terms.price_source == RESERVATION_PRICE_UNKNOWN  # 0 = not entered
    assert (terms.current_input_tpm, terms.term_months) == (100_000, 3)
    assert reservation_terms(builtin, SONNET, 2.5).price_per_1k_tpm_month == 2.5
    assert reservation_terms(builtin, NOVA).current_input_tpm is None

    custom = Profile(name="c", prices={NOVA: {"input": 0.0001, "output": 0.0004}},
                     tier_price_multipliers={"flex": 0.4},
                     reservations=(ReservationSpec("r2", NOVA, 200_000, 20_000, 1, 1.5),))
    pr = pricing_from_profile(custom, NOVA)
    assert (pr.input_per_1k, pr.output_per_1k) == (0.0001, 0.0004) and "profile 'c'" in pr.source
    assert pr.multipliers["flex"] == 0.4 and "profile 'c'" in pr.multiplier_sources["flex"]
    assert "built-in" in pr.multiplier_sources["priority"]
    plan = plan_from_profile(history(SMALL), custom, NOVA, minutes_per_month=40)
    assert plan.assumption("reservation_price").value == 1.5 and "'r2'" in plan.assumption("reservation_price").source
    assert plan.cost("flex").monthly_usd == pytest.approx((370 * 0.0001 + 45 * 0.0004) * 0.4 * 10)
    assert plan.cost("current").components["reservation_usd"] == pytest.approx(220 * 1.5)


# ---------------------------------------------------------------------- dashboard cost view

def test_spend_per_hour_and_moving_a_workload():
    prices = PriceTable.from_profile()
    rows = {s.tier: s for s in spend_per_hour(NOVA, {"default": (100_000, 10_000), "flex": (50_000, 5_000),
                                                     "priority": (1_000, 100), "reserved": (80_000, 8_000)}, prices)}
    # Nova Lite: $0.00006 in / $0.00024 out per 1K; per hour = per minute × 60
    assert rows["default"].usd_per_hour == pytest.approx((100 * 0.00006 + 10 * 0.00024) * 60)
    assert rows["flex"].usd_per_hour == pytest.approx((50 * 0.00006 + 5 * 0.00024) * 0.5 * 60)
    assert rows["priority"].usd_per_hour == pytest.approx((1 * 0.00006 + 0.1 * 0.00024) * 1.75 * 60)
    assert rows["reserved"].usd_per_hour == 0.0 and "fixed" in rows["reserved"].basis

    move = tier_move_saving(NOVA, 100_000, 10_000, "standard", "flex", prices)
    before = (100 * 0.00006 + 10 * 0.00024) * 60
    assert move.from_tier == "default" and move.usd_per_hour_before == pytest.approx(before)
    assert move.usd_per_hour_after == pytest.approx(before * 0.5)
    assert move.saving_per_hour == pytest.approx(before * 0.5)
    assert move.saving_per_month == pytest.approx(before * 0.5 * 730)
    assert "wait" in move.note and move.assumptions["minutes_per_month"] == 43_800
    assert tier_move_saving(NOVA, 1_000, 100, "default", "priority", prices).saving_per_hour < 0
    assert tier_move_saving(NOVA, 1_000, 100, "default", "batch", prices).usd_per_hour_after == pytest.approx(
        (1 * 0.00006 + 0.1 * 0.00024) * 0.5 * 60)
    assert tier_move_saving("acme.unknown", 1, 1, "default", "flex", prices).saving_per_hour is None
    with pytest.raises(ValueError):
        tier_move_saving(NOVA, 1, 1, "reserved", "flex", prices)
    with pytest.raises(ValueError):
        tier_move_saving(NOVA, 1, 1, "default", "turbo", prices)


def test_bursty_model_percentiles_count_only_minutes_with_traffic():
    """Traffic in 30 of 1,000 minutes: over every minute P90 would be 0 and say nothing; the rule is minutes
    with traffic, stated next to the figures."""
    n = 1_000
    inp, out = np.zeros(n), np.zeros(n)
    burst = np.arange(0, n, 33)[:30]
    inp[burst] = np.linspace(150_000, 300_000, 30)
    out[burst] = 20_000
    h = history({"default": {"input": inp, "cache_write": np.zeros(n), "output": out,
                             "invocations": (inp > 0) * 50.0, "throttles": np.zeros(n)}})
    plan = build_plan(h, model_id=NOVA, pricing=PRICING, reservation=UNKNOWN)
    assert plan.all.active_minutes == 30
    assert plan.all.input_tpm["p90"] == pytest.approx(type7(inp[burst], 90)) and plan.all.input_tpm["p90"] > 250_000
    assert plan.tiers[0].input_tpm["p50"] == pytest.approx(type7(inp[burst], 50))
    assert plan.recommendation.input_tpm == round_up(type7(inp[burst], 90), 10_000)
    assert plan.assumption("idle_minutes").text.startswith("percentiles, max and mean over the 30 minutes with traffic")
    assert any("30 of 1,000 minutes" in note for note in plan.notes)
    quiet = build_plan(history({"default": {f: [0] * 5 for f in ("input", "cache_write", "output", "invocations",
                                                                  "throttles")}}),
                       model_id=NOVA, pricing=PRICING, reservation=UNKNOWN)
    assert quiet.all.active_minutes == 0 and quiet.all.input_tpm["p90"] == 0 and quiet.all.output_tpm["max"] == 0


def test_spend_now_and_the_what_ifs_add_up():
    """The cost view: each tier's $/hour at the last hour's rates, their total, and moving Standard to Flex or
    Batch: the what-if starts from the Standard row, and after = before - saving."""
    prices = PriceTable.from_profile()
    n = 120
    h = history({t: {"input": [v * 1_000.0] * n, "cache_write": [0.0] * n, "output": [v * 100.0] * n,
                     "invocations": [1.0] * n, "throttles": [0.0] * n}
                 for t, v in (("reserved", 80), ("priority", 5), ("default", 100), ("flex", 30))})
    view = cost_view(h, NOVA, prices)
    rows = {s.tier: s for s in view.spends}
    assert list(rows) == ["reserved", "priority", "default", "flex"]
    assert view.total_per_hour == pytest.approx(sum(s.usd_per_hour for s in view.spends))
    std = rows["default"].usd_per_hour
    assert std == pytest.approx((100 * 0.00006 + 10 * 0.00024) * 60)
    for move in view.moves:
        assert move.from_tier == "default" and move.usd_per_hour_before == pytest.approx(std)
        assert move.usd_per_hour_after == pytest.approx(move.usd_per_hour_before - move.saving_per_hour)
        assert move.saving_per_month == pytest.approx(move.saving_per_hour * 730)
    assert [m.to_tier for m in view.moves] == ["flex", "batch"]
    # what the total would be after the move: the spend now less the saving
    flex = view.moves[0]
    assert view.total_per_hour - flex.saving_per_hour == pytest.approx(
        sum(s.usd_per_hour for s in view.spends if s.tier != "default") + flex.usd_per_hour_after)


def test_cost_view_of_model_totals_only_does_not_fail():
    """Without a per-tier split (AWS today) the history has one 'total' tier: it is costed at Standard prices and
    said to be, instead of failing the whole plan screen."""
    h = history({TOTAL_TIER: {"input": [100_000.0] * 60, "cache_write": [0.0] * 60, "output": [10_000.0] * 60,
                              "invocations": [1.0] * 60, "throttles": [0.0] * 60}})
    view = cost_view(h, NOVA, PriceTable.from_profile())
    [row] = view.spends
    assert row.tier == TOTAL_TIER and row.usd_per_hour == pytest.approx((100 * 0.00006 + 10 * 0.00024) * 60)
    assert "no per-tier split" in row.basis and "Standard" in row.basis
    assert [m.from_tier for m in view.moves] == [TOTAL_TIER, TOTAL_TIER]
    assert view.moves[0].usd_per_hour_before == pytest.approx(row.usd_per_hour)


def test_a_window_whose_traffic_began_late_says_the_monthly_figures_count_the_quiet_start():
    """A 3-minute-old sandbox planned over 14 days: the monthly cost averaged every minute of the window, those
    before any traffic included, and said nothing of it (the second stranger trial: ~5,000x low, unflagged)."""
    n = 20_160
    inp, out = np.zeros(n), np.zeros(n)
    inp[-3:], out[-3:] = 90_000, 9_000
    h = history({"default": {"input": inp, "cache_write": np.zeros(n), "output": out,
                             "invocations": (inp > 0) * 30.0, "throttles": np.zeros(n)}})
    plan = build_plan(h, model_id=NOVA, pricing=PRICING, reservation=UNKNOWN)
    [note] = [n for n in plan.notes if "first traffic" in n]
    assert "2026-01-14 23:57 UTC" in note and "20,157 of the 20,160 minutes" in note and "--days" in note
    steady = h.copy()
    steady[("default", "input")] = 90_000.0
    steady[("default", "output")] = 9_000.0
    steady[("default", "invocations")] = 30.0
    assert not any("first traffic" in n for n in build_plan(steady, model_id=NOVA, pricing=PRICING,
                                                            reservation=UNKNOWN).notes)
