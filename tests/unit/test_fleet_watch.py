"""The fleet's watch (issue 16): FleetSnapshots fed to the one detector and alert book, per account × region —
quota crossings and back, throttle storms, stale and recovered — each event naming account, region and model,
each alert once per episode, ids unique across the fleet, and a restart from the state not firing again."""
from __future__ import annotations

import json
from dataclasses import replace

from tierconsole.core.domain.fleetrows import BindingQuota, FleetRow, FleetSnapshot
from tierconsole.core.domain.fleetwatch import FleetWatch
from tierconsole.core.domain.watchconfig import parse_watch

T0 = 1_764_460_800.0  # a minute boundary
NOVA = "amazon.nova-lite-v1:0"
GPT = "openai.gpt-oss-20b-1:0"
PAY, SEARCH = "200000000001", "200000000003"
CONFIG = parse_watch({"clear_seconds": 0, "stale_after_seconds": 10}, None, threshold=0.8, sandbox=True)


def row(account=PAY, name="payments-prod", region="us-east-1", series=NOVA, use=0.1, minutes=(), stale=None):
    b = BindingQuota("Tokens per minute for Nova Lite", "L-1", "on_demand", "on-demand TPM", 120_000.0,
                     use * 120_000, use)
    return FleetRow(account, name, region, series, series, "on_demand", use * 120_000, 10.0, 0.0, binding=b,
                    stale=stale, source="sandbox", throttle_minutes=tuple(minutes))


def snap(t, *rows):
    return FleetSnapshot(t, "fleet", "100000000000", ("us-east-1", "us-west-2"), 0.8, tuple(rows), source="sandbox")


def kinds(events):
    return [(e.kind, e.phase, e.details["account_id"], e.details["region"], e.model) for e in events]


def test_a_quota_crossing_and_back_names_the_account_region_and_model_and_alerts_once():
    w = FleetWatch(CONFIG)
    events, alerts = w.observe(snap(T0, row(use=0.1), row(SEARCH, "search-prod", use=0.1)))
    assert events == [] and alerts == []
    events, alerts = w.observe(snap(T0 + 5, row(use=0.86), row(SEARCH, "search-prod", use=0.1)))
    assert kinds(events) == [("quota_over", "start", PAY, "us-east-1", NOVA)]
    assert events[0].summary.startswith(f"payments-prod ({PAY}) us-east-1: {NOVA} on-demand TPM 86% ≥ 80%")
    assert events[0].details["account_name"] == "payments-prod"
    assert [a.type for a in alerts] == ["alert"] and alerts[0].event.details["account_id"] == PAY
    where = w.where(snap(T0 + 5), events[0])
    assert (where["account"], where["account_name"], where["region"], where["model"]) == (
        PAY, "payments-prod", "us-east-1", NOVA)
    events, alerts = w.observe(snap(T0 + 10, row(use=0.9), row(SEARCH, "search-prod", use=0.1)))
    assert events == [] and alerts == []  # still the same episode: no second alert
    events, alerts = w.observe(snap(T0 + 15, row(use=0.5), row(SEARCH, "search-prod", use=0.1)))
    assert kinds(events) == [("quota_over", "end", PAY, "us-east-1", NOVA)]
    assert [a.type for a in alerts] == ["resolved"]


def test_two_accounts_over_at_once_are_two_episodes_with_distinct_alert_ids():
    w = FleetWatch(CONFIG)
    w.observe(snap(T0, row(use=0.1), row(SEARCH, "search-prod", use=0.1), row(region="us-west-2", use=0.1)))
    events, alerts = w.observe(snap(T0 + 5, row(use=0.9), row(SEARCH, "search-prod", use=0.9),
                                    row(region="us-west-2", use=0.9)))
    assert sorted((e.details["account_id"], e.details["region"]) for e in events) == [
        (PAY, "us-east-1"), (PAY, "us-west-2"), (SEARCH, "us-east-1")]
    assert len({e.episode for e in events}) == 3 and len({a.alert_id for a in alerts}) == 3


