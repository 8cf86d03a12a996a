"""Inference profiles end to end with boto3 on loopback: system-defined (us., eu., apac., global.) and
application profiles through the control plane, and every model identifier form through the runtime
(botocore URL-encodes the whole label: an ARN's "/" travels as %2F)."""
from __future__ import annotations

import json
import time
import uuid

import botocore.exceptions
import pytest
import yaml

from tierconsole.core.domain.routes import RouteKind
from tierconsole.sandbox.config import parse_sandbox_config
from tests.conftest import GPT, NOVA, REGION, SONNET, boto3_client, user

ACCOUNT = "123456789012"
PROFILE_ONLY = ("Invocation of model ID {id} with on-demand throughput isn't supported. Retry your request with the "
                "ID or ARN of an inference profile that contains this model.")


def fm_arn(model: str, region: str = REGION) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model}"


def ip_arn(profile_id: str) -> str:
    return f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{profile_id}"


def config(**sandbox):
    """The built-in sandbox profile with ``sandbox`` settings changed; ``profile_only`` models get on_demand: false."""
    doc = yaml.safe_load(open("profiles/sandbox.yaml"))
    for m in doc["sandbox"]["models"]:
        if m["id"] in sandbox.get("profile_only", ()):
            m["on_demand"] = False
    doc["sandbox"].update({k: v for k, v in sandbox.items() if k != "profile_only"})
    return parse_sandbox_config(doc, "test.yaml")


@pytest.fixture
def sb(make_sandbox, tmp_path):
    """A quiet sandbox with Sonnet profile-only (as on AWS), at most 3 application profiles, an access log."""
    return make_sandbox(config(profile_only=[SONNET], max_application_profiles=3), speed=50.0,
                        access_log=tmp_path / "access.jsonl")


def error(fn, **kwargs) -> tuple[str, str, int]:
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kwargs)
    err = e.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def recorded(sb, n: int, timeout: float = 5.0) -> list:
    """The sandbox's last ``n`` outcomes, once it has recorded ``n``."""
    deadline = time.monotonic() + timeout
    while len(sb.sandbox.outcomes.recent) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    return list(sb.sandbox.outcomes.recent)[-n:]


def create(bedrock, name: str, source: str, **extra) -> str:
    r = bedrock.create_inference_profile(inferenceProfileName=name, modelSource={"copyFrom": source}, **extra)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 201 and r["status"] == "ACTIVE"
    return r["inferenceProfileArn"]


# ------------------------------------------------------------------ runtime: every identifier form

def test_converse_accepts_every_identifier_form_and_logs_it_as_called(sb, tmp_path):
    bedrock = boto3_client("bedrock", sb.endpoint)
    app_us = create(bedrock, "claims-team", ip_arn(f"us.{SONNET}"))
    app_fm = create(bedrock, "nova-direct", fm_arn(NOVA))
    forms = [  # identifier, model, route kind, series, geo
        (NOVA, NOVA, RouteKind.ON_DEMAND, NOVA, None),
        (fm_arn(NOVA), NOVA, RouteKind.ON_DEMAND, NOVA, None),
        (f"us.{NOVA}", NOVA, RouteKind.CROSS_REGION, f"us.{NOVA}", "us"),
        (ip_arn(f"us.{NOVA}"), NOVA, RouteKind.CROSS_REGION, f"us.{NOVA}", "us"),
        (f"us.{SONNET}", SONNET, RouteKind.CROSS_REGION, f"us.{SONNET}", "us"),
        (f"global.{SONNET}", SONNET, RouteKind.GLOBAL, f"global.{SONNET}", "global"),
        (ip_arn(f"global.{SONNET}"), SONNET, RouteKind.GLOBAL, f"global.{SONNET}", "global"),
        (app_us, SONNET, RouteKind.CROSS_REGION, app_us, "us"),
        (app_fm, NOVA, RouteKind.ON_DEMAND, app_fm, None),
        (app_us.rsplit("/", 1)[1], SONNET, RouteKind.CROSS_REGION, app_us, "us"),  # an application profile's id
    ]
    rt = boto3_client("bedrock-runtime", sb.endpoint)
    outcomes = sb.sandbox.outcomes.recent
    for identifier, model, kind, series, geo in forms:
        r = rt.converse(modelId=identifier, messages=user("route me"), inferenceConfig={"maxTokens": 20},
                        serviceTier={"type": "priority"})
        assert r["serviceTier"] == {"type": "priority"}, identifier
        assert r["output"]["message"]["content"][0]["text"].startswith("SANDBOX "), identifier
        o = outcomes[-1]
        assert (o.model_id, o.identifier, o.status) == (model, identifier, 200)
        assert (o.route.kind, o.route.model_id, o.route.series, o.route.geo) == (kind, model, series, geo), identifier
    lines = [json.loads(line) for line in (tmp_path / "access.jsonl").read_text().splitlines()]
    runtime = [(e["operation"], e["identifier"], e["model"], e["route"], e["status"]) for e in lines
               if e["operation"] == "Converse"]
    assert runtime == [("Converse", ident, model, kind.value, 200) for ident, model, kind, *_ in forms]


