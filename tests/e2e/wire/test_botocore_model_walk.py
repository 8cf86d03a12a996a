"""Every operation the sandbox serves, checked against botocore's service model on the wire.

For each operation: a request that succeeds, requests that fail the ways the operation can fail, and every
injected fault kind. boto3 sends each (so requests are serialized as the SDK does) through a transport that
keeps the raw answer; the raw answer is then checked against the model, not against what botocore's
forgiving parser makes of it:

- a success body: every member the output shape requires is there, no member it does not declare, types,
  enums, lengths and ranges as declared (patterns are input constraints AWS's answers do not keep to); header members likewise; each event of an event stream against
  its event shape;
- an error: its code is declared by the operation (or is one of AWS's common errors), its HTTP status is
  the one the model declares for it, and its body carries only the error shape's members (Service Quotas:
  ``Message``; Bedrock: ``message``).
"""
from __future__ import annotations

import base64
import binascii
import io
import json
import xml.etree.ElementTree as ET
from datetime import datetime
from functools import lru_cache

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from tierconsole.sandbox.app import Sandbox, SandboxThread
from tierconsole.sandbox.faults import parse_faults

NOVA = "amazon.nova-lite-v1:0"
ROLE = "arn:aws:iam::123456789012:role/WalkRole"
FAULT_KINDS = ("503", "500", "throttle", "denied", "expired")
SIGNING = {"bedrock-runtime": "bedrock", "bedrock": "bedrock", "service-quotas": "servicequotas",
           "cloudwatch": "monitoring", "sts": "sts", "s3": "s3", "sns": "sns", "oam": "oam"}
# Errors every AWS service may answer that operations do not declare (AWS "common errors"), by protocol family.
COMMON_ERRORS = {
    "json": {"AccessDeniedException", "ExpiredTokenException", "IncompleteSignature", "InternalFailure",
             "InvalidSignatureException", "MissingAuthenticationTokenException", "ServiceUnavailable",
             "ThrottlingException", "UnrecognizedClientException", "UnknownOperationException",
             "SerializationException", "ValidationException", "RequestExpired"},
    "query": {"AccessDenied", "ExpiredTokenException", "IncompleteSignature", "InternalFailure", "InvalidAction",
              "InvalidClientTokenId", "MissingAction", "MissingParameter", "InvalidParameterValue",
              "ServiceUnavailable", "Throttling", "ValidationError", "RequestExpired", "SignatureDoesNotMatch"},
    "s3": {"AccessDenied", "ExpiredToken", "InternalError", "ServiceUnavailable", "SlowDown", "InvalidArgument",
           "InvalidRange", "MalformedPolicy", "MethodNotAllowed", "SignatureDoesNotMatch", "InvalidAccessKeyId",
           "RequestTimeTooSkewed"},
}


# ---------------------------------------------------------------------- the checker

@lru_cache(maxsize=None)
def _model(service: str):
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def _family(protocol: str) -> str:
    return {"rest-json": "json", "json": "json", "smithy-rpc-v2-cbor": "json", "query": "query",
            "rest-xml": "s3"}[protocol]


def _common(model) -> set[str]:
    """The common errors of a service: a JSON service that is awsQueryCompatible (CloudWatch) has the query
    protocol's codes."""
    family = "query" if model.metadata.get("awsQueryCompatible") is not None else _family(model.protocol)
    return COMMON_ERRORS[family]


def check_json(shape, value, path: str, out: list[str]) -> None:
    """Problems of a JSON wire ``value`` against ``shape`` (appended to ``out``)."""
    kind, meta = shape.type_name, shape.metadata
    if kind == "structure":
        if meta.get("document"):
            return
        if not isinstance(value, dict):
            out.append(f"{path}: {shape.name} must be an object, got {type(value).__name__}")
            return
        members = {m.serialization.get("name", n): m for n, m in shape.members.items()
                   if "location" not in m.serialization}
        for key, item in value.items():
            if key not in members:
                out.append(f"{path}.{key}: {shape.name} has no such member")
            elif item is not None:
                check_json(members[key], item, f"{path}.{key}", out)
        for name in shape.required_members:
            member = shape.members[name]
            if "location" not in member.serialization and value.get(member.serialization.get("name", name)) is None:
                out.append(f"{path}.{name}: required by {shape.name}, missing")
        if meta.get("union") and len([v for v in value.values() if v is not None]) != 1:
            out.append(f"{path}: union {shape.name} must have exactly one member set, has {sorted(value)}")
    elif kind == "list":
        if not isinstance(value, list):
            out.append(f"{path}: {shape.name} must be a list")
            return
        _length(shape, value, path, out)
        for i, item in enumerate(value):
            check_json(shape.member, item, f"{path}[{i}]", out)
    elif kind == "map":
        if not isinstance(value, dict):
            out.append(f"{path}: {shape.name} must be a map")
            return
        for k, v in value.items():
            check_json(shape.key, k, f"{path}.<key>", out)
            check_json(shape.value, v, f"{path}.{k}", out)
    else:
        check_scalar(shape, value, path, out)


