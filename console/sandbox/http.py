"""What every sandbox handler receives, and AWS-shaped error responses for every protocol."""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from aiohttp import web

from . import eventstream

if TYPE_CHECKING:  # pragma: no cover
    from .app import Sandbox

_SCOPE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")


@dataclass
class Call:
    """One HTTP request to the sandbox's single endpoint, already routed to a service."""

    request: web.Request
    body: bytes
    service: str  # SigV4 signing name: bedrock, s3, sts, monitoring, servicequotas, ...
    region: str
    access_key: str | None
    sandbox: "Sandbox"
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    operation: str = ""  # set by the handler once it knows, for the access log
    model_id: str | None = None
    asked_tier: str | None = None
    served_tier: str | None = None
    stream_fault: str | None = None  # "badframe" or "cut": what to do to a streamed answer

    def json(self) -> dict:
        """The body as a JSON object, or a ValidationException naming what is wrong."""
        if self.request.content_type == eventstream.CONTENT_TYPE:
            problem = eventstream.frame_problem(self.body)
            raise AwsError("ValidationException", "Malformed input request: " + (
                f"bad event-stream {problem}" if problem else
                "this operation takes a JSON body, not an event stream (event-stream input is for "
                "InvokeModelWithBidirectionalStream, which needs HTTP/2 and which the sandbox does not serve)"), 400)
        if not self.body:
            return {}
        try:
            value = json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AwsError("ValidationException", f"Malformed input request: body is not valid JSON ({exc})", 400)
        if not isinstance(value, dict):
            raise AwsError("ValidationException", "Malformed input request: body must be a JSON object", 400)
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

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


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


def cbor_error(code: str, message: str) -> bytes:
    """``{"__type": code, "message": message}`` in CBOR, as smithy-rpc-v2-cbor errors are."""
    return bytes([0xA2]) + _cbor_text("__type") + _cbor_text(code) + _cbor_text("message") + _cbor_text(message[:60000])


def error_response(code: str, message: str, status: int, *, service: str | None, request_id: str,
                   cbor: bool = False) -> web.Response:
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": code}
    if cbor:  # CloudWatch as current botocore speaks it
        headers["smithy-protocol"] = "rpc-v2-cbor"
        return web.Response(status=status, body=cbor_error(code, message), content_type="application/cbor",
                            headers=headers)
    if service in _XML_SERVICES:
        if service == "s3":
            body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{escape(code)}</Code>"
                    f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>")
        else:
            body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code>"
                    f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>")
        return web.Response(status=status, text=body, content_type="text/xml", headers=headers)
    payload = {"message": message}
    if service in ("servicequotas", "monitoring"):
        payload["__type"] = code  # awsJson protocols carry the code in the body
    return web.Response(status=status, text=json.dumps(payload), content_type="application/json", headers=headers)
