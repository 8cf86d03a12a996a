"""Operator actions in the real console against a real sandbox, driven by keys through Textual's Pilot.

Prompt lab (every tier, all tiers, escalate, streaming, cancel, history, bad input, read-only),
batch submit (valid, malformed, from S3, read-only), cancel with confirmation, and the profile
switcher with its isolation guarantee. Nothing in tierconsole is mocked: the calls go over
aiobotocore to an embedded sandbox on loopback, exactly as in production use.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from pathlib import Path

import pytest
import yaml
from textual.widgets import Checkbox, Input, OptionList, Select

from tierconsole.core.ops.batch import submit_batch
from tierconsole.core.ops.guard import Guard
from tierconsole.tui.app import TierConsoleApp
from tierconsole.core.domain.profile import parse_profile
from tierconsole.core.source import LiveSource
from tierconsole.core.config.profiles import load_profile
from tierconsole.tui.screens.batch_submit import BatchSubmitScreen, ConfirmCancelScreen, JsonlTree
from tierconsole.core.domain.sample import sample_dashboard
from tierconsole.tui.screens.dashboard import DashboardScreen
from tierconsole.tui.screens.help import HelpScreen
from tierconsole.tui.screens.profile_switcher import ProfileSwitcher
from tierconsole.tui.screens.prompt_lab import HistoryPicker, PromptArea, PromptLabScreen, ResultsTable
from tierconsole.tui.widgets.batch import BatchList, BatchPane
from tierconsole.tui.widgets.header import HeaderBar
from tierconsole.tui.widgets.quota import QuotaBody
from tests.conftest import GPT, NOVA, SONNET, aio_client, boto3_client, user
from tests.functional.test_dashboard_pilot import text_of

WIDE = (120, 40)
ACCOUNT = "123456789012"
ALT_ACCOUNT = "210987654321"
MICRO = "amazon.nova-micro-v1:0"


# ------------------------------------------------------------------ fixtures and helpers

_STARTED: list[LiveSource] = []


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """User config, state (audit) and data (history) in the test's own directory; sandboxes stopped after."""
    for var, sub in (("XDG_CONFIG_HOME", "cfg"), ("XDG_STATE_HOME", "state"), ("XDG_DATA_HOME", "data")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    while _STARTED:  # a failed test never leaves a sandbox running
        thread = _STARTED.pop().sandbox_thread
        if thread is not None:
            thread.stop()


def tracked(source: LiveSource) -> LiveSource:
    _STARTED.append(source)
    return source


def audit_entries(tmp_path: Path) -> list[dict]:
    path = tmp_path / "state" / "tierconsole" / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def history_entries(tmp_path: Path) -> list[dict]:
    path = tmp_path / "data" / "tierconsole" / "history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def wait_for(pilot, predicate, timeout: float = 15.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await pilot.pause(step)
    return predicate()


def sandbox_profile(**changes):
    return dataclasses.replace(load_profile("sandbox"), refresh_seconds=0.3, **changes)


def sandbox_doc() -> dict:
    return yaml.safe_load((Path(__file__).resolve().parents[2] / "profiles" / "sandbox.yaml").read_text())


def live_app(profile=None, *, speed: float = 5.0, read_only: bool = False) -> TierConsoleApp:
    source = tracked(LiveSource(profile or sandbox_profile(), scenario="none", speed=speed, read_only=read_only))
    return TierConsoleApp(source=source)


async def ready(pilot) -> TierConsoleApp:
    app = pilot.app
    assert await wait_for(pilot, lambda: app.polls > 0 and app.dashboard.shown.account_id is not None, timeout=20)
    return app


async def open_lab(pilot) -> PromptLabScreen:
    await pilot.press("t")
    assert await wait_for(pilot, lambda: isinstance(pilot.app.screen, PromptLabScreen))
    lab = pilot.app.screen
    await pilot.pause()
    return lab


async def fill_lab(pilot, lab: PromptLabScreen, text: str, *, model: str = NOVA, tier: str = "standard",
                   stream: bool = False, max_tokens: str = "", system: str = "") -> None:
    lab.query_one("#lab-model", Select).value = model
    lab.query_one("#lab-tier", Select).value = tier
    lab.query_one("#lab-stream", Checkbox).value = stream
    lab.query_one("#lab-max-tokens", Input).value = max_tokens
    lab.query_one("#lab-system", Input).value = system
    area = lab.query_one(PromptArea)
    area.load_text(text)
    area.focus()
    await pilot.pause()


async def send_and_wait(pilot, lab: PromptLabScreen, timeout: float = 15.0) -> None:
    run = lab.run_id
    await pilot.press("ctrl+s")
    assert await wait_for(pilot, lambda: lab.run_id == run + 1 and not lab.in_flight, timeout=timeout), lab.message


def notes(app) -> list[str]:
    """The notifications the operator has been shown (toasts still on screen)."""
    return [str(n.message) for n in app._notifications]


def row_text(lab: PromptLabScreen, tier: str) -> list[str]:
    table = lab.query_one(ResultsTable)
    return [cell.plain if hasattr(cell, "plain") else str(cell) for cell in table.get_row(tier)]


# ------------------------------------------------------------------ prompt lab

async def test_prompt_at_each_tier_shows_served_tier_status_and_cost(isolated):
    app = live_app()
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        lab = await open_lab(pilot)
        for tier, wire in (("standard", "default"), ("priority", "priority"), ("flex", "flex")):
            await fill_lab(pilot, lab, f"Say hello at {tier}", tier=tier, max_tokens="200")
            await send_and_wait(pilot, lab)
            r = lab.results[wire]
            assert r.ok and r.served_tier == wire and r.cost_usd > 0 and r.output_tokens > 0
            cells = row_text(lab, wire)
            assert cells[1] == {"default": "Standard", "priority": "Priority", "flex": "Flex"}[wire]
            assert cells[2] == "ok" and cells[3] == f"${r.cost_usd:.6f}" and cells[4].endswith(" ms")
            assert lab.outputs[wire].text.startswith("SANDBOX")  # the answer, shown in its tier's area
        # Reserved: served from the reservation (no marginal cost) on Sonnet; the exact AWS error on Nova.
        await fill_lab(pilot, lab, "Reserved please", model=SONNET, tier="reserved", max_tokens="100")
        await send_and_wait(pilot, lab)
        assert lab.results["reserved"].served_tier == "reserved" and row_text(lab, "reserved")[3] == "in reservation"
        await fill_lab(pilot, lab, "Reserved please", model=NOVA, tier="reserved", max_tokens="100")
        await send_and_wait(pilot, lab)
        cells = row_text(lab, "reserved")
        assert cells[2] == "ValidationException" and cells[9] == "Reservation not found."
        assert lab.outputs["reserved"].text == "ValidationException: Reservation not found."
        assert "Reserved: ValidationException" in lab.message
        await app.close_source()
    audit = [a for a in audit_entries(isolated) if a["action"] == "prompt"]
    assert [a["outcome"] for a in audit] == ["ok", "ok", "ok", "ok", "failed: ValidationException"]
    assert all(a["account"] == ACCOUNT and a["profile"] == "sandbox" for a in audit)
    assert "Say hello" not in json.dumps(audit)  # the audit keeps a fingerprint, never the text
    assert [h["tier"] for h in history_entries(isolated)] == ["standard", "priority", "flex", "reserved", "reserved"]


async def test_all_tiers_side_by_side_in_one_table(isolated):
    app = live_app()
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        lab = await open_lab(pilot)
        await fill_lab(pilot, lab, "Compare every tier", model=SONNET, tier="all", max_tokens="150")
        await send_and_wait(pilot, lab)
        table = lab.query_one(ResultsTable)
        assert [k.value for k in table.rows] == ["reserved", "priority", "default", "flex"]
        served = {t: r.served_tier for t, r in lab.results.items()}
        assert served == {"reserved": "reserved", "priority": "priority", "default": "default", "flex": "flex"}
        cost = {t: r.cost_usd for t, r in lab.results.items()}
        assert cost["reserved"] == 0 and cost["priority"] > cost["default"] > cost["flex"] > 0
        assert [row_text(lab, t)[1] for t in ("reserved", "priority", "default", "flex")] == \
            ["Reserved", "Priority", "Standard", "Flex"]
        assert set(lab.outputs) == {"reserved", "priority", "default", "flex"}
        assert all(o.text.startswith("SANDBOX") for o in lab.outputs.values())
        await app.close_source()


async def burst(endpoint: str, n: int = 30) -> int:
    """Fill Nova Lite's 120k TPM window with large, settled requests; returns how many were throttled."""
    async with aio_client("bedrock-runtime", endpoint) as c:
        async def one():
            try:
                await c.converse(modelId=NOVA, messages=user("x" * 20_000), inferenceConfig={"maxTokens": 1})
                return 0
            except Exception:  # noqa: BLE001 - throttles are counted
                return 1
        return sum(await asyncio.gather(*(one() for _ in range(n))))


async def test_escalate_after_a_throttle_is_served_by_priority(isolated):
    # Standard gives up at once when the quota is full; Priority waits until the window frees up.
    doc = sandbox_doc()
    doc["sandbox"]["engine"]["tiers"] = {"priority": {"max_wait_s": 120, "speed_factor": 1.25},
                                         "default": {"max_wait_s": 0.5, "speed_factor": 1.0}}
    profile = dataclasses.replace(parse_profile(doc, default_name="sandbox"), refresh_seconds=0.3)
    app = live_app(profile, speed=30.0)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        assert await burst(app.source.ctx.target.endpoint_url) > 0  # the window is full
        lab = await open_lab(pilot)
        await fill_lab(pilot, lab, "Escalate me", tier="escalate", max_tokens="5000")
        await send_and_wait(pilot, lab, timeout=15)
        first, second = lab.results["default"], lab.results["priority"]
        assert first.error == "ThrottlingException" and "Too many tokens" in first.message
        assert second.ok and second.served_tier == "priority" and second.escalated_from == "default"
        assert row_text(lab, "default")[2] == "ThrottlingException"
        assert row_text(lab, "priority")[0] == "Priority ↑" and "escalated from Standard" in row_text(lab, "priority")[9]
        # The console's own throttle is in the throttle pane, marked as from the console.
        assert await wait_for(pilot, lambda: any(
            e.source == "console" and e.tier == "default" and e.model_id == NOVA
            for e in app.dashboard.latest.throttle_events), timeout=20)
        await app.close_source()


async def test_streaming_text_appears_before_the_answer_completes(isolated):
    app = live_app(speed=0.3)  # this prompt's 137-token answer streams for about two seconds
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        lab = await open_lab(pilot)
        await fill_lab(pilot, lab, "Stream a long answer please", tier="priority", stream=True, max_tokens="300")
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: lab.in_flight and lab.outputs.get("priority") is not None
                              and len(lab.outputs["priority"].text) > 0, timeout=10)
        partial = lab.outputs["priority"].text
        assert "priority" not in lab.results  # text is on screen, the answer is not complete
        assert row_text(lab, "priority")[2] == "streaming…"
        assert await wait_for(pilot, lambda: not lab.in_flight, timeout=15)
        r = lab.results["priority"]
        assert r.ok and r.ttft_ms is not None and r.served_tier == "priority"
        assert lab.outputs["priority"].text == r.text and len(r.text) > len(partial) and r.text.startswith(partial)
        assert row_text(lab, "priority")[5].endswith(" ms")  # TTFT is measured when streaming
        await app.close_source()


