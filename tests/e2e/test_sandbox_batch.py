"""Batch inference end to end: boto3 and aiobotocore against the sandbox's bedrock control plane and S3."""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import ClientError

from tierconsole.core.domain.tokens import estimate_tokens
from tierconsole.sandbox.app import Sandbox, SandboxThread
from tierconsole.sandbox.services.batch import TERMINAL, BatchSettings
from tierconsole.sandbox.config import parse_sandbox_config

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})
CREDS = {"region_name": "us-east-1", "aws_access_key_id": "AKIDSANDBOX", "aws_secret_access_key": "sandbox"}
ROLE = "arn:aws:iam::123456789012:role/BatchRole"
FAST = "amazon.nova-lite-v1:0"  # nova body, 1,000 records per sandbox second
SLOW = "openai.gpt-oss-20b-1:0"  # openai body, 12 records per sandbox minute: 40 per real second at speed 200
CLAUDE = "anthropic.claude-sonnet-4-5-20250929-v1:0"  # needs at least 5 records per job


def make_config(**fast_overrides):
    fast = {"id": FAST, "name": "Nova Lite", "family": "nova", "tpm": 1_000_000, "rpm": 10_000,
            "max_output_tokens": 1000, "batch_min_records": 1, "batch_records_per_minute": 60_000}
    fast.update(fast_overrides)
    return parse_sandbox_config({"sandbox": {"models": [
        fast,
        {"id": SLOW, "name": "GPT OSS 20B", "family": "openai", "tpm": 1_000_000, "rpm": 10_000,
         "max_output_tokens": 1000, "batch_min_records": 1, "batch_records_per_minute": 12},
        {"id": CLAUDE, "name": "Claude Sonnet 4.5", "family": "anthropic", "tpm": 1_000_000, "rpm": 10_000,
         "burndown": 5, "max_output_tokens": 1000, "batch_min_records": 5, "batch_records_per_minute": 60_000},
    ]}}, "test")


@pytest.fixture(scope="module")
def batch_sandbox():
    sb = Sandbox(make_config(), speed=200)
    sb.batch.settings = BatchSettings(submitted_s=2, validating_s=4, scheduled_s=4, stopping_s=2)
    thread = SandboxThread(sb)
    thread.start()
    yield sb
    thread.stop()
    assert not thread._thread.is_alive()


@pytest.fixture(scope="module")
def clients(batch_sandbox):
    kw = dict(endpoint_url=batch_sandbox.endpoint, config=NO_RETRIES, **CREDS)
    return boto3.client("bedrock", **kw), boto3.client("s3", **kw), batch_sandbox


def body(family: str, text: str, max_tokens: int = 64) -> dict:
    messages = [{"role": "user", "content": [{"text": text}]}]
    if family == "nova":
        return {"messages": messages, "inferenceConfig": {"maxTokens": max_tokens}}
    if family == "anthropic":
        return {"anthropic_version": "bedrock-2023-05-31", "max_tokens": max_tokens, "messages": messages}
    if family == "converse":
        return {"messages": messages, "inferenceConfig": {"maxTokens": max_tokens}}
    return {"messages": [{"role": "user", "content": text}], "max_completion_tokens": max_tokens}


def records(family: str, n: int, prefix: str = "rec") -> list[dict]:
    return [{"recordId": f"{prefix}{i:05d}", "modelInput": body(family, f"Question {i}: {'why ' * (i % 7)}?")}
            for i in range(n)]


def upload(s3, bucket: str, key: str, recs: list) -> str:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in recs]
    s3.put_object(Bucket=bucket, Key=key, Body=("\n".join(lines) + "\n").encode())
    return f"s3://{bucket}/{key}"


