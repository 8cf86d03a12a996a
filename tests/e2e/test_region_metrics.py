"""A call's CloudWatch metrics are published in the region it was made in (as AWS does): the single-account
sandbox serves calls signed for any Bedrock region (a reserved call by that region's reservation, in that region's
cell), and a GetMetricData/ListMetrics in region R sees exactly the calls made in R (newcomer-3 F-i: every call went to the
home region's CloudWatch, so `status --region us-west-2` said "no data" for a reservation that was serving)."""
from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
from botocore.config import Config

from tests.conftest import NO_RETRY, NOVA, clear_of_minute_end, user
from tests.e2e.test_headless import CLI, env  # noqa: F401 - fixture
from tierconsole.sandbox.config import load_sandbox_config

GPT = "openai.gpt-oss-20b-1:0"
WEST, EAST = "us-west-2", "us-east-1"
ROOT = Path(__file__).resolve().parents[2]
# The built-in sandbox profile, quiet, with a second reservation: Nova Lite's, in us-west-2.
WEST_RESERVATION = """
  - id: nova-west
    model: amazon.nova-lite-v1:0
    input_tpm: 100000
    output_tpm: 10000
    term_months: 1
    region: us-west-2
"""


def _profile(folder: Path) -> Path:
    text = (ROOT / "profiles" / "sandbox.yaml").read_text()
    text = text.replace("name: sandbox\n", "name: ops2\n", 1).replace("scenario: steady", "scenario: none", 1)
    text = text.replace("\nsandbox:\n", WEST_RESERVATION + "\nsandbox:\n", 1)
    path = folder / "tierconsole" / "profiles" / "ops2.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _client(service: str, endpoint: str, region: str):
    return boto3.client(service, endpoint_url=endpoint, region_name=region, aws_access_key_id="sandbox",
                        aws_secret_access_key="sandbox", config=Config(**NO_RETRY))


def _series(cw) -> set[tuple[str, str]]:
    return {(m["MetricName"], m["Dimensions"][0]["Value"])
            for page in cw.get_paginator("list_metrics").paginate(Namespace="AWS/Bedrock")
            for m in page["Metrics"] if len(m["Dimensions"]) == 1}


def _tokens(cw, model: str) -> float:
    now = datetime.now(timezone.utc)
    answer = cw.get_metric_data(
        MetricDataQueries=[{"Id": "t", "MetricStat": {"Metric": {"Namespace": "AWS/Bedrock",
                                                                  "MetricName": "OutputTokenCount",
                                                                  "Dimensions": [{"Name": "ModelId", "Value": model}]},
                                                       "Period": 60, "Stat": "Sum"}}],
        StartTime=now - timedelta(hours=2), EndTime=now + timedelta(hours=2))
    return sum(answer["MetricDataResults"][0]["Values"])


def _wait_published(cw, model: str, tokens: int) -> float:
    deadline = time.monotonic() + 20
    seen = _tokens(cw, model)
    while seen < tokens and time.monotonic() < deadline:  # the publisher flushes once a second
        time.sleep(0.3)
        seen = _tokens(cw, model)
    return seen


def test_each_call_s_metrics_are_in_its_own_region(make_sandbox, tmp_path, env):  # noqa: F811
    profile = _profile(tmp_path / "cfg")
    sb = make_sandbox(load_sandbox_config(profile), speed=1.0)
    west = _client("bedrock-runtime", sb.endpoint, WEST)
    east = _client("bedrock-runtime", sb.endpoint, EAST)
    clear_of_minute_end(25.0)  # the calls and both statuses in one minute: the trailing minute is exact
    r = west.converse(modelId=NOVA, messages=user("west reserved"), inferenceConfig={"maxTokens": 300},
                      serviceTier={"type": "reserved"})
    assert r["serviceTier"]["type"] == "reserved"  # served by nova-west, in us-west-2
    west_out = r["usage"]["outputTokens"]
    east_out = east.converse(modelId=GPT, messages=user("east std"),
                             inferenceConfig={"maxTokens": 30})["usage"]["outputTokens"]
    cw_west, cw_east = _client("cloudwatch", sb.endpoint, WEST), _client("cloudwatch", sb.endpoint, EAST)
    assert _wait_published(cw_west, NOVA, west_out) == west_out
    assert _wait_published(cw_east, GPT, east_out) == east_out
    time.sleep(1.5)  # a flush more: anything published in the wrong region would be there by now
    assert _tokens(cw_east, NOVA) == 0, "the us-west-2 call is not us-east-1's"
    assert _tokens(cw_west, GPT) == 0, "the us-east-1 call is not us-west-2's"
    west_series, east_series = _series(cw_west), _series(cw_east)
    assert ("OutputTokenCount", f"{NOVA}+reserved") in west_series
    assert not any(model.startswith(NOVA) for _, model in east_series), east_series
    assert ("OutputTokenCount", GPT) in east_series
    assert not any(model.startswith(GPT) for _, model in west_series), west_series

    def status(region: str) -> dict:
        out = subprocess.run([*CLI, "--profile", "ops2", "--endpoint-url", sb.endpoint, "status", "--region", region,
                              "--json"], capture_output=True, text=True, timeout=90, env=env, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    west_doc = status(WEST)
    [row] = west_doc["reservations"]
    assert row["reservation_id"] == "nova-west"
    # the whole call when the minute has not turned since (the trailing minute blends the previous one in)
    assert row["output_tpm_used"] is not None and 0 < row["output_tpm_used"] <= west_out, row
    assert not west_doc.get("no_data"), west_doc
    assert not any(q["model_id"] == GPT and q["tpm_used"] for q in west_doc["quotas"]), west_doc["quotas"]
    east_doc = status(EAST)
    assert [x["reservation_id"] for x in east_doc["reservations"]] == ["sonnet-reserved-1"]
    assert not any(q["model_id"] == NOVA and q["tpm_used"] for q in east_doc["quotas"]), east_doc["quotas"]
    assert any(q["model_id"] == GPT and q["tpm_used"] for q in east_doc["quotas"]), east_doc["quotas"]


def test_a_region_s_metrics_are_pruned_as_the_home_region_s(make_sandbox):
    """Another region's cell publishes into its own region's CloudWatch, indexed and pruned as the home region's
    (nothing kept without bound); a name no Bedrock region has is refused (tests/e2e/test_sandbox_regions.py)."""
    t = make_sandbox(speed=50.0)
    sb = t.sandbox
    out = _client("bedrock-runtime", t.endpoint, WEST).converse(modelId=NOVA, messages=user("hi"),
                                                                 inferenceConfig={"maxTokens": 5})["usage"]
    cell = dict(sb.cells)[(sb.config.account_id, WEST)]
    t.call(cell.metrics.flush)
    assert not cell.metrics._pending and not sb.metrics._pending
    assert _tokens(_client("cloudwatch", t.endpoint, EAST), NOVA) == 0  # the call is not us-east-1's
    cw_west = _client("cloudwatch", t.endpoint, WEST)
    assert _tokens(cw_west, NOVA) == out["outputTokens"]
    west = cell.metrics.backend
    assert west.sandbox_series_index is not None  # its queries are indexed, as the home region's
    assert t.call(lambda: cell.metrics.prune(sb.clock.now() + cell.metrics.retention_s + 60)) > 0
    assert not [md for md in west.metric_data if md.namespace == "AWS/Bedrock"]
    assert _tokens(cw_west, NOVA) == 0
