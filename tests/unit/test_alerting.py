"""Alert rules (profile ``watch:``/``alerts:``, errors with file and line), the alert book (once per episode,
cool-down, resolution) and the state a restart resumes from (0600)."""
from __future__ import annotations

import json
import os
import stat

import pytest

from tierconsole.core.config.profiles import load_profile
from tierconsole.core.domain.alerting import Watch
from tierconsole.core.domain.checks import ConfigError
from tierconsole.core.domain.views import DashboardData, ModelQuotaView
from tierconsole.core.domain.watchconfig import parse_watch
from tierconsole.core.watch.state import StateFile
from tests.unit.test_profiles import xdg  # noqa: F401 - the fixture: a user with private XDG folders

T0 = 1_764_460_800.0
NOVA = "amazon.nova-lite-v1:0"




GOOD = """region: us-east-1
watch:
  throttles_per_minute: 40
  sinks:
    slack: {type: webhook, url_env: SLACK_URL}
    pager: {type: sns, topic_arn: "arn:aws:sns:us-east-1:123456789012:oncall"}
    local: {type: exec, command: "notify --json"}
alerts:
  - {name: hot, events: [quota_over], threshold: 0.9, for: 60, cooldown: 600, severity: critical, sinks: [slack]}
  - {name: failed, events: [batch_state], states: [Failed], sinks: [local, pager]}
"""


def test_rules_and_sinks_from_the_profile(xdg):
    (xdg / "prod.yaml").write_text(GOOD)
    w = load_profile("prod").watch
    assert w.settings.storm_rate == 40 and w.settings.metric_delay_s == 60  # AWS: CloudWatch is late
    assert [r.name for r in w.rules] == ["hot", "failed"]
    assert w.rules[0].hold_s == 60 and w.rules[0].threshold == 0.9 and w.rules[0].sinks == ("slack",)
    assert w.sinks["local"].command == ("notify", "--json")
    assert w.condition_of(w.rules[0]) == "hot" and w.condition_of(w.rules[1]) == "watch"


