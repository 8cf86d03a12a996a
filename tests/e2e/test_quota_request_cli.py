"""``tierconsole plan --quota-request`` end to end: history put into a sandbox's CloudWatch with boto3, the command
as a process, the request filed with ``--submit`` read back with boto3's ``service-quotas`` client."""
from __future__ import annotations

import json
import math
import stat
import subprocess
import sys
import time
from datetime import datetime, timezone

import numpy as np
import pytest

from tests.conftest import NOVA, boto3_client
from tests.e2e.test_plan_cli import env  # noqa: F401 - fixture: XDG folders of the test's own
from tierconsole.core.domain.quotarequest import significant
from tierconsole.sandbox.config import config_document, parse_sandbox_config
from tierconsole.core.aws.session import AwsContext, Target
from tierconsole.core.config.profiles import load_profile
from tierconsole.core.ops.guard import Guard
from tierconsole.core.ops.quota_request import _file
from tierconsole.sandbox.faults import parse_faults

CLI = [sys.executable, "-m", "tierconsole.cli"]
ACCOUNT = "210987654321"  # an account of its own: moto's CloudWatch is shared by the sandboxes of a process
ACTIVE = 90


def quiet_sandbox(make_sandbox, account: str, bucket: str):
    """A sandbox of an account of its own, with no scenario traffic, at speed 50."""
    doc = config_document()
    doc["sandbox"]["account_id"] = account
    doc["sandbox"]["scenario"] = "none"
    doc["sandbox"]["bucket"] = bucket  # moto's S3 names are shared by its accounts
    return make_sandbox(parse_sandbox_config(doc, "test.yaml"), speed=50.0)


@pytest.fixture
def sb(make_sandbox):
    return quiet_sandbox(make_sandbox, ACCOUNT, "tierconsole-quota-request-test")


def run(env, cwd, sb, *args, input=None):
    return subprocess.run([*CLI, "plan", "--quota-request", "--model", NOVA, "--days", "1", "--profile", "sandbox",
                           "--endpoint-url", sb.endpoint, *args], capture_output=True, text=True, timeout=120,
                          env=env, cwd=cwd, input=input)


