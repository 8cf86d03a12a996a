"""The whole quota model on the sandbox endpoint, through boto3: Service Quotas lists every kind of
Bedrock quota, the utilization report flow, and ModelNotReadyException (429) counted as a client error."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config

from tierconsole.core.domain.quotas import QuotaKind, classify
from tierconsole.sandbox.app import Sandbox, SandboxThread
from tierconsole.sandbox.clock import FakeClock
from tierconsole.sandbox.config import parse_sandbox_config

CREDS = {"region_name": "us-east-1", "aws_access_key_id": "AKIDSANDBOXTEST", "aws_secret_access_key": "sandbox"}
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
NOVA = "amazon.nova-lite-v1:0"
GPT120 = "openai.gpt-oss-120b-1:0"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"

DOC = {"sandbox": {
    "models": [
        {"id": NOVA, "name": "Nova Lite", "quota_name": "Amazon Nova Lite", "tpm": 120_000, "rpm": 300,
         "max_output_tokens": 5000, "output_tps": 10_000, "ttft_ms": 1, "profiles": ["us", "eu"]},
        {"id": SONNET, "name": "Claude Sonnet 4.5", "quota_name": "Anthropic Claude Sonnet 4.5", "burndown": 5,
         "max_output_tokens": 8192, "output_tps": 10_000, "ttft_ms": 1, "not_ready_rate": 1.0,
         "profiles": ["us", "global"],
         "quotas": {"on_demand": {"tpm": 200_000, "rpm": 200}, "cross_region": {"tpm": 400_000, "rpm": 400},
                    "global": {"tpm": 800_000, "rpm": 800}, "tokens_per_day": 144_000_000}},
        {"id": GPT120, "name": "gpt-oss-120b", "quota_name": "OpenAI GPT OSS 120B", "max_output_tokens": 4000,
         "output_tps": 10_000, "ttft_ms": 1, "quotas": {"on_demand": {"input_tpm": 500_000, "output_tpm": 50_000}}},
    ],
    "account_quotas": {"cross_model_tokens_per_day": 900_000_000},
}}


def _config():
    return parse_sandbox_config(DOC, "test")


@pytest.fixture
def fake():
    """A sandbox on a clock the test moves (generation pacing shrunk 1000×)."""
    clock = FakeClock(speed=1000.0)
    sb = Sandbox(_config(), clock=clock)
    thread = SandboxThread(sb)
    thread.start()
    yield sb, clock
    thread.stop()


def _client(sb, service):
    return boto3.client(service, endpoint_url=sb.endpoint, config=NO_RETRY, **CREDS)


def _converse(client, model, max_tokens=50, text="hello quotas"):
    return client.converse(modelId=model, messages=[{"role": "user", "content": [{"text": text}]}],
                           inferenceConfig={"maxTokens": max_tokens})


def test_list_service_quotas_shows_every_kind(fake):
    sb, _clock = fake
    sq = _client(sb, "service-quotas")
    listed = [q for page in sq.get_paginator("list_service_quotas").paginate(ServiceCode="bedrock") for q in
              page["Quotas"]]
    by_name = {q["QuotaName"]: q for q in listed}
    want = {
        "On-demand model inference tokens per minute for Amazon Nova Lite": (120_000, "MINUTE"),
        "On-demand model inference requests per minute for Amazon Nova Lite": (300, "MINUTE"),
        "Cross-region model inference tokens per minute for Amazon Nova Lite": (120_000, "MINUTE"),
        "Cross-region model inference requests per minute for Amazon Nova Lite": (300, "MINUTE"),
        "Model invocation max tokens per day for Amazon Nova Lite": (120_000 * 1440, "DAY"),
        "Cross-region model inference tokens per minute for Anthropic Claude Sonnet 4.5": (400_000, "MINUTE"),
        "Cross-region model inference requests per minute for Anthropic Claude Sonnet 4.5": (400, "MINUTE"),
        "Global cross-Region model inference tokens per minute for Anthropic Claude Sonnet 4.5": (800_000, "MINUTE"),
        "Model invocation max tokens per day for Anthropic Claude Sonnet 4.5": (144_000_000, "DAY"),
        "On-demand model inference input tokens per minute for OpenAI GPT OSS 120B": (500_000, "MINUTE"),
        "On-demand model inference output tokens per minute for OpenAI GPT OSS 120B": (50_000, "MINUTE"),
        "Cross-Model Max Tokens Per Day": (900_000_000, "DAY"),
    }
    for name, (value, period) in want.items():
        assert name in by_name, name
        assert by_name[name]["Value"] == value
        assert by_name[name]["Period"] == {"PeriodValue": 1, "PeriodUnit": period}
    assert "On-demand model inference requests per minute for OpenAI GPT OSS 120B" not in by_name  # split: no RPM
    # a pool only where the model has that kind of profile (or the data gives one)
    assert "Global cross-Region model inference tokens per minute for Amazon Nova Lite" not in by_name
    assert not any(n.startswith(("Cross-region", "Global")) and n.endswith("GPT OSS 120B") for n in by_name)
    kinds = {classify(q["QuotaName"]).kind for q in listed if classify(q["QuotaName"])}
    assert kinds == {QuotaKind.ON_DEMAND, QuotaKind.CROSS_REGION, QuotaKind.GLOBAL, QuotaKind.MODEL_DAILY,
                     QuotaKind.CROSS_MODEL_DAILY}
    # every quota the engine enforces is listed under the code the engine knows it by, and nothing twice
    assert {q.code for q in sb.config.catalog.quota_specs} <= {q["QuotaCode"] for q in listed}
    assert len({q["QuotaCode"] for q in listed}) == len(listed)
    account = sq.get_service_quota(ServiceCode="bedrock", QuotaCode=by_name["Cross-Model Max Tokens Per Day"]["QuotaCode"])
    assert account["Quota"]["Value"] == 900_000_000


def test_utilization_report_flow(fake):
    sb, clock = fake
    runtime = _client(sb, "bedrock-runtime")
    sq = _client(sb, "service-quotas")
    for _ in range(3):
        _converse(runtime, NOVA, text="x" * 20_000)  # ~5,000 tokens each: 4% of the TPM quota, 1% of RPM
    with pytest.raises(sq.exceptions.NoSuchResourceException):
        sq.get_quota_utilization_report(ReportId="no-such-report")

    started = sq.start_quota_utilization_report()
    assert started["Status"] == "PENDING" and started["ReportId"]
    rid = started["ReportId"]
    pending = sq.get_quota_utilization_report(ReportId=rid)
    assert pending["Status"] in ("PENDING", "IN_PROGRESS") and not pending.get("Quotas")

    clock.advance(2)  # the report is ready a sandbox second after it was asked for
    done = sq.get_quota_utilization_report(ReportId=rid)
    assert done["Status"] == "COMPLETED"
    rows = done["Quotas"]
    assert done["TotalCount"] == len(rows) == len(sb.config.catalog.quota_specs)
    utilizations = [r["Utilization"] for r in rows]
    assert utilizations == sorted(utilizations, reverse=True)
    now = clock.now()
    expected = {u.code: 100.0 * u.used / u.spec.value for u in sb.engine.quota_uses(now)}
    for r in rows:
        assert r["ServiceCode"] == "bedrock" and r["AppliedValue"] == r["DefaultValue"]
        assert r["Utilization"] == pytest.approx(expected[r["QuotaCode"]], abs=0.01)
    top = rows[0]
    assert top["QuotaName"] == "On-demand model inference tokens per minute for Amazon Nova Lite"
    assert top["Utilization"] > 0
    assert abs(done["GeneratedAt"] - datetime.fromtimestamp(now, timezone.utc)) < timedelta(seconds=5)

    first = sq.get_quota_utilization_report(ReportId=rid, MaxResults=2)
    assert len(first["Quotas"]) == 2 and first["NextToken"]
    rest = sq.get_quota_utilization_report(ReportId=rid, MaxResults=1000, NextToken=first["NextToken"])
    assert [r["QuotaCode"] for r in first["Quotas"] + rest["Quotas"]] == [r["QuotaCode"] for r in rows]
    assert "NextToken" not in rest

    again = sq.start_quota_utilization_report()  # within a minute: the recent report is reused
    assert again["ReportId"] == rid and "reus" in again["Message"].lower()
    clock.advance(61)
    fresh = sq.start_quota_utilization_report()
    assert fresh["ReportId"] != rid
    with pytest.raises(sq.exceptions.NoSuchResourceException):  # one live report at a time: the old one is gone
        sq.get_quota_utilization_report(ReportId=rid)
    clock.advance(15 * 60 + 1)  # deleted after 15 minutes
    with pytest.raises(sq.exceptions.NoSuchResourceException):
        sq.get_quota_utilization_report(ReportId=fresh["ReportId"])


def test_model_not_ready_is_a_429_client_error_not_a_throttle():
    sb = Sandbox(_config(), speed=20)
    thread = SandboxThread(sb)
    thread.start()
    try:
        runtime = _client(sb, "bedrock-runtime")
        t0 = sb.clock.now()
        for _ in range(3):
            with pytest.raises(runtime.exceptions.ModelNotReadyException) as err:
                _converse(runtime, SONNET)
            assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
            assert err.value.response["Error"]["Code"] == "ModelNotReadyException"
        with pytest.raises(runtime.exceptions.ModelNotReadyException):
            runtime.converse_stream(modelId=SONNET, messages=[{"role": "user", "content": [{"text": "hi"}]}])
        mine = [o for o in sb.outcomes.recent if o.model_id == SONNET]
        assert len(mine) == 4 and all(o.status == 429 and not o.throttled for o in mine)
        assert all(u.used == 0 for u in sb.engine.quota_uses(sb.clock.now(), SONNET) if u.spec.model_id)

        cw = _client(sb, "cloudwatch")
        window = {"StartTime": datetime.fromtimestamp(int(t0) - 120, timezone.utc),
                  "EndTime": datetime.fromtimestamp(int(sb.clock.now()) + 600, timezone.utc)}
        queries = [{"Id": f"q{i}", "MetricStat": {"Metric": {"Namespace": "AWS/Bedrock", "MetricName": name,
                                                             "Dimensions": [{"Name": "ModelId", "Value": SONNET}]},
                                                  "Period": 60, "Stat": "Sum"}}
                   for i, name in enumerate(("InvocationClientErrors", "InvocationThrottles", "Invocations"))]
        deadline = time.monotonic() + 20
        sums = {}
        while time.monotonic() < deadline:
            res = cw.get_metric_data(MetricDataQueries=queries, **window)["MetricDataResults"]
            sums = {r["Id"]: sum(r["Values"]) for r in res}
            if sums.get("q0") == 4:
                break
            time.sleep(0.2)
        assert sums == {"q0": 4, "q1": 0, "q2": 0}
    finally:
        thread.stop()


def test_a_throttle_names_the_quota_that_blocked_it_in_the_access_log_and_outcome(tmp_path):
    import json

    doc = json.loads(json.dumps(DOC))
    doc["sandbox"]["models"][0]["rpm"] = 2
    doc["sandbox"]["engine"] = {"tiers": {"default": {"max_wait_s": 0}}}
    log = tmp_path / "access.jsonl"
    doc["sandbox"]["access_log"] = str(log)
    sb = Sandbox(parse_sandbox_config(doc, "test"), speed=20)
    thread = SandboxThread(sb)
    thread.start()
    try:
        runtime = _client(sb, "bedrock-runtime")
        _converse(runtime, NOVA)
        _converse(runtime, NOVA)
        with pytest.raises(runtime.exceptions.ThrottlingException) as err:
            _converse(runtime, NOVA)
        assert err.value.response["Error"]["Message"] == "Too many requests, please wait before trying again."
    finally:
        thread.stop()
    rpm_name = "On-demand model inference requests per minute for Amazon Nova Lite"
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["status"], e["quota"]) for e in entries] == [(200, None), (200, None), (429, rpm_name)]
    assert [o.quota for o in sb.outcomes.recent] == [None, None, rpm_name]


def test_a_profile_call_draws_on_its_route_quota_and_a_throttle_there_leaves_direct_calls_alone():
    import json

    doc = json.loads(json.dumps(DOC))
    nova = doc["sandbox"]["models"][0]
    nova["profiles"] = ["us", "global"]
    nova["quotas"] = {"cross_region": {"tpm": 120_000, "rpm": 2}, "global": {"tpm": 240_000, "rpm": 600}}
    doc["sandbox"]["engine"] = {"tiers": {"default": {"max_wait_s": 0}}}
    clock = FakeClock(speed=1000.0)
    sb = Sandbox(parse_sandbox_config(doc, "test"), clock=clock)
    thread = SandboxThread(sb)
    thread.start()
    try:
        runtime = _client(sb, "bedrock-runtime")

        def use(kind, measure="tokens"):
            return next(u.used for u in sb.engine.quota_uses(clock.now(), NOVA)
                        if u.spec.kind == kind and u.spec.measure == measure and u.spec.model_id == NOVA)

        _converse(runtime, "us." + NOVA)
        _converse(runtime, f"arn:aws:bedrock:us-east-1:{sb.config.account_id}:inference-profile/us.{NOVA}")
        assert use("cross_region", "requests") == 2 and use("cross_region") > 0
        assert use("on_demand") == use("on_demand", "requests") == 0
        assert use("model_daily") == use("cross_region")  # the day counts profile traffic (the default rule)
        with pytest.raises(runtime.exceptions.ThrottlingException) as err:
            _converse(runtime, "us." + NOVA)
        assert err.value.response["Error"]["Message"] == "Too many requests, please wait before trying again."
        assert sb.outcomes.recent[-1].quota == "Cross-region model inference requests per minute for Amazon Nova Lite"
        _converse(runtime, NOVA)  # the direct route has its own pool
        _converse(runtime, "global." + NOVA)
        assert use("on_demand", "requests") == 1 and use("global", "requests") == 1
        sq = _client(sb, "service-quotas")
        rid = sq.start_quota_utilization_report()["ReportId"]
        clock.advance(2)
        rows = {r["QuotaName"]: r["Utilization"] for r in sq.get_quota_utilization_report(ReportId=rid)["Quotas"]}
        assert rows["Cross-region model inference requests per minute for Amazon Nova Lite"] == 100.0
    finally:
        thread.stop()


@pytest.mark.parametrize("line, where, bad, message", [
    (11, "sandbox.models[0].quotas.cross_region.tpm", "          tpm: 0", "must be at least 1, got 0"),
    (14, "sandbox.quota_rules.daily_counts[1]", "    daily_counts: [on_demand, batch]", "got 'batch'"),
])
def test_bad_quota_data_is_refused_by_the_cli_naming_file_line_and_field(tmp_path, line, where, bad, message):
    import subprocess
    import sys

    lines = ["sandbox:", "  models:", "    - id: amazon.nova-lite-v1:0", "      name: Nova Lite", "      tpm: 1000",
             "      rpm: 10", "      max_output_tokens: 100", "      profiles: [us]", "      quotas:",
             "        cross_region:", "          tpm: 10", "          rpm: 1", "  quota_rules:",
             "    daily_counts: [on_demand]"]
    lines[line - 1] = bad
    path = tmp_path / "sandbox.yaml"
    path.write_text("\n".join(lines) + "\n")
    out = subprocess.run([sys.executable, "-m", "tierconsole.cli", "sandbox", "--config", str(path), "--port", "0"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert f"{path}:{line}: {where}: " in out.stderr and message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr + out.stdout
