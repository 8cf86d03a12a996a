"""The change-event detector (core/domain/events.py): examples of each kind, and properties over generated
sequences of refreshes (episodes well formed, a restart from the saved state changes nothing, state bounded)."""
from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st

from tierconsole.core.domain.events import Detector, WatchSettings
from tierconsole.core.domain.views import (BatchJobView, DashboardData, ModelQuotaView, PaneStatus,
                                           ReservationView, ThrottleEvent)

T0 = 1_764_460_800.0  # a minute boundary
NOVA = "amazon.nova-lite-v1:0"


def quota(model=NOVA, tpm=0.0, quota_tpm=100_000.0, rpm=0.0, rpm_quota=300.0):
    return ModelQuotaView(model, "Amazon Nova Lite", quota_tpm, rpm_quota, {"default": tpm}, rpm_used=rpm)


def snap(t, quotas=(), reservations=(), throttles=(), jobs=(), stale=()):
    status = {p: PaneStatus(ok=p not in stale, updated_at=T0, reason="down" if p in stale else None)
              for p in ("reservations", "quota", "throttles", "batch")}
    return DashboardData(time=t, quotas=tuple(quotas), reservations=tuple(reservations),
                         throttle_events=tuple(throttles), batch_jobs=tuple(jobs), status=status)


def kinds(events):
    return [(e.kind, e.phase, e.subject) for e in events]


def test_a_quota_crossing_and_back_is_one_episode_with_hysteresis():
    d = Detector(WatchSettings(threshold=0.8, clear_s=30))
    assert d.observe(snap(T0, [quota(tpm=50_000)])) == []
    start = d.observe(snap(T0 + 5, [quota(tpm=93_000)]))
    assert kinds(start) == [("quota_over", "start", f"quota:{NOVA}")]
    assert start[0].summary == "Amazon Nova Lite TPM 93% ≥ 80%" and "at_start" not in start[0].details
    assert d.observe(snap(T0 + 10, [quota(tpm=97_000)])) == []
    assert d.observe(snap(T0 + 15, [quota(tpm=70_000)])) == []  # under, but not yet for clear_s
    assert d.observe(snap(T0 + 20, [quota(tpm=85_000)])) == []  # over again: the same episode
    assert d.observe(snap(T0 + 25, [quota(tpm=10_000)])) == []
    end = d.observe(snap(T0 + 55, [quota(tpm=10_000)]))
    assert kinds(end) == [("quota_over", "end", f"quota:{NOVA}")]
    assert end[0].episode == start[0].episode and end[0].since == T0 + 5
    assert "peak 97%" in end[0].summary


def test_a_quota_already_over_at_the_first_refresh_starts_at_once_and_says_so():
    events = Detector().observe(snap(T0, [quota(rpm=290)]))
    assert kinds(events) == [("quota_over", "start", f"quota:{NOVA}")]
    assert events[0].details["at_start"] is True and events[0].details["measure"] == "RPM"


def test_a_hold_delays_the_start():
    d = Detector(WatchSettings(hold_s=60))
    assert d.observe(snap(T0, [quota(tpm=90_000)])) == []
    assert d.observe(snap(T0 + 59, [quota(tpm=90_000)])) == []
    assert kinds(d.observe(snap(T0 + 60, [quota(tpm=90_000)]))) == [("quota_over", "start", f"quota:{NOVA}")]


def _throttles(per_minute):
    return [ThrottleEvent(time=m, model_id=NOVA, tier="default", count=c, source="cloudwatch")
            for m, c in per_minute.items() if c]


def test_a_throttle_storm_starts_after_a_complete_minute_over_the_rate_and_ends_after_one_under():
    d = Detector(WatchSettings(storm_rate=30, metric_delay_s=5))
    per = {T0: 0.0}
    assert d.observe(snap(T0 + 30, [quota()], throttles=_throttles(per))) == []
    per[T0 + 60] = 50
    assert d.observe(snap(T0 + 100, [quota()], throttles=_throttles(per))) == []  # minute T0+60 not complete
    assert d.observe(snap(T0 + 124, [quota()], throttles=_throttles(per))) == []  # complete, but not 5 s past
    start = d.observe(snap(T0 + 125, [quota()], throttles=_throttles(per)))
    assert kinds(start) == [("throttle_storm", "start", f"model:{NOVA}")]
    assert start[0].value == 50 and start[0].details["minute"] == T0 + 60 and start[0].source == "cloudwatch"
    assert d.observe(snap(T0 + 126, [quota()], throttles=_throttles(per))) == []  # a minute is judged once
    per[T0 + 120] = 40
    assert d.observe(snap(T0 + 190, [quota()], throttles=_throttles(per))) == []
    per[T0 + 180] = 3
    end = d.observe(snap(T0 + 250, [quota()], throttles=_throttles(per)))
    assert kinds(end) == [("throttle_storm", "end", f"model:{NOVA}")]
    assert end[0].episode == start[0].episode and "peak 50/min" in end[0].summary


