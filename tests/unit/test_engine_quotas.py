"""The engine with several quotas per request path, on a fake clock: a bucket per quota, lanes per route,
daily and account quotas shared, split input/output TPM, which quota blocked, ModelNotReady."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierconsole.core.domain.catalog import parse_catalog
from tierconsole.core.domain.quotas import DAY_S, Measure, QuotaKind
from tierconsole.core.domain.routes import Route, RouteKind
from tierconsole.sandbox.engine import (
    THROTTLE_DAILY, THROTTLE_REQUESTS, THROTTLE_TOKENS, BucketedWindow, EngineError, TierEngine,
)

T0 = 1_000.0
A, B = "amazon.nova-lite-v1:0", "amazon.nova-micro-v1:0"


def engine(models=None, *, account=None, rules=None, engine_settings=None) -> TierEngine:
    models = models or [{"id": A, "name": "Nova Lite", "max_output_tokens": 1000,
                         "quotas": {"on_demand": {"tpm": 10_000, "rpm": 100},
                                    "cross_region": {"tpm": 20_000, "rpm": 100},
                                    "global": {"tpm": 40_000, "rpm": 100}}}]
    return TierEngine(parse_catalog(models, None, engine_settings, account_quotas=account, quota_rules=rules))


def cross(model=A):
    return Route(RouteKind.CROSS_REGION, model, "us." + model, geo="us")


def used(e: TierEngine, kind: QuotaKind, measure: Measure, now: float, model=A) -> float:
    for u in e.quota_uses(now):
        if u.spec.kind is kind and u.spec.measure is measure and u.spec.model_id in (model, None):
            return u.used
    raise AssertionError(f"no {kind} {measure} quota")


def test_a_cross_region_call_draws_on_the_cross_region_pool_only():
    e = engine()
    t = e.submit(A, "default", 100, 900, T0, route=cross())
    assert t.state == "admitted" and t.route.kind is RouteKind.CROSS_REGION
    assert used(e, QuotaKind.CROSS_REGION, Measure.TOKENS, T0) == 1000
    assert used(e, QuotaKind.CROSS_REGION, Measure.REQUESTS, T0) == 1
    assert used(e, QuotaKind.ON_DEMAND, Measure.TOKENS, T0) == 0
    assert used(e, QuotaKind.MODEL_DAILY, Measure.TOKENS, T0) == 1000  # the day counts every route (default)
    assert used(e, QuotaKind.CROSS_MODEL_DAILY, Measure.TOKENS, T0) == 1000
    d = e.submit(A, "default", 100, 900, T0)  # no route: the on-demand route of the model id, as before
    assert d.state == "admitted" and d.route.kind is RouteKind.ON_DEMAND and d.route.series == A
    assert used(e, QuotaKind.ON_DEMAND, Measure.TOKENS, T0) == 1000
    assert used(e, QuotaKind.CROSS_REGION, Measure.TOKENS, T0) == 1000
    assert e.usage(A, T0)["tpm_used"] == 1000  # today's view: the on-demand pool
    e.complete(t, 10, T0 + 1)
    assert used(e, QuotaKind.CROSS_REGION, Measure.TOKENS, T0 + 1) == 110
    assert used(e, QuotaKind.MODEL_DAILY, Measure.TOKENS, T0 + 1) == 110 + 1000


def test_lanes_are_independent_a_full_cross_region_pool_does_not_hold_up_direct_calls():
    e = engine()
    e.submit(A, "default", 0, 1000, T0, route=cross())
    for _ in range(19):
        e.submit(A, "default", 0, 1000, T0, route=cross())
    waiting = e.submit(A, "priority", 0, 1000, T0, route=cross())
    assert waiting.state == "queued"
    direct = e.submit(A, "flex", 0, 1000, T0)  # a lower tier on another lane: not behind the queued priority
    assert direct.state == "admitted"
    glob = e.submit(A, "flex", 0, 1000, T0, route=Route(RouteKind.GLOBAL, A, "global." + A, geo="global"))
    assert glob.state == "admitted"
    admitted, throttled = e.advance(T0 + 19.9)
    assert (admitted, throttled) == ([], [])
    admitted, throttled = e.advance(T0 + 20)  # priority waits 20 s: throttled by the cross-region TPM quota
    assert throttled == [waiting]
    assert waiting.throttle_message == THROTTLE_TOKENS
    assert waiting.blocked_by.kind is QuotaKind.CROSS_REGION and waiting.blocked_by.measure is Measure.TOKENS
    assert "Cross-region model inference tokens per minute" in waiting.blocked_by.name


def test_a_queued_ticket_is_admitted_when_its_own_lane_frees():
    e = engine()
    first = e.submit(A, "default", 19_000, 1000, T0, route=cross())
    e.submit(A, "default", 9_000, 1000, T0 + 1)  # fills on-demand; irrelevant to the cross lane
    waiting = e.submit(A, "flex", 4_000, 1000, T0 + 30, route=cross())
    assert first.state == "admitted" and waiting.state == "queued"
    assert e.next_wakeup() == T0 + 60  # the cross-region minute expiry, not the on-demand one at T0+61
    admitted, _ = e.advance(T0 + 60)
    assert admitted == [waiting]


def test_the_daily_quota_binds_after_the_minute_frees():
    e = engine([{"id": A, "name": "Nova Lite", "tpm": 1000, "rpm": 100, "max_output_tokens": 100,
                 "tokens_per_day": 2500}])
    day = 0
    for minute in range(5):
        t = e.submit(A, "default", 400, 100, T0 + 60 * minute)
        if t.state == "admitted":
            e.complete(t, 100, T0 + 60 * minute + 1)
            day += 500
    assert day == 2500
    late = e.submit(A, "default", 400, 100, T0 + 600)  # the minute is empty, the day is not
    assert late.state in ("queued", "throttled")
    e.advance(T0 + 700)
    assert late.state == "throttled" and late.throttle_message == THROTTLE_DAILY
    assert late.blocked_by.kind is QuotaKind.MODEL_DAILY and late.blocked_by.period_s == DAY_S
    assert used(e, QuotaKind.ON_DEMAND, Measure.TOKENS, T0 + 700) == 0
    # a day later (rolling, at most a minute late) the quota is back
    again = e.submit(A, "default", 400, 100, T0 + DAY_S + 120)
    assert again.state == "admitted"


def test_flex_waits_for_the_daily_quota_and_wakes_at_its_expiry():
    e = engine([{"id": A, "name": "Nova Lite", "tpm": 1000, "rpm": 100, "max_output_tokens": 100,
                 "tokens_per_day": 1000}])
    t = e.submit(A, "default", 400, 100, T0)
    e.complete(t, 100, T0 + 1)
    e.submit(A, "default", 400, 100, T0 + 100)  # 1000 of 1000 today
    flex = e.submit(A, "flex", 0, 100, T0 + 200)  # Flex waits up to an hour
    assert flex.state == "queued"
    assert e.next_wakeup() == pytest.approx(T0 + 200 + 3600)  # the day frees later than its deadline
    e.advance(T0 + 200 + 3600)
    assert flex.state == "throttled" and flex.blocked_by.kind is QuotaKind.MODEL_DAILY


def test_the_account_day_is_shared_by_every_model():
    models = [{"id": A, "name": "Nova Lite", "tpm": 10_000, "rpm": 100, "max_output_tokens": 1000, "profiles": ["us"]},
              {"id": B, "name": "Nova Micro", "tpm": 10_000, "rpm": 100, "max_output_tokens": 1000}]
    e = engine(models, account={"cross_model_tokens_per_day": 3000})
    assert e.submit(A, "default", 0, 1000, T0).state == "admitted"
    assert e.submit(B, "default", 0, 1000, T0).state == "admitted"
    assert e.submit(A, "default", 0, 1000, T0, route=cross(A)).state == "admitted"
    refused = e.submit(B, "default", 0, 1000, T0 + 1)
    e.advance(T0 + 10)
    assert refused.state == "throttled" and refused.blocked_by.kind is QuotaKind.CROSS_MODEL_DAILY
    assert refused.blocked_by.name == "Cross-Model Max Tokens Per Day"


def test_daily_counts_setting_keeps_profile_traffic_off_the_day():
    models = [{"id": A, "name": "Nova Lite", "tpm": 10_000, "rpm": 100, "max_output_tokens": 1000,
               "tokens_per_day": 1000, "profiles": ["us"]}]
    e = engine(models, rules={"daily_counts": ["on_demand"]})
    for i in range(5):
        assert e.submit(A, "default", 0, 1000, T0 + i, route=cross()).state == "admitted"
    assert used(e, QuotaKind.MODEL_DAILY, Measure.TOKENS, T0 + 5) == 0


def test_split_input_output_quotas():
    models = [{"id": A, "name": "Nova Lite", "max_output_tokens": 1000, "burndown": 2,
               "quotas": {"on_demand": {"input_tpm": 3000, "output_tpm": 500}}}]
    e = engine(models)
    t1 = e.submit(A, "default", 500, 1000, T0)  # holds input + maxTokens on input TPM, nothing on output yet
    assert t1.state == "admitted"
    assert used(e, QuotaKind.ON_DEMAND, Measure.INPUT_TOKENS, T0) == 1500
    assert used(e, QuotaKind.ON_DEMAND, Measure.OUTPUT_TOKENS, T0) == 0
    e.complete(t1, 300, T0 + 1)  # settles input to input + cacheWrite, output to output × burndown
    assert used(e, QuotaKind.ON_DEMAND, Measure.INPUT_TOKENS, T0 + 1) == 500
    assert used(e, QuotaKind.ON_DEMAND, Measure.OUTPUT_TOKENS, T0 + 1) == 600
    t2 = e.submit(A, "default", 10, 10, T0 + 2)  # the output window is at/over its quota: wait
    assert t2.state == "queued"
    e.advance(T0 + 4)
    assert t2.state == "throttled" and t2.blocked_by.measure is Measure.OUTPUT_TOKENS
    assert t2.throttle_message == THROTTLE_TOKENS
    assert e.usage(A, T0 + 4)["tpm_used"] == 500  # the admission-relevant (input) window
    huge = e.submit(A, "default", 2500, 1000, T0 + 100)  # can never fit the input quota
    assert huge.state == "throttled" and huge.blocked_by.measure is Measure.INPUT_TOKENS


def test_rpm_throttle_names_the_requests_quota():
    e = engine([{"id": A, "name": "Nova Lite", "tpm": 10_000, "rpm": 2, "max_output_tokens": 10}],
               engine_settings={"tiers": {"default": {"max_wait_s": 0}}})
    e.submit(A, "default", 1, 1, T0)
    e.submit(A, "default", 1, 1, T0)
    third = e.submit(A, "default", 1, 1, T0)
    assert third.state == "throttled" and third.throttle_message == THROTTLE_REQUESTS
    assert third.blocked_by.measure is Measure.REQUESTS and third.blocked_on == "requests"


def test_utc_day_window_resets_at_midnight():
    day0 = 20_000 * DAY_S
    e = engine([{"id": A, "name": "Nova Lite", "tpm": 10_000, "rpm": 100, "max_output_tokens": 1000,
                 "tokens_per_day": 1000}], rules={"daily_window": "utc_day"},
               engine_settings={"tiers": {"default": {"max_wait_s": 0}}})
    assert e.submit(A, "default", 0, 1000, day0 + DAY_S - 120).state == "admitted"
    assert e.submit(A, "default", 0, 1000, day0 + DAY_S - 30).state == "throttled"
    assert e.submit(A, "default", 0, 1000, day0 + DAY_S).state == "admitted"


def test_model_not_ready_is_a_429_that_draws_no_quota():
    e = engine([{"id": A, "name": "Nova Lite", "tpm": 10_000, "rpm": 100, "max_output_tokens": 1000,
                 "not_ready_rate": 1.0}])
    with pytest.raises(EngineError) as err:
        e.submit(A, "default", 10, 10, T0)
    assert (err.value.code, err.value.status) == ("ModelNotReadyException", 429)
    assert all(u.used == 0 for u in e.quota_uses(T0))
    half = engine([{"id": A, "name": "Nova Lite", "tpm": 10_000_000, "rpm": 100_000, "max_output_tokens": 10,
                    "not_ready_rate": 0.25}])
    refused = 0
    for i in range(2000):
        try:
            half.submit(A, "default", 1, 1, T0 + i * 0.01)
        except EngineError as exc:
            assert exc.code == "ModelNotReadyException"
            refused += 1
    assert 400 < refused < 600


def test_reserved_overflow_takes_the_route_it_was_called_with():
    cat = parse_catalog([{"id": A, "name": "Nova Lite", "tpm": 10_000, "rpm": 100, "max_output_tokens": 1000,
                          "profiles": ["us"]}],
                        [{"model": A, "input_tpm": 100, "output_tpm": 100}], None)
    e = TierEngine(cat)
    t = e.submit(A, "reserved", 50, 500, T0, route=cross())
    assert t.overflowed and t.state == "admitted"
    assert used(e, QuotaKind.CROSS_REGION, Measure.TOKENS, T0) == 550
    assert used(e, QuotaKind.ON_DEMAND, Measure.TOKENS, T0) == 0


def test_a_route_the_model_has_no_pool_for_is_refused():
    e = engine([{"id": A, "name": "Nova Lite", "tpm": 10_000, "rpm": 100, "max_output_tokens": 1000}])
    with pytest.raises(EngineError) as err:
        e.submit(A, "default", 1, 1, T0, route=cross())
    assert (err.value.code, err.value.status) == ("ValidationException", 400)
    assert all(u.used == 0 for u in e.quota_uses(T0))


def test_quota_uses_list_every_bucket_once():
    e = engine()
    uses = e.quota_uses(T0)
    assert len({u.code for u in uses}) == len(uses) == len(e.catalog.quota_specs)
    assert all(u.source == "sandbox" for u in uses)


# ------------------------------------------------------------------ the day window

def test_bucketed_window_is_bounded_whatever_the_traffic():
    w = BucketedWindow(span=DAY_S, step=60)
    for i in range(3 * DAY_S // 7):
        w.add(T0 + i * 7, 1)
        if i % 5000 == 0:
            w.total(T0 + i * 7)
        assert len(w) <= 1441
    assert len(w) <= 1441


@given(st.lists(st.tuples(st.floats(0, 3 * DAY_S), st.integers(0, 5000)), max_size=80), st.floats(0, 4 * DAY_S))
@settings(max_examples=200, deadline=None)
def test_bucketed_window_forgets_never_early_and_at_most_a_step_late(events, probe):
    events.sort()
    w = BucketedWindow(span=DAY_S, step=60)
    for t, amount in events:
        w.add(T0 + t, amount)
    now = T0 + max([probe] + [t for t, _ in events])
    at_least = sum(a for t, a in events if T0 + t + DAY_S > now)  # never early
    at_most = sum(a for t, a in events if T0 + t + DAY_S + 60 > now)  # at most a step late
    assert at_least - 1e-6 <= w.total(now) <= at_most + 1e-6


def test_bucketed_window_settles_a_hold_in_its_bucket():
    w = BucketedWindow(span=DAY_S, step=60)
    h1 = w.add(T0, 100)
    h2 = w.add(T0 + 1, 50)
    w.adjust(h1, 10)
    assert w.total(T0 + 2) == 60
    w.adjust(h2, 0)
    assert w.total(T0 + 2) == 10
    assert w.total(T0 + DAY_S + 60) == 0
    w.adjust(h1, 999)  # a late settle of a forgotten bucket changes nothing
    assert w.total(T0 + DAY_S + 61) == 0


# ------------------------------------------------------------------ the invariant: never above any quota

ROUTES = [None, cross(), Route(RouteKind.GLOBAL, A, "global." + A, geo="global"), Route(RouteKind.ON_DEMAND, B, B)]


@given(st.lists(st.tuples(st.floats(0, 5), st.sampled_from(range(len(ROUTES))),
                          st.sampled_from(["priority", "default", "flex", None]), st.integers(0, 3000),
                          st.integers(1, 1000), st.integers(0, 1000), st.booleans()), max_size=120),
       st.sampled_from(["rolling", "utc_day"]))
@settings(max_examples=150, deadline=None)
def test_no_quota_is_ever_held_above_its_value(steps, window):
    """Burndown 1 (a settle never exceeds its hold): at every instant every bucket is within its quota."""
    models = [{"id": A, "name": "Nova Lite", "max_output_tokens": 1000, "tokens_per_day": 12_000,
               "quotas": {"on_demand": {"tpm": 5_000, "rpm": 8}, "cross_region": {"tpm": 8_000, "rpm": 6},
                          "global": {"input_tpm": 6_000, "output_tpm": 2_000}}},
              {"id": B, "name": "Nova Micro", "tpm": 4_000, "rpm": 5, "max_output_tokens": 1000}]
    e = engine(models, account={"cross_model_tokens_per_day": 15_000}, rules={"daily_window": window})
    now = T0
    live = []
    for gap, r, tier, inp, max_tokens, out, finish in steps:
        now += gap
        admitted, _ = e.advance(now)
        live.extend(admitted)
        t = e.submit(A, tier, inp, max_tokens, now, route=ROUTES[r])
        if t.state == "admitted":
            live.append(t)
        if finish and live:
            done = live.pop(0)
            e.complete(done, min(out, done.max_tokens), now)
        for u in e.quota_uses(now):
            if u.spec.measure is not Measure.OUTPUT_TOKENS:  # output admits while below: it may end above
                assert u.used <= u.spec.value + 1e-6, (u.spec.name, u.used)