def test_a_throttle_storm_starts_and_ends_on_complete_minutes():
    w = FleetWatch(CONFIG)  # storm: 30 throttles/min for 1 minute (the defaults)
    calm = row(SEARCH, "search-prod", series=GPT, minutes=[(T0 - 60, 2.0)])
    assert w.observe(snap(T0 + 10, calm))[0] == []
    hot = row(SEARCH, "search-prod", series=GPT, minutes=[(T0, 45.0), (T0 + 60, 50.0)])
    events, alerts = w.observe(snap(T0 + 70, hot))  # minute T0 is complete (and 5 s late): judged
    assert kinds(events) == [("throttle_storm", "start", SEARCH, "us-east-1", GPT)]
    assert "45 throttled in the minute ≥ 30/min" in events[0].summary and events[0].summary.startswith("search-prod")
    assert [a.type for a in alerts] == ["alert"]
    assert w.observe(snap(T0 + 80, hot))[0] == []  # the same minute is judged once
    over = row(SEARCH, "search-prod", series=GPT, minutes=[(T0 + 60, 50.0), (T0 + 120, 3.0)])
    events, alerts = w.observe(snap(T0 + 190, over))
    assert kinds(events) == [("throttle_storm", "end", SEARCH, "us-east-1", GPT)]
    assert [a.type for a in alerts] == ["resolved"]


def test_a_minute_the_fleet_did_not_read_is_not_judged_as_calm():
    w = FleetWatch(CONFIG)
    w.observe(snap(T0 + 70, row(SEARCH, "search-prod", series=GPT, minutes=[(T0, 45.0)])))
    # ten minutes later (a long outage of the watch): only the minutes this refresh read are judged
    events, _ = w.observe(snap(T0 + 670, row(SEARCH, "search-prod", series=GPT,
                                             minutes=[(T0 + 540, 40.0), (T0 + 600, 40.0)])))
    assert not [e for e in events if e.phase == "end"], events  # the storm is still on in what was read


def test_a_stale_row_is_an_episode_with_its_reason_and_recovers():
    w = FleetWatch(CONFIG)
    w.observe(snap(T0, row(use=0.9)))
    why = "not linked to this monitoring account in us-east-1 (GetMetricData: Forbidden)"
    events, _ = w.observe(snap(T0 + 5, row(use=0.9, stale=why)))
    assert [e.kind for e in events] == []  # stale for less than stale_after_seconds
    events, alerts = w.observe(snap(T0 + 16, row(use=0.1, stale=why)))
    assert kinds(events) == [("stale", "start", PAY, "us-east-1", None)]  # the quota is not judged while stale
    assert events[0].summary == f"payments-prod ({PAY}) us-east-1: data stale: {why}"
    assert [a.type for a in alerts] == ["alert"]
    events, alerts = w.observe(snap(T0 + 20, row(use=0.1)))
    assert sorted(e.kind for e in events) == ["quota_over", "stale"] and {e.phase for e in events} == {"end"}


def test_a_restart_from_the_state_does_not_start_or_alert_an_open_episode_again():
    w = FleetWatch(CONFIG)
    w.observe(snap(T0, row(use=0.1)))
    events, alerts = w.observe(snap(T0 + 5, row(use=0.9)))
    assert len(alerts) == 1
    saved = json.loads(json.dumps(w.state()))
    assert f"{PAY}|us-east-1" in saved["fleet"]
    again = FleetWatch(CONFIG, saved)
    events, alerts = again.observe(snap(T0 + 60, row(use=0.9)))
    assert events == [] and alerts == []
    events, alerts = again.observe(snap(T0 + 65, row(use=0.2)))
    assert [(e.kind, e.phase) for e in events] == [("quota_over", "end")] and [a.type for a in alerts] == ["resolved"]
    fresh = FleetWatch(CONFIG, {"format": "tierconsole-watch-state", "version": 1, "detectors": {}})
    assert fresh.cells == {}  # a single profile's state: nothing of a fleet in it


def test_only_every_region_down_slows_the_loop():
    up = snap(T0, row())
    assert not FleetWatch.failing(up)
    one = FleetSnapshot(T0, "fleet", None, ("us-east-1", "us-west-2"), 0.8, (), region_stale={"us-west-2": "down"})
    both = FleetSnapshot(T0, "fleet", None, ("us-east-1", "us-west-2"), 0.8, (),
                         region_stale={"us-west-2": "down", "us-east-1": "down"})
    assert not FleetWatch.failing(one) and FleetWatch.failing(both)


def test_a_quota_use_not_known_yet_neither_ends_nor_starts_its_episode():
    """After a restart the fleet reads each account's quotas again in the background: until they land a row's
    use is unknown (``quotas not read yet``), which is not "back under the threshold"."""
    w = FleetWatch(CONFIG)
    w.observe(snap(T0, row(use=0.1)))
    assert len(w.observe(snap(T0 + 5, row(use=0.9)))[1]) == 1
    again = FleetWatch(CONFIG, json.loads(json.dumps(w.state())))
    unknown = FleetRow(PAY, "payments-prod", "us-east-1", NOVA, NOVA, "on_demand", 100_000.0, 10.0, 0.0,
                       quota_note="quotas not read yet", source="sandbox")
    for t in (T0 + 60, T0 + 100):
        assert again.observe(snap(t, unknown)) == ([], [])
    events, alerts = again.observe(snap(T0 + 105, row(use=0.95)))
    assert events == [] and alerts == []  # the same episode, still open: not started or alerted again
    events, _ = again.observe(snap(T0 + 110, row(use=0.2)))
    assert [(e.kind, e.phase) for e in events] == [("quota_over", "end")]


