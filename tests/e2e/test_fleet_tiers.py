"""The fleet's throttles by tier on the shipped `fleet` profile and its sandbox (newcomer-4 F2/F4): eu-retail's
Nova Lite in eu-west-1 throttles mostly at Standard (the `hot` scenario over its 60,000-TPM quota). The fleet
row's split adds up to its total, names Standard, and agrees with what that account's own dashboard reads
(the drill-in's collector, running as eu-retail), minute for minute."""
from __future__ import annotations

import asyncio
import math
import time

import pytest

from tierconsole.core.aws.fleet import FleetCollector
from tierconsole.core.config.loader import load_yaml
from tierconsole.core.config.profiles import _load
from tierconsole.core.ops.fleet import drill_source, row_document
from tierconsole.core.source import LiveSource
from tierconsole.present.fleet import throttles_cell

EU_RETAIL, NOVA, REGION = "200000000008", "amazon.nova-lite-v1:0", "eu-west-1"


@pytest.fixture(autouse=True)
def _xdg(tmp_path, monkeypatch):
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        monkeypatch.setenv(var, str(tmp_path / var))


def shipped_fleet(bucket: str) -> str:
    """profiles/fleet.yaml as shipped, with S3 buckets of the test's own (bucket names are global in moto, and
    other sandboxes of this process use the shipped ones)."""
    from importlib import resources

    text = resources.files("tierconsole.profiles").joinpath("fleet.yaml").read_text()
    assert "bucket: tierconsole-sandbox\n" in text
    return text.replace("bucket: tierconsole-sandbox\n", f"bucket: {bucket}\n")


def start_fleet_sandbox(text: str, speed: float = 20.0):
    from tierconsole.sandbox.app import Sandbox, SandboxThread
    from tierconsole.sandbox.config import parse_sandbox_config

    thread = SandboxThread(Sandbox(parse_sandbox_config(load_yaml("fleet.yaml", text), "fleet.yaml"), speed=speed))
    thread.start()
    return thread


def _row(snapshot):
    return next((r for r in snapshot.rows if (r.account_id, r.region, r.series) == (EU_RETAIL, REGION, NOVA)), None)


async def _compare(sb):
    text = shipped_fleet("tierconsole-fleet-tiers-test")
    fleet = LiveSource(_load("fleet", "fleet.yaml", "user", text), endpoint_url=sb.endpoint)
    fleet.start()
    drilled = None
    try:
        clock = sb.clock.now  # the sandbox's timeline (20x)
        live = FleetCollector(fleet.ctx, clock=clock, cache=False)
        deadline = time.monotonic() + 120
        seen: dict[float, float] = {}  # minute -> eu-retail's Nova Lite throttles, as read so far
        while True:  # two whole minutes of throttling, long complete, on the sandbox's (sped-up) timeline
            row = _row(await live.refresh())
            for m, n in row.throttle_minutes if row is not None else ():
                seen[m] = max(n, seen.get(m, 0.0))
            minute = (math.floor(clock() / 60) - 2) * 60.0
            if seen.get(minute, 0) >= 10 and seen.get(minute - 60, 0) >= 10:
                break
            assert time.monotonic() < deadline, f"eu-retail never throttled for two minutes: {seen}"
            await asyncio.sleep(1.0)
        # one instant for both collectors, late in a minute long complete (at 20x the sandbox publishes a second's
        # worth of sandbox time at once, later on a loaded machine): neither sees a minute still filling
        at = minute + 59.0
        live.clock = lambda: at
        row = _row(await live.refresh())
        await live.close()
        drilled = drill_source(fleet, row)
        drilled.start()
        drilled.collector.clock = lambda: at
        data = await drilled.refresh()
        data = await drilled.refresh()  # after discovery: the per-tier series of the account
        return row, data, at
    finally:
        if drilled is not None:
            await drilled.close()
        await fleet.close()


def test_eu_retail_s_split_adds_up_names_standard_and_agrees_with_its_own_dashboard():
    thread = start_fleet_sandbox(shipped_fleet("tierconsole-fleet-tiers-test"))
    try:
        row, data, at = asyncio.run(_compare(thread.sandbox))
    finally:
        thread.stop()
    split = dict(row.throttles_by_tier or {})
    assert split.get("default", 0) > split.get("priority", 0) > 0, row  # mostly Standard, as its dashboard says
    assert abs(sum(split.values()) - row.throttles_per_min) < 0.01 and not row.tiers_note
    doc = row_document(row)["throttles_per_min_by_tier"]
    assert doc["default"] == round(split["default"], 2) and "standard" not in doc  # the wire name, as status --json
    cell = throttles_cell(row)
    assert f"S {split['default']:g}" in cell and f"P {split['priority']:g}" in cell
    # the account's own collector (its dashboard), read at the same instant: per tier, the same last complete minute
    minute = math.floor(at / 60) * 60
    own: dict[str, dict[float, int]] = {}
    for e in data.throttle_events:
        if e.model_id == NOVA and e.source == "cloudwatch":
            own.setdefault(e.tier, {})[e.time] = e.count
    assert set(own) >= {"default", "priority"}, own
    for tier, per in own.items():
        assert split.get(tier, 0.0) == pytest.approx(per.get(float(minute - 60), 0), abs=0.01), (tier, split, own)
