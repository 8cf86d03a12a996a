"""``tierconsole plan`` / ``plan --quota-request`` for a model whose traffic goes through an application inference
profile copying it (its calls draw on the model's on-demand quota, and are published under ``ModelId=<profile
ARN>``): the profile created with boto3 on a sandbox, its history put into the sandbox's CloudWatch with boto3,
the command run as a process."""
from __future__ import annotations

import json
import math
import subprocess
import time
from datetime import datetime, timezone

import numpy as np
import pytest

from tests.conftest import NOVA, aio_client, boto3_client
from tests.e2e.test_plan_cli import env  # noqa: F401 - fixture: XDG folders of the test's own
from tests.e2e.test_plan_cli import generated, recent_first_minute, write
from tests.e2e.test_quota_request_cli import CLI, quiet_sandbox

ACCOUNT = "310987654321"  # an account of its own: moto's CloudWatch is shared by the sandboxes of a process
ACTIVE = 60


@pytest.fixture
def sb(make_sandbox):
    return quiet_sandbox(make_sandbox, ACCOUNT, "tierconsole-plan-app-profile-test")


def plan(env, cwd, sb, model, *args):
    return subprocess.run([*CLI, "plan", "--model", model, "--days", "1", "--profile", "sandbox",
                           "--endpoint-url", sb.endpoint, *args], capture_output=True, text=True, timeout=120,
                          env=env, cwd=cwd)