def test_console_throttles_do_not_make_a_storm():
    d = Detector(WatchSettings(storm_rate=1))
    events = [ThrottleEvent(time=T0 + 60, model_id=NOVA, tier="default", count=99, source="console")]
    d.observe(snap(T0 + 30, [quota()]))
    assert d.observe(snap(T0 + 130, [quota()], throttles=events)) == []


def test_overflow_stale_batch_and_quota_value():
    res = lambda over: ReservationView("r1", NOVA, 10, 100, 1, 10, overflow_tpm=over, overflow_source="sandbox")  # noqa: E731
    job = lambda status: BatchJobView("arn:job/1", "nightly", NOVA, status, T0)  # noqa: E731
    d = Detector(WatchSettings(clear_s=0, stale_after_s=20))
    assert d.observe(snap(T0, [quota()], [res(0.0)], jobs=[job("InProgress")])) == []
    got = d.observe(snap(T0 + 5, [quota(quota_tpm=200_000)], [res(8_200.0)], jobs=[job("Completed")]))
    assert kinds(got) == [("batch_state", "change", "job:arn:job/1"), ("overflow", "start", "reservation:r1"),
                          ("quota_value", "change", f"quota:{NOVA}:TPM")]
    assert got[1].source == "sandbox" and "8,200 TPM asked Reserved, served by Standard" in got[1].summary
    assert got[0].details == {"from": "InProgress", "to": "Completed", "job_name": "nightly"}
    assert got[2].details["from"] == 100_000 and got[2].details["to"] == 200_000
    assert d.observe(snap(T0 + 10, [quota(quota_tpm=200_000)], [res(8_000.0)], stale=("batch",))) == []
    stale = d.observe(snap(T0 + 30, [quota(quota_tpm=200_000)], [res(0.0)], stale=("batch",)))
    assert kinds(stale) == [("overflow", "end", "reservation:r1"), ("stale", "start", "data")]
    assert stale[1].summary == "data stale: batch: down"
    assert kinds(d.observe(snap(T0 + 35, [quota(quota_tpm=200_000)], [res(0.0)]))) == [("stale", "end", "data")]


def test_data_time_going_back_rebases_timers_and_emits_nothing():
    d = Detector(WatchSettings(hold_s=60))
    d.observe(snap(T0 + 1000, [quota(tpm=90_000)]))
    assert d.observe(snap(T0, [quota(tpm=90_000)])) == []
    assert d.observe(snap(T0 + 59, [quota(tpm=90_000)])) == []
    assert len(d.observe(snap(T0 + 60, [quota(tpm=90_000)]))) == 1


# ------------------------------------------------------------------ properties
_step = st.fixed_dictionaries({
    "dt": st.sampled_from([1.0, 5.0, 20.0, 61.0]),
    "tpm": st.sampled_from([0.0, 50_000.0, 79_999.0, 80_000.0, 99_000.0]),
    "quota": st.sampled_from([100_000.0, 100_000.0, 0.0, 150_000.0]),
    "throttles": st.sampled_from([0, 5, 30, 200]),
    "overflow": st.sampled_from([None, 0.0, 500.0]),
    "job": st.sampled_from(["Submitted", "InProgress", "Completed", "Failed", None]),
    "stale": st.sampled_from([(), (), ("quota",), ("throttles", "reservations"), ("batch",)]),
    "second_model": st.booleans(),
})


