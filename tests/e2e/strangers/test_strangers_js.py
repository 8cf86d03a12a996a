"""The AWS SDK for JavaScript v3 with its default settings against the sandbox's http:// endpoint.

Its bedrock-runtime client's default request handler speaks HTTP/2 — cleartext (h2c) with prior knowledge
on an http:// endpoint — so a sandbox that speaks only HTTP/1.1 fails every call with "Protocol error".
The SDK is installed from the npm registry on first use (see conftest.py)."""
from __future__ import annotations

import json

import pytest

from tierconsole.sandbox.app import Sandbox, SandboxThread
from tierconsole.sandbox.config import parse_sandbox_config

NOVA = "amazon.nova-lite-v1:0"


def test_default_clients_are_the_ones_users_get(js_sdk):
    """The clients under test are the SDK's defaults: bedrock-runtime on its HTTP/2 handler."""
    out = js_sdk.run("http://127.0.0.1:9", "handlers")
    assert out["handlers"]["bedrock-runtime"] == "NodeHttp2Handler", out
    assert out["handlers"]["s3"] == "NodeHttpHandler", out


def test_converse_at_every_tier(js_sdk, stranger_sandbox, tier_cases):
    by_model: dict[str, list] = {}
    for model, tier, expected in tier_cases:
        by_model.setdefault(model, []).append((tier, expected))
    for model, cases in by_model.items():
        out = js_sdk.run(stranger_sandbox.endpoint, "converse", modelId=model, tiers=[t for t, _ in cases])
        for (tier, expected), result in zip(cases, out["results"], strict=True):
            if expected.startswith("!"):
                assert not result["ok"] and result["name"] == expected[1:], (model, tier, result)
                assert result["status"] == 400, result
            else:
                assert result["ok"], (model, tier, result)
                assert result["servedTier"] == expected, (model, tier, result)
                assert result["text"].startswith("SANDBOX"), result
                assert result["attempts"] == 1, result


@pytest.mark.parametrize("tier", ["priority", "flex"])
def test_converse_stream(js_sdk, stranger_sandbox, tier):
    out = js_sdk.run(stranger_sandbox.endpoint, "stream", modelId=NOVA, tier=tier)
    assert out["ok"], out
    assert out["events"][0] == "messageStart" and out["events"][-3:] == ["contentBlockStop", "messageStop",
                                                                          "metadata"], out["events"]
    assert out["events"].count("contentBlockDelta") >= 1, out["events"]
    assert out["text"].startswith("SANDBOX"), out
    assert out["metadata"]["serviceTier"] == {"type": tier}, out
    assert out["metadata"]["usage"]["outputTokens"] > 0, out


def test_invoke_model_with_response_stream(js_sdk, stranger_sandbox):
    body = {"messages": [{"role": "user", "content": [{"text": "native stream"}]}],
            "inferenceConfig": {"maxTokens": 24}}
    out = js_sdk.run(stranger_sandbox.endpoint, "invokeStream", modelId=NOVA, body=body, tier="priority")
    assert out["ok"], out
    assert out["servedTier"] == "priority", out
    text = "".join(c["contentBlockDelta"]["delta"]["text"] for c in out["chunks"] if "contentBlockDelta" in c)
    assert text.startswith("SANDBOX"), out


def test_count_tokens(js_sdk, stranger_sandbox):
    out = js_sdk.run(stranger_sandbox.endpoint, "countTokens", modelId=NOVA, text="x" * 400)
    assert out == {"ok": True, "inputTokens": 100}, out


def test_batch_job_with_s3_upload_and_download(js_sdk, stranger_sandbox, batch_job, check_batch):
    out = js_sdk.run(stranger_sandbox.endpoint, "batch", key="js/in/records.jsonl", outputPrefix="js/out/",
                     **batch_job)
    assert out["ok"], out
    assert out["status"] == "Completed", out
    files = out["files"]
    check_batch({k: v["text"] for k, v in files.items()}, batch_job["lines"], "js/out/")
    for key, f in files.items():
        size = len(f["text"].encode())
        assert f["headContentLength"] == size and f["getContentLength"] == size, (key, f)
        assert f["rangeContentLength"] == 10 and f["rangeText"] == f["text"][:10], (key, f)
        assert f["contentRange"] == f"bytes 0-9/{size}", (key, f)


@pytest.fixture(scope="module")
def one_request_per_minute():
    """A sandbox whose Nova quota admits one request a minute (30 s at speed 2, longer than the SDK's three
    attempts and their back-off): the next ones wait out Standard's 2 s (1 s real) and throttle."""
    config = parse_sandbox_config({"sandbox": {"scenario": "none", "models": [
        {"id": NOVA, "name": "Nova Lite", "family": "nova", "tpm": 1_000_000, "rpm": 1, "max_output_tokens": 100}]}},
        "test")
    thread = SandboxThread(Sandbox(config, speed=2.0))
    thread.start()
    yield thread.sandbox
    thread.stop()


def test_stream_throttled_at_admission_is_a_429_the_sdk_retries(js_sdk, one_request_per_minute):
    """A ConverseStream throttled before it starts is HTTP 429, not a 200 carrying an in-stream exception:
    the SDK retries it (3 attempts by default) as it does against AWS."""
    first = js_sdk.run(one_request_per_minute.endpoint, "converse", modelId=NOVA, tiers=["default"])
    assert first["results"][0]["ok"], first
    out = js_sdk.run(one_request_per_minute.endpoint, "stream", modelId=NOVA, tier="default")
    assert not out["ok"], out
    assert out["name"] == "ThrottlingException", out
    assert out["status"] == 429, out
    assert out["attempts"] == 3, out
    throttled = [o for o in one_request_per_minute.outcomes.recent if o.operation == "ConverseStream"]
    assert [o.status for o in throttled] == [429, 429, 429], [json.dumps(o.to_dict()) for o in throttled]
