"""The metrics plan: one call's queries, and the arithmetic that turns minutes into live figures."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tierconsole.core.domain import metricsplan as mp
from tierconsole.core.domain.catalog import ReservationSpec
from tierconsole.core.domain.views import ModelQuotaView
from tierconsole.core.ops.status import quota_entry

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


# ------------------------------------------------------------------ batch figures belong to the job they are shown on

def _batch_answers(minutes: dict[float, tuple[float, float]]) -> mp.Answers:
    a = mp.Answers()
    a.series[("NumberOfInputTokensProcessedPerMinute", "amazon.nova-lite-v1:0", None)] = \
        {t: v[0] for t, v in minutes.items()}
    a.series[("NumberOfOutputTokensProcessedPerMinute", "amazon.nova-lite-v1:0", None)] = \
        {t: v[1] for t, v in minutes.items()}
    return a


def test_a_new_jobs_row_never_shows_the_previous_jobs_tokens():
    """Job A (same model) ended at 10:01:20; its last minute (10:01) published 200 in / 4.9k out. Job B was
    submitted at 10:01:40: until a minute after A's end is published, B has no batch figure of its own."""
    from tierconsole.core.domain.views import BatchJobView
    T = 1_800_000_000.0 - 1_800_000_000.0 % 60  # 10:00 (a minute boundary)
    model = "amazon.nova-lite-v1:0"
    a_job = BatchJobView("arn:a", "a", model, "Completed", submit_time=T - 600, end_time=T + 80)
    b_job = BatchJobView("arn:b", "b", model, "InProgress", submit_time=T + 100)
    answers = _batch_answers({T: (9_000.0, 30_000.0), T + 60: (200.0, 4_900.0)})
    rates = mp.batch_rates(answers, model, T + 130, since=mp.job_minutes_from(b_job, [a_job, b_job]))
    assert (rates.input_tpm, rates.output_tpm, rates.minute) == (None, None, None)
    # B's first own minute (10:02) is published: that is B's figure, and it says which minute it is.
    answers = _batch_answers({T: (9_000.0, 30_000.0), T + 60: (200.0, 4_900.0), T + 120: (7_000.0, 2_100.0)})
    rates = mp.batch_rates(answers, model, T + 190, since=mp.job_minutes_from(b_job, [a_job, b_job]))
    assert (rates.input_tpm, rates.output_tpm, rates.minute) == (7_000.0, 2_100.0, T + 120)
    # Without another job of the model around, the job's minutes start at its submission.
    assert mp.job_minutes_from(b_job, [b_job]) == T + 60
    # A job of another model never matters.
    other = BatchJobView("arn:c", "c", "anthropic.claude", "Completed", submit_time=T, end_time=T + 150)
    assert mp.job_minutes_from(b_job, [other, b_job]) == T + 60


def test_the_trailing_minute_is_an_estimate_that_can_read_above_the_real_window():
    """The quota pane's TPM is the minute in progress plus the unelapsed share of the previous minute, spread
    evenly (CloudWatch gives per-minute sums): use that came early in the previous minute is counted though the
    real sliding window has dropped it, so the figure can read a little above the quota."""
    minute = 1_800_000_000.0 - 1_800_000_000.0 % 60
    series = {minute - 60: 90_000.0, minute: 40_000.0}  # 90k at 09:59:05 (gone from the window by 10:00:20)
    now = minute + 20
    assert mp.trailing_minute(series, now) == pytest.approx(40_000 + 90_000 * 40 / 60)  # 100k: 100% of 100k


def test_an_early_spike_spread_over_the_minute_is_an_estimate_not_a_measured_overrun():
    # 115k tokens in the first seconds of the previous minute, 40k so far in this one (20 s in): the blended
    # trailing minute says 40k + 115k x 2/3 = 117k of a 100k quota, yet no measured minute is over it
    now = 1_800_000_020.0
    prev, cur = 1_799_999_940.0, 1_800_000_000.0
    a = mp.Answers()
    a.series[("EstimatedTPMQuotaUsage", "m", None)] = {prev: 95_000.0, cur: 40_000.0}
    [view] = mp.quota_views(a, ["m"], {}, {"m": 100_000.0}, {"m": 100.0}, {}, now)
    assert view.tpm_fraction > 1.0  # the blended estimate
    assert view.tpm_estimated and view.tpm_peak_minute == 95_000.0 and not view.tpm_measured_over
    a.series[("EstimatedTPMQuotaUsage", "m", None)] = {prev: 104_000.0, cur: 40_000.0}
    [over] = mp.quota_views(a, ["m"], {}, {"m": 100_000.0}, {"m": 100.0}, {}, now)
    assert over.tpm_measured_over  # a complete minute over the quota is measured, not estimated
    a.series[("EstimatedTPMQuotaUsage", "m", None)] = {cur: 40_000.0}
    [alone] = mp.quota_views(a, ["m"], {}, {"m": 100_000.0}, {"m": 100.0}, {}, now)
    assert not alone.tpm_estimated  # the minute in progress alone is measured


def test_status_json_says_when_the_tpm_figure_is_an_estimate():
    row = ModelQuotaView("m", "M", 100_000, 100, {"default": 117_000}, tpm_peak_minute=95_000.4, tpm_estimated=True)
    entry = quota_entry(row)
    assert entry["tpm_estimated"] is True and entry["tpm_peak_minute"] == 95_000 and entry["tpm_fraction"] == 1.17
