"""What every sandbox handler receives, and AWS-shaped error responses for every protocol."""
from __future__ import annotations

import json
import math
import re
import uuid
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy

from . import eventstream

if TYPE_CHECKING:  # pragma: no cover
    from ..core.domain.routes import Route

_SCOPE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")


# ---------------------------------------------------------------------- requests and responses (ASGI)

Send = Callable[[dict], Awaitable[None]]


class Request:
    """One HTTP request as the sandbox's handlers read it (built from an ASGI scope; any HTTP version)."""

    def __init__(self, scope: dict, send: Send, *, abort: Callable[[], None],
                 decorate: Callable[["Response"], None]):
        self.method: str = scope["method"]
        self.path: str = scope["path"]  # percent-decoded
        self.query_string: str = scope.get("query_string", b"").decode("latin-1")
        raw = scope.get("raw_path") or scope["path"].encode()
        self.raw_path: str = raw.decode("latin-1") + (f"?{self.query_string}" if self.query_string else "")
        self.headers = CIMultiDictProxy(CIMultiDict((k.decode("latin-1"), v.decode("latin-1"))
                                                    for k, v in scope.get("headers", ())))
        self.query = MultiDictProxy(MultiDict(parse_qsl(self.query_string, keep_blank_values=True)))
        media = self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        self.content_type: str = media or "application/octet-stream"
        self.http_version: str = scope.get("http_version", "1.1")
        self.client = scope.get("client")
        self.finished = False  # the whole answer has been handed to the server
        self._send = send
        self._abort = abort
        self._decorate = decorate  # the headers every response carries (one place: Sandbox.common_headers)

    def abort(self) -> None:
        """Drop the connection now, as a reset (faults)."""
        self._abort()