def create(br, sb, name: str, model: str, input_uri: str, out_prefix: str | None = None, **extra) -> str:
    out = f"s3://{sb.config.bucket}/{out_prefix or 'out/' + name}/"
    return br.create_model_invocation_job(
        jobName=name, roleArn=ROLE, modelId=model,
        inputDataConfig={"s3InputDataConfig": {"s3Uri": input_uri, "s3InputFormat": "JSONL"}},
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": out}}, **extra)["jobArn"]


def wait(br, arn: str, statuses=TERMINAL, timeout: float = 5.0, seen: list | None = None) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = br.get_model_invocation_job(jobIdentifier=arn)
        if seen is not None:
            seen.append((job["status"], job.get("processedRecordCount")))
        if job["status"] in statuses:
            return job
        assert time.monotonic() < deadline, f"job still {job['status']} after {timeout}s: {job.get('message')}"
        time.sleep(0.02)


def read_output(s3, bucket: str, out_prefix: str, job_id: str, name: str) -> list[dict]:
    raw = s3.get_object(Bucket=bucket, Key=f"{out_prefix}/{job_id}/{name}")["Body"].read().decode()
    return [json.loads(x) for x in raw.splitlines()] if name.endswith(".jsonl.out") else json.loads(raw)


def job_id(arn: str) -> str:
    return arn.rsplit("/", 1)[1]


# ---------------------------------------------------------------------------- lifecycle and output

def test_job_from_s3_object_completes_with_one_output_per_record(clients):
    br, s3, sb = clients
    recs = records("nova", 25)
    uri = upload(s3, sb.config.bucket, "in/complete/records.jsonl", recs)
    arn = create(br, sb, "complete-1", FAST, uri)
    seen: list = []
    job = wait(br, arn, seen=seen)
    assert job["status"] == "Completed", job.get("message")
    order = ["Submitted", "Validating", "Scheduled", "InProgress", "Completed"]
    positions = [order.index(s) for s, _ in seen]
    # Phases only move forward. Polling may miss a short phase (Submitted lasts a fraction of a real second at
    # speed 200, and a loaded CI machine once polled first in Validating), so only the order is asserted here.
    assert positions == sorted(positions), seen
    assert (job["totalRecordCount"], job["processedRecordCount"], job["successRecordCount"],
            job["errorRecordCount"]) == (25, 25, 25, 0)
    assert job["endTime"] >= job["submitTime"] and job["jobExpirationTime"] > job["submitTime"]

    lines = read_output(s3, sb.config.bucket, "out/complete-1", job_id(arn), "records.jsonl.out")
    assert [x["recordId"] for x in lines] == [r["recordId"] for r in recs]
    for line, rec in zip(lines, recs):
        assert line["modelInput"] == rec["modelInput"]
        out = line["modelOutput"]
        text = out["output"]["message"]["content"][0]["text"]
        assert out["usage"]["inputTokens"] == estimate_tokens(rec["modelInput"]["messages"][0]["content"][0]["text"])
        assert out["usage"]["outputTokens"] == estimate_tokens(text) <= 64
        assert out["stopReason"] in ("end_turn", "max_tokens")
    manifest = read_output(s3, sb.config.bucket, "out/complete-1", job_id(arn), "manifest.json.out")
    assert manifest == {"totalRecordCount": 25, "processedRecordCount": 25, "successRecordCount": 25,
                        "errorRecordCount": 0,
                        "inputTokenCount": sum(x["modelOutput"]["usage"]["inputTokens"] for x in lines),
                        "outputTokenCount": sum(x["modelOutput"]["usage"]["outputTokens"] for x in lines)}

    # The same request on the runtime gives the same deterministic answer.
    rt = boto3.client("bedrock-runtime", endpoint_url=sb.endpoint, config=NO_RETRIES, **CREDS)
    answer = json.loads(rt.invoke_model(modelId=FAST, body=json.dumps(recs[3]["modelInput"]))["body"].read())
    assert answer["output"] == lines[3]["modelOutput"]["output"]

    batch_outcomes = [o for o in list(sb.outcomes.recent) if o.source == "batch" and o.model_id == FAST]
    assert len(batch_outcomes) >= 25
    assert all(o.operation == "Batch" and o.served_tier == "batch" and o.quota_tokens == 0 for o in batch_outcomes)


def test_bad_model_input_becomes_an_error_line(clients):
    br, s3, sb = clients
    recs = records("nova", 4) + [{"recordId": "broken", "modelInput": {"prompt": "not a nova body"}},
                                 {"modelInput": body("nova", "no id on this one")}]
    uri = upload(s3, sb.config.bucket, "in/partial/records.jsonl", recs)
    arn = create(br, sb, "partial-1", FAST, uri)
    job = wait(br, arn)
    assert job["status"] == "PartiallyCompleted"
    assert (job["successRecordCount"], job["errorRecordCount"]) == (5, 1)
    lines = read_output(s3, sb.config.bucket, "out/partial-1", job_id(arn), "records.jsonl.out")
    broken = next(x for x in lines if x["recordId"] == "broken")
    assert broken["error"] == {"errorCode": 400, "errorMessage": "messages: at least one message is required"}
    assert "modelOutput" not in broken
    assigned = lines[-1]["recordId"]  # Bedrock assigns an id to a record without one
    assert len(assigned) == 11 and assigned.isalnum() and "modelOutput" in lines[-1]


async def test_converse_job_over_a_prefix_with_aiobotocore(batch_sandbox):
    sandbox = batch_sandbox
    session = get_session()
    kw = dict(endpoint_url=sandbox.endpoint, config=NO_RETRIES, **CREDS)
    async with session.create_client("s3", **kw) as s3, session.create_client("bedrock", **kw) as br:
        bucket = sandbox.config.bucket
        for name, recs in (("a.jsonl", records("converse", 3, "a")), ("sub/b.jsonl", records("converse", 4, "b"))):
            data = "\n".join(json.dumps(r) for r in recs).encode()
            await s3.put_object(Bucket=bucket, Key=f"in/prefix/{name}", Body=data)
        await s3.put_object(Bucket=bucket, Key="in/prefix/README.txt", Body=b"ignored: not .jsonl")
        arn = (await br.create_model_invocation_job(
            jobName="converse-prefix", roleArn=ROLE, modelId=FAST, modelInvocationType="Converse",
            inputDataConfig={"s3InputDataConfig": {"s3Uri": f"s3://{bucket}/in/prefix/"}},
            outputDataConfig={"s3OutputDataConfig": {"s3Uri": f"s3://{bucket}/out/converse"}}))["jobArn"]
        deadline = time.monotonic() + 5
        while (job := await br.get_model_invocation_job(jobIdentifier=arn))["status"] not in TERMINAL:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        assert job["status"] == "Completed", job.get("message")
        assert job["modelInvocationType"] == "Converse" and job["totalRecordCount"] == 7
        keys = {o["Key"] for o in (await s3.list_objects_v2(Bucket=bucket, Prefix=f"out/converse/{job_id(arn)}/"))["Contents"]}
        base = f"out/converse/{job_id(arn)}/"
        assert keys == {base + "a.jsonl.out", base + "sub/b.jsonl.out", base + "manifest.json.out"}
        out = json.loads((await (await s3.get_object(Bucket=bucket, Key=base + "sub/b.jsonl.out"))["Body"].read()).splitlines()[0])
        assert out["recordId"] == "b00000"
        converse = out["modelOutput"]
        assert converse["output"]["message"]["role"] == "assistant" and "usage" in converse
        assert "serviceTier" not in converse
        listed = await br.list_model_invocation_jobs(nameContains="converse-prefix")
        assert [s["jobArn"] for s in listed["invocationJobSummaries"]] == [arn]


def test_counts_move_while_in_progress(clients):
    br, s3, sb = clients
    uri = upload(s3, sb.config.bucket, "in/progress/records.jsonl", records("openai", 40))
    arn = create(br, sb, "progress-1", SLOW, uri)
    seen: list = []
    job = wait(br, arn, seen=seen, timeout=6)
    assert job["status"] == "Completed", job.get("message")
    in_progress = [n for s, n in seen if s == "InProgress"]
    assert any(0 < n < 40 for n in in_progress), seen
    assert in_progress == sorted(in_progress)


def test_stop_keeps_the_partial_output(clients):
    br, s3, sb = clients
    uri = upload(s3, sb.config.bucket, "in/stop/records.jsonl", records("openai", 40))
    arn = create(br, sb, "stop-1", SLOW, uri)
    deadline = time.monotonic() + 5
    while (job := br.get_model_invocation_job(jobIdentifier=arn)).get("processedRecordCount", 0) < 3:
        assert time.monotonic() < deadline, job
        time.sleep(0.01)
    br.stop_model_invocation_job(jobIdentifier=job_id(arn))
    assert br.get_model_invocation_job(jobIdentifier=arn)["status"] in ("Stopping", "Stopped")
    job = wait(br, arn)
    assert job["status"] == "Stopped"
    processed = job["processedRecordCount"]
    assert 3 <= processed < 40 and job["totalRecordCount"] == 40
    lines = read_output(s3, sb.config.bucket, "out/stop-1", job_id(arn), "records.jsonl.out")
    assert len(lines) == processed
    assert read_output(s3, sb.config.bucket, "out/stop-1", job_id(arn), "manifest.json.out")["processedRecordCount"] == processed
    with pytest.raises(ClientError) as err:
        br.stop_model_invocation_job(jobIdentifier=arn)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "Stopped" in err.value.response["Error"]["Message"]


def test_malformed_file_fails_naming_the_line(clients):
    br, s3, sb = clients
    recs = records("nova", 6) + ['{"recordId": "x7"}'] + records("nova", 2, "tail")
    arn = create(br, sb, "malformed-1", FAST, upload(s3, sb.config.bucket, "in/bad/records.jsonl", recs))
    job = wait(br, arn)
    assert job["status"] == "Failed"
    assert "line 7: modelInput is required" in job["message"]
    assert "records.jsonl" in job["message"] and "totalRecordCount" not in job

    missing = wait(br, create(br, sb, "missing-1", FAST, f"s3://{sb.config.bucket}/in/nothing-here.jsonl"))
    assert missing["status"] == "Failed" and "No input found" in missing["message"]
    few = wait(br, create(br, sb, "few-1", CLAUDE, upload(s3, sb.config.bucket, "in/few/r.jsonl",
                                                           records("anthropic", 3))))
    assert few["status"] == "Failed" and "3 records; a batch job needs at least 5" in few["message"]


# ---------------------------------------------------------------------------- API behaviour

def test_create_is_idempotent_with_client_request_token(clients):
    br, s3, sb = clients
    uri = upload(s3, sb.config.bucket, "in/idem/records.jsonl", records("nova", 2))
    token = "tok" + uuid.uuid4().hex
    first = create(br, sb, "idem-1", FAST, uri, clientRequestToken=token)
    assert create(br, sb, "idem-1", FAST, uri, clientRequestToken=token) == first
    # "If this token matches a previous request, Amazon Bedrock ignores the request" - whatever else it says.
    assert create(br, sb, "idem-other", FAST, uri, clientRequestToken=token) == first
    jobs = br.list_model_invocation_jobs(nameContains="idem-")["invocationJobSummaries"]
    assert [j["jobArn"] for j in jobs] == [first] and jobs[0]["clientRequestToken"] == token
    assert create(br, sb, "idem-1", FAST, uri) != first  # no token (botocore makes a fresh one): a new job


def test_list_filters_and_pagination(clients):
    br, s3, sb = clients
    uri = upload(s3, sb.config.bucket, "in/list/records.jsonl", records("nova", 1))
    tag = uuid.uuid4().hex[:8]
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    arns = [create(br, sb, f"pg-{tag}-{i}", FAST, uri) for i in range(5)]
    for arn in arns:
        wait(br, arn)
    paginator = br.get_paginator("list_model_invocation_jobs")
    pages = list(paginator.paginate(nameContains=f"pg-{tag}", PaginationConfig={"PageSize": 2}))
    assert [len(p["invocationJobSummaries"]) for p in pages] == [2, 2, 1]
    listed = [s["jobArn"] for p in pages for s in p["invocationJobSummaries"]]
    assert listed == arns[::-1]  # default: newest first
    ascending = paginator.paginate(nameContains=f"pg-{tag}", sortBy="CreationTime", sortOrder="Ascending",
                                   PaginationConfig={"PageSize": 3}).build_full_result()
    assert [s["jobArn"] for s in ascending["invocationJobSummaries"]] == arns
    summary = ascending["invocationJobSummaries"][0]
    assert summary["status"] == "Completed" and summary["totalRecordCount"] == 1
    assert isinstance(summary["submitTime"], datetime)

    completed = br.list_model_invocation_jobs(statusEquals="Completed", nameContains=f"pg-{tag}", maxResults=1000)
    assert len(completed["invocationJobSummaries"]) == 5 and "nextToken" not in completed
    assert br.list_model_invocation_jobs(statusEquals="Failed", nameContains=f"pg-{tag}")["invocationJobSummaries"] == []
    # submitTime is on the sandbox clock, which runs 200x: a wall-clock "before" is still before every job.
    assert len(br.list_model_invocation_jobs(nameContains=f"pg-{tag}", submitTimeAfter=before)["invocationJobSummaries"]) == 5
    assert br.list_model_invocation_jobs(nameContains=f"pg-{tag}", submitTimeBefore=before)["invocationJobSummaries"] == []
    with pytest.raises(ClientError) as err:
        br.list_model_invocation_jobs(nextToken="not-a-token")
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_get_by_arn_and_by_id(clients):
    br, s3, sb = clients
    uri = upload(s3, sb.config.bucket, "in/get/records.jsonl", records("nova", 1))
    arn = create(br, sb, "get-1", FAST, uri, timeoutDurationInHours=72)
    wait(br, arn)
    by_arn = br.get_model_invocation_job(jobIdentifier=arn)
    by_id = br.get_model_invocation_job(jobIdentifier=job_id(arn))
    for job in (by_arn, by_id):
        del job["ResponseMetadata"]
    assert by_arn == by_id
    assert by_arn["jobArn"] == arn and by_arn["jobName"] == "get-1" and by_arn["roleArn"] == ROLE
    assert by_arn["timeoutDurationInHours"] == 72
    assert by_arn["jobExpirationTime"] - by_arn["submitTime"] == timedelta(hours=72)
    assert by_arn["inputDataConfig"]["s3InputDataConfig"]["s3Uri"] == uri
    with pytest.raises(ClientError) as err:
        br.get_model_invocation_job(jobIdentifier="abcdefabcdef")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_validation_errors_name_the_field(clients):
    _, _, sb = clients
    raw = boto3.client("bedrock", endpoint_url=sb.endpoint, config=NO_RETRIES.merge(Config(parameter_validation=False)),
                       **CREDS)
    good = dict(jobName="v-1", roleArn=ROLE, modelId=FAST,
                inputDataConfig={"s3InputDataConfig": {"s3Uri": f"s3://{sb.config.bucket}/in/x.jsonl"}},
                outputDataConfig={"s3OutputDataConfig": {"s3Uri": f"s3://{sb.config.bucket}/out/"}})

    def error(**changes):
        params = {**good, **changes}
        params = {k: v for k, v in params.items() if v is not None}
        with pytest.raises(ClientError) as err:
            raw.create_model_invocation_job(**params)
        return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]

    code, msg = error(jobName=None)
    assert code == "ValidationException" and "Value null at 'jobName'" in msg
    code, msg = error(timeoutDurationInHours=2)
    assert code == "ValidationException" and "'timeoutDurationInHours'" in msg and "greater than or equal to 24" in msg
    assert "'timeoutDurationInHours'" in error(timeoutDurationInHours=169)[1]
    code, msg = error(inputDataConfig={"s3InputDataConfig": {"s3Uri": "http://nope"}}, roleArn="not-a-role")
    assert msg.startswith("2 validation errors detected")
    assert "'inputDataConfig.s3InputDataConfig.s3Uri'" in msg and "'roleArn'" in msg
    assert "'outputDataConfig.s3OutputDataConfig.s3Uri'" in error(outputDataConfig={"s3OutputDataConfig": {}})[1]
    assert "'modelInvocationType'" in error(modelInvocationType="Chat")[1]
    assert error(jobName="a" + "-" * 40 + "!")[0] == "ValidationException"  # and no regex blow-up
    code, msg = error(modelId="amazon.nova-ultra-v9:0")
    assert code == "ResourceNotFoundException" and "amazon.nova-ultra-v9:0" in msg


