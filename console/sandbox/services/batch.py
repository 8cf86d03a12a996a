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
from typing import TYPE_CHECKING

from ...core.domain.batchfile import BatchFileReport, BatchRecord
from ...core.domain.catalog import ModelSpec
from ...core.domain.tokens import output_length, prompt_digest, sandbox_text
from . import batch_io
from .batch_io import ACTIVE, TERMINAL, BatchSettings, Job, Window, parse_s3_uri
from .. import wire
from ..http import AwsError
from ..outcomes import Outcome

if TYPE_CHECKING:  # pragma: no cover
    from ..host import SandboxHost

log = logging.getLogger("tierconsole.sandbox.batch")

MIN_TICK_S = 0.01  # real seconds: the runner never wakes more often than this
MAX_RECORDS_PER_TICK = 200  # about 25 ms of work; then the loop serves requests again


def _job_id() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=12))


class BatchJobs:
    """Every batch job of one sandbox, and the runner that moves them along."""

    def __init__(self, sandbox: "SandboxHost", settings: BatchSettings | None = None):
        self.sandbox = sandbox
        self.clock = sandbox.clock
        self.settings = settings or BatchSettings()
        self.seed = sandbox.config.catalog.settings.seed
        self.jobs: dict[str, Job] = {}  # by job id, in submission order
        self._by_token: dict[str, str] = {}  # "region token" -> job id
        self._lanes: dict[str, _Lane] = {}

    # ------------------------------------------------------------------ API used by the control plane
    def create(self, *, request: dict, model: ModelSpec, region: str) -> tuple[Job, bool]:
        """A new job (started in the background), or the earlier job with the same clientRequestToken.

        Returns ``(job, created)``. "If this token matches a previous request, Amazon Bedrock ignores
        the request, but does not return an error" (API reference): the other parameters are not compared.
        """
        token = request.get("clientRequestToken")
        key = f"{region} {token}"  # a token is the caller's in one region, as the job is
        if token is not None and key in self._by_token:
            return self.jobs[self._by_token[key]], False
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
            self._by_token[key] = job_id
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
            files, problem = await asyncio.to_thread(batch_io.load_input, self.sandbox.config.account_id, job)
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
        except Exception as exc:
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

    # ------------------------------------------------------------------ processing
    async def _process(self, job: Job, files: list[tuple[str, BatchFileReport]]) -> None:
        interval = 60.0 / job.model.batch_records_per_minute  # sandbox seconds per record
        queue = [(name, record) for name, report in files for record in report.records]
        outputs: dict[str, list[str]] = {name: [] for name, _ in files}
        ids = _assign_ids(queue)
        started = self.clock.now()
        window = Window(started)
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
                batch_io.publish_metrics(self.sandbox.config.account_id, job, window, now,
                                         self.settings.metrics_period_s)
                window = Window(now)
            if index < len(queue):
                wake = min(started + (index + 1) * interval, job.expiration_time)
                if await self._pause(job, wake - self.clock.now()):
                    break
        # a large output is a large S3 put
        await asyncio.to_thread(batch_io.write_output, self.sandbox.config.account_id, job, outputs)
        batch_io.publish_metrics(self.sandbox.config.account_id, job, window, self.clock.now(),
                                  self.settings.metrics_period_s)
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
