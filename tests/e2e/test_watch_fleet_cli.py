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


DATA_SCIENCE = "200000000007"  # the shipped fleet's account whose role cannot be assumed (fleet.access[1])


def test_a_fleet_watch_says_an_account_s_quota_use_cannot_be_read_and_alerts_on_it(xdg_env, tmp_path):
    """W3: data-science's metrics are read but its quotas are not (AssumeRole denied), so quota_over can never
    fire for it: a stale episode per region it is in, with the reason `status --fleet` gives, alerted once."""
    env = {**xdg_env, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    command, out = exec_sink(tmp_path)
    run = subprocess.run([*CLI, "--profile", "fleet", "watch", "--json", "--speed", "20", "--interval", "1",
                          "--duration", "20", "--exec", command, "--no-state"], env=env, capture_output=True,
                         text=True, timeout=180)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    stdout = [json.loads(line) for line in run.stdout.splitlines()]
    stale = [d for d in stdout if d["type"] == "event" and d["kind"] == "stale" and d["account"] == DATA_SCIENCE]
    assert stale and all(e["phase"] == "start" for e in stale), stale
    assert len({e["region"] for e in stale}) == len(stale)  # one episode per account × region
    for e in stale:
        assert e["summary"].startswith(f"data-science ({DATA_SCIENCE}) {e['region']}: quota use unknown: access "
                                       "denied (AssumeRole) via role arn:aws:iam::"), e
        assert e["details"]["panes"]["quota"].startswith("access denied (AssumeRole)")
    fired = [d for d in stdout if d["type"] == "alert" and d["event"]["kind"] == "stale" and d["outcome"] == "fired"]
    assert {a["event"]["episode"] for a in fired} == {e["episode"] for e in stale}
    assert {a["alert_id"] for a in fired} <= {a["alert_id"] for a in lines(out)}  # delivered to the sink
    calm = [d for d in stdout if d["type"] == "event" and d["account"] in CALM]
    assert not calm, calm


def test_the_fleet_watch_start_line_lists_only_the_rule_kinds_a_fleet_evaluates(xdg_env, tmp_path):
    """W4: batch jobs and error storms are not read per account on a fleet: the start line says so rather than
    listing them as if they were watched (and names the profile without the `fleet fleet` stutter)."""
    run = subprocess.run([*CLI, "--profile", "fleet", "watch", "--json", "--speed", "20", "--duration", "1",
                          "--no-state"], env={**xdg_env, "XDG_CACHE_HOME": str(tmp_path / "cache")},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    start = json.loads(run.stdout.splitlines()[0])
    assert "watching the fleet of profile fleet (" in start["message"], start["message"]
    rules = start["rules"]
    watched, _, skipped = rules.partition("; not on a fleet: ")
    assert "quota_over" in watched and "throttle_storm" in watched and "stale" in watched, rules
    assert "batch_state" not in watched and "error_storm" not in watched, rules
    assert "batch_state" in skipped and "error_storm" in skipped, rules


def test_a_quota_value_changing_in_a_source_account_is_a_fleet_watch_event(xdg_env, tmp_path):
    """Item 7: a fleet watch reads each account's quotas on fleet.quota_refresh_seconds; a quota-increase request
    approved in payments-prod (the sandbox applies it decide_after_s later) is a quota_value change naming the
    account, region and model, alerted by the default rule. On a background fleet sandbox at speed 20, which the
    watch attaches to (on its clock), and which boto3 calls as payments-prod."""
    from pathlib import Path  # noqa: PLC0415

    import boto3  # noqa: PLC0415

    from tests.conftest import user  # noqa: PLC0415
    from tests.e2e.test_sandbox_fleet import FLEET as BASE, PAYMENTS  # noqa: PLC0415
    from tierconsole.core.domain.sandboxkeys import account_credentials  # noqa: PLC0415

    sandbox = BASE.replace("  oam: auto\n", "  oam: auto\n  quota_requests: {case_after_s: 1, decide_after_s: 200}\n") \
        .replace("tierconsole-fleet-test", "tierconsole-fleet-watch-test")
    folder = Path(xdg_env["XDG_CONFIG_HOME"]) / "tierconsole" / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fq.yaml").write_text(
        "name: fq\nregions: [us-east-1, us-west-2]\nfleet:\n  quota_refresh_seconds: 60\n  discovery_seconds: 10\n"
        "  access:\n    - match: '*'\n      role_arn: 'arn:aws:iam::{account}:role/Read'\n      read_only: true\n" + sandbox)
    env = {**xdg_env, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    started = subprocess.run([*CLI, "--profile", "fq", "sandbox", "start", "--port", "0", "--speed", "20", "--scenario",
                              "none"], env=env, capture_output=True, text=True, timeout=60)
    assert started.returncode == 0, started.stderr  # stopped by the xdg_env fixture
    endpoint = json.loads((Path(xdg_env["XDG_RUNTIME_DIR"]) / "tierconsole" / "sandbox.json").read_text())["endpoint"]

    def client(service):
        key, secret = account_credentials(PAYMENTS)
        return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                            aws_secret_access_key=secret)

    client("bedrock-runtime").converse(modelId=NOVA, messages=user("hello"), inferenceConfig={"maxTokens": 20})
    cw = client("cloudwatch")
    deadline = time.monotonic() + 30  # the sandbox publishes in the background
    while PAYMENTS not in cw.list_metrics(Namespace="AWS/Bedrock", MetricName="Invocations",
                                          IncludeLinkedAccounts=True).get("OwningAccounts", []):
        assert time.monotonic() < deadline, "payments-prod's metrics never reached the monitoring account"
        time.sleep(0.5)
    proc = subprocess.Popen([*CLI, "--profile", "fq", "watch", "--json", "--interval", "1", "--no-state"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = _read_until(proc, lambda d: d["type"] == "watch" and d["event"] == "start")
        assert "quota_value" in seen[-1]["rules"].split("; not on a fleet")[0]
        sq = client("service-quotas")
        quota = next(q for q in sq.list_service_quotas(ServiceCode="bedrock", MaxResults=100)["Quotas"]
                     if q["QuotaName"] == "On-demand model inference tokens per minute for Amazon Nova Lite")
        sq.request_service_quota_increase(ServiceCode="bedrock", QuotaCode=quota["QuotaCode"],
                                          DesiredValue=quota["Value"] * 2)  # applied 200 sandbox s (10 s) later
        seen += _read_until(proc, lambda d: d["type"] == "alert" and d["event"]["kind"] == "quota_value", timeout=45)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    change = next(d for d in seen if d["type"] == "event" and d["kind"] == "quota_value")
    assert (change["account"], change["region"], change["model"]) == (PAYMENTS, "us-east-1", NOVA), change
    assert change["details"]["from"] == quota["Value"] and change["details"]["to"] == quota["Value"] * 2
    assert change["summary"].startswith(f"payments-prod ({PAYMENTS}) us-east-1: ") and "TPM quota" in change["summary"]
    assert seen[-1]["outcome"] == "fired" and seen[-1]["account"] == PAYMENTS
