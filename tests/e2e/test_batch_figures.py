"""Batch pane figures, end to end: a job submitted with boto3 to the sandbox, watched by the console's collector.

Record counts come from the job; tokens from ``AWS/Bedrock/Batch`` (per model, as AWS publishes them), never a
constant 0; the ETA from the processing rate once the job is InProgress, not counting its time in the queue.
"""
from __future__ import annotations

import asyncio
import json

import pytest

from tierconsole.core.aws.collectors import Collector
from tierconsole.core.aws.session import AwsContext, Target
from tierconsole.core.domain.views import eta_seconds
from tierconsole.core.config.profiles import load_profile
from tierconsole.sandbox.app import Sandbox, SandboxThread
from tierconsole.sandbox.services.batch import BatchSettings
from tierconsole.sandbox.config import parse_sandbox_config
from tests.conftest import boto3_client

MODEL = "amazon.nova-lite-v1:0"
PER_MINUTE = 600  # records per sandbox minute: 10 a second
RECORDS = 1_500  # 150 sandbox seconds of processing


@pytest.fixture
def batch_sandbox():
    config = parse_sandbox_config({"sandbox": {"models": [
        {"id": MODEL, "name": "Nova Lite", "family": "nova", "tpm": 1_000_000, "rpm": 10_000,
         "max_output_tokens": 1000, "batch_min_records": 1, "batch_records_per_minute": PER_MINUTE}]}}, "test")
    sb = Sandbox(config, speed=20.0, scenario="none")
    # 90 sandbox seconds in the queue: an ETA counted from submission would be far too long
    sb.batch.settings = BatchSettings(submitted_s=10, validating_s=20, scheduled_s=60)
    thread = SandboxThread(sb)
    thread.start()
    yield sb
    thread.stop()


def submit(sb, records: int = RECORDS, name: str = "eta-job") -> str:
    s3, br = boto3_client("s3", sb.endpoint), boto3_client("bedrock", sb.endpoint)
    lines = [json.dumps({"recordId": f"r{i:05d}", "modelInput": {
        "messages": [{"role": "user", "content": [{"text": f"Question {i}: " + "why " * 40}]}],
        "inferenceConfig": {"maxTokens": 50}}}) for i in range(records)]
    s3.put_object(Bucket=sb.config.bucket, Key=f"in/{name}.jsonl", Body="\n".join(lines).encode())
    return br.create_model_invocation_job(
        jobName=name, roleArn="arn:aws:iam::123456789012:role/BatchRole", modelId=MODEL,
        inputDataConfig={"s3InputDataConfig": {"s3Uri": f"s3://{sb.config.bucket}/in/{name}.jsonl"}},
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": f"s3://{sb.config.bucket}/out/"}})["jobArn"]


async def test_tokens_from_batch_metrics_and_eta_from_the_processing_rate(batch_sandbox, monkeypatch):
    sb = batch_sandbox
    arn = submit(sb)
    profile = load_profile("sandbox")
    ctx = AwsContext(Target(profile, sb.endpoint, sandbox=True))
    collector = Collector(ctx, clock=sb.clock.now)
    seen = []
    try:
        for _ in range(200):
            data = await collector.refresh()
            job = next(j for j in data.batch_jobs if j.job_arn == arn)
            seen.append(job)
            if job.status == "InProgress" and job.model_input_tpm and eta_seconds(job, data.time) is not None \
                    and job.processed > 200:
                break
            await asyncio.sleep(0.2)
        assert collector.calls.counts["GetMetricData"] == len(seen), "still one GetMetricData per refresh"
    finally:
        await ctx.close()
    assert job.status == "InProgress", [j.status for j in seen]
    # Tokens: the model's batch throughput from AWS/Bedrock/Batch, not 0.
    assert job.model_input_tpm > 0 and job.model_output_tpm > 0
    # Records: from the job itself.
    assert 0 < job.processed < RECORDS and job.total_records == RECORDS
    # ETA: the rate while processing (10 records a sandbox second), not since submission (90 s queued first).
    eta = eta_seconds(job, data.time)
    truth = (RECORDS - job.processed) / (PER_MINUTE / 60)
    since_submit = (RECORDS - job.processed) / (job.processed / (data.time - job.submit_time))
    assert eta == pytest.approx(truth, rel=0.2), (eta, truth, since_submit)
    assert since_submit > 1.3 * truth  # the old figure would have been visibly wrong


async def test_a_new_job_never_shows_the_previous_jobs_tokens(batch_sandbox):
    """AWS/Bedrock/Batch is per model: after job A of a model finishes, job B of that model shows no batch tokens
    until a minute of its own is published (not A's last minute), and the figure names its minute."""
    sb = batch_sandbox
    first = submit(sb, records=120, name="first-job")
    ctx = AwsContext(Target(load_profile("sandbox"), sb.endpoint, sandbox=True))
    collector = Collector(ctx, clock=sb.clock.now)
    try:
        for _ in range(300):
            data = await collector.refresh()
            a = next(j for j in data.batch_jobs if j.job_arn == first)
            if not a.active:
                break
            await asyncio.sleep(0.2)
        assert a.status == "Completed" and a.end_time is not None
        second = submit(sb, records=2_400, name="second-job")  # four sandbox minutes of processing
        seen = []
        for _ in range(300):
            data = await collector.refresh()
            b = next(j for j in data.batch_jobs if j.job_arn == second)
            seen.append(b)
            if getattr(b, "model_tpm_minute", None) is not None or not b.active:
                break
            await asyncio.sleep(0.2)
    finally:
        await ctx.close()
    waiting = [j for j in seen if j.processed == 0]
    assert waiting, "the second job was seen before it processed anything"
    # Before it processed a record, the model's last figure was the first job's: never shown on this row.
    assert all(j.model_input_tpm is None and j.model_output_tpm is None for j in waiting), \
        [(j.status, j.model_input_tpm) for j in waiting]
    assert b.model_input_tpm is not None and b.model_tpm_minute >= (a.end_time // 60 + 1) * 60