def test_unknown_control_plane_path(clients):
    br, _, _ = clients
    with pytest.raises(ClientError) as err:
        br.list_custom_models()
    assert err.value.response["Error"]["Code"] == "UnknownOperationException"
    assert "GET /custom-models" in err.value.response["Error"]["Message"]


def test_foundation_models_come_from_the_catalog(clients):
    br, _, sb = clients
    models = br.list_foundation_models()["modelSummaries"]
    assert [m["modelId"] for m in models] == [FAST, SLOW, CLAUDE]
    nova = models[0]
    assert nova["modelArn"] == f"arn:aws:bedrock:us-east-1::foundation-model/{FAST}"
    assert (nova["modelName"], nova["providerName"]) == ("Nova Lite", "Amazon")
    assert nova["inferenceTypesSupported"] == ["ON_DEMAND"] and nova["modelLifecycle"]["status"] == "ACTIVE"
    assert nova["inputModalities"] == nova["outputModalities"] == ["TEXT"] and nova["responseStreamingSupported"]
    assert [m["modelId"] for m in br.list_foundation_models(byProvider="Anthropic")["modelSummaries"]] == [CLAUDE]
    assert br.list_foundation_models(byOutputModality="IMAGE")["modelSummaries"] == []
    assert br.get_foundation_model(modelIdentifier=SLOW)["modelDetails"]["providerName"] == "OpenAI"
    assert br.get_foundation_model(modelIdentifier=nova["modelArn"])["modelDetails"]["modelId"] == FAST
    with pytest.raises(ClientError) as err:
        br.get_foundation_model(modelIdentifier="amazon.titan-text-v9:0")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert br.list_inference_profiles()["inferenceProfileSummaries"] == []