def check_scalar(shape, value, path: str, out: list[str]) -> None:
    kind, meta = shape.type_name, shape.metadata
    if kind == "string":
        if not isinstance(value, str):
            out.append(f"{path}: {shape.name} must be a string, got {value!r:.60}")
            return
        if shape.enum and value not in shape.enum:
            out.append(f"{path}: {value!r} is not in {shape.name}'s enum {shape.enum}")
        _length(shape, value, path, out)
        # Patterns are not checked: they constrain what a client sends, and AWS's own answers do not keep to
        # them (a system inference profile is named "US Anthropic Claude 3.5 Sonnet", "." and all).
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            out.append(f"{path}: {shape.name} must be an integer, got {value!r:.60}")
            return
        _range(shape, value, path, out)
    elif kind in ("float", "double"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            out.append(f"{path}: {shape.name} must be a number, got {value!r:.60}")
            return
        _range(shape, value, path, out)
    elif kind == "boolean":
        if not isinstance(value, bool):
            out.append(f"{path}: {shape.name} must be a boolean, got {value!r:.60}")
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            out.append(f"{path}: {shape.name} must be a timestamp, got {value!r:.60}")
        elif isinstance(value, str):
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                out.append(f"{path}: {value!r:.60} is not an ISO-8601 timestamp")
    elif kind == "blob":
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, TypeError, ValueError):
            out.append(f"{path}: {shape.name} must be base64, got {value!r:.60}")


def _length(shape, value, path: str, out: list[str]) -> None:
    meta = shape.metadata
    if "min" in meta and len(value) < meta["min"]:
        out.append(f"{path}: length {len(value)} below {shape.name}'s minimum {meta['min']}")
    if "max" in meta and len(value) > meta["max"]:
        out.append(f"{path}: length {len(value)} above {shape.name}'s maximum {meta['max']}")


def _range(shape, value, path: str, out: list[str]) -> None:
    meta = shape.metadata
    if "min" in meta and value < meta["min"]:
        out.append(f"{path}: {value} below {shape.name}'s minimum {meta['min']}")
    if "max" in meta and value > meta["max"]:
        out.append(f"{path}: {value} above {shape.name}'s maximum {meta['max']}")


_XML_SCALARS = {"integer": int, "long": int, "float": float, "double": float}


def check_xml(shape, element, path: str, out: list[str]) -> None:
    """Problems of an XML element against ``shape`` (rest-xml and query)."""
    kind = shape.type_name
    if kind == "structure":
        members = {}
        for name, member in shape.members.items():
            if member.serialization.get("location"):
                continue
            members[member.serialization.get("name", name)] = member
        seen = set()
        for child in element:
            tag = child.tag.split("}")[-1]
            member = members.get(tag)
            if member is None:
                out.append(f"{path}.{tag}: {shape.name} has no such member")
                continue
            seen.add(tag)
            if member.type_name == "list" and member.serialization.get("flattened"):
                check_xml(member.member, child, f"{path}.{tag}[]", out)
            else:
                check_xml(member, child, f"{path}.{tag}", out)
        for name in shape.required_members:
            member = shape.members[name]
            if not member.serialization.get("location") and member.serialization.get("name", name) not in seen:
                out.append(f"{path}.{name}: required by {shape.name}, missing")
    elif kind == "list":
        item_name = shape.member.serialization.get("name", "member")
        for i, child in enumerate(element):
            if child.tag.split("}")[-1] != item_name:
                out.append(f"{path}[{i}]: expected <{item_name}>, got <{child.tag}>")
            check_xml(shape.member, child, f"{path}[{i}]", out)
    elif kind == "map":
        return
    else:
        text = element.text or ""
        if kind in _XML_SCALARS:
            try:
                check_scalar(shape, _XML_SCALARS[kind](text), path, out)
            except ValueError:
                out.append(f"{path}: {text!r:.60} is not a {kind}")
        elif kind == "boolean":
            if text not in ("true", "false"):
                out.append(f"{path}: {text!r:.60} is not a boolean")
        elif kind == "timestamp":
            try:
                datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                out.append(f"{path}: {text!r:.60} is not an ISO-8601 timestamp")
        elif kind == "string":
            check_scalar(shape, text, path, out)


