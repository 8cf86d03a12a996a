"""What the sandbox checks before it hands a request to moto (S3, STS, CloudWatch).

moto trusts its input: a CloudWatch JSON body without ``StartTime``, an STS ``Action`` it does not
know, ``max-keys=abc`` or a POST to an S3 object key raise inside moto (a 500), and a bucket
policy it cannot parse is stored and then breaks every later request to that bucket. So each
request is first checked the way the AWS service checks it, driven by botocore's models:

============ =====================================================================================
protocol     checks (error codes are the ones the AWS service answers with)
============ =====================================================================================
JSON         CloudWatch awsJson1.0: known operation (``UnknownOperationException``), body read by
             the bounded :func:`~.http.parse_json`, members conformed to the input shape
             (``MissingParameter`` / ``InvalidParameterValue``)
query        STS, SNS and CloudWatch form posts: ``Action`` present (``MissingAction``) and known
             (``InvalidAction``), top-level members present and well-typed (STS ``ValidationError``,
             CloudWatch ``MissingParameter`` / ``InvalidParameterValue``)
S3 (REST)    virtual-hosted requests read path-style, names of new buckets (``InvalidBucketName``), integer query parameters (``InvalidArgument``),
             POST only where an operation takes it
             (``MethodNotAllowed``, 405), bucket policies (``MalformedPolicy``: JSON, grammar by
             moto's IAM policy validator, and a trial evaluation by moto's own evaluator, so that
             a stored policy can never fail a later request), values S3 refuses and moto would store
             (:mod:`.s3_config`: versioning status, lifecycle days, location constraint, canned ACL)
============ =====================================================================================

Whatever still fails inside moto is answered by the bridge with a 4xx naming the failure
(:func:`moto_failure`), never a 500.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from ..config import bucket_name_problem
from ..http import AwsError, Call
from ..shapes import conform, service_model
from .s3_config import check_bucket_policy, check_s3_config

BOTOCORE_NAMES = {"s3": "s3", "sts": "sts", "monitoring": "cloudwatch", "sns": "sns"}
#: What the sandbox's SNS keeps at most (checked before moto: the errors CreateTopic and Subscribe declare).
MAX_SNS_TOPICS = 1000
MAX_SNS_SUBSCRIPTIONS = 10_000
S3_INT_MAX = 2**31 - 1
_LINE_BREAK = re.compile("[\r\n\x85\u2028\u2029]")  # in a key: listed back changed (XML) or unroutable (moto)


def protocol(call: Call) -> str:
    """How the request is serialized: ``s3``, ``json``, ``cbor`` or ``query``."""
    if call.service == "s3":
        return "s3"
    if call.request.headers.get("X-Amz-Target"):
        return "json"
    if call.request.path.startswith("/service/") or call.request.headers.get("smithy-protocol") == "rpc-v2-cbor":
        return "cbor"
    return "query"


def check(call: Call) -> str:
    """Check ``call`` before moto sees it; returns the operation name for the access log."""
    kind = protocol(call)
    if kind == "json":
        return _check_json(call)
    if kind == "query":
        return _check_query(call)
    if kind == "s3":
        _check_s3(call)
        return call.request.path.rsplit("/", 1)[-1] or call.request.method
    return call.request.path.rsplit("/", 1)[-1]  # CBOR: moto decodes it; failures are mapped after


# ---------------------------------------------------------------------- JSON (CloudWatch awsJson1.0)

def _check_json(call: Call) -> str:
    model = service_model(BOTOCORE_NAMES[call.service])
    prefix, _, op = call.request.headers["X-Amz-Target"].partition(".")
    if prefix != model.metadata.get("targetPrefix") or op not in model.operation_names:
        raise AwsError("UnknownOperationException",
                       f"The sandbox's {model.metadata['serviceId']} does not know operation "
                       f"{call.request.headers['X-Amz-Target'][:100]!r}", 400)
    body = call.json()  # the bounded parser; InvalidParameterValue for monitoring
    conform(model.operation_model(op).input_shape, body, code="InvalidParameterValue",
            missing_code="MissingParameter")
    return op


# ---------------------------------------------------------------------- query (STS, CloudWatch)

def query_params(call: Call) -> dict[str, str]:
    """The parameters of a query-protocol request: the query string, then the form body."""
    params = dict(call.request.query)
    if call.body and call.request.content_type == "application/x-www-form-urlencoded":
        params.update(parse_qsl(call.body.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def _scalar(member, text: str) -> Any:
    """A query-string value as the member's type, or the text itself when it does not convert
    (the shape check then names it)."""
    kind = member.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            value = float(text)
            return value if value == value and abs(value) != float("inf") else text
    except ValueError:
        return text
    if kind == "boolean":
        return {"true": True, "false": False}.get(text, text)
    return text


def _check_query(call: Call) -> str:
    model = service_model(BOTOCORE_NAMES[call.service])
    params = query_params(call)
    action = params.get("Action")
    if not action:
        raise AwsError("MissingAction", "The request must contain the parameter Action.", 400)
    if action not in model.operation_names:
        raise AwsError("InvalidAction", f"Could not find operation {action[:100]!r} for version "
                       f"{params.get('Version', model.api_version)[:40]}", 400)
    shape = model.operation_model(action).input_shape
    if shape is None:
        return action
    values: dict[str, Any] = {}
    for name, member in shape.members.items():
        wire = member.serialization.get("name", name)
        if wire in params and member.type_name not in ("structure", "list", "map"):
            values[name] = _scalar(member, params[wire])
        elif any(key.startswith(wire + ".") for key in params):
            values[name] = _PRESENT  # a flattened list/map/structure: moto reads it; present is enough here
    missing = [n for n in shape.required_members if n not in values]
    for name in missing:
        values[name] = None
    scalars = {n: v for n, v in values.items() if v is not _PRESENT}
    code = {"sts": "ValidationError", "sns": "InvalidParameter"}.get(call.service, "InvalidParameterValue")
    conform(shape, scalars, code=code, missing_code=None if call.service in ("sts", "sns") else "MissingParameter",
            names=[n for n in scalars])
    if call.service == "sns":
        _check_sns_limits(call, action, params)
    return action


def _check_sns_limits(call: Call, action: str, params: dict[str, str]) -> None:
    """Topics and subscriptions are kept within bounds, refused with the errors the operations declare."""
    if action not in ("CreateTopic", "Subscribe"):
        return
    from moto.sns.models import sns_backends  # noqa: PLC0415 - moto is already loaded by the bridge

    backend = sns_backends[call.request.headers.get("x-moto-account-id") or "123456789012"][call.region]
    if action == "CreateTopic" and len(backend.topics) >= MAX_SNS_TOPICS and not any(
            arn.rsplit(":", 1)[-1] == params.get("Name") for arn in backend.topics):
        raise AwsError("TopicLimitExceeded", f"Topic limit exceeded: the sandbox keeps {MAX_SNS_TOPICS:,} topics",
                       403)
    if action == "Subscribe" and len(backend.subscriptions) >= MAX_SNS_SUBSCRIPTIONS:
        raise AwsError("SubscriptionLimitExceeded", f"Subscription limit exceeded: the sandbox keeps "
                                                    f"{MAX_SNS_SUBSCRIPTIONS:,} subscriptions", 403)


_PRESENT = object()


# ---------------------------------------------------------------------- S3 (rest-xml)

@lru_cache(maxsize=1)
def _s3_rules() -> tuple[dict[str, tuple[int, int]], frozenset[str]]:
    """(integer query parameters with their ranges, query markers that make a POST to an object key valid)."""
    model = service_model("s3")
    ints: dict[str, tuple[int, int]] = {}
    markers: set[str] = set()
    for op in model.operation_names:
        om = model.operation_model(op)
        shape = om.input_shape
        members = shape.members.values() if shape is not None else ()
        for m in members:
            if m.serialization.get("location") == "querystring" and m.type_name in ("integer", "long"):
                ints[m.serialization["name"]] = (max(0, m.metadata.get("min", 0)),
                                                 min(S3_INT_MAX, m.metadata.get("max", S3_INT_MAX)))
        uri = om.http.get("requestUri", "")
        if om.http.get("method") == "POST" and "{Key+}" in uri:
            query = uri.partition("?")[2]
            markers.update(part.partition("=")[0] for part in query.split("&") if part)
            if shape is not None:
                markers.update(shape.members[n].serialization["name"] for n in shape.required_members
                               if shape.members[n].serialization.get("location") == "querystring")
    return ints, frozenset(markers)


#: What an HTTP header value cannot carry here: control characters (but tab), and anything beyond Latin-1 (the
#: server writes header values as Latin-1 bytes).
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\u0100-\U0010ffff]")


def _s3_error(code: str, message: str, status: int = 400) -> AwsError:
    return AwsError(code, message, status)


def path_style(call: Call) -> None:
    """A virtual-hosted request (the bucket in the Host header, ``bucket.localhost:4599`` or an AWS host name) as
    the path-style one moto would make of it (``/bucket/key``), so that every check reads the bucket and key moto
    uses; the bridge then gives moto a host it reads path-style."""
    from moto.s3.responses import S3Response  # noqa: PLC0415 - moto is loaded with the bridge anyway
    from moto.s3.utils import bucket_name_from_url  # noqa: PLC0415

    host = call.request.headers.get("Host", "")
    probe = type("HostOnly", (), {"headers": {"host": host}, "url": f"http://{host}/"})
    bucket = bucket_name_from_url(f"http://{host}/") if host and S3Response.subdomain_based_buckets(probe) else None
    if bucket:
        call.request.path = f"/{bucket}" + ("" if call.request.path == "/" else call.request.path)


def _check_s3(call: Call) -> None:
    path_style(call)
    req = call.request
    ints, markers = _s3_rules()
    for name, value in req.query.items():
        if name in ints:
            lo, hi = ints[name]
            if not re.fullmatch(r"-?\d{1,12}", value) or not lo <= int(value) <= hi:
                raise _s3_error("InvalidArgument", f"Provided {name} not an integer or within integer range "
                                f"({lo} to {hi}): {value[:40]!r}")
        if name.startswith("response-") and CONTROL_CHARS.search(value):
            # GetObject echoes response-* overrides as response headers; a control character cannot be one.
            raise _s3_error("InvalidArgument", f"Query parameter {name} holds a character an HTTP header cannot carry "
                            f"(a control character, or one beyond Latin-1): {value[:40]!r}")
    segments = req.path.lstrip("/").split("/", 1)
    bucket, key = segments[0], (segments[1] if len(segments) > 1 else "")
    if req.method == "POST" and bucket and key and not markers.intersection(req.query):
        raise _s3_error("MethodNotAllowed", "The specified method is not allowed against this resource.", 405)
    if req.method == "PUT" and bucket and not key and bucket_name_problem(bucket):
        # No bucket has such a name (moto checks only the length): one holding a control character made every
        # later ListBuckets an XML document no client can parse (botocore reports it as a 500).
        raise _s3_error("InvalidBucketName", f"The specified bucket is not valid: {bucket_name_problem(bucket)}.")
    if req.method == "PUT" and bucket and not key and "policy" in req.query:
        check_bucket_policy(call.body, bucket)
    elif req.method in ("PUT", "POST") and bucket:
        _check_stored_text(call, key)
        check_s3_config(call, key)  # values moto would store as given, which S3 refuses
    if req.method in ("PUT", "POST") and req.http_version.startswith("1") and "Content-Length" not in req.headers \
            and "chunked" not in req.headers.get("Transfer-Encoding", "").lower():  # (HTTP/2 frames the body)
        raise _s3_error("MissingContentLength", "You must provide the Content-Length HTTP header.", 411)
    framed = "aws-chunked" in req.headers.get("Content-Encoding", "") \
        or req.headers.get("x-amz-content-sha256", "").startswith("STREAMING-")
    if "Content-MD5" in req.headers and req.method in ("PUT", "POST") and not framed:
        _check_content_md5(req.headers["Content-MD5"], call.body)


#: What XML 1.0 cannot carry (moto writes stored text into its XML answers as it is).
XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CHAR_REF = re.compile(r"&#(?:x([0-9a-fA-F]{1,8})|([0-9]{1,10}));")
_XML_BODIES = frozenset({"tagging", "acl", "retention", "legal-hold", "restore", "select", "delete", "uploadId",
                         "website", "cors", "lifecycle", "logging", "notification", "replication", "versioning",
                         "encryption", "ownershipControls", "requestPayment", "accelerate", "object-lock",
                         "publicAccessBlock", "analytics", "inventory", "metrics", "intelligent-tiering"})
_HEADERS_KEPT = ("x-amz-meta-", "content-", "cache-control", "expires", "x-amz-website-redirect-location",
                 "x-amz-tagging", "x-amz-storage-class", "x-amz-object-lock")


def _check_stored_text(call: Call, key: str) -> None:
    """Refuse text moto would store and later write into an XML answer or a header no client can read (a key,
    metadata, a tag, a configuration holding a control character): every later listing or read of it failed."""
    req = call.request
    xml_body = _XML_BODIES.intersection(req.query) and not (req.method == "PUT" and "uploadId" in req.query)
    if xml_body:
        text = call.body.decode("utf-8", "replace")
        if XML_INVALID.search(text) or any(XML_INVALID.search(_char(m)) for m in _CHAR_REF.finditer(text)):
            raise _s3_error("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                                            "our published schema (it holds a character XML 1.0 cannot carry).")
        return
    if not key and req.method == "PUT":
        return
    if key and (req.method == "PUT" or "uploads" in req.query):  # an object (or an upload) is named by its key
        if len(key.encode("utf-8", "surrogatepass")) > 1024:
            raise _s3_error("KeyTooLongError", "Your key is too long (at most 1,024 bytes of UTF-8).")
        if XML_INVALID.search(key) or _LINE_BREAK.search(key):
            raise _s3_error("InvalidArgument", "Object key holds a control character or line break (XML turns \\r "
                            f"into \\n, and moto cannot address it again): {key[:40]!r}")
    for name, value in req.headers.items():
        lower = name.lower()
        if lower.startswith(_HEADERS_KEPT) and CONTROL_CHARS.search(value):
            raise _s3_error("InvalidArgument", f"Header {name[:60]} holds a control character: {value[:40]!r}")
        if lower == "x-amz-tagging" and any(XML_INVALID.search(k + v) for k, v in parse_qsl(value, True)):
            raise _s3_error("InvalidTag", "The TagValue you have provided is invalid (a control character).")


def _char(match: re.Match) -> str:
    """The character an XML character reference names (NUL, which XML cannot carry either, past Unicode)."""
    code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
    return chr(code) if code <= 0x10FFFF else "\x00"


def _check_content_md5(given: str, body: bytes) -> None:
    """S3's answer to a Content-MD5 that is not a base64 MD5 (InvalidDigest) or not the body's (BadDigest);
    nothing is stored. (A streaming-signed, aws-chunked body is still framed here: moto checks that one.)"""
    try:
        digest = base64.b64decode(given, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise _s3_error("InvalidDigest", "The Content-MD5 you specified was invalid.")
    if hashlib.md5(body).digest() != digest:  # S3's integrity check, not security
        raise _s3_error("BadDigest", "The Content-MD5 you specified did not match what we received.")


# ---------------------------------------------------------------------- what moto still fails on

def moto_failure(call: Call, operation: str, exc: BaseException | None, status: int | None = None) -> AwsError:
    """A 4xx for a request moto could not process (it raised, or answered 5xx), named as the service does."""
    service = {"s3": "S3", "sts": "STS", "monitoring": "CloudWatch", "sns": "SNS"}.get(call.service, call.service)
    if isinstance(exc, NotImplementedError):
        code = "InvalidAction" if protocol(call) == "query" else (
            "NotImplemented" if call.service == "s3" else "UnknownOperationException")
        return AwsError(code, f"The sandbox's {service} (moto) does not implement {operation[:100]}", 400)
    if call.service == "s3" and exc is not None:
        known = _s3_failure(call, exc)
        if known is not None:
            return known
    code = {"s3": "InvalidRequest", "sts": "ValidationError", "sns": "InvalidParameter"}.get(
        call.service, "InvalidParameterValue")
    what = f"{type(exc).__name__}: {str(exc)[:200]}" if exc is not None else f"moto answered {status}"
    return AwsError(code, f"The sandbox's {service} could not process this {operation[:100]} request; check its "
                          f"parameters against the API reference ({what})", 400)


def _s3_failure(call: Call, exc: BaseException) -> AwsError | None:
    """S3's own error for what moto raised on, where S3 has one: an unknown multipart upload id (moto: KeyError)
    is ``NoSuchUpload``, a continuation token no listing gave ``InvalidArgument``, a body XML cannot parse or one declaring entities is ``MalformedXML``."""
    upload = call.request.query.get("uploadId")
    if isinstance(exc, KeyError) and upload is not None and exc.args and exc.args[0] == upload:
        return _s3_error("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the "
                                         "upload may have been aborted or completed.", 404)
    if call.request.method == "GET" and call.request.query.get("continuation-token") and isinstance(exc, TypeError):
        # a token the bucket never gave (moto finds no listing for it, then compares with None)
        return _s3_error("InvalidArgument", "The continuation token provided is incorrect")
    if type(exc).__name__ in ("ExpatError", "ParseError") or "entities are disabled" in str(exc) or "DTD" in str(exc):
        return _s3_error("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                                         "published schema.")
    return None
