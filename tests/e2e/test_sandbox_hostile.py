"""Hostile requests to the sandbox's own JSON operations: always a 4xx in the shape botocore's model
declares for the operation (never a 500), unknown members dropped (never stored or echoed), and
nothing a client sends kept without bound.

Every request here is raw HTTP (the hostile bytes must reach the server as written); what SDKs make of
the answers is checked with boto3 itself.
"""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from functools import lru_cache

import boto3
import botocore.session
import pytest
from botocore.config import Config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import NOVA
from tierconsole.sandbox.app import Sandbox

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
CREDS = {"region_name": "us-east-1", "aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}
ROLE = "arn:aws:iam::123456789012:role/BatchRole"
NOVA_PATH = NOVA.replace(":", "%3A")
SQ_TARGET = "ServiceQuotasV20190624"


def auth(service: str) -> str:
    return (f"AWS4-HMAC-SHA256 Credential=sandbox/20260101/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0")


def send(endpoint: str, method: str, path: str, body: bytes = b"", headers: dict | None = None,
         service: str = "bedrock") -> tuple[int, dict, bytes]:
    h = {"Content-Type": "application/json", "Authorization": auth(service), **(headers or {})}
    req = urllib.request.Request(endpoint + path, data=body if method != "GET" else None, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()  # case-insensitive, as HTTP header names are
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@lru_cache(maxsize=None)
def declared_errors(service: str, operation: str) -> set[str]:
    model = botocore.session.get_session().get_service_model(service)
    return {e.name for e in model.operation_model(operation).error_shapes}


@lru_cache(maxsize=1)
def _quota_code() -> str:
    from tierconsole.sandbox.config import load_sandbox_config
    from tierconsole.sandbox.services.servicequotas import bedrock_quotas
    return bedrock_quotas(load_sandbox_config().catalog)[0].code


USER = [{"role": "user", "content": [{"text": "hello"}]}]
JOB = {"jobName": "hostile", "roleArn": ROLE, "modelId": NOVA,
       "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://tierconsole-sandbox/in/x.jsonl"}},
       "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://tierconsole-sandbox/out/"}}}

