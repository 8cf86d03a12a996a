"""Batch jobs for people and scripts: ``batch list`` lines, ``batch show`` as two columns, and the
service's JSON without its ResponseMetadata."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from ..core.domain.format import grouped, plural


def json_default(v):
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


def job_json(job: dict) -> dict:
    return {k: v for k, v in job.items() if k != "ResponseMetadata"}


def _job_id(j: dict) -> str:
    """The job's id: the last part of its ARN (what ``batch show`` and ``batch cancel`` take)."""
    return str(j.get("jobArn", "")).rsplit("/", 1)[-1]


def _job_line(j: dict) -> str:
    total = j.get("totalRecordCount")
    done = j.get("processedRecordCount", 0) or 0
    progress = f"{done}/{total}" if total else f"{done}/?"
    submitted = j.get("submitTime")
    when = submitted.strftime("%Y-%m-%d %H:%M:%S") if hasattr(submitted, "strftime") else str(submitted or "")
    return (f"{j.get('jobName', ''):<36} {_job_id(j):<12} {j.get('status', ''):<19} {progress:>13} "
            f"{j.get('errorRecordCount', 0) or 0:>6} {j.get('modelId', ''):<44} {when}")


def format_jobs(jobs: list[dict], as_json: bool) -> str:
    """``batch list``: JSON (each job with its ``jobId``), or one line per job under a header."""
    if as_json:
        return json.dumps([{**job_json(j), "jobId": _job_id(j)} for j in jobs], default=json_default, indent=2)
    head = f"{'name':<36} {'id':<12} {'status':<19} {'records':>13} {'errors':>6} {'model':<44} submitted (UTC)"
    return "\n".join([head, *(_job_line(j) for j in jobs)])


_JOB_ROWS = (  # (label, GetModelInvocationJob field path), in the order an operator reads them
    ("name", "jobName"), ("id", "jobId"), ("job", "jobArn"), ("status", "status"), ("message", "message"), ("model", "modelId"),
    ("input", "inputDataConfig.s3InputDataConfig.s3Uri"), ("output", "outputDataConfig.s3OutputDataConfig.s3Uri"),
    ("submitted", "submitTime"), ("last change", "lastModifiedTime"), ("ended", "endTime"),
    ("expires", "jobExpirationTime"), ("timeout", "timeoutDurationInHours"), ("role", "roleArn"),
    ("request token", "clientRequestToken"),
)
_RECORD_FIELDS = ("totalRecordCount", "processedRecordCount", "successRecordCount", "errorRecordCount")


def _utc(value) -> str:
    if isinstance(value, datetime):
        return (value.astimezone(timezone.utc) if value.tzinfo else value).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


def _flat(prefix: str, value) -> list[tuple[str, str]]:
    """Nested fields as ``a.b`` rows; lists joined with commas."""
    if isinstance(value, dict):
        return [row for k, v in value.items() for row in _flat(f"{prefix}.{k}" if prefix else k, v)]
    if isinstance(value, (list, tuple)):
        return [(prefix, ", ".join(str(v) for v in value))]
    return [(prefix, _utc(value))]


def format_job(job: dict) -> str:
    """One batch job as a two-column table (``batch show`` without ``--json``)."""
    fields = dict(_flat("", {**job_json(job), "jobId": _job_id(job)}))
    rows: list[tuple[str, str]] = []
    for label, path in _JOB_ROWS:
        value = fields.pop(path, None)
        if value not in (None, ""):
            rows.append((label, f"{value} h" if label == "timeout" else value))
        if label == "model":
            total, done, ok, bad = (job.get(k) for k in _RECORD_FIELDS)
            if any(v is not None for v in (total, done, ok, bad)):
                head = f"{grouped(done or 0)} of {grouped(total)} processed" if total else \
                    f"{grouped(done or 0)} processed (total not known yet)"
                rows.append(("records", f"{head} · {grouped(ok or 0)} ok · {plural(bad or 0, 'error')}"))
    for key in _RECORD_FIELDS:
        fields.pop(key, None)
    rows += [(k, v) for k, v in fields.items() if v not in (None, "")]  # anything else the service returned
    width = max(len(label) for label, _ in rows) + 2
    return "\n".join(f"{label:<{width}}{value}" for label, value in rows)
