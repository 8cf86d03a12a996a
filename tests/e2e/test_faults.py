"""Injected faults: the console's collectors survive each one with stale panes and a reason, then recover;
an interrupted batch submit yields exactly one job."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from tierconsole.core.ops.batch import submit_batch
from tierconsole.core.ops.guard import Guard
from tierconsole.core.aws.collectors import Collector
from tierconsole.core.aws.session import AwsContext, Target
from tierconsole.core.config.profiles import load_profile
from tierconsole.sandbox.faults import FaultSpecError, parse_faults
from tests.conftest import NOVA, boto3_client


@pytest.mark.parametrize("spec, needle", [
    ("boom", "KIND one of"),
    ("503@2", "probability"),
    ("slow", "needs a delay"),
    ("slow=fast", "not a duration"),
    ("down=10s", "DOWN/PERIOD"),
    ("down=60s/10s", "shorter than PERIOD"),
    ("reset=1", "takes no argument"),
])
def test_bad_fault_specs_are_named(spec, needle):
    with pytest.raises(FaultSpecError, match=needle):
        parse_faults(spec)


def test_sandbox_cli_rejects_bad_faults():
    out = subprocess.run([sys.executable, "-m", "tierconsole.cli", "sandbox", "--port", "0", "--faults", "boom"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "fault 'boom'" in out.stderr


def profile():
    return load_profile("sandbox")


@pytest.mark.parametrize("spec, panes, reason", [
    ("503:monitoring", ("quota", "throttles", "reservations"), "ServiceUnavailable (GetMetricData)"),
    ("500:monitoring", ("throttles",), "InternalFailure (GetMetricData)"),
    ("throttle:monitoring", ("throttles",), "throttled (GetMetricData)"),
    ("reset:monitoring", ("throttles",), "connection reset by the endpoint"),
    ("slow=2s:monitoring", ("throttles",), "timed out"),
    ("denied:monitoring", ("quota",), "access denied (GetMetricData)"),
    ("expired", ("quota", "throttles", "batch", "reservations"), "expired token"),
    ("503:bedrock/model-invocation-jobs", ("batch",), "ServiceUnavailable (ListModelInvocationJobs)"),
])
async def test_collectors_survive_each_fault_and_recover(make_sandbox, spec, panes, reason):
    sb = make_sandbox(speed=1.0)
    # A short read timeout only where the fault is a slow answer: elsewhere it made a loaded CI machine
    # (two workers on two cores) time out the healthy refreshes before and after the fault.
    read_timeout = 1.0 if spec.startswith("slow=") else 15.0
    ctx = AwsContext(Target(profile(), sb.endpoint, sandbox=True), read_timeout=read_timeout)
    collector = Collector(ctx)
    try:
        good = await collector.refresh()
        assert all(s.ok for s in good.status.values()) and good.quotas
        sb.sandbox.faults.rules = parse_faults(spec)
        bad = await collector.refresh()  # never raises
        for pane in panes:
            st = bad.pane_status(pane)
            assert not st.ok and reason in st.reason, (pane, st)
            assert st.updated_at == good.pane_status(pane).updated_at  # age of the last good data
        assert bad.quotas == good.quotas or len(bad.quotas) == len(good.quotas)  # last good data kept
        sb.sandbox.faults.rules = []
        again = await collector.refresh()
        assert all(s.ok for s in again.status.values()), again.status
    finally:
        await ctx.close()


async def test_batch_submit_whose_answer_is_lost_is_retried_into_exactly_one_job(make_sandbox, tmp_path):
    sb = make_sandbox(speed=1.0)
    # The first CreateModelInvocationJob is handled, then its answer is lost with the connection.
    sb.sandbox.faults.rules = parse_faults("lost#1:bedrock/model-invocation-job")
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(json.dumps({"recordId": str(i), "modelInput": {"messages": []}}) for i in range(100)))
    ctx = AwsContext(Target(profile(), sb.endpoint, sandbox=True))
    try:
        job = await submit_batch(ctx, Guard(profile(), tmp_path / "audit.jsonl"), str(f), NOVA, "lost-once")
    finally:
        await ctx.close()
    assert sb.sandbox.faults.injected == {"lost": 1}
    jobs = boto3_client("bedrock", sb.endpoint).list_model_invocation_jobs(nameContains="lost-once")
    assert [j["jobArn"] for j in jobs["invocationJobSummaries"]] == [job["jobArn"]]


@pytest.mark.parametrize("spec, error, partial", [
    ("badframe#1", "CorruptEventStream", False),  # the first text frame fails its checksum: no text decoded
    ("cut#1", "StreamCut", True),  # the connection drops after the first text frame: that text arrived
])
async def test_a_broken_stream_is_a_named_incomplete_answer_and_the_next_one_works(make_sandbox, spec, error, partial):
    from tierconsole.core.ops.prompt import PromptRequest, send_prompt
    from tierconsole.core.domain.pricing import PriceTable
    from tests.conftest import aio_client

    sb = make_sandbox(speed=50.0)
    sb.sandbox.faults.rules = parse_faults(spec)
    req = PromptRequest(model_id=NOVA, text="Stream something long", tier="priority", max_tokens=200, stream=True)
    async with aio_client("bedrock-runtime", sb.endpoint) as c:
        [broken] = await send_prompt(c, req, PriceTable.from_profile())
        [whole] = await send_prompt(c, req, PriceTable.from_profile())
    assert not broken.ok and broken.error == error and "incomplete" in broken.message
    assert bool(broken.text) is partial and whole.text.startswith(broken.text)
    assert broken.cost_usd is None
    assert whole.ok and whole.output_tokens > 0 and sb.sandbox.faults.injected == {spec.split("#")[0]: 1}
    if spec.startswith("cut"):  # the sandbox charged what it sent, and says why the stream ended
        cut = next(o for o in sb.sandbox.outcomes.recent if o.error == "InjectedStreamCut")
        assert 0 < cut.output_tokens < whole.output_tokens


def test_stream_faults_leave_other_requests_alone(make_sandbox):
    from tests.conftest import user
    sb = make_sandbox(speed=50.0)
    sb.sandbox.faults.rules = parse_faults("badframe,cut")
    r = boto3_client("bedrock-runtime", sb.endpoint).converse(modelId=NOVA, messages=user("hi"),
                                                              inferenceConfig={"maxTokens": 20})
    assert r["output"]["message"]["content"][0]["text"] and r["usage"]["outputTokens"] > 0


@pytest.mark.parametrize("spec", ["lost#1:bedrock/model-invocation-job/", "reset#1:bedrock/model-invocation-job/"])
async def test_batch_cancel_through_a_lost_or_reset_connection_stops_the_job_and_says_ok(make_sandbox, tmp_path, spec):
    from tierconsole.core.ops.batch import cancel_batch
    sb = make_sandbox(speed=1.0)
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(json.dumps({"recordId": str(i), "modelInput": {"messages": []}}) for i in range(100)))
    audit = tmp_path / "audit.jsonl"
    ctx = AwsContext(Target(profile(), sb.endpoint, sandbox=True))
    try:
        guard = Guard(profile(), audit)
        job = await submit_batch(ctx, guard, str(f), NOVA, "cancel-me")
        # lost: the stop is handled, its answer dropped; reset: the stop never arrives. Either way one retry.
        sb.sandbox.faults.rules = parse_faults(spec)
        after = await cancel_batch(ctx, guard, job["jobArn"])
    finally:
        await ctx.close()
    assert sum(sb.sandbox.faults.injected.values()) == 1
    assert after["status"] in ("Stopping", "Stopped")
    entries = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(e["action"], e["outcome"]) for e in entries if e["action"] == "batch-cancel"] == [("batch-cancel", "ok")]
