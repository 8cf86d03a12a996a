"""The fleet says what the account's own dashboard says (newcomer-5 F3, F6), on the shipped fleet sandbox
(``profiles/fleet.yaml``, in-process, ``--speed 10``): eu-retail's Nova Lite in eu-west-1 is held at its
60,000-TPM quota and throttling. At the same moment (one clock, read back to back) the fleet's row and that
account's collector — the drill-in's, running as the account through its access rule — give the same TPM use by
the same rule, the same ``~``/``✖`` marks, and the same throttles/min of the last complete minute."""
from __future__ import annotations

import asyncio
import time
import pytest

from tierconsole.core.aws.fleet import FleetCollector
from tierconsole.core.config.profiles import _load
from tierconsole.core.domain.alerts import quota_fractions, tpm_mark
from tierconsole.core.domain.fleetrows import pulse
from tierconsole.core.ops.fleet import drill_source, row_document
from tierconsole.core.source import LiveSource
from tierconsole.present.fleet import row_cells
from tests.e2e.test_fleet_tiers import shipped_fleet

NOVA = "amazon.nova-lite-v1:0"


@pytest.fixture(autouse=True)
def _xdg(tmp_path, monkeypatch):
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var))


async def _compare() -> list[tuple]:
    # the shipped profile, with S3 buckets of this test's own (bucket names are global in moto)
    profile = _load("fleet", "fleet.yaml", "user", shipped_fleet("tierconsole-fleet-agree-test"))
    live = LiveSource(profile, sandbox="embedded", speed=10)
    live.start()
    sandbox_now = live.collector.clock
    moment = [sandbox_now()]
    fleet = FleetCollector(live.ctx, clock=lambda: moment[0], cache=False)
    drill = None
    seen = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            moment[0] = sandbox_now()
            snap = await fleet.refresh(wait_quotas=True)
            row = next((r for r in snap.rows if r.account_name == "eu-retail" and r.series == NOVA
                        and r.binding is not None), None)
            if row is None:
                await asyncio.sleep(0.3)
                continue
            if drill is None:
                drill = drill_source(live, row)
                drill.start()
                drill.collector.clock = lambda: moment[0]  # the same moment as the fleet's
            data = await drill.refresh()
            again = next(r for r in (await fleet.refresh()).rows if r.account_name == "eu-retail" and r.series == NOVA)
            view = next((q for q in data.quotas if q.model_id == NOVA and q.route == "on-demand"), None)
            if view is None or view.tpm_quota <= 0 or (again.tpm_used, again.throttles_by_tier) != (
                    row.tpm_used, row.throttles_by_tier):
                continue  # a datapoint landed between the reads (a loaded machine publishes late): read again
            if seen or (view.tpm_peak_fraction or 0) >= 0.95:  # from the first minute it is pinned at its quota
                seen.append((moment[0], row, view, snap, data))
            if len(seen) >= 6 and seen[-1][0] - seen[0][0] >= 75:  # across a minute boundary
                break
            await asyncio.sleep(0.5)
    finally:
        await fleet.close()
        for source in (drill, live):
            if source is not None:
                await source.close()
    return seen


def test_a_hot_fleet_row_reads_as_its_account_s_dashboard_at_the_same_moment():
    seen = asyncio.run(_compare())
    assert len(seen) >= 6, "eu-retail's row and its drill-in never read the same data"
    for now, row, view, snap, data in seen:
        assert row.tpm_quota == view.tpm_quota == 60_000
        assert row.tpm_estimated == view.tpm_estimated and row.tpm_measured_over == view.tpm_measured_over
        assert row.tpm_fraction == pytest.approx(view.tpm_fraction, abs=0.01), (now % 60, row, view)
        judged = dict(quota_fractions(view))["TPM"]
        assert row.use == pytest.approx(judged, abs=0.01), (now % 60, row.use, judged)
        if judged >= 0.8:  # the dashboard counts it over: so does the fleet's pulse
            assert row.account_id in pulse(snap.rows, 0.8).over_accounts
        _, glyph, pct = tpm_mark(view.tpm_fraction, estimated=view.tpm_estimated,
                                 measured_over=view.tpm_measured_over, warn=0.8, peak=view.tpm_peak_fraction)
        if row.binding.measure == "tokens":
            assert row_cells(row)[3] == (glyph if glyph in "~✖" else "") + pct
        # throttles/min: the last complete minute, the count the dashboard's throttle feed lists for that minute
        feed = {e.tier or "default": e.count for e in data.throttle_events
                if e.time == row.throttles_minute and e.model_id == NOVA}
        assert row.throttles_minute == (now // 60) * 60 - 60
        assert round(row.throttles_per_min) == sum(feed.values()), (row.throttles_per_min, feed)
        assert {t: round(v) for t, v in row.throttles_by_tier.items() if round(v)} == feed
        doc = row_document(row)
        assert doc["tpm_estimated"] == view.tpm_estimated and doc["tpm_measured_over"] == view.tpm_measured_over
    # held at its quota the whole time: never under 80% by the dashboard's rule, whatever the second of the minute
    assert all(row.use >= 0.8 for _, row, *_ in seen), [(n % 60, r.use) for n, r, *_ in seen]