@pytest.mark.parametrize("identifier", [f"us.{SONNET}", ip_arn(f"global.{SONNET}"), "application"])
def test_streams_and_invoke_accept_profiles_and_url_encoded_arns(sb, identifier):
    if identifier == "application":
        identifier = create(boto3_client("bedrock", sb.endpoint), "streams", ip_arn(f"us.{SONNET}"))
    rt = boto3_client("bedrock-runtime", sb.endpoint)
    events = list(rt.converse_stream(modelId=identifier, messages=user("stream"), inferenceConfig={"maxTokens": 30},
                                     serviceTier={"type": "flex"})["stream"])
    assert "messageStart" in events[0] and events[-1]["metadata"]["serviceTier"] == {"type": "flex"}
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 30,
                       "messages": [{"role": "user", "content": "invoke me"}]})
    r = rt.invoke_model(modelId=identifier, body=body, serviceTier="default")
    assert json.loads(r["body"].read())["content"][0]["text"].startswith("SANDBOX ")
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-bedrock-service-tier"] == "default"
    r = rt.invoke_model_with_response_stream(modelId=identifier, body=body)
    chunks = [json.loads(e["chunk"]["bytes"]) for e in r["body"] if "chunk" in e]
    assert chunks[0]["type"] == "message_start" and chunks[-1]["type"] == "message_stop"
    last = recorded(sb, 3)  # a stream's outcome is recorded just after its last event is sent
    assert [o.identifier for o in last] == [identifier] * 3 and {o.model_id for o in last} == {SONNET}


def test_an_arn_with_a_literal_slash_reaches_the_runtime_too(sb):
    """A hand-made request that does not encode the ARN's "/" is a runtime call, not a control-plane 404."""
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    app = create(boto3_client("bedrock", sb.endpoint), "literal", ip_arn(f"us.{SONNET}"))
    url = f"{sb.endpoint}/model/{app}/converse"
    req = AWSRequest("POST", url, data=json.dumps({"messages": user("hi")}),
                     headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("sandbox", "sandbox"), "bedrock", REGION).add_auth(req)
    with urllib.request.urlopen(urllib.request.Request(url, data=req.body, headers=dict(req.headers),
                                                       method="POST")) as resp:
        assert json.loads(resp.read())["output"]["message"]["content"][0]["text"].startswith("SANDBOX ")