async def test_a_stream_cut_mid_answer_keeps_its_text_names_the_failure_and_the_lab_goes_on(isolated):
    from tierconsole.sandbox.faults import parse_faults
    app = live_app(speed=5.0)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        app.source.sandbox_thread.sandbox.faults.rules = parse_faults("cut#1:bedrock/model/")  # runtime calls only
        lab = await open_lab(pilot)
        await fill_lab(pilot, lab, "Stream an answer", tier="priority", stream=True, max_tokens="200")
        await send_and_wait(pilot, lab)
        r = lab.results["priority"]
        assert not r.ok and r.error == "StreamCut" and r.text and f"after {len(r.text)} characters" in r.message
        shown = lab.outputs["priority"].text
        assert shown.startswith(r.text) and "StreamCut: the connection closed mid-answer" in shown
        assert row_text(lab, "priority")[2] == "StreamCut" and "incomplete" in row_text(lab, "priority")[9]
        await send_and_wait(pilot, lab)  # the fault was once: the next send streams the whole answer
        assert lab.results["priority"].ok and lab.results["priority"].text.startswith(r.text)
        await app.close_source()


async def test_esc_cancels_a_prompt_in_flight(isolated):
    app = live_app(speed=0.2)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        lab = await open_lab(pilot)
        await fill_lab(pilot, lab, "A slow streamed answer", tier="flex", stream=True, max_tokens="400")
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: lab.in_flight and lab.outputs.get("flex") is not None
                              and lab.outputs["flex"].text, timeout=10)
        await pilot.press("escape")
        await pilot.pause()
        assert not lab.in_flight and app.screen is lab  # esc cancelled; it did not close the lab
        assert row_text(lab, "flex")[2] == "cancelled" and "cancelled after" in row_text(lab, "flex")[9]
        assert "Cancelled after" in lab.message and "flex" not in lab.results
        assert await wait_for(pilot, lambda: not any(w.group == "prompt" and w.is_running for w in app.workers))
        assert await wait_for(pilot, lambda: any(a["outcome"] == "cancelled" for a in audit_entries(isolated)))
        text_then = lab.outputs["flex"].text
        await pilot.pause(0.5)
        assert lab.outputs["flex"].text == text_then  # nothing more arrives
        await pilot.press("escape")  # with nothing in flight, esc goes back to the dashboard
        assert await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await app.close_source()


