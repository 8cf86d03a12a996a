"""Batch inference jobs: validate locally, upload, create (idempotently), list, show, cancel.

A job is named by the operator as its ARN, its id (the ARN's last part) or its name (resolved with
``ListModelInvocationJobs`` ``nameContains``, exact match; refused when two jobs share it): one use case,
:func:`~.jobs.resolve_job` (:mod:`.jobs`), for the command line and the console. A retried submit returns the job an earlier
identical submit made (and says so: :attr:`JobAnswer.existing`); a retried cancel of a job already
Stopping or Stopped is done, not an error (:attr:`JobAnswer.already`)."""
from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, cast

from ..domain.format import plural
from ..domain.batchfile import BatchFileReport, validate_batch
from .batchdest import Destination, NoBatchDestination, _destination, destination, split_s3  # noqa: F401 - re-exported
from .guard import Guard
from .jobs import (  # noqa: F401 - submit_text, cancel_text, job_id_of, job_ref_problem re-exported: one module of batch use cases
    STOPPED, AmbiguousJob, JobAnswer, JobNotFound, cancel_text, job_id_of, job_name_problem, job_ref_problem, jobs_named, resolve_job,
    submit_text,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..aws.session import AwsContext
    from ..session import OperatorSession

QUOTA_MIN = re.compile(r"^Minimum number of records per batch inference job for (.+)$")
QUOTA_MAX = re.compile(r"^Records per batch inference job for (.+)$")
DEFAULT_LIMITS = (100, 50_000)
CREATE_ATTEMPTS = 3


class BatchInputError(ValueError):
    """The local file is not a valid batch input. Nothing was uploaded."""

    def __init__(self, path: str, report: BatchFileReport | None = None, message: str | None = None):
        self.path = path
        self.report = report
        errors = report.errors if report is not None else []
        self.message = message or f"{path}: {plural(len(errors), 'problem')}, nothing uploaded:\n" + "\n".join(
            f"  {path}:{line}: {msg}" if line else f"  {path}: {msg}" for line, msg in errors[:50])
        super().__init__(self.message)


def job_name_for(path: str, content_id: bytes | str, model_id: str) -> str:
    """The default job name: the file's name and a short hash of its content (or an S3 object's ETag)
    and the model. The same file, model and profile always give the same name, and so the same
    ``clientRequestToken``: a retried submit is the same job, never a second one (a name from the
    clock made one per retry)."""
    stem = re.sub(r"[^a-zA-Z0-9]+", "-", Path(path).stem).strip("-")[:40] or "batch"
    if not stem[0].isalnum():
        stem = "b" + stem
    content = content_id if isinstance(content_id, bytes) else content_id.encode("utf-8", "surrogateescape")
    digest = hashlib.sha256(hashlib.sha256(content).digest() + model_id.encode("utf-8", "surrogateescape"))
    return f"{stem}-{digest.hexdigest()[:12]}"


def _key_name(path: str) -> str:
    """A file's name as the last part of its S3 key, in the characters CreateModelInvocationJob's
    ``s3Uri`` allows (``[-!_*'().a-zA-Z0-9]``: no spaces, no accents, whatever the file system took)."""
    return re.sub(r"[^-!_*'().a-zA-Z0-9]+", "-", Path(path).name).strip("-") or "input.jsonl"


async def batch_limits(ctx: AwsContext, model_id: str) -> tuple[int, int]:
    """The model's per-job record minimum and maximum from Service Quotas (defaults if not listed)."""
    lo, hi = DEFAULT_LIMITS
    try:
        bedrock = await ctx.client("bedrock")
        model_id = await profile_model(bedrock, model_id)
        name = (await bedrock.get_foundation_model(modelIdentifier=model_id))["modelDetails"]["modelName"]
        sq = await ctx.client("service-quotas")
        paginator = sq.get_paginator("list_service_quotas")
        async for page in paginator.paginate(ServiceCode="bedrock"):
            for q in page.get("Quotas", []):
                if (m := QUOTA_MIN.match(q["QuotaName"])) and m.group(1) == name:
                    lo = int(q["Value"])
                elif (m := QUOTA_MAX.match(q["QuotaName"])) and m.group(1) == name:
                    hi = int(q["Value"])
    except Exception:  # noqa: BLE001 - limits are advisory locally; the service validates again
        pass
    return lo, hi


def names_application_profile(model_id: str) -> bool:
    """Whether ``model_id`` is (or may be) an application inference profile: its ARN, or a 12-character id."""
    from ..domain.routes import parse_arn  # noqa: PLC0415

    arn = parse_arn(model_id)
    return (arn is not None and arn[0] == "application-inference-profile") or bool(re.fullmatch(r"[a-z0-9]{12}",
                                                                                                model_id))


async def profile_model(bedrock: Any, model_id: str) -> str:
    """The foundation model a batch job's ``modelId`` runs on: itself, the model a system profile id or ARN
    names, or an application profile's (from GetInferenceProfile: its first destination's model)."""
    from ..domain.routes import model_named_by  # noqa: PLC0415

    if names_application_profile(model_id):
        try:
            got = await bedrock.get_inference_profile(inferenceProfileIdentifier=model_id)
        except Exception:  # noqa: BLE001 - not a profile (a model id): the id itself
            return model_id
        models = [m.get("modelArn", "") for m in got.get("models", [])]
        return model_named_by(models[0]) if models else model_id
    return model_named_by(model_id)


def read_and_validate(path: str, min_records: int, max_records: int) -> tuple[bytes, BatchFileReport]:
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise BatchInputError(path, message=f"{path}: cannot read: {e.strerror or e}") from None
    report = validate_batch(data, min_records=min_records, max_records=max_records)
    if not report.ok:
        raise BatchInputError(path, report)
    return data, report


class _Step:
    """Which step of a submit is running, for the audit entry of a failure (``failed: upload: ...``)."""

    def __init__(self) -> None:
        self.name = "prepare"


#: The steps of a submit that act on the account: a failure in one of them is audited (as refusals are).
_ACCOUNT_STEPS = frozenset({"upload", "head", "create"})


def _failure(step: str, e: BaseException) -> str:
    """An audit outcome for a failed submit: ``failed: upload: ServiceUnavailable``."""
    response = getattr(e, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return f"failed: {step}: {code or type(e).__name__}"


async def submit_batch(ctx: AwsContext, guard: Guard, path: str, model_id: str, name: str | None = None, *,
                       sandbox_bucket: str | None = None) -> dict[str, Any]:
    """Validate ``path`` locally, upload it, and create the job. Returns GetModelInvocationJob's answer.

    The ``clientRequestToken`` is derived from the profile, file content, model and name (by default
    a name derived from the file's name, content and model), so a retry after a dropped connection
    (here, or by the operator) returns the same job instead of a second one. A failed upload or create
    is audited, as refusals are (a bad local file is not: nothing reached the account).
    """
    guard.require_mutation("batch-submit", name or Path(path).name)
    dest = _destination(guard, sandbox_bucket, name or Path(path).name)
    step = _Step()
    target = name
    try:
        step.name = "read"
        lo, hi = await batch_limits(ctx, model_id)
        data, report = await asyncio.to_thread(read_and_validate, path, lo, hi)
        target = name = name or job_name_for(path, data, model_id)
        digest = hashlib.sha256(data).hexdigest()
        bucket, prefix = split_s3(dest.input_prefix)
        key = f"{prefix}{name}/{_key_name(path)}"
        step.name = "upload"
        s3 = await ctx.client("s3")
        await s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/jsonl")
        step.name = "create"
        return await _create_job(ctx, guard, dest, f"s3://{bucket}/{key}", digest, model_id, name,
                                 records=report.record_count, step=step)
    except Exception as e:
        if step.name in _ACCOUNT_STEPS:  # a bad local file is only the operator's: nothing reached the account
            guard.audit("batch-submit", target or Path(path).name, _failure(step.name, e), model=model_id,
                        file=path)
        raise


async def submit_batch_s3(ctx: AwsContext, guard: Guard, s3_uri: str, model_id: str, name: str | None = None, *,
                          sandbox_bucket: str | None = None) -> dict[str, Any]:
    """Create a job over an input already in S3 (nothing is uploaded). Returns GetModelInvocationJob's answer.

    The object must exist (checked with HeadObject, so a typo fails here with a clear message and
    creates nothing); its content is validated by the service. Idempotent like :func:`submit_batch`:
    the ``clientRequestToken`` comes from the profile, the object's ETag, the model and the name.
    """
    bucket, key = split_s3(s3_uri)
    if not bucket or not key or key.endswith("/"):
        raise ValueError(f"{s3_uri}: give the URI of one JSONL object, s3://bucket/path/file.jsonl")
    try:
        s3_uri.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{s3_uri.encode('utf-8', 'surrogateescape').decode('utf-8', 'replace')}: "
                         "an S3 URI must be UTF-8 text") from None
    guard.require_mutation("batch-submit", name or s3_uri)
    dest = _destination(guard, sandbox_bucket, name or s3_uri)
    step = _Step()
    target = name
    try:
        s3 = await ctx.client("s3")
        import botocore.exceptions as bx  # noqa: PLC0415

        step.name = "head"
        try:
            head = await s3.head_object(Bucket=bucket, Key=key)
        except bx.ClientError as e:
            code = e.response.get("Error", {}).get("Code", "Error")
            if code in ("404", "NoSuchKey", "NotFound", "NoSuchBucket"):
                raise ValueError(f"{s3_uri}: no such object (nothing submitted)") from None
            raise
        etag = str(head.get("ETag", "")).strip('"')
        target = name = name or job_name_for(key, f"etag:{etag}", model_id)
        step.name = "create"
        return await _create_job(ctx, guard, dest, s3_uri, f"etag:{etag}", model_id, name, records=None, step=step)
    except Exception as e:
        if step.name in _ACCOUNT_STEPS:
            guard.audit("batch-submit", target or s3_uri, _failure(step.name, e), model=model_id, input=s3_uri)
        raise


async def _create_job(ctx: AwsContext, guard: Guard, dest: Destination, input_uri: str, content_id: str, model_id: str,
                      name: str, *, records: int | None, step: _Step) -> dict[str, Any]:
    """Create the job (retrying a lost connection with the same token) and audit it. A failure is
    audited by the caller, which knows the step (``created`` once this one is audited)."""
    token = hashlib.sha256(f"{guard.profile.name}|{guard.account_id}|{content_id}|{model_id}|{name}".encode()).hexdigest()[:64]
    bedrock = await ctx.client("bedrock")
    request = dict(jobName=name, roleArn=dest.role_arn, modelId=model_id, clientRequestToken=token,
                   inputDataConfig={"s3InputDataConfig": {"s3Uri": input_uri, "s3InputFormat": "JSONL"}},
                   outputDataConfig={"s3OutputDataConfig": {"s3Uri": dest.output_prefix}})
    before = {j["jobArn"] for j in await jobs_named(bedrock, name)}  # to tell a retry from a new job
    arn = await _create_with_retry(bedrock, request)
    detail: dict[str, Any] = {"name": name, "model": model_id, "input": input_uri}
    if records is not None:
        detail["records"] = records
    existing = arn in before
    step.name = "created"  # reading the job back may still fail: the job exists, and is audited
    try:
        job = JobAnswer(await bedrock.get_model_invocation_job(jobIdentifier=arn))
    except Exception:
        guard.audit("batch-submit", arn, "existing job" if existing else "ok", **detail)
        raise
    job.existing = existing
    guard.audit("batch-submit", arn, f"existing job ({job.get('status')})" if existing else "ok", **detail)
    return job


async def _create_with_retry(bedrock: Any, request: dict[str, Any]) -> str:
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            return str((await bedrock.create_model_invocation_job(**request))["jobArn"])
        except _transient():
            if attempt == CREATE_ATTEMPTS:
                raise
            await asyncio.sleep(0.2 * attempt)  # same clientRequestToken: at most one job results
    raise AssertionError("unreachable")  # pragma: no cover


async def cancel_batch(ctx: AwsContext, guard: Guard, job: str) -> JobAnswer:
    """Stop a job (an ARN, id or name: :func:`resolve_job`). Idempotent: a job already Stopping or
    Stopped is reported so (``JobAnswer.already``, audited ``already stopping`` / ``already stopped``),
    not refused; a connection lost on the way is retried, and a stop whose answer was lost counts as done."""
    guard.require_mutation("batch-cancel", job)
    try:
        arn = await resolve_job(ctx, job)
    except AmbiguousJob:
        guard.audit("batch-cancel", job, "refused: ambiguous job name")
        raise
    except JobNotFound:
        guard.audit("batch-cancel", job, "failed: no such job")
        raise
    bedrock = await ctx.client("bedrock")
    detail = {} if arn == job else {"typed": job}
    import botocore.exceptions as bx  # noqa: PLC0415

    already = None
    try:
        try:
            await _stop_with_retry(bedrock, arn)
        except bx.ClientError as e:  # refused: a job already Stopping or Stopped is done, anything else is not
            status = (await bedrock.get_model_invocation_job(jobIdentifier=arn)).get("status")
            if e.response.get("Error", {}).get("Code") != "ValidationException" or status not in STOPPED:
                raise e from None
            already = status
    except Exception as e:
        guard.audit("batch-cancel", arn, f"failed: {type(e).__name__}", **detail)
        raise
    guard.audit("batch-cancel", arn, f"already {already.lower()}" if already else "ok", **detail)
    answer = JobAnswer(await bedrock.get_model_invocation_job(jobIdentifier=arn))
    answer.already = already
    return answer


async def cancel_confirmed(session: OperatorSession, job: str,
                           confirm: Callable[[str | None], Awaitable[str | None]]) -> dict[str, Any] | None:
    """The cancel use case, for ``batch cancel`` and the console's ``x``: the account looked up (it is named
    in the confirmation and the audit), refused in read-only mode before anything is looked up
    (:class:`~.guard.ReadOnlyError`, audited), ``confirm(account)`` asked (it returns the job to cancel as
    the operator confirmed it, its ARN once looked up, or None for no), then :func:`cancel_batch` run so
    that cancelling the caller (or switching profile) does not cut it in half. Returns the job as
    GetModelInvocationJob answers (a :class:`JobAnswer`), or None when the operator said no."""
    ctx = await session.context()
    await session.ensure_account()
    await asyncio.to_thread(session.guard.require_mutation, "batch-cancel", job)
    confirmed = await confirm(session.account_id)
    if confirmed is None:
        return None
    return _job(await session.mutation(cancel_batch(ctx, session.guard, confirmed)))


async def submit(session: OperatorSession, source: str, model_id: str, name: str | None = None) -> dict[str, Any]:
    """The submit use case, for ``batch submit`` and the console's ``b``: a local file (validated first) or
    an ``s3://`` URI (used in place), under the session's guard and account, run so that cancelling the
    caller does not cut it in half. Returns GetModelInvocationJob's answer. A bad ``name`` is a
    :class:`ValueError` before anything is called or uploaded."""
    if name is not None and (problem := job_name_problem(name)):
        raise ValueError(f"job name: {problem}")
    ctx = await session.context()
    await session.ensure_account()
    create = submit_batch_s3 if source.startswith("s3://") else submit_batch
    return _job(await session.mutation(create(ctx, session.guard, source, model_id, name,
                                              sandbox_bucket=session.sandbox_bucket)))


async def _stop_with_retry(bedrock: Any, job: str) -> None:
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            await bedrock.stop_model_invocation_job(jobIdentifier=job)
            return
        except _transient():
            if attempt == CREATE_ATTEMPTS:
                raise
            await asyncio.sleep(0.2 * attempt)
            try:  # the stop may have been handled and only its answer lost
                status = (await bedrock.get_model_invocation_job(jobIdentifier=job)).get("status")
            except _transient():
                continue
            if status in ("Stopping", "Stopped"):
                return


def _transient() -> tuple[type[BaseException], ...]:
    """Errors after which a request may or may not have been handled: retried with care, never blindly."""
    import botocore.exceptions as bx  # noqa: PLC0415

    return (bx.EndpointConnectionError, bx.ConnectionClosedError, bx.ReadTimeoutError, ConnectionError)


async def list_batches(ctx: AwsContext, status: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    bedrock = await ctx.client("bedrock")
    kwargs: dict[str, Any] = {"sortBy": "CreationTime", "sortOrder": "Descending"}
    if status:
        kwargs["statusEquals"] = status
    out: list[dict[str, Any]] = []
    async for page in bedrock.get_paginator("list_model_invocation_jobs").paginate(**kwargs):
        out += page.get("invocationJobSummaries", [])
        if len(out) >= limit:
            break
    return out[:limit]


async def show_batch(ctx: AwsContext, job: str) -> dict[str, Any]:
    """GetModelInvocationJob of a job named by ARN, id or name (:func:`resolve_job`)."""
    arn = await resolve_job(ctx, job)
    bedrock = await ctx.client("bedrock")
    return _job(await bedrock.get_model_invocation_job(jobIdentifier=arn))


def _job(answer: Any) -> dict[str, Any]:
    """GetModelInvocationJob's answer (a :class:`JobAnswer` from submit and cancel), as botocore's dictionary."""
    return cast("dict[str, Any]", answer)
