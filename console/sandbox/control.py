"""The bedrock control plane in the sandbox (rest-json): batch inference jobs and the model catalog.

Operations (URIs from botocore's ``bedrock`` 2023-04-20 model):

- ``POST /model-invocation-job`` CreateModelInvocationJob
- ``GET  /model-invocation-job/{jobIdentifier}`` GetModelInvocationJob (ARN or id)
- ``POST /model-invocation-job/{jobIdentifier}/stop`` StopModelInvocationJob
- ``GET  /model-invocation-jobs`` ListModelInvocationJobs
- ``GET  /foundation-models`` and ``/foundation-models/{modelIdentifier}`` ListFoundationModels, GetFoundationModel
- ``GET  /inference-profiles`` ListInferenceProfiles (the sandbox defines none)

Request members are checked against botocore's own shapes (required, type, length, range,
pattern, enum) and rejected the way AWS does: ``ValidationException`` with
"N validation error(s) detected: Value ... at 'field' failed to satisfy constraint: ...".
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web

from .batch import BatchJobs, Job
from .http import AwsError, Call

if TYPE_CHECKING:  # pragma: no cover
    from ..domain.catalog import ModelSpec
    from .app import Sandbox

DEFAULT_PAGE = 100
PROVIDER_NAMES = {"amazon": "Amazon", "anthropic": "Anthropic", "openai": "OpenAI", "meta": "Meta",
                  "mistral": "Mistral AI", "cohere": "Cohere", "ai21": "AI21 Labs", "deepseek": "DeepSeek",
                  "qwen": "Qwen", "writer": "Writer", "stability": "Stability AI"}
# botocore's ModelInvocationJobName pattern backtracks exponentially on inputs like "a-----!";
# for names within its 63-character limit this pattern accepts exactly the same strings.
_SAFE_PATTERNS = {"ModelInvocationJobName": r"[a-zA-Z0-9][a-zA-Z0-9+\-.]*"}


def iso(ts: float | None) -> str | None:
    """Epoch seconds as the ISO-8601 form rest-json services return (parsed by botocore to datetime)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str, where: str) -> float:
    """A timestamp from a query string: ISO-8601 (what SDKs send) or epoch seconds."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise AwsError("ValidationException", f"{where}: {value!r} is not an ISO-8601 timestamp", 400) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


# ---------------------------------------------------------------------- validation against botocore shapes

@lru_cache(maxsize=1)
def service_model():
    import botocore.session  # noqa: PLC0415 - only the control plane needs it

    return botocore.session.get_session().get_service_model("bedrock")


@lru_cache(maxsize=64)
def _pattern(shape_name: str, pattern: str) -> re.Pattern:
    return re.compile(_SAFE_PATTERNS.get(shape_name, pattern))


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return f"'{text[:200]}'"


def _check(shape, value: Any, path: str, errors: list[str]) -> None:
    kind, meta = shape.type_name, shape.metadata
    fail = lambda why: errors.append(f"Value {_shown(value)} at '{path}' failed to satisfy constraint: {why}")  # noqa: E731
    if kind == "structure":
        if not isinstance(value, dict):
            return fail("Member must be a structure")
        for name in shape.required_members:
            if value.get(name) is None:
                errors.append(f"Value null at '{path + '.' if path else ''}{name}' failed to satisfy constraint: "
                              "Member must not be null")
        for name, member in shape.members.items():
            if value.get(name) is not None:
                _check(member, value[name], f"{path + '.' if path else ''}{name}", errors)
    elif kind == "list":
        if not isinstance(value, list):
            return fail("Member must be a list")
        if "min" in meta and len(value) < meta["min"]:
            fail(f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            fail(f"Member must have length less than or equal to {meta['max']}")
        for i, item in enumerate(value):
            _check(shape.member, item, f"{path}.{i + 1}.member", errors)
    elif kind == "string":
        if not isinstance(value, str):
            return fail("Member must be a string")
        if "min" in meta and len(value) < meta["min"]:
            return fail(f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            return fail(f"Member must have length less than or equal to {meta['max']}")
        if shape.enum and value not in shape.enum:
            return fail(f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
        if "pattern" in meta and not _pattern(shape.name, meta["pattern"]).fullmatch(value):
            fail(f"Member must satisfy regular expression pattern: {meta['pattern']}")
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return fail("Member must be an integer")
        if "min" in meta and value < meta["min"]:
            fail(f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            fail(f"Member must have value less than or equal to {meta['max']}")
    elif kind == "boolean" and not isinstance(value, bool):
        fail("Member must be a boolean")


def validate_members(shape, values: dict) -> None:
    errors: list[str] = []
    _check(shape, values, "", errors)
    if errors:
        n = len(errors)
        raise AwsError("ValidationException",
                       f"{n} validation error{'s' if n != 1 else ''} detected: " + "; ".join(errors), 400)


# ---------------------------------------------------------------------- the handler

class BedrockControl:
    """``sandbox.bedrock_control``: every bedrock path that is not a runtime action comes here."""

    def __init__(self, sandbox: "Sandbox", jobs: BatchJobs):
        self.sandbox = sandbox
        self.jobs = jobs
        self.catalog = sandbox.config.catalog

    async def handle(self, call: Call) -> web.Response:
        method = call.request.method
        raw = call.request.raw_path.split("?", 1)[0]
        # SDKs send an ARN label with "/" as %2F; split first, then unquote, and rejoin a label
        # that arrived with a raw "/" in it.
        parts = [unquote(p) for p in raw.strip("/").split("/")]
        head, label = parts[0], "/".join(parts[1:])
        if head == "model-invocation-job":
            if method == "POST" and not label:
                return self._reply(call, "CreateModelInvocationJob", self.create_job(call))
            if method == "GET" and label:
                call.operation = "GetModelInvocationJob"
                return self._reply(call, "GetModelInvocationJob", job_shape(self._job(label)))
            if method == "POST" and len(parts) > 2 and parts[-1] == "stop":
                call.operation = "StopModelInvocationJob"
                self.jobs.stop(self._job("/".join(parts[1:-1])))
                return self._reply(call, "StopModelInvocationJob", {})
        if (method, head, label) == ("GET", "model-invocation-jobs", ""):
            return self._reply(call, "ListModelInvocationJobs", self.list_jobs(call))
        if (method, head) == ("GET", "foundation-models"):
            if not label:
                return self._reply(call, "ListFoundationModels", self.list_models(call))
            call.operation = "GetFoundationModel"
            return self._reply(call, "GetFoundationModel",
                               {"modelDetails": self._model_summary(self._foundation_model(label), call.region)})
        if (method, head, label) == ("GET", "inference-profiles", ""):
            self._query(call, "ListInferenceProfiles")
            return self._reply(call, "ListInferenceProfiles", {"inferenceProfileSummaries": []})
        raise AwsError("UnknownOperationException",
                       f"The sandbox's bedrock control plane does not serve {method} {call.request.path}", 404)

    def _reply(self, call: Call, operation: str, body: dict) -> web.Response:
        call.operation = operation
        return web.Response(text=json.dumps(body, separators=(",", ":")), content_type="application/json",
                            headers={"x-amzn-RequestId": call.request_id})

    def _query(self, call: Call, operation: str) -> dict[str, str]:
        """The query string by member name, validated against the operation's input shape."""
        call.operation = operation
        shape = service_model().operation_model(operation).input_shape
        by_wire = {m.serialization.get("name", n): (n, m) for n, m in shape.members.items()
                   if m.serialization.get("location") == "querystring"}
        values: dict[str, Any] = {}
        for key, value in call.request.query.items():
            if key not in by_wire:
                continue  # AWS ignores unknown query parameters
            name, member = by_wire[key]
            if member.type_name == "integer":
                try:
                    value = int(value)
                except ValueError:
                    raise AwsError("ValidationException", f"{name}: {value!r} is not an integer", 400) from None
            elif member.type_name == "timestamp":
                value = parse_time(value, name)
            values[name] = value
        validate_members(shape, {k: v for k, v in values.items() if not isinstance(v, float)})
        return values

    # ------------------------------------------------------------------ jobs
    def create_job(self, call: Call) -> dict:
        call.operation = "CreateModelInvocationJob"
        body = call.json()
        validate_members(service_model().operation_model("CreateModelInvocationJob").input_shape, body)
        if body["inputDataConfig"].get("s3InputDataConfig") is None:
            raise AwsError("ValidationException", "inputDataConfig.s3InputDataConfig is required", 400)
        if body["outputDataConfig"].get("s3OutputDataConfig") is None:
            raise AwsError("ValidationException", "outputDataConfig.s3OutputDataConfig is required", 400)
        model = self._foundation_model(body["modelId"])
        call.model_id = model.model_id
        job, _created = self.jobs.create(request=body, model=model, region=call.region)
        return {"jobArn": job.arn}

    def _job(self, identifier: str) -> Job:
        validate_members(service_model().operation_model("GetModelInvocationJob").input_shape,
                         {"jobIdentifier": identifier})
        job = self.jobs.find(identifier)
        if job is None:
            raise AwsError("ResourceNotFoundException", f"Could not find model invocation job {identifier!r}", 404)
        return job

    def list_jobs(self, call: Call) -> dict:
        q = self._query(call, "ListModelInvocationJobs")
        jobs = list(self.jobs.jobs.values())
        if "statusEquals" in q:
            jobs = [j for j in jobs if j.status == q["statusEquals"]]
        if "nameContains" in q:
            jobs = [j for j in jobs if q["nameContains"] in j.name]
        if "submitTimeAfter" in q:
            jobs = [j for j in jobs if j.submit_time > q["submitTimeAfter"]]
        if "submitTimeBefore" in q:
            jobs = [j for j in jobs if j.submit_time < q["submitTimeBefore"]]
        descending = q.get("sortOrder", "Descending") == "Descending"
        jobs.sort(key=_cursor_key, reverse=descending)
        if "nextToken" in q:
            after = _decode_token(q["nextToken"])
            jobs = [j for j in jobs if (_cursor_key(j) < after if descending else _cursor_key(j) > after)]
        page = jobs[:q.get("maxResults", DEFAULT_PAGE)]
        out: dict[str, Any] = {"invocationJobSummaries": [job_shape(j) for j in page]}
        if len(jobs) > len(page):
            out["nextToken"] = _encode_token(_cursor_key(page[-1]))
        return out

    # ------------------------------------------------------------------ models
    def _foundation_model(self, identifier: str) -> "ModelSpec":
        model_id = identifier.split(":foundation-model/", 1)[-1] if identifier.startswith("arn:") else identifier
        model = self.catalog.model(model_id)
        if model is None:
            known = ", ".join(m.model_id for m in self.catalog.models)
            raise AwsError("ResourceNotFoundException",
                           f"Could not resolve the foundation model from the model identifier {identifier!r}; "
                           f"the sandbox serves: {known}", 404)
        return model

    def _model_summary(self, m: "ModelSpec", region: str) -> dict:
        return {"modelArn": f"arn:aws:bedrock:{region}::foundation-model/{m.model_id}", "modelId": m.model_id,
                "modelName": m.name, "providerName": PROVIDER_NAMES.get(m.provider.lower(), m.provider),
                "inputModalities": ["TEXT"], "outputModalities": ["TEXT"], "responseStreamingSupported": True,
                "customizationsSupported": [], "inferenceTypesSupported": ["ON_DEMAND"],
                "modelLifecycle": {"status": "ACTIVE"}}

    def list_models(self, call: Call) -> dict:
        q = self._query(call, "ListFoundationModels")
        summaries = [self._model_summary(m, call.region) for m in self.catalog.models]
        if "byProvider" in q:
            want = q["byProvider"].lower()
            summaries = [s for s in summaries if want in (s["providerName"].lower(), s["modelId"].split(".")[0])]
        if q.get("byOutputModality", "TEXT") != "TEXT" or q.get("byInferenceType", "ON_DEMAND") != "ON_DEMAND" \
                or "byCustomizationType" in q:
            summaries = []
        return {"modelSummaries": summaries}


