"""`tierconsole watch`: what happens to alerts a sink cannot deliver (newcomer-5 F2). With --no-state nothing is
kept, and the stop line says they are dropped; a failing sink says so at each attempt; an alert lost exits 3
with a warning on stderr (0 stays "every alert delivered or kept")."""
from __future__ import annotations

import json
import subprocess
import time

from tests.e2e.test_watch_cli import CLI, profile

HOT = "alert_threshold: 0.0001\nwatch: {clear_seconds: 0}\n"


def _watch(env, *args, timeout=120):
    run = subprocess.run([*CLI, "watch", "--json", *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in run.stderr, run.stderr
    return run, [json.loads(line) for line in run.stdout.splitlines()]


def test_no_state_says_queued_alerts_are_dropped_and_exits_3(xdg_env, tmp_path):
    """A sink too slow to take the queue before the drain timeout: with --no-state the alerts left are dropped,
    not 'kept for the next run'; the JSON stop line carries it and the exit code says alerts were lost."""
    profile(xdg_env, extra=HOT + "alerts: [{name: any, events: [quota_over]}]\n")
    run, docs = _watch(xdg_env, "--profile", "w", "--scenario", "steady", "--speed", "20", "--interval", "1",
                       "--duration", "6", "--no-state", "--exec", "sleep 30", "--drain-timeout", "0.5")
    stop = docs[-1]
    assert stop["event"] == "stop" and stop["undelivered"] > 0, stop
    assert stop["kept"] == 0 and stop["lost"] >= stop["undelivered"], stop
    assert "kept for the next run" not in stop["message"], stop["message"]
    assert f"{stop['undelivered']} alert" in stop["message"] and "dropped (no state: --no-state)" in stop["message"]
    assert run.returncode == 3, (run.returncode, run.stderr)
    assert "tierconsole: warning:" in run.stderr and "not delivered" in run.stderr, run.stderr


def test_with_a_state_file_queued_alerts_are_kept_and_the_exit_is_0(xdg_env, tmp_path):
    profile(xdg_env, extra=HOT + "alerts: [{name: any, events: [quota_over]}]\n")
    state = tmp_path / "s.json"
    run, docs = _watch(xdg_env, "--profile", "w", "--scenario", "steady", "--speed", "20", "--interval", "1",
                       "--duration", "6", "--state", str(state), "--exec", "sleep 30", "--drain-timeout", "0.5")
    stop = docs[-1]
    assert stop["undelivered"] > 0 and stop["kept"] == stop["undelivered"] and stop["lost"] == 0, stop
    assert "kept for the next run" in stop["message"]
    assert len(json.loads(state.read_text())["outbox"]) == stop["kept"]
    assert run.returncode == 0 and "warning" not in run.stderr, run.stderr


def test_a_failing_exec_says_so_at_each_attempt_and_its_alerts_do_not_queue_behind_each_other(xdg_env, tmp_path):
    """`--exec false`: a `retrying` line per failed attempt (error, attempt n/N, next try) from the first alert's
    first attempt, not one line ~30 s later; every alert fired is tried at once, not after the one before gave up."""
    profile(xdg_env, extra=HOT + "alerts: [{name: any, events: [quota_over, throttle_storm]}]\n")
    run, docs = _watch(xdg_env, "--profile", "w", "--scenario", "spike", "--speed", "20", "--interval", "1",
                       "--duration", "8", "--no-state", "--exec", "false", "--drain-timeout", "1")
    fired = [d["alert_id"] for d in docs if d["type"] == "alert" and d["outcome"] == "fired"]
    retrying = [d for d in docs if d["type"] == "sink" and d["outcome"] == "retrying"]
    assert len(fired) >= 2 and retrying, docs
    first = {}
    for d in retrying:
        first.setdefault(d["alert_id"], d)
    assert set(fired) <= set(first), (fired, first)  # each alert had its first attempt within the run
    assert all(d["attempt"] == 1 and d["max_attempts"] == 6 and d["error"] == "exit 1" and d["retry_in_s"] > 0
               for d in first.values()), first
    stop = docs[-1]
    assert stop["lost"] == stop["undelivered"] > 0 and run.returncode == 3, (stop, run.stderr)
