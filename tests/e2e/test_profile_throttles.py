"""Throttles of calls made through an inference profile are the operator's throttles too: CloudWatch counts
them under the profile's ModelId (``us.<model>``), and the throttle feed and ``status`` must show them (a
newcomer saw the cross-region quota bind at 83% while status said 0 throttles)."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import botocore.exceptions as bx

from tests.conftest import NOVA, aio_client, clear_of_minute_end, user
from tierconsole.core.aws.collectors import Collector
from tierconsole.core.aws.session import AwsContext, Target
from tierconsole.core.config.profiles import load_profile

CLI = [sys.executable, "-m", "tierconsole.cli"]
PROFILE_ID = f"us.{NOVA}"


async def throttle_through_the_profile(endpoint: str) -> int:
    """Two 50k-token calls fill most of the 120k cross-region TPM; the next ones are throttled."""
    throttled = 0
    async with aio_client("bedrock-runtime", endpoint) as c:
        for _ in range(4):
            try:
                await c.converse(modelId=PROFILE_ID, messages=user("word " * 40_000), inferenceConfig={"maxTokens": 50})
            except bx.ClientError as e:
                assert e.response["Error"]["Code"] == "ThrottlingException", e.response
                throttled += 1
    return throttled


async def test_the_feed_and_status_count_throttles_of_profile_calls(make_sandbox, xdg_env, tmp_path):
    sb = make_sandbox(speed=1.0)
    clear_of_minute_end()
    throttled = await throttle_through_the_profile(sb.endpoint)
    assert throttled >= 1
    await asyncio.sleep(1.5)  # the sandbox's metrics publisher flushes once a second
    collector = Collector(AwsContext(Target(load_profile("sandbox"), sb.endpoint, sandbox=True)))
    try:
        data = await collector.refresh()
    finally:
        await collector.ctx.close()
    feed = [e for e in data.throttle_events if e.model_id == PROFILE_ID]
    assert sum(e.count for e in feed) == throttled, data.throttle_events
    # The incident view of such an event is about that route of the model (what incident_around reads).
    assert collector.route_of(PROFILE_ID) == (NOVA, "cross_region")
    rows = collector.route_timeline(collector.answers, NOVA, "cross_region", feed[0].time - 600, feed[0].time + 60)
    assert {r.route for r in rows} == {"cross-region"} and sum(r.throttles for r in rows) == throttled, rows
    out = subprocess.run([*CLI, "--endpoint-url", sb.endpoint, "status", "--json"], capture_output=True, text=True,
                         timeout=120, env=xdg_env, cwd=tmp_path)
    doc = json.loads(out.stdout)
    assert sum(doc["throttles"]["last_5m"][PROFILE_ID].values()) == throttled, doc["throttles"]
