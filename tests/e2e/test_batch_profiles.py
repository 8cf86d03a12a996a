"""Batch inference through an inference profile: AWS's CreateModelInvocationJob takes an inference profile id
or ARN as ``modelId`` (botocore's pattern allows system and application profile ARNs and ids), so the
sandbox accepts them, refuses an unknown one with the AWS error, and ``batch submit --model`` works with one."""
from __future__ import annotations

import json
import time

import botocore.exceptions
import pytest

from tests.conftest import NOVA, boto3_client
from tests.e2e.test_headless import batch_file, cli, env  # noqa: F401 - fixtures

ACCOUNT = "123456789012"


def create(br, model_id, name):
    return br.create_model_invocation_job(
        jobName=name, roleArn=f"arn:aws:iam::{ACCOUNT}:role/batch", modelId=model_id,
        inputDataConfig={"s3InputDataConfig": {"s3Uri": "s3://tierconsole-sandbox/in/x.jsonl"}},
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": "s3://tierconsole-sandbox/out/"}})


def test_create_model_invocation_job_takes_profile_ids_and_arns(sandbox):
    br = boto3_client("bedrock", sandbox.endpoint)
    app = br.create_inference_profile(inferenceProfileName="batch-app", modelSource={
        "copyFrom": f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA}"})["inferenceProfileArn"]
    for i, model_id in enumerate((f"us.{NOVA}", f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.{NOVA}",
                                  app, app.rsplit("/", 1)[1])):
        arn = create(br, model_id, f"profile-job-{i}")["jobArn"]
        assert br.get_model_invocation_job(jobIdentifier=arn)["modelId"] == model_id  # as given, as AWS echoes it


@pytest.mark.parametrize("model_id, code", [
    ("us.amazon.no-such-model-v1:0", "ResourceNotFoundException"),
    (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/zzzzzzzzzzzz", "ResourceNotFoundException"),
    (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/eu.{NOVA}", "ResourceNotFoundException"),
])
def test_an_unknown_profile_is_the_aws_error(sandbox, model_id, code):
    br = boto3_client("bedrock", sandbox.endpoint)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        create(br, model_id, "bad-profile-job")
    assert e.value.response["Error"]["Code"] == code
    assert model_id in e.value.response["Error"]["Message"]


def test_batch_submit_with_a_profile_id_runs_the_job(cli, sandbox, tmp_path):  # noqa: F811
    f = tmp_path / "records.jsonl"
    batch_file(f)
    out = cli("batch", "submit", str(f), "--model", f"us.{NOVA}", "--name", "via-profile", "--json")
    assert out.returncode == 0, out.stderr
    job = json.loads(out.stdout)
    assert job["modelId"] == f"us.{NOVA}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        shown = json.loads(cli("batch", "show", "via-profile", "--json").stdout)
        if shown["status"] in ("Completed", "PartiallyCompleted", "Failed"):
            break
        time.sleep(0.5)
    assert shown["status"] == "Completed", shown
