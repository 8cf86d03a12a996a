"""--auth: the sandbox verifies real SigV4 signatures from configured keys; secrets never appear."""
from __future__ import annotations

import subprocess
import sys

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from tests.conftest import NOVA, user

KEYS = {"AKIATESTSANDBOX00001": "s3cr3t-sandbox-key-value"}


def client(service, endpoint, akid, secret):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=akid,
                        aws_secret_access_key=secret, config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))


@pytest.fixture
def guarded(make_sandbox):
    from tierconsole.sandbox.config import load_sandbox_config
    return make_sandbox(load_sandbox_config(), speed=50.0, auth_keys=KEYS)


CALLS = {
    "bedrock-runtime": lambda c: c.converse(modelId=NOVA, messages=user("signed")),
    "sts": lambda c: c.get_caller_identity(),
    "s3": lambda c: c.put_object(Bucket="tierconsole-sandbox", Key="auth/x.txt", Body=b"a b c"),
    "cloudwatch": lambda c: c.list_metrics(Namespace="AWS/Bedrock"),
    "bedrock": lambda c: c.list_foundation_models(),
    "service-quotas": lambda c: c.list_service_quotas(ServiceCode="bedrock"),
}
# (bad signature, unknown access key, signed too long ago / ahead) as each AWS protocol names them:
# JSON services InvalidSignatureException / UnrecognizedClientException; query (STS) SignatureDoesNotMatch /
# InvalidClientTokenId; S3 SignatureDoesNotMatch / InvalidAccessKeyId / RequestTimeTooSkewed.
NAMES = {
    "bedrock-runtime": ("InvalidSignatureException", "UnrecognizedClientException", "InvalidSignatureException"),
    "bedrock": ("InvalidSignatureException", "UnrecognizedClientException", "InvalidSignatureException"),
    "cloudwatch": ("InvalidSignatureException", "UnrecognizedClientException", "InvalidSignatureException"),
    "service-quotas": ("InvalidSignatureException", "UnrecognizedClientException", "InvalidSignatureException"),
    "sts": ("SignatureDoesNotMatch", "InvalidClientTokenId", "SignatureDoesNotMatch"),
    "s3": ("SignatureDoesNotMatch", "InvalidAccessKeyId", "RequestTimeTooSkewed"),
}


@pytest.mark.parametrize("service", CALLS)
def test_valid_signatures_pass_and_bad_ones_fail(guarded, service):
    call = CALLS[service]
    akid, secret = next(iter(KEYS.items()))
    call(client(service, guarded.endpoint, akid, secret))  # no exception
    with pytest.raises(botocore.exceptions.ClientError) as bad:
        call(client(service, guarded.endpoint, akid, "wrong-secret"))
    assert bad.value.response["Error"]["Code"] == NAMES[service][0]
    assert bad.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert secret not in str(bad.value) and "wrong-secret" not in str(bad.value)
    with pytest.raises(botocore.exceptions.ClientError) as unknown:
        call(client(service, guarded.endpoint, "AKIAUNKNOWN000000000", secret))
    assert unknown.value.response["Error"]["Code"] == NAMES[service][1]


def _signing_at(monkeypatch, offset_s: float) -> None:
    """botocore signs as if its clock were ``offset_s`` away from the wall clock (a skewed client)."""
    import datetime as dt

    import botocore.auth
    monkeypatch.setattr(botocore.auth, "get_current_datetime",
                        lambda: dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(seconds=offset_s))


@pytest.mark.parametrize("offset_s, needle", [(-20 * 60, "Signature expired"), (20 * 60, "Signature not yet current")])
@pytest.mark.parametrize("service", CALLS)
def test_a_signature_dated_outside_15_minutes_is_refused(guarded, monkeypatch, service, offset_s, needle):
    akid, secret = next(iter(KEYS.items()))
    _signing_at(monkeypatch, offset_s)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        CALLS[service](client(service, guarded.endpoint, akid, secret))
    code = NAMES[service][2]
    assert err.value.response["Error"]["Code"] == code, err.value.response
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    if code != "RequestTimeTooSkewed":
        assert needle in err.value.response["Error"]["Message"]


@pytest.mark.parametrize("offset_s", [-14 * 60, 14 * 60])
def test_a_signature_dated_within_15_minutes_passes(guarded, monkeypatch, offset_s):
    akid, secret = next(iter(KEYS.items()))
    _signing_at(monkeypatch, offset_s)
    for service, call in CALLS.items():
        call(client(service, guarded.endpoint, akid, secret))