def test_a_profile_only_model_refuses_a_direct_call_with_aws_text(sb):
    rt = boto3_client("bedrock-runtime", sb.endpoint)
    for identifier in (SONNET, fm_arn(SONNET)):
        assert error(rt.converse, modelId=identifier, messages=user("hi")) == (
            "ValidationException", PROFILE_ONLY.format(id=SONNET), 400)
    code, message, status = error(rt.invoke_model, modelId=SONNET,
                                  body=json.dumps({"messages": [{"role": "user", "content": "x"}], "max_tokens": 5}))
    assert (code, message, status) == ("ValidationException", PROFILE_ONLY.format(id=SONNET), 400)
    with pytest.raises(botocore.exceptions.ClientError) as e:  # refused before the stream starts
        rt.converse_stream(modelId=SONNET, messages=user("hi"))
    assert e.value.response["Error"]["Code"] == "ValidationException"
    models = boto3_client("bedrock", sb.endpoint).list_foundation_models()["modelSummaries"]
    assert {m["modelId"]: m["inferenceTypesSupported"] for m in models}[SONNET] == ["INFERENCE_PROFILE"]
    on_demand = boto3_client("bedrock", sb.endpoint).list_foundation_models(byInferenceType="ON_DEMAND")
    assert [m["modelId"] for m in on_demand["modelSummaries"]] == [NOVA, GPT]


@pytest.mark.parametrize("identifier", [
    "amazon.nova-pro-v1:0", f"us.{GPT}", f"eu.{NOVA}", f"global.{NOVA}", f"apac.{SONNET}", fm_arn(NOVA, "eu-west-1"),
    ip_arn(f"eu.{NOVA}"), f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/abcdefabcdef",
    f"arn:aws:bedrock:{REGION}:210987654321:inference-profile/us.{NOVA}",
])
def test_an_unknown_identifier_is_resource_not_found(sb, identifier):
    rt = boto3_client("bedrock-runtime", sb.endpoint)
    code, message, status = error(rt.converse, modelId=identifier, messages=user("hi"))
    assert (code, status) == ("ResourceNotFoundException", 404), message
    assert identifier in message


# ------------------------------------------------------------------ control plane: system profiles

def test_list_and_get_system_profiles_in_botocores_shapes(sb):
    bedrock = boto3_client("bedrock", sb.endpoint)
    summaries = bedrock.list_inference_profiles()["inferenceProfileSummaries"]
    assert [p["inferenceProfileId"] for p in summaries] == [f"us.{NOVA}", f"us.{SONNET}", f"global.{SONNET}"]
    us_sonnet = summaries[1]
    assert us_sonnet["type"] == "SYSTEM_DEFINED" and us_sonnet["status"] == "ACTIVE"
    assert us_sonnet["inferenceProfileArn"] == ip_arn(f"us.{SONNET}")
    assert us_sonnet["inferenceProfileName"] == "US Anthropic Claude Sonnet 4.5"
    assert us_sonnet["models"] == [{"modelArn": fm_arn(SONNET, r)} for r in ("us-east-1", "us-east-2", "us-west-2")]
    assert us_sonnet["description"] == ("Routes requests to Anthropic Claude Sonnet 4.5 in us-east-1, us-east-2 "
                                        "and us-west-2.")
    for ident in (f"us.{SONNET}", ip_arn(f"us.{SONNET}")):
        got = bedrock.get_inference_profile(inferenceProfileIdentifier=ident)
        assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == us_sonnet
    assert error(bedrock.get_inference_profile, inferenceProfileIdentifier=f"eu.{NOVA}")[0] == \
        "ResourceNotFoundException"


def test_a_region_sees_its_geographys_profiles(make_sandbox):
    sb = make_sandbox(speed=50.0)
    import boto3
    from botocore.config import Config

    bedrock = boto3.client("bedrock", endpoint_url=sb.endpoint, region_name="eu-west-1", aws_access_key_id="sandbox",
                           aws_secret_access_key="sandbox", config=Config(retries={"total_max_attempts": 1}))
    ids = [p["inferenceProfileId"] for p in bedrock.list_inference_profiles()["inferenceProfileSummaries"]]
    assert ids == [f"eu.{NOVA}", f"eu.{SONNET}", f"global.{SONNET}"]
    assert bedrock.get_inference_profile(inferenceProfileIdentifier=f"eu.{NOVA}")["inferenceProfileArn"] == \
        f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:inference-profile/eu.{NOVA}"