def app_profile(sb) -> dict:
    br = boto3_client("bedrock", sb.endpoint)
    made = br.create_inference_profile(
        inferenceProfileName="etl", modelSource={"copyFrom": f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA}"})
    return br.get_inference_profile(inferenceProfileIdentifier=made["inferenceProfileArn"])


def put_series(sb, model_id: str, minutes: int) -> np.ndarray:
    """``minutes`` of 1-minute history under ``ModelId=model_id``; returns the per-minute input+output tokens."""
    rng = np.random.default_rng(7)
    vals = {"InputTokenCount": rng.integers(90_000, 115_000, minutes),  # near Nova Lite's 120,000 TPM
            "OutputTokenCount": rng.integers(1_000, 5_000, minutes), "Invocations": rng.integers(10, 40, minutes)}
    first = math.floor(time.time() / 60) * 60 - (minutes + 5) * 60
    cw = boto3_client("cloudwatch", sb.endpoint)
    data = [{"MetricName": name, "Dimensions": [{"Name": "ModelId", "Value": model_id}], "Unit": "Count",
             "Value": float(v), "Timestamp": datetime.fromtimestamp(first + 60 * k, timezone.utc)}
            for name, arr in vals.items() for k, v in enumerate(arr) if v]
    for i in range(0, len(data), 40):  # small calls: botocore gzips a body over 10 KB, which the sandbox does not read
        cw.put_metric_data(Namespace="AWS/Bedrock", MetricData=data[i:i + 40])
    return (vals["InputTokenCount"] + vals["OutputTokenCount"]).astype(float)


def test_quota_request_counts_traffic_through_an_application_profile(sb, env, tmp_path):
    etl = app_profile(sb)
    tokens = put_series(sb, etl["inferenceProfileArn"], ACTIVE)  # nothing under ModelId=<Nova Lite> itself
    out = plan(env, tmp_path, sb, NOVA, "--quota-request", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["figures"]["peak_tpm"]["value"] == tokens.max() > 0
    assert doc["window"]["active_minutes"] == ACTIVE
    source = doc["window"]["source"]
    assert f"etl ({etl['inferenceProfileId']})" in source and NOVA in source, source
    assert doc["binding_quota"]["name"] == "On-demand model inference tokens per minute for Amazon Nova Lite"
    assert doc["desired_value"] is not None  # ~115k of 120k with headroom: an increase is asked for


def test_plan_sums_the_model_and_its_application_profiles_and_names_them(sb, env, tmp_path):
    etl = app_profile(sb)
    via_profile = put_series(sb, etl["inferenceProfileArn"], ACTIVE)
    out = plan(env, tmp_path, sb, NOVA, "--json")
    assert out.returncode == 0, out.stderr
    history = json.loads(out.stdout)["history"]
    assert history["series"] == [NOVA, etl["inferenceProfileArn"]]
    assert history["application_profiles"] == [f"etl ({etl['inferenceProfileId']})"]
    assert f"etl ({etl['inferenceProfileId']})" in history["source"]
    notes = json.loads(out.stdout)["notes"]  # the plan screen shows the same notes
    assert any(n.startswith("history: ModelId series summed") and f"etl ({etl['inferenceProfileId']})" in n
               for n in notes), notes
    assert via_profile.sum() > 0


def test_plan_by_application_profile_id_reads_the_profiles_series(sb, env, tmp_path):
    etl = app_profile(sb)
    put_series(sb, etl["inferenceProfileArn"], ACTIVE)
    by_id = plan(env, tmp_path, sb, etl["inferenceProfileId"], "--json")
    assert by_id.returncode == 0, by_id.stderr
    history = json.loads(by_id.stdout)["history"]
    assert history["series"] == [etl["inferenceProfileArn"]]
    by_arn = plan(env, tmp_path, sb, etl["inferenceProfileArn"], "--json")
    assert by_arn.returncode == 0, by_arn.stderr
    assert json.loads(by_arn.stdout)["history"]["series"] == [etl["inferenceProfileArn"]]
    # its own traffic is not the demand on the quota it draws on: the request names the model to ask for
    request = plan(env, tmp_path, sb, etl["inferenceProfileId"], "--quota-request")
    assert request.returncode == 1 and request.stdout == ""
    assert f"application inference profile etl ({etl['inferenceProfileId']})" in request.stderr, request.stderr
    assert f"plan --quota-request --model {NOVA}" in request.stderr and "Traceback" not in request.stderr


def test_the_text_plan_and_markdown_request_name_the_summed_series(sb, env, tmp_path):
    etl = app_profile(sb)
    put_series(sb, etl["inferenceProfileArn"], ACTIVE)
    named = f"application profile etl ({etl['inferenceProfileId']})"
    text = plan(env, tmp_path, sb, NOVA)
    assert text.returncode == 0, text.stderr
    assert named in " ".join(text.stdout.split()), text.stdout
    markdown = plan(env, tmp_path, sb, NOVA, "--quota-request")
    assert markdown.returncode == 0, markdown.stderr
    assert named in markdown.stdout and "nothing to request" not in markdown.stdout, markdown.stdout


# ---------------------------------------------------------------------- the sum, per tier (fetch_history itself)

APP = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/"


async def test_history_sums_per_tier_when_every_series_has_tiers(sb):
    from tierconsole.core.aws.history import fetch_history

    first = recent_first_minute()
    own, app = generated(3, ("default", "flex")), generated(4, ("default", "priority"))
    write(sb, "m.one-v1:0", first, own)
    write(sb, APP + "tiers000001", first, app)
    async with aio_client("cloudwatch", sb.endpoint) as cw:
        h = await fetch_history(cw, "m.one-v1:0", series=["m.one-v1:0", APP + "tiers000001"],
                                labels={APP + "tiers000001": "etl (tiers000001)"}, days=1)
    assert h.calls == 1 and h.tier_split and h.tiers == ("priority", "default", "flex")
    for field in ("input", "output", "invocations", "throttles"):
        assert h.frame[("default", field)].sum() == own["default"][field].sum() + app["default"][field].sum()
        assert h.frame[("flex", field)].sum() == own["flex"][field].sum()
        assert h.frame[("priority", field)].sum() == app["priority"][field].sum()
    doc = h.to_json()
    assert doc["series"] == ["m.one-v1:0", APP + "tiers000001"] and doc["application_profiles"] == ["etl (tiers000001)"]
    assert "application profile etl (tiers000001)" in doc["source"]


async def test_history_is_totals_when_a_series_with_traffic_has_no_tiers(sb):
    from tierconsole.core.aws.history import fetch_history

    first = recent_first_minute()
    own, app = generated(5, ("default", "flex")), generated(6, ("default",))
    write(sb, "m.two-v1:0", first, own)
    write(sb, APP + "totals00001", first, {None: app["default"]})  # the profile's {ModelId} totals only
    async with aio_client("cloudwatch", sb.endpoint) as cw:
        h = await fetch_history(cw, "m.two-v1:0", series=["m.two-v1:0", APP + "totals00001", APP + "idle00000001"],
                                days=1)
        alone = await fetch_history(cw, "m.two-v1:0", series=["m.two-v1:0", APP + "idle00000001"], days=1)
    assert not h.tier_split and h.tiers == ("total",)  # a per-tier figure is never guessed
    assert h.frame[("total", "input")].sum() == own["default"]["input"].sum() + own["flex"]["input"].sum() + \
        app["default"]["input"].sum()
    assert alone.tier_split and alone.tiers == ("default", "flex")  # an idle profile changes nothing