def check_headers(output_shape, headers: dict[str, str], out: list[str]) -> None:
    lower = {k.lower(): v for k, v in headers.items()}
    for name, member in output_shape.members.items():
        if member.serialization.get("location") != "header":
            continue
        value = lower.get(member.serialization["name"].lower())
        if value is None:
            if name in output_shape.required_members:
                out.append(f"header {member.serialization['name']}: required ({name}), missing")
            continue
        if member.type_name in ("integer", "long"):
            try:
                value = int(value)
            except ValueError:
                out.append(f"header {member.serialization['name']}: {value!r} is not an integer")
                continue
        if member.type_name in ("string", "integer", "long"):
            check_scalar(member, value, f"header {member.serialization['name']}", out)


def check_event_stream(stream_shape, body: bytes, out: list[str]) -> list[str]:
    """Each event against its event shape; returns the event types in order."""
    from botocore.eventstream import EventStreamBuffer

    buf = EventStreamBuffer()
    buf.add_data(body)
    kinds = []
    for message in buf:
        headers = message.headers
        kind = headers.get(":event-type") or headers.get(":exception-type")
        kinds.append(kind)
        member = stream_shape.members.get(kind)
        if member is None:
            out.append(f"event {kind!r}: not a member of {stream_shape.name}")
            continue
        check_json(member, json.loads(message.payload or b"{}"), f"event {kind}", out)
    return kinds


def check_answer(service: str, operation: str, answer: dict, out: list[str]) -> None:
    """The raw ``answer`` (status, headers, body) of ``operation`` against the model."""
    model = _model(service)
    op = model.operation_model(operation)
    family = _family(model.protocol)
    status, headers, body = answer["status"], answer["headers"], answer["body"]
    if status < 300:
        shape = op.output_shape
        if shape is None:
            return
        check_headers(shape, headers, out)
        payload = shape.serialization.get("payload")
        if payload and shape.members[payload].type_name == "structure" \
                and shape.members[payload].serialization.get("eventstream"):
            check_event_stream(shape.members[payload], body, out)
        elif payload:
            return  # a blob payload (InvokeModel's native body): the model says nothing of its inside
        elif family == "json":
            check_json(shape, json.loads(body or b"{}"), operation, out)
        elif body:
            root = ET.fromstring(body)
            if family == "query":
                result = root.find(f"{{*}}{operation}Result")
                if result is None:
                    out.append(f"no <{operation}Result> in the answer")
                    return
                root = result
            check_xml(shape, root, operation, out)
        return
    check_error(model, op, family, status, headers, body, out)


def _error_code(family: str, headers: dict, body: bytes) -> tuple[str | None, dict | None]:
    lower = {k.lower(): v for k, v in headers.items()}
    if family == "json":
        doc = json.loads(body) if body else {}
        code = lower.get("x-amzn-query-error", "").split(";")[0] or lower.get("x-amzn-errortype") \
            or doc.get("__type") or doc.get("code")
        return (code.split(":")[0].split("#")[-1] if code else None), doc
    root = ET.fromstring(body)
    code = root.find(".//{*}Code") if root.tag.split("}")[-1] != "Code" else root
    return (code.text if code is not None else None), None