async def test_bad_input_is_named_and_nothing_is_sent(isolated):
    app = live_app()
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        lab = await open_lab(pilot)
        await fill_lab(pilot, lab, "   ")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert lab.message.startswith("✖ prompt: empty") and "nothing sent" in lab.message
        assert lab.run_id == 0 and not lab.in_flight
        await fill_lab(pilot, lab, "Hello", max_tokens="lots")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert lab.message == "✖ max tokens: 'lots' is not a whole number — nothing sent"
        assert app.screen.focused is lab.query_one("#lab-max-tokens")  # focus goes to the field to fix
        await fill_lab(pilot, lab, "Hello", max_tokens="0")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "max tokens: must be at least 1" in lab.message
        lab.query_one("#lab-temperature", Input).value = "hot"
        await fill_lab(pilot, lab, "Hello", max_tokens="10")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "temperature: 'hot' is not a number" in lab.message
        assert lab.run_id == 0
        await app.close_source()
    assert audit_entries(isolated) == [] and history_entries(isolated) == []


async def test_read_only_without_prompt_permission_refuses_prompts(isolated):
    """--read-only on a profile that does not set allow_prompts_in_read_only (the default: refused), below
    the UI, with a message saying why and how to allow them."""
    app = live_app(sandbox_profile(), read_only=True)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        assert "READ-ONLY" in text_of(app.query_one(HeaderBar))
        lab = await open_lab(pilot)
        assert "READ-ONLY: test prompts are refused: --read-only was given" in lab.message, lab.message
        await fill_lab(pilot, lab, "Hello")
        await send_and_wait(pilot, lab)
        assert "test prompts refused: --read-only was given" in lab.message, lab.message
        assert "allow_prompts_in_read_only is false" in lab.message
        assert "allow_prompts_in_read_only: true" in lab.message
        assert lab.results == {} and row_text(lab, "default")[2] == "refused"
        await app.close_source()
    assert [(a["action"], a["outcome"]) for a in audit_entries(isolated)] == [("prompt", "refused: read-only")]
    assert history_entries(isolated) == []