def job_shape(job: Job) -> dict:
    """A job as GetModelInvocationJob returns it (ModelInvocationJobSummary has the same members)."""
    req = job.request
    out: dict[str, Any] = {
        "jobArn": job.arn, "jobName": job.name, "modelId": job.model_id, "roleArn": job.role_arn,
        "status": job.status, "submitTime": iso(job.submit_time), "lastModifiedTime": iso(job.last_modified_time),
        "inputDataConfig": req["inputDataConfig"], "outputDataConfig": req["outputDataConfig"],
        "timeoutDurationInHours": job.timeout_hours, "jobExpirationTime": iso(job.expiration_time),
        "modelInvocationType": job.invocation_type,
    }
    if job.client_token is not None:
        out["clientRequestToken"] = job.client_token
    if job.message:
        out["message"] = job.message[:2048]
    if job.end_time is not None:
        out["endTime"] = iso(job.end_time)
    if "vpcConfig" in req:
        out["vpcConfig"] = req["vpcConfig"]
    if job.total is not None:
        out.update(totalRecordCount=job.total, processedRecordCount=job.processed,
                   successRecordCount=job.success, errorRecordCount=job.errors)
    return out


def _cursor_key(job: Job) -> tuple[float, str]:
    return (job.submit_time, job.job_id)


def _encode_token(key: tuple[float, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps([key[0], key[1]]).encode()).decode()


def _decode_token(token: str) -> tuple[float, str]:
    try:
        t, job_id = json.loads(base64.urlsafe_b64decode(token.encode()))
        return float(t), str(job_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise AwsError("ValidationException", f"nextToken {token[:64]!r} is not a token this API returned", 400) \
            from None


def install(sandbox: "Sandbox") -> BedrockControl:
    jobs = BatchJobs(sandbox)
    control = BedrockControl(sandbox, jobs)
    sandbox.batch = jobs
    sandbox.bedrock_control = control.handle
    return control
