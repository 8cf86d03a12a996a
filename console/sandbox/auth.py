"""Optional SigV4 verification for the sandbox (`tierconsole sandbox --auth FILE`).

By default the sandbox accepts any credentials (it is a local tool on loopback). With ``--auth``
it only accepts requests signed with one of the configured access keys (and, on a fleet sandbox, the
temporary keys its STS issued by AssumeRole to a caller that had one), verified as AWS does:

- the canonical request is rebuilt from the signed headers and the signature recomputed with
  botocore's own SigV4 implementation;
- the signing time (``X-Amz-Date``, else ``Date``) must be within 15 minutes of the **wall clock**,
  as AWS compares it to its own real time. The sandbox clock is not used: at ``--speed`` it runs
  fast, while clients sign with real time;
- when ``X-Amz-Content-SHA256`` carries a SHA-256 it must be the hash of the body actually sent
  (the signature covers the header, not the body, so without this a captured request could be
  replayed with another body). ``UNSIGNED-PAYLOAD`` is accepted as the client's choice; chunk-signed
  uploads (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``) are refused, the sandbox does not verify chunks.

Errors are named as each protocol names them: JSON services (bedrock, bedrock-runtime, Service
Quotas, CloudWatch) ``UnrecognizedClientException`` / ``InvalidSignatureException`` (also for
"Signature expired"); query services (STS) ``InvalidClientTokenId`` / ``SignatureDoesNotMatch``;
S3 ``InvalidAccessKeyId`` / ``SignatureDoesNotMatch`` / ``RequestTimeTooSkewed`` /
``XAmzContentSHA256Mismatch``. FILE is YAML: ``access_keys: {AKID: SECRET, ...}``.
Secrets are never logged or echoed; errors name the access key id only.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

from ..core.config.loader import load_yaml
from ..core.domain.catalog import ConfigError
from .http import AwsError

_AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=(?P<akid>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
                   r"/aws4_request,\s*SignedHeaders=(?P<signed>[^,]+),\s*Signature=(?P<sig>[0-9a-f]{64})")


def load_keys(path: str | Path) -> dict[str, str]:
    doc = load_yaml(path)
    keys = doc.get("access_keys") if isinstance(doc, dict) else None
    if not isinstance(keys, dict) or not keys:
        raise ConfigError("access_keys", "must be a non-empty mapping of access key id to secret", source=str(path))
    for k, v in keys.items():
        if not isinstance(k, str) or not isinstance(v, str) or not k or not v:
            raise ConfigError(f"access_keys.{k}", "access key id and secret must be non-empty strings", source=str(path))
    return dict(keys)


SKEW_S = 15 * 60  # AWS's window for the signing time, either side of its clock
_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
_UNSIGNED = ("UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
_HEX64 = re.compile(r"[0-9a-f]{64}")
# per protocol family: missing auth, unknown key, bad signature, signing time outside the window
_ERRORS = {
    "json": ("MissingAuthenticationTokenException", "UnrecognizedClientException", "InvalidSignatureException",
             "InvalidSignatureException"),
    "query": ("MissingAuthenticationToken", "InvalidClientTokenId", "SignatureDoesNotMatch", "SignatureDoesNotMatch"),
    "s3": ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "RequestTimeTooSkewed"),
}


def family(service: str | None, headers) -> str:
    """How a service names its authentication errors: ``s3``, ``query`` (STS, form posts) or ``json``."""
    if service == "s3":
        return "s3"
    if service == "sts" or headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        return "query"
    return "json"


def _signing_time(headers) -> datetime | None:
    amz = headers.get("X-Amz-Date")
    try:
        if amz:
            return datetime.strptime(amz, _TIME_FORMAT).replace(tzinfo=timezone.utc)
        if headers.get("Date"):
            return parsedate_to_datetime(headers["Date"]).astimezone(timezone.utc)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    return None


class Verifier:
    def __init__(self, keys: dict[str, str], *, wall_clock=time.time):
        self._keys = keys
        self._now = wall_clock
        # Secrets of keys the sandbox itself issued (a fleet sandbox's STS AssumeRole): key id -> secret or None.
        self.issued = None

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def verify(self, method: str, raw_path: str, headers, body: bytes) -> None:
        """Raise :class:`AwsError` unless the request carries a valid, current signature from a known key
        over the body it carries."""
        from botocore.auth import S3SigV4Auth, SigV4Auth  # noqa: PLC0415
        from botocore.awsrequest import AWSRequest  # noqa: PLC0415
        from botocore.credentials import Credentials  # noqa: PLC0415

        m = _AUTH.match(headers.get("Authorization", ""))
        scope_service = m.group("service") if m else None
        missing, unknown, mismatch, skewed = _ERRORS[family(scope_service, headers)]
        if not m:
            raise AwsError(missing, "Request is missing a SigV4 Authorization header.", 403)
        akid = m.group("akid")
        secret = self._keys.get(akid) or (self.issued(akid) if self.issued is not None else None)
        if secret is None:
            raise AwsError(unknown, f"The security token included in the request is invalid "
                           f"(unknown access key id {akid[:128]}).", 403)
        self._check_time(headers, skewed)
        signed = m.group("signed").split(";")
        req_headers = {h: headers.get(h, "") for h in signed}
        req = AWSRequest(method=method, url=f"http://{headers.get('Host', 'localhost')}{raw_path}", data=body,
                         headers=req_headers)
        req.context["timestamp"] = headers.get("X-Amz-Date", "")
        # S3 signs the path as given and the payload hash header; other services a normalised path.
        signer = S3SigV4Auth if scope_service == "s3" else SigV4Auth
        auth = signer(Credentials(akid, secret), scope_service, m.group("region"))
        canonical = auth.canonical_request(req)
        expected = auth.signature(auth.string_to_sign(req, canonical), req)
        if not hmac.compare_digest(expected, m.group("sig")):
            raise AwsError(mismatch, "The request signature we calculated does not match the "
                           f"signature you provided (access key id {akid}).", 403)
        self._check_payload(headers, body, scope_service, mismatch, akid)

    def _check_time(self, headers, code: str) -> None:
        when = _signing_time(headers)
        if when is None:
            if code == "RequestTimeTooSkewed":
                raise AwsError("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header", 403)
            raise AwsError("IncompleteSignatureException" if code.endswith("Exception") else "IncompleteSignature",
                           "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", 400)
        now = datetime.fromtimestamp(self._now(), timezone.utc)
        late, early = when < now - timedelta(seconds=SKEW_S), when > now + timedelta(seconds=SKEW_S)
        if not (late or early):
            return
        if code == "RequestTimeTooSkewed":
            raise AwsError(code, "The difference between the request time and the current time is too large.", 403)
        def f(t: datetime) -> str:
            return t.strftime(_TIME_FORMAT)

        if late:
            raise AwsError(code, f"Signature expired: {f(when)} is now earlier than "
                           f"{f(now - timedelta(seconds=SKEW_S))} ({f(now)} - 15 min.)", 403)
        raise AwsError(code, f"Signature not yet current: {f(when)} is still later than "
                       f"{f(now + timedelta(seconds=SKEW_S))} ({f(now)} + 15 min.)", 403)

    @staticmethod
    def _check_payload(headers, body: bytes, service: str, mismatch: str, akid: str) -> None:
        claimed = headers.get("X-Amz-Content-SHA256")
        if claimed is None or claimed in _UNSIGNED:
            return
        s3 = service == "s3"
        if not _HEX64.fullmatch(claimed):
            if s3:
                raise AwsError("InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or the hex SHA-256 "
                               "of the payload (the sandbox does not verify chunk-signed STREAMING-* uploads).", 400)
            raise AwsError(mismatch, "The request signature we calculated does not match the signature you "
                           f"provided (access key id {akid}): X-Amz-Content-SHA256 is not a SHA-256.", 403)
        if hashlib.sha256(body).hexdigest() != claimed:
            if s3:
                raise AwsError("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not "
                               "match what was computed.", 400)
            raise AwsError(mismatch, "The request signature we calculated does not match the signature you "
                           f"provided (access key id {akid}): the body is not the one that was signed.", 403)
