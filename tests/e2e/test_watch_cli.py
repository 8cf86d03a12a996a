"""`tierconsole watch` as a process on a real sandbox: events and one alert per episode to an exec sink, SIGTERM
(clean exit, state 0600), a restart that does not alert again, the log file (0600, bounded by rotation), config
errors (exit 2 naming file, line and field, nothing collected) and secrets never written."""
from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "tierconsole.cli"]
GPT = "openai.gpt-oss-20b-1:0"


def profile(env, name="w", extra=""):
    """A copy of the built-in sandbox profile with ``extra`` (watch:/alerts:) appended."""
    folder = Path(env["XDG_CONFIG_HOME"]) / "tierconsole" / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "profiles" / "sandbox.yaml").read_text().replace("name: sandbox\n", f"name: {name}\n")
    if "alert_threshold:" in extra:
        text = "\n".join(line for line in text.splitlines() if not line.startswith("alert_threshold:"))
    (folder / f"{name}.yaml").write_text(text + "\n" + extra)
    return folder / f"{name}.yaml"


def exec_sink(tmp_path, name="alerts.jsonl"):
    out = tmp_path / name
    return f"sh -c 'cat >> {out}'", out


def lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()] if Path(path).exists() else []


def one_per_episode(alerts):
    """Each episode alerted once, resolved at most once (after its alert), no alert id twice."""
    ids = [a["alert_id"] for a in alerts]
    assert len(ids) == len(set(ids)), "an alert delivered twice"
    by_episode: dict[str, list[str]] = {}
    for a in alerts:
        by_episode.setdefault(a["event"]["episode"], []).append(a["type"])
    for episode, types in by_episode.items():
        assert types in (["alert"], ["alert", "resolved"]), (episode, types)
    return by_episode


