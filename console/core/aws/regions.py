"""Several regions as one dashboard: a :class:`~.collectors.Collector` per region of the profile, polled
concurrently (still one ``GetMetricData`` per region per refresh), their data merged and labelled by region."""
from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any, Callable

from ..domain.views import DashboardData, PaneStatus
from .collectors import Collector
from .session import AwsContext


class RegionsCollector:
    """One collector per region of the profile, polled concurrently and shown as one dashboard.

    The first region is the primary (its collector serves triage and status); the others add their
    quotas, throttles and batch jobs, labelled with their region.
    """

    def __init__(self, ctx: AwsContext, *, clock: Callable[[], float] = time.time):
        self.collectors = [Collector(ctx, clock=clock, region=r) for r in ctx.profile.regions]

    @property
    def primary(self) -> Collector:
        return self.collectors[0]

    def __getattr__(self, name: str) -> Any:  # answers, quota(), names, tiers, clock, calls, ... of the primary region
        return getattr(self.collectors[0], name)

    async def refresh(self) -> DashboardData:
        results = await asyncio.gather(*(c.refresh() for c in self.collectors))
        return merge_regions(results[0], list(zip((c.region for c in self.collectors[1:]), results[1:])))


def merge_regions(primary: DashboardData, others: list[tuple[str, DashboardData]]) -> DashboardData:
    if not others:
        return primary
    quotas = [replace(q, name=f"{q.name} · {primary.region}") for q in primary.quotas]
    events = list(primary.throttle_events)
    jobs = list(primary.batch_jobs)
    reservations = list(primary.reservations)  # each region's own (reserved capacity is in one region)
    status = dict(primary.status)
    for region, d in others:
        quotas += [replace(q, name=f"{q.name} · {region}") for q in d.quotas]
        events += [replace(e, message=f"{region}: {e.message}") for e in d.throttle_events]
        jobs += d.batch_jobs
        reservations += d.reservations
        for pane, st in d.status.items():
            if not st.ok and status.get(pane, PaneStatus()).ok:
                status[pane] = replace(st, reason=f"{region}: {st.reason}")
    events.sort(key=lambda e: e.time, reverse=True)
    return replace(primary, region=", ".join([primary.region] + [r for r, _ in others]), quotas=tuple(quotas),
                   throttle_events=tuple(events), batch_jobs=tuple(jobs), status=status,
                   reservations=tuple(reservations))
