"""Read timeouts follow the tier and the mode: a prompt waits as long as its tier may (Flex: an hour), a
streamed answer is timed between events (not in total), and every other call keeps a short timeout.
Real aiobotocore clients against the sandbox (and, for a stalled stream, a server that stalls)."""
from __future__ import annotations

import asyncio
import sys
import time

import pytest

from tests.conftest import NOVA

from tierconsole.core.ops.prompt import PromptRequest, send_prompt
from tierconsole.core.aws.session import AwsContext, Target
from tierconsole.core.domain.catalog import ConfigError
from tierconsole.core.domain.pricing import PriceTable
from tierconsole.core.domain.profile import DEFAULT_PROMPT_TIMEOUTS, parse_profile

CLI = [sys.executable, "-m", "tierconsole.cli"]


def profile(**timeouts):
    return parse_profile({"name": "t", "region": "us-east-1", "timeouts": timeouts} if timeouts else {"name": "t"},
                         default_name="t")


async def prompt(ctx, tier, *, stream=False, max_tokens=16, model=NOVA, text="hi"):
    client = await ctx.client("bedrock-runtime")
    req = PromptRequest(model_id=model, text=text, tier=tier, max_tokens=max_tokens, stream=stream)
    [result] = await send_prompt(client, req, PriceTable.from_profile(), timeouts=ctx.profile.timeouts)
    return result


def test_profile_timeouts_defaults_overrides_and_errors():
    t = profile().timeouts
    assert (t.connect, t.calls, t.stream_event) == (3.0, 10.0, 60.0) and dict(t.prompt) == DEFAULT_PROMPT_TIMEOUTS
    assert t.for_prompt("flex") == 3900 and t.for_prompt(None) == t.for_prompt("standard") == 300
    t = profile(prompt={"flex": 600, "standard": 90}, stream_event=5).timeouts
    assert (t.for_prompt("flex"), t.for_prompt("default"), t.for_prompt("priority"), t.stream_event) == (600, 90, 300, 5)
    for bad, needle in (({"prompt": {"batch": 5}}, "timeouts.prompt.batch: unknown key"),
                        ({"calls": 0}, "timeouts.calls: must be at least 0.1"),
                        ({"prompt": {"flex": 3_600_000}}, "timeouts.prompt.flex: must be at most 86400"),
                        ({"stream_event": "fast"}, "timeouts.stream_event: must be float"),
                        ({"prompt": {"standard": 1, "default": 2}}, "either 'standard' or 'default'")):
        with pytest.raises(ConfigError, match=needle.replace(".", r"\.")):
            profile(**bad)


def test_the_shipped_profiles_document_the_timeouts():
    from tierconsole.core.config.profiles import load_profile

    for name in ("sandbox", "aws-template"):
        assert load_profile(name).timeouts == profile().timeouts  # the documented figures are the defaults


async def test_a_flex_prompt_may_wait_longer_than_ten_seconds_while_other_calls_stay_short(make_sandbox):
    """Flex answered after 11 s, streamed and not (before: ReadTimeoutError after 10 s); the same wait on
    Standard with a 2 s prompt timeout is a timeout naming the setting; CloudWatch keeps 10 s."""
    sandbox = make_sandbox(faults="slow=11s:bedrock/model")
    ctx = AwsContext(Target(profile(prompt={"default": 2}), sandbox.endpoint, sandbox=True))
    try:
        t0 = time.monotonic()
        flex, flex_stream, standard = await asyncio.gather(prompt(ctx, "flex"), prompt(ctx, "flex", stream=True),
                                                           prompt(ctx, "default"))
        took = time.monotonic() - t0
        assert flex.ok and flex.served_tier == "flex" and flex.latency_ms > 10_500, flex
        assert flex_stream.ok and flex_stream.served_tier == "flex" and flex_stream.ttft_ms > 10_500, flex_stream
        assert standard.error == "ReadTimeoutError" and 1_900 < standard.latency_ms < 6_000, standard
        assert "no answer within 2 s (the profile's timeouts.prompt.default)" in standard.message
        assert took < 20
        cw = await ctx.client("cloudwatch")
        assert (cw.meta.config.read_timeout, cw.meta.config.connect_timeout) == (10.0, 3.0)
    finally:
        await ctx.close()


async def test_a_stream_longer_than_the_event_timeout_is_fine_while_events_keep_coming(make_sandbox):
    from tierconsole.core.domain.tokens import output_length, prompt_digest

    text = "a long answer please 13"  # the sandbox's answer to it is long: 471 tokens
    sandbox = make_sandbox()  # speed 1: Nova at 180 tokens/s, 8 tokens an event (one every 44 ms)
    ctx = AwsContext(Target(profile(stream_event=1.0), sandbox.endpoint, sandbox=True))
    try:
        result = await prompt(ctx, "default", stream=True, max_tokens=480, text=text)
    finally:
        await ctx.close()
    assert result.ok and result.output_tokens == output_length(prompt_digest(text), 480) > 400, result
    assert result.latency_ms > 2_000  # twice the longest gap allowed between two events


async def test_a_stalled_stream_times_out_after_the_event_gap_with_what_came_so_far(aiohttp_stalling_server):
    ctx = AwsContext(Target(profile(stream_event=0.5), aiohttp_stalling_server, sandbox=True))
    try:
        t0 = time.monotonic()
        result = await prompt(ctx, "flex", stream=True)  # Flex may wait an hour for its first event, not between
        took = time.monotonic() - t0
    finally:
        await ctx.close()
    assert result.error == "StreamStalled" and result.text == "SANDBOX partial", result
    assert "no event for 0.5 s after 15 characters (the profile's timeouts.stream_event)" in result.message
    assert 0.4 < took < 5


@pytest.fixture
def aiohttp_stalling_server():
    """A Bedrock-looking endpoint whose ConverseStream sends two events, then nothing (connection open)."""
    import threading

    from aiohttp import web

    from tierconsole.sandbox import eventstream

    async def stall(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/vnd.amazon.eventstream"})
        await resp.prepare(request)
        await resp.write(eventstream.event("messageStart", {"role": "assistant"}))
        await resp.write(eventstream.event("contentBlockDelta", {"contentBlockIndex": 0,
                                                                 "delta": {"text": "SANDBOX partial"}}))
        await state["stop"].wait()  # until the test is over
        return resp

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state = {}

    async def main():
        app = web.Application()
        app.router.add_post("/model/{model}/converse-stream", stall)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state["port"] = site._server.sockets[0].getsockname()[1]
        state["stop"] = asyncio.Event()
        ready.set()
        await state["stop"].wait()
        await runner.cleanup()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield f"http://127.0.0.1:{state['port']}"
    loop.call_soon_threadsafe(state["stop"].set)
    thread.join(10)
    loop.close()
