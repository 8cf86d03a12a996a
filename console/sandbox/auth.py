"""Optional SigV4 verification for the sandbox (`tierconsole sandbox --auth FILE`).

By default the sandbox accepts any credentials (it is a local tool on loopback). With ``--auth``
it only accepts requests signed with one of the configured access keys, verified as AWS does:
the canonical request is rebuilt from the signed headers and the signature recomputed with
botocore's own SigV4 implementation. FILE is YAML: ``access_keys: {AKID: SECRET, ...}``.
Secrets are never logged or echoed; errors name the access key id only.
"""
from __future__ import annotations

import hmac
import re
from pathlib import Path

from ..config import load_yaml
from ..domain.catalog import ConfigError
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


class Verifier:
    def __init__(self, keys: dict[str, str]):
        self._keys = keys

    def verify(self, method: str, raw_path: str, headers, body: bytes) -> None:
        """Raise :class:`AwsError` unless the request carries a valid signature from a known key."""
        from botocore.auth import S3SigV4Auth, SigV4Auth  # noqa: PLC0415
        from botocore.awsrequest import AWSRequest  # noqa: PLC0415
        from botocore.credentials import Credentials  # noqa: PLC0415

        m = _AUTH.match(headers.get("Authorization", ""))
        if not m:
            raise AwsError("MissingAuthenticationTokenException", "Request is missing a SigV4 Authorization header.", 403)
        akid = m.group("akid")
        secret = self._keys.get(akid)
        if secret is None:
            raise AwsError("UnrecognizedClientException", f"The security token included in the request is invalid "
                           f"(unknown access key id {akid}).", 403)
        signed = m.group("signed").split(";")
        req_headers = {h: headers.get(h, "") for h in signed}
        req = AWSRequest(method=method, url=f"http://{headers.get('Host', 'localhost')}{raw_path}", data=body,
                         headers=req_headers)
        amz_date = headers.get("X-Amz-Date", "")
        req.context["timestamp"] = amz_date
        # S3 signs the path as given and the payload hash header; other services a normalised path.
        signer = S3SigV4Auth if m.group("service") == "s3" else SigV4Auth
        auth = signer(Credentials(akid, secret), m.group("service"), m.group("region"))
        canonical = auth.canonical_request(req)
        expected = auth.signature(auth.string_to_sign(req, canonical), req)
        if not hmac.compare_digest(expected, m.group("sig")):
            raise AwsError("InvalidSignatureException", "The request signature we calculated does not match the "
                           f"signature you provided (access key id {akid}).", 403)