async def test_history_recalls_previous_prompts(isolated):
    app = live_app(speed=20.0)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        lab = await open_lab(pilot)
        await fill_lab(pilot, lab, "first prompt", max_tokens="20")
        await send_and_wait(pilot, lab)
        await fill_lab(pilot, lab, "second prompt", tier="flex", max_tokens="30", system="be brief")
        await send_and_wait(pilot, lab)
        await fill_lab(pilot, lab, "a draft")
        area = lab.query_one(PromptArea)
        await pilot.press("up")
        assert area.text == "second prompt" and lab.query_one("#lab-tier", Select).value == "flex"
        assert lab.query_one("#lab-system", Input).value == "be brief"
        assert lab.query_one("#lab-max-tokens", Input).value == "30"
        await pilot.press("up")
        assert area.text == "first prompt" and lab.query_one("#lab-tier", Select).value == "standard"
        await pilot.press("down")
        assert area.text == "second prompt"
        await pilot.press("down")
        assert area.text == "a draft"  # back to what was being typed
        await pilot.press("ctrl+r")
        assert await wait_for(pilot, lambda: isinstance(app.screen, HistoryPicker))
        await pilot.press("down", "enter")  # newest first: the second entry is the first prompt
        assert await wait_for(pilot, lambda: app.screen is lab)
        assert area.text == "first prompt"
        await app.close_source()
    # A new console (same history file) recalls them too.
    app = live_app(speed=20.0)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        lab = await open_lab(pilot)
        assert await wait_for(pilot, lambda: len(lab.history) == 2)
        await pilot.press("up")
        assert lab.query_one(PromptArea).text == "second prompt"
        await app.close_source()


# ------------------------------------------------------------------ batch submit

def batch_lines(n: int) -> list[str]:
    return [json.dumps({"recordId": f"r{i}", "modelInput": {
        "messages": [{"role": "user", "content": [{"text": f"question {i}"}]}]}}) for i in range(n)]


def jobs_shown(app: TierConsoleApp) -> dict:
    data = app.dashboard.shown
    return {j.job_name: j for j in (data.batch_jobs if data else ())}


async def open_submit(pilot) -> BatchSubmitScreen:
    await pilot.press("b")
    assert await wait_for(pilot, lambda: isinstance(pilot.app.screen, BatchSubmitScreen))
    await pilot.pause()
    return pilot.app.screen


async def submit_form(pilot, screen: BatchSubmitScreen, path: str, name: str, model: str = NOVA) -> None:
    field = screen.query_one("#batch-path", Input)
    field.value = ""
    field.focus()
    if len(path) <= 16:
        await pilot.press(*path)  # typed, as an operator would
    else:
        field.value = path  # long URIs: typing them key by key only costs test time
    screen.query_one("#batch-model", Select).value = model
    screen.query_one("#batch-name", Input).value = name
    await pilot.pause()
    await pilot.press("ctrl+s")
    assert await wait_for(pilot, lambda: not screen.busy and screen.result_text.startswith(("✓", "✖")), timeout=15), \
        screen.result_text


async def test_submit_a_valid_file_and_watch_it_progress_in_the_batch_pane(isolated):
    (isolated / "requests.jsonl").write_text("\n".join(batch_lines(400)) + "\n")
    app = live_app(speed=20.0)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        screen = await open_submit(pilot)
        assert "s3://tierconsole-sandbox/input/" in str(screen.query_one("#batch-dest").render())
        await submit_form(pilot, screen, "requests.jsonl", "tui-valid")
        assert screen.result_text.startswith("✓ Created tui-valid") and "arn:aws:bedrock:us-east-1:" in screen.result_text
        assert str(screen.query_one("#batch-path-hint").render()).startswith("✓ Local file")
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        assert await wait_for(pilot, lambda: "tui-valid" in jobs_shown(app), timeout=20)
        assert "tui-valid" in text_of(app.query_one(BatchList))
        assert await wait_for(pilot, lambda: jobs_shown(app)["tui-valid"].processed > 0, timeout=15)
        first = jobs_shown(app)["tui-valid"].processed
        assert await wait_for(pilot, lambda: jobs_shown(app)["tui-valid"].processed > first, timeout=10)
        assert jobs_shown(app)["tui-valid"].total_records == 400
        await app.close_source()
    submits = [a for a in audit_entries(isolated) if a["action"] == "batch-submit"]
    assert len(submits) == 1 and submits[0]["outcome"] == "ok" and submits[0]["detail"]["records"] == 400