def test_spike_writes_storm_events_and_one_alert_per_episode_to_the_exec_sink(xdg_env, tmp_path):
    command, out = exec_sink(tmp_path)
    log = tmp_path / "watch.log"
    run = subprocess.run([*CLI, "watch", "--scenario", "spike", "--speed", "20", "--interval", "1", "--duration",
                          "22", "--exec", command, "--log", str(log), "--json"], env=xdg_env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    stdout = [json.loads(line) for line in run.stdout.splitlines()]
    assert stdout[0]["type"] == "watch" and stdout[0]["event"] == "start" and stdout[-1]["event"] == "stop"
    events = [d for d in stdout if d["type"] == "event"]
    storms = [(e["phase"], e["subject"]) for e in events if e["kind"] == "throttle_storm"]
    assert ("start", f"model:{GPT}") in storms and ("end", f"model:{GPT}") in storms, events
    assert all(e["subject"] == f"model:{GPT}" for e in events if e["kind"] == "throttle_storm")  # the others calm
    assert lines(log) == stdout  # the log file holds the same lines
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600
    fired = [d for d in stdout if d["type"] == "alert" and d["outcome"] in ("fired", "resolved")]
    delivered = lines(out)
    assert sorted(a["alert_id"] for a in delivered) == sorted(a["alert_id"] for a in fired)
    assert one_per_episode(delivered)


def _start(env, *args):
    return subprocess.Popen([*CLI, "watch", "--json", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _read_until(proc, predicate, timeout=60):
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        got.append(json.loads(line))
        if predicate(got[-1]):
            return got
    raise AssertionError(f"not seen within {timeout} s: {got}")


def test_sigterm_stops_cleanly_and_a_restart_does_not_alert_again(xdg_env, tmp_path, make_sandbox):
    sandbox = make_sandbox(scenario="steady")  # speed 1: its metrics are on the wall clock
    profile(xdg_env, extra="alert_threshold: 0.01\nwatch: {clear_seconds: 0}\n"
                           "alerts: [{name: busy, events: [quota_over], cooldown: 0}]\n")
    command, out = exec_sink(tmp_path)
    state = tmp_path / "state.json"
    args = ["--profile", "w", "--endpoint-url", sandbox.endpoint, "--exec", command, "--state", str(state),
            "--interval", "1"]
    first = _start(xdg_env, *args)
    seen = _read_until(first, lambda d: d["type"] == "sink", timeout=45)  # traffic reaches CloudWatch first
    time.sleep(5)
    first.send_signal(signal.SIGTERM)
    seen += [json.loads(line) for line in first.communicate(timeout=30)[0].splitlines()]
    assert first.returncode == 0 and seen[-1]["event"] == "stop", first.stderr.read()
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    opened = {e["subject"] for e in seen if e["type"] == "event" and e["phase"] == "start"}
    opened -= {e["subject"] for e in seen if e["type"] == "event" and e["phase"] == "end"}
    assert opened and json.loads(state.read_text())["book"]["fired"]
    alerted = lines(out)
    assert {a["event"]["subject"] for a in alerted} == opened
    again = _start(xdg_env, *args)
    seen = _read_until(again, lambda d: d["type"] == "watch" and d["event"] == "start")
    time.sleep(6)  # a few refreshes with the same quotas still over
    again.send_signal(signal.SIGTERM)
    seen += [json.loads(line) for line in again.communicate(timeout=30)[0].splitlines()]
    assert again.returncode == 0
    restarted = [d for d in seen if d["type"] == "event" and d["subject"] in opened]
    assert not [d for d in restarted if d["phase"] == "start"], restarted  # still open: not started again
    sent = lines(out)[len(alerted):]
    assert not [a for a in sent if a["event"]["subject"] in opened and a["type"] == "alert"], sent


def test_the_log_is_bounded_by_rotation_and_private(xdg_env, tmp_path):
    log = tmp_path / "w.log"
    run = subprocess.run([*CLI, "watch", "--scenario", "spike", "--speed", "200", "--interval", "0.5", "--duration",
                          "10", "--log", str(log), "--log-max-size", "4k", "--log-backups", "2", "--quiet",
                          "--no-state"], env=xdg_env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout == "", run.stderr
    files = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("w.log"))
    assert files == ["w.log", "w.log.1", "w.log.2"], files
    for name in files:
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
        assert (tmp_path / name).stat().st_size <= 4096 + 4096  # a line may pass the limit once
    assert lines(tmp_path / "w.log")[-1]["event"] == "stop"


@pytest.mark.parametrize("extra, args, needle", [
    ("alerts:\n  - {name: a, events: [quota_over], sinks: [pagr]}\n", [], r"w\.yaml:\d+: alerts\[0\]\.sinks\[0\]: no sink named 'pagr'"),
    ("watch:\n  sinks:\n    s: {type: webhook, url_env: NOT_SET_HERE}\n", [],
     "watch.sinks.s: environment variable NOT_SET_HERE is not set"),
    ("", ["--exec", "no-such-program-here --x"], "argument --exec: program 'no-such-program-here' not found"),
    ("", ["--sns", "arn:aws:sns:nowhere"], "argument --sns: not an SNS topic ARN"),
    ("", ["--webhook", "ftp://hooks.example/T0/SECRET-TOKEN"], "value not shown: it is a secret"),
    ("", ["--log", "/nonexistent-dir/w.log"], "argument --log: /nonexistent-dir/w.log: no such directory"),
])
def test_a_bad_rule_or_sink_exits_2_before_anything_is_collected(xdg_env, tmp_path, extra, args, needle):
    profile(xdg_env, extra=extra)
    run = subprocess.run([*CLI, "watch", "--profile", "w", "--no-state", *args], env=xdg_env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert re.search(needle, run.stderr) or needle in run.stderr, run.stderr
    assert run.stdout == "" and "Traceback" not in run.stderr
    assert "SECRET-TOKEN" not in run.stderr


def test_a_webhook_secret_is_never_written(xdg_env, tmp_path):
    xdg_env["HOOK"] = "http://127.0.0.1:9/services/T000/B000/SECRET-TOKEN-123"  # nothing listens: it fails
    profile(xdg_env, extra="alert_threshold: 0.0001\nwatch:\n  sinks:\n    hook: {type: webhook, url_env: HOOK, "
                           "retries: 1}\nalerts: [{name: any, events: [quota_over, stale], sinks: [hook]}]\n")
    log, state = tmp_path / "w.log", tmp_path / "s.json"
    run = subprocess.run([*CLI, "watch", "--profile", "w", "--scenario", "steady", "--speed", "10", "--interval",
                          "1", "--duration", "12", "--log", str(log), "--state", str(state), "--webhook",
                          "https://hooks.example/T1/OTHER-SECRET-456"], env=xdg_env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 3, run.stderr  # the webhooks gave up: alerts lost, exit 3 (F2)
    everything = run.stdout + run.stderr + log.read_text() + state.read_text()
    assert '"outcome": "failed"' in everything  # the webhook was tried, and failed
    for secret in ("SECRET-TOKEN-123", "OTHER-SECRET-456", "/services/T000/B000"):
        assert secret not in everything


def test_a_restarted_drill_starts_afresh_with_no_negative_duration_and_alerts_again(xdg_env, tmp_path):
    """W2: two `watch --scenario spike` runs on one state file: the second run's embedded sandbox starts its clock
    again, so data time goes back. The second run says so once, closes the first run's open episodes as abandoned
    (never an end before its start), and alerts on its own storm (no cool-down of the old clock holds it back)."""
    command, out = exec_sink(tmp_path)
    state = tmp_path / "state.json"
    args = ["--scenario", "spike", "--speed", "20", "--interval", "1", "--exec", command, "--state", str(state)]
    run = _start(xdg_env, *args)  # stopped as soon as an episode is open (its end is minutes of data time away)
    first = _read_until(run, lambda d: d["type"] == "event" and d["phase"] == "start", timeout=90)
    run.send_signal(signal.SIGTERM)
    first += [json.loads(line) for line in run.communicate(timeout=60)[0].splitlines()]
    assert run.returncode == 0 and first[-1]["event"] == "stop"
    again = subprocess.run([*CLI, "watch", "--json", *args, "--duration", "20"], env=xdg_env, capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    second = [json.loads(line) for line in again.stdout.splitlines()]
    left_open = {e["episode"] for e in first if e["type"] == "event" and e["phase"] == "start"}
    left_open -= {e["episode"] for e in first if e["type"] == "event" and e["phase"] == "end"}
    assert left_open, "the first run should stop with an episode open (the spike's storm)"
    notes = [d for d in second if d["type"] == "watch" and d["event"] == "restart"]
    assert len(notes) == 1 and "data clock went back" in notes[0]["message"], second
    assert f"{len(left_open)} open episode" in notes[0]["message"]
    abandoned = [e for e in second if e["type"] == "event" and e["details"].get("abandoned")]
    assert {e["episode"] for e in abandoned} == left_open
    for e in (d for d in first + second if d["type"] == "event" and d["phase"] == "end"):
        assert e["since"] <= e["time"] and e["details"]["duration_s"] >= 0, e
    assert not [a for a in second if a["type"] == "alert" and a["event"]["episode"] in left_open]  # no resolution
    new: dict[str, dict] = {}  # each subject's first alert of the second run (a later one may be in its cool-down)
    for a in (a for a in second if a["type"] == "alert" and a["event"]["phase"] == "start"):
        new.setdefault(a["event"]["subject"], a)
    assert new and all(a["outcome"] == "fired" for a in new.values()), new  # the old clock's cool-downs: gone
    assert one_per_episode(lines(out))


def test_exec_runs_no_shell_so_shell_operators_are_warned_and_the_start_line_shows_the_argv(xdg_env, tmp_path):
    """W1: `--exec 'cat >> FILE'` passes `>>` to cat as an argument (no shell): said in --help, warned at start
    (not fatal), and the start line shows the whole argv, quoted, with a secret-looking value hidden."""
    target = tmp_path / "alerts.txt"
    run = subprocess.run([*CLI, "watch", "--scenario", "none", "--speed", "20", "--interval", "1", "--duration", "2",
                          "--no-state", "--json", "--exec", f"cat >> {target}", "--exec",
                          "cat --token=SEKRET-0123456 'a b'", "--exec", f"sh -c 'cat >> {target}'"],
                         env=xdg_env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    warnings = [line for line in run.stderr.splitlines() if "no shell" in line]
    assert len(warnings) == 1 and "'>>'" in warnings[0] and "sh -c" in warnings[0], run.stderr  # not for sh -c
    start = json.loads(run.stdout.splitlines()[0])
    assert f"exec: cat '>>' {target}" in start["message"], start["message"]
    assert "exec-2: cat '--token=***' 'a b'" in start["message"], start["message"]
    assert f"exec-3: sh -c 'cat >> {target}'" in start["message"]
    assert "args)" not in start["message"] and "SEKRET-0123456" not in run.stdout + run.stderr
    helped = subprocess.run([*CLI, "watch", "--help"], env=xdg_env, capture_output=True, text=True, timeout=60)
    assert "no shell" in helped.stdout and "sh -c" in helped.stdout, helped.stdout


def test_the_stop_line_tells_alerts_a_sink_gave_up_on_from_those_kept_for_the_next_run(xdg_env, tmp_path):
    """W1: an alert a sink has given up on is not 'kept for the next run': the stop line says what happened."""
    profile(xdg_env, extra="alert_threshold: 0.0001\nwatch:\n  sinks:\n    bad: {type: exec, command: \"false\", "
                           "retries: 0}\nalerts: [{name: any, events: [quota_over], sinks: [bad]}]\n")
    run = subprocess.run([*CLI, "watch", "--profile", "w", "--scenario", "steady", "--speed", "20", "--interval", "1",
                          "--duration", "12", "--no-state", "--json"], env=xdg_env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 3 and "tierconsole: warning:" in run.stderr, run.stderr  # alerts lost (F2)
    docs = [json.loads(line) for line in run.stdout.splitlines()]
    failed = [d for d in docs if d["type"] == "sink" and d["outcome"] == "failed"]
    stop = docs[-1]
    assert failed and stop["event"] == "stop" and stop["failed"] == len(failed), stop
    assert f"{len(failed)} alert" in stop["message"] and "gave up" in stop["message"], stop["message"]
    assert "kept for the next run" not in stop["message"] or stop["undelivered"], stop["message"]


def _on_a_terminal(env, *args, timeout=120):
    """The CLI's stdout on a pseudo-terminal (human lines), as text."""
    import pty  # noqa: PLC0415

    master, slave = pty.openpty()
    proc = subprocess.Popen([*CLI, *args], env=env, stdout=slave, stderr=subprocess.PIPE, text=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=timeout)
    os.close(master)
    assert proc.returncode == 0, proc.stderr.read()
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_human_lines_keep_to_the_data_clock_and_a_start_says_when_its_episode_began(xdg_env, tmp_path):
    """W6: on a sped-up drill every line after the first refresh is on the data's clock (the stop line too: no
    time going backwards), a line with no data time yet says it is the wall clock, and a storm's START line
    says the first storm minute its END line's `for …` counts from."""
    from datetime import datetime  # noqa: PLC0415

    text = _on_a_terminal(xdg_env, "watch", "--scenario", "spike", "--speed", "20", "--interval", "1",
                          "--duration", "14", "--no-state", "--exec", "sh -c 'cat > /dev/null'")
    rows = [line for line in text.splitlines() if line.strip()]
    assert "(wall clock) watch: watching profile" in rows[0], rows[0]
    assert "watch: stopped" in rows[-1] and "(wall clock)" not in rows[-1], rows[-1]

    def at(line):
        return datetime.strptime(line[:20], "%Y-%m-%dT%H:%M:%SZ").timestamp()

    times = [at(line) for line in rows[1:]]
    assert times == sorted(times), rows  # the data's clock throughout, the stop line's included
    start = next(line for line in rows if "▲ START  throttle_storm" in line)
    end = next(line for line in rows if "▼ END    throttle_storm" in line)
    first = re.search(r"first minute (\d\d:\d\d):00Z", start)
    assert first, start
    began = datetime.strptime(start[:11] + first.group(1) + ":00Z", "%Y-%m-%dT%H:%M:%SZ").timestamp()
    m, s = re.search(r"for (\d+)m (\d\d)s", end).groups()
    assert at(end) - began == int(m) * 60 + int(s), (start, end)


@pytest.mark.parametrize("rule, needle", [
    ("{name: r, events: [quota_over], cooldown: 15x}",
     r"w\.yaml:\d+: alerts\[0\]\.cooldown: must be seconds, a number or a duration such as 15m or 1h"),
    ("{name: r, events: [quota_over], rate: 50}",
     r"w\.yaml:\d+: alerts\[0\]\.rate: .*throttle_storm.*this rule's events \(quota_over\)"),
    ("{name: r, events: [quota_over], models: [nova-lite]}",
     r"w\.yaml:\d+: alerts\[0\]\.models\[0\]: 'nova-lite' is not a model of this profile \(models: "
     r"amazon\.nova-lite-v1:0"),
])
def test_rule_mistakes_are_named_with_file_line_and_field(xdg_env, rule, needle):
    """W7: a cooldown with a bad unit, a `rate` on a rule that has no throttle storms, a model the profile does
    not have: exit 2 naming file, line, field and value, before anything is collected."""
    profile(xdg_env, extra=f"alerts:\n  - {rule}\n")
    run = subprocess.run([*CLI, "watch", "--profile", "w", "--no-state"], env=xdg_env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 2 and run.stdout == "" and "Traceback" not in run.stderr, (run.stdout, run.stderr)
    assert re.search(needle, run.stderr), run.stderr


def test_a_cooldown_and_for_take_units_as_duration_does(xdg_env, monkeypatch):
    """W7: `cooldown: 15m` and `for: 1m30s` mean 900 and 90 seconds (the --duration parser)."""
    profile(xdg_env, extra="alerts:\n  - {name: r, events: [throttle_storm], rate: 40, cooldown: 15m, for: 1m30s}\n")
    run = subprocess.run([*CLI, "watch", "--profile", "w", "--scenario", "none", "--speed", "20", "--duration", "1",
                          "--no-state", "--json"], env=xdg_env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    from tierconsole.core.config.profiles import load_profile  # noqa: PLC0415 - read as the CLI read it

    monkeypatch.setenv("XDG_CONFIG_HOME", xdg_env["XDG_CONFIG_HOME"])
    rule = load_profile("w").watch.rules[0]
    assert (rule.cooldown_s, rule.hold_s, rule.rate) == (900.0, 90.0, 40.0)


def test_a_profile_given_as_a_path_is_told_where_profiles_live(xdg_env, tmp_path):
    (tmp_path / "bad.yaml").write_text("region: us-east-1\n")
    run = subprocess.run([*CLI, "--profile", str(tmp_path / "bad.yaml"), "watch", "--no-state"], env=xdg_env,
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    where = str(Path(xdg_env["XDG_CONFIG_HOME"]) / "tierconsole" / "profiles")
    assert "a profile's name, not a file" in run.stderr and where in run.stderr, run.stderr
