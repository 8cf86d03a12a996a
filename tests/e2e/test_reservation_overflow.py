"""Reservation overflow: tokens per minute where it says TPM, from the sandbox's own namespace, labelled;
on AWS (where no metric counts overflow) the console says it cannot see it.

End to end: real aiobotocore calls against the sandbox, read back by the console's collector.
"""
from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tierconsole.core.aws.collectors import Collector
from tierconsole.core.aws.session import AwsContext, Target
from tierconsole.core.domain import metricsplan as mp
from tierconsole.core.domain.views import ReservationView
from tierconsole.core.config.profiles import load_profile
from tests.conftest import SONNET, aio_client, clear_of_minute_end, user

# The sandbox profile reserves 100,000 input TPM of Sonnet 4.5. Six concurrent reserved requests of 30,000 input
# tokens each: three fit, three overflow to Standard.
PROMPT_TOKENS = 30_000


async def overflow_burst(endpoint: str) -> list[dict]:
    async with aio_client("bedrock-runtime", endpoint) as c:
        async def one(i):
            return await c.converse(modelId=SONNET, messages=user(f"{i:02d}" + "x" * (4 * PROMPT_TOKENS - 2)),
                                    inferenceConfig={"maxTokens": 10}, serviceTier={"type": "reserved"})
        return await asyncio.gather(*(one(i) for i in range(6)))


async def collect(endpoint: str, *, sandbox: bool):
    profile = load_profile("sandbox")
    ctx = AwsContext(Target(profile, endpoint, sandbox=sandbox))
    try:
        collector = Collector(ctx)
        data = await collector.refresh()
        return collector, data
    finally:
        await ctx.close()


async def test_overflow_is_tokens_per_minute_from_the_sandbox_and_unknown_on_aws(make_sandbox):
    sb = make_sandbox(speed=1.0)  # metrics on the wall clock: the collector's clock
    clear_of_minute_end()
    answers = await overflow_burst(sb.endpoint)
    overflowed = [r for r in answers if r["serviceTier"]["type"] == "default"]
    assert len(overflowed) == 3, [r["serviceTier"] for r in answers]
    tokens = sum(r["usage"]["inputTokens"] + r["usage"]["outputTokens"] for r in overflowed)
    assert tokens > 3 * PROMPT_TOKENS - 10
    await asyncio.sleep(1.5)  # the publisher flushes once a second

    collector, data = await collect(sb.endpoint, sandbox=True)
    [res] = data.reservations
    assert res.overflow_source == "sandbox"
    assert res.overflow_tpm == pytest.approx(tokens, rel=0.02)  # tokens per minute, not 3 requests
    assert res.overflow_rpm == pytest.approx(3, rel=0.02)
    assert collector.calls.counts["GetMetricData"] == 1

    # Watching AWS (no sandbox): no AWS metric counts overflow, so none is shown, and the sandbox's namespace
    # is not even asked for.
    collector, data = await collect(sb.endpoint, sandbox=False)
    [res] = data.reservations
    assert res.input_tpm_used > 0, "the documented reserved-tier figures are still there"
    assert res.overflow_tpm is None and res.overflow_rpm is None and res.overflow_source == ""


def test_the_sandbox_namespace_is_asked_only_of_a_sandbox_in_the_same_call():
    now = 1_800_000_030.0
    aws = mp.plan(["m"], {"m": {"reserved", "default"}}, ["m"], now)
    sandbox = mp.plan(["m"], {"m": {"reserved", "default"}}, ["m"], now, sandbox=True)
    namespaces = lambda p: {q["MetricStat"]["Metric"]["Namespace"] for q in p.api_queries()}  # noqa: E731
    assert namespaces(aws) == {"AWS/Bedrock"}
    assert namespaces(sandbox) == {"AWS/Bedrock", mp.SANDBOX_NAMESPACE}
    undocumented = {q.metric for q in sandbox.queries if q.namespace == "AWS/Bedrock"} - {
        "Invocations", "InvocationThrottles", "InputTokenCount", "OutputTokenCount", "CacheWriteInputTokenCount",
        "EstimatedTPMQuotaUsage", "InvocationServerErrors"}  # the last for watch's error storms (an outage)
    assert not undocumented


def test_status_document_carries_the_unit_and_the_source():
    from tierconsole.core.domain.views import DashboardData
    from tierconsole.present.status import format_status
    from tierconsole.core.ops.status import status_document

    sandbox = ReservationView("r", SONNET, 50_000, 100_000, 2_000, 10_000, overflow_tpm=24_000.0, overflow_rpm=3.0,
                              overflow_source="sandbox")
    aws = dataclasses.replace(sandbox, reservation_id="r2", overflow_tpm=None, overflow_rpm=None, overflow_source="")
    doc = status_document(DashboardData(time=0.0, reservations=(sandbox, aws)), None, [], {}, 0.0)
    first, second = doc["reservations"]
    assert (first["overflow_tpm"], first["overflow_requests_per_min"], first["overflow_source"]) == \
        (24_000, 3.0, "sandbox")
    assert (second["overflow_tpm"], second["overflow_requests_per_min"], second["overflow_source"]) == \
        (None, None, None)
    assert "overflow_per_min" not in first
    text = format_status(doc)
    assert "overflow 24,000 TPM (sandbox)" in text and "overflow not published by AWS" in text
