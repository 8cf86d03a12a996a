"""`tierconsole --profile fleet watch` as a process (issue 16): the shipped fleet profile on an embedded fleet
sandbox (13 source accounts in 3 regions, fleet-sbx's) sped up, watched with the fleet's collector: change events
per account × region × model for its throttling accounts (search-prod us-east-1 under `spike` on GPT OSS 20B,
eu-retail eu-west-1 over its 60,000-TPM Nova Lite quota), each naming account id and name, region and model, and
exactly one alert per episode to an --exec sink."""
from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time

from tests.e2e.test_watch_cli import CLI, GPT, _read_until, _start, exec_sink, lines, one_per_episode

SEARCH, EU_RETAIL = "200000000003", "200000000008"
NOVA = "amazon.nova-lite-v1:0"
CALM = {"200000000002", "200000000004", "200000000006", "200000000009", "200000000010", "200000000011"}


def test_a_fleet_watch_names_the_throttling_accounts_and_alerts_once_per_episode(xdg_env, tmp_path):
    env = {**xdg_env, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    command, out = exec_sink(tmp_path)
    run = subprocess.run([*CLI, "--profile", "fleet", "watch", "--json", "--speed", "20", "--interval", "1",
                          "--duration", "30", "--exec", command, "--no-state"], env=env, capture_output=True,
                         text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    stdout = [json.loads(line) for line in run.stdout.splitlines()]
    assert stdout[0]["event"] == "start" and stdout[0]["fleet"] is True and stdout[-1]["event"] == "stop"
    assert "watching the fleet of profile fleet (" in stdout[0]["message"]  # F3: never "fleet fleet"
    events = [d for d in stdout if d["type"] == "event"]
    for e in events:  # every event names its account (id and name), region and model
        assert e["account"] and e["account_name"] and e["region"] in ("us-east-1", "us-west-2", "eu-west-1")
        assert e["details"]["account_id"] == e["account"] and e["summary"].startswith(f"{e['account_name']} (")
        if e["kind"] != "stale":
            assert e["model"]
    storms = {(e["account"], e["account_name"], e["region"], e["model"]) for e in events
              if e["kind"] == "throttle_storm" and e["phase"] == "start"}
    assert (SEARCH, "search-prod", "us-east-1", GPT) in storms or (EU_RETAIL, "eu-retail", "eu-west-1", NOVA) in storms, events
    assert not {e["account"] for e in events} & CALM, events  # the calm accounts say nothing
    fired = [d for d in stdout if d["type"] == "alert" and d["outcome"] in ("fired", "resolved")]
    delivered = lines(out)
    assert fired and sorted(a["alert_id"] for a in delivered) == sorted(a["alert_id"] for a in fired)
    assert one_per_episode(delivered)
    assert all(a["account"] == a["event"]["details"]["account_id"] and a["region"] for a in delivered)


def test_a_fleet_is_not_recorded_by_watch(xdg_env, tmp_path):
    run = subprocess.run([*CLI, "--profile", "fleet", "watch", "--record", str(tmp_path / "f.tcrec"), "--duration",
                          "1"], env={**xdg_env, "XDG_CACHE_HOME": str(tmp_path / "cache")}, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 2 and "argument --record: profile 'fleet' is a fleet" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "f.tcrec").exists()


def _stop(proc):
    proc.send_signal(signal.SIGTERM)
    rest = [json.loads(line) for line in proc.communicate(timeout=60)[0].splitlines()]
    assert proc.returncode == 0 and rest[-1]["event"] == "stop", proc.stderr.read()
    return rest


def _subject(e):
    return e["account"], e["region"], e["kind"], e["subject"]


def test_sigterm_keeps_the_fleet_state_and_a_restart_does_not_start_an_open_episode_again(xdg_env, tmp_path):
    env = {**xdg_env, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    command, out = exec_sink(tmp_path)
    state = tmp_path / "fleet-state.json"
    args = ["--profile", "fleet", "--speed", "20", "--interval", "1", "--exec", command, "--state", str(state)]
    first = _start(env, *args)
    seen = _read_until(first, lambda d: d["type"] == "sink", timeout=90)
    time.sleep(3)
    seen += _stop(first)
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    cells = json.loads(state.read_text())["fleet"]
    opened = {_subject(e) for e in seen if e["type"] == "event" and e["phase"] == "start"}
    opened -= {_subject(e) for e in seen if e["type"] == "event" and e["phase"] == "end"}
    assert opened and {f"{a}|{r}" for a, r, _, _ in opened} <= set(cells)
    alerted = lines(out)
    again = _start(env, *args)
    seen = _read_until(again, lambda d: d["type"] == "watch" and d["event"] == "start")
    time.sleep(8)
    seen += _stop(again)
    ended: set[tuple[str, str, str, str]] = set()
    for e in (d for d in seen if d["type"] == "event"):
        if e["phase"] == "end":
            ended.add(_subject(e))
        elif _subject(e) in opened:  # still open when the first run stopped: not started again unless it ended
            assert _subject(e) in ended, e
    sent = lines(out)
    assert one_per_episode(sent)  # across both runs: no alert id twice, each episode alerted once
    assert len(sent) >= len(alerted)
