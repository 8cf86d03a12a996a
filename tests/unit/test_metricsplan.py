"""The metrics plan: one call's queries, and the arithmetic that turns minutes into live figures."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tierconsole.core.domain import metricsplan as mp
from tierconsole.core.domain.catalog import ReservationSpec

NOW = 1_800_000_030.0  # 30 s into a minute
MIN = 1_800_000_000.0


def test_one_plan_covers_every_model_tier_and_metric_within_the_limit():
    models = [f"model-{i}" for i in range(20)]
    tiers = {m: {"priority", "default", "flex", "reserved"} for m in models}
    p = mp.plan(models, tiers, models, NOW)
    ids = [q.id for q in p.queries]
    assert len(ids) == len(set(ids)) <= mp.MAX_QUERIES
    assert all(i[0].islower() for i in ids)
    assert p.start == MIN - 15 * 60 and p.end == NOW
    assert {(q.metric, q.tier) for q in p.queries if q.model_id == "model-3"} >= {
        ("EstimatedTPMQuotaUsage", "flex"), ("InvocationThrottles", None), ("OutputTokenCount", "reserved")}
    with pytest.raises(ValueError, match="exceed"):
        mp.plan([f"m{i}" for i in range(40)], {f"m{i}": {"priority", "default", "flex", "reserved"} for i in range(40)},
                [f"m{i}" for i in range(40)], NOW)


def test_trailing_minute_blends_the_previous_minute():
    series = {MIN: 600.0, MIN - 60: 1200.0}
    assert mp.trailing_minute(series, NOW) == pytest.approx(600 + 1200 * 0.5)
    assert mp.trailing_minute(series, MIN) == pytest.approx(600 + 1200)
    assert mp.trailing_minute({}, NOW) == 0


def test_answers_to_views():
    p = mp.plan(["m"], {"m": {"default", "priority", "reserved"}}, ["m"], NOW, sandbox=True)
    ts = [datetime.fromtimestamp(MIN, timezone.utc), datetime.fromtimestamp(MIN - 120, timezone.utc)]
    by = {(q.metric, q.tier): q.id for q in p.queries}
    results = [
        {"Id": by[("EstimatedTPMQuotaUsage", "default")], "Timestamps": ts, "Values": [900.0, 50.0]},
        {"Id": by[("EstimatedTPMQuotaUsage", "priority")], "Timestamps": ts[:1], "Values": [100.0]},
        {"Id": by[("InvocationThrottles", "default")], "Timestamps": ts, "Values": [3.0, 2.0]},
        {"Id": by[("InputTokenCount", "reserved")], "Timestamps": ts[:1], "Values": [40_000.0]},
        {"Id": by[("OutputTokenCount", "reserved")], "Timestamps": ts[:1], "Values": [5_000.0]},
        {"Id": by[("ReservedOverflowInvocations", None)], "Timestamps": ts[:1], "Values": [4.0]},
        {"Id": by[("ReservedOverflowInputTokenCount", None)], "Timestamps": ts[:1], "Values": [9_000.0]},
        {"Id": by[("ReservedOverflowOutputTokenCount", None)], "Timestamps": ts[:1], "Values": [600.0]},
    ]
    a = mp.Answers.from_results(p, results)
    q = mp.quota_views(a, ["m"], {"m": "Model M"}, {"m": 10_000}, {"m": 100}, {"m": {"default", "priority"}}, NOW)[0]
    assert q.tpm_by_tier == {"priority": 100.0, "default": 900.0, "flex": 0.0}
    assert q.tpm_fraction == pytest.approx(0.1)
    r = mp.reservation_views(a, [ReservationSpec("r", "m", 100_000, 10_000)], NOW)[0]
    assert (r.input_tpm_used, r.output_tpm_used) == (40_000.0, 5_000.0)
    assert (r.overflow_tpm, r.overflow_rpm, r.overflow_source) == (9_600.0, 4.0, "sandbox")  # tokens, not requests
    aws = mp.reservation_views(mp.Answers(series=a.series), [ReservationSpec("r", "m", 100_000, 10_000)], NOW)[0]
    assert (aws.overflow_tpm, aws.overflow_rpm, aws.overflow_source) == (None, None, "")
    events = mp.throttle_events(a, ["m"], {"m": {"default"}})
    assert [(e.time, e.tier, e.count) for e in events] == [(MIN, "default", 3), (MIN - 120, "default", 2)]
    rates = mp.throttle_rates(a, ["m"], {"m": {"default"}}, NOW)
    assert rates["default"][-1] == 3.0 and rates["default"][-3] == 2.0 and len(rates["default"]) == 16
