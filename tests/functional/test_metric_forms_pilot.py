"""The dashboard on either per-tier form: the console's embedded sandbox publishing AWS's documented
``ModelId=<model>+priority`` series or the ``ServiceTier`` dimension, through the real TUI. The quota pane shows
the same per-tier figures, equal to what the clients were told."""
from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tierconsole.core.domain.profile import parse_profile
from tierconsole.tui.widgets.quota import QuotaBody
from tests.conftest import NOVA, boto3_client, clear_of_minute_end, user
from tests.functional.test_actions_pilot import WIDE, isolated, live_app, ready, sandbox_doc, wait_for  # noqa: F401


def send(endpoint: str) -> dict[str, int]:
    rt = boto3_client("bedrock-runtime", endpoint)
    told: dict[str, int] = {}
    for tier, n in (("priority", 2), ("default", 2), ("flex", 1)):
        for i in range(n):
            r = rt.converse(modelId=NOVA, messages=user(f"pane {tier} {i}"), inferenceConfig={"maxTokens": 20},
                            serviceTier={"type": tier})
            told[tier] = told.get(tier, 0) + r["usage"]["inputTokens"] + r["usage"]["outputTokens"]
    return told


@pytest.mark.parametrize("form", ["suffix", "dimension"])
async def test_the_quota_pane_shows_each_tier_on_either_form(isolated, form):  # noqa: F811
    doc = sandbox_doc()
    doc["sandbox"]["metrics"]["tier_form"] = form
    # An account (and so a bucket) of its own: moto's CloudWatch backend is one per account and region in a
    # process, so another sandbox of this xdist worker (an earlier test's, within the minute) would add its Nova
    # Lite traffic to the minute this test reads (seen in CI: a 63,939-token minute beside 119 sent here).
    doc["sandbox"]["account_id"] = {"suffix": "310987654321", "dimension": "410987654321"}[form]
    doc["sandbox"]["bucket"] = f"metric-forms-{form}"
    profile = dataclasses.replace(parse_profile(doc, default_name="sandbox"), refresh_seconds=0.3)
    app = live_app(profile, speed=1.0)  # metrics on the wall clock: the collector's clock
    async with app.run_test(size=WIDE) as pilot:
        await ready(pilot)
        clear_of_minute_end(40)  # the burst and every read in one minute, even on a loaded machine
        told = await asyncio.to_thread(send, app.source.ctx.target.endpoint_url)

        def nova():
            return next((q for q in app.dashboard.latest.quotas if q.model_id == NOVA), None)

        assert await wait_for(pilot, lambda: nova() is not None and dict(nova().tpm_by_tier) == told, timeout=35), \
            (nova(), told)
        assert app.source.collector.discovery.form == form
        body = app.dashboard.query_one(QuotaBody)
        assert any(q.model_id == NOVA and dict(q.tpm_by_tier) == told for q in body.data)
        await app.close_source()
