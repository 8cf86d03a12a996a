"""``ModelNotReadyException`` is HTTP 429, as ``ThrottlingException`` is: the console tells them apart by error type
(``x-amzn-ErrorType``, botocore's error code), never by status.

End to end: the console's own aiobotocore client (no retries) against a sandbox answering each runtime call
with one of the two 429s (fault injection), and a raw botocore call to show both really are 429.
"""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tierconsole.core.aws.session import AwsContext, Target
from tierconsole.core.config.profiles import load_profile
from tierconsole.core.domain.pricing import PriceTable
from tierconsole.core.ops.prompt import PromptRequest, send_prompt
from tierconsole.sandbox.faults import FaultSpecError, parse_faults
from tests.conftest import NOVA, boto3_client, user


@pytest.mark.parametrize("fault, code", [("notready#1", "ModelNotReadyException"), ("throttle#1", "ThrottlingException")])
def test_both_errors_are_429_on_the_wire(make_sandbox, fault, code):
    sb = make_sandbox(faults=fault + ":bedrock/model/", speed=50.0)
    rt = boto3_client("bedrock-runtime", sb.endpoint)
    with pytest.raises(ClientError) as err:
        rt.converse(modelId=NOVA, messages=user("hi"))
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert err.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].startswith(code)
    assert rt.converse(modelId=NOVA, messages=user("hi"))["output"]["message"]["content"]  # once only


async def test_escalate_goes_to_priority_on_a_throttle_only(make_sandbox):
    sb = make_sandbox(speed=50.0)
    profile = load_profile("sandbox")
    ctx = AwsContext(Target(profile, sb.endpoint, sandbox=True))
    try:
        client = await ctx.client("bedrock-runtime")
        req = PromptRequest(model_id=NOVA, text="hello", tier="escalate", max_tokens=20)
        prices = PriceTable.from_profile(profile.prices, profile.tier_price_multipliers)

        sb.sandbox.faults.rules = parse_faults("notready#1")
        [only] = await send_prompt(client, req, prices)
        assert (only.tier, only.error) == ("default", "ModelNotReadyException"), "shown as itself"
        assert "not ready" in only.message

        sb.sandbox.faults.rules = parse_faults("throttle#1:bedrock/model/")
        first, second = await send_prompt(client, req, prices)
        assert (first.error, second.tier, second.ok, second.escalated_from) == (
            "ThrottlingException", "priority", True, "default")
    finally:
        await ctx.close()


@pytest.mark.parametrize("spec", ["notready:monitoring", "notready:bedrock/model-invocation-job"])
def test_notready_is_a_runtime_fault_only(spec):
    with pytest.raises(FaultSpecError, match="runtime calls only"):
        parse_faults(spec)


async def test_the_engines_model_not_ready_is_a_client_error_in_cloudwatch_and_no_throttle_in_the_console(make_sandbox):
    """The catalog's ``not_ready_rate`` (every call here): published as ``InvocationClientErrors``, never as
    ``InvocationThrottles``; the console's throttle feed, rates and counts stay empty."""
    import asyncio
    import copy

    from tierconsole.core.aws.collectors import Collector
    from tierconsole.core.domain import metricsplan as mp
    from tierconsole.sandbox.config import config_document, parse_sandbox_config

    doc = copy.deepcopy(config_document())
    for m in doc["sandbox"]["models"]:
        if m["id"] == NOVA:
            m["not_ready_rate"] = 1.0
    sb = make_sandbox(parse_sandbox_config(doc, "test"), speed=1.0)
    rt = boto3_client("bedrock-runtime", sb.endpoint)
    for tier in ("default", "flex", "priority"):
        with pytest.raises(ClientError) as err:
            rt.converse(modelId=NOVA, messages=user("hi"), serviceTier={"type": tier})
        assert err.value.response["Error"]["Code"] == "ModelNotReadyException"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    await asyncio.sleep(1.5)  # the publisher flushes once a second

    cw = boto3_client("cloudwatch", sb.endpoint)
    names = {m["MetricName"] for m in cw.list_metrics(Namespace="AWS/Bedrock",
                                                      Dimensions=[{"Name": "ModelId", "Value": NOVA}])["Metrics"]}
    assert names == {"InvocationClientErrors"}

    ctx = AwsContext(Target(load_profile("sandbox"), sb.endpoint, sandbox=True))
    try:
        collector = Collector(ctx)
        data = await collector.refresh()
    finally:
        await ctx.close()
    assert data.status["throttles"].ok
    assert not data.throttle_events
    assert sum(sum(v) for v in data.throttle_rates.values()) == 0
    assert sum(mp.throttle_counts(collector.answers, [NOVA], collector.tiers, collector.clock(), 5)[NOVA].values()) == 0