async def test_a_malformed_file_shows_its_line_numbers_and_uploads_nothing(isolated):
    lines = batch_lines(120)
    lines[1] = "{not json"
    lines[3] = json.dumps({"recordId": "x"})
    (isolated / "bad.jsonl").write_text("\n".join(lines) + "\n")
    app = live_app()
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        screen = await open_submit(pilot)
        await submit_form(pilot, screen, "bad.jsonl", "tui-bad")
        text = screen.result_text
        assert "bad.jsonl: 2 problems, nothing uploaded" in text
        assert "bad.jsonl:2: not valid JSON" in text and "bad.jsonl:4: modelInput is required" in text
        assert "✖" in str(screen.query_one("#batch-result").render())
        s3 = boto3_client("s3", app.source.ctx.target.endpoint_url)
        assert s3.list_objects_v2(Bucket="tierconsole-sandbox", Prefix="input/tui-bad")["KeyCount"] == 0
        # A path that does not exist is named, and nothing is sent.
        await submit_form(pilot, screen, "missing.jsonl", "tui-missing")
        assert screen.result_text.startswith("✖") and "missing.jsonl: no such file" in screen.result_text
        bedrock = boto3_client("bedrock", app.source.ctx.target.endpoint_url)
        assert bedrock.list_model_invocation_jobs()["invocationJobSummaries"] == []
        await app.close_source()
    assert [a for a in audit_entries(isolated) if a["action"] == "batch-submit"] == []


async def test_submit_from_an_s3_uri_uploads_nothing_more(isolated):
    app = live_app()
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        endpoint = app.source.ctx.target.endpoint_url
        s3 = boto3_client("s3", endpoint)
        s3.put_object(Bucket="tierconsole-sandbox", Key="staged/ready.jsonl", Body="\n".join(batch_lines(150)).encode())
        screen = await open_submit(pilot)
        await submit_form(pilot, screen, "s3://tierconsole-sandbox/staged/nope.jsonl", "tui-s3-missing")
        assert "s3://tierconsole-sandbox/staged/nope.jsonl: no such object" in screen.result_text
        await submit_form(pilot, screen, "s3://tierconsole-sandbox/staged/ready.jsonl", "tui-s3", model=GPT)
        assert screen.result_text.startswith("✓ Created tui-s3"), screen.result_text
        bedrock = boto3_client("bedrock", endpoint)
        jobs = bedrock.list_model_invocation_jobs()["invocationJobSummaries"]
        assert [j["jobName"] for j in jobs] == ["tui-s3"]
        job = bedrock.get_model_invocation_job(jobIdentifier=jobs[0]["jobArn"])
        assert job["inputDataConfig"]["s3InputDataConfig"]["s3Uri"] == "s3://tierconsole-sandbox/staged/ready.jsonl"
        assert s3.list_objects_v2(Bucket="tierconsole-sandbox", Prefix="input/tui-s3")["KeyCount"] == 0  # no upload
        # The same submit again is the same job, and the screen says so (not "Created")
        await submit_form(pilot, screen, "s3://tierconsole-sandbox/staged/ready.jsonl", "tui-s3", model=GPT)
        assert "existing job tui-s3" in screen.result_text and "Created" not in screen.result_text, screen.result_text
        assert len(bedrock.list_model_invocation_jobs()["invocationJobSummaries"]) == 1
        await app.close_source()


# ------------------------------------------------------------------ cancel

async def core_job(app: TierConsoleApp, tmp_path: Path, name: str, n: int = 120) -> str:
    """A job created through the shared core with a writable guard (setup, not the thing under test)."""
    path = tmp_path / f"{name}.jsonl"
    path.write_text("\n".join(batch_lines(n)))
    source = app.source
    guard = Guard(dataclasses.replace(source.profile, read_only=False), tmp_path / "setup-audit.jsonl", ACCOUNT)
    return (await submit_batch(source.ctx, guard, str(path), NOVA, name))["jobArn"]


async def select_job(pilot, name: str) -> None:
    app = pilot.app
    assert await wait_for(pilot, lambda: name in jobs_shown(app), timeout=20)
    pane = app.query_one(BatchPane)
    if app.focused is None or pane not in app.focused.ancestors_with_self:
        await pilot.press("4")  # focus (and maximise) the batch pane
    assert await wait_for(pilot, lambda: pane.selected_job is not None)
    names = [j.job_name for j in pane.ordered]
    step = names.index(name) - names.index(pane.selected_job.job_name)
    for _ in range(abs(step)):
        await pilot.press("down" if step > 0 else "up")
    assert pane.selected_job.job_name == name


async def test_cancel_asks_naming_job_account_and_profile_then_stops_the_job(isolated):
    app = live_app(speed=5.0)  # a job stays queued for about ten seconds
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        keep_arn = await core_job(app, isolated, "keep-me")
        stop_arn = await core_job(app, isolated, "stop-me")
        bedrock = boto3_client("bedrock", app.source.ctx.target.endpoint_url)
        await select_job(pilot, "keep-me")
        await pilot.press("x")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
        question = str(app.screen.query_one("#confirm-text").render())
        assert "Cancel batch job keep-me?" in question and keep_arn in question
        assert f"account  {ACCOUNT}" in question and "profile  sandbox" in question and "region   us-east-1" in question
        await pilot.press("n")
        assert await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        assert await wait_for(pilot, lambda: "Not cancelled: keep-me keeps running." in notes(app))
        await pilot.pause(0.3)
        assert bedrock.get_model_invocation_job(jobIdentifier=keep_arn)["status"] in ("Submitted", "Validating")

        await select_job(pilot, "stop-me")
        await pilot.press("x")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
        assert "Cancel batch job stop-me?" in str(app.screen.query_one("#confirm-text").render())
        await pilot.press("y")
        assert await wait_for(pilot, lambda: bedrock.get_model_invocation_job(jobIdentifier=stop_arn)["status"]
                              in ("Stopping", "Stopped"), timeout=20)
        assert await wait_for(pilot, lambda: jobs_shown(app)["stop-me"].status in ("Stopping", "Stopped"), timeout=20)
        assert any(n.startswith("stop-me: Stopp") for n in notes(app))
        assert jobs_shown(app)["keep-me"].active
        assert bedrock.get_model_invocation_job(jobIdentifier=keep_arn)["status"] in ("Submitted", "Validating")
        await app.close_source()
    cancels = [a for a in audit_entries(isolated) if a["action"] == "batch-cancel"]
    assert [(a["target"], a["outcome"], a["account"]) for a in cancels] == [(stop_arn, "ok", ACCOUNT)]


