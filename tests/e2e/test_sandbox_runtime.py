"""End to end: real boto3 and aiobotocore clients against the sandbox on loopback (bedrock-runtime)."""
from __future__ import annotations

import asyncio
import json

import botocore.exceptions
import pytest

from tierconsole.core.domain.tokens import estimate_tokens
from tests.conftest import GPT, NOVA, SONNET, aio_client, boto3_client, user

TIERS = ("priority", "default", "flex")


# ------------------------------------------------------------------ boto3: every operation, every tier

@pytest.mark.parametrize("tier", TIERS)
def test_converse_reports_the_tier_and_consistent_usage(sandbox, tier):
    c = boto3_client("bedrock-runtime", sandbox.endpoint)
    r = c.converse(modelId=NOVA, messages=user("What is the weather like on the moon?"),
                   system=[{"text": "Be brief."}], inferenceConfig={"maxTokens": 300}, serviceTier={"type": tier})
    assert r["serviceTier"] == {"type": tier}
    text = r["output"]["message"]["content"][0]["text"]
    assert text.startswith("SANDBOX ")
    assert r["usage"]["outputTokens"] == estimate_tokens(text)
    assert r["usage"]["inputTokens"] == estimate_tokens("Be brief.") + estimate_tokens("What is the weather like on the moon?")
    assert r["usage"]["totalTokens"] == r["usage"]["inputTokens"] + r["usage"]["outputTokens"]
    assert r["stopReason"] in ("end_turn", "max_tokens")
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    again = c.converse(modelId=NOVA, messages=user("What is the weather like on the moon?"),
                       system=[{"text": "Be brief."}], inferenceConfig={"maxTokens": 300}, serviceTier={"type": tier})
    assert again["output"] == r["output"]  # deterministic for a given prompt and seed


def test_no_tier_asked_is_reported_as_default(sandbox):
    r = boto3_client("bedrock-runtime", sandbox.endpoint).converse(modelId=GPT, messages=user("hi"))
    assert r["serviceTier"] == {"type": "default"}


@pytest.mark.parametrize("tier", TIERS + ("reserved",))
def test_converse_stream_events_and_metadata(sandbox, tier):
    c = boto3_client("bedrock-runtime", sandbox.endpoint)
    r = c.converse_stream(modelId=SONNET, messages=user("Stream me something"), inferenceConfig={"maxTokens": 64},
                          serviceTier={"type": tier})
    kinds, text, meta = [], "", None
    for event in r["stream"]:
        kind = next(iter(event))
        kinds.append(kind)
        if kind == "contentBlockDelta":
            text += event[kind]["delta"]["text"]
        if kind == "metadata":
            meta = event[kind]
    assert kinds[0] == "messageStart" and kinds[-3:] == ["contentBlockStop", "messageStop", "metadata"]
    assert kinds.count("contentBlockDelta") >= 2
    assert meta["serviceTier"] == {"type": tier}
    assert meta["usage"]["outputTokens"] == estimate_tokens(text) > 0
    assert meta["metrics"]["latencyMs"] >= 0


NATIVE = {
    NOVA: {"schemaVersion": "messages-v1", "messages": [{"role": "user", "content": [{"text": "hello nova"}]}],
           "inferenceConfig": {"maxTokens": 50}},
    SONNET: {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50,
             "messages": [{"role": "user", "content": "hello claude"}]},
    GPT: {"messages": [{"role": "user", "content": "hello gpt"}], "max_completion_tokens": 50},
}


def _native_text(model: str, body: dict) -> tuple[str, int]:
    if model == NOVA:
        return body["output"]["message"]["content"][0]["text"], body["usage"]["outputTokens"]
    if model == SONNET:
        assert body["type"] == "message" and body["role"] == "assistant"
        return body["content"][0]["text"], body["usage"]["output_tokens"]
    assert body["object"] == "chat.completion"
    return body["choices"][0]["message"]["content"], body["usage"]["completion_tokens"]


