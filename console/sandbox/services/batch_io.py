"""A sandbox batch job's record (:class:`Job`, its settings and states) and what a job reads and writes:
its input from S3, its output to S3, its per-minute ``AWS/Bedrock/Batch`` metrics to CloudWatch (moto's
backends, in-process). :mod:`.batch` runs the jobs.
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ...core.domain.batchfile import BatchFileReport, check_count, validate_batch
from ...core.domain.catalog import ModelSpec
from ...core.domain.metricsplan import BATCH_NAMESPACE
from . import moto_bridge

log = logging.getLogger("tierconsole.sandbox.batch")

ACTIVE = ("Submitted", "Validating", "Scheduled", "InProgress")
TERMINAL = ("Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired")
METRICS_NAMESPACE = BATCH_NAMESPACE  # pruned with the other metrics (see metrics.MetricsPublisher.namespaces)


@dataclass
class BatchSettings:
    """Phase durations (sandbox seconds) and the behaviours the public docs leave open."""

    submitted_s: float = 5.0
    validating_s: float = 20.0
    scheduled_s: float = 30.0  # the least time a job waits in the queue before it may start
    stopping_s: float = 5.0
    metrics_period_s: float = 60.0
    default_timeout_hours: int = 24  # when the request has no timeoutDurationInHours (unconfirmed)
    # Status of a job that processed every record but some failed. The docs describe
    # PartiallyCompleted as "not all of your records could be processed in time"; whether
    # record errors alone also give it is unconfirmed.
    status_with_record_errors: str = "PartiallyCompleted"


@dataclass
class Job:
    job_id: str
    arn: str
    name: str
    role_arn: str
    model_id: str  # as the caller gave it
    model: ModelSpec
    input_uri: str
    output_uri: str
    region: str
    submit_time: float
    timeout_hours: int
    invocation_type: str  # InvokeModel | Converse
    request: dict  # the CreateModelInvocationJob body as sent (echoed by Get/List)
    client_token: str | None = None
    status: str = "Submitted"
    message: str | None = None
    last_modified_time: float = 0.0
    end_time: float | None = None
    total: int | None = None
    processed: int = 0
    success: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    stop_requested: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None

    @property
    def expiration_time(self) -> float:
        return self.submit_time + self.timeout_hours * 3600.0

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


def parse_s3_uri(uri: str) -> tuple[str, str]:
    rest = uri[len("s3://"):] if uri.startswith("s3://") else uri
    bucket, _, key = rest.partition("/")
    return bucket, key



@dataclass
class Window:
    """Tokens processed since ``start`` (sandbox seconds), for the per-minute metrics."""

    start: float
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, input_tokens: int, output_tokens: int) -> None:
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens


# ------------------------------------------------------------------ input
def load_input(account_id: str, job: Job) -> tuple[list[tuple[str, BatchFileReport]], str | None]:
    """The input files, validated, as (name for the output file, report); or a failure message."""
    backend = moto_bridge.s3_backend(account_id)
    in_bucket, key = parse_s3_uri(job.input_uri)
    out_bucket, _ = parse_s3_uri(job.output_uri)
    for bucket, uri in ((in_bucket, job.input_uri), (out_bucket, job.output_uri)):
        if bucket not in backend.buckets:
            return [], f"S3 bucket {bucket!r} of {uri} does not exist"
    # An object key, or a folder of .jsonl files; each output is named after its input.
    if key and not key.endswith("/") and backend.get_object(in_bucket, key) is not None:
        if not key.endswith(".jsonl"):
            return [], f"Input file {job.input_uri} must have the .jsonl extension"
        names = [(key, key.rsplit("/", 1)[-1])]
    else:
        prefix = key.rstrip("/") + "/" if key else ""
        names = [(name, name[len(prefix):]) for name in sorted(backend.buckets[in_bucket].keys.keys())
                 if name.startswith(prefix) and name.endswith(".jsonl")
                 and backend.get_object(in_bucket, name) is not None]
        if not names:
            return [], f"No input found at {job.input_uri}: no object with that key and no .jsonl files under it"
    files = []
    for s3_key, out_name in names:
        data = backend.get_object(in_bucket, s3_key).value
        report = validate_batch(data, require_records=False)
        if not report.ok:
            return [], f"Invalid record in s3://{in_bucket}/{s3_key}: {report.first_error()}"
        files.append((out_name, report))
    total = sum(report.record_count for _, report in files)
    problem = check_count(total, job.model.batch_min_records, job.model.batch_max_records)
    if problem:
        return [], f"The job's input has {problem} for model {job.model.model_id}"
    return files, None


# ------------------------------------------------------------------ output and metrics
def write_output(account_id: str, job: Job, outputs: dict[str, list[str]]) -> None:
    backend = moto_bridge.s3_backend(account_id)
    bucket, prefix = parse_s3_uri(job.output_uri)
    base = f"{prefix.rstrip('/')}/{job.job_id}/" if prefix.strip("/") else f"{job.job_id}/"
    for name, lines in outputs.items():
        body = "".join(line + "\n" for line in lines).encode()
        backend.put_object(bucket, f"{base}{name}.out", body)
    manifest = {"totalRecordCount": job.total, "processedRecordCount": job.processed,
                "successRecordCount": job.success, "errorRecordCount": job.errors,
                "inputTokenCount": job.input_tokens, "outputTokenCount": job.output_tokens}
    backend.put_object(bucket, f"{base}manifest.json.out", json.dumps(manifest).encode())

def publish_metrics(account_id: str, job: Job, window: Window, now: float, period_s: float) -> None:
    # A full window gives its rate; the last, partial one counts as a whole period.
    minutes = max(now - window.start, period_s) / 60.0
    stamp = datetime.fromtimestamp(now, timezone.utc).replace(tzinfo=None)  # moto keeps naive UTC
    dims = [{"Name": "modelId", "Value": job.model.model_id}]
    data = [{"MetricName": "NumberOfRecordsPendingProcessing", "Dimensions": dims, "Timestamp": stamp,
             "Value": float((job.total or 0) - job.processed), "Unit": "Count"},
            {"MetricName": "NumberOfInputTokensProcessedPerMinute", "Dimensions": dims, "Timestamp": stamp,
             "Value": window.input_tokens / minutes, "Unit": "Count"},
            {"MetricName": "NumberOfOutputTokensProcessedPerMinute", "Dimensions": dims, "Timestamp": stamp,
             "Value": window.output_tokens / minutes, "Unit": "Count"}]
    try:
        moto_bridge.cloudwatch_backend(account_id, job.region).put_metric_data(
            METRICS_NAMESPACE, data)
    except Exception:
        log.exception("could not publish batch metrics for job %s", job.job_id)
