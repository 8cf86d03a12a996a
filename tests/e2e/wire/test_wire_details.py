"""Wire details real clients depend on (issue 14): a stream throttled at admission is a 429, S3 sizes,
CountTokens, fault codes per service, a client gone while queued, SIGTERM with requests queued, and bodies
no parser should choke on. Real boto3 (and raw sockets where a client must misbehave) on loopback."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from botocore.exceptions import ClientError

from tests.conftest import boto3_client, user
from tierconsole.sandbox.app import Sandbox, SandboxThread
from tierconsole.sandbox.config import parse_sandbox_config
from tierconsole.sandbox.faults import parse_faults

NOVA = "amazon.nova-lite-v1:0"
ONE_RPM = {"sandbox": {"scenario": "none", "models": [
    {"id": NOVA, "name": "Nova Lite", "family": "nova", "tpm": 1_000_000, "rpm": 1, "max_output_tokens": 100}]}}


def start(config: dict | None = None, speed: float = 20.0) -> SandboxThread:
    thread = SandboxThread(Sandbox(parse_sandbox_config(config, "test") if config else None, speed=speed))
    thread.start()
    return thread


@pytest.fixture
def one_rpm():
    """Nova admits one request a minute (a sandbox minute: 3 s at speed 20); the next one queues."""
    thread = start(ONE_RPM)
    yield thread.sandbox
    thread.stop()


@pytest.fixture(scope="module")
def quiet():
    thread = start(speed=50.0)
    yield thread.sandbox
    thread.stop()


# ---------------------------------------------------------------------- throttled before the stream starts

@pytest.mark.parametrize("operation", ["converse_stream", "invoke_model_with_response_stream"])
def test_stream_throttled_at_admission_is_http_429_before_any_event(one_rpm, operation):
    rt = boto3_client("bedrock-runtime", one_rpm.endpoint)
    rt.converse(modelId=NOVA, messages=user("first"), inferenceConfig={"maxTokens": 10})
    if operation == "converse_stream":
        call = lambda: rt.converse_stream(modelId=NOVA, messages=user("second"),  # noqa: E731
                                          inferenceConfig={"maxTokens": 10})
    else:
        body = json.dumps({"messages": user("second"), "inferenceConfig": {"maxTokens": 10}})
        call = lambda: rt.invoke_model_with_response_stream(modelId=NOVA, body=body)  # noqa: E731
    with pytest.raises(ClientError) as err:  # raised by the call itself, before any event is read
        call()
    assert err.value.response["Error"]["Code"] == "ThrottlingException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


# ---------------------------------------------------------------------- S3 sizes

def test_head_object_and_ranged_get_object_carry_content_length(quiet, tmp_path):
    s3 = boto3_client("s3", quiet.endpoint)
    data = b"0123456789" * 1000
    s3.put_object(Bucket=quiet.config.bucket, Key="sizes/data.bin", Body=data)
    head = s3.head_object(Bucket=quiet.config.bucket, Key="sizes/data.bin")
    assert head["ContentLength"] == len(data)
    assert head["ResponseMetadata"]["HTTPHeaders"]["content-length"] == str(len(data))
    ranged = s3.get_object(Bucket=quiet.config.bucket, Key="sizes/data.bin", Range="bytes=10-19")
    assert ranged["ContentLength"] == 10 and ranged["ContentRange"] == f"bytes 10-19/{len(data)}"
    assert ranged["Body"].read() == data[10:20]
    s3.download_file(quiet.config.bucket, "sizes/data.bin", str(tmp_path / "copy.bin"))  # HeadObject, then GETs
    assert (tmp_path / "copy.bin").read_bytes() == data


# ---------------------------------------------------------------------- CountTokens

def test_count_tokens_counts_as_the_runtime_does(quiet):
    rt = boto3_client("bedrock-runtime", quiet.endpoint)
    converse = {"messages": user("x" * 401), "system": [{"text": "be brief"}]}
    counted = rt.count_tokens(modelId=NOVA, input={"converse": converse})["inputTokens"]
    served = rt.converse(modelId=NOVA, inferenceConfig={"maxTokens": 5}, **converse)["usage"]["inputTokens"]
    assert counted == served == 101 + 2
    native = json.dumps({"messages": user("y" * 40), "inferenceConfig": {"maxTokens": 5}}).encode()
    assert rt.count_tokens(modelId=NOVA, input={"invokeModel": {"body": native}})["inputTokens"] == 10
    with pytest.raises(ClientError) as err:
        rt.count_tokens(modelId="nope.model-v1:0", input={"converse": converse})
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        rt.count_tokens(modelId=NOVA, input={"invokeModel": {"body": b"[" * 5000}})
    assert err.value.response["Error"]["Code"] == "ValidationException"


# ---------------------------------------------------------------------- faults as each service names them

def _s3(c, sb):
    return c.head_bucket(Bucket=sb.config.bucket)


FAULT_CALLS = {
    "bedrock": ("bedrock-runtime", lambda c, sb: c.converse(modelId=NOVA, messages=user("hi"))),
    "servicequotas": ("service-quotas", lambda c, sb: c.list_service_quotas(ServiceCode="bedrock")),
    "monitoring": ("cloudwatch", lambda c, sb: c.list_metrics(Namespace="AWS/Bedrock")),
    "sts": ("sts", lambda c, sb: c.get_caller_identity()),
    "s3": ("s3", lambda c, sb: c.list_objects_v2(Bucket=sb.config.bucket)),
}
# (kind, service) -> (error code, HTTP status): the error the operation declares for that condition in its botocore
# model, else AWS's common error of the service's protocol (S3's own codes: SlowDown 503, AccessDenied 403, ...).
FAULT_CODES = {
    ("503", "bedrock"): ("ServiceUnavailableException", 503), ("500", "bedrock"): ("InternalServerException", 500),
    ("throttle", "bedrock"): ("ThrottlingException", 429), ("denied", "bedrock"): ("AccessDeniedException", 403),
    ("expired", "bedrock"): ("ExpiredTokenException", 403),
    ("503", "servicequotas"): ("ServiceUnavailable", 503), ("500", "servicequotas"): ("ServiceException", 500),
    ("throttle", "servicequotas"): ("TooManyRequestsException", 400),
    ("denied", "servicequotas"): ("AccessDeniedException", 400),
    ("expired", "servicequotas"): ("ExpiredTokenException", 403),
    ("503", "monitoring"): ("ServiceUnavailable", 503), ("500", "monitoring"): ("InternalServiceError", 500),
    ("throttle", "monitoring"): ("Throttling", 400), ("denied", "monitoring"): ("AccessDenied", 403),
    ("expired", "monitoring"): ("ExpiredTokenException", 403),
    ("503", "sts"): ("ServiceUnavailable", 503), ("500", "sts"): ("InternalFailure", 500),
    ("throttle", "sts"): ("Throttling", 400), ("denied", "sts"): ("AccessDenied", 403),
    ("expired", "sts"): ("ExpiredTokenException", 403),
    ("503", "s3"): ("ServiceUnavailable", 503), ("500", "s3"): ("InternalError", 500),
    ("throttle", "s3"): ("SlowDown", 503), ("denied", "s3"): ("AccessDenied", 403),
    ("expired", "s3"): ("ExpiredToken", 400),
}


@pytest.mark.parametrize(("kind", "service"), sorted(FAULT_CODES))
def test_fault_kinds_use_each_services_own_codes(quiet, kind, service):
    client_name, call = FAULT_CALLS[service]
    client = boto3_client(client_name, quiet.endpoint)
    quiet.faults.rules = parse_faults(f"{kind}#1:{service}")
    try:
        with pytest.raises(ClientError) as err:
            call(client, quiet)
    finally:
        quiet.faults.rules = []
    code, status = FAULT_CODES[(kind, service)]
    assert (err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]) \
        == (code, status)


# ---------------------------------------------------------------------- a client gone while queued

def _raw_post(endpoint: str, path: str, body: bytes, service: str = "bedrock") -> socket.socket:
    """Send a request and leave the socket open (the caller closes it: a client that goes away)."""
    host, port = endpoint.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{service}/aws4_request, "
            f"SignedHeaders=host, Signature=0\r\nContent-Length: {len(body)}\r\n\r\n")
    sock.sendall(head.encode() + body)
    return sock


def _usage(sandbox) -> dict:
    return sandbox.engine.usage(NOVA, sandbox.clock.now())


def test_client_gone_while_queued_leaves_the_queue_and_draws_no_quota(one_rpm):
    rt = boto3_client("bedrock-runtime", one_rpm.endpoint)
    rt.converse(modelId=NOVA, messages=user("takes the minute's only request"), inferenceConfig={"maxTokens": 5})
    body = json.dumps({"messages": user("flex, then gone"), "inferenceConfig": {"maxTokens": 5},
                       "serviceTier": {"type": "flex"}}).encode()
    sock = _raw_post(one_rpm.endpoint, f"/model/{NOVA.replace(':', '%3A')}/converse", body)
    deadline = time.monotonic() + 5
    while _usage(one_rpm)["queued"].get("flex", 0) != 1:
        assert time.monotonic() < deadline, _usage(one_rpm)
        time.sleep(0.02)
    sock.close()  # the client goes away while its request waits
    deadline = time.monotonic() + 2
    while _usage(one_rpm)["queued"].get("flex", 0):
        assert time.monotonic() < deadline, f"still queued after the client left: {_usage(one_rpm)}"
        time.sleep(0.02)
    time.sleep(one_rpm.clock.real_delay(65))  # the first request's minute passes: the quota would admit it now
    assert _usage(one_rpm)["rpm_used"] == 0, _usage(one_rpm)
    served = [o for o in one_rpm.outcomes.recent if o.operation == "Converse" and o.status == 200]
    assert len(served) == 1, [o.to_dict() for o in served]


# ---------------------------------------------------------------------- SIGTERM with requests queued

def test_sigterm_stops_the_sandbox_within_2_s_with_requests_queued(tmp_path):
    import yaml

    config = tmp_path / "one-rpm.yaml"
    config.write_text(yaml.safe_dump(ONE_RPM))
    proc = subprocess.Popen([sys.executable, "-m", "tierconsole.cli", "sandbox", "--port", "0", "--config",
                             str(config), "--scenario", "none"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        endpoint = None
        while endpoint is None:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            if line.startswith("endpoint: "):
                endpoint = line.split(" ", 1)[1].strip()
        rt = boto3_client("bedrock-runtime", endpoint)
        rt.converse(modelId=NOVA, messages=user("first"), inferenceConfig={"maxTokens": 5})
        path = f"/model/{NOVA.replace(':', '%3A')}/converse"
        queued = [_raw_post(endpoint, path, json.dumps({"messages": user(f"flex {i}"), "serviceTier":
                                                        {"type": "flex"}}).encode()) for i in range(3)]
        time.sleep(0.5)  # they are in the Flex queue (an hour's wait)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        took = time.monotonic() - t0
        assert took <= 2.0, f"the sandbox took {took:.1f} s to stop"
        assert proc.returncode == 0, proc.stderr.read()
        for sock in queued:
            sock.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------- bodies no parser should choke on

JSON_OPERATIONS = [  # (service for the credential scope, path, extra headers)
    ("bedrock", f"/model/{NOVA.replace(':', '%3A')}/converse", {}),
    ("bedrock", f"/model/{NOVA.replace(':', '%3A')}/converse-stream", {}),
    ("bedrock", f"/model/{NOVA.replace(':', '%3A')}/invoke", {}),
    ("bedrock", f"/model/{NOVA.replace(':', '%3A')}/invoke-with-response-stream", {}),
    ("bedrock", f"/model/{NOVA.replace(':', '%3A')}/count-tokens", {}),
    ("bedrock", "/model-invocation-job", {}),
    ("servicequotas", "/", {"X-Amz-Target": "ServiceQuotasV20190624.ListServiceQuotas",
                            "Content-Type": "application/x-amz-json-1.1"}),
    ("monitoring", "/", {"X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData",
                         "Content-Type": "application/x-amz-json-1.0"}),
]
VALIDATION = {"bedrock": "ValidationException", "servicequotas": "IllegalArgumentException",
              "monitoring": "InvalidParameterValue"}
BAD_BODIES = {"5000 [": b"[" * 5000, "5000 {": b'{"a":' * 5000, "bad UTF-8": b'{"x": "\xff\xfe"}',
              "NUL bytes": b"\x00\x01\x02"}


def _post(endpoint: str, service: str, path: str, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(endpoint + path, data=body, method="POST", headers={
        "Authorization": f"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{service}/aws4_request, "
                         "SignedHeaders=host, Signature=0", "Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


@pytest.mark.parametrize("bad", sorted(BAD_BODIES))
@pytest.mark.parametrize(("service", "path", "headers"), JSON_OPERATIONS, ids=[p for _, p, _ in JSON_OPERATIONS])
def test_bad_bodies_get_the_declared_400(quiet, service, path, headers, bad):
    status, resp_headers, body = _post(quiet.endpoint, service, path, headers, BAD_BODIES[bad])
    assert status == 400, (status, body[:300])
    assert resp_headers.get("x-amzn-errortype") == VALIDATION[service], (resp_headers, body[:300])
    message_member = "Message" if service == "servicequotas" else "message"
    assert set(json.loads(body)) <= {message_member, "__type"} and message_member in json.loads(body), body


def test_a_body_over_the_limit_gets_a_400_and_is_not_kept(quiet):
    from tierconsole.sandbox.app import MAX_BODY

    huge = b"[" + b"1," * (MAX_BODY // 2 + 10) + b"1]"
    status, headers, body = _post(quiet.endpoint, "bedrock", JSON_OPERATIONS[0][1], {}, huge)
    assert status == 400, (status, body[:300])
    assert headers.get("x-amzn-errortype") == "ValidationException" and "limit" in json.loads(body)["message"]


# ---------------------------------------------------------------------- one request id; S3's own answers

def _raw_exchange(endpoint: str, request: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """One raw HTTP/1.1 exchange (Connection: close): status, every header line as sent, body."""
    host, port = endpoint.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:]]
    return int(lines[0].split()[1]), headers, body


def _auth(service: str) -> str:
    return (f"Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0\r\n")


@pytest.mark.parametrize(("service", "request_line", "extra", "body"), [
    ("bedrock", "GET /foundation-models", "", b""),
    ("bedrock", f"POST /model/{NOVA.replace(':', '%3A')}/converse", "Content-Type: application/json\r\n",
     json.dumps({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}).encode()),
    ("s3", "GET /tierconsole-sandbox?list-type=2", "", b""),
    ("s3", "GET /tierconsole-sandbox/no-such-key", "", b""),
    ("sts", "POST /", "Content-Type: application/x-www-form-urlencoded\r\n", b"Action=GetCallerIdentity&Version=2011-06-15"),
    ("servicequotas", "POST /", "Content-Type: application/x-amz-json-1.1\r\nX-Amz-Target: "
     "ServiceQuotasV20190624.ListServiceQuotas\r\n", b'{"ServiceCode": "bedrock"}'),
])
def test_one_request_id_header_per_answer(quiet, service, request_line, extra, body):
    status, headers, _ = _raw_exchange(quiet.endpoint, (
        f"{request_line} HTTP/1.1\r\nHost: x\r\n{_auth(service)}{extra}Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n").encode() + body)
    ids = [v for k, v in headers if k.lower() == "x-amzn-requestid"]
    assert len(ids) == 1, (status, headers)


def test_s3_put_with_a_bad_content_md5_is_refused_as_s3_does(quiet):
    import base64
    import hashlib

    s3 = boto3_client("s3", quiet.endpoint)
    bucket = quiet.config.bucket
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="md5/bad", Body=b"payload", ContentMD5=wrong)
    assert (err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]) \
        == ("BadDigest", 400)
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=bucket, Key="md5/invalid", Body=b"payload", ContentMD5="not-base64-md5")
    assert (err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]) \
        == ("InvalidDigest", 400)
    for key in ("md5/bad", "md5/invalid"):  # nothing was stored
        with pytest.raises(ClientError):
            s3.head_object(Bucket=bucket, Key=key)
    right = base64.b64encode(hashlib.md5(b"payload").digest()).decode()
    s3.put_object(Bucket=bucket, Key="md5/good", Body=b"payload", ContentMD5=right)
    assert s3.get_object(Bucket=bucket, Key="md5/good")["Body"].read() == b"payload"


def test_s3_put_without_a_length_gets_an_s3_xml_error(quiet):
    import xml.etree.ElementTree as ET

    # Unsigned, no body and no Content-Length: S3 answers MissingContentLength (411) in its XML error shape.
    status, headers, body = _raw_exchange(quiet.endpoint, (
        f"PUT /{quiet.config.bucket}/empty-put HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode())
    assert status == 411, (status, headers, body)
    assert dict((k.lower(), v) for k, v in headers).get("content-type", "").startswith(("application/xml",
                                                                                       "text/xml")), headers
    error = ET.fromstring(body)
    assert error.tag == "Error" and error.findtext("Code") == "MissingContentLength", body
    assert error.findtext("Message") and error.findtext("RequestId"), body


@pytest.mark.parametrize("field", ["metadata", "content type"])
def test_a_request_the_http_layer_refuses_is_a_400_every_client_reads(quiet, field):
    """hypercorn answers a header it cannot take (a control character) itself, with a 400 whose status line had
    no reason phrase: botocore, waiting on `Expect: 100-continue` for a PutObject, read it as no answer at all and
    reported a closed connection (a boto3 put_object with such metadata looked like a crashed sandbox)."""
    with socket.create_connection((quiet.host, quiet.port), timeout=10) as s:
        s.sendall(b"PUT /tierconsole-sandbox/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                  b"x-amz-meta-m: a\x0bb\r\n\r\n1")
        answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer
    s3 = boto3_client("s3", quiet.endpoint)
    extra = {"Metadata": {"m": "a\x0bb"}} if field == "metadata" else {"ContentType": "a\x01b"}
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket="tierconsole-sandbox", Key="x", Body=b"1", **extra)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_gzip_compressed_request_body_is_read_as_botocore_sends_it(make_sandbox):
    """botocore compresses a PutMetricData body of 10 KiB or more (the model's requestcompression trait) and
    says so in Content-Encoding: the sandbox answered it "not UTF-8" (found by the quota-request work)."""
    sb = make_sandbox(speed=1.0)
    cw = boto3_client("cloudwatch", sb.endpoint)
    data = [{"MetricName": f"Big{i:03d}", "Dimensions": [{"Name": "Pad", "Value": "x" * 200}], "Value": float(i)}
            for i in range(60)]  # ~18 KB of JSON: compressed by botocore
    cw.put_metric_data(Namespace="Strangers/Big", MetricData=data)
    listed = cw.list_metrics(Namespace="Strangers/Big")["Metrics"]
    assert {m["MetricName"] for m in listed} == {d["MetricName"] for d in data}


def test_a_gzip_bomb_or_a_broken_gzip_body_is_a_400_in_the_model_shape(make_sandbox):
    import gzip
    import urllib.request

    sb = make_sandbox(speed=1.0)
    bomb = gzip.compress(b"[" * (80 * 1024 * 1024))  # 80 MiB once inflated: over the body limit
    for body, words in ((bomb, "limit"), (b"\x1f\x8bnot gzip at all", "gzip")):
        req = urllib.request.Request(sb.endpoint + "/", data=body, method="POST", headers={
            "Content-Type": "application/x-amz-json-1.0", "Content-Encoding": "gzip",
            "X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData",
            "Authorization": "AWS4-HMAC-SHA256 Credential=sandbox/20261130/us-east-1/monitoring/aws4_request, "
                             "SignedHeaders=host, Signature=00"})
        try:
            urllib.request.urlopen(req, timeout=30)
            raise AssertionError("accepted")
        except urllib.error.HTTPError as err:
            answer = json.loads(err.read())
            assert err.code == 400, answer
            assert answer["__type"].endswith("InvalidParameterValue") or \
                answer.get("__type", "").endswith("InvalidParameterValueException"), answer
            assert words in answer.get("message", answer.get("Message", "")), answer
