"""The quota-increase request in the live console: plan screen ``i`` shows it, ``s`` asks (naming quota, code,
current → desired, account, profile, region) and files it; a second ``s`` finds it instead of filing another."""
from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timezone

import numpy as np

from tierconsole.tui.screens.plan import PlanScreen
from tierconsole.tui.screens.quota_request import ConfirmQuotaRequestScreen, QuotaRequestScreen
from tierconsole.tui.widgets.quota import QuotaBody
from tests.conftest import NOVA, boto3_client
from tests.functional.test_actions_pilot import (  # noqa: F401 - fixture
    ACCOUNT, WIDE, audit_entries, isolated, live_app, ready, sandbox_profile, wait_for,
)
from tests.functional.test_dashboard_pilot import text_of


def put_history(endpoint: str, now: float, minutes: int = 45) -> None:
    """Busy minutes of Nova Lite near its 120,000 TPM, ending three sandbox minutes before ``now``."""
    rng = np.random.default_rng(3)
    first = math.floor(now / 60) * 60 - (minutes + 3) * 60
    cw = boto3_client("cloudwatch", endpoint)
    data = [{"MetricName": name, "Dimensions": [{"Name": "ModelId", "Value": NOVA}], "Unit": "Count", "Value": v,
             "Timestamp": datetime.fromtimestamp(first + 60 * k, timezone.utc)}
            for k in range(minutes)
            for name, v in (("InputTokenCount", float(rng.integers(90_000, 115_000))), ("OutputTokenCount", 4000.0),
                            ("Invocations", 30.0), ("InvocationThrottles", 4.0))]
    for i in range(0, len(data), 40):
        cw.put_metric_data(Namespace="AWS/Bedrock", MetricData=data[i:i + 40])


async def open_request(pilot, app) -> QuotaRequestScreen:
    plan = PlanScreen(NOVA)
    await app.push_screen(plan)
    await pilot.pause()
    await pilot.press("i")
    assert await wait_for(pilot, lambda: isinstance(app.screen, QuotaRequestScreen), timeout=5)
    screen = app.screen
    assert await wait_for(pilot, lambda: screen.request is not None or screen.error, timeout=20)
    assert screen.error is None, screen.error
    return screen


async def test_i_shows_the_request_and_s_files_it_once_after_asking(isolated):
    app = live_app(speed=5.0)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        endpoint = app.source.ctx.target.endpoint_url
        put_history(endpoint, app.session.clock())
        screen = await open_request(pilot, app)
        req = screen.request
        assert "# Service Quotas increase request: amazon.nova-lite-v1:0" in screen.text
        assert req.binding_code in screen.text and "## Justification" in screen.text
        assert req.desired_value is not None and req.desired_value > req.binding.spec.value

        await pilot.press("s")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmQuotaRequestScreen), timeout=5)
        question = str(app.screen.query_one("#confirm-text").render())
        assert app.screen.query_one("#confirm-box").border_title == "Request a quota increase"  # not "Cancel batch job"
        for expected in (req.binding.name, req.binding_code, f"{req.binding.spec.value:,} → {req.desired_value:,}",
                         f"account  {ACCOUNT}", "profile  sandbox", "region   us-east-1"):
            assert expected in question, expected
        await pilot.press("n")
        assert await wait_for(pilot, lambda: screen.result == "not submitted", timeout=5)
        sq = boto3_client("service-quotas", endpoint)
        assert sq.list_requested_service_quota_change_history(ServiceCode="bedrock")["RequestedQuotas"] == []

        await pilot.press("s")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmQuotaRequestScreen), timeout=5)
        await pilot.press("y")
        assert await wait_for(pilot, lambda: (screen.result or "").startswith("requested"), timeout=10), screen.result
        filed = sq.list_requested_service_quota_change_history(ServiceCode="bedrock")["RequestedQuotas"]
        assert [(r["QuotaCode"], r["DesiredValue"]) for r in filed] == [(req.binding_code, req.desired_value)]
        # the quota pane lists it on the next refresh (the submit asks for the quotas again, not in 15 minutes)
        assert await wait_for(pilot, lambda: any(r.request_id == filed[0]["Id"] for q in app.dashboard.shown.quotas
                                                 for r in q.requests), timeout=10)

        await pilot.press("s")  # again: the open request is found, nothing is asked or filed
        assert await wait_for(pilot, lambda: "already exists" in (screen.result or ""), timeout=10), screen.result
        assert len(sq.list_requested_service_quota_change_history(ServiceCode="bedrock")["RequestedQuotas"]) == 1
        await app.close_source()
    outcomes = [a["outcome"] for a in audit_entries(isolated) if a["action"] == "quota-increase"]
    assert outcomes == ["declined", f"requested: {filed[0]['Id']}", f"exists: {filed[0]['Id']}"]