# operation -> (botocore service, method, path, extra headers, SigV4 service, a valid body, declared validation error)
OPERATIONS = {
    "Converse": ("bedrock-runtime", "POST", f"/model/{NOVA_PATH}/converse", {}, "bedrock",
                 {"messages": USER, "inferenceConfig": {"maxTokens": 8}}, "ValidationException"),
    "ConverseStream": ("bedrock-runtime", "POST", f"/model/{NOVA_PATH}/converse-stream", {}, "bedrock",
                       {"messages": USER, "inferenceConfig": {"maxTokens": 8}}, "ValidationException"),
    "InvokeModel": ("bedrock-runtime", "POST", f"/model/{NOVA_PATH}/invoke", {}, "bedrock",
                    {"messages": USER, "inferenceConfig": {"maxTokens": 8}}, "ValidationException"),
    "InvokeModelWithResponseStream": ("bedrock-runtime", "POST", f"/model/{NOVA_PATH}/invoke-with-response-stream",
                                      {}, "bedrock", {"messages": USER, "inferenceConfig": {"maxTokens": 8}},
                                      "ValidationException"),
    "CreateModelInvocationJob": ("bedrock", "POST", "/model-invocation-job", {}, "bedrock", JOB,
                                 "ValidationException"),
    "ListServiceQuotas": ("service-quotas", "POST", "/", {"X-Amz-Target": f"{SQ_TARGET}.ListServiceQuotas",
                                                          "Content-Type": "application/x-amz-json-1.1"},
                          "servicequotas", {"ServiceCode": "bedrock"}, "IllegalArgumentException"),
    "ListAWSDefaultServiceQuotas": ("service-quotas", "POST", "/",
                                    {"X-Amz-Target": f"{SQ_TARGET}.ListAWSDefaultServiceQuotas",
                                     "Content-Type": "application/x-amz-json-1.1"},
                                    "servicequotas", {"ServiceCode": "bedrock"}, "IllegalArgumentException"),
    "GetServiceQuota": ("service-quotas", "POST", "/", {"X-Amz-Target": f"{SQ_TARGET}.GetServiceQuota",
                                                        "Content-Type": "application/x-amz-json-1.1"},
                        "servicequotas", {"ServiceCode": "bedrock", "QuotaCode": "@CODE@"}, "IllegalArgumentException"),
    "GetAWSDefaultServiceQuota": ("service-quotas", "POST", "/",
                                  {"X-Amz-Target": f"{SQ_TARGET}.GetAWSDefaultServiceQuota",
                                   "Content-Type": "application/x-amz-json-1.1"},
                                  "servicequotas", {"ServiceCode": "bedrock", "QuotaCode": "@CODE@"},
                                  "IllegalArgumentException"),
    "StartQuotaUtilizationReport": ("service-quotas", "POST", "/",
                                    {"X-Amz-Target": f"{SQ_TARGET}.StartQuotaUtilizationReport",
                                     "Content-Type": "application/x-amz-json-1.1"},
                                    "servicequotas", {}, "IllegalArgumentException"),
    "GetQuotaUtilizationReport": ("service-quotas", "POST", "/",
                                  {"X-Amz-Target": f"{SQ_TARGET}.GetQuotaUtilizationReport",
                                   "Content-Type": "application/x-amz-json-1.1"},
                                  "servicequotas", {"ReportId": "report-1", "MaxResults": 10},
                                  "IllegalArgumentException"),
    **{op: ("service-quotas", "POST", "/", {"X-Amz-Target": f"{SQ_TARGET}.{op}",
                                            "Content-Type": "application/x-amz-json-1.1"}, "servicequotas", body,
            "IllegalArgumentException") for op, body in (
        ("RequestServiceQuotaIncrease", {"ServiceCode": "bedrock", "QuotaCode": "@CODE@", "DesiredValue": 1e9}),
        ("ListRequestedServiceQuotaChangeHistory", {"ServiceCode": "bedrock", "MaxResults": 10}),
        ("ListRequestedServiceQuotaChangeHistoryByQuota", {"ServiceCode": "bedrock", "QuotaCode": "@CODE@"}),
        ("GetRequestedServiceQuotaChange", {"RequestId": "0123456789abcdef0123456789abcdef"}))},
}
HOLE = "\x00HOLE\x00"


def body_with(op: str, raw_value: str, where: tuple = ()) -> bytes:
    """The operation's valid body with the JSON value at ``where`` replaced by ``raw_value`` (raw JSON text;
    ``where`` = () puts it in a new member ``extra``)."""
    doc = json.loads(json.dumps(OPERATIONS[op][5]).replace("@CODE@", _quota_code()))
    if not where:
        doc["extra"] = HOLE
    else:
        node = doc
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = HOLE
    return json.dumps(doc).replace(json.dumps(HOLE), raw_value).encode()


def call(endpoint: str, op: str, body: bytes) -> tuple[int, dict, bytes]:
    _svc, method, path, headers, sigv4, _body, _code = OPERATIONS[op]
    return send(endpoint, method, path, body, headers, sigv4)


def assert_declared_4xx(op: str, status: int, headers: dict, payload: bytes, code: str | None = None) -> dict:
    """A 4xx whose error type is one the operation declares, with a JSON body in that error's shape."""
    service = OPERATIONS[op][0]
    assert 400 <= status < 500, (op, status, payload[:300])
    got = headers.get("x-amzn-ErrorType")
    assert got in declared_errors(service, op), (op, got, payload[:300])
    if code is not None:
        assert got == code, (op, got, payload[:300])
    doc = json.loads(payload)
    message_key = "Message" if service == "service-quotas" else "message"
    assert isinstance(doc.get(message_key), str) and doc[message_key], doc
    return doc


@pytest.fixture(scope="module")
def quiet(module_sandbox):
    return module_sandbox


