"""Pure unit tests of the dashboard's data contract and formatting (no Textual)."""
from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tierconsole.core.domain import format as fmt
from tierconsole.core.domain.sample import SAMPLE_NOW, sample_dashboard, sample_throttle_events
from tierconsole.core.domain.views import (
    BatchJobView, DashboardData, ModelQuotaView, PaneStatus, ReservationView, SearchIndex, ThrottleEvent,
    eta_seconds, filter_events,
)


def job(**kw) -> BatchJobView:
    base = dict(job_arn="arn:job/1", job_name="j", model_id="amazon.nova-lite-v1:0", status="InProgress",
                submit_time=1000.0, total_records=1000, processed=250)
    return BatchJobView(**{**base, **kw})


# --- views ----------------------------------------------------------------------------------
def test_quota_fractions_sum_the_on_demand_tiers():
    q = ModelQuotaView("m", "M", tpm_quota=400_000, rpm_quota=1000,
                       tpm_by_tier={"priority": 60_000, "default": 250_000, "flex": 30_000, "reserved": 99_999},
                       rpm_used=640)
    assert q.tpm_used == 340_000  # reserved traffic does not draw on the on-demand quota
    assert q.tpm_fraction == pytest.approx(0.85)
    assert q.rpm_fraction == pytest.approx(0.64)


def test_unknown_quota_gives_zero_fraction():
    q = ModelQuotaView("m", "M", tpm_quota=0, rpm_quota=0, tpm_by_tier={"default": 10})
    assert q.tpm_fraction == 0.0 and q.rpm_fraction == 0.0 and q.tpm_used == 10


def test_reservation_fractions():
    r = ReservationView("r", "m", 70_000, 100_000, 5_000, 10_000)
    assert r.input_fraction == pytest.approx(0.7) and r.output_fraction == pytest.approx(0.5)
    assert ReservationView("r", "m", 5, 0, 5, 0).input_fraction == 0.0


@pytest.mark.parametrize("status, active", [
    ("Submitted", True), ("Validating", True), ("Scheduled", True), ("InProgress", True), ("Stopping", True),
    ("Completed", False), ("PartiallyCompleted", False), ("Failed", False), ("Stopped", False), ("Expired", False),
])
def test_batch_active_statuses(status, active):
    assert job(status=status).active is active


def test_eta_from_the_processing_rate_since_the_job_went_in_progress():
    # Queued for an hour (submitted at 1000), seen InProgress at 4600 with 100 done; at 4700, 350 done:
    # 2.5 records/s while processing, 650 left -> 260 s. (Counting from submission would say ~2 hours.)
    running = job(submit_time=1000.0, processed=350, progress_since=4600.0, processed_since=100, observed_at=4700.0)
    assert eta_seconds(running, now=4700.0) == pytest.approx(260.0)
    assert eta_seconds(running, now=4760.0) == pytest.approx(200.0)  # counts down between refreshes
    assert eta_seconds(running, now=9999.0) == 0.0
    assert eta_seconds(dataclasses.replace(running, processed=1000), now=4700.0) == 0.0


@pytest.mark.parametrize("changes", [
    {"status": "Completed"},  # not active
    {"status": "Scheduled"},  # not processing
    {"total_records": None},  # total unknown
    {"processed": 100},  # no progress seen since InProgress: no rate yet
    {"progress_since": None},  # never seen InProgress
    {"observed_at": 4600.0},  # one observation only
])
def test_eta_unknown(changes):
    base = dict(processed=350, progress_since=4600.0, processed_since=100, observed_at=4700.0)
    assert eta_seconds(job(**{**base, **changes}), now=4700.0) is None


def test_job_fraction_and_elapsed():
    assert job().fraction == 0.25
    assert job(total_records=None).fraction is None
    assert job().elapsed(1600.0) == 600.0
    assert job(end_time=1300.0, status="Completed").elapsed(9999.0) == 300.0


def test_pane_status_age_and_dashboard_defaults():
    assert PaneStatus(True, 90.0).age(100.0) == 10.0
    assert PaneStatus(False, None, "boom").age(100.0) is None
    data = DashboardData(time=100.0, status={"quota": PaneStatus(False, 40.0, "x"), "batch": PaneStatus(True, 95.0)})
    assert data.pane_status("reservations").ok  # no entry: ok
    assert not data.pane_status("quota").ok
    assert data.oldest_update == 40.0


def test_throttle_event_search_key_covers_every_column_and_both_tier_names():
    e = ThrottleEvent(1.0, "amazon.nova-lite-v1:0", "default", 3, "ThrottlingException", "Too many tokens", "cloudwatch")
    for word in ("nova-lite", "default", "standard", "throttlingexception", "too many tokens", "cloudwatch"):
        assert word in e.search_key
    assert e.short_error == "Throttling"
    # The key is not part of equality (it is derived).
    assert e == ThrottleEvent(1.0, "amazon.nova-lite-v1:0", "default", 3, "ThrottlingException", "Too many tokens",
                              "cloudwatch")


