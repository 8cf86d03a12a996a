"""Naming a batch job as operators do, its ARN, its id (the ARN's last part) or its name, resolved with
``ListModelInvocationJobs`` ``nameContains`` (exact match; refused when two jobs share it): one use case,
:func:`resolve_job`, for the command line and the console; and what a submit or a cancel did, in the
words both say (:func:`submit_text`, :func:`cancel_text`). :mod:`.batch` submits and cancels."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..aws.session import AwsContext


#: botocore's patterns (ModelInvocationJobIdentifier, ModelInvocationJobName), whole-string.
JOB_ARN = re.compile(r"arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-invocation-job/[a-z0-9]{12}")
JOB_ID = re.compile(r"[a-z0-9]{12}")
JOB_NAME = re.compile(r"[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9+\-.]){0,63}")
JOB_NAME_MAX = 63  # ModelInvocationJobName: min 1, max 63


def job_name_problem(name: str) -> str | None:
    """What is wrong with a job name an operator gives, in CreateModelInvocationJob's own rule (botocore's
    ModelInvocationJobName: 1 to 63 characters, pattern ``JOB_NAME``), or None. Checked before anything is
    uploaded or called, so a bad name is never reported by another request's parameter."""
    rule = (f"1 to {JOB_NAME_MAX} characters, letters and digits first, then letters, digits, '+', '-' or '.' "
            f"(pattern {JOB_NAME.pattern})")
    if not name:
        return f"a job name cannot be empty: {rule}; leave --name out for the default name"
    if len(name) > JOB_NAME_MAX or not JOB_NAME.fullmatch(name):
        return f"{name!r} is not a valid job name: {rule}"
    return None


#: Where a job ended without running to its end: submitting the same again runs nothing new.
ENDED_UNRUN = frozenset({"Stopping", "Stopped", "Failed", "Expired"})
STOPPED = frozenset({"Stopping", "Stopped"})


class JobAnswer(dict[str, Any]):
    """GetModelInvocationJob's answer, as returned by submit and cancel, with what the console knows
    beside it (never mixed into the service's fields):

    - ``existing``: a submit found the job an earlier identical submit made (same profile, file, model and
      name: the same ``clientRequestToken``); nothing new was created.
    - ``already``: a cancel found the job already ``"Stopping"`` or ``"Stopped"``; nothing was sent.
    """

    existing: bool = False
    already: str | None = None


def job_ref_problem(ref: str) -> str | None:
    """What is wrong with a job as typed (``batch show JOB``), or None for an ARN, an id or a name."""
    if not ref or not ref.strip():
        return "empty; give a job id, ARN or name (`tierconsole batch list` shows them)"
    if not (JOB_ARN.fullmatch(ref) or JOB_NAME.fullmatch(ref)):
        return f"not a job id, ARN or name: {ref[:200]!r}"
    return None


class JobNotFound(LookupError):
    """No job has this id, ARN or name."""


class AmbiguousJob(ValueError):
    """Several jobs share the name typed; the message names each (id, status, submitted)."""


def job_id_of(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


async def jobs_named(bedrock: Any, name: str) -> list[dict[str, Any]]:
    """Every job whose name is exactly ``name`` (``nameContains`` narrows the listing; exact match here)."""
    out = []
    async for page in bedrock.get_paginator("list_model_invocation_jobs").paginate(
            nameContains=name, sortBy="CreationTime", sortOrder="Descending"):
        out += [j for j in page.get("invocationJobSummaries", []) if j.get("jobName") == name]
    return out


async def resolve_job(ctx: AwsContext, ref: str) -> str:
    """The ARN of the job ``ref`` names: an ARN as it is; an id if a job has it; else a name that exactly
    one job has. Raises ``ValueError`` (malformed), :class:`JobNotFound` or :class:`AmbiguousJob`."""
    problem = job_ref_problem(ref)
    if problem:
        raise ValueError(f"job: {problem}")
    if JOB_ARN.fullmatch(ref):
        return ref
    bedrock = await ctx.client("bedrock")
    if JOB_ID.fullmatch(ref):  # an id (12 lower-case letters and digits), unless no job has it: then a name
        import botocore.exceptions as bx  # noqa: PLC0415

        try:
            return str((await bedrock.get_model_invocation_job(jobIdentifier=ref))["jobArn"])
        except bx.ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
    named = await jobs_named(bedrock, ref)
    if not named:
        region = getattr(getattr(bedrock, "meta", None), "region_name", None) or ctx.profile.region
        raise JobNotFound(f"no batch job named or with id {ref!r} in {region} (jobs are per region: `tierconsole "
                          "batch list` shows this region's; give --region REGION for the one it was submitted in)")
    if len(named) > 1:
        def when(j: dict[str, Any]) -> str:
            t = j.get("submitTime")
            return f", submitted {t:%Y-%m-%d %H:%M:%S}" if hasattr(t, "strftime") else ""

        listed = "; ".join(f"{job_id_of(j['jobArn'])} ({j.get('status')}{when(j)})" for j in named)
        raise AmbiguousJob(f"{len(named)} jobs are named {ref!r}: {listed}; give the id")
    return str(named[0]["jobArn"])


def submit_text(job: dict[str, Any]) -> tuple[str, bool]:
    """What a submit did, for people: ``(text, ran)``. ``ran`` is False when the submit found the job an
    earlier identical submit made and that job ended without running to its end (Stopping, Stopped,
    Failed, Expired): nothing runs, and a new name is needed to run the file again."""
    name, arn, status = job.get("jobName"), job.get("jobArn"), job.get("status")
    if not getattr(job, "existing", False):
        return f"submitted {name}: {arn} ({status})", True
    text = (f"existing job {name}: {arn} ({status}): an earlier identical submit (same profile, file, model and "
            "name) made it; nothing new was submitted")
    if status in ENDED_UNRUN:
        return text + f". It is {status}: to run the file again, give a new --name", False
    return text, True


def cancel_text(job: dict[str, Any]) -> str:
    """What a cancel did, for people: ``cancelled NAME (ID): Stopping`` or ``NAME (ID): already stopped``."""
    name, status = job.get("jobName"), job.get("status")
    ident = job_id_of(job.get("jobArn", ""))
    already = getattr(job, "already", None)
    if already:
        return f"{name} ({ident}): already {already.lower()}; nothing sent (now {status})"
    return f"cancelled {name} ({ident}): {status}"