DEEP_ARRAY = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000
BOMBS = {
    "5000 [": DEEP_ARRAY,
    "5000 {": DEEP_OBJECT,
    "unclosed 5000 [": "[" * 5000,
    "5000-digit integer": "9" * 5000,
    "lone surrogate": '"\\ud800"',
    "NaN": "NaN",
    "1e999": "1e999",
}


@pytest.mark.parametrize("bomb", BOMBS.values(), ids=BOMBS.keys())
@pytest.mark.parametrize("op", OPERATIONS)
def test_every_json_operation_answers_bombs_with_its_declared_validation_error(quiet, op, bomb):
    status, headers, payload = call(quiet.endpoint, op, body_with(op, bomb))
    assert_declared_4xx(op, status, headers, payload, OPERATIONS[op][6])


def test_a_lone_surrogate_in_prompt_text_is_a_validation_error_naming_the_field(quiet):
    for op in ("Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream"):
        status, headers, payload = call(quiet.endpoint, op, body_with(op, '"a\\ud800b"', ("messages", 0)))
        doc = assert_declared_4xx(op, status, headers, payload, "ValidationException")
        assert "surrogate" in doc["message"] and "messages[0]" in doc["message"], doc


def test_a_deep_next_token_within_its_length_limit_is_refused(quiet):
    # 1,536 "[" base64-encode to exactly 2,048 characters: the longest token either model allows
    token = base64.b64encode(b"[" * 1536).decode()
    assert len(token) == 2048
    status, headers, payload = send(quiet.endpoint, "GET", "/model-invocation-jobs?nextToken=" + token)
    assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException", payload
    for op in ("ListServiceQuotas", "ListAWSDefaultServiceQuotas"):
        status, headers, payload = call(quiet.endpoint, op, json.dumps({"ServiceCode": "bedrock",
                                                                        "NextToken": token}).encode())
        assert_declared_4xx(op, status, headers, payload, "InvalidPaginationTokenException")


@pytest.mark.parametrize("op, member, value", [
    ("ListServiceQuotas", "NextToken", 5), ("ListServiceQuotas", "NextToken", {"offset": 0}),
    ("ListServiceQuotas", "QuotaCode", ["L-1"]), ("ListServiceQuotas", "QuotaCode", {"a": 1}),
    ("ListServiceQuotas", "MaxResults", "10"), ("ListServiceQuotas", "QuotaAppliedAtLevel", "NOPE"),
    ("GetServiceQuota", "QuotaCode", [1]), ("GetServiceQuota", "QuotaCode", 7),
    ("GetAWSDefaultServiceQuota", "ServiceCode", {"x": 1}), ("ListAWSDefaultServiceQuotas", "NextToken", True),
    ("GetQuotaUtilizationReport", "ReportId", [1]), ("GetQuotaUtilizationReport", "MaxResults", "10"),
    ("GetQuotaUtilizationReport", "MaxResults", 0), ("GetQuotaUtilizationReport", "MaxResults", 1001),
])
def test_service_quotas_members_of_the_wrong_type_are_illegal_arguments(quiet, op, member, value):
    doc = json.loads(body_with(op, "null", (member,)))
    doc[member] = value
    status, headers, payload = call(quiet.endpoint, op, json.dumps(doc).encode())
    doc = assert_declared_4xx(op, status, headers, payload, "IllegalArgumentException")
    assert member in doc["Message"], doc


def test_service_quotas_errors_parse_into_botocore_modeled_exceptions(quiet):
    client = boto3.client("service-quotas", endpoint_url=quiet.endpoint, config=NO_RETRY, **CREDS)
    with pytest.raises(client.exceptions.NoSuchResourceException) as err:
        client.get_service_quota(ServiceCode="bedrock", QuotaCode="L-00000000")
    assert err.value.response["Message"] == err.value.response["Error"]["Message"] != ""
    with pytest.raises(client.exceptions.InvalidPaginationTokenException):
        client.list_service_quotas(ServiceCode="bedrock", NextToken="AAAA")


# ---------------------------------------------------------------------- the property: any hazard anywhere

