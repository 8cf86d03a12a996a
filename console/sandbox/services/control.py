"""The bedrock control plane in the sandbox (rest-json): batch inference jobs and the model catalog.

Operations (URIs from botocore's ``bedrock`` 2023-04-20 model):

- ``POST /model-invocation-job`` CreateModelInvocationJob
- ``GET  /model-invocation-job/{jobIdentifier}`` GetModelInvocationJob (ARN or id)
- ``POST /model-invocation-job/{jobIdentifier}/stop`` StopModelInvocationJob
- ``GET  /model-invocation-jobs`` ListModelInvocationJobs
- ``GET  /foundation-models`` and ``/foundation-models/{modelIdentifier}`` ListFoundationModels, GetFoundationModel
- ``GET  /inference-profiles`` ListInferenceProfiles (paged, ``type``), ``GET /inference-profiles/{id}``
  GetInferenceProfile: the catalog's system-defined profiles callable from the caller's region and the
  account's application profiles (:mod:`.profiles`)
- ``POST /inference-profiles`` CreateInferenceProfile (201; ``clientRequestToken`` idempotent),
  ``DELETE /inference-profiles/{id}`` DeleteInferenceProfile
- ``POST /tagResource``, ``/untagResource``, ``/listTagsForResource``: tags of application profiles

Request members are checked against botocore's own shapes (:mod:`.shapes`: required, type,
length, range, pattern, enum) and rejected the way AWS does: ``ValidationException`` with
"N validation error(s) detected: Value ... at 'field' failed to satisfy constraint: ...".
Members the model does not declare are dropped when the request is parsed: a job stores and
echoes only what botocore can parse back.
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ...core.domain.routes import foundation_model_arn, parse_arn, system_profile_arn
from .batch import BatchJobs, Job
from .profiles import APPLICATION, MAX_TAGS, SYSTEM, ApplicationProfile, ProfileStore, profile_description, profile_name
from ..http import AwsError, BadJson, Call, Response, parse_json
from ..shapes import conform, conform_params, input_shape

if TYPE_CHECKING:  # pragma: no cover
    from ...core.domain.catalog import ModelSpec
    from ...core.domain.routes import SystemProfile
    from ..host import SandboxHost

DEFAULT_PAGE = 100
PROVIDER_NAMES = {"amazon": "Amazon", "anthropic": "Anthropic", "openai": "OpenAI", "meta": "Meta",
                  "mistral": "Mistral AI", "cohere": "Cohere", "ai21": "AI21 Labs", "deepseek": "DeepSeek",
                  "qwen": "Qwen", "writer": "Writer", "stability": "Stability AI"}


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


# ---------------------------------------------------------------------- the handler

class BedrockControl:
    """``Sandbox.bedrock_control``: every bedrock path that is not a runtime action comes here."""

    def __init__(self, sandbox: "SandboxHost", jobs: BatchJobs):
        self.sandbox = sandbox
        self.jobs = jobs
        self.catalog = sandbox.config.catalog
        self.profiles: ProfileStore = sandbox.runtime.profiles

    async def handle(self, call: Call) -> Response:
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
                return self._reply(call, "GetModelInvocationJob", job_shape(self._job(label, call.region)))
            if method == "POST" and len(parts) > 2 and parts[-1] == "stop":
                call.operation = "StopModelInvocationJob"
                self.jobs.stop(self._job("/".join(parts[1:-1]), call.region))
                return self._reply(call, "StopModelInvocationJob", {})
        if (method, head, label) == ("GET", "model-invocation-jobs", ""):
            return self._reply(call, "ListModelInvocationJobs", self.list_jobs(call))
        if (method, head) == ("GET", "foundation-models"):
            if not label:
                return self._reply(call, "ListFoundationModels", self.list_models(call))
            call.operation = "GetFoundationModel"
            return self._reply(call, "GetFoundationModel",
                               {"modelDetails": self._model_summary(self._foundation_model(label), call.region)})
        if head == "inference-profiles":
            reply = self.inference_profiles(call, method, label)
            if reply is not None:
                return reply
        if method == "POST" and not label and head in TAG_OPERATIONS:
            return self._reply(call, TAG_OPERATIONS[head], self.tags(call, TAG_OPERATIONS[head]))
        raise AwsError("UnknownOperationException",
                       f"The sandbox's bedrock control plane does not serve {method} {call.request.path}", 404)

    def _reply(self, call: Call, operation: str, body: dict, status: int = 200) -> Response:
        call.operation = operation
        return Response(status=status, text=json.dumps(body, separators=(",", ":")),
                        content_type="application/json", headers={"x-amzn-RequestId": call.request_id})

    def _query(self, call: Call, operation: str) -> dict[str, Any]:
        """The query string by member name, validated against the operation's input shape."""
        call.operation = operation
        shape = input_shape("bedrock", operation)
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
                    raise AwsError("ValidationException", f"{name}: {value[:100]!r} is not an integer", 400) from None
            elif member.type_name == "timestamp":
                value = parse_time(value, name)
            values[name] = value
        conform_params(shape, values, "querystring")
        return values

    # ------------------------------------------------------------------ jobs
    def create_job(self, call: Call) -> dict:
        call.operation = "CreateModelInvocationJob"
        body = conform(input_shape("bedrock", "CreateModelInvocationJob"), call.json())
        if body["inputDataConfig"].get("s3InputDataConfig") is None:
            raise AwsError("ValidationException", "inputDataConfig.s3InputDataConfig is required", 400)
        if body["outputDataConfig"].get("s3OutputDataConfig") is None:
            raise AwsError("ValidationException", "outputDataConfig.s3OutputDataConfig is required", 400)
        model = self._batch_model(body["modelId"], call.region)
        call.model_id = model.model_id
        job, _created = self.jobs.create(request=body, model=model, region=call.region)
        return {"jobArn": job.arn}

    def _job(self, identifier: str, region: str) -> Job:
        """A job of the request's region: as on AWS, where Bedrock is regional, another region's endpoint
        does not know it (by id or by ARN)."""
        conform_params(input_shape("bedrock", "GetModelInvocationJob"), {"jobIdentifier": identifier}, "uri")
        job = self.jobs.find(identifier)
        if job is None or job.region != region:
            raise AwsError("ResourceNotFoundException", f"Could not find model invocation job {identifier!r}", 404)
        return job

    def list_jobs(self, call: Call) -> dict:
        q = self._query(call, "ListModelInvocationJobs")
        jobs = [j for j in self.jobs.jobs.values() if j.region == call.region]  # jobs are regional, as on AWS
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

    # ------------------------------------------------------------------ inference profiles
    def inference_profiles(self, call: Call, method: str, label: str) -> Response | None:
        if method == "GET" and not label:
            return self._reply(call, "ListInferenceProfiles", self.list_profiles(call))
        if method == "POST" and not label:
            call.operation = "CreateInferenceProfile"
            body = conform(input_shape("bedrock", "CreateInferenceProfile"), tag_count_checked(call.json()))
            app, _created = self.profiles.create(body, call.region, self.sandbox.clock.now())
            call.model_id = app.route.model_id
            return self._reply(call, "CreateInferenceProfile", {"inferenceProfileArn": app.arn, "status": "ACTIVE"},
                               201)
        operation = {"GET": "GetInferenceProfile", "DELETE": "DeleteInferenceProfile"}.get(method)
        if operation is None or not label:
            return None
        call.operation = operation
        conform_params(input_shape("bedrock", operation), {"inferenceProfileIdentifier": label}, "uri")
        if operation == "DeleteInferenceProfile":
            self.profiles.delete(label, call.region)
            return self._reply(call, operation, {})
        return self._reply(call, operation, self._profile_shape(self.profiles.find(label, call.region), call.region))

    def list_profiles(self, call: Call) -> dict:
        q = self._query(call, "ListInferenceProfiles")
        listing = self.profiles.listing(call.region, q.get("typeEquals"))
        if "nextToken" in q:
            after = _decode_profile_token(q["nextToken"])
            listing = [(key, p) for key, p in listing if key > after]
        page = listing[:q.get("maxResults", DEFAULT_PAGE)]
        out: dict[str, Any] = {"inferenceProfileSummaries": [self._profile_shape(p, call.region) for _, p in page]}
        if len(listing) > len(page):
            out["nextToken"] = base64.urlsafe_b64encode(json.dumps(list(page[-1][0])).encode()).decode()
        return out

    def _profile_shape(self, p: "SystemProfile | ApplicationProfile", region: str) -> dict:
        """A profile as GetInferenceProfile returns it (InferenceProfileSummary has the same members)."""
        if isinstance(p, ApplicationProfile):
            out = {"inferenceProfileName": p.name, "createdAt": iso(p.created_at), "updatedAt": iso(p.updated_at),
                   "inferenceProfileArn": p.arn, "models": [{"modelArn": arn} for arn in p.models],
                   "inferenceProfileId": p.profile_id, "status": "ACTIVE", "type": APPLICATION}
            if p.description is not None:
                out["description"] = p.description
            return out
        display = _display_name(p.model)
        # AWS's own names and descriptions break botocore's declared patterns ("." in a name, "," in a
        # description); the sandbox words them as AWS does (botocore does not validate output). No
        # createdAt/updatedAt: the sandbox has no date for a system profile, and the members are optional.
        return {"inferenceProfileName": profile_name(p, display), "description": profile_description(p, display),
                "inferenceProfileArn": system_profile_arn(region, self.profiles.account, p.profile_id),
                "models": [{"modelArn": foundation_model_arn(r, p.model.model_id)} for r in p.regions],
                "inferenceProfileId": p.profile_id, "status": "ACTIVE", "type": SYSTEM}

    def tags(self, call: Call, operation: str) -> dict:
        call.operation = operation
        body = conform(input_shape("bedrock", operation), tag_count_checked(call.json()))
        arn, now = body["resourceARN"], self.sandbox.clock.now()
        if operation == "TagResource":
            self.profiles.tag(arn, body["tags"], call.region, now)
        elif operation == "UntagResource":
            self.profiles.untag(arn, body["tagKeys"], call.region, now)
        else:
            app = self.profiles.application(arn, call.region)
            return {"tags": [{"key": k, "value": v} for k, v in app.tags.items()]}
        return {}

    # ------------------------------------------------------------------ models
    def _batch_model(self, identifier: str, region: str) -> "ModelSpec":
        """The model a batch job runs on: a foundation model id or ARN, or (as AWS's batch inference takes them)
        a system or application inference profile id or ARN, resolved as a runtime call's; an unknown
        profile is the runtime's ResourceNotFoundException."""
        arn = parse_arn(identifier)
        geo = identifier.partition(".")[0]
        if (arn is not None and arn[0] != "foundation-model") or (arn is None and (
                geo in self.catalog.geographies or identifier in self.profiles.applications)):
            return self._foundation_model(self.profiles.resolve(identifier, region).model_id)
        return self._foundation_model(identifier)

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
                "modelName": m.model_name, "providerName": PROVIDER_NAMES.get(m.provider.lower(), m.provider),
                "inputModalities": list(m.input_modalities), "outputModalities": list(m.output_modalities),
                "responseStreamingSupported": True,
                "customizationsSupported": [],
                # A profile-only model: what AWS returns for one (not in botocore's enum, which it passes through).
                "inferenceTypesSupported": ["ON_DEMAND"] if m.on_demand else ["INFERENCE_PROFILE"],
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
        elif "byInferenceType" in q:  # ON_DEMAND: not the profile-only models
            summaries = [s for s in summaries if "ON_DEMAND" in s["inferenceTypesSupported"]]
        return {"modelSummaries": summaries}