def check_error(model, op, family: str, status: int, headers: dict, body: bytes, out: list[str]) -> None:
    if op.http.get("method") == "HEAD" and not body:
        return  # an answer to HEAD has no body: the status is all a client gets
    code, doc = _error_code(family, headers, body)
    if code is None:
        out.append(f"error {status}: no error code in {body[:200]!r}")
        return
    declared = {e.metadata.get("error", {}).get("code", e.name): e for e in op.error_shapes}
    declared.update({e.name: e for e in op.error_shapes})
    shape = declared.get(code)
    if shape is None:
        if code not in _common(model):
            out.append(f"error {code} ({status}): neither declared by {op.name} nor a common error")
        members = {"message", "Message"}
    else:
        want = shape.metadata.get("error", {}).get("httpStatusCode")
        if want is not None and want != status:
            out.append(f"error {code}: HTTP {status}, the model declares {want}")
        members = set(shape.members) or {"message", "Message"}
    if doc is not None:
        unknown = set(doc) - members - {"__type", "code"}
        if unknown:
            out.append(f"error {code}: members {sorted(unknown)} are not in its shape (has {sorted(members)})")
        if shape is not None:
            for name in shape.required_members:
                if doc.get(name) is None:
                    out.append(f"error {code}: required member {name} missing")
            for name, member in shape.members.items():
                if doc.get(name) is not None:
                    check_json(member, doc[name], f"error {code}.{name}", out)


# ---------------------------------------------------------------------- capture what the sandbox answered

class _Raw(io.BytesIO):
    """What botocore reads a response from (``stream()`` for event streams, ``read()`` for blobs)."""

    def stream(self, *_a, **_k):
        yield self.getvalue()


class Recorder:
    """A boto3 client whose requests go out through urllib3 here, keeping each raw answer."""

    def __init__(self, endpoint: str, service: str, access_key: str = "AKIDWALK"):
        import urllib3

        self.answers: list[dict] = []
        self._http = urllib3.PoolManager()
        self.client = boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                                   aws_access_key_id=access_key, aws_secret_access_key="walk",
                                   config=Config(retries={"total_max_attempts": 1, "mode": "standard"},
                                                 parameter_validation=False))
        self.client.meta.events.register("before-send", self._send)

    def _send(self, request, **_kw):
        r = self._http.request(request.method, request.url, body=request.body, headers=dict(request.headers),
                               preload_content=True, redirect=False, retries=False, timeout=60)
        answer = {"status": r.status, "headers": dict(r.headers), "body": r.data}
        self.answers.append(answer)
        return AWSResponse(request.url, r.status, r.headers, _Raw(r.data))

    def call(self, operation: str, params: dict) -> dict:
        method = self.client.meta.method_to_api_mapping
        name = next(k for k, v in method.items() if v == operation)
        try:
            result = getattr(self.client, name)(**params)
            for key in ("stream", "body"):  # drain an event stream: the answer was kept whole already
                if hasattr(result.get(key), "__iter__") and not isinstance(result.get(key), (bytes, str)):
                    for _ in result[key]:
                        pass
        except ClientError:
            pass
        return self.answers[-1]


# ---------------------------------------------------------------------- the walk

def _converse(tier="priority", model=NOVA):
    return {"modelId": model, "messages": [{"role": "user", "content": [{"text": "walk"}]}],
            "inferenceConfig": {"maxTokens": 16}, "serviceTier": {"type": tier}}


def _native(model=NOVA):
    return {"modelId": model, "body": json.dumps({"messages": [{"role": "user", "content": [{"text": "walk"}]}],
                                                  "inferenceConfig": {"maxTokens": 16}})}


