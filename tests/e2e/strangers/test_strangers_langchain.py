"""langchain-aws (from the [test] extra) against the sandbox: ChatBedrockConverse as its users build it,
aimed at the sandbox by AWS_ENDPOINT_URL alone. It has no batch API; batch is covered by the JavaScript SDK
and the AWS CLI."""
from __future__ import annotations

import pytest


@pytest.fixture
def aimed(stranger_sandbox, monkeypatch):
    """The environment a user exports (endpoint, region, keys), set for this process."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", stranger_sandbox.endpoint)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("LANGCHAIN_TRACING_V2", "false")
    return stranger_sandbox


def chat(model: str, tier: str | None):
    from langchain_aws import ChatBedrockConverse

    return ChatBedrockConverse(model=model, service_tier=tier, max_tokens=32, temperature=0.5)


def test_converse_at_every_tier(aimed, tier_cases):
    from botocore.exceptions import ClientError

    for model, tier, expected in tier_cases:
        if expected.startswith("!"):
            with pytest.raises(ClientError) as err:
                chat(model, tier).invoke("Hello from langchain-aws")
            assert err.value.response["Error"]["Code"] == expected[1:], (model, tier)
            continue
        message = chat(model, tier).invoke("Hello from langchain-aws")
        assert message.response_metadata["serviceTier"] == {"type": expected}, (model, tier, message)
        assert message.text.startswith("SANDBOX"), message
        assert message.usage_metadata["output_tokens"] > 0, message


@pytest.mark.parametrize("tier", ["priority", "default", "flex"])
def test_converse_stream(aimed, tier):
    chunks = list(chat("amazon.nova-lite-v1:0", tier).stream("Stream to langchain-aws"))
    assert len(chunks) >= 3, chunks
    whole = chunks[0]
    for chunk in chunks[1:]:
        whole = whole + chunk
    assert whole.text.startswith("SANDBOX"), whole
    assert whole.response_metadata.get("serviceTier") == {"type": tier}, whole.response_metadata
    assert whole.usage_metadata["output_tokens"] > 0, whole