def _snapshots(steps):
    t, per_minute, out = T0, {}, []
    for s in steps:
        t += s["dt"]
        minute = (t // 60) * 60
        per_minute.setdefault(minute, s["throttles"])  # a minute's count, once published, stays
        quotas = [quota(tpm=s["tpm"], quota_tpm=s["quota"])]
        if s["second_model"]:
            quotas.append(quota("openai.gpt-oss-20b-1:0", tpm=s["tpm"] / 2))
        res = [ReservationView("r1", NOVA, s["tpm"] / 2, 100_000, 0, 10_000, overflow_tpm=s["overflow"])]
        jobs = [BatchJobView("arn:job/1", "n", NOVA, s["job"], T0)] if s["job"] else []
        throttles = [ThrottleEvent(time=m, model_id=NOVA, tier="", count=c, source="cloudwatch")
                     for m, c in per_minute.items() if c and m >= t - 900]
        out.append(snap(t, quotas, res, throttles, jobs, s["stale"]))
    return out


SETTINGS = WatchSettings(storm_rate=30, clear_s=10, hold_s=5, stale_after_s=10)


@settings(max_examples=150, deadline=None)
@given(st.lists(_step, min_size=1, max_size=60))
def test_episodes_are_well_formed(steps):
    d = Detector(SETTINGS)
    open_: dict[tuple[str, str], str] = {}
    ids = set()
    for data in _snapshots(steps):
        for e in d.observe(data):
            key = (e.kind, e.subject)
            if e.phase == "start":
                assert key not in open_, f"two starts without an end: {key}"
                assert e.episode not in ids, "an episode id reused"
                open_[key] = e.episode
                ids.add(e.episode)
            elif e.phase == "end":
                assert open_.pop(key) == e.episode
            assert e.time == data.time
    assert set(open_.values()) == {ep["episode"] for ep in d.open.values()}


@settings(max_examples=150, deadline=None)
@given(st.lists(_step, min_size=2, max_size=50), st.data())
def test_resuming_from_the_saved_state_gives_the_same_events(steps, data):
    snaps = _snapshots(steps)
    cut = data.draw(st.integers(1, len(snaps) - 1))
    whole = Detector(SETTINGS)
    expected = [e for s in snaps for e in whole.observe(s)]
    first = Detector(SETTINGS)
    got = [e for s in snaps[:cut] for e in first.observe(s)]
    resumed = Detector(SETTINGS, state=json.loads(json.dumps(first.state())))
    got += [e for s in snaps[cut:] for e in resumed.observe(s)]
    assert got == expected


@settings(max_examples=50, deadline=None)
@given(st.lists(_step, min_size=100, max_size=300))
def test_the_state_is_bounded_by_the_subjects_present(steps):
    d = Detector(SETTINGS)
    for s in _snapshots(steps):
        d.observe(s)
    state = d.state()
    assert len(state["open"]) + len(state["pending"]) <= 2 * 6  # quota x2, reservation x2 kinds, storm x2, stale
    assert len(state["minute"]) <= 4 and len(state["jobs"]) <= 1 and len(state["quota"]) <= 4


def test_an_error_storm_from_the_last_complete_minute_of_each_model():
    from tierconsole.core.domain.views import UsageMinute

    def row(minute, errors):
        return UsageMinute(minute, NOVA, {"default": 10.0}, 100_000, 5, 300, {"all": 0}, server_errors=errors)

    d = Detector(WatchSettings(error_rate=10, metric_delay_s=5))
    data = lambda t, rows: DashboardData(time=t, quotas=(quota(),), usage_minutes=tuple(rows))  # noqa: E731
    assert d.observe(data(T0 + 62, [row(T0, 40)])) == []  # not yet 5 s past the minute's end
    start = d.observe(data(T0 + 65, [row(T0, 40)]))
    assert kinds(start) == [("error_storm", "start", f"model:{NOVA}")]
    assert "40 server errors (5xx) in the minute ≥ 10/min" in start[0].summary
    assert d.observe(data(T0 + 70, [row(T0, 40)])) == []  # judged once
    assert d.observe(data(T0 + 125, [row(T0 + 60, 12)])) == []
    end = d.observe(data(T0 + 185, [row(T0 + 120, 0)]))
    assert kinds(end) == [("error_storm", "end", f"model:{NOVA}")] and end[0].episode == start[0].episode


def test_data_time_going_back_closes_the_open_episodes_as_abandoned_and_starts_afresh():
    """W2: a restarted drill sandbox (its clock starts again): the open episodes end *abandoned* at the last data
    time of the old clock (never an end before its start), and the detector starts afresh on the new clock."""
    d = Detector(WatchSettings(clear_s=0))
    start = d.observe(snap(T0 + 1000, [quota(tpm=90_000)]))
    assert kinds(start) == [("quota_over", "start", f"quota:{NOVA}")]
    d.observe(snap(T0 + 1010, [quota(tpm=95_000)]))
    back = d.observe(snap(T0, [quota(tpm=90_000)]))
    assert kinds(back) == [("quota_over", "end", f"quota:{NOVA}"), ("quota_over", "start", f"quota:{NOVA}")]
    end, again = back
    assert end.episode == start[0].episode and end.details["abandoned"] is True
    assert end.time == T0 + 1010 and end.since == T0 + 1000 and end.details["duration_s"] == 10
    assert "abandoned" in end.summary and "data clock went back" in end.summary
    assert again.episode != start[0].episode and again.time == T0 and again.details["at_start"] is True


@settings(max_examples=150, deadline=None)
@given(st.lists(st.fixed_dictionaries({"dt": st.sampled_from([1.0, 5.0, 61.0, 200.0, -30.0, -4000.0]),
                                       "tpm": st.sampled_from([0.0, 90_000.0]),
                                       "throttles": st.sampled_from([0, 200]),
                                       "stale": st.sampled_from([(), ("quota",)])}), min_size=1, max_size=60))
def test_no_episode_ever_ends_before_it_started(steps):
    """Whatever the data clock does (back a little, back a lot: a new sandbox), an end is never before its start
    and no duration is negative; every end closes an open start."""
    d = Detector(SETTINGS)
    t, open_ = T0 + 10_000, {}
    for s in steps:
        t += s["dt"]
        minute = (t // 60) * 60
        throttles = [ThrottleEvent(time=m, model_id=NOVA, tier="", count=s["throttles"], source="cloudwatch")
                     for m in (minute - 60, minute - 120) if s["throttles"]]
        for e in d.observe(snap(t, [quota(tpm=s["tpm"])], throttles=throttles, stale=s["stale"])):
            if e.phase == "start":
                assert (e.kind, e.subject) not in open_
                open_[(e.kind, e.subject)] = e
            elif e.phase == "end":
                started = open_.pop((e.kind, e.subject))
                assert e.since == started.since and e.since <= e.time, e
                assert e.details["duration_s"] >= 0 and "for 0m 00s" not in e.summary or e.time == e.since
