"""Headless subcommands as scripts run them: real processes against a sandbox on loopback."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import pytest

from tests.conftest import NOVA, SONNET, boto3_client

CLI = [sys.executable, "-m", "tierconsole.cli"]


@pytest.fixture
def env(tmp_path):
    e = dict(os.environ)
    e.update(XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_STATE_HOME=str(tmp_path / "state"),
             XDG_DATA_HOME=str(tmp_path / "data"))
    e.pop("TIERCONSOLE_PROFILE", None)
    return e


def cli_for(sandbox, env, cwd):
    def run(*args, stdin=None):
        return subprocess.run([*CLI, *args, "--endpoint-url", sandbox.endpoint], capture_output=True, text=True,
                              timeout=90, env=env, cwd=cwd, input=stdin)
    return run


@pytest.fixture
def cli(sandbox, env, tmp_path):
    return cli_for(sandbox, env, tmp_path)


def batch_file(path, n=120, bad_lines=()):
    lines = []
    for i in range(n):
        lines.append(json.dumps({"recordId": f"r{i}", "modelInput": {
            "schemaVersion": "messages-v1", "messages": [{"role": "user", "content": [{"text": f"q{i}"}]}],
            "inferenceConfig": {"maxTokens": 16}}}))
    for at, text in bad_lines:
        lines[at - 1] = text
    path.write_text("\n".join(lines) + "\n")
    return path


def test_prompt_all_tiers_json_field_by_field(cli, tmp_path):
    out = cli("prompt", "compare the tiers", "--model", SONNET, "--tier", "all", "--max-tokens", "40", "--json")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["tier"] for r in rows] == ["reserved", "priority", "default", "flex"]
    for r in rows:
        assert set(r) >= {"tier", "served_tier", "ok", "error", "latency_ms", "ttft_ms", "input_tokens",
                          "output_tokens", "cost_usd"}
        assert r["ok"] and r["served_tier"] == r["tier"] and r["error"] is None
        assert r["output_tokens"] == 40 and r["input_tokens"] > 0 and r["latency_ms"] > 0
    by = {r["tier"]: r for r in rows}
    assert by["reserved"]["cost_usd"] == 0  # reserved capacity: no marginal cost
    assert by["priority"]["cost_usd"] > by["default"]["cost_usd"] > by["flex"]["cost_usd"] > 0
    assert by["priority"]["cost_usd"] == pytest.approx(by["default"]["cost_usd"] * 1.75)


def test_prompt_stream_measures_ttft_and_no_reservation_error(cli):
    out = cli("prompt", "hello", "--model", NOVA, "--tier", "reserved", "--json", "--stream")
    assert out.returncode == 1  # every tier failed
    row = json.loads(out.stdout)
    assert row["ok"] is False and row["error"] == "ValidationException" and "Reservation not found" in row["message"]
    out = cli("prompt", "hello", "--model", NOVA, "--tier", "flex", "--json", "--stream", "--max-tokens", "30")
    row = json.loads(out.stdout)
    assert row["ok"] and row["ttft_ms"] > 0 and row["ttft_ms"] <= row["latency_ms"] and row["output_tps"] > 0


def test_prompt_audit_and_history_are_private_and_hold_no_prompt_text_in_audit(cli, tmp_path):
    secret = "the launch code is 0000"
    assert cli("prompt", secret, "--model", NOVA, "--json").returncode == 0
    audit = tmp_path / "state" / "tierconsole" / "audit.jsonl"
    history = tmp_path / "data" / "tierconsole" / "history.jsonl"
    for f in (audit, history):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    entry = json.loads(audit.read_text().splitlines()[-1])
    assert entry["action"] == "prompt" and entry["profile"] == "sandbox" and entry["account"] == "123456789012"
    assert entry["detail"]["prompt"]["length"] == len(secret)
    assert secret not in audit.read_text() and "sandbox" not in json.dumps(entry.get("detail", {})).lower().replace("sandbox\"", "")
    assert json.loads(history.read_text().splitlines()[-1])["text"] == secret


@pytest.mark.parametrize("args, needle", [
    (("prompt", "", "--model", NOVA), "prompt: empty"),
    (("prompt", "x", "--model", NOVA, "--tier", "turbo"), "invalid choice"),
    (("prompt", "x", "--model", NOVA, "--max-tokens", "0"), "at least 1"),
    (("prompt", "x"), "--model"),
    (("batch",), "ACTION"),
    (("batch", "cancel", "job"), "--yes"),
])
def test_bad_arguments_are_usage_errors(cli, args, needle):
    out = cli(*args)
    assert out.returncode == 2, out
    assert needle in out.stderr


def test_batch_submit_list_show_cancel_json(make_sandbox, env, tmp_path):
    sandbox = make_sandbox(speed=2.0)  # slow enough that the job is still running when cancelled
    cli = cli_for(sandbox, env, tmp_path)
    f = batch_file(tmp_path / "in.jsonl", n=150)
    out = cli("batch", "submit", str(f), "--model", NOVA, "--name", "nightly-1", "--json")
    assert out.returncode == 0, out.stderr
    job = json.loads(out.stdout)
    assert job["jobName"] == "nightly-1" and job["modelId"] == NOVA and job["jobArn"].startswith("arn:aws:bedrock:")
    assert job["inputDataConfig"]["s3InputDataConfig"]["s3Uri"] == "s3://tierconsole-sandbox/input/nightly-1/in.jsonl"
    # The same submission again (a retry) is the same job, thanks to the clientRequestToken.
    again = json.loads(cli("batch", "submit", str(f), "--model", NOVA, "--name", "nightly-1", "--json").stdout)
    assert again["jobArn"] == job["jobArn"]
    listed = json.loads(cli("batch", "list", "--json").stdout)
    assert [j["jobArn"] for j in listed].count(job["jobArn"]) == 1
    shown = json.loads(cli("batch", "show", job["jobArn"], "--json").stdout)
    assert shown["jobArn"] == job["jobArn"] and shown["status"] in (
        "Submitted", "Validating", "Scheduled", "InProgress", "Completed")
    out = cli("batch", "cancel", job["jobArn"], "--yes")
    assert out.returncode == 0, out.stderr
    final = json.loads(cli("batch", "show", job["jobArn"], "--json").stdout)
    assert final["status"] in ("Stopping", "Stopped")
    audit = [json.loads(line) for line in (tmp_path / "state" / "tierconsole" / "audit.jsonl").read_text().splitlines()]
    assert [a["action"] for a in audit if a["action"].startswith("batch")] == ["batch-submit", "batch-submit", "batch-cancel"]


def test_malformed_batch_file_names_lines_and_uploads_nothing(cli, tmp_path, sandbox):
    f = batch_file(tmp_path / "bad.jsonl", n=120, bad_lines=[(7, "{not json"), (9, json.dumps({"recordId": "r0", "modelInput": {}}))])
    out = cli("batch", "submit", str(f), "--model", NOVA, "--name", "bad-1")
    assert out.returncode == 1
    assert f"{f}:7: not valid JSON" in out.stderr and f"{f}:9: recordId 'r0' is already used on line 1" in out.stderr
    s3 = boto3_client("s3", sandbox.endpoint)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="tierconsole-sandbox").get("Contents", [])]
    assert not any("bad-1" in k for k in keys)
    assert json.loads(cli("batch", "list", "--json").stdout) == []


def test_read_only_refuses_submit_and_cancel_at_the_client_layer(cli, tmp_path, sandbox):
    f = batch_file(tmp_path / "in.jsonl")
    out = cli("batch", "submit", str(f), "--model", NOVA, "--name", "ro-1", "--read-only")
    assert out.returncode == 1 and "read-only" in out.stderr
    out = cli("batch", "cancel", "some-job", "--yes", "--read-only")
    assert out.returncode == 1 and "read-only" in out.stderr
    keys = [o["Key"] for o in boto3_client("s3", sandbox.endpoint).list_objects_v2(Bucket="tierconsole-sandbox").get("Contents", [])]
    assert not any("ro-1" in k for k in keys)
    assert json.loads(cli("batch", "list", "--json").stdout) == []
    audit = (tmp_path / "state" / "tierconsole" / "audit.jsonl").read_text()
    assert audit.count("refused: read-only") == 2


def test_batch_submit_from_an_s3_uri_uploads_nothing_more(cli, tmp_path, sandbox):
    f = batch_file(tmp_path / "in.jsonl", n=110)
    s3 = boto3_client("s3", sandbox.endpoint)
    s3.put_object(Bucket="tierconsole-sandbox", Key="already/there.jsonl", Body=f.read_bytes())
    out = cli("batch", "submit", "s3://tierconsole-sandbox/already/there.jsonl", "--model", NOVA, "--name", "s3-1", "--json")
    assert out.returncode == 0, out.stderr
    job = json.loads(out.stdout)
    assert job["inputDataConfig"]["s3InputDataConfig"]["s3Uri"] == "s3://tierconsole-sandbox/already/there.jsonl"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="tierconsole-sandbox").get("Contents", [])]
    assert not any("s3-1" in k for k in keys)
    missing = cli("batch", "submit", "s3://tierconsole-sandbox/nope.jsonl", "--model", NOVA, "--name", "s3-2")
    assert missing.returncode != 0 and "nope.jsonl" in missing.stderr
