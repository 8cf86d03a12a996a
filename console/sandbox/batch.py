"""Batch inference jobs in the sandbox: lifecycle, validation, generation on batch capacity, S3 output.

A job moves ``Submitted → Validating → Scheduled → InProgress → Completed | PartiallyCompleted |
Failed``; a stop request moves an active job to ``Stopping → Stopped``; a job still waiting for
capacity when its timeout arrives becomes ``Expired``. Phase durations are sandbox seconds, so
``--speed`` shrinks them like everything else.

Capacity: each model has one batch lane paced at ``batch_records_per_minute`` (the catalog's
figure). Jobs for one model start in submission order, one at a time; the on-demand quota and its
tier queue are not involved. Records get the same deterministic text and token counts as the
runtime would give the same request. Input is read from, and output written to, moto's S3
backend in-process; per-minute ``AWS/Bedrock/Batch`` metrics go to moto's CloudWatch backend.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import string
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..domain.batchfile import BatchFileReport, BatchRecord, check_count, validate_batch
from ..domain.catalog import ModelSpec
from ..domain.metricsplan import BATCH_NAMESPACE
from ..domain.tokens import output_length, prompt_digest, sandbox_text
from . import moto_bridge, wire
from .http import AwsError
from .outcomes import Outcome

if TYPE_CHECKING:  # pragma: no cover
    from .app import Sandbox

log = logging.getLogger("tierconsole.sandbox.batch")

ACTIVE = ("Submitted", "Validating", "Scheduled", "InProgress")
TERMINAL = ("Completed", "PartiallyCompleted", "Failed", "Stopped", "Expired")
METRICS_NAMESPACE = BATCH_NAMESPACE  # pruned with the other metrics (see metrics.MetricsPublisher.namespaces)
MIN_TICK_S = 0.01  # real seconds: the runner never wakes more often than this
MAX_RECORDS_PER_TICK = 200  # about 25 ms of work; then the loop serves requests again


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


def _job_id() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=12))


class BatchJobs:
    """Every batch job of one sandbox, and the runner that moves them along."""

    def __init__(self, sandbox: "Sandbox", settings: BatchSettings | None = None):
        self.sandbox = sandbox
        self.clock = sandbox.clock
        self.settings = settings or BatchSettings()
        self.seed = sandbox.config.catalog.settings.seed
        self.jobs: dict[str, Job] = {}  # by job id, in submission order
        self._by_token: dict[str, str] = {}
        self._lanes: dict[str, _Lane] = {}

    # ------------------------------------------------------------------ API used by the control plane
    def create(self, *, request: dict, model: ModelSpec, region: str) -> tuple[Job, bool]:
        """A new job (started in the background), or the earlier job with the same clientRequestToken.

        Returns ``(job, created)``. "If this token matches a previous request, Amazon Bedrock ignores
        the request, but does not return an error" (API reference): the other parameters are not compared.
        """
        token = request.get("clientRequestToken")
        if token is not None and token in self._by_token:
            return self.jobs[self._by_token[token]], False
        job_id = _job_id()
        while job_id in self.jobs:
            job_id = _job_id()
        now = self.clock.now()
        account = self.sandbox.config.account_id
        job = Job(job_id=job_id, arn=f"arn:aws:bedrock:{region}:{account}:model-invocation-job/{job_id}",
                  name=request["jobName"], role_arn=request["roleArn"], model_id=request["modelId"], model=model,
                  input_uri=request["inputDataConfig"]["s3InputDataConfig"]["s3Uri"],
                  output_uri=request["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"], region=region,
                  submit_time=now, last_modified_time=now,
                  timeout_hours=int(request.get("timeoutDurationInHours", self.settings.default_timeout_hours)),
                  invocation_type=request.get("modelInvocationType", "InvokeModel"),
                  request=request, client_token=token)
        self.jobs[job_id] = job
        if token is not None:
            self._by_token[token] = job_id
        job.task = self.sandbox.background(self._run(job))
        return job, True

    def find(self, identifier: str) -> Job | None:
        return self.jobs.get(identifier.rsplit("/", 1)[-1])

    def stop(self, job: Job) -> None:
        if not job.active:
            raise AwsError("ValidationException",
                           f"Job {job.arn} is {job.status}; only a Submitted, Validating, Scheduled or "
                           "InProgress job can be stopped", 400)
        self._set(job, "Stopping")
        job.stop_requested.set()

    # ------------------------------------------------------------------ lifecycle
    def _set(self, job: Job, status: str, message: str | None = None) -> None:
        job.status = status
        if message is not None:
            job.message = message
        job.last_modified_time = self.clock.now()
        if status in TERMINAL:
            job.end_time = job.last_modified_time
        lane = self._lanes.get(job.model.model_id)
        if lane is not None:
            lane.notify()  # a job ahead may have started, failed or stopped
        log.debug("batch job %s (%s): %s %s", job.job_id, job.name, status, message or "")

    async def _pause(self, job: Job, sandbox_seconds: float) -> bool:
        """Wait, waking early on a stop request. True when the job should stop."""
        if job.stop_requested.is_set():
            return True
        try:
            await asyncio.wait_for(job.stop_requested.wait(), max(self.clock.real_delay(sandbox_seconds), MIN_TICK_S))
        except asyncio.TimeoutError:
            return False
        return True

    async def _run(self, job: Job) -> None:
        s = self.settings
        try:
            if await self._pause(job, s.submitted_s):
                return await self._stopped(job)
            self._set(job, "Validating")
            if await self._pause(job, s.validating_s):
                return await self._stopped(job)
            files, problem = await asyncio.to_thread(self._load_input, job)
            if job.stop_requested.is_set():
                return await self._stopped(job)
            if problem is not None:
                return self._set(job, "Failed", problem)
            job.total = sum(len(report.records) for _, report in files)
            self._set(job, "Scheduled")
            if await self._pause(job, s.scheduled_s):
                return await self._stopped(job)
            lane = self._lanes.setdefault(job.model.model_id, _Lane())
            outcome = await self._take_lane(job, lane)
            if outcome == "stop":
                return await self._stopped(job)
            if outcome == "expired":
                return self._set(job, "Expired", "The job was scheduled but did not start before its timeout "
                                                 f"of {job.timeout_hours} hours")
            try:
                self._set(job, "InProgress")
                await self._process(job, files)
            finally:
                lane.release()
        except asyncio.CancelledError:
            raise  # the sandbox is shutting down
        except Exception as exc:  # noqa: BLE001 - a job fails, the sandbox carries on
            log.exception("batch job %s failed", job.job_id)
            self._set(job, "Failed", f"Internal error in the sandbox's batch runner: {exc}")

    async def _stopped(self, job: Job) -> None:
        await asyncio.sleep(self.clock.real_delay(self.settings.stopping_s))
        self._set(job, "Stopped")

    def _first_in_line(self, job: Job) -> bool:
        """No job for the same model that was submitted earlier is still waiting to start."""
        key = (job.submit_time, job.job_id)
        return not any(other.model is job.model and other.status in ("Submitted", "Validating", "Scheduled")
                       and (other.submit_time, other.job_id) < key for other in self.jobs.values())

    async def _take_lane(self, job: Job, lane: "_Lane") -> str:
        """Wait for the model's batch lane, in submission order: "go" (held), "stop" or "expired"."""
        while True:
            if job.stop_requested.is_set():
                return "stop"
            if lane.holder is None and self._first_in_line(job):
                lane.holder = job
                return "go"
            remaining = job.expiration_time - self.clock.now()
            if remaining <= 0:
                return "expired"
            await _first_of(lane.changed, job.stop_requested, timeout=self.clock.real_delay(remaining))

    # ------------------------------------------------------------------ input
    def _load_input(self, job: Job) -> tuple[list[tuple[str, BatchFileReport]], str | None]:
        """The input files, validated, as (name for the output file, report); or a failure message."""
        backend = moto_bridge.s3_backend(self.sandbox.config.account_id)
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

    # ------------------------------------------------------------------ processing
    async def _process(self, job: Job, files: list[tuple[str, BatchFileReport]]) -> None:
        interval = 60.0 / job.model.batch_records_per_minute  # sandbox seconds per record
        queue = [(name, record) for name, report in files for record in report.records]
        outputs: dict[str, list[str]] = {name: [] for name, _ in files}
        ids = _assign_ids(queue)
        started = self.clock.now()
        window = _Window(started)
        index, timed_out = 0, False
        while index < len(queue):
            now = self.clock.now()
            if now >= job.expiration_time:
                timed_out = True
                break
            due = min(len(queue), int((now - started) / interval), index + MAX_RECORDS_PER_TICK)
            while index < due:
                name, record = queue[index]
                line, in_tok, out_tok = self._answer(job, record, ids[index], interval)
                outputs[name].append(line)
                window.add(in_tok, out_tok)
                index += 1
            if now - window.start >= self.settings.metrics_period_s:
                self._publish(job, window, now)
                window = _Window(now)
            if index < len(queue):
                wake = min(started + (index + 1) * interval, job.expiration_time)
                if await self._pause(job, wake - self.clock.now()):
                    break
        await asyncio.to_thread(self._write_output, job, outputs)  # a large output is a large S3 put
        self._publish(job, window, self.clock.now())
        if job.stop_requested.is_set():
            return await self._stopped(job)
        if timed_out:
            return self._set(job, "PartiallyCompleted",
                             f"The job timed out after {job.timeout_hours} hours: {job.processed} of {job.total} "
                             "records were processed")
        if job.errors:
            return self._set(job, self.settings.status_with_record_errors,
                             f"{job.errors} of {job.total} records failed; see the error lines in the output")
        self._set(job, "Completed")

    def _answer(self, job: Job, record: BatchRecord, record_id: str, interval: float) -> tuple[str, int, int]:
        """One output line for one record, counted on the job and recorded as an Outcome."""
        model = job.model
        request_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{job.arn}/{record_id}"))
        now = self.clock.now()
        try:
            if job.invocation_type == "Converse":
                prompt, _tier = wire.parse_converse(record.model_input)
            else:
                prompt = wire.parse_native(model.family, record.model_input)
            max_tokens = prompt.max_tokens or model.max_output_tokens
            if max_tokens > model.max_output_tokens:
                raise wire.bad(f"max tokens: {max_tokens} exceeds the maximum of {model.max_output_tokens} "
                               f"for {model.model_id}")
        except AwsError as err:
            job.processed += 1
            job.errors += 1
            self.sandbox.outcomes.record(Outcome(
                time=now, request_id=request_id, operation="Batch", model_id=model.model_id, asked_tier=None,
                served_tier=None, status=err.status, error=err.code, message=err.message, source="batch"))
            line = {"recordId": record_id, "modelInput": record.model_input,
                    "error": {"errorCode": err.status, "errorMessage": err.message}}
            return json.dumps(line, separators=(",", ":")), 0, 0
        digest = prompt_digest(prompt.key, self.seed)
        n = output_length(digest, max_tokens)
        stop_reason = "max_tokens" if n >= max_tokens else "end_turn"
        text, in_tok = sandbox_text(digest, n), prompt.input_tokens
        if job.invocation_type == "Converse":
            output = wire.converse_response(text, stop_reason, in_tok, n, interval * 1000.0, "default")
            output.pop("serviceTier")  # a batch record is not served by an on-demand tier
        else:
            output = wire.native_response(model.family, model.model_id, request_id, text, stop_reason, in_tok, n)
        job.processed += 1
        job.success += 1
        job.input_tokens += in_tok
        job.output_tokens += n
        self.sandbox.outcomes.record(Outcome(
            time=now, request_id=request_id, operation="Batch", model_id=model.model_id, asked_tier=None,
            served_tier="batch", status=200, input_tokens=in_tok, output_tokens=n, latency_ms=interval * 1000.0,
            source="batch"))
        line = {"recordId": record_id, "modelInput": record.model_input, "modelOutput": output}
        return json.dumps(line, separators=(",", ":")), in_tok, n

    # ------------------------------------------------------------------ output and metrics
    def _write_output(self, job: Job, outputs: dict[str, list[str]]) -> None:
        backend = moto_bridge.s3_backend(self.sandbox.config.account_id)
        bucket, prefix = parse_s3_uri(job.output_uri)
        base = f"{prefix.rstrip('/')}/{job.job_id}/" if prefix.strip("/") else f"{job.job_id}/"
        for name, lines in outputs.items():
            body = "".join(line + "\n" for line in lines).encode()
            backend.put_object(bucket, f"{base}{name}.out", body)
        manifest = {"totalRecordCount": job.total, "processedRecordCount": job.processed,
                    "successRecordCount": job.success, "errorRecordCount": job.errors,
                    "inputTokenCount": job.input_tokens, "outputTokenCount": job.output_tokens}
        backend.put_object(bucket, f"{base}manifest.json.out", json.dumps(manifest).encode())

    def _publish(self, job: Job, window: "_Window", now: float) -> None:
        # A full window gives its rate; the last, partial one counts as a whole period.
        minutes = max(now - window.start, self.settings.metrics_period_s) / 60.0
        stamp = datetime.fromtimestamp(now, timezone.utc).replace(tzinfo=None)  # moto keeps naive UTC
        dims = [{"Name": "modelId", "Value": job.model.model_id}]
        data = [{"MetricName": "NumberOfRecordsPendingProcessing", "Dimensions": dims, "Timestamp": stamp,
                 "Value": float((job.total or 0) - job.processed), "Unit": "Count"},
                {"MetricName": "NumberOfInputTokensProcessedPerMinute", "Dimensions": dims, "Timestamp": stamp,
                 "Value": window.input_tokens / minutes, "Unit": "Count"},
                {"MetricName": "NumberOfOutputTokensProcessedPerMinute", "Dimensions": dims, "Timestamp": stamp,
                 "Value": window.output_tokens / minutes, "Unit": "Count"}]
        try:
            moto_bridge.cloudwatch_backend(self.sandbox.config.account_id, job.region).put_metric_data(
                METRICS_NAMESPACE, data)
        except Exception:  # noqa: BLE001 - metrics are best effort; the job goes on
            log.exception("could not publish batch metrics for job %s", job.job_id)


