"""The console names the quota that binds, per model and route: the collector with aiobotocore and the
`status` CLI as a process, against a sandbox on loopback.

The cross-region series is written with a real CloudWatch client in the form AWS publishes a profile call
(``ModelId`` = the profile id), so the test holds whichever series the sandbox itself publishes profile
traffic under."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone

from tests.conftest import NOVA, aio_client, boto3_client, clear_of_minute_end, user
from tierconsole.core.aws.collectors import Collector
from tierconsole.core.aws.session import AwsContext, Target
from tierconsole.core.config.profiles import load_profile

CLI = [sys.executable, "-m", "tierconsole.cli"]
PROFILE_SERIES = f"us.{NOVA}"
CROSS_TPM = 120_000  # the sandbox catalog's Nova Lite: cross-region quota copies the on-demand one


def put_cross_region_use(endpoint: str, fraction: float) -> None:
    cw = boto3_client("cloudwatch", endpoint)
    now = datetime.now(timezone.utc)
    cw.put_metric_data(Namespace="AWS/Bedrock", MetricData=[
        {"MetricName": "EstimatedTPMQuotaUsage", "Dimensions": [{"Name": "ModelId", "Value": PROFILE_SERIES}],
         "Timestamp": now, "Value": CROSS_TPM * fraction},
        {"MetricName": "Invocations", "Dimensions": [{"Name": "ModelId", "Value": PROFILE_SERIES}],
         "Timestamp": now, "Value": 12}])


async def direct_calls(endpoint: str, n: int = 3) -> None:
    async with aio_client("bedrock-runtime", endpoint) as c:
        for _ in range(n):
            await c.converse(modelId=NOVA, messages=user("hello"), inferenceConfig={"maxTokens": 20})


def rows(quotas, model=NOVA):
    return {q.route: q for q in quotas if q.model_id == model}


async def test_collector_binds_each_route_to_its_own_quota_and_reads_daily_use_from_the_report(make_sandbox):
    sb = make_sandbox(speed=1.0)
    clear_of_minute_end()
    await direct_calls(sb.endpoint)
    put_cross_region_use(sb.endpoint, 0.9)
    await asyncio.sleep(1.5)  # the sandbox's metrics publisher flushes once a second
    profile = load_profile("sandbox")
    ctx = AwsContext(Target(profile, sb.endpoint, sandbox=True))
    collector = Collector(ctx)  # speed 1: the sandbox clock is the wall clock
    try:
        first = await collector.refresh()
        await asyncio.sleep(1.2)  # the utilization report is ready a sandbox second after it was started
        second = await collector.refresh()
    finally:
        await ctx.close()
    assert not collector.errors, collector.errors
    by_route = rows(second.quotas)
    assert set(by_route) == {"on-demand", "cross-region"}
    cross = by_route["cross-region"]
    assert cross.binding.kind == "cross_region" and cross.binding.measure == "tokens"
    assert abs(cross.binding.fraction - 0.9) < 0.01 and cross.binding.source == "sandbox CloudWatch"
    assert cross.binding_text.startswith("cross-region TPM quota of ") and "(us-east-1), 90% used" in cross.binding_text
    assert {u.kind for u in cross.quotas} >= {"cross_region", "model_daily", "cross_model_daily"}
    assert "on_demand" not in {u.kind for u in cross.quotas}
    direct = by_route["on-demand"]
    assert direct.binding.kind == "on_demand"
    # a day's use: only the utilization report tells it, read on the refresh after it was started
    day = next(u for u in direct.quotas if u.kind == "model_daily")
    # (a few calls are 0.00% of a day: the report publishes Utilization to two decimals, so 0 here is published)
    assert day.used is not None and day.source == "sandbox utilization report"
    first_day = next(u for u in rows(first.quotas)["on-demand"].quotas if u.kind == "model_daily")
    assert first_day.used is None or first_day.source.endswith("utilization report")  # never a made-up 0
    calls = collector.calls.counts
    assert calls["GetMetricData"] == 2, "one GetMetricData per region per refresh"
    assert calls["ListServiceQuotas"] >= 1 and calls["ListInferenceProfiles"] == 1
    assert calls["StartQuotaUtilizationReport"] == 1 and calls["GetQuotaUtilizationReport"] >= 1


def status(endpoint, tmp_path, *args):
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_STATE_HOME=str(tmp_path / "st"))
    return subprocess.run([*CLI, "status", "--endpoint-url", endpoint, *args], capture_output=True, text=True,
                          timeout=90, env=env, cwd=tmp_path)


async def test_status_names_the_binding_quota_of_a_profile_route_apart_from_on_demand(make_sandbox, tmp_path):
    sb = make_sandbox(speed=1.0)
    clear_of_minute_end()
    await direct_calls(sb.endpoint)
    put_cross_region_use(sb.endpoint, 0.9)
    time.sleep(1.5)
    out = status(sb.endpoint, tmp_path, "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    nova = {q["route"]: q for q in doc["quotas"] if q["model_id"] == NOVA}
    cross, direct = nova["cross-region"], nova["on-demand"]
    assert cross["binding"]["kind"] == "cross_region" and cross["binding"]["measure"] == "tokens"
    assert cross["binding"]["period"] == 60 and abs(cross["binding"]["fraction"] - 0.9) < 0.01
    assert cross["binding"]["name"] == "Cross-region model inference tokens per minute for Amazon Nova Lite"
    assert cross["binding"]["code"].startswith("L-") and "90% used" in cross["binding"]["text"]
    assert direct["binding"]["kind"] == "on_demand" and direct["binding"]["fraction"] < 0.5
    day = next(u for u in direct["quotas"] if u["kind"] == "model_daily")
    assert day["used"] is None or day["source"].endswith("utilization report")
    text = status(sb.endpoint, tmp_path)
    assert "binds: cross-region TPM quota of Amazon Nova Lite (us-east-1), 90% used (sandbox CloudWatch)" \
        in text.stdout, text.stdout
    assert cross["binding"]["source"] == "sandbox CloudWatch"
    # --fail-over judges every applicable quota: the on-demand use is low, the cross-region one is over
    over = status(sb.endpoint, tmp_path, "--fail-over", "0.85")
    assert over.returncode == 3 and "cross-region" in over.stderr, over.stderr
    assert "1 quota over 85%" in over.stdout and over.stdout.count("▲") == 1


def test_incident_export_names_the_binding_quota_of_each_route(make_sandbox, tmp_path):
    sb = make_sandbox(speed=1.0)
    clear_of_minute_end()
    asyncio.run(direct_calls(sb.endpoint))
    put_cross_region_use(sb.endpoint, 0.96)
    cw = boto3_client("cloudwatch", sb.endpoint)
    cw.put_metric_data(Namespace="AWS/Bedrock", MetricData=[
        {"MetricName": "InvocationThrottles", "Dimensions": [{"Name": "ModelId", "Value": PROFILE_SERIES}],
         "Timestamp": datetime.now(timezone.utc), "Value": 7}])
    time.sleep(1.5)
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "c"), XDG_STATE_HOME=str(tmp_path / "s"))
    docs = {}
    for fmt in ("json", "csv", "md"):
        out_file = tmp_path / f"incident.{fmt}"
        out = subprocess.run([*CLI, "incident", "export", "--since", "5m", "--model", NOVA, "--format", fmt,
                              "-o", str(out_file), "--endpoint-url", sb.endpoint],
                             capture_output=True, text=True, timeout=90, env=env, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        docs[fmt] = out_file.read_text()
    incidents = {i["route"]: i for i in json.loads(docs["json"])["incidents"]}
    assert set(incidents) == {"on-demand", "cross-region"}
    cross = incidents["cross-region"]
    assert cross["quota_name"] == "Cross-region model inference tokens per minute for Amazon Nova Lite"
    assert cross["diagnosis"].startswith("Throttled by the cross-region TPM quota of Amazon Nova Lite (us-east-1), "
                                         "96% used at "), cross["diagnosis"]
    assert incidents["on-demand"]["quota_name"] == "On-demand model inference tokens per minute for Amazon Nova Lite"
    assert incidents["on-demand"]["diagnosis"].startswith("No throttles")
    import csv
    import io
    rows = list(csv.DictReader(io.StringIO(docs["csv"])))
    assert {(r["route"], r["quota_name"]) for r in rows} == {(i["route"], i["quota_name"]) for i in incidents.values()}
    assert f"**Quota:** {cross['quota_name']}" in docs["md"] and "## amazon.nova-lite-v1:0 (cross-region)" in docs["md"]


async def test_a_role_without_list_inference_profiles_keeps_the_on_demand_quotas(make_sandbox):
    from tierconsole.sandbox.faults import parse_faults

    sb = make_sandbox(speed=1.0)
    sb.sandbox.faults.rules = parse_faults("denied:bedrock/inference-profiles")
    ctx = AwsContext(Target(load_profile("sandbox"), sb.endpoint, sandbox=True))
    collector = Collector(ctx)
    try:
        data = await collector.refresh()
    finally:
        await ctx.close()
    assert "access denied (ListInferenceProfiles)" in collector.errors.get("profiles", ""), collector.errors
    assert data.pane_status("quota").ok, data.pane_status("quota")
    nova = rows(data.quotas)["on-demand"]
    assert nova.tpm_quota == 120_000 and {u.kind for u in nova.quotas} >= {"on_demand", "model_daily"}