@pytest.mark.parametrize("text, where", [
    ("alerts:\n  - name: a\n    events: [quota_ovr]\n", ":3: alerts[0].events[0]: 'quota_ovr' is not an event kind"),
    ("alerts:\n  - {name: a, events: [quota_over], sinks: [pagr]}\n", ":2: alerts[0].sinks[0]: no sink named 'pagr'"),
    ("alerts:\n  - {name: a, events: [quota_over]}\n  - {name: a, events: [stale]}\n",
     ":3: alerts[1].name: 'a' names two rules"),
    ("alerts:\n  - {name: a, events: [quota_over], threshold: 2}\n", "alerts[0].threshold: must be at most 1"),
    ("alerts:\n  - {name: a, events: [batch_state], states: [Failled]}\n", "'Failled' is not a batch job status"),
    ("alerts:\n  - {name: a}\n", "alerts[0].events: is required"),
    ("watch:\n  sinks:\n    s: {type: sns, topic_arn: 'arn:aws:sns:x'}\n", ":3: watch.sinks.s.topic_arn: must be an SNS"),
    ("watch:\n  sinks:\n    s: {type: webhook, url: 'ftp://secret-token@x'}\n", ":3: watch.sinks.s.url: must be an http"),
    ("watch:\n  sinks:\n    s: {type: pager}\n", "watch.sinks.s.type: must be one of exec, webhook, sns"),
    ("watch:\n  storm: 3\n", ":2: watch.storm: unknown key"),
])
def test_bad_rules_name_file_line_and_field(xdg, text, where):
    (xdg / "bad.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_profile("bad")
    assert str(err.value).startswith(str(xdg / "bad.yaml")) and where in str(err.value), str(err.value)
    assert "secret-token" not in str(err.value)


def snap(t, tpm):
    return DashboardData(time=t, quotas=(ModelQuotaView(NOVA, "Amazon Nova Lite", 100_000, 300, {"default": tpm}),))


def _types(alerts):
    return [a.type for a in alerts]


def test_one_alert_per_episode_a_resolution_and_a_cooldown():
    config = parse_watch({"clear_seconds": 0}, [{"name": "hot", "events": ["quota_over"], "cooldown": 100}])
    w = Watch(config)
    assert _types(w.observe(snap(T0, 10_000))[1]) == []
    first = w.observe(snap(T0 + 5, 90_000))[1]
    assert _types(first) == ["alert"] and first[0].event.phase == "start"
    assert _types(w.observe(snap(T0 + 10, 95_000))[1]) == []  # still over: nothing more
    resolved = w.observe(snap(T0 + 15, 10_000))[1]
    assert _types(resolved) == ["resolved"] and resolved[0].alert_id != first[0].alert_id
    assert _types(w.observe(snap(T0 + 50, 90_000))[1]) == ["suppressed"]  # within the cool-down
    assert _types(w.observe(snap(T0 + 55, 10_000))[1]) == []  # its end sends nothing
    assert _types(w.observe(snap(T0 + 200, 90_000))[1]) == ["alert"]  # after it: a new episode alerts


def test_a_rule_for_holds_before_alerting_while_the_log_has_the_event_at_once():
    config = parse_watch({}, [{"name": "slow", "events": ["quota_over"], "for": 60}])
    w = Watch(config)
    events, alerts = w.observe(snap(T0, 90_000))
    assert [e.phase for e in events] == ["start"] and alerts == []
    assert _types(w.observe(snap(T0 + 60, 90_000))[1]) == ["alert"]


def test_a_restart_from_the_state_file_does_not_alert_again_and_resolves_once(tmp_path):
    config = parse_watch({"clear_seconds": 0}, None)
    w = Watch(config)
    assert _types(w.observe(snap(T0, 90_000))[1]) == ["alert"]
    state = StateFile(tmp_path / "watch" / "prod.json")
    state.save(w.state())
    assert stat.S_IMODE(os.stat(state.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(state.path.parent).st_mode) == 0o700
    doc, warning = state.load()
    again = Watch(config, doc)
    assert warning is None and again.discarded == []
    assert again.observe(snap(T0 + 5, 95_000))[1] == []
    assert _types(again.observe(snap(T0 + 10, 5_000))[1]) == ["resolved"]


def test_changed_rule_parameters_discard_that_condition_and_a_damaged_file_is_kept_aside(tmp_path):
    w = Watch(parse_watch({}, [{"name": "hot", "events": ["quota_over"], "threshold": 0.5}]))
    w.observe(snap(T0, 60_000))
    changed = Watch(parse_watch({}, [{"name": "hot", "events": ["quota_over"], "threshold": 0.7}]),
                    json.loads(json.dumps(w.state())))
    assert changed.discarded == ["hot"]
    path = tmp_path / "s.json"
    path.write_text("{not json")
    doc, warning = StateFile(path).load()
    assert doc is None and "starting afresh" in warning and not path.exists()
    assert any(p.name.startswith("s.json.damaged-") for p in tmp_path.iterdir())


def test_a_data_clock_gone_back_starts_the_watch_afresh_without_resolving_or_cooling_down():
    """W2: a restarted drill: the saved state's episodes end abandoned (no resolution: nothing was resolved), the
    cool-downs of the old clock are not counted against the new one (the new episode alerts), said in one note."""
    config = parse_watch({"clear_seconds": 0}, None, threshold=0.8, sandbox=True)
    w = Watch(config)
    assert _types(w.observe(snap(T0 + 1000, 90_000))[1]) == ["alert"]
    assert _types(w.observe(snap(T0 + 1010, 10_000))[1]) == ["resolved"]  # its cool-down runs to T0 + 1310
    assert _types(w.observe(snap(T0 + 1020, 90_000))[1]) == ["suppressed"]
    again = Watch(config, json.loads(json.dumps(w.state())))
    events, alerts = again.observe(snap(T0, 90_000))
    assert [(e.phase, e.details.get("abandoned")) for e in events] == [("end", True), ("start", None)]
    assert all(e.details.get("duration_s", 0) >= 0 for e in events)
    assert _types(alerts) == ["alert"]  # not suppressed by the old clock's cool-down, and no resolution
    notes = again.take_notes()
    assert len(notes) == 1 and "data clock went back" in notes[0] and "1 open episode" in notes[0], notes
    assert again.take_notes() == []
