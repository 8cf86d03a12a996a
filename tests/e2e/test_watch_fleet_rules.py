"""A fleet watch's alert rules and its first refresh (newcomer-5 F5, F7): a rule with nothing a fleet can fire
on is a config error (exit 2, file:line, the rule); quota use is judged on the first refresh that has it
(`at_start`), and an account whose quota use cannot be read is stale as soon as that is known."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_watch_cli import CLI, ROOT


def fleet_copy(env, name, alerts):
    folder = Path(env["XDG_CONFIG_HOME"]) / "tierconsole" / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "profiles" / "fleet.yaml").read_text().replace("name: fleet\n", f"name: {name}\n")
    (folder / f"{name}.yaml").write_text(text + "\n" + alerts)
    return folder / f"{name}.yaml"


@pytest.mark.parametrize("rule", ["{name: b, events: [batch_state], states: [Failed]}",
                                  "{name: b, events: [error_storm, batch_state]}"])
def test_a_fleet_rule_with_nothing_a_fleet_can_fire_on_is_a_config_error(xdg_env, tmp_path, rule):
    path = fleet_copy(xdg_env, "fb", f"alerts:\n  - {{name: ok, events: [quota_over]}}\n  - {rule}\n")
    line = path.read_text().splitlines().index(f"  - {rule}") + 1
    run = subprocess.run([*CLI, "--profile", "fb", "watch", "--no-state", "--duration", "1"],
                         env={**xdg_env, "XDG_CACHE_HOME": str(tmp_path / "cache")}, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 2 and run.stdout == "" and "Traceback" not in run.stderr, (run.stdout, run.stderr)
    assert re.search(rf"fb\.yaml:{line}: alerts\[1\]\.events: rule 'b' can never fire on a fleet", run.stderr), \
        run.stderr
    assert "(a fleet watch fires on overflow, quota_over, quota_value, stale, throttle_storm)" in run.stderr


def test_a_fleet_rule_with_one_kind_a_fleet_fires_on_is_accepted(xdg_env, tmp_path):
    fleet_copy(xdg_env, "fc", "alerts:\n  - {name: b, events: [batch_state, stale]}\n")
    run = subprocess.run([*CLI, "--profile", "fc", "watch", "--json", "--no-state", "--speed", "20", "--duration",
                          "1"], env={**xdg_env, "XDG_CACHE_HOME": str(tmp_path / "cache")}, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "not on a fleet: batch_state" in json.loads(run.stdout.splitlines()[0])["rules"]


DATA_SCIENCE, EU_RETAIL = "200000000007", "200000000008"


def test_the_first_fleet_refresh_judges_quota_use_and_says_an_unreadable_one_at_once(xdg_env, tmp_path):
    """F5: on the shipped fleet sandbox (in the background at speed 20, its traffic under way), eu-retail is over
    80% of its Nova Lite quota when the watch starts: its quota_over comes with the first refresh's events,
    `at_start: true`; data-science's quota use cannot be read (AssumeRole denied), and its stale comes with
    them too, not stale_after_seconds later."""
    import time  # noqa: PLC0415

    env = {**xdg_env, "XDG_CACHE_HOME": str(tmp_path / "c")}
    started = subprocess.run([*CLI, "--profile", "fleet", "sandbox", "start", "--port", "0", "--speed", "20"],
                             env=env, capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stderr  # stopped by the xdg_env fixture
    time.sleep(8)  # a few sandbox minutes of traffic
    run = subprocess.run([*CLI, "--profile", "fleet", "watch", "--json", "--interval", "1", "--duration", "4",
                          "--no-state"], env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    events = [d for d in map(json.loads, run.stdout.splitlines()) if d["type"] == "event"]
    assert events, run.stdout
    first = [e for e in events if e["data_time"] == events[0]["data_time"]]  # the first refresh's
    over = [e for e in first if e["kind"] == "quota_over" and e["account"] == EU_RETAIL]
    assert over and over[0]["phase"] == "start" and over[0]["details"].get("at_start") is True, first
    stale = [e for e in first if e["kind"] == "stale" and e["account"] == DATA_SCIENCE]
    assert stale and "quota use unknown: access denied (AssumeRole)" in stale[0]["summary"], first
    assert stale[0]["details"].get("at_start") is True