@pytest.mark.parametrize("model", [NOVA, SONNET, GPT])
@pytest.mark.parametrize("tier", TIERS)
def test_invoke_model_native_bodies_with_tier_header(sandbox, model, tier):
    c = boto3_client("bedrock-runtime", sandbox.endpoint)
    r = c.invoke_model(modelId=model, body=json.dumps(NATIVE[model]), serviceTier=tier)
    assert r["serviceTier"] == tier
    text, out_tokens = _native_text(model, json.loads(r["body"].read()))
    assert out_tokens == estimate_tokens(text) > 0


@pytest.mark.parametrize("model", [NOVA, SONNET, GPT])
def test_invoke_model_with_response_stream(sandbox, model):
    c = boto3_client("bedrock-runtime", sandbox.endpoint)
    r = c.invoke_model_with_response_stream(modelId=model, body=json.dumps(NATIVE[model]), serviceTier="priority")
    assert r["serviceTier"] == "priority"
    chunks = [json.loads(e["chunk"]["bytes"]) for e in r["body"]]
    assert chunks[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] > 0
    if model == SONNET:
        assert [c["type"] for c in chunks][:2] == ["message_start", "content_block_start"]
        text = "".join(c["delta"]["text"] for c in chunks if c["type"] == "content_block_delta")
    elif model == NOVA:
        text = "".join(c["contentBlockDelta"]["delta"]["text"] for c in chunks if "contentBlockDelta" in c)
    else:
        text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert estimate_tokens(text) == chunks[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"]


# ------------------------------------------------------------------ errors, each with its exact class

def _error(fn, **kwargs) -> botocore.exceptions.ClientError:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        fn(**kwargs)
    return exc.value


def test_errors_have_the_exact_exception_classes(sandbox):
    c = boto3_client("bedrock-runtime", sandbox.endpoint)
    cases = [
        (c.converse, dict(modelId="amazon.nope-v9:0", messages=user("x")), c.exceptions.ResourceNotFoundException, "nope"),
        (c.converse, dict(modelId=NOVA, messages=[]), c.exceptions.ValidationException, "messages"),
        (c.converse, dict(modelId=NOVA, messages=user("x"), inferenceConfig={"maxTokens": 50_000}),
         c.exceptions.ValidationException, "maxTokens"),
        (c.converse, dict(modelId=NOVA, messages=user("x"), serviceTier={"type": "reserved"}),
         c.exceptions.ValidationException, "Reservation not found."),
        (c.converse, dict(modelId=NOVA, messages=user("x"), serviceTier={"type": "turbo"}),
         c.exceptions.ValidationException, "turbo"),
        (c.invoke_model, dict(modelId=NOVA, body=b"{not json"), c.exceptions.ValidationException, "JSON"),
        (c.invoke_model, dict(modelId=SONNET, body=json.dumps({"messages": [{"role": "user", "content": "x"}]})),
         c.exceptions.ValidationException, "max_tokens"),
        (c.converse, dict(modelId=NOVA, messages=[{"role": "assistant", "content": [{"text": "x"}]}]),
         c.exceptions.ValidationException, "user message"),
    ]
    for fn, kwargs, cls, needle in cases:
        err = _error(fn, **kwargs)
        assert isinstance(err, cls), (kwargs, err)
        assert needle in err.response["Error"]["Message"], err.response["Error"]["Message"]
        assert err.response["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-requestid")


def test_unserved_service_and_operation_are_named(sandbox):
    err = _error(boto3_client("ec2", sandbox.endpoint).describe_instances)
    assert "ec2" in err.response["Error"]["Message"]
    err = _error(boto3_client("bedrock-runtime", sandbox.endpoint).get_async_invoke, invocationArn="arn:x")
    assert "async-invoke" in err.response["Error"]["Message"], err.response


def test_sts_get_caller_identity(sandbox):
    ident = boto3_client("sts", sandbox.endpoint).get_caller_identity()
    assert ident["Account"] == "123456789012"


# ------------------------------------------------------------------ aiobotocore: concurrency and tiers

BIG_PROMPT = "x" * 20_000  # 5,000 input tokens: each request holds 10,000 of Nova Lite's 120,000 TPM


async def _send(c, tier: str, *, stream=False):
    kwargs = dict(modelId=NOVA, messages=user(BIG_PROMPT), inferenceConfig={"maxTokens": 5000},
                  serviceTier={"type": tier})
    try:
        if stream:
            r = await c.converse_stream(**kwargs)
            async for event in r["stream"]:
                if "metadata" in event:
                    return event["metadata"]["serviceTier"]["type"]
            return "no-metadata"
        r = await c.converse(**kwargs)
        return r["serviceTier"]["type"]
    except botocore.exceptions.ClientError as e:  # EventStreamError is a ClientError too
        return e.response["Error"]["Code"]


async def test_concurrency_reaches_throttling_and_priority_beats_default(sandbox):
    async with aio_client("bedrock-runtime", sandbox.endpoint) as c:
        tiers = ["priority", "default"] * 30
        results = await asyncio.gather(*(_send(c, t) for t in tiers))
    ok = {t: sum(1 for asked, got in zip(tiers, results) if asked == t and got == t) for t in ("priority", "default")}
    throttled = sum(1 for r in results if r == "ThrottlingException")
    assert throttled > 0, results
    assert set(results) <= {"priority", "default", "ThrottlingException"}
    assert ok["priority"] > ok["default"], ok


async def test_stream_throttled_at_admission_is_a_429_before_the_stream(sandbox):
    # As Bedrock answers it: the call itself fails with ThrottlingException (HTTP 429), no stream is opened.
    async with aio_client("bedrock-runtime", sandbox.endpoint) as c:
        results = await asyncio.gather(*(_send(c, "default", stream=True) for _ in range(40)))
    assert "ThrottlingException" in results, results
    assert "default" in results
    assert set(results) <= {"default", "ThrottlingException"}, results


async def test_reserved_served_then_overflows_to_standard(sandbox):
    # Sonnet's reservation: 100,000 input TPM and 10,000 output TPM. Each request holds 2,000 output tokens.
    async with aio_client("bedrock-runtime", sandbox.endpoint) as c:
        async def one():
            r = await c.converse(modelId=SONNET, messages=user("reserve me"), inferenceConfig={"maxTokens": 2000},
                                 serviceTier={"type": "reserved"})
            return r["serviceTier"]["type"]
        results = await asyncio.gather(*(one() for _ in range(8)))
    assert results.count("reserved") == 5  # 5 × 2,000 fill the output TPM
    assert results.count("default") == 3  # the rest overflowed to Standard
    usage = sandbox.call(lambda: sandbox.sandbox.engine.usage(SONNET, sandbox.sandbox.clock.now()))
    assert usage["reserved_output_used"] > 0 and usage["tpm_used"] > 0


async def test_aiobotocore_streams_and_invokes(sandbox):
    async with aio_client("bedrock-runtime", sandbox.endpoint) as c:
        r = await c.converse_stream(modelId=GPT, messages=user("hello"), serviceTier={"type": "flex"})
        tiers = [e["metadata"]["serviceTier"]["type"] async for e in r["stream"] if "metadata" in e]
        assert tiers == ["flex"]
        r = await c.invoke_model(modelId=GPT, body=json.dumps(NATIVE[GPT]), serviceTier="priority")
        assert r["serviceTier"] == "priority"
        body = json.loads(await r["body"].read())
        assert body["choices"][0]["message"]["content"].startswith("SANDBOX")


def test_every_outcome_is_recorded(sandbox):
    c = boto3_client("bedrock-runtime", sandbox.endpoint)
    c.converse(modelId=NOVA, messages=user("one"), serviceTier={"type": "flex"})
    _error(c.converse, modelId=NOVA, messages=user("x"), serviceTier={"type": "reserved"})
    outcomes = list(sandbox.sandbox.outcomes.recent)
    client = [o for o in outcomes if o.source == "client"]
    assert [(o.asked_tier, o.served_tier, o.error) for o in client] == [
        ("flex", "flex", None), ("reserved", None, "ValidationException")]
    assert client[0].output_tokens > 0 and client[0].latency_ms > 0 and client[0].quota_tokens > 0
