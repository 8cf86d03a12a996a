"""The console on a fleet profile through Pilot, against the multi-account fleet sandbox on loopback (issue 15):
the fleet screen fills from the monitoring account, `enter` opens the dashboard of that account and region
running as that account (identity checked; the access rule's read-only applies in the action core), `esc` comes
back, and an account that refuses AssumeRole is not opened."""
from __future__ import annotations

import asyncio
import time

import pytest

from tests.conftest import NOVA, user
from tests.e2e.test_fleet_cli import DENIED, PAYMENTS, SEARCH, fleet, profile_text  # noqa: F401 - fixture
from tests.e2e.test_sandbox_fleet import client, invocations

from tierconsole.core.aws.fleet_access import AssumedRoleContext
from tierconsole.core.config.profiles import _load
from tierconsole.core.ops.guard import ReadOnlyError
from tierconsole.core.source import LiveSource
from tierconsole.tui.app import TierConsoleApp
from tierconsole.tui.screens.dashboard import DashboardScreen
from tierconsole.tui.screens.fleet import FleetScreen
from tierconsole.tui.widgets.fleet_table import FleetTable
from tierconsole.tui.widgets.header import ContextBar, HeaderBar
from tests.functional.test_dashboard_pilot import text_of


@pytest.fixture(autouse=True)
def _xdg(tmp_path, monkeypatch):
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var))


async def until(pilot, check, what: str, timeout: float = 30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def select(app, account: str) -> None:
    table = app.screen.query_one(FleetTable)
    table.cursor = next(i for i, r in enumerate(table.lines) if getattr(r, "account_id", None) == account)


async def test_drill_in_runs_as_that_account_and_esc_comes_back(fleet):  # noqa: F811
    rt = client(fleet, "bedrock-runtime", SEARCH)  # search-prod at its 200-TPM quota now (or throttled: worse)
    for _ in range(7):
        try:
            rt.converse(modelId=NOVA, messages=user("hello there"), inferenceConfig={"maxTokens": 20})
        except rt.exceptions.ThrottlingException:
            break
    profile = _load("fx", "fx.yaml", "user", profile_text(fleet.endpoint))
    app = TierConsoleApp(source=LiveSource(profile))
    # 150 columns: at 120 a sandbox's READ-ONLY drilled header gives its status room to the local alert count
    async with app.run_test(size=(150, 40)) as pilot:
        await until(pilot, lambda: app.fleet_screen.snapshot is not None and any(
            r.account_id == SEARCH and r.use is not None for r in app.fleet_screen.snapshot.rows),
            "the fleet with search-prod's quotas")
        assert isinstance(app.screen, FleetScreen) and app.session is None  # nothing acts as the monitoring account
        assert app.fleet_screen.snapshot.rows[0].account_id == SEARCH  # the worst row first
        select(app, SEARCH)  # the cursor stays on the row it was on (data-science, first before quotas came)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.session is not None
                    and app.session.latest is not None, "the drilled dashboard")
        session = app.session
        assert session.account_id == SEARCH and session.profile.name == "fx/search-prod@us-east-1"
        assert session.profile.regions == ("us-east-1",) and isinstance(session.source.ctx, AssumedRoleContext)
        header = text_of(app.screen.query_one(HeaderBar))
        assert SEARCH in header and "READ-ONLY" in header and "fleet: " in header
        with pytest.raises(ReadOnlyError):  # the rule's read_only: refused in the action core
            session.guard.require_mutation("cancel", "job-1")
        before = sum(invocations(fleet, SEARCH, None)["Values"])
        rt = await (await session.context()).client("bedrock-runtime", "us-east-1")
        await rt.converse(modelId=NOVA, messages=user("drilled"), inferenceConfig={"maxTokens": 10})
        await until(pilot, lambda: sum(invocations(fleet, SEARCH, None)["Values"]) == before + 1,
                    "the prompt in search-prod's own metrics")

        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, FleetScreen), "the fleet screen again")
        assert app.session is None and session.closed and app.drilled is None

        select(app, DENIED)
        await pilot.press("enter")
        await until(pilot, lambda: any("Cannot open data-science" in (n.title or "") for n in app._notifications),
                    "the refusal")
        assert isinstance(app.screen, FleetScreen) and app.session is None
        await asyncio.sleep(0)
        await app.action_quit()


