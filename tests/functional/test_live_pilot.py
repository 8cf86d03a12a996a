"""The real console against a real sandbox: collectors over aiobotocore, drawn through Textual's Pilot."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import time

import pytest

from tierconsole.core.ops.batch import submit_batch
from tierconsole.core.ops.guard import Guard
from tierconsole.tui.app import TierConsoleApp
from tierconsole.core.source import LiveSource
from tierconsole.core.config.profiles import load_profile
from tierconsole.sandbox.app import Sandbox, SandboxThread
from tierconsole.tui.widgets.pane import StaleBanner
from tierconsole.tui.widgets.quota import QuotaBody
from tierconsole.tui.widgets.reservations import ReservationsBody
from tests.conftest import NOVA, aio_client, user
from tests.functional.test_dashboard_pilot import text_of

WIDE = (120, 40)


async def wait_for(pilot, predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await pilot.pause(0.2)
    return predicate()


def shown(app):
    return app.dashboard.shown


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


async def throttle_burst(endpoint: str) -> int:
    async with aio_client("bedrock-runtime", endpoint) as c:
        async def one():
            try:
                await c.converse(modelId=NOVA, messages=user("x" * 20_000), inferenceConfig={"maxTokens": 5000})
                return 0
            except Exception:  # noqa: BLE001 - counted
                return 1
        return sum(await asyncio.gather(*(one() for _ in range(40))))


async def test_live_dashboard_fills_every_pane_and_pauses(isolated, tmp_path):
    profile = dataclasses.replace(load_profile("sandbox"), refresh_seconds=0.5)
    source = LiveSource(profile, scenario="steady", speed=5.0)
    app = TierConsoleApp(source=source)
    async with app.run_test(size=WIDE) as pilot:
        assert await wait_for(pilot, lambda: source.ctx is not None and app.polls > 0)
        endpoint = source.ctx.target.endpoint_url
        assert endpoint.startswith("http://127.0.0.1:")
        # Operator-side traffic: a throttling burst and a batch job, through the same real clients.
        assert await throttle_burst(endpoint) > 0
        batch_in = tmp_path / "in.jsonl"
        batch_in.write_text("\n".join(json.dumps({"recordId": f"r{i}", "modelInput": {
            "messages": [{"role": "user", "content": [{"text": f"q{i}"}]}]}}) for i in range(120)))
        guard = Guard(source.profile, tmp_path / "audit.jsonl", account_id="123456789012")
        await submit_batch(source.ctx, guard, str(batch_in), NOVA, "pilot-job")

        def every_pane_nonzero():
            d = shown(app)
            return (d is not None and d.reservations and d.reservations[0].input_tpm_used > 0
                    and any(q.tpm_used > 0 for q in d.quotas) and d.throttle_events and d.batch_jobs)
        assert await wait_for(pilot, every_pane_nonzero, timeout=40), shown(app)
        d = shown(app)
        assert d.is_sandbox and d.account_id == "123456789012"
        assert {q.model_id for q in d.quotas} == {m["id"] for m in profile.sandbox["models"]}
        assert all(st.ok for st in d.status.values())
        assert any(e.model_id == NOVA and e.tier == "default" for e in d.throttle_events)
        assert [j.job_name for j in d.batch_jobs] == ["pilot-job"]
        quota_text = text_of(app.screen.query_one(QuotaBody))
        assert "Amazon Nova Lite" in quota_text and "/120k" in quota_text
        assert "sonnet-reserved-1" in text_of(app.screen.query_one(ReservationsBody))

        await pilot.press("p")
        await pilot.pause(0.3)
        polls = app.polls
        await pilot.pause(1.5)
        assert app.paused and app.polls == polls  # paused: no polling
        await pilot.press("p")
        assert await wait_for(pilot, lambda: app.polls > polls, timeout=20)
        await app.close_source()


async def test_killed_endpoint_turns_panes_stale_and_they_recover(isolated):
    profile = dataclasses.replace(load_profile("sandbox"), refresh_seconds=0.25)
    source = LiveSource(profile, scenario="steady", speed=1.0)
    app = TierConsoleApp(source=source)
    async with app.run_test(size=WIDE) as pilot:
        assert await wait_for(pilot, lambda: shown(app) is not None and shown(app).quotas and app.polls > 1)
        good = shown(app)
        port = source.sandbox_thread.sandbox.port
        config = source.sandbox_thread.sandbox.config
        source.sandbox_thread.stop()  # the endpoint disappears

        def stale():
            d = shown(app)
            return d is not None and not d.pane_status("quota").ok
        assert await wait_for(pilot, stale, timeout=20)
        d = shown(app)
        assert "endpoint down" in d.pane_status("quota").reason
        assert d.quotas == good.quotas or len(d.quotas) == len(good.quotas)  # last good data still shown
        assert "endpoint down" in text_of(app.screen.query_one("#quota").query_one(StaleBanner))

        revived = SandboxThread(Sandbox(config, scenario="none"), port=port)
        revived.start()
        try:
            assert await wait_for(pilot, lambda: shown(app).pane_status("quota").ok, timeout=30)
            assert app.failures == 0
        finally:
            await app.close_source()
            revived.stop()


async def test_aws_endpoint_url_is_honoured_and_shown(isolated, sandbox, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.endpoint)
    source = LiveSource(load_profile("sandbox"))
    app = TierConsoleApp(source=source)
    async with app.run_test(size=(170, 40)) as pilot:  # wide enough for the header's endpoint field
        assert await wait_for(pilot, lambda: app.polls > 0)
        assert source.sandbox_thread is None  # no embedded sandbox: the endpoint from the environment is used
        assert shown(app).endpoint == sandbox.endpoint and shown(app).quotas
        from tierconsole.tui.widgets.header import HeaderBar
        assert sandbox.endpoint.split("//")[1] in text_of(app.screen.query_one(HeaderBar))
        await app.close_source()
