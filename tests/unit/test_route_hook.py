"""The runtime hands the call's resolved Route to the engine: a profile call draws on its route's pool."""
from __future__ import annotations

import asyncio

from tierconsole.core.domain.catalog import Catalog, ModelSpec
from tierconsole.core.domain.routes import Route, RouteKind
from tierconsole.sandbox.clock import FakeClock
from tierconsole.sandbox.engine import TierEngine
from tierconsole.sandbox.services.runtime import AsyncEngine

NOVA = "amazon.nova-lite-v1:0"
ROUTE = Route(RouteKind.CROSS_REGION, NOVA, f"us.{NOVA}", "us", f"arn:aws:bedrock:us-east-1:1:inference-profile/us.{NOVA}")


def catalog() -> Catalog:
    return Catalog(models=(ModelSpec(model_id=NOVA, name="Nova Lite", family="nova", provider="amazon", tpm=10_000,
                                     rpm=100, burndown=1.0, max_output_tokens=100, output_tps=100.0, ttft_ms=1.0,
                                     tokens_per_day=10_000 * 1440, profiles=("us",)),))


def test_the_route_reaches_the_engine_and_decides_the_pool():
    engine = TierEngine(catalog())
    admission = AsyncEngine(engine, FakeClock())
    profiled = asyncio.run(admission.acquire(NOVA, "priority", 10, 20, ROUTE))
    direct = asyncio.run(admission.acquire(NOVA, "priority", 10, 20))
    assert (profiled.state, profiled.route, direct.route.kind) == ("admitted", ROUTE, RouteKind.ON_DEMAND)
    used = {(u.spec.kind, u.spec.measure): u.used for u in engine.quota_uses(0.0)}
    assert used[("cross_region", "requests")] == 1 and used[("on_demand", "requests")] == 1, used
