"""A model whose quotas split input and output TPM (no RPM): the console measures their use from what AWS
publishes per ModelId (InputTokenCount + CacheWriteInputTokenCount against input TPM, OutputTokenCount against
output TPM), asked in the same one GetMetricData, and names that source; never a made-up figure."""
from __future__ import annotations

import asyncio
import json
import time


from tests.conftest import boto3_client, clear_of_minute_end, user
from tests.e2e.test_quota_binding import status
from tests.e2e.test_sandbox_quota_model import DOC, GPT120
from tierconsole.core.aws.collectors import Collector
from tierconsole.core.aws.session import AwsContext, Target
from tierconsole.core.config.profiles import load_profile
from tierconsole.sandbox.config import parse_sandbox_config


def test_status_measures_split_input_and_output_tpm_quotas(make_sandbox, tmp_path):
    sb = make_sandbox(parse_sandbox_config(DOC, "test"), speed=1.0)
    clear_of_minute_end()
    rt = boto3_client("bedrock-runtime", sb.endpoint)
    inp = out = 0
    for _ in range(3):
        r = rt.converse(modelId=GPT120, messages=user("count these words " * 300), inferenceConfig={"maxTokens": 200})
        inp += r["usage"]["inputTokens"]
        out += r["usage"]["outputTokens"]
    time.sleep(1.5)  # the sandbox's metrics publisher flushes once a second
    res = status(sb.endpoint, tmp_path, "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    row = next(q for q in doc["quotas"] if q["model_id"] == GPT120 and q["route"] == "on-demand")
    uses = {u["measure"]: u for u in row["quotas"] if u["period"] == 60}
    assert set(uses) == {"input_tokens", "output_tokens"}, row["quotas"]
    i, o = uses["input_tokens"], uses["output_tokens"]
    # the trailing minute of what was sent this minute: at least the minute's own sum, never more than sent
    assert 0 < i["used"] <= inp and i["used"] >= inp * 0.5, (i, inp)
    assert 0 < o["used"] <= out, (o, out)
    assert i["source"] == "sandbox CloudWatch InputTokenCount + CacheWriteInputTokenCount"
    assert o["source"] == "sandbox CloudWatch OutputTokenCount"
    assert abs(i["fraction"] - i["used"] / 500_000) < 1e-3
    assert row["binding"] is not None and row["binding"]["measure"] in ("input_tokens", "output_tokens")
    text = status(sb.endpoint, tmp_path).stdout
    assert "binds: on-demand input TPM quota of OpenAI GPT OSS 120B (us-east-1)" in text or \
        "binds: on-demand output TPM quota of OpenAI GPT OSS 120B (us-east-1)" in text, text


def test_the_split_metrics_ride_in_the_one_get_metric_data(make_sandbox, tmp_path):
    """Only the models with a split quota cost the three extra queries, in the same call."""
    sb = make_sandbox(parse_sandbox_config(DOC, "test"), speed=1.0)

    async def run():
        ctx = AwsContext(Target(load_profile("sandbox"), sb.endpoint, sandbox=True))
        collector = Collector(ctx)
        try:
            await collector.refresh()
            return collector.metric_plan(time.time()), collector.calls.counts
        finally:
            await ctx.close()

    plan, calls = asyncio.run(run())
    split = {(q.metric, q.model_id) for q in plan.queries if q.tier is None
             and q.metric in ("OutputTokenCount", "CacheWriteInputTokenCount")}
    assert split == {(m, GPT120) for m in ("OutputTokenCount", "CacheWriteInputTokenCount")}
    inputs = [q for q in plan.queries if q.metric == "InputTokenCount" and q.tier is None and q.model_id == GPT120]
    assert len(inputs) == 1  # asked of every model already (the diagnosis reads it): never twice
    assert calls["GetMetricData"] == 1
