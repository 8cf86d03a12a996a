"""The watch on the shipped scenarios, end to end: an embedded sandbox at speed, the watch's real source and
collector, and three real sinks — a command (exec), a webhook (a local receiver on loopback that fails its first
request, so the retry is exercised) and Amazon SNS (the sandbox's, through moto; read back from the topic).
Each scenario produces the events it is about, and every sink gets exactly one alert per episode (and one
resolution when the episode ended)."""
from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import uuid
from pathlib import Path

import boto3
import pytest
from aiohttp import web

from tierconsole.cli.watch_run import build_workers
from tierconsole.core.config.profiles import load_profile
from tierconsole.core.domain.alerting import Watch
from tierconsole.core.domain.events import KINDS
from tierconsole.core.domain.watchconfig import parse_watch
from tierconsole.core.source import LiveSource
from tierconsole.core.watch.eventlog import EventLog
from tierconsole.core.watch.runner import WatchRunner

NOVA = "amazon.nova-lite-v1:0"
GPT = "openai.gpt-oss-20b-1:0"


class Receiver:
    """A webhook receiver on loopback: answers 503 to its first request, then 200; keeps every body."""

    def __init__(self):
        self.bodies: list[dict] = []
        self.requests = 0

    async def handle(self, request):
        self.requests += 1
        if self.requests == 1:
            return web.Response(status=503)
        self.bodies.append(await request.json())
        return web.Response(text="ok")

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/services/T0/B0/token", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/services/T0/B0/token"


def _episodes(alerts: list[dict]) -> dict[str, list[str]]:
    ids = [a["alert_id"] for a in alerts]
    assert len(ids) == len(set(ids)), "an alert delivered twice"
    out: dict[str, list[str]] = {}
    for a in alerts:
        out.setdefault(a["event"]["episode"], []).append(a["type"])
    return out


@pytest.mark.parametrize("scenario, speed, seconds, expected, ended, threshold", [
    ("spike", 10, 40, {("throttle_storm", f"model:{GPT}")}, {("throttle_storm", f"model:{GPT}")}, 0.8),
    ("reserved-overflow", 10, 40, {("overflow", "reservation:sonnet-reserved-1")},
     {("overflow", "reservation:sonnet-reserved-1")}, 0.8),
    ("outage", 10, 40, {("error_storm", f"model:{NOVA}")}, {("error_storm", f"model:{NOVA}")}, 0.8),
    ("flex-backlog", 20, 30, {("quota_over", f"quota:{NOVA}"), ("throttle_storm", f"model:{NOVA}")}, set(),
     0.5),  # Standard keeps Nova's quota near full; on a loaded machine the sandbox's pace can dip below 80%
])
async def test_a_scenario_gives_its_events_and_one_alert_per_episode_to_every_sink(
        tmp_path, monkeypatch, scenario, speed, seconds, expected, ended, threshold):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("TIERCONSOLE_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    receiver = Receiver()
    url = await receiver.start()
    out = tmp_path / "exec.jsonl"
    name = f"oncall-{uuid.uuid4().hex[:12]}"  # moto's SNS is shared by every sandbox of this process
    topic_arn = f"arn:aws:sns:us-east-1:123456789012:{name}"
    config = parse_watch({"clear_seconds": 30, "sinks": {
        "hook": {"type": "webhook", "url": url, "retries": 3},
        "pager": {"type": "sns", "topic_arn": topic_arn},
        "run": {"type": "exec", "command": ["sh", "-c", f"cat >> {out}"]}}},
        [{"name": "all", "events": list(KINDS), "cooldown": 0, "sinks": ["hook", "pager", "run"]}], sandbox=True,
        threshold=threshold)
    profile = dataclasses.replace(load_profile("sandbox"), watch=config, refresh_seconds=1.0)
    source = LiveSource(profile, scenario=scenario, speed=speed, sandbox="embedded")
    await asyncio.to_thread(source.start)
    source.start = lambda: None  # started here, to create the SNS topic on its endpoint first
    sandbox = source.sandbox_thread.sandbox
    boto3.client("sns", endpoint_url=source.ctx.target.endpoint_url, region_name="us-east-1",
                 aws_access_key_id="a", aws_secret_access_key="b").create_topic(Name=name)
    log = EventLog(stream=io.StringIO(), json_lines=True)
    runner = WatchRunner(source, Watch(config), log, sinks=build_workers(source, list(config.sinks.values()), log),
                         duration=seconds, drain_timeout=20)
    from moto.sns.models import sns_backends

    topic = sns_backends[sandbox.config.account_id]["us-east-1"].topics[topic_arn]
    try:
        await runner.run()
    finally:
        await receiver.runner.cleanup()
    lines = [json.loads(line) for line in log.stream.getvalue().splitlines()]
    events = [d for d in lines if d["type"] == "event"]
    starts = {(e["kind"], e["subject"]) for e in events if e["phase"] == "start"}
    ends = {(e["kind"], e["subject"]) for e in events if e["phase"] == "end"}
    assert expected <= starts, sorted(starts)
    assert ended <= ends, sorted(ends)
    fired = [d for d in lines if d["type"] == "alert"]
    assert fired and all(d["outcome"] in ("fired", "resolved") for d in fired)  # cooldown 0: none suppressed
    want = {d["alert_id"] for d in fired}
    by_sink = {"exec": [json.loads(line) for line in out.read_text().splitlines()],
               "webhook": receiver.bodies,
               "sns": [json.loads(m[1]) for m in topic.sent_notifications]}
    assert receiver.requests == len(receiver.bodies) + 1  # the first answer was a 503: retried, delivered once
    for name, got in by_sink.items():
        if name == "webhook":  # Slack's payload: the alert id is in its context block
            ids = [b["blocks"][1]["elements"][0]["text"].split("alert ")[1].split(" ")[0] for b in got]
            assert sorted(ids) == sorted(want), name
            continue
        assert {a["alert_id"] for a in got} == want, name
        for episode, types in _episodes(got).items():
            assert types in (["alert"], ["alert", "resolved"]), (name, episode, types)
    for kind, subject in ended:
        ep = {e["episode"] for e in events if (e["kind"], e["subject"]) == (kind, subject) and e["phase"] == "end"}
        assert all(_episodes(by_sink["exec"])[x] == ["alert", "resolved"] for x in ep)
    sinks = [d for d in lines if d["type"] == "sink" and d["outcome"] != "retrying"]
    assert {d["outcome"] for d in sinks} == {"sent"} and len(sinks) == 3 * len(want)
    retried = [d for d in lines if d["type"] == "sink" and d["outcome"] == "retrying"]  # the 503, said at once
    assert [(d["sink"], d["attempt"], d["error"]) for d in retried] == [("hook", 1, "HTTP 503")], retried
    assert Path(out).stat().st_size > 0