@pytest.fixture(scope="module")
def walked():
    thread = SandboxThread(Sandbox(speed=200.0))
    thread.start()
    sb = thread.sandbox
    bucket = sb.config.bucket
    s3 = boto3.client("s3", endpoint_url=sb.endpoint, region_name="us-east-1", aws_access_key_id="a",
                      aws_secret_access_key="b")
    s3.put_object(Bucket=bucket, Key="walk/in.jsonl", Body=b"".join(
        json.dumps({"recordId": f"r{i}", "modelInput": {"messages": [{"role": "user", "content": [{"text": "x"}]}]}})
        .encode() + b"\n" for i in range(100)))
    job = {"jobName": "walk", "roleArn": ROLE, "modelId": NOVA,
           "inputDataConfig": {"s3InputDataConfig": {"s3Uri": f"s3://{bucket}/walk/in.jsonl"}},
           "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": f"s3://{bucket}/walk/out/"}}}
    arn = boto3.client("bedrock", endpoint_url=sb.endpoint, region_name="us-east-1", aws_access_key_id="a",
                       aws_secret_access_key="b").create_model_invocation_job(**job)["jobArn"]
    # A job long enough (20,000 records at 600 a minute: 10 s at speed 200) to be still running when it is stopped.
    s3.put_object(Bucket=bucket, Key="walk/long.jsonl", Body=b"".join(
        json.dumps({"recordId": f"r{i}", "modelInput": {"messages": [{"role": "user", "content": [{"text": "x"}]}]}})
        .encode() + b"\n" for i in range(20_000)))
    long_arn = boto3.client("bedrock", endpoint_url=sb.endpoint, region_name="us-east-1", aws_access_key_id="a",
                            aws_secret_access_key="b").create_model_invocation_job(**{
        **job, "jobName": "walk-long",
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": f"s3://{bucket}/walk/long.jsonl"}}})["jobArn"]
    missing_job = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefghijkl"
    sq = boto3.client("service-quotas", endpoint_url=sb.endpoint, region_name="us-east-1",
                      aws_access_key_id="a", aws_secret_access_key="b")
    listed = sq.list_service_quotas(ServiceCode="bedrock")["Quotas"]
    quota_code, quota_code2 = listed[0]["QuotaCode"], listed[1]["QuotaCode"]
    fixed_code = next(q["QuotaCode"] for q in listed if not q["Adjustable"])
    request_id = sq.request_service_quota_increase(ServiceCode="bedrock", QuotaCode=listed[2]["QuotaCode"],
                                                   DesiredValue=1e9)["RequestedQuota"]["Id"]
    topic = boto3.client("sns", endpoint_url=sb.endpoint, region_name="us-east-1", aws_access_key_id="a",
                         aws_secret_access_key="b").create_topic(Name="walk-oncall")["TopicArn"]
    # (service, operation) -> [(label, params, expected outcome: "ok" or an error code)]
    cases = {
        ("bedrock-runtime", "Converse"): [
            ("ok", _converse(), "ok"), ("no tier", {k: v for k, v in _converse().items() if k != "serviceTier"}, "ok"),
            ("unknown model", _converse(model="nope.nope-v1:0"), "ResourceNotFoundException"),
            ("no reservation", _converse(tier="reserved"), "ValidationException")],
        ("bedrock-runtime", "ConverseStream"): [
            ("ok", _converse("flex"), "ok"), ("no reservation", _converse("reserved"), "ValidationException")],
        ("bedrock-runtime", "InvokeModel"): [
            ("ok", {**_native(), "serviceTier": "priority"}, "ok"),
            ("bad body", {"modelId": NOVA, "body": b"[" * 5000}, "ValidationException")],
        ("bedrock-runtime", "InvokeModelWithResponseStream"): [
            ("ok", _native(), "ok"), ("unknown model", _native("nope.nope-v1:0"), "ResourceNotFoundException")],
        ("bedrock-runtime", "CountTokens"): [
            ("converse", {"modelId": NOVA, "input": {"converse": {"messages": _converse()["messages"]}}}, "ok"),
            ("invokeModel", {"modelId": NOVA, "input": {"invokeModel": {"body": _native()["body"].encode()}}}, "ok"),
            ("unknown model", {"modelId": "nope.nope-v1:0", "input": {"converse": {
                "messages": _converse()["messages"]}}}, "ResourceNotFoundException")],
        ("bedrock", "CreateModelInvocationJob"): [
            ("ok", {**job, "jobName": "walk-2"}, "ok"),
            ("unknown model", {**job, "jobName": "walk-3", "modelId": "nope.nope-v1:0"}, "ResourceNotFoundException"),
            ("bad timeout", {**job, "jobName": "walk-4", "timeoutDurationInHours": 2}, "ValidationException")],
        ("bedrock", "GetModelInvocationJob"): [
            ("ok", {"jobIdentifier": arn}, "ok"),
            ("missing", {"jobIdentifier": missing_job}, "ResourceNotFoundException")],
        ("bedrock", "ListModelInvocationJobs"): [
            ("ok", {"maxResults": 1}, "ok"), ("bad token", {"nextToken": "bm9wZQ=="}, "ValidationException")],
        ("bedrock", "StopModelInvocationJob"): [
            ("ok", {"jobIdentifier": long_arn}, "ok"),
            ("missing", {"jobIdentifier": missing_job}, "ResourceNotFoundException")],
        ("bedrock", "ListFoundationModels"): [("ok", {}, "ok")],
        ("bedrock", "GetFoundationModel"): [
            ("ok", {"modelIdentifier": NOVA}, "ok"),
            ("missing", {"modelIdentifier": "nope.nope-v1:0"}, "ResourceNotFoundException")],
        ("bedrock", "ListInferenceProfiles"): [("ok", {}, "ok")],
        ("service-quotas", "ListServiceQuotas"): [
            ("ok", {"ServiceCode": "bedrock", "MaxResults": 2}, "ok"),
            ("other service", {"ServiceCode": "ec2"}, "NoSuchResourceException"),
            ("bad token", {"ServiceCode": "bedrock", "NextToken": "bm9wZQ=="}, "InvalidPaginationTokenException")],
        ("service-quotas", "ListAWSDefaultServiceQuotas"): [("ok", {"ServiceCode": "bedrock"}, "ok")],
        ("service-quotas", "GetServiceQuota"): [
            ("ok", {"ServiceCode": "bedrock", "QuotaCode": quota_code}, "ok"),
            ("missing", {"ServiceCode": "bedrock", "QuotaCode": "L-00000000"}, "NoSuchResourceException")],
        ("service-quotas", "GetAWSDefaultServiceQuota"): [
            ("ok", {"ServiceCode": "bedrock", "QuotaCode": quota_code}, "ok")],
        ("service-quotas", "RequestServiceQuotaIncrease"): [
            ("ok", {"ServiceCode": "bedrock", "QuotaCode": quota_code, "DesiredValue": 1e9}, "ok"),
            ("open already", {"ServiceCode": "bedrock", "QuotaCode": quota_code, "DesiredValue": 2e9},
             "ResourceAlreadyExistsException"),
            ("not above", {"ServiceCode": "bedrock", "QuotaCode": quota_code2, "DesiredValue": 1.0},
             "IllegalArgumentException"),
            ("not adjustable", {"ServiceCode": "bedrock", "QuotaCode": fixed_code, "DesiredValue": 1e6},
             "IllegalArgumentException"),
            ("missing", {"ServiceCode": "bedrock", "QuotaCode": "L-00000000", "DesiredValue": 1e9},
             "NoSuchResourceException"),
            ("bad value", {"ServiceCode": "bedrock", "QuotaCode": quota_code2, "DesiredValue": -1.0},
             "IllegalArgumentException")],
        ("service-quotas", "ListRequestedServiceQuotaChangeHistory"): [
            ("ok", {"ServiceCode": "bedrock", "MaxResults": 1}, "ok"),
            ("bad token", {"ServiceCode": "bedrock", "NextToken": "bm9wZQ=="}, "InvalidPaginationTokenException")],
        ("service-quotas", "ListRequestedServiceQuotaChangeHistoryByQuota"): [
            ("ok", {"ServiceCode": "bedrock", "QuotaCode": quota_code}, "ok"),
            ("missing", {"ServiceCode": "bedrock", "QuotaCode": "L-00000000"}, "NoSuchResourceException")],
        ("service-quotas", "GetRequestedServiceQuotaChange"): [
            ("ok", {"RequestId": request_id}, "ok"),
            ("missing", {"RequestId": "0" * 32}, "NoSuchResourceException")],
        ("cloudwatch", "PutMetricData"): [
            ("ok", {"Namespace": "Walk", "MetricData": [{"MetricName": "m", "Value": 1.0}]}, "ok")],
        ("cloudwatch", "ListMetrics"): [("ok", {"Namespace": "Walk"}, "ok")],
        ("cloudwatch", "GetMetricData"): [
            ("ok", {"MetricDataQueries": [{"Id": "m1", "MetricStat": {
                "Metric": {"Namespace": "Walk", "MetricName": "m"}, "Period": 60, "Stat": "Sum"}}],
                    "StartTime": datetime(2026, 1, 1), "EndTime": datetime(2026, 1, 2)}, "ok")],
        ("sts", "GetCallerIdentity"): [("ok", {}, "ok")],
        ("sns", "CreateTopic"): [
            ("ok", {"Name": "walk-alerts"}, "ok"), ("bad name", {"Name": "bad name!"}, "InvalidParameter")],
        ("sns", "Publish"): [
            ("ok", {"TopicArn": topic, "Message": "walk", "Subject": "walk"}, "ok"),
            ("missing topic", {"TopicArn": topic + "-none", "Message": "walk"}, "NotFound"),
            ("no message", {"TopicArn": topic}, "InvalidParameter")],
        ("sns", "ListTopics"): [("ok", {}, "ok")],
        ("s3", "PutObject"): [("ok", {"Bucket": bucket, "Key": "walk/a.txt", "Body": b"0123456789"}, "ok")],
        ("s3", "HeadObject"): [("ok", {"Bucket": bucket, "Key": "walk/in.jsonl"}, "ok")],
        ("s3", "GetObject"): [
            ("ok", {"Bucket": bucket, "Key": "walk/in.jsonl"}, "ok"),
            ("range", {"Bucket": bucket, "Key": "walk/in.jsonl", "Range": "bytes=0-9"}, "ok"),
            ("missing", {"Bucket": bucket, "Key": "walk/none"}, "NoSuchKey")],
        ("s3", "ListObjectsV2"): [
            ("ok", {"Bucket": bucket, "Prefix": "walk/"}, "ok"),
            ("missing bucket", {"Bucket": "no-such-bucket-walk"}, "NoSuchBucket")],
    }
    results = []
    for (service, operation), calls in cases.items():
        rec = Recorder(sb.endpoint, service)
        for label, params, expected in calls:
            results.append((service, operation, label, expected, rec.call(operation, params)))
        first_ok = next(params for _, params, expected in calls if expected == "ok")
        for kind in FAULT_KINDS:  # the same good request, failed by each fault kind
            # botocore sends a HeadObject that failed with a body-less 400 once more (its S3 region redirect):
            # the fault holds for both, as a real expired token would.
            count = 2 if operation == "HeadObject" else 1
            sb.faults.rules = parse_faults(f"{kind}#{count}:{SIGNING[service]}")
            results.append((service, operation, f"fault {kind}", "error", rec.call(operation, first_ok)))
            sb.faults.rules = []
    yield results
    thread.stop()


def _ids(results):
    return [f"{s}.{o}[{label}]" for s, o, label, _, _ in results]


def test_every_answer_matches_the_model(walked):
    problems = problems_of(walked)
    assert not problems, "\n".join(problems)


def problems_of(walked) -> list[str]:
    """What is wrong with each walked answer: (service, operation, label, expected, answer), expected being
    "ok", "error" (an injected fault) or the error code."""
    problems = []
    for service, operation, label, expected, answer in walked:
        out: list[str] = []
        ok = answer["status"] < 300
        if expected == "ok" and not ok:
            out.append(f"expected success, got {answer['status']}: {answer['body'][:200]!r}")
        elif expected not in ("ok", "error"):
            model = _model(service)
            code, _ = _error_code(_family(model.protocol), answer["headers"], answer["body"]) \
                if not ok and answer["body"] else (None, 0)
            if code != expected:
                out.append(f"expected {expected}, got {answer['status']} {code}")
        elif expected == "error" and ok:
            out.append("expected the injected fault, got a success")
        if answer["status"] >= 500 and expected != "error":
            out.append(f"HTTP {answer['status']}")
        check_answer(service, operation, answer, out)
        problems += [f"{service}.{operation}[{label}]: {p}" for p in out]
    return problems


def test_the_walk_covers_every_operation_the_sandbox_serves(walked):
    walked_ops = {(s, o) for s, o, _, _, _ in walked}
    assert {("bedrock-runtime", op) for op in ("Converse", "ConverseStream", "InvokeModel",
                                               "InvokeModelWithResponseStream", "CountTokens")} <= walked_ops
    assert len(walked_ops) >= 20
    assert {("service-quotas", op) for op in (
        "RequestServiceQuotaIncrease", "ListRequestedServiceQuotaChangeHistory",
        "ListRequestedServiceQuotaChangeHistoryByQuota", "GetRequestedServiceQuotaChange")} <= walked_ops