async def test_the_quota_pane_shows_an_open_request_read_on_the_quota_cadence(isolated):
    app = live_app(dataclasses.replace(sandbox_profile(), quota_refresh_seconds=3600), speed=5.0)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        sq = boto3_client("service-quotas", app.source.ctx.target.endpoint_url)
        tpm = next(q for q in sq.list_service_quotas(ServiceCode="bedrock", MaxResults=100)["Quotas"]
                   if q["QuotaName"] == "On-demand model inference tokens per minute for Amazon Nova Lite")
        sq.request_service_quota_increase(ServiceCode="bedrock", QuotaCode=tpm["QuotaCode"], DesiredValue=245_000)
        polls = app.polls
        assert await wait_for(pilot, lambda: app.polls >= polls + 3, timeout=10)
        body = app.dashboard.query_one(QuotaBody)
        assert "245k requested" not in text_of(body)  # not read per refresh: only on the quota cadence
        calls = app.source.collector.calls.counts
        assert calls["ListRequestedServiceQuotaChangeHistory"] == calls["ListServiceQuotas"] == 1
        app.source.collector.requery_quotas()  # the next refresh is a quota cadence (as after an hour)
        assert await wait_for(pilot, lambda: "↑ TPM 245k requested · PENDING" in text_of(body), timeout=10), \
            text_of(body)
        assert calls["ListRequestedServiceQuotaChangeHistory"] == calls["ListServiceQuotas"] == 2
        nova = next(q for q in app.dashboard.shown.quotas if q.model_id == NOVA and q.route == "on-demand")
        assert [(r.quota_code, r.desired, r.status) for r in nova.requests] == [(tpm["QuotaCode"], 245_000, "PENDING")]
        await app.close_source()


async def test_read_only_refuses_the_submit_in_the_core_without_asking(isolated):
    app = live_app(speed=5.0, read_only=True)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        endpoint = app.source.ctx.target.endpoint_url
        put_history(endpoint, app.session.clock())
        screen = await open_request(pilot, app)
        await pilot.press("s")
        assert await wait_for(pilot, lambda: "--read-only was given" in (screen.result or ""), timeout=10), \
            screen.result
        assert not isinstance(app.screen, ConfirmQuotaRequestScreen)
        sq = boto3_client("service-quotas", endpoint)
        assert sq.list_requested_service_quota_change_history(ServiceCode="bedrock")["RequestedQuotas"] == []
        await app.close_source()
    refused = [a for a in audit_entries(isolated) if a["action"] == "quota-increase"]
    assert [a["outcome"] for a in refused] == ["refused: read-only"]


async def test_s_is_offered_only_when_there_is_a_request_to_file(isolated):
    """newcomer-3: with no history the screen said 'no request: …' and still offered `s Submit request`, whose
    answer was 'The request is not built yet.' (it never would be)."""
    from tierconsole.tui.widgets.keybar import KeyBar

    app = live_app(speed=5.0)
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        plan = PlanScreen(NOVA)
        await app.push_screen(plan)
        await pilot.pause()
        await pilot.press("i")
        assert await wait_for(pilot, lambda: isinstance(app.screen, QuotaRequestScreen), timeout=20)
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.error is not None, timeout=20)  # no history on a new sandbox
        await pilot.pause()
        assert "Submit request" not in text_of(screen.query_one(KeyBar))
        await pilot.press("s")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmQuotaRequestScreen)
