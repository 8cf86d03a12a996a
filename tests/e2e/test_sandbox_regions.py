"""The single-account sandbox (a config without ``sandbox.regions``) is regional as AWS is: on-demand and
cross-region quotas are per account per region, CloudWatch metrics are regional, batch jobs (and their batch
capacity and ``AWS/Bedrock/Batch`` metrics) are regional, Service Quotas values and requests are per region. A
region botocore does not know for Bedrock is refused as a fleet sandbox refuses a region it does not serve.

Before: one tier engine served a call signed for any region, so exhausting Nova Lite's TPM in us-west-2 throttled
it in us-east-1 too, a quota increase approved in us-west-2 raised us-east-1's, and a us-west-2 batch job waited
behind a us-east-1 job of the same model's batch lane."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import NO_RETRY, NOVA, user

GPT = "openai.gpt-oss-20b-1:0"
WEST, EAST = "us-west-2", "us-east-1"
BUCKET = "tierconsole-sandbox"
ROLE = "arn:aws:iam::123456789012:role/BatchRole"


def client(sb, service: str, region: str, **config):
    return boto3.client(service, endpoint_url=sb.endpoint, region_name=region, aws_access_key_id="sandbox",
                        aws_secret_access_key="sandbox", config=Config(**{**NO_RETRY, **config}))


def code(info) -> str:
    return info.value.response["Error"]["Code"]


def big_prompt(tokens: int) -> list[dict]:
    return user("the " * tokens)  # four characters: one token each


def metric_sum(cw, namespace: str, name: str, dims: dict[str, str], stat: str = "Sum") -> float:
    now = datetime.now(timezone.utc)
    answer = cw.get_metric_data(
        MetricDataQueries=[{"Id": "m", "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": name,
                       "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]},
            "Period": 60, "Stat": stat}}],
        StartTime=now - timedelta(hours=3), EndTime=now + timedelta(hours=3))
    return sum(answer["MetricDataResults"][0]["Values"])


def wait_for(fn, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("model", [NOVA, f"us.{NOVA}"], ids=["on-demand", "cross-region"])
def test_exhausting_a_quota_in_one_region_leaves_another_region_s_alone(make_sandbox, model):
    """Nova Lite's TPM quota (120,000) taken in us-west-2 by one 70,000-token call: a second is throttled there,
    and the same call in us-east-1 is served (on-demand quota per region; a us. profile's cross-region quota is the
    source region's). The metrics follow: us-east-1's CloudWatch has its own invocation, not us-west-2's throttle."""
    sb = make_sandbox(speed=1.0)
    west, east = client(sb, "bedrock-runtime", WEST), client(sb, "bedrock-runtime", EAST)
    ask = {"modelId": model, "messages": big_prompt(70_000), "inferenceConfig": {"maxTokens": 10}}
    assert west.converse(**ask)["usage"]["inputTokens"] >= 70_000
    with pytest.raises(ClientError) as info:
        west.converse(**ask)
    assert code(info) == "ThrottlingException"
    served = east.converse(**ask)
    assert served["usage"]["inputTokens"] >= 70_000
    quotas = {region: client(sb, "service-quotas", region) for region in (WEST, EAST)}
    cw_west, cw_east = client(sb, "cloudwatch", WEST), client(sb, "cloudwatch", EAST)
    dims = {"ModelId": model}
    assert wait_for(lambda: metric_sum(cw_west, "AWS/Bedrock", "InvocationThrottles", dims), "west's throttle") == 1
    assert wait_for(lambda: metric_sum(cw_east, "AWS/Bedrock", "Invocations", dims), "east's call") == 1
    time.sleep(1.5)  # a flush more: anything published in the wrong region would be there by now
    assert metric_sum(cw_east, "AWS/Bedrock", "InvocationThrottles", dims) == 0
    assert metric_sum(cw_west, "AWS/Bedrock", "Invocations", dims) == 1
    for region, c in quotas.items():  # both regions' quotas are the catalog's, each in its own region's ARN
        listed = c.list_service_quotas(ServiceCode="bedrock")["Quotas"]
        assert all(f":servicequotas:{region}:" in q["QuotaArn"] for q in listed)


def test_a_quota_increase_is_per_region(make_sandbox):
    """A request filed in us-west-2 is listed there only, and once approved raises us-west-2's quota and its
    admission, never us-east-1's."""
    sb = make_sandbox(speed=600.0)  # decided after 600 sandbox seconds: one real second
    west, east = client(sb, "service-quotas", WEST), client(sb, "service-quotas", EAST)
    (tpm,) = [q for q in west.list_service_quotas(ServiceCode="bedrock")["Quotas"]
              if q["QuotaName"] == "On-demand model inference tokens per minute for Amazon Nova Lite"]
    assert tpm["Value"] == 120_000
    asked = west.request_service_quota_increase(ServiceCode="bedrock", QuotaCode=tpm["QuotaCode"],
                                                DesiredValue=240_000)["RequestedQuota"]
    assert [r["Id"] for r in west.list_requested_service_quota_change_history(
        ServiceCode="bedrock")["RequestedQuotas"]] == [asked["Id"]]
    assert east.list_requested_service_quota_change_history(ServiceCode="bedrock")["RequestedQuotas"] == []
    with pytest.raises(ClientError) as info:
        east.get_requested_service_quota_change(RequestId=asked["Id"])
    assert code(info) == "NoSuchResourceException"

    def value(c) -> float:
        return c.get_service_quota(ServiceCode="bedrock", QuotaCode=tpm["QuotaCode"])["Quota"]["Value"]

    assert wait_for(lambda: value(west) == 240_000, "the approval in us-west-2")
    assert value(east) == 120_000
    # the approved quota admits in us-west-2 what us-east-1's still refuses (one call's hold over 120,000)
    ask = {"modelId": NOVA, "messages": big_prompt(130_000), "inferenceConfig": {"maxTokens": 10}}
    assert client(sb, "bedrock-runtime", WEST).converse(**ask)["usage"]["inputTokens"] >= 130_000
    with pytest.raises(ClientError) as info:
        client(sb, "bedrock-runtime", EAST).converse(**ask)
    assert code(info) in ("ThrottlingException", "ValidationException")


def _upload(s3, key: str, n: int, family: str) -> str:
    import json

    def body(i: int) -> dict:
        text = f"question {i}"
        if family == "nova":
            return {"messages": [{"role": "user", "content": [{"text": text}]}], "inferenceConfig": {"maxTokens": 20}}
        return {"messages": [{"role": "user", "content": text}], "max_completion_tokens": 20}

    lines = "".join(json.dumps({"recordId": f"r{i:05d}", "modelInput": body(i)}) + "\n" for i in range(n))
    s3.put_object(Bucket=BUCKET, Key=key, Body=lines.encode())
    return f"s3://{BUCKET}/{key}"


def _job(bedrock, s3, name: str, model: str, n: int, family: str) -> str:
    return bedrock.create_model_invocation_job(
        jobName=name, roleArn=ROLE, modelId=model,
        inputDataConfig={"s3InputDataConfig": {"s3Uri": _upload(s3, f"{name}/in.jsonl", n, family)}},
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": f"s3://{BUCKET}/{name}/out/"}})["jobArn"]


def test_batch_jobs_their_capacity_and_metrics_are_regional(make_sandbox):
    """A us-west-2 job is listed and found in us-west-2 only, runs on us-west-2's batch capacity (not behind a
    us-east-1 job of the same model), and its AWS/Bedrock/Batch metrics are us-west-2's."""
    sb = make_sandbox(speed=50.0)
    s3 = client(sb, "s3", EAST)
    east, west = client(sb, "bedrock", EAST), client(sb, "bedrock", WEST)
    long_east = _job(east, s3, "east-long", NOVA, 3000, "nova")  # 5 sandbox minutes of Nova Lite's batch lane
    west_arn = _job(west, s3, "west-short", NOVA, 100, "nova")
    assert f":bedrock:{WEST}:" in west_arn
    assert [j["jobArn"] for j in west.list_model_invocation_jobs()["invocationJobSummaries"]] == [west_arn]
    assert [j["jobArn"] for j in east.list_model_invocation_jobs()["invocationJobSummaries"]] == [long_east]
    with pytest.raises(ClientError) as info:
        east.get_model_invocation_job(jobIdentifier=west_arn)
    assert code(info) == "ResourceNotFoundException"
    done = wait_for(lambda: west.get_model_invocation_job(jobIdentifier=west_arn)["status"] == "Completed",
                    "the us-west-2 job", timeout=60)
    assert done
    assert east.get_model_invocation_job(jobIdentifier=long_east)["status"] == "InProgress", \
        "the us-west-2 job ran on its own region's capacity, while the us-east-1 job still runs"
    cw_west, cw_east = client(sb, "cloudwatch", WEST), client(sb, "cloudwatch", EAST)
    dims, pending = {"modelId": NOVA}, "NumberOfRecordsPendingProcessing"
    assert wait_for(lambda: metric_sum(cw_west, "AWS/Bedrock/Batch", pending, dims, "SampleCount"), "west's metrics")
    east_pending = wait_for(lambda: metric_sum(cw_east, "AWS/Bedrock/Batch", pending, dims, "Maximum"),
                            "east's metrics")
    assert east_pending > 100  # the long job's (3,000 records) are us-east-1's ...
    assert metric_sum(cw_west, "AWS/Bedrock/Batch", pending, dims, "Maximum") <= 100  # ... and not us-west-2's


def test_a_region_bedrock_does_not_have_is_refused_and_cells_are_bounded(make_sandbox):
    """A call signed for a name botocore does not know for Bedrock is refused as AWS refuses an unknown (or not
    enabled) region, before any state is made for it; the regions asked in are a closed set."""
    t = make_sandbox(speed=50.0)
    with pytest.raises(ClientError) as info:
        client(t, "bedrock-runtime", "zz-nowhere-1").converse(modelId=NOVA, messages=user("hi"))
    assert code(info) == "UnrecognizedClientException"
    assert "zz-nowhere-1" in info.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as info:
        client(t, "sts", "zz-nowhere-2").get_caller_identity()
    assert code(info) == "InvalidClientTokenId"
    for region in ("us-west-2", "eu-west-1", "ap-northeast-1", "us-west-2"):
        assert client(t, "bedrock-runtime", region).converse(modelId=NOVA, messages=user("hi"),
                                                             inferenceConfig={"maxTokens": 5})["usage"]
    regions = {region for (_, region), _ in t.sandbox.cells}
    assert regions == {EAST, "us-west-2", "eu-west-1", "ap-northeast-1"}


def test_sandbox_regions_without_accounts_closes_the_set(make_sandbox):
    """The setting: ``sandbox.regions`` alone lists the regions the single-account sandbox serves."""
    from tierconsole.core.config.loader import load_yaml
    from tierconsole.sandbox.config import config_document, parse_sandbox_config

    doc = config_document()
    doc["sandbox"]["regions"] = [EAST, WEST]
    t = make_sandbox(parse_sandbox_config(load_yaml("r.yaml", __import__("json").dumps(doc)), "r.yaml"), speed=50.0)
    assert client(t, "bedrock-runtime", WEST).converse(modelId=NOVA, messages=user("hi"),
                                                       inferenceConfig={"maxTokens": 5})["usage"]
    with pytest.raises(ClientError) as info:
        client(t, "bedrock-runtime", "eu-west-1").converse(modelId=NOVA, messages=user("hi"))
    assert code(info) == "UnrecognizedClientException"
    assert "us-east-1, us-west-2 (sandbox.regions of its config)" in info.value.response["Error"]["Message"]