async def drill_into_payments(app, pilot) -> None:
    """From the fleet screen's first refresh, `enter` on payments-prod until the session acts as it."""
    await until(pilot, lambda: app.fleet_screen.snapshot is not None and app.fleet_screen.snapshot.rows,
                "the fleet's first refresh")
    select(app, PAYMENTS)
    await pilot.press("enter")
    await until(pilot, lambda: app.session is not None and app.session.account_id == PAYMENTS, "payments")


async def test_a_payments_account_drilled_in_may_act(fleet):  # noqa: F811
    profile = _load("fx", "fx.yaml", "user", profile_text(fleet.endpoint))
    app = TierConsoleApp(source=LiveSource(profile))
    async with app.run_test(size=(150, 40)) as pilot:
        await drill_into_payments(app, pilot)
        assert not app.session.profile.read_only  # label:payments-* is the operator role, not read-only
        app.session.guard.require_mutation("cancel", "job-1")  # not refused
        await pilot.press("t")  # the prompt lab of that account carries the fleet's pulse too
        await until(pilot, lambda: type(app.screen).__name__ == "PromptLabScreen", "the prompt lab")
        bar = text_of(app.screen.query_one(ContextBar))
        assert "PROMPT LAB" in bar and PAYMENTS in bar and "fleet: " in bar
        await app.action_quit()


async def test_batch_submit_from_a_drilled_account_goes_to_its_own_bucket(fleet, tmp_path):  # noqa: F811
    """newcomer-5 F1: fleet screen → enter → b → ctrl+s uploads to the drilled account's bucket, as that account,
    never to the monitoring account's."""
    from tests.e2e.test_headless import batch_file
    from tests.functional.test_actions_pilot import open_submit, submit_form

    bucket = "tierconsole-fleet-con-test"  # the fixture sandbox's (test_fleet_cli.FLEET)
    path = batch_file(tmp_path / "rec.jsonl", 100)
    # the rule's own batch settings (as on AWS): the fixture sandbox's cells' buckets are <bucket>-<account>
    rule = "role_arn: 'arn:aws:iam::{account}:role/Operator'\n"
    text = profile_text(fleet.endpoint).replace(rule, rule + f"      batch_bucket: '{bucket}-{{account}}'\n"
                                                "      batch_role_arn: 'arn:aws:iam::{account}:role/Batch'\n", 1)
    assert "batch_bucket" in text
    app = TierConsoleApp(source=LiveSource(_load("fx", "fx.yaml", "user", text)))
    async with app.run_test(size=(150, 40)) as pilot:
        await drill_into_payments(app, pilot)
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), "the drilled dashboard")
        screen = await open_submit(pilot)
        own = f"{bucket}-{PAYMENTS}"
        assert f"s3://{own}/input/" in str(screen.query_one("#batch-dest").render())
        await submit_form(pilot, screen, str(path), "drilled-batch")
        assert screen.result_text.startswith("✓ Created drilled-batch"), screen.result_text
        assert f":{PAYMENTS}:model-invocation-job/" in screen.result_text
        assert f"s3://{own}/input/drilled-batch/rec.jsonl" in screen.result_text
        await app.action_quit()
    s3 = client(fleet, "s3", PAYMENTS)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=own).get("Contents", [])] == ["input/drilled-batch/rec.jsonl"]
    monitoring = client(fleet, "s3", None)
    assert not monitoring.list_objects_v2(Bucket=bucket).get("Contents"), "written to the monitoring account's bucket"