def test_list_pages_and_filters_by_type(sb):
    bedrock = boto3_client("bedrock", sb.endpoint)
    apps = [create(bedrock, f"team-{i}", ip_arn(f"us.{SONNET}")) for i in range(2)]
    seen, token = [], None
    while True:
        page = bedrock.list_inference_profiles(maxResults=2, **({"nextToken": token} if token else {}))
        assert len(page["inferenceProfileSummaries"]) <= 2
        seen += [p["inferenceProfileArn"] for p in page["inferenceProfileSummaries"]]
        token = page.get("nextToken")
        if not token:
            break
    assert seen == [ip_arn(f"us.{NOVA}"), ip_arn(f"us.{SONNET}"), ip_arn(f"global.{SONNET}"), *apps]
    paged = [p["inferenceProfileArn"] for page in bedrock.get_paginator("list_inference_profiles").paginate(
        typeEquals="APPLICATION", PaginationConfig={"PageSize": 1}) for p in page["inferenceProfileSummaries"]]
    assert paged == apps
    system = bedrock.list_inference_profiles(typeEquals="SYSTEM_DEFINED")["inferenceProfileSummaries"]
    assert {p["type"] for p in system} == {"SYSTEM_DEFINED"} and len(system) == 3
    assert error(bedrock.list_inference_profiles, nextToken="bm90IGEgdG9rZW4")[0] == "ValidationException"
    assert error(bedrock.list_inference_profiles, maxResults=1001)[0] == "ValidationException"


# ------------------------------------------------------------------ control plane: application profiles

def test_create_get_delete_an_application_profile(sb):
    bedrock = boto3_client("bedrock", sb.endpoint)
    arn = create(bedrock, "claims team", ip_arn(f"us.{SONNET}"), description="Claims cost centre 42",
                 tags=[{"key": "team", "value": "claims"}, {"key": "cost-centre", "value": "42"}])
    profile_id = arn.rsplit("/", 1)[1]
    assert arn == f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/{profile_id}"
    assert len(profile_id) == 12 and profile_id.isalnum() and profile_id.islower() or profile_id.isdigit()
    got = bedrock.get_inference_profile(inferenceProfileIdentifier=arn)
    assert (got["inferenceProfileName"], got["description"], got["type"], got["status"], got["inferenceProfileId"]) \
        == ("claims team", "Claims cost centre 42", "APPLICATION", "ACTIVE", profile_id)
    assert got["models"] == [{"modelArn": fm_arn(SONNET, r)} for r in ("us-east-1", "us-east-2", "us-west-2")]
    assert got["createdAt"] == got["updatedAt"]
    assert bedrock.get_inference_profile(inferenceProfileIdentifier=profile_id)["inferenceProfileArn"] == arn
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "team", "value": "claims"},
                                                                       {"key": "cost-centre", "value": "42"}]
    one_region = bedrock.get_inference_profile(inferenceProfileIdentifier=create(bedrock, "nova", fm_arn(NOVA)))
    assert one_region["models"] == [{"modelArn": fm_arn(NOVA)}]
    assert bedrock.delete_inference_profile(inferenceProfileIdentifier=arn)["ResponseMetadata"]["HTTPStatusCode"] \
        == 200
    assert error(bedrock.get_inference_profile, inferenceProfileIdentifier=arn)[0] == "ResourceNotFoundException"
    assert error(bedrock.delete_inference_profile, inferenceProfileIdentifier=arn)[0] == "ResourceNotFoundException"
    rt = boto3_client("bedrock-runtime", sb.endpoint)
    assert error(rt.converse, modelId=arn, messages=user("gone"))[0] == "ResourceNotFoundException"
    assert error(bedrock.delete_inference_profile, inferenceProfileIdentifier=f"us.{SONNET}")[0] == \
        "ValidationException"


