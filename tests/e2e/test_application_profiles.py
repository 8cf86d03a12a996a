"""Application inference profiles as routes of their model: created with boto3 on a sandbox, traffic sent
through them with boto3, and seen in ``status --json`` / text (a process), the collector and the live TUI
(Pilot). One copies the foundation model (its calls draw on the on-demand quota), one copies the ``us.``
system profile (its calls draw on the cross-region quota)."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import time

from datetime import datetime, timezone

from tests.conftest import NOVA, boto3_client, clear_of_minute_end, user
from tests.e2e.test_quota_binding import CLI, status
from tests.functional.test_dashboard_pilot import text_of
from tests.functional.test_live_pilot import wait_for
from tierconsole.core.config.profiles import load_profile
from tierconsole.core.source import LiveSource
from tierconsole.tui.app import TierConsoleApp
from tierconsole.tui.widgets.quota import QuotaBody

ACCOUNT = "123456789012"


def make_profiles(endpoint: str) -> tuple[dict, dict]:
    br = boto3_client("bedrock", endpoint)
    direct = br.create_inference_profile(
        inferenceProfileName="etl-direct", tags=[{"key": "team", "value": "etl"}],
        modelSource={"copyFrom": f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA}"})
    cross = br.create_inference_profile(
        inferenceProfileName="etl-cross",
        modelSource={"copyFrom": f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.{NOVA}"})
    return br.get_inference_profile(inferenceProfileIdentifier=direct["inferenceProfileArn"]), \
        br.get_inference_profile(inferenceProfileIdentifier=cross["inferenceProfileArn"])


def send_through(endpoint: str, arn: str, n: int) -> None:
    rt = boto3_client("bedrock-runtime", endpoint)
    for _ in range(n):
        rt.converse(modelId=arn, messages=user("hello " * 200), inferenceConfig={"maxTokens": 40})


def test_status_shows_application_profile_traffic_as_a_route_of_its_model(make_sandbox, tmp_path):
    sb = make_sandbox(speed=1.0)
    clear_of_minute_end()
    direct, cross = make_profiles(sb.endpoint)
    send_through(sb.endpoint, direct["inferenceProfileArn"], 3)
    send_through(sb.endpoint, cross["inferenceProfileArn"], 2)
    time.sleep(1.5)  # the sandbox's metrics publisher flushes once a second
    out = status(sb.endpoint, tmp_path, "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    nova = {q["route"]: q for q in doc["quotas"] if q["model_id"] == NOVA}
    assert set(nova) == {"on-demand", "cross-region"}, doc["quotas"]
    on_demand, cross_region = nova["on-demand"], nova["cross-region"]
    assert on_demand["via"] == [f"etl-direct ({direct['inferenceProfileId']})"]
    assert cross_region["via"] == [f"etl-cross ({cross['inferenceProfileId']})"]
    # the traffic is counted against the quota each profile draws on, and that quota binds its route
    assert on_demand["tpm_used"] > 0 and on_demand["rpm_used"] > 0
    assert on_demand["binding"]["kind"] == "on_demand"
    assert cross_region["tpm_used"] > 0 and cross_region["binding"]["kind"] == "cross_region"
    assert "on_demand" not in {u["kind"] for u in cross_region["quotas"]}
    apps = {p["name"]: p for p in doc["application_profiles"]}
    assert apps["etl-direct"] == {"name": "etl-direct", "id": direct["inferenceProfileId"],
                                  "arn": direct["inferenceProfileArn"], "model_id": NOVA, "copies": NOVA,
                                  "route": "on-demand", "text": f"copies foundation model {NOVA}"}
    assert apps["etl-cross"]["copies"] == f"us.{NOVA}" and apps["etl-cross"]["route"] == "cross-region"
    text = status(sb.endpoint, tmp_path).stdout
    assert f"via application profile etl-cross ({cross['inferenceProfileId']})" in text, text
    assert f"etl-direct ({direct['inferenceProfileId']})  copies foundation model {NOVA}" in text, text
    assert f"copies inference profile us.{NOVA}" in text


async def test_the_live_console_shows_application_profile_routes(make_sandbox, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    sb = make_sandbox(speed=1.0)
    clear_of_minute_end(20)
    _, cross = make_profiles(sb.endpoint)
    await asyncio.to_thread(send_through, sb.endpoint, cross["inferenceProfileArn"], 2)
    profile = dataclasses.replace(load_profile("sandbox"), refresh_seconds=0.5)
    source = LiveSource(profile, endpoint_url=sb.endpoint)
    app = TierConsoleApp(source=source)
    async with app.run_test(size=(120, 40)) as pilot:
        def routed():
            d = app.dashboard.shown
            return d is not None and any(q.route == "cross-region" and q.via for q in d.quotas)
        assert await wait_for(pilot, routed, timeout=30), app.dashboard.shown
        await pilot.press("2")
        await pilot.pause(0.3)
        text = text_of(app.screen.query_one(QuotaBody))
        assert f"via application profile etl-cross ({cross['inferenceProfileId']})" in text, text
        route_line = next(line for line in text.splitlines() if line.startswith(" cross-region"))
        assert route_line.count("◆") == 1, text  # the quota that binds the route the profile draws on


def test_incident_export_of_a_throttle_through_an_application_profile_is_about_its_route(make_sandbox, tmp_path):
    """CloudWatch counts a call through an application profile under the profile's ARN: its throttles are an
    incident of the route the profile draws on, naming that route's quota."""
    sb = make_sandbox(speed=1.0)
    clear_of_minute_end()
    _, cross = make_profiles(sb.endpoint)
    arn = cross["inferenceProfileArn"]
    boto3_client("cloudwatch", sb.endpoint).put_metric_data(Namespace="AWS/Bedrock", MetricData=[
        {"MetricName": name, "Dimensions": [{"Name": "ModelId", "Value": arn}], "Timestamp": datetime.now(timezone.utc),
         "Value": value} for name, value in (("EstimatedTPMQuotaUsage", 120_000 * 0.95), ("Invocations", 20),
                                             ("InvocationThrottles", 6))])
    time.sleep(1.5)
    out_file = tmp_path / "incident.json"
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "c"), XDG_STATE_HOME=str(tmp_path / "s"))
    out = subprocess.run([*CLI, "incident", "export", "--since", "5m", "--model", NOVA, "--format", "json",
                          "-o", str(out_file), "--endpoint-url", sb.endpoint],
                         capture_output=True, text=True, timeout=90, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    incidents = {i["route"]: i for i in json.loads(out_file.read_text())["incidents"]}
    assert "cross-region" in incidents, incidents
    assert incidents["cross-region"]["diagnosis"].startswith(
        "Throttled by the cross-region TPM quota of Amazon Nova Lite (us-east-1), 95% used at "), incidents


def test_a_prompt_through_an_application_profile_is_priced_as_its_model(make_sandbox, tmp_path):
    """newcomer-3: `prompt --model <application profile ARN or id>` answered with cost `unknown` although the
    console knows the model the profile copies (status resolves it); pricing did not follow it."""
    sb = make_sandbox(speed=1.0)
    direct, cross = make_profiles(sb.endpoint)
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_STATE_HOME=str(tmp_path / "st"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    costs = {}
    for model in (NOVA, direct["inferenceProfileArn"], direct["inferenceProfileId"], cross["inferenceProfileArn"]):
        out = subprocess.run([*CLI, "prompt", "hello there", "--model", model, "--max-tokens", "20", "--json",
                              "--endpoint-url", sb.endpoint], capture_output=True, text=True, timeout=90, env=env,
                             cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        [result] = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
        assert result["cost_usd"] is not None, (model, result)
        per_token = (result["cost_usd"], result["input_tokens"], result["output_tokens"])
        costs[model] = per_token
    # the same model's prices: cost / (tokens) agrees with the direct call's
    from tierconsole.core.domain.pricing import PriceTable

    prices = PriceTable.from_profile()
    for model, (usd, tin, tout) in costs.items():
        assert usd == prices.cost(NOVA, "default", tin, tout), model
