"""Triage on sandbox scenarios: the spike's incident names the model and the tier; reserved-overflow shows overflow."""
from __future__ import annotations

import asyncio
import dataclasses

from tierconsole.core.domain import incident as inc
from tierconsole.core.source import LiveSource
from tierconsole.core.config.profiles import load_profile
from tests.functional.test_live_pilot import isolated  # noqa: F401 - fixture

GPT = "openai.gpt-oss-20b-1:0"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"


async def run_scenario(name: str, seconds: float, speed: float = 20.0):
    source = LiveSource(dataclasses.replace(load_profile("sandbox"), refresh_seconds=0.5), scenario=name, speed=speed)
    await asyncio.to_thread(source.start)
    try:
        await asyncio.sleep(seconds)
        data = await source.refresh()
        await asyncio.sleep(1.2)  # let the last outcomes be published, then collect again
        data = await source.refresh()
        return source, data
    finally:
        await source.close()


async def test_spike_incident_names_the_model_and_the_saturating_tier(isolated):
    source, data = await run_scenario("spike", seconds=5.0)  # the surge runs from sandbox 20 s to 110 s
    c = source.collector
    now = c.clock()
    tpm_q, rpm_q = c.quota(GPT)
    incident = inc.build(c.answers, GPT, c.names[GPT], c.tiers.get(GPT, ()), tpm_q, rpm_q, now - 900, now)
    assert "OpenAI GPT OSS 20B" in incident.diagnosis and "Standard" in incident.diagnosis, incident.diagnosis
    assert sum(m.throttles_by_tier.get("default", 0) for m in incident.minutes) > 0
    assert any(e.model_id == GPT and e.tier == "default" for e in data.throttle_events)
    calm = inc.build(c.answers, SONNET, c.names[SONNET], c.tiers.get(SONNET, ()), *c.quota(SONNET), now - 900, now)
    assert calm.diagnosis.startswith("No throttles")


async def test_reserved_overflow_shows_overflow_figures(isolated):
    source, data = await run_scenario("reserved-overflow", seconds=5.0)  # quarter-end surge from sandbox 30 s
    [res] = data.reservations
    assert res.model_id == SONNET and res.overflow_tpm > 0
    assert res.input_tpm_used > 0.5 * res.input_tpm_reserved or res.output_tpm_used > 0.5 * res.output_tpm_reserved
    c = source.collector
    now = c.clock()
    incident = inc.build(c.answers, SONNET, c.names[SONNET], c.tiers.get(SONNET, ()), *c.quota(SONNET),
                         now - 900, now, has_reservation=True)
    assert any("overflowed to Standard" in f for f in incident.findings)
    assert sum(m.overflow_tokens or 0 for m in incident.minutes) > 0 and res.overflow_source == "sandbox"  # None: no data