def test_create_is_idempotent_on_the_client_request_token(sb):
    bedrock = boto3_client("bedrock", sb.endpoint)
    token = uuid.uuid4().hex
    first = create(bedrock, "retry-me", ip_arn(f"us.{NOVA}"), clientRequestToken=token)
    again = create(bedrock, "retry-me", ip_arn(f"us.{NOVA}"), clientRequestToken=token)
    assert again == first
    assert len(bedrock.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"]) == 1
    code, message, status = error(bedrock.create_inference_profile, inferenceProfileName="retry-me-too",
                                  modelSource={"copyFrom": ip_arn(f"us.{NOVA}")}, clientRequestToken=token)
    assert (code, status) == ("ConflictException", 400) and token in message
    code, message, _ = error(bedrock.create_inference_profile, inferenceProfileName="retry-me",
                             modelSource={"copyFrom": ip_arn(f"us.{NOVA}")})
    assert code == "ConflictException" and "retry-me" in message  # a name is unique
    # botocore fills a fresh token when none is given: two calls are two profiles
    create(bedrock, "auto-1", fm_arn(NOVA))
    create(bedrock, "auto-2", fm_arn(NOVA))
    assert len(bedrock.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"]) == 3


def test_application_profiles_are_bounded(sb):
    bedrock = boto3_client("bedrock", sb.endpoint)
    arns = [create(bedrock, f"p{i}", fm_arn(NOVA)) for i in range(3)]
    code, message, status = error(bedrock.create_inference_profile, inferenceProfileName="p3",
                                  modelSource={"copyFrom": fm_arn(NOVA)})
    assert (code, status) == ("ServiceQuotaExceededException", 400) and "3" in message
    bedrock.delete_inference_profile(inferenceProfileIdentifier=arns[0])
    create(bedrock, "p3", fm_arn(NOVA))


@pytest.mark.parametrize("source, code", [
    (fm_arn(SONNET), "ValidationException"),  # a profile-only model: copy its system profile
    (ip_arn(f"eu.{NOVA}"), "ResourceNotFoundException"),  # not callable from us-east-1
    (fm_arn("amazon.nova-pro-v1:0"), "ResourceNotFoundException"),
    (f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/abcdefabcdef", "ValidationException"),
])
def test_create_refuses_a_source_it_cannot_copy(sb, source, code):
    bedrock = boto3_client("bedrock", sb.endpoint)
    assert error(bedrock.create_inference_profile, inferenceProfileName="x", modelSource={"copyFrom": source})[0] \
        == code
    assert bedrock.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"] == []


def test_create_checks_the_request_against_the_model(sb):
    bedrock = boto3_client("bedrock", sb.endpoint)
    code, message, _ = error(bedrock.create_inference_profile, inferenceProfileName="bad name!",
                             modelSource={"copyFrom": fm_arn(NOVA)})
    assert code == "ValidationException" and "inferenceProfileName" in message
    code, message, status = error(bedrock.create_inference_profile, inferenceProfileName="ok",
                                  modelSource={"copyFrom": fm_arn(NOVA)},
                                  tags=[{"key": f"k{i}", "value": "v"} for i in range(201)])
    assert (code, status) == ("TooManyTagsException", 400) and "200" in message
    assert bedrock.list_inference_profiles(typeEquals="APPLICATION")["inferenceProfileSummaries"] == []
    code, message, _ = error(bedrock.create_inference_profile, inferenceProfileName="ok",
                             modelSource={"copyFrom": fm_arn(NOVA)}, tags=[{"key": "bad!key", "value": "v"}])
    assert code == "ValidationException" and "tags.1.member.key" in message


def test_tags_on_an_application_profile(sb):
    bedrock = boto3_client("bedrock", sb.endpoint)
    arn = create(bedrock, "tagged", fm_arn(NOVA), tags=[{"key": "a", "value": "1"}])
    bedrock.tag_resource(resourceARN=arn, tags=[{"key": "b", "value": "2"}, {"key": "a", "value": "one"}])
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "a", "value": "one"},
                                                                       {"key": "b", "value": "2"}]
    bedrock.untag_resource(resourceARN=arn, tagKeys=["a", "missing"])
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == [{"key": "b", "value": "2"}]
    bedrock.tag_resource(resourceARN=arn, tags=[{"key": f"k{i}", "value": "v"} for i in range(199)])
    code, message, status = error(bedrock.tag_resource, resourceARN=arn,
                                  tags=[{"key": "one-too-many", "value": "v"}])
    assert (code, status) == ("TooManyTagsException", 400)
    assert len(bedrock.list_tags_for_resource(resourceARN=arn)["tags"]) == 200  # nothing half-done
    code, _, _ = error(bedrock.tag_resource, resourceARN=arn, tags=[{"key": f"n{i}", "value": "v"} for i in range(201)])
    assert code == "TooManyTagsException"
    for op, extra in ((bedrock.list_tags_for_resource, {}), (bedrock.tag_resource, {"tags": []}),
                      (bedrock.untag_resource, {"tagKeys": ["b"]})):
        assert error(op, resourceARN=ip_arn(f"us.{NOVA}"), **extra)[0] == "ResourceNotFoundException"
        assert error(op, resourceARN=arn[:-1] + ("y" if arn.endswith("x") else "x"), **extra)[0] == "ResourceNotFoundException"


@pytest.mark.parametrize("identifier", [f"us.{SONNET}", f"global.{SONNET}", ip_arn(f"us.{NOVA}"), fm_arn(GPT)])
def test_the_built_in_sandbox_serves_profile_ids_and_arns(sandbox, identifier):
    """Before: an ARN (its "/" sent as %2F) landed in the control plane as UnknownOperationException, and a
    us./global. id was ResourceNotFoundException."""
    r = boto3_client("bedrock-runtime", sandbox.endpoint).converse(modelId=identifier, messages=user("hi"),
                                                                   inferenceConfig={"maxTokens": 10})
    assert r["output"]["message"]["content"][0]["text"].startswith("SANDBOX ")


def test_every_profile_response_fits_botocores_output_shapes(sb):
    """Required members, types, lengths, enums, patterns; no unknown members. The one allowed deviation:
    a system profile's name and description are worded as AWS words them ("US Anthropic Claude Sonnet 4.5",
    "Routes requests to … in us-east-1, us-east-2 and us-west-2."), which botocore's patterns do not allow:
    those two are checked for length only."""
    from tierconsole.sandbox.shapes import conform, service_model

    bedrock = boto3_client("bedrock", sb.endpoint)
    raw: list[tuple[str, dict]] = []
    bedrock.meta.events.register("after-call.bedrock.*", lambda http_response, model, **_: raw.append(
        (model.name, json.loads(http_response.content or b"{}"))))
    arn = create(bedrock, "shaped", ip_arn(f"us.{SONNET}"), description="Shaped by the model",
                 tags=[{"key": "a", "value": "b"}])
    bedrock.get_inference_profile(inferenceProfileIdentifier=arn)
    bedrock.get_inference_profile(inferenceProfileIdentifier=f"global.{SONNET}")
    bedrock.list_inference_profiles(maxResults=4)
    bedrock.tag_resource(resourceARN=arn, tags=[{"key": "c", "value": "d"}])
    bedrock.untag_resource(resourceARN=arn, tagKeys=["c"])
    bedrock.list_tags_for_resource(resourceARN=arn)
    bedrock.delete_inference_profile(inferenceProfileIdentifier=arn)

    def as_aws_words_it(profile: dict) -> dict:
        if profile.get("type") != "SYSTEM_DEFINED":
            return profile
        assert 1 <= len(profile["inferenceProfileName"]) <= 64 and 1 <= len(profile["description"]) <= 200
        return {**profile, "inferenceProfileName": "checked apart", "description": "checked apart"}

    model = service_model("bedrock")
    assert [name for name, _ in raw] == ["CreateInferenceProfile", "GetInferenceProfile", "GetInferenceProfile",
                                         "ListInferenceProfiles", "TagResource", "UntagResource",
                                         "ListTagsForResource", "DeleteInferenceProfile"]
    for name, body in raw:
        if "inferenceProfileSummaries" in body:
            body = {**body, "inferenceProfileSummaries": [as_aws_words_it(p) for p in
                                                          body["inferenceProfileSummaries"]]}
        body = as_aws_words_it(body)
        shape = model.operation_model(name).output_shape
        assert conform(shape, body, names=list(shape.members)) == body, name  # nothing unknown was dropped


def test_the_consoles_prompt_command_takes_profile_ids_and_arns(sb, tmp_path):
    """The console (aiobotocore) prompting through profiles: served, priced as the model for a system
    profile and for an application profile (the model GetInferenceProfile names)."""
    import os
    import subprocess
    import sys

    app = create(boto3_client("bedrock", sb.endpoint), "console", ip_arn(f"global.{SONNET}"))
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_STATE_HOME=str(tmp_path / "st"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    env.pop("TIERCONSOLE_PROFILE", None)
    rows = {}
    for identifier in (f"global.{SONNET}", ip_arn(f"us.{SONNET}"), app):
        out = subprocess.run([sys.executable, "-m", "tierconsole.cli", "prompt", "hello", "--model", identifier,
                              "--tier", "priority", "--max-tokens", "20", "--json", "--endpoint-url", sb.endpoint],
                             capture_output=True, text=True, timeout=90, env=env, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        rows[identifier] = json.loads(out.stdout)
        assert rows[identifier]["ok"] and rows[identifier]["served_tier"] == "priority"
    assert rows[f"global.{SONNET}"]["cost_usd"] == rows[ip_arn(f"us.{SONNET}")]["cost_usd"] > 0
    assert rows[app]["cost_usd"] > 0
    out = subprocess.run([sys.executable, "-m", "tierconsole.cli", "prompt", "hello", "--model", SONNET, "--json",
                          "--endpoint-url", sb.endpoint], capture_output=True, text=True, timeout=90, env=env,
                         cwd=tmp_path)
    row = json.loads(out.stdout)
    assert out.returncode == 1 and row["error"] == "ValidationException"
    assert row["message"] == PROFILE_ONLY.format(id=SONNET)


def test_signed_calls_on_profile_arns_pass_a_sandbox_that_checks_signatures(make_sandbox):
    """SigV4 signs the path as sent (an ARN's %2F included): the checking sandbox must agree on it."""
    import boto3
    from botocore.config import Config

    sb = make_sandbox(speed=50.0, auth_keys={"AKIDPROFILES": "profiles-secret"})

    def client(service):
        return boto3.client(service, endpoint_url=sb.endpoint, region_name=REGION, aws_access_key_id="AKIDPROFILES",
                            aws_secret_access_key="profiles-secret",
                            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}))

    bedrock, rt = client("bedrock"), client("bedrock-runtime")
    app = create(bedrock, "signed", ip_arn(f"us.{SONNET}"), tags=[{"key": "k", "value": "v"}])
    assert bedrock.get_inference_profile(inferenceProfileIdentifier=app)["type"] == "APPLICATION"
    for identifier in (app, ip_arn(f"global.{SONNET}"), fm_arn(NOVA)):
        assert rt.converse(modelId=identifier, messages=user("signed"))["output"]["message"]["content"]
    bedrock.delete_inference_profile(inferenceProfileIdentifier=app)


def test_count_tokens_takes_a_foundation_model_not_a_profile(sb):
    """AWS's API reference: CountTokens' modelId is "the unique identifier or ARN of the foundation model"."""
    from tierconsole.sandbox.services.runtime import Runtime

    if not hasattr(Runtime, "count_tokens"):
        pytest.skip("CountTokens is served by the wire branch; this runs once both are merged")
    rt = boto3_client("bedrock-runtime", sb.endpoint)
    converse = {"converse": {"messages": user("count me")}}
    for identifier in (NOVA, fm_arn(NOVA), SONNET):  # a profile-only model is counted: nothing is invoked
        assert rt.count_tokens(modelId=identifier, input=converse)["inputTokens"] > 0
    for identifier in (f"us.{SONNET}", ip_arn(f"global.{SONNET}")):
        code, message, status = error(rt.count_tokens, modelId=identifier, input=converse)
        assert (code, status) == ("ValidationException", 400) and "foundation model" in message