def test_the_window_is_on_wall_time_even_when_the_sandbox_clock_runs_fast(make_sandbox):
    import time
    sb = make_sandbox(speed=100_000.0, auth_keys=KEYS)
    time.sleep(0.5)  # the sandbox clock is now ~14 hours ahead of the wall clock
    assert sb.sandbox.clock.now() - time.time() > 3600
    akid, secret = next(iter(KEYS.items()))
    client("sts", sb.endpoint, akid, secret).get_caller_identity()


def _signed(endpoint: str, method: str, path: str, body: bytes, service: str, *, payload_header: str | None = None,
            headers: dict | None = None):
    """A request signed by botocore's own SigV4 (S3's variant for s3): (url, headers) to send with any body."""
    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    akid, secret = next(iter(KEYS.items()))
    req = AWSRequest(method=method, url=endpoint + path, data=body, headers=dict(headers or {}))
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    if payload_header is not None:
        req.headers["X-Amz-Content-SHA256"] = payload_header
        if service == "s3":  # S3's signer sets the header itself: make it set this one
            signer = type("Fixed", (S3SigV4Auth,), {"payload": lambda self, request: payload_header})
    signer(Credentials(akid, secret), service, "us-east-1").add_auth(req)
    return req.url, dict(req.headers.items())


def _send(url: str, method: str, headers: dict, body: bytes):
    import urllib.error
    import urllib.request
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()  # case-insensitive, as HTTP header names are
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_a_captured_s3_put_cannot_be_replayed_with_another_body(guarded):
    url, headers = _signed(guarded.endpoint, "PUT", "/tierconsole-sandbox/replay.txt", b"original", "s3")
    assert headers["X-Amz-Content-SHA256"] != "UNSIGNED-PAYLOAD"
    status, _h, payload = _send(url, "PUT", headers, b"tampered")
    assert status == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in payload, payload
    status, _h, payload = _send(url, "PUT", headers, b"original")
    assert status == 200, payload


def test_a_captured_bedrock_call_cannot_be_replayed_with_another_body(guarded):
    import hashlib
    import json
    path = f"/model/{NOVA.replace(':', '%3A')}/converse"
    good = json.dumps({"messages": user("original"), "inferenceConfig": {"maxTokens": 8}}).encode()
    bad = json.dumps({"messages": user("tampered"), "inferenceConfig": {"maxTokens": 8}}).encode()
    # As SDKs that sign the payload-hash header do (JS v3, Go v2): the header is part of the signature.
    url, headers = _signed(guarded.endpoint, "POST", path, good, "bedrock",
                           payload_header=hashlib.sha256(good).hexdigest(), headers={"Content-Type": "application/json"})
    assert "x-amz-content-sha256" in headers["Authorization"]
    status, h, payload = _send(url, "POST", headers, bad)
    assert status == 403 and h["x-amzn-ErrorType"] == "InvalidSignatureException", payload
    status, _h, payload = _send(url, "POST", headers, good)
    assert status == 200, payload
    # and without the header, the body is part of the canonical request
    url, headers = _signed(guarded.endpoint, "POST", path, good, "bedrock", headers={"Content-Type": "application/json"})
    status, h, _p = _send(url, "POST", headers, bad)
    assert status == 403 and h["x-amzn-ErrorType"] == "InvalidSignatureException"


def test_unsigned_payload_is_accepted_as_the_client_chose(guarded):
    url, headers = _signed(guarded.endpoint, "PUT", "/tierconsole-sandbox/unsigned.txt", b"x", "s3",
                           payload_header="UNSIGNED-PAYLOAD")
    status, _h, payload = _send(url, "PUT", headers, b"any body")
    assert status == 200, payload


def test_a_payload_hash_that_is_not_a_hash_is_refused(guarded):
    url, headers = _signed(guarded.endpoint, "PUT", "/tierconsole-sandbox/odd.txt", b"x", "s3",
                           payload_header="not-a-hash")
    status, _h, payload = _send(url, "PUT", headers, b"x")
    assert status == 400 and b"<Code>InvalidArgument</Code>" in payload, payload


def test_auth_file_errors_name_the_file(tmp_path):
    f = tmp_path / "keys.yaml"
    f.write_text("access_keys: []\n")
    out = subprocess.run([sys.executable, "-m", "tierconsole.cli", "sandbox", "--port", "0", "--auth", str(f)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and str(f) in out.stderr and "access_keys" in out.stderr
