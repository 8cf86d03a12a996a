"""A profile with several regions: one GetMetricData per region per refresh, shown as one dashboard."""
from __future__ import annotations

import dataclasses

from tierconsole.core.aws.regions import RegionsCollector
from tierconsole.core.aws.session import AwsContext, Target
from tierconsole.core.config.profiles import load_profile


async def test_each_region_is_polled_once_per_refresh_and_merged(sandbox):
    profile = dataclasses.replace(load_profile("sandbox"), regions=("us-east-1", "us-west-2"))
    ctx = AwsContext(Target(profile, sandbox.endpoint, sandbox=True))
    collector = RegionsCollector(ctx)
    try:
        for _ in range(3):
            data = await collector.refresh()
    finally:
        await ctx.close()
    assert [c.region for c in collector.collectors] == ["us-east-1", "us-west-2"]
    assert [c.calls.counts["GetMetricData"] for c in collector.collectors] == [3, 3]
    assert [c.calls.counts["ListServiceQuotas"] for c in collector.collectors] == [1, 1]  # cached
    names = [q.name for q in data.quotas]
    assert len(names) == 6 and sum(n.endswith("· us-west-2") for n in names) == 3
    assert data.region == "us-east-1, us-west-2" and all(s.ok for s in data.status.values())
