"""An application inference profile is named as the quota pane names it wherever the console lists it (newcomer-3
F-m): ``status``'s THROTTLES section said its full ARN. And a deleted one is gone by the next discovery (ListMetrics,
every five minutes), not kept until the quota cadence (15 minutes) re-listed the profiles."""
from __future__ import annotations

import asyncio
import time

from tests.conftest import boto3_client, clear_of_minute_end
from tests.e2e.test_application_profiles import make_profiles, send_through
from tests.e2e.test_quota_binding import status
from tierconsole.core.aws.collectors import DISCOVERY_EVERY_S, Collector
from tierconsole.core.aws.session import AwsContext, Target
from tierconsole.core.config.profiles import load_profile


def test_status_throttles_name_an_application_profile_by_name_and_id(make_sandbox, tmp_path):
    sb = make_sandbox(speed=1.0)
    clear_of_minute_end()
    direct, _ = make_profiles(sb.endpoint)
    send_through(sb.endpoint, direct["inferenceProfileArn"], 2)
    time.sleep(1.5)  # the sandbox's metrics publisher flushes once a second
    out = status(sb.endpoint, tmp_path)
    assert out.returncode == 0, out.stderr
    throttles = out.stdout.split("THROTTLES", 1)[1].split("APPLICATION INFERENCE PROFILES", 1)[0]
    assert f"etl-direct ({direct['inferenceProfileId']})" in throttles, throttles
    assert "arn:aws:bedrock" not in throttles, throttles


async def test_a_deleted_application_profile_is_gone_by_the_next_discovery(make_sandbox):
    sb = make_sandbox(speed=1.0)
    clear_of_minute_end()
    direct, _ = make_profiles(sb.endpoint)
    send_through(sb.endpoint, direct["inferenceProfileArn"], 2)
    time.sleep(1.5)
    offset = [0.0]
    profile = load_profile("sandbox")
    assert profile.quota_refresh_seconds > DISCOVERY_EVERY_S + 60  # the quota cadence is the slower one
    collector = Collector(AwsContext(Target(profile, sb.endpoint, sandbox=True)),
                          clock=lambda: time.time() + offset[0])
    try:
        await collector.refresh()
        label = f"etl-direct ({direct['inferenceProfileId']})"
        assert [a.label for a in collector.apps if a.name == "etl-direct"] == [label]
        boto3_client("bedrock", sb.endpoint).delete_inference_profile(
            inferenceProfileIdentifier=direct["inferenceProfileArn"])
        offset[0] = DISCOVERY_EVERY_S + 1  # past the discovery cadence, well within the quota cadence
        data = await collector.refresh()
        assert [a.name for a in collector.apps if a.name == "etl-direct"] == [], collector.apps
        assert direct["inferenceProfileArn"] not in collector.throttle_sources()[0]
        assert all(label not in q.via for q in data.quotas), [q.via for q in data.quotas]
    finally:
        await collector.ctx.close()


async def test_the_throttle_feed_names_a_throttled_application_profile(make_sandbox):
    """Calls through an application profile copying the ``us.`` profile throttle on the cross-region TPM quota;
    the feed's events are the profile's ARN series, named ``etl-cross (id)`` as the quota pane names it."""
    import botocore.exceptions as bx

    from tests.conftest import aio_client, user

    sb = make_sandbox(speed=1.0)
    clear_of_minute_end()
    _, cross = make_profiles(sb.endpoint)
    throttled = 0
    async with aio_client("bedrock-runtime", sb.endpoint) as c:
        for _ in range(4):  # two 50k-token calls fill most of the 120k cross-region TPM; the next are throttled
            try:
                await c.converse(modelId=cross["inferenceProfileArn"], messages=user("word " * 40_000),
                                 inferenceConfig={"maxTokens": 50})
            except bx.ClientError as e:
                assert e.response["Error"]["Code"] == "ThrottlingException", e.response
                throttled += 1
    assert throttled >= 1
    await asyncio.sleep(1.5)
    collector = Collector(AwsContext(Target(load_profile("sandbox"), sb.endpoint, sandbox=True)))
    try:
        data = await collector.refresh()
    finally:
        await collector.ctx.close()
    feed = [e for e in data.throttle_events if e.model_id == cross["inferenceProfileArn"]]
    assert sum(e.count for e in feed) == throttled, data.throttle_events
    assert {e.label for e in feed} == {f"etl-cross ({cross['inferenceProfileId']})"}, feed