class _Lane:
    """One model's batch capacity: one job at a time. ``changed`` fires on any status change."""

    def __init__(self) -> None:
        self.holder: Job | None = None
        self.changed = asyncio.Event()

    def notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    def release(self) -> None:
        self.holder = None
        self.notify()


async def _first_of(*events: asyncio.Event, timeout: float) -> None:
    """Return when any event is set or after ``timeout`` real seconds."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()


@dataclass
class _Window:
    """Tokens processed since ``start`` (sandbox seconds), for the per-minute metrics."""

    start: float
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, input_tokens: int, output_tokens: int) -> None:
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens


def _assign_ids(queue: list[tuple[str, BatchRecord]]) -> list[str]:
    """Each record's id: its own, or (as Bedrock does for records without one) an 11-character one."""
    taken = {record.record_id for _, record in queue if record.record_id is not None}
    ids, counter = [], 0
    for _, record in queue:
        if record.record_id is not None:
            ids.append(record.record_id)
            continue
        while True:
            counter += 1
            candidate = f"{counter:011d}"
            if candidate not in taken:
                break
        taken.add(candidate)
        ids.append(candidate)
    return ids


__all__ = ["ACTIVE", "TERMINAL", "BatchJobs", "BatchSettings", "Job", "parse_s3_uri"]