def _paths(value, prefix=()):
    """Every JSON path in a document (the holes a hazard can go into)."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False,
                         allow_infinity=False), st.text(max_size=20))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                                  st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                           max_leaves=8)
hazards = st.one_of(
    st.sampled_from(list(BOMBS.values())),
    st.integers(1, 6000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 6000).map(lambda n: '{"k":' * n + "0" + "}" * n),
    st.integers(1, 6000).map(lambda n: "7" * n),
    st.sampled_from(['"\\udfff"', '"\\ud800\\u0041"', "Infinity", "-Infinity", "-1e400", '"\\u0000"', "1.5e308",
                     '"' + "x" * 70_000 + '"']),
    json_values.map(json.dumps),
)


@given(op=st.sampled_from(list(OPERATIONS)), data=st.data(), hazard=hazards)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
def test_any_hazard_at_any_member_of_any_json_operation_is_never_a_500(quiet, op, data, hazard):
    base = json.loads(json.dumps(OPERATIONS[op][5]).replace("@CODE@", _quota_code()))
    where = data.draw(st.sampled_from(list(_paths(base))[1:] + [()]), label="where")
    status, headers, payload = call(quiet.endpoint, op, body_with(op, hazard, where))
    if status == 200:
        return
    assert_declared_4xx(op, status, headers, payload)


# ---------------------------------------------------------------------- unknown members: dropped, never echoed

def _job_body(name: str, **changes) -> dict:
    doc = json.loads(json.dumps(JOB))
    doc["jobName"] = name
    for dotted, value in changes.items():
        node = doc
        *parents, last = dotted.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
    return doc


def test_an_extra_key_in_input_data_config_is_dropped_and_batch_list_still_parses(quiet, tmp_path):
    body = _job_body("extra-union-key", **{"inputDataConfig.bogusConfig": {"a": 1}})
    status, _h, payload = call(quiet.endpoint, "CreateModelInvocationJob", json.dumps(body).encode())
    assert status == 200, payload
    arn = json.loads(payload)["jobArn"]
    status, _h, raw_job = send(quiet.endpoint, "GET", "/model-invocation-job/" + arn.replace("/", "%2F"))
    assert status == 200 and b"bogusConfig" not in raw_job
    br = boto3.client("bedrock", endpoint_url=quiet.endpoint, config=NO_RETRY, **CREDS)
    listed = br.list_model_invocation_jobs()["invocationJobSummaries"]  # botocore's parser: one union member
    assert arn in [j["jobArn"] for j in listed]
    assert br.get_model_invocation_job(jobIdentifier=arn)["inputDataConfig"] == {
        "s3InputDataConfig": {"s3Uri": "s3://tierconsole-sandbox/in/x.jsonl"}}


def test_tierconsole_batch_list_survives_a_job_created_with_unknown_members(quiet, tmp_path):
    import os
    import subprocess
    import sys
    body = _job_body("extra-for-cli", **{"inputDataConfig.s3InputDataConfig.bogus": 1,
                                         "inputDataConfig.other": {"x": [1, 2]}, "bogusTop": "y"})
    status, _h, payload = call(quiet.endpoint, "CreateModelInvocationJob", json.dumps(body).encode())
    assert status == 200, payload
    cfg = tmp_path / "cfg" / "tierconsole" / "profiles"
    cfg.mkdir(parents=True)
    (cfg / "hostile.yaml").write_text(f"region: us-east-1\nendpoint_url: {quiet.endpoint}\n"
                                      "models: [amazon.nova-lite-v1:0]\n")
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    out = subprocess.run([sys.executable, "-m", "tierconsole.cli", "batch", "list", "--json", "--profile", "hostile"],
                         capture_output=True, text=True, timeout=90, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "extra-for-cli" in out.stdout and "bogus" not in out.stdout


def test_an_extra_member_nested_977_deep_does_not_break_listing(quiet):
    deep = '{"a":' * 977 + "1" + "}" * 977
    status, _h, payload = call(quiet.endpoint, "CreateModelInvocationJob",
                               body_with("CreateModelInvocationJob", deep, ("outputDataConfig", "deepExtra")))
    assert status in (200, 400), payload
    for _ in range(2):  # and it stays that way
        status, _h, payload = send(quiet.endpoint, "GET", "/model-invocation-jobs")
        assert status == 200 and b"deepExtra" not in payload, payload[:300]


structures = st.sampled_from(["", "inputDataConfig", "inputDataConfig.s3InputDataConfig", "outputDataConfig",
                              "outputDataConfig.s3OutputDataConfig"])


@given(where=structures, key=st.text(min_size=1, max_size=12), value=json_values)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_unknown_members_anywhere_are_never_stored_or_echoed(quiet, where, key, value):
    model = botocore.session.get_session().get_service_model("bedrock")
    shape = model.operation_model("CreateModelInvocationJob").input_shape
    for part in filter(None, where.split(".")):
        shape = shape.members[part]
    if key in shape.members:
        return
    marker = "unknownMember" + base64.b32encode(key.encode()).decode().rstrip("=")
    body = _job_body("prop-unknown", **{f"{where}.{marker}" if where else marker: value})
    status, _h, payload = call(quiet.endpoint, "CreateModelInvocationJob", json.dumps(body).encode())
    assert status == 200, payload
    status, _h, listing = send(quiet.endpoint, "GET", "/model-invocation-jobs")
    assert status == 200 and marker.encode() not in listing
    br = boto3.client("bedrock", endpoint_url=quiet.endpoint, config=NO_RETRY, **CREDS)
    br.list_model_invocation_jobs(maxResults=5)  # parses


# ---------------------------------------------------------------------- serviceTier: four values, nothing kept

def _state_sizes(sb: Sandbox) -> dict:
    pub = sb.metrics
    return {"outcomes": len(sb.outcomes.recent), "pending": len(pub._pending),
            "dims": len({dims for (_s, _n, dims) in pub._pending})}


@pytest.mark.parametrize("tier", ["standard", "PRIORITY", "Flex ", "reserved\x00", "x" * 1_000_000],
                         ids=["alias", "case", "space", "nul", "1MB"])
def test_an_invalid_service_tier_is_rejected_and_nothing_of_it_is_kept(make_sandbox, tmp_path, tier):
    log = tmp_path / "access.jsonl"
    sb = make_sandbox(speed=50.0, access_log=log)
    before = _state_sizes(sb.sandbox)
    for i in range(20 if len(tier) > 1000 else 3):
        body = json.dumps({"messages": USER, "serviceTier": {"type": tier}}).encode()
        status, headers, payload = send(sb.endpoint, "POST", f"/model/{NOVA_PATH}/converse", body)
        assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException", payload[:300]
        message = json.loads(payload)["message"]
        assert "serviceTier.type" in message and "priority, default, flex, reserved" in message
        assert len(payload) < 2000
        header_tier = tier[:60_000].replace("\x00", "")  # a header cannot carry NUL; keep under aiohttp's limit
        if header_tier in ("priority", "default", "flex", "reserved"):
            continue
        status, headers, payload = send(sb.endpoint, "POST", f"/model/{NOVA_PATH}/invoke",
                                        json.dumps({"messages": USER}).encode(),
                                        {"X-Amzn-Bedrock-Service-Tier": header_tier})
        assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException", payload[:300]
        assert len(payload) < 2000
    sb.call(sb.sandbox.metrics.flush)
    assert _state_sizes(sb.sandbox) == before  # no outcome, no metric series, no dimension
    lines = log.read_text().splitlines()
    assert lines and all(len(line) < 2000 for line in lines)
    assert all(json.loads(line)["tier_asked"] is None for line in lines)


@given(tier=st.text(max_size=40))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_only_the_four_wire_tiers_are_served(quiet, tier):
    body = json.dumps({"messages": USER, "inferenceConfig": {"maxTokens": 4}, "serviceTier": {"type": tier}})
    status, headers, payload = send(quiet.endpoint, "POST", f"/model/{NOVA_PATH}/converse", body.encode())
    if tier in ("priority", "default", "flex"):
        assert status == 200 and json.loads(payload)["serviceTier"]["type"] == tier
    else:  # reserved: Nova Lite has no reservation in the built-in profile
        assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException", payload
    assert all(o.asked_tier in (None, "priority", "default", "flex", "reserved") for o in quiet.outcomes.recent)


def test_access_log_fields_are_bounded(make_sandbox, tmp_path):
    log = tmp_path / "access.jsonl"
    sb = make_sandbox(speed=50.0, access_log=log)
    long_id = "m" * 7000
    send(sb.endpoint, "POST", f"/model/{long_id}/converse", json.dumps({"messages": USER}).encode())
    send(sb.endpoint, "POST", "/", b"{}", {"X-Amz-Target": "GraniteServiceVersion20100801." + "Op" * 30_000,
                                           "Content-Type": "application/x-amz-json-1.0"}, "monitoring")
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and all(len(line) < 2000 for line in lines), [len(x) for x in lines]


# ---------------------------------------------------------------------- the whole endpoint: never a 5xx

PATHS = ["/", f"/model/{NOVA_PATH}/converse", f"/model/{NOVA_PATH}/converse-stream", f"/model/{NOVA_PATH}/invoke",
         f"/model/{NOVA_PATH}/invoke-with-response-stream", "/model/x/count-tokens", "/model-invocation-job",
         "/model-invocation-job/abc", "/model-invocation-job/abc/stop", "/model-invocation-jobs",
         "/foundation-models", f"/foundation-models/{NOVA_PATH}", "/inference-profiles", "/tierconsole-sandbox",
         "/tierconsole-sandbox/k", "/service/GraniteServiceVersion20100801/operation/GetMetricData",
         f"/inference-profiles/us.{NOVA_PATH}", "/inference-profiles/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012"
         "%3Aapplication-inference-profile%2Fabcdefabcdef", "/tagResource", "/untagResource", "/listTagsForResource",
         f"/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.{NOVA_PATH}/converse",
         f"/model/global.{NOVA_PATH}/invoke"]
segment = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12).map(
    lambda t: urllib.request.quote(t, safe=""))


@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"]),
       path=st.one_of(st.sampled_from(PATHS), st.lists(segment, min_size=1, max_size=4).map(lambda p: "/" + "/".join(p))),
       query=st.one_of(st.just(""), st.dictionaries(st.sampled_from(["nextToken", "maxResults", "statusEquals",
                                                                     "sortOrder", "submitTimeAfter", "byProvider", "type",
                                                                     "Action", "max-keys", "policy", "x"]),
                                                    st.text(max_size=10), max_size=3).map(urllib.parse.urlencode)),
       service=st.sampled_from(["bedrock", "servicequotas", "monitoring", "sts", "s3", "nope", "bedrock-runtime"]),
       target=st.one_of(st.none(), st.sampled_from(["ServiceQuotasV20190624.ListServiceQuotas",
                                                    "GraniteServiceVersion20100801.ListMetrics",
                                                    "ServiceQuotasV20190624.Nope", "Bogus.X"])),
       ctype=st.sampled_from(["application/json", "application/x-amz-json-1.1", "application/x-www-form-urlencoded",
                              "application/cbor", "application/vnd.amazon.eventstream", "text/plain"]),
       tier=st.one_of(st.none(), st.text(st.characters(codec="latin-1", exclude_characters="\r\n\x00"), max_size=20)),
       body=st.one_of(st.binary(max_size=200), hazards.map(str.encode), json_values.map(lambda v: json.dumps(v).encode())))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
def test_any_request_to_the_endpoint_is_never_a_5xx(quiet, method, path, query, service, target, ctype, tier, body):
    headers = {"Content-Type": ctype}
    if target:
        headers["X-Amz-Target"] = target
    if tier is not None:
        headers["X-Amzn-Bedrock-Service-Tier"] = tier
    status, _h, payload = send(quiet.endpoint, method, path + (f"?{query}" if query else ""), body, headers, service)
    assert status < 500, (status, payload[:300])
