"""``tierconsole plan`` / ``plan --quota-request`` for a model whose traffic goes through an application inference
profile copying it (its calls draw on the model's on-demand quota, and are published under ``ModelId=<profile
ARN>``): the profile created with boto3 on a sandbox, its history put into the sandbox's CloudWatch with boto3,
the command run as a process."""
from __future__ import annotations

import json
import math
import time
from datetime import datetime, timezone

import numpy as np
import pytest

from tests.conftest import NOVA, boto3_client
from tests.e2e.test_plan_cli import env  # noqa: F401 - fixture: XDG folders of the test's own
from tests.e2e.test_quota_request_cli import CLI
from tierconsole.sandbox.config import config_document, parse_sandbox_config

import subprocess

ACCOUNT = "310987654321"  # an account of its own: moto's CloudWatch is shared by the sandboxes of a process
ACTIVE = 60


@pytest.fixture
def sb(make_sandbox):
    doc = config_document()
    doc["sandbox"]["account_id"] = ACCOUNT
    doc["sandbox"]["scenario"] = "none"
    doc["sandbox"]["bucket"] = "tierconsole-plan-app-profile-test"  # moto's S3 names are shared by its accounts
    return make_sandbox(parse_sandbox_config(doc, "test.yaml"), speed=50.0)


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