DENIED = ("access denied (AssumeRole) via role arn:aws:iam::200000000007:role/TierConsoleRead (fleet.access[1])")


def unread(account="200000000007", name="data-science", region="us-east-1", note=DENIED):
    """A row whose metrics are read but whose quota use is not (its quotas cannot be listed)."""
    return FleetRow(account, name, region, NOVA, NOVA, "on_demand", 1000.0, 10.0, 0.0, quota_note=note,
                    source="sandbox")


def test_an_account_whose_quota_use_cannot_be_read_is_a_stale_episode_with_the_reason_and_alerts():
    """W3: quota_over can never fire for it, so the watch says so (stale) and the rules on stale alert; it ends
    when the quotas are read again. F5: at once, as soon as it is known (a refusal lasts until the next quota
    read: stale_after_seconds, which lets a passing collection failure go by, would only delay it)."""
    w = FleetWatch(CONFIG)
    events, alerts = w.observe(snap(T0, unread(), row()))
    assert kinds(events) == [("stale", "start", "200000000007", "us-east-1", None)]
    assert events[0].details["at_start"] is True
    assert events[0].summary == f"data-science (200000000007) us-east-1: quota use unknown: {DENIED}"
    assert events[0].details["panes"] == {"quota": DENIED}
    assert [a.type for a in alerts] == ["alert"] and alerts[0].rule == "default"
    assert w.observe(snap(T0 + 15, unread(), row())) == ([], [])  # one episode, not one a refresh
    events, alerts = w.observe(snap(T0 + 20, row("200000000007", "data-science"), row()))
    assert kinds(events) == [("stale", "end", "200000000007", "us-east-1", None)]
    assert "quota use read again" in events[0].summary and [a.type for a in alerts] == ["resolved"]


def test_quotas_not_read_yet_are_not_stale_nor_the_end_of_an_open_quota_use_episode():
    w = FleetWatch(CONFIG)
    assert kinds(w.observe(snap(T0, unread()))[0]) == [("stale", "start", "200000000007", "us-east-1", None)]
    assert w.observe(snap(T0 + 15, unread(note="quotas not read yet")))[0] == []  # a restart's first refreshes
    assert w.observe(snap(T0 + 20, unread()))[0] == []  # still the same episode
    fresh = FleetWatch(CONFIG)
    assert fresh.observe(snap(T0, unread(note="quotas not read yet")))[0] == []
    assert fresh.observe(snap(T0 + 60, unread(note="quotas not read yet")))[0] == []


def test_a_fleet_whose_data_clock_goes_back_starts_afresh_as_a_single_profile_does():
    """W5: the same rule as one profile's watch: every open episode abandoned, cool-downs cleared, one note."""
    w = FleetWatch(CONFIG)
    w.observe(snap(T0 + 1000, row(use=0.9), row(SEARCH, "search-prod", use=0.9)))
    _, alerts = w.observe(snap(T0 + 1010, row(use=0.1), row(SEARCH, "search-prod", use=0.9)))
    assert [a.type for a in alerts] == ["resolved"]
    again = FleetWatch(CONFIG, json.loads(json.dumps(w.state())))
    events, alerts = again.observe(snap(T0, row(use=0.9), row(SEARCH, "search-prod", use=0.9)))
    assert sorted((e.phase, e.details["account_id"], bool(e.details.get("abandoned"))) for e in events) == [
        ("end", SEARCH, True), ("start", PAY, False), ("start", SEARCH, False)]
    assert all(e.since <= e.time for e in events if e.phase == "end")
    assert [a.type for a in alerts] == ["alert", "alert"]  # PAY's cool-down of the old clock does not apply
    notes = again.take_notes()
    assert len(notes) == 1 and "data clock went back" in notes[0] and "1 open episode" in notes[0], notes