async def test_x_without_a_selection_goes_to_the_batch_pane_first(isolated):
    app = live_app(speed=5.0)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        await core_job(app, isolated, "only-job")
        assert await wait_for(pilot, lambda: "only-job" in jobs_shown(app), timeout=20)
        assert app.query_one(BatchPane).selected_job is None
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)  # no confirmation yet: nothing was selected
        assert app.dashboard.current == "batch" and app.query_one(BatchPane).selected_job.job_name == "only-job"
        await pilot.press("x")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmCancelScreen))
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await app.close_source()


async def test_read_only_refuses_submit_and_cancel_in_the_guard(isolated):
    (isolated / "requests.jsonl").write_text("\n".join(batch_lines(120)))
    app = live_app(read_only=True)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        assert "READ-ONLY" in text_of(app.query_one(HeaderBar))
        bedrock = boto3_client("bedrock", app.source.ctx.target.endpoint_url)
        screen = await open_submit(pilot)
        assert "READ-ONLY: batch submit is refused: --read-only was given" in screen.result_text
        await submit_form(pilot, screen, "requests.jsonl", "ro-submit")
        assert "batch-submit refused: --read-only was given" in screen.result_text
        assert bedrock.list_model_invocation_jobs()["invocationJobSummaries"] == []
        await pilot.press("escape")
        arn = await core_job(app, isolated, "ro-job")
        await select_job(pilot, "ro-job")
        await pilot.press("x")
        await pilot.pause(0.5)
        assert isinstance(app.screen, DashboardScreen)  # refused before asking
        assert any("batch-cancel refused: --read-only was given" in n for n in notes(app)), notes(app)
        assert bedrock.get_model_invocation_job(jobIdentifier=arn)["status"] in ("Submitted", "Validating")
        await app.close_source()
    refusals = [(a["action"], a["outcome"]) for a in audit_entries(isolated)]
    assert refusals == [("batch-submit", "refused: read-only"), ("batch-cancel", "refused: read-only")]


# ------------------------------------------------------------------ profile switching