TAG_OPERATIONS = {"tagResource": "TagResource", "untagResource": "UntagResource",
                  "listTagsForResource": "ListTagsForResource"}


def tag_count_checked(body: dict) -> dict:
    """``body``, or TooManyTagsException when it carries more tags than a resource may have (the operation
    declares that error for it; the count is checked before the list's length constraint would be)."""
    tags = body.get("tags")
    if isinstance(tags, list) and len(tags) > MAX_TAGS:
        raise AwsError("TooManyTagsException", f"The request has {len(tags)} tags; a resource can have at most "
                                               f"{MAX_TAGS}.", 400)
    return body


def _display_name(m: "ModelSpec") -> str:
    """The model as AWS names it in profile names: provider and model name ("Anthropic Claude Sonnet 4.5")."""
    provider = PROVIDER_NAMES.get(m.provider.lower(), m.provider)
    return m.name if m.name.lower().startswith(provider.lower()) else f"{provider} {m.name}"


def _decode_profile_token(token: str) -> tuple:
    """A ListInferenceProfiles nextToken (base64 of the last paging key ``[rank, order, id]``)."""
    try:
        rank, order, ident = parse_json(base64.urlsafe_b64decode(token.encode()))
        return int(rank), int(order), str(ident)
    except (binascii.Error, BadJson, ValueError, TypeError, OverflowError):
        raise AwsError("ValidationException", f"nextToken {token[:64]!r} is not a token this API returned", 400) \
            from None


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
    """A nextToken this API returned (base64 of ``[submit time, job id]``), read with the bounded JSON parser."""
    try:
        t, job_id = parse_json(base64.urlsafe_b64decode(token.encode()))
        return float(t), str(job_id)
    except (binascii.Error, BadJson, ValueError, TypeError, OverflowError):
        raise AwsError("ValidationException", f"nextToken {token[:64]!r} is not a token this API returned", 400) \
            from None
