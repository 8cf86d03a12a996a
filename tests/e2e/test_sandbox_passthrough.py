"""Requests the sandbox hands to moto (S3, STS, CloudWatch): bad input is a 4xx naming what is wrong,
in the error the AWS service uses, never a 500 — and nothing a request stores can break later ones.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from functools import lru_cache

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
CREDS = {"region_name": "us-east-1", "aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}
CW_TARGET = "GraniteServiceVersion20100801"
BUCKET = "tierconsole-sandbox"
# The errors every AWS query/JSON API may answer ("Common Errors" of the API references).
COMMON = {"InvalidAction", "MissingAction", "InvalidParameterValue", "MissingParameter", "ValidationError",
          "InvalidParameterCombination", "UnknownOperationException", "InvalidQueryParameter",
          "MalformedQueryString", "SerializationException"}


def send(endpoint: str, method: str, path: str, body: bytes = b"", headers: dict | None = None,
         service: str = "s3", query: str = "") -> tuple[int, dict, bytes]:
    h = {"Authorization": f"AWS4-HMAC-SHA256 Credential=sandbox/20260101/us-east-1/{service}/aws4_request, "
                          "SignedHeaders=host, Signature=0", **(headers or {})}
    url = endpoint + urllib.parse.quote(path, safe="/%") + (f"?{query}" if query else "")
    req = urllib.request.Request(url, data=body if method not in ("GET", "HEAD") else None, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()  # case-insensitive, as HTTP header names are
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def error_code(headers: dict, payload: bytes) -> str | None:
    code = headers.get("x-amzn-query-error", "").split(";")[0] or headers.get("x-amzn-ErrorType")
    if code:
        return code
    text = payload.decode("utf-8", "replace")
    start = text.find("<Code>")
    return text[start + 6:text.find("</Code>")] if start >= 0 else None


@lru_cache(maxsize=None)
def model(service: str):
    return botocore.session.get_session().get_service_model(service)


def declared(service: str, operation: str | None) -> set[str]:
    """Codes the operation declares (by their wire code), plus the common errors."""
    if operation is None or operation not in model(service).operation_names:
        return set(COMMON)
    return COMMON | {e.metadata.get("error", {}).get("code", e.name)
                     for e in model(service).operation_model(operation).error_shapes}


def assert_4xx(status: int, headers: dict, payload: bytes, allowed: set[str] | None = None, code: str | None = None):
    assert 400 <= status < 500, (status, payload[:400])
    got = error_code(headers, payload)
    assert got, (status, headers, payload[:400])
    if allowed is not None:
        assert got in allowed, (got, payload[:400])
    if code is not None:
        assert got == code, (got, payload[:400])
    return got


@pytest.fixture(scope="module")
def sb(module_sandbox):
    return module_sandbox


def s3_with_bucket(sb, bucket: str):
    """A boto3 S3 client and ``bucket``, created if a previous example deleted it."""
    s3 = boto3.client("s3", endpoint_url=sb.endpoint, config=NO_RETRY, **CREDS)
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError:
        pass
    return s3


def cw_json(endpoint: str, op: str, body: bytes):
    return send(endpoint, "POST", "/", body, {"X-Amz-Target": f"{CW_TARGET}.{op}",
                                               "Content-Type": "application/x-amz-json-1.0"}, "monitoring")


def form(endpoint: str, service: str, params: dict | str):
    body = params if isinstance(params, str) else urllib.parse.urlencode(params)
    return send(endpoint, "POST", "/", body.encode(), {"Content-Type": "application/x-www-form-urlencoded"}, service)


# ---------------------------------------------------------------------- the reported cases

@pytest.mark.parametrize("op, body, code", [
    ("GetMetricData", b"{}", "MissingParameter"),
    ("PutMetricData", b"{}", "MissingParameter"),
    ("PutMetricData", b'{"Namespace": "x", "MetricData": [{}]}', "MissingParameter"),
    ("ListMetrics", b'{"Namespace": 5}', "InvalidParameterValue"),
    pytest.param("ListMetrics", b"[" * 5000, "InvalidParameterValue", id="ListMetrics-5000["),
    ("ListMetrics", b"[]", "InvalidParameterValue"),
    ("PutMetricStream", b"{}", None),  # a real operation moto does not implement
    ("DescribeAlarmHistory", b"{}", None),
    ("NoSuchOperation", b"{}", "UnknownOperationException"),
])
def test_cloudwatch_json_bad_input_is_a_4xx(sb, op, body, code):
    status, headers, payload = cw_json(sb.endpoint, op, body)
    assert_4xx(status, headers, payload, declared("cloudwatch", op), code)


@pytest.mark.parametrize("service, params, code", [
    ("sts", {"Action": "Foo", "Version": "2011-06-15"}, "InvalidAction"),
    ("sts", {"Version": "2011-06-15"}, "MissingAction"),
    ("sts", {"Action": "AssumeRole", "Version": "2011-06-15"}, "ValidationError"),
    ("sts", {"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": "x"}, "ValidationError"),
    ("sts", {"Action": "DecodeAuthorizationMessage", "Version": "2011-06-15"}, "ValidationError"),
    ("monitoring", {"Action": "PutMetricData", "Version": "2010-08-01"}, "MissingParameter"),
    ("monitoring", {"Action": "GetMetricData", "Version": "2010-08-01"}, "MissingParameter"),
    ("monitoring", {"Action": "PutMetricStream", "Version": "2010-08-01"}, None),
    ("monitoring", {"Action": "Nope", "Version": "2010-08-01"}, "InvalidAction"),
])
def test_query_protocol_bad_input_is_a_4xx(sb, service, params, code):
    status, headers, payload = form(sb.endpoint, service, params)
    botocore_name = {"sts": "sts", "monitoring": "cloudwatch"}[service]
    assert_4xx(status, headers, payload, declared(botocore_name, params.get("Action")), code)
    if service == "sts":
        assert payload.startswith(b"<") and b"<Message>" in payload  # XML, as the query protocol answers


@pytest.mark.parametrize("method, path, query, body, code, status", [
    ("GET", f"/{BUCKET}", "max-keys=abc", b"", "InvalidArgument", 400),
    ("GET", f"/{BUCKET}", "list-type=2&max-keys=-1", b"", "InvalidArgument", 400),
    ("GET", f"/{BUCKET}", "uploads&max-uploads=9" + "9" * 40, b"", "InvalidArgument", 400),
    ("GET", f"/{BUCKET}/k", "partNumber=x", b"", "InvalidArgument", 400),
    ("POST", f"/{BUCKET}/some/key", "", b"x", "MethodNotAllowed", 405),
    ("PUT", f"/{BUCKET}", "policy", b"{{", "MalformedPolicy", 400),
    ("PUT", f"/{BUCKET}", "policy", b"[]", "MalformedPolicy", 400),
    ("PUT", f"/{BUCKET}", "policy", b'{"Statement": 5}', "MalformedPolicy", 400),
    ("PUT", f"/{BUCKET}", "policy", b'{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}',
     "MalformedPolicy", 400),
    pytest.param("PUT", f"/{BUCKET}", "policy", b"[" * 5000, "MalformedPolicy", 400, id="policy-5000["),
])
def test_s3_bad_input_is_a_4xx(sb, method, path, query, body, code, status):
    got_status, headers, payload = send(sb.endpoint, method, path, body, query=query)
    assert got_status == status, (got_status, payload[:300])
    assert_4xx(got_status, headers, payload, code=code)
    assert b"<Message>" in payload


@pytest.mark.parametrize("param", ["response-cache-control", "response-content-type", "response-expires"])
@pytest.mark.parametrize("value", ["\x1f", "a\r\nX-Injected: 1", "\x7f", "1\u00a2\U00104f84", "\u20ac"])
def test_a_control_character_in_a_response_override_is_an_invalid_argument(sb, param, value):
    """GetObject echoes response-* overrides as headers; one with a control character once made the sandbox
    drop the connection (aiohttp refuses such a header) instead of answering."""
    s3 = s3_with_bucket(sb, "override-bucket")
    s3.put_object(Bucket="override-bucket", Key="k", Body=b"ok")
    status, headers, payload = send(sb.endpoint, "GET", "/override-bucket/k",
                                    query=f"{param}={urllib.parse.quote(value)}")
    assert_4xx(status, headers, payload, code="InvalidArgument")
    assert param.encode() in payload
    status, headers, payload = send(sb.endpoint, "GET", "/override-bucket/k", query="response-cache-control=no-store")
    assert (status, headers.get("Cache-Control"), payload) == (200, "no-store", b"ok")


def test_a_malformed_bucket_policy_is_refused_and_the_bucket_keeps_working(sb):
    s3 = boto3.client("s3", endpoint_url=sb.endpoint, config=NO_RETRY, **CREDS)
    s3.create_bucket(Bucket="policy-victim")
    for bad in ("{{", '{"Statement": [{"Effect": "Allow", "Action": 5, "Principal": "*", "Resource": "*"}]}',
                '{"Statement": {"Effect": "Allow", "Principal": 5, "Action": "s3:*", "Resource": "*"}}'):
        with pytest.raises(ClientError) as err:
            s3.put_bucket_policy(Bucket="policy-victim", Policy=bad)
        assert err.value.response["Error"]["Code"] == "MalformedPolicy"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as err:
        s3.get_bucket_policy(Bucket="policy-victim")
    assert err.value.response["Error"]["Code"] == "NoSuchBucketPolicy"  # nothing was stored
    s3.put_object(Bucket="policy-victim", Key="in/a.jsonl", Body=b'{"recordId": "1", "modelInput": {}}\n')
    assert s3.get_object(Bucket="policy-victim", Key="in/a.jsonl")["Body"].read().startswith(b"{")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="policy-victim")["Contents"]] == ["in/a.jsonl"]
    # A valid policy (no Version, as AWS allows) is accepted and the bucket still serves.
    good = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                           "Action": "s3:GetObject", "Resource": "arn:aws:s3:::policy-victim/*"}]}
    s3.put_bucket_policy(Bucket="policy-victim", Policy=json.dumps(good))
    s3.put_object(Bucket="policy-victim", Key="in/b.jsonl", Body=b"x")
    assert json.loads(s3.get_bucket_policy(Bucket="policy-victim")["Policy"]) == good


def test_botocore_reads_the_mapped_errors(sb):
    sts = boto3.client("sts", endpoint_url=sb.endpoint, config=NO_RETRY, **CREDS)
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/x", RoleSessionName="a" * 70)
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert "rolesessionname" in err.value.response["Error"]["Message"].lower()
    s3 = boto3.client("s3", endpoint_url=sb.endpoint, config=NO_RETRY, **CREDS)
    with pytest.raises(ClientError) as err:
        s3.list_objects(Bucket=BUCKET, MaxKeys=-5)
    assert err.value.response["Error"]["Code"] == "InvalidArgument"


# ---------------------------------------------------------------------- properties: never a 5xx

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40), st.floats(allow_nan=False, allow_infinity=False),
              st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=10)


@lru_cache(maxsize=None)
def member_names(service: str, op: str) -> list[str]:
    shape = model(service).operation_model(op).input_shape
    return list(shape.members) if shape is not None else []


@given(op=st.sampled_from(model("cloudwatch").operation_names + ["Bogus"]), data=st.data())
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_cloudwatch_json_body_is_never_a_5xx(sb, op, data):
    names = member_names("cloudwatch", op) if op != "Bogus" else []
    keys = st.sampled_from(names) if names else st.text(max_size=6)
    body = data.draw(st.one_of(st.dictionaries(keys, json_values, max_size=4).map(json.dumps), json_values.map(json.dumps),
                               st.binary(max_size=40).map(lambda b: b.decode("latin-1"))), label="body")
    status, headers, payload = cw_json(sb.endpoint, op, body.encode("utf-8", "surrogatepass"))
    if status >= 400:
        assert_4xx(status, headers, payload)


@given(op=st.sampled_from(model("cloudwatch").operation_names), body=st.binary(max_size=60))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_cloudwatch_cbor_body_is_never_a_5xx(sb, op, body):
    status, headers, payload = send(sb.endpoint, "POST", f"/service/{CW_TARGET}/operation/{op}", body,
                                    {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"},
                                    "monitoring")
    assert status < 500, (status, payload[:300])


@given(service=st.sampled_from(["sts", "monitoring"]), data=st.data())
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_query_protocol_request_is_never_a_5xx(sb, service, data):
    botocore_name = {"sts": "sts", "monitoring": "cloudwatch"}[service]
    ops = model(botocore_name).operation_names
    action = data.draw(st.one_of(st.sampled_from(ops), st.text(max_size=10)), label="action")
    names = [model(botocore_name).operation_model(action).input_shape.members[n].serialization.get("name", n)
             for n in member_names(botocore_name, action)] if action in ops else []
    key = st.one_of(st.sampled_from(names), st.text(max_size=8)) if names else st.text(max_size=8)
    extra = data.draw(st.dictionaries(st.one_of(key, key.map(lambda k: f"{k}.member.1"),
                                                key.map(lambda k: f"{k}.member.1.Name")),
                                      st.one_of(st.text(max_size=12), st.sampled_from(["1", "-1", "x" * 3000, "2000-01-01T00:00:00Z", "true"])),
                                      max_size=5), label="params")
    params = {"Action": action, "Version": model(botocore_name).api_version, **extra}
    status, headers, payload = form(sb.endpoint, service, params)
    if status >= 400:
        assert_4xx(status, headers, payload)


S3_QUERY = sorted({m.serialization["name"] for op in model("s3").operation_names
                   if (shape := model("s3").operation_model(op).input_shape) is not None
                   for m in shape.members.values() if m.serialization.get("location") == "querystring"}
                  | {"uploads", "policy", "acl", "tagging", "versioning", "delete", "restore", "select", "cors",
                     "lifecycle", "list-type", "versions", "location", "website", "logging"})


@given(method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]),
       key=st.one_of(st.none(), st.sampled_from(["k", "a/b.jsonl", "x y", "%"])),
       query=st.dictionaries(st.sampled_from(S3_QUERY), st.one_of(st.just(""), st.text(max_size=8),
                                                                   st.sampled_from(["1", "-1", "abc", "9" * 30])),
                             max_size=3),
       body=st.one_of(st.just(b""), st.binary(max_size=30), json_values.map(lambda v: json.dumps(v).encode())))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_s3_request_is_never_a_5xx_and_the_bucket_keeps_working(sb, method, key, query, body):
    bucket = "prop-bucket"
    s3 = s3_with_bucket(sb, bucket)
    path = f"/{bucket}" + (f"/{key}" if key is not None else "")
    qs = "&".join(k if v == "" else f"{k}={urllib.parse.quote(v)}" for k, v in query.items())
    status, headers, payload = send(sb.endpoint, method, path, body, {"Content-Type": "application/octet-stream"},
                                    query=qs)
    assert status < 500, (method, path, qs, status, payload[:300])
    try:
        s3.put_object(Bucket=bucket, Key="probe", Body=b"ok")
        assert s3.get_object(Bucket=bucket, Key="probe")["Body"].read() == b"ok"
    except ClientError as err:  # the request may have deleted the bucket, or set a policy that denies: both 4xx
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] < 500, err.response


statement = st.fixed_dictionaries({}, optional={
    "Sid": st.one_of(st.text(max_size=5), st.integers()),
    "Effect": st.one_of(st.sampled_from(["Allow", "Deny"]), json_values),
    "Principal": st.one_of(st.just("*"), st.fixed_dictionaries({"AWS": st.one_of(st.just("*"), json_values)}), json_values),
    "Action": st.one_of(st.sampled_from(["s3:*", "s3:GetObject", ["s3:PutObject", "s3:GetObject"]]), json_values),
    "NotAction": st.one_of(st.just("s3:DeleteObject"), json_values),
    "Resource": st.one_of(st.sampled_from(["*", "arn:aws:s3:::policy-prop/*"]), json_values),
    "Condition": st.one_of(st.just({"Bool": {"aws:SecureTransport": "false"}}), json_values),
})
policies = st.one_of(
    st.fixed_dictionaries({"Statement": st.one_of(st.lists(statement, max_size=3), statement, json_values)},
                          optional={"Version": st.sampled_from(["2012-10-17", "2008-10-17", "1999", 5]),
                                    "Id": json_values}).map(json.dumps),
    json_values.map(json.dumps), st.text(max_size=30))


@given(policy=policies)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_bucket_policy_is_stored_or_refused_and_never_breaks_the_bucket(sb, policy):
    bucket = "policy-prop"
    s3 = s3_with_bucket(sb, bucket)
    status, headers, payload = send(sb.endpoint, "PUT", f"/{bucket}", policy.encode("utf-8", "surrogatepass"),
                                    query="policy")
    if status >= 300:
        assert_4xx(status, headers, payload, code="MalformedPolicy")
    for _ in range(2):
        status, _h, payload = send(sb.endpoint, "PUT", f"/{bucket}/obj", b"data")
        assert status < 500, payload[:300]
        status, _h, payload = send(sb.endpoint, "GET", f"/{bucket}", query="list-type=2")
        assert status < 500, payload[:300]
    s3.delete_bucket_policy(Bucket=bucket)