def put_history(sb, minutes: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    vals = {"InputTokenCount": rng.integers(80_000, 115_000, minutes),  # near Nova Lite's 120,000 TPM
            "OutputTokenCount": rng.integers(1_000, 5_000, minutes),
            "Invocations": rng.integers(10, 40, minutes), "InvocationThrottles": (rng.random(minutes) < 0.2) * 3}
    first = math.floor(time.time() / 60) * 60 - (minutes + 5) * 60
    cw = boto3_client("cloudwatch", sb.endpoint)
    data = [{"MetricName": name, "Dimensions": [{"Name": "ModelId", "Value": NOVA}], "Unit": "Count",
             "Value": float(v), "Timestamp": datetime.fromtimestamp(first + 60 * k, timezone.utc)}
            for name, arr in vals.items() for k, v in enumerate(arr) if v]
    # small calls: botocore gzips a PutMetricData body over 10 KB, which the sandbox does not read (not ours)
    for i in range(0, len(data), 40):
        cw.put_metric_data(Namespace="AWS/Bedrock", MetricData=data[i:i + 40])
    return vals


def nova_tpm(sb) -> dict:
    sq = boto3_client("service-quotas", sb.endpoint)
    quotas = [q for p in sq.get_paginator("list_service_quotas").paginate(ServiceCode="bedrock") for q in p["Quotas"]]
    return next(q for q in quotas if q["QuotaName"] == "On-demand model inference tokens per minute for Amazon Nova Lite")


def test_json_figures_with_sources(sb, env, tmp_path):
    vals = put_history(sb, ACTIVE)
    out = run(env, tmp_path, sb, "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    tokens = (vals["InputTokenCount"] + vals["OutputTokenCount"]).astype(float)  # Nova: 1× burndown
    f = doc["figures"]
    assert f["steady_tpm"]["value"] == pytest.approx(np.percentile(tokens, 50))
    assert f["peak_tpm"]["value"] == tokens.max()
    assert f["steady_rpm"]["value"] == pytest.approx(np.percentile(vals["Invocations"], 50))
    assert f["peak_rpm"]["value"] == vals["Invocations"].max()
    assert f["avg_input_tokens_per_request"]["value"] == pytest.approx(
        vals["InputTokenCount"].sum() / vals["Invocations"].sum())
    assert f["avg_output_tokens_per_request"]["value"] == pytest.approx(
        vals["OutputTokenCount"].sum() / vals["Invocations"].sum())
    assert f["throttles"]["value"] == vals["InvocationThrottles"].sum()
    for fig in f.values():
        assert fig["source"] == "CloudWatch AWS/Bedrock, 1-minute sums"
    assert "estimate" in f["peak_demand_tpm"]["note"]
    assert doc["burndown"]["value"] == 1.0 and doc["burndown"]["source"].startswith("AWS documentation")
    quota = nova_tpm(sb)
    b = doc["binding_quota"]
    assert (b["code"], b["name"], b["value"], b["adjustable"]) == (quota["QuotaCode"], quota["QuotaName"],
                                                                  quota["Value"], True)
    assert b["source"] == "sandbox Service Quotas ListServiceQuotas"
    assert doc["region"] == "us-east-1" and doc["route"] == "on-demand" and doc["account"] == ACCOUNT
    assert f["peak_demand_tpm"]["value"] > f["peak_tpm"]["value"]  # throttled requests added, as an estimate
    assert doc["desired_value"] == significant(f["peak_demand_tpm"]["value"] * 1.25) > quota["Value"]
    assert doc["justification"]
    assert doc["window"]["active_minutes"] == ACTIVE and doc["pending_requests"] == []


def test_markdown_to_a_private_file(sb, env, tmp_path):
    put_history(sb, ACTIVE)
    target = tmp_path / "request.md"
    out = run(env, tmp_path, sb, "-o", str(target))
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and stat.S_IMODE(target.stat().st_mode) == 0o600
    text = target.read_text()
    assert text.startswith("# Service Quotas increase request: amazon.nova-lite-v1:0")
    assert nova_tpm(sb)["QuotaCode"] in text and "## Justification" in text and "CloudWatch AWS/Bedrock" in text


def test_too_little_history_says_so_and_writes_nothing(sb, env, tmp_path):
    put_history(sb, 5)
    target = tmp_path / "request.md"
    out = run(env, tmp_path, sb, "-o", str(target))
    assert out.returncode == 1
    assert "too little history" in out.stderr and "5 minutes with traffic" in out.stderr
    assert not target.exists() and out.stdout == ""


def test_submit_files_once_and_a_retry_finds_it(sb, env, tmp_path):
    put_history(sb, ACTIVE)
    quota = nova_tpm(sb)
    first = run(env, tmp_path, sb, "--submit", "--yes", "--json")
    assert first.returncode == 0, first.stderr
    assert "requested" in first.stderr
    desired = json.loads(first.stdout)["desired_value"]
    again = run(env, tmp_path, sb, "--submit", "--yes")
    assert again.returncode == 0, again.stderr
    assert "already exists" in again.stderr and "nothing new was filed" in again.stderr
    sq = boto3_client("service-quotas", sb.endpoint)
    filed = sq.list_requested_service_quota_change_history(ServiceCode="bedrock")["RequestedQuotas"]
    assert [(r["QuotaCode"], r["DesiredValue"]) for r in filed] == [(quota["QuotaCode"], desired)]
    assert filed[0]["Status"] in ("PENDING", "CASE_OPENED")  # the sandbox opens a case after 60 sandbox seconds
    assert "## Requests already filed" in again.stdout and filed[0]["Id"] in again.stdout
    # the same as JSON, with the open request in it (its times crashed json.dumps: newcomer-3), audited like the rest
    as_json = run(env, tmp_path, sb, "--submit", "--yes", "--json")
    assert as_json.returncode == 0 and "Traceback" not in as_json.stderr, as_json.stderr
    [pending] = json.loads(as_json.stdout)["pending_requests"]
    assert pending["Id"] == filed[0]["Id"] and pending["Created"].startswith("20"), pending
    audit = [json.loads(line) for line in (tmp_path / "state" / "tierconsole" / "audit.jsonl").read_text().splitlines()]
    outcomes = [a["outcome"] for a in audit if a["action"] == "quota-increase"]
    assert outcomes == [f"requested: {filed[0]['Id']}", f"exists: {filed[0]['Id']}", f"exists: {filed[0]['Id']}"]
    assert all(a["target"] == f"bedrock/{quota['QuotaCode']}" and a["account"] == ACCOUNT for a in audit)


def test_submit_refused_read_only_and_needs_yes_without_a_terminal(sb, env, tmp_path):
    put_history(sb, ACTIVE)
    out = run(env, tmp_path, sb, "--submit", "--yes", "--read-only")
    assert out.returncode == 1 and "quota-increase refused: --read-only was given" in out.stderr, out.stderr
    audit = (tmp_path / "state" / "tierconsole" / "audit.jsonl").read_text()
    assert '"outcome": "refused: read-only"' in audit and '"action": "quota-increase"' in audit
    no_yes = run(env, tmp_path, sb, "--submit", input="")
    assert no_yes.returncode == 2 and "--yes" in no_yes.stderr
    sq = boto3_client("service-quotas", sb.endpoint)
    assert sq.list_requested_service_quota_change_history(ServiceCode="bedrock")["RequestedQuotas"] == []


def test_quota_request_options_need_quota_request(env, tmp_path):
    for extra in (["--submit"], ["--desired", "5"], ["-o", "x.md"], ["--headroom", "1.5"]):
        out = subprocess.run([*CLI, "plan", "--model", NOVA, *extra], capture_output=True, text=True, timeout=60,
                             env=env, cwd=tmp_path)
        assert out.returncode == 2 and "only with --quota-request" in out.stderr, (extra, out.stderr)
    out = subprocess.run([*CLI, "plan", "--model", NOVA, "--quota-request", "--headroom", "0.5"],
                         capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert out.returncode == 2 and "--headroom" in out.stderr


async def test_a_request_whose_answer_is_lost_is_found_not_filed_twice(sb, tmp_path):
    """RequestServiceQuotaIncrease handled, its answer lost with the connection: the open request is looked up and
    returned; exactly one request exists (Service Quotas takes no client token)."""
    code = nova_tpm(sb)["QuotaCode"]
    guard = Guard(load_profile("sandbox"), tmp_path / "audit.jsonl", ACCOUNT)
    ctx = AwsContext(Target(load_profile("sandbox"), sb.endpoint, sandbox=True))
    sb.sandbox.faults.rules = parse_faults("lost#1:servicequotas")
    try:
        result = await _file(await ctx.client("service-quotas"), guard, f"bedrock/{code}", code, 500_000, {})
    finally:
        await ctx.close()
    assert sb.sandbox.faults.injected == {"lost": 1}
    filed = boto3_client("service-quotas", sb.endpoint).list_requested_service_quota_change_history(
        ServiceCode="bedrock")["RequestedQuotas"]
    assert len(filed) == 1 and result.outcome == "exists" and result.request["Id"] == filed[0]["Id"]
    assert f"exists: {filed[0]['Id']}" in (tmp_path / "audit.jsonl").read_text()


def test_from_a_recording(env, tmp_path):
    """A recording's minutes (quota-counted TPM, invocations, throttles as recorded) give the request; input and
    output per request are not recorded, said so (null); nothing is called, and it cannot be submitted."""
    from tierconsole.core.domain.views import DashboardData, UsageMinute
    from tierconsole.recording.recorder import Recorder

    rng = np.random.default_rng(5)
    n, t0 = 50, 1_800_000_000.0 - 1_800_000_000.0 % 60
    tpm, rpm, thr = rng.integers(50_000, 110_000, n), rng.integers(5, 40, n), (rng.random(n) < 0.3) * 2
    name = "On-demand model inference tokens per minute for Amazon Nova Lite"
    path = tmp_path / "s.tcrec"
    with Recorder(path, "prod") as rec:
        for k in range(n):
            minute = UsageMinute(t0 + 60 * k, NOVA, {"default": float(tpm[k])}, 120_000.0, float(rpm[k]), 2_000.0,
                                 {"all": int(thr[k])}, quota_name=name,
                                 rpm_quota_name="On-demand model inference requests per minute for Amazon Nova Lite")
            rec.write(DashboardData(time=t0 + 60 * k + 70, profile="prod", account_id="111122223333",
                                    region="eu-west-1", usage_minutes=(minute,)))
    out = subprocess.run([*CLI, "plan", "--quota-request", "--model", NOVA, "--from-recording", str(path), "--json"],
                         capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    f = doc["figures"]
    assert f["steady_tpm"]["value"] == pytest.approx(np.percentile(tpm, 50)) and f["peak_tpm"]["value"] == tpm.max()
    assert f["peak_rpm"]["value"] == rpm.max() and f["throttles"]["value"] == thr.sum()
    assert f["avg_input_tokens_per_request"]["value"] is None and "not known" in f["avg_input_tokens_per_request"]["note"]
    assert f["quota_tokens_per_request"]["value"] == pytest.approx(tpm.sum() / rpm.sum())
    assert f["steady_tpm"]["source"].startswith(f"recording {path}")
    assert (doc["account"], doc["region"], doc["profile"]) == ("111122223333", "eu-west-1", "prod")
    b = doc["binding_quota"]
    assert (b["name"], b["value"], b["code"]) == (name, 120_000, None)  # a recording keeps no code: none invented
    assert doc["window"]["active_minutes"] == n
    md = subprocess.run([*CLI, "plan", "--quota-request", "--model", NOVA, "--from-recording", str(path)],
                        capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path).stdout
    # no Python repr of the missing code, and counts as whole numbers (newcomer-3: "(None)", "throttles | 0.0")
    assert f"{name} (code not recorded): value 120,000" in md and "None" not in md, md
    assert f"| peak rpm | {rpm.max():,} |" in md, md
    refused = subprocess.run([*CLI, "plan", "--quota-request", "--model", NOVA, "--from-recording", str(path),
                              "--submit", "--yes"], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert refused.returncode == 2 and "without --from-recording" in refused.stderr
    missing = subprocess.run([*CLI, "plan", "--quota-request", "--model", NOVA, "--from-recording",
                              str(tmp_path / "none.tcrec")], capture_output=True, text=True, timeout=60, env=env,
                             cwd=tmp_path)
    assert missing.returncode == 2 and "none.tcrec" in missing.stderr and "Traceback" not in missing.stderr


def test_read_only_submit_is_refused_first_even_with_too_little_history(sb, env, tmp_path):
    """newcomer-5 F10: the read-only refusal comes before the history is read (as batch submit and cancel), names
    its cause, exits 1, is audited with the account, and nothing is written."""
    put_history(sb, 1)  # one minute with traffic: too little to plan from
    out = run(env, tmp_path, sb, "--submit", "--yes", "--read-only")
    assert out.returncode == 1, out.stderr
    assert "quota-increase refused: --read-only was given" in out.stderr and "history" not in out.stderr, out.stderr
    assert out.stdout == ""
    [entry] = [json.loads(line) for line in (tmp_path / "state" / "tierconsole" / "audit.jsonl").read_text().splitlines()]
    assert (entry["action"], entry["outcome"], entry["account"], entry["target"]) == (
        "quota-increase", "refused: read-only", ACCOUNT, NOVA)
    assert entry["detail"]["cause"] == "--read-only was given"