def test_batch_metrics_reach_cloudwatch(clients):
    br, s3, sb = clients
    arn = create(br, sb, "metrics-1", FAST, upload(s3, sb.config.bucket, "in/metrics/r.jsonl", records("nova", 10)))
    assert wait(br, arn)["status"] == "Completed"
    cw = boto3.client("cloudwatch", endpoint_url=sb.endpoint, config=NO_RETRIES, **CREDS)
    metrics = cw.list_metrics(Namespace="AWS/Bedrock/Batch", Dimensions=[{"Name": "modelId", "Value": FAST}])
    assert {m["MetricName"] for m in metrics["Metrics"]} == {
        "NumberOfRecordsPendingProcessing", "NumberOfInputTokensProcessedPerMinute",
        "NumberOfOutputTokensProcessedPerMinute"}
    now = datetime.fromtimestamp(sb.clock.now(), timezone.utc)
    result = cw.get_metric_data(StartTime=now - timedelta(hours=1), EndTime=now + timedelta(minutes=1), MetricDataQueries=[
        {"Id": "out", "MetricStat": {"Metric": {"Namespace": "AWS/Bedrock/Batch",
                                                "MetricName": "NumberOfOutputTokensProcessedPerMinute",
                                                "Dimensions": [{"Name": "modelId", "Value": FAST}]},
                                     "Period": 3600, "Stat": "Sum"}}])
    assert sum(result["MetricDataResults"][0]["Values"]) > 0