def test_filter_events_terms_and_negation():
    events = sample_throttle_events(2000)
    assert filter_events(events, "") is events
    flex = filter_events(events, "FLEX")
    assert flex and all("flex" in e.search_key for e in flex)
    assert len(flex) == sum(1 for e in events if "flex" in e.search_key)
    both = filter_events(events, "nova standard !request")
    assert both and all(e.tier == "default" and "nova" in e.model_id and "request" not in e.message for e in both)
    assert list(filter_events(events, "zzz-nothing")) == []


_EVENTS = tuple(sample_throttle_events(600))
_WORDS = ["nova", "flex", "standard", "priority", "token", "request", "console", "cloudwatch", "sonnet", "zzz", "a"]


@given(st.lists(st.sampled_from(_WORDS + ["!" + w for w in _WORDS]), max_size=3))
def test_filter_with_an_index_is_the_filter_without_one(words):
    query = " ".join(words)
    plain = list(filter_events(_EVENTS, query))
    assert list(filter_events(_EVENTS, query, SearchIndex(_EVENTS))) == plain
    include = [w for w in words if not w.startswith("!")]
    exclude = [w[1:] for w in words if w.startswith("!")]
    assert plain == [e for e in _EVENTS if all(w in e.search_key for w in include)
                     and not any(w in e.search_key for w in exclude)]


def test_an_index_over_other_events_is_not_used():
    other = SearchIndex(_EVENTS[:10])
    assert list(filter_events(_EVENTS, "flex", other)) == list(filter_events(_EVENTS, "flex"))
    assert filter_events(_EVENTS, "!zzz", SearchIndex(_EVENTS)) is _EVENTS  # nothing filtered out: no copy


def test_sample_is_deterministic_and_realistic():
    a, b = sample_dashboard(), sample_dashboard()
    assert a == b and a.time == SAMPLE_NOW
    sonnet = a.reservations[0]
    assert 0.65 < sonnet.input_fraction < 0.75 and sonnet.overflow_tpm is None, "AWS publishes no overflow"
    assert sample_dashboard(sandbox=True).reservations[0].overflow_tpm > 0
    assert len(sonnet.input_history) == 15
    nova = next(q for q in a.quotas if q.model_id.startswith("amazon.nova-lite"))
    assert 0.8 <= nova.tpm_fraction < 0.9
    assert any(e.tier == "default" and "nova-lite" in e.model_id for e in a.throttle_events)
    times = [e.time for e in a.throttle_events if e.source == "console"]
    assert times == sorted(times, reverse=True)  # newest first
    assert any(j.active for j in a.batch_jobs) and any(not j.active for j in a.batch_jobs)


# --- format ---------------------------------------------------------------------------------
@pytest.mark.parametrize("value, text", [
    (0, "0"), (12.4, "12"), (999, "999"), (999.6, "1.0k"), (1000, "1.0k"), (12_345, "12.3k"),
    (99_949, "99.9k"), (99_950, "100k"), (123_456, "123k"), (999_600, "1.0M"), (1_500_000, "1.5M"),
    (2e9, "2.0B"), (-12_345, "-12.3k"), (None, "—"),
])
def test_human_count(value, text):
    assert fmt.human_count(value) == text


@given(st.floats(min_value=0, max_value=1e14, allow_nan=False))
def test_human_count_is_short(value):
    text = fmt.human_count(value)
    assert len(text) <= 5
    assert not text.startswith("1000")


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (42.9, "42s"), (245, "4m05s"), (42 * 60 + 5, "42m"), (3725, "1h02m"), (3 * 86400 + 4 * 3600, "3d04h"),
    (-5, "0s"), (None, "—"),
])
def test_duration(seconds, text):
    assert fmt.duration(seconds) == text


def test_age_and_clock_and_percent():
    assert fmt.age(12) == "12s ago" and fmt.age(0.3) == "just now" and fmt.age(None) == "never"
    assert fmt.clock(SAMPLE_NOW) == "14:30:00"
    assert fmt.percent(0.704) == "70%" and fmt.percent(0.001) == "<1%" and fmt.percent(None) == "—"
    assert fmt.grouped(6420) == "6,420"


@pytest.mark.parametrize("wire, label", [("default", "Standard"), ("priority", "Priority"), ("flex", "Flex"),
                                         ("reserved", "Reserved"), ("", "all"), ("weird", "weird")])
def test_tier_label(wire, label):
    assert fmt.tier_label(wire) == label


@pytest.mark.parametrize("model_id, short", [
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
    ("amazon.nova-lite-v1:0", "nova-lite"),
    ("openai.gpt-oss-20b-1:0", "gpt-oss-20b"),
    ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "us.claude-3-7-sonnet"),
    ("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0", "nova-pro"),
    ("custom-model", "custom-model"),
])
def test_short_model(model_id, short):
    assert fmt.short_model(model_id) == short