class RecordingApp(TierConsoleApp):
    """The app, recording every DashboardData it is asked to show (to prove what was never shown)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.shown_log: list = []

    def show_data(self, data) -> None:
        self.shown_log.append(data)
        super().show_data(data)


def write_alt_profile(tmp_path: Path) -> None:
    doc = sandbox_doc()
    doc["name"] = "alt"
    doc["description"] = "A second sandbox with another catalog"
    doc["refresh_seconds"] = 0.3
    doc["reservations"] = []
    doc["sandbox"]["account_id"] = ALT_ACCOUNT
    doc["sandbox"]["bucket"] = "alt-bucket"
    doc["sandbox"]["models"] = [
        {"id": MICRO, "name": "Amazon Nova Micro", "family": "nova", "tpm": 90000, "rpm": 200, "burndown": 1,
         "max_output_tokens": 5000, "output_tps": 200, "ttft_ms": 150},
    ]
    folder = tmp_path / "cfg" / "tierconsole" / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alt.yaml").write_text(yaml.safe_dump(doc))
    (folder / "broken.yaml").write_text("name: broken\nregion: [not, a, string]\n")


async def choose_profile(pilot, key: str) -> None:
    app = pilot.app
    await pilot.press("a")
    assert await wait_for(pilot, lambda: isinstance(app.screen, ProfileSwitcher) and app.screen.choices)
    options = app.screen.query_one(OptionList)
    for _ in range(options.option_count):
        if options.get_option_at_index(options.highlighted).id == key:
            break
        await pilot.press("down")
    assert options.get_option_at_index(options.highlighted).id == key
    await pilot.press("enter")


async def test_switching_profile_shows_only_the_new_profile_even_with_a_prompt_in_flight(isolated):
    write_alt_profile(isolated)
    app = RecordingApp(source=tracked(LiveSource(sandbox_profile(), scenario="none", speed=0.3)))
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        old_models = {q.model_id for q in app.dashboard.shown.quotas}
        assert NOVA in old_models and MICRO not in old_models
        # A slow streamed prompt under the old profile, still in flight when the switch happens.
        lab = await open_lab(pilot)
        await fill_lab(pilot, lab, "Still answering when you switch", tier="flex", stream=True, max_tokens="400")
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: lab.outputs.get("flex") is not None and lab.outputs["flex"].text)
        assert lab.in_flight
        await pilot.press("f2")  # back to the dashboard; the prompt keeps running
        assert await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        old_session = app.session
        mark = len(app.shown_log)
        _STARTED.append(old_session.source)
        await choose_profile(pilot, "console:alt")
        assert await wait_for(pilot, lambda: app.session is not old_session and app.session.profile.name == "alt")
        tracked(app.session.source)
        assert await wait_for(pilot, lambda: app.dashboard.shown.account_id == ALT_ACCOUNT and
                              app.dashboard.shown.quotas, timeout=20)
        # Let the old prompt's time to finish pass: nothing of it may show up.
        await pilot.pause(1.5)
        log = app.shown_log[mark:]
        switched_at = next(i for i, d in enumerate(log) if d.profile == "alt")
        after = log[switched_at:]  # from the first frame of the new profile on
        assert len(after) > 3 and all(d.profile == "alt" for d in after)
        assert all(d.account_id in (None, ALT_ACCOUNT) for d in after)
        assert {q.model_id for q in app.dashboard.shown.quotas} == {MICRO}
        assert all(e.model_id == MICRO for d in after for e in d.throttle_events)
        assert all(j.model_id == MICRO for d in after for j in d.batch_jobs)
        quota_text = text_of(app.query_one(QuotaBody))
        assert "Amazon Nova Micro" in quota_text and "Nova Lite" not in quota_text
        header = text_of(app.query_one(HeaderBar))
        assert "alt" in header and ALT_ACCOUNT in header and ACCOUNT not in header
        # The old prompt was cancelled, not delivered; its audit entry names the old profile.
        assert old_session.closed and "flex" not in lab.results
        assert not any(w.group == "prompt" and w.is_running for w in app.workers)
        assert await wait_for(pilot, lambda: any(a["outcome"] == "cancelled" and a["profile"] == "sandbox"
                                                 and a["account"] == ACCOUNT for a in audit_entries(isolated)))
        assert await wait_for(pilot, lambda: old_session.source.ctx.closed and old_session.source.sandbox_thread is None)
        # The new profile's prompt lab starts empty and sends under the new profile.
        new_lab = await open_lab(pilot)
        assert new_lab is not lab and new_lab.results == {} and new_lab.session is app.session
        assert new_lab.model_ids == [MICRO] and new_lab.query_one("#lab-model", Select).value == MICRO
        await fill_lab(pilot, new_lab, "Hello alt", model=MICRO, max_tokens="20")
        assert app.session.source.speed == 0.3 and app.session.source.scenario == "none"  # carried over
        await send_and_wait(pilot, new_lab, timeout=20)
        assert new_lab.results["default"].ok
        await app.close_source()
    prompts = [a for a in audit_entries(isolated) if a["action"] == "prompt"]
    assert [(a["profile"], a["account"], a["outcome"]) for a in prompts] == \
        [("sandbox", ACCOUNT, "cancelled"), ("alt", ALT_ACCOUNT, "ok")]


async def test_switcher_lists_console_and_aws_profiles_and_broken_ones_are_not_selectable(isolated, monkeypatch):
    write_alt_profile(isolated)
    aws_config = isolated / "aws-config"
    aws_config.write_text("[default]\nregion = us-west-2\n\n[profile analytics]\nregion = eu-west-1\n\n"
                          "[profile bare]\noutput = json\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    app = TierConsoleApp()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("a")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ProfileSwitcher) and app.screen.choices)
        choices = {c.key: c for c in app.screen.choices}
        assert {"console:sandbox", "console:alt", "console:broken", "console:aws-template"} <= set(choices)
        assert choices["console:alt"].detail.startswith("user · ") and choices["console:sandbox"].is_sandbox
        broken = choices["console:broken"]
        assert broken.profile is None and "region" in broken.error
        options = app.screen.query_one(OptionList)
        assert options.get_option("console:broken").disabled
        assert not options.get_option("console:alt").disabled
        analytics = choices["aws:analytics"].profile
        assert analytics.aws_profile == "analytics" and analytics.region == "eu-west-1" and analytics.read_only
        assert choices["aws:bare"].profile.region == "us-east-1" and choices["aws:default"].region == "us-west-2"
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))


# ------------------------------------------------------------------ keys, selection and picker (no sandbox)

async def test_prompt_lab_keys_are_one_table_for_footer_help_and_palette():
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        lab = await open_lab(pilot)
        assert "No live source" in lab.message
        commands = {c.title for c in app.get_system_commands(lab)}
        for binding in PromptLabScreen.BINDINGS:
            assert binding.tooltip in commands
        assert "Switch profile (console or AWS config)" in commands  # from any screen
        await pilot.press("f1")
        assert await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        texts = [text for _, text in app.screen.rows()]
        for binding in [*PromptLabScreen.BINDINGS, *PromptArea.BINDINGS]:
            assert binding.tooltip in texts
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: app.screen is lab)
        await fill_lab(pilot, lab, "hello", model="amazon.nova-lite-v1:0")
        await pilot.press("ctrl+s")
        assert "No live source" in lab.message and lab.run_id == 0  # nothing to send it to
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen))
        commands = {c.title for c in app.get_system_commands(app.screen)}
        for key in ("t", "b", "x", "a"):
            binding = next(b for b in DashboardScreen.BINDINGS if b.key == key)
            assert binding.tooltip in commands and binding.show


async def test_batch_pane_selection_with_keys_and_mouse():
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        pane = app.query_one(BatchPane)
        assert pane.selected_job is None
        await pilot.press("4")
        assert await wait_for(pilot, lambda: pane.selected_job is not None)
        order = [j.job_name for j in pane.ordered]
        assert order[:3] == ["nightly-ticket-summaries", "rag-eval-sonnet-v3", "catalog-enrichment"]
        assert pane.selected_job.job_name == order[0]
        await pilot.press("down", "down")
        assert pane.selected_job.job_name == order[2]
        await pilot.press("up")
        assert pane.selected_job.job_name == order[1]
        for _ in range(10):
            await pilot.press("down")
        assert pane.selected_job.job_name == order[-1]  # stops at the last job
        start, _ = pane.body.rows[pane.ordered[3].job_arn]
        await pilot.click(BatchList, offset=(5, start))
        assert pane.selected_job.job_name == order[3]
        # The selection survives a refresh, and a refresh without the job clears it.
        app.show_data(sample_dashboard())
        await pilot.pause()
        assert pane.selected_job.job_name == order[3]
        data = sample_dashboard()
        app.show_data(dataclasses.replace(data, batch_jobs=tuple(j for j in data.batch_jobs if j.job_name != order[3])))
        await pilot.pause()
        assert pane.selected_job is None
        # x without a live source says so instead of asking.
        await pilot.press("down", "x")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen) and "No live source" in " ".join(notes(app))


async def test_file_picker_fills_the_path(isolated):
    (isolated / "requests.jsonl").write_text("\n".join(batch_lines(100)))
    (isolated / "notes.txt").write_text("not offered")
    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_submit(pilot)
        await pilot.press("ctrl+o")
        tree = screen.query_one(JsonlTree)
        assert tree.display and app.focused is tree
        assert await wait_for(pilot, lambda: len(tree.root.children) > 0)
        labels = [str(n.label) for n in tree.root.children]
        assert "requests.jsonl" in labels and "notes.txt" not in labels
        for _ in range(len(labels) + 1):
            if tree.cursor_node is not None and str(tree.cursor_node.label) == "requests.jsonl":
                break
            await pilot.press("down")
        await pilot.press("enter")
        field = screen.query_one("#batch-path", Input)
        assert await wait_for(pilot, lambda: field.value == str(isolated / "requests.jsonl"))
        assert not tree.display and app.focused is field
        assert await wait_for(pilot, lambda: str(screen.query_one("#batch-path-hint").render()).startswith("✓"))
        await pilot.press("ctrl+s")
        assert "No live source" in screen.result_text  # sample data: nothing to submit to


async def test_switcher_count_matches_what_it_lists(isolated, monkeypatch):
    """"3 profiles, 1 broken" over a list of four read as three in all: the note counts what is listed."""
    import re

    write_alt_profile(isolated)
    aws_config = isolated / "aws-config"
    aws_config.write_text("[default]\nregion = us-west-2\n\n[profile analytics]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    app = TierConsoleApp()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("a")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ProfileSwitcher) and app.screen.choices)
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        listed = [options.get_option_at_index(i) for i in range(options.option_count)]
        listed = [o for o in listed if o.id and not o.id.startswith(("heading:", "none:"))]
        console = [o for o in listed if o.id.startswith("console:")]
        broken = [o for o in console if o.disabled]
        note = str(app.screen.query_one("#switcher-note").render())
        numbers = [int(n) for n in re.findall(r"\d+", note)]
        assert broken and numbers[0] == len(listed), note
        assert f"{len(console)} console" in note and f"{len(broken)} broken" in note, note
        assert f"{len(listed) - len(console)} AWS config" in note, note


async def test_every_file_problem_can_be_seen_at_80x24(isolated):
    """At 80×24 the dialog showed only the first of five problems: every one can be seen now, on screen or by
    scrolling the result (tab reaches it), and the dialog says so when they do not all fit."""
    import re

    def visible(app) -> str:
        svg = app.export_screenshot()
        text = "\n".join(re.sub(r"<[^>]+>", "", m) for m in re.findall(r"<text[^>]*>(.*?)</text>", svg))
        return text.replace("&#160;", " ").replace("\xa0", " ")

    lines = batch_lines(120)
    for i in (1, 3, 5, 7, 9):
        lines[i] = "{not json"
    (isolated / "bad.jsonl").write_text("\n".join(lines) + "\n")
    app = live_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        screen = await open_submit(pilot)
        await submit_form(pilot, screen, "bad.jsonl", "tui-bad")
        assert "5 problems" in screen.result_text
        await pilot.pause()
        seen = visible(app)
        box = screen.query_one("#batch-result-box")
        if box.max_scroll_y > 0:
            assert "scroll" in str(screen.query_one("#batch-box").border_subtitle)
            await pilot.press("tab")  # from the path field, on to the result
            for _ in range(12):
                if box.has_focus:
                    break
                await pilot.press("tab")
            assert box.has_focus
            for _ in range(10):
                await pilot.press("pagedown")
                await pilot.pause()
                seen += visible(app)
        for line in (2, 4, 6, 8, 10):
            assert f"bad.jsonl:{line}: not valid JSON" in seen, (line, box.max_scroll_y, box.scroll_y, box.size,
                                                                  seen[-1500:])
        await app.close_source()