# ---------------------------------------------------------------------------- timeouts and shutdown

def test_timeout_expiry_and_clean_shutdown():
    """At speed 100,000 a day is 0.86 real seconds, and one record per sandbox minute is slow.

    The hog (168-hour timeout, 12,000 records) holds the model's lane until it times out, about
    six real seconds; the job queued behind it with a 24-hour timeout never starts and expires.
    The job stopped while queued has a 168-hour timeout too, so a loaded machine has seconds,
    not the 0.86 s of a 24-hour timeout, to stop it before it expires.
    """
    sb = Sandbox(make_config(batch_records_per_minute=1), speed=100_000)
    thread = SandboxThread(sb)
    thread.start()
    try:
        kw = dict(endpoint_url=sb.endpoint, config=NO_RETRIES, **CREDS)
        br, s3 = boto3.client("bedrock", **kw), boto3.client("s3", **kw)
        uri = upload(s3, sb.config.bucket, "in/timeout/records.jsonl", records("nova", 12_000))
        hog = create(br, sb, "hog", FAST, uri, out_prefix="out/timeout", timeoutDurationInHours=168)
        queued = create(br, sb, "queued", FAST, uri, out_prefix="out/timeout", timeoutDurationInHours=24)
        stopped = create(br, sb, "stopped-while-queued", FAST, uri, out_prefix="out/timeout",
                         timeoutDurationInHours=168)
        wait(br, stopped, statuses=("Scheduled",), timeout=10)
        br.stop_model_invocation_job(jobIdentifier=stopped)
        job = wait(br, stopped, timeout=10)
        assert job["status"] == "Stopped" and job["processedRecordCount"] == 0

        late = wait(br, queued, timeout=10)
        assert late["status"] == "Expired" and "did not start before its timeout of 24 hours" in late["message"]
        assert late["processedRecordCount"] == 0
        job = wait(br, hog, timeout=20)
        assert job["status"] == "PartiallyCompleted" and "timed out after 168 hours" in job["message"]
        assert 0 < job["processedRecordCount"] < 12_000
        lines = read_output(s3, sb.config.bucket, "out/timeout", job_id(hog), "records.jsonl.out")
        assert len(lines) == job["processedRecordCount"]

        running = create(br, sb, "running-at-shutdown", FAST, uri, out_prefix="out/timeout",
                         timeoutDurationInHours=168)
        wait(br, running, statuses=("InProgress",), timeout=10)
    finally:
        t0 = time.monotonic()
        thread.stop()
        assert not thread._thread.is_alive() and time.monotonic() - t0 < 5


def test_a_new_job_is_submitted_first():
    """At speed 1 a job stays Submitted for five real seconds: the first look after create sees it there."""
    sb = Sandbox(make_config(), speed=1)
    thread = SandboxThread(sb)
    thread.start()
    try:
        kw = dict(endpoint_url=sb.endpoint, config=NO_RETRIES, **CREDS)
        br, s3 = boto3.client("bedrock", **kw), boto3.client("s3", **kw)
        arn = create(br, sb, "first-look", FAST, upload(s3, sb.config.bucket, "in/first/records.jsonl",
                                                        records("nova", 2)))
        job = br.get_model_invocation_job(jobIdentifier=arn)
        assert (job["status"], job["submitTime"]) == ("Submitted", job["lastModifiedTime"])
    finally:
        thread.stop()