def test_a_quota_value_changing_in_an_account_is_a_quota_value_event_that_alerts():
    """Item 7: a fleet reads each account's quotas (on fleet.quota_refresh_seconds); a value that changes between
    two reads is a quota_value change naming account, region and model, and the default rule alerts on it."""
    def valued(tpm, rpm=300.0):
        return replace(row(use=0.2), quota_values=(("on-demand TPM", tpm), ("on-demand RPM", rpm),
                                                   ("daily tokens", 1e9)))

    w = FleetWatch(CONFIG)
    assert w.observe(snap(T0, valued(120_000.0))) == ([], [])  # the first read: the baseline
    assert w.observe(snap(T0 + 5, valued(120_000.0))) == ([], [])
    events, alerts = w.observe(snap(T0 + 10, valued(200_000.0)))
    assert kinds(events) == [("quota_value", "change", PAY, "us-east-1", NOVA)]
    assert events[0].details["from"] == 120_000 and events[0].details["to"] == 200_000
    assert "TPM quota 120,000 → 200,000" in events[0].summary and events[0].summary.startswith(f"payments-prod ({PAY})")
    assert [a.type for a in alerts] == ["alert"]
    assert w.observe(snap(T0 + 15, valued(200_000.0)))[0] == []


def test_a_quota_value_changes_while_its_use_is_not_measured_and_an_open_episode_stays_open():
    """A row with no datapoint in the last minute has no binding quota (its use is unknown, not 0): its quota
    value still changes (quota_value), and its open quota_over episode neither ends nor restarts."""
    idle = replace(row(use=0.2), binding=None, quota_values=(("on-demand TPM", 120_000.0),))
    w = FleetWatch(CONFIG)
    assert kinds(w.observe(snap(T0, row(use=0.9)))[0]) == [("quota_over", "start", PAY, "us-east-1", NOVA)]
    assert w.observe(snap(T0 + 5, idle))[0] == []
    events, _ = w.observe(snap(T0 + 10, replace(idle, quota_values=(("on-demand TPM", 240_000.0),))))
    assert kinds(events) == [("quota_value", "change", PAY, "us-east-1", NOVA)]
    assert w.observe(snap(T0 + 15, row(use=0.9)))[0] == []  # the same episode, still open


def test_after_a_data_clock_restart_a_cell_made_again_never_reuses_an_episode_id():
    """A cell missing from one refresh is forgotten (nothing open); made again on the restarted clock, replaying
    the minutes of the first run, its episode (and so alert) ids must not be the first run's: a receiver
    de-duplicating on alert_id would drop the new alert (seen e2e after a restart)."""
    storm = [(T0 + 60 * i, 100.0) for i in range(3)]
    first = FleetWatch(CONFIG)
    started = first.observe(snap(T0 + 200, row(SEARCH, "search-prod", minutes=storm)))[0]
    again = FleetWatch(CONFIG, json.loads(json.dumps(first.state())))
    again.observe(snap(T0 + 100, row()))  # the clock went back; search-prod not in this refresh: forgotten
    again = FleetWatch(CONFIG, json.loads(json.dumps(again.state())))  # and a restart of the watch on top
    replayed = again.observe(snap(T0 + 200, row(), row(SEARCH, "search-prod", minutes=storm)))[0]
    assert [e.phase for e in started] == ["start"] and [e.phase for e in replayed] == ["start"]
    assert replayed[0].episode != started[0].episode


def test_a_quota_use_first_known_a_refresh_late_is_judged_at_start_then():
    """F5: an account's quotas are read in the background; the first refresh that has its use judges it as the
    baseline would have: already over, it starts with `at_start: true` (a later crossing does not say so)."""
    w = FleetWatch(CONFIG)
    waiting = FleetRow(PAY, "payments-prod", "us-east-1", NOVA, NOVA, "on_demand", 100_000.0, 10.0, 0.0,
                       quota_note="quotas not read yet", source="sandbox")
    assert w.observe(snap(T0, waiting, row(SEARCH, "search-prod", use=0.1))) == ([], [])
    events, alerts = w.observe(snap(T0 + 5, row(use=0.9), row(SEARCH, "search-prod", use=0.1)))
    assert kinds(events) == [("quota_over", "start", PAY, "us-east-1", NOVA)] and len(alerts) == 1
    assert events[0].details.get("at_start") is True
    events, _ = w.observe(snap(T0 + 10, row(use=0.9), row(SEARCH, "search-prod", use=0.9)))
    assert kinds(events) == [("quota_over", "start", SEARCH, "us-east-1", NOVA)]
    assert "at_start" not in events[0].details  # judged since the baseline: a crossing seen happening
    again = FleetWatch(CONFIG, json.loads(json.dumps(w.state())))  # the state keeps what is not judged yet
    assert again.cells[f"{PAY}|us-east-1"].detectors["watch"].unjudged == set()