class Response:
    """A whole answer: status, headers, body (``text`` is sent as UTF-8)."""

    def __init__(self, *, status: int = 200, body: bytes | str | None = None, text: str | None = None,
                 content_type: str | None = None, headers: Any = None):
        self.status = status
        self.headers = CIMultiDict(headers or {})
        if text is not None:
            body = text.encode("utf-8")
            content_type = f"{content_type or 'text/plain'}; charset=utf-8"
        elif isinstance(body, str):
            body = body.encode("utf-8")
        self.body: bytes = body or b""
        if content_type and "Content-Type" not in self.headers:
            self.headers["Content-Type"] = content_type
        self.prepared = False

    def _start(self, request: Request, length: int | None) -> dict:
        request._decorate(self)
        if length is not None and "Content-Length" not in self.headers:
            self.headers["Content-Length"] = str(length)
        return {"type": "http.response.start", "status": self.status,
                "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]}

    async def send(self, request: Request) -> None:
        """Send it whole (Content-Length as given, e.g. a HEAD's, or the body's)."""
        self.prepared = True
        await request._send(self._start(request, len(self.body)))
        request.finished = True
        await request._send({"type": "http.response.body", "body": self.body, "more_body": False})


class StreamResponse(Response):
    """An answer sent as it is produced (event streams): :meth:`prepare`, :meth:`write`…, :meth:`write_eof`."""

    def __init__(self, *, status: int = 200, headers: Any = None):
        super().__init__(status=status, headers=headers)
        self._request: Request | None = None

    async def prepare(self, request: Request) -> None:
        if self.prepared:
            return
        self.prepared = True
        self._request = request
        await request._send(self._start(request, None))

    async def write(self, data: bytes) -> None:
        await self._request._send({"type": "http.response.body", "body": data, "more_body": True})

    async def write_eof(self) -> None:
        self._request.finished = True
        await self._request._send({"type": "http.response.body", "body": b"", "more_body": False})


@dataclass
class Call:
    """One HTTP request to the sandbox's single endpoint, already routed to a service."""

    request: Request
    body: bytes
    service: str  # SigV4 signing name: bedrock, s3, sts, monitoring, servicequotas, ...
    region: str
    access_key: str | None
    account: str = ""  # the account the call acts in (a fleet sandbox tells it from the access key)
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    operation: str = ""  # set by the handler once it knows, for the access log
    model_id: str | None = None  # the model the call runs on (a runtime call's resolved route)
    identifier: str | None = None  # a runtime call's model identifier as called (id, ARN, profile)
    route: "Route | None" = None  # a runtime call's resolved route
    asked_tier: str | None = None
    served_tier: str | None = None
    stream_fault: str | None = None  # "badframe" or "cut": what to do to a streamed answer
    ended: tuple[int, str] | None = None  # (status, error) of a stream cut after its 200 header was sent
    quota: str | None = None  # the name of the quota that throttled the call, for the access log

    @property
    def validation_error(self) -> str:
        """The error code this service declares for a malformed or invalid request."""
        return VALIDATION_ERRORS.get(self.service, "ValidationException")

    def json(self) -> dict:
        """The body as a JSON object (through :func:`parse_json`), or the service's validation error."""
        if self.request.content_type == eventstream.CONTENT_TYPE:
            problem = eventstream.frame_problem(self.body)
            raise AwsError(self.validation_error, "Malformed input request: " + (
                f"bad event-stream {problem}" if problem else
                "this operation takes a JSON body, not an event stream (event-stream input is for "
                "InvokeModelWithBidirectionalStream, which needs HTTP/2 and which the sandbox does not serve)"), 400)
        if not self.body:
            return {}
        try:
            value = parse_json(self.body)
        except BadJson as exc:
            raise AwsError(self.validation_error, f"Malformed input request: {exc}", 400) from None
        if not isinstance(value, dict):
            raise AwsError(self.validation_error, "Malformed input request: body must be a JSON object", 400)
        return value


def inflate(body: bytes, error_code: str, limit: int) -> bytes:
    """A ``Content-Encoding: gzip`` request body inflated, as AWS reads what botocore compresses (the model's
    ``requestcompression`` trait: CloudWatch PutMetricData of 10 KiB or more). Never more than ``limit``
    bytes are inflated; past it, or when the body is not whole gzip, an :class:`AwsError` ``error_code`` 400."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise AwsError(error_code, f"the body is marked Content-Encoding: gzip but is not gzip ({exc})", 400) from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise AwsError(error_code, f"the gzip body inflates past the sandbox's limit of {limit // (1024 * 1024)} "
                                   "MiB", 400)
    if not inflater.eof:
        raise AwsError(error_code, "the body is marked Content-Encoding: gzip but is not whole gzip (cut short)", 400)
    return out


# ---------------------------------------------------------------------- the one JSON parser

MAX_JSON_DEPTH = 100  # arrays and objects nested deeper are refused (far below Python's recursion limit)
MAX_INT_DIGITS = 100  # integer literals longer than this are refused (AWS integers are at most 64-bit)
_SURROGATE = re.compile("[\ud800-\udfff]")

# Services whose models declare another name for "the request is invalid".
VALIDATION_ERRORS = {"servicequotas": "IllegalArgumentException", "monitoring": "InvalidParameterValue",
                     "oam": "InvalidParameterException",
                     "sts": "ValidationError", "s3": "InvalidArgument", "sns": "InvalidParameter"}


class BadJson(ValueError):
    """A request body (or a token inside one) that is not JSON the sandbox accepts; says why."""


def _int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise BadJson(f"an integer literal of {digits} digits (the limit is {MAX_INT_DIGITS})")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise BadJson(f"the number {text[:40]} is out of range")
    return value


def _constant(name: str):
    raise BadJson(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_int=_int, parse_float=_float, parse_constant=_constant)


def _where(trail) -> str:
    parts = []
    while trail is not None:
        trail, key = trail
        parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    return "".join(reversed(parts)).lstrip(".") or "the body"


def parse_json(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH):
    """JSON as every sandbox handler reads it: UTF-8, at most ``max_depth`` levels deep, integer
    literals of at most :data:`MAX_INT_DIGITS` digits, finite numbers, no NaN/Infinity and no lone
    UTF-16 surrogates in strings or keys. Raises :class:`BadJson` naming the problem (and the
    member, where it is known); never RecursionError or a bare ValueError."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadJson(f"not UTF-8 (byte {exc.start})") from None
    try:
        value = _DECODER.decode(data)
    except BadJson:
        raise
    except RecursionError:
        raise BadJson(f"JSON nested deeper than {max_depth} levels") from None
    except json.JSONDecodeError as exc:
        raise BadJson(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except ValueError as exc:  # e.g. a number Python will not convert
        raise BadJson(f"not valid JSON ({str(exc)[:120]})") from None
    # One iterative walk: depth and surrogates (json has no hook for either).
    stack = [(value, 1, None)]
    while stack:
        node, depth, trail = stack.pop()
        if isinstance(node, dict):
            items = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            continue
        if depth > max_depth:
            raise BadJson(f"JSON nested deeper than {max_depth} levels at {_where(trail)}")
        for key, child in items:
            here = (trail, key)
            if isinstance(key, str) and _SURROGATE.search(key):
                raise BadJson(f"{_where(trail)}: a member name holds a lone UTF-16 surrogate, which is not "
                              "valid Unicode")
            if isinstance(child, str):
                lone = _SURROGATE.search(child)
                if lone:
                    raise BadJson(f"{_where(here)}: a lone UTF-16 surrogate ({lone.group()!a}) is not valid Unicode")
            elif isinstance(child, (dict, list)):
                stack.append((child, depth + 1, here))
    return value


def parse_scope(authorization: str | None) -> tuple[str | None, str | None, str | None]:
    """(access key, region, service) from a SigV4 Authorization header, or Nones."""
    if not authorization:
        return None, None, None
    m = _SCOPE.search(authorization)
    if not m:
        return None, None, None
    return m.group(1), m.group(3), m.group(4)


class AwsError(Exception):
    """Raise in a handler to answer with an AWS-shaped error."""

    def __init__(self, code: str, message: str, status: int = 400, extra: dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra or {}  # S3's further elements of an error (``ArgumentName``, ``ArgumentValue``)


MAX_ERROR_MESSAGE = 4000  # characters: an error message never grows with what the client sent
# Characters XML 1.0 cannot carry, and lone surrogates (no encoding can carry them).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str, limit: int) -> str:
    """``text`` safe in any response or log line: at most ``limit`` characters, nothing unencodable."""
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return _UNPRINTABLE.sub("\ufffd", text)


# Services that speak XML errors (query and rest-xml protocols).
_XML_SERVICES = {"sts", "s3", "iam", "sqs", "sns", "ec2", "rds", "elasticloadbalancing", "cloudformation"}


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    n = len(data)
    if n < 24:
        head = bytes([0x60 | n])
    elif n < 256:
        head = bytes([0x78, n])
    else:
        head = bytes([0x79]) + n.to_bytes(2, "big")
    return head + data


def cbor_error(code: str, message: str, member: str = "message") -> bytes:
    """``{"__type": code, member: message}`` in CBOR, as smithy-rpc-v2-cbor errors are."""
    return bytes([0xA2]) + _cbor_text("__type") + _cbor_text(code) + _cbor_text(member) + _cbor_text(message[:60000])


def error_response(code: str, message: str, status: int, *, service: str | None, request_id: str,
                   cbor: bool = False, query: bool = False, extra: dict[str, str] | None = None) -> Response:
    """The error as the request's protocol carries it (``query``: a form-encoded query-protocol request)."""
    message = clean_text(message, MAX_ERROR_MESSAGE)
    from .botomodel import error_message_member  # noqa: PLC0415 - botocore's models, loaded with the first error

    member = error_message_member(service, code)  # as the model's error shape names it ("Message", "message")
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": code}
    if service == "monitoring":  # awsQueryCompatible (CBOR and JSON): botocore takes the code from this header
        headers["x-amzn-query-error"] = f"{code};{'Receiver' if status >= 500 else 'Sender'}"
    if cbor:  # CloudWatch as current botocore speaks it
        headers["smithy-protocol"] = "rpc-v2-cbor"
        return Response(status=status, body=cbor_error(code, message, member), content_type="application/cbor",
                            headers=headers)
    if service in _XML_SERVICES or query and service == "monitoring":  # CloudWatch also speaks query
        if service == "s3":
            more = "".join(f"<{k}>{escape(clean_text(v, 200))}</{k}>" for k, v in (extra or {}).items())
            body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{escape(code)}</Code>"
                    f"<Message>{escape(message)}</Message>{more}<RequestId>{request_id}</RequestId></Error>")
        else:
            fault = "Receiver" if status >= 500 else "Sender"
            body = (f"<ErrorResponse><Error><Type>{fault}</Type><Code>{escape(code)}</Code>"
                    f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")
        return Response(status=status, text=body, content_type="text/xml", headers=headers)
    payload = {member: message}
    if service in ("servicequotas", "monitoring"):
        payload["__type"] = code  # awsJson protocols carry the code in the body
    return Response(status=status, text=json.dumps(payload), content_type="application/json", headers=headers)
