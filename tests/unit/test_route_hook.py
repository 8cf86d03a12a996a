"""The runtime's hook for quota routing: an engine whose submit() takes ``route=`` is given the call's
resolved Route; today's engine (model id only) keeps working unchanged."""
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
                                     tokens_per_day=10_000 * 1440),))


class RouteAwareEngine(TierEngine):
    """The shape of the multi-quota engine: submit() also takes the route (what it does with it is its own)."""

    def __init__(self, cat: Catalog):
        super().__init__(cat)
        self.routes: list[Route | None] = []

    def submit(self, model_id, tier, input_tokens, max_tokens, now, *, cache_write_tokens=0, route=None):
        self.routes.append(route)
        return super().submit(model_id, tier, input_tokens, max_tokens, now, cache_write_tokens=cache_write_tokens)


def test_an_engine_that_takes_a_route_is_given_it():
    engine = RouteAwareEngine(catalog())
    admission = AsyncEngine(engine, FakeClock())
    assert admission.engine_takes_route
    ticket = asyncio.run(admission.acquire(NOVA, "priority", 10, 20, ROUTE))
    assert ticket.state == "admitted" and engine.routes == [ROUTE]


class ModelIdOnlyEngine(TierEngine):
    """An engine whose submit() takes no route (the engine before multi-quota routing)."""

    def submit(self, model_id, tier, input_tokens, max_tokens, now, *, cache_write_tokens=0):
        return super().submit(model_id, tier, input_tokens, max_tokens, now, cache_write_tokens=cache_write_tokens)


def test_an_engine_without_routes_is_called_with_the_model_id_alone():
    admission = AsyncEngine(ModelIdOnlyEngine(catalog()), FakeClock())
    assert not admission.engine_takes_route
    assert asyncio.run(admission.acquire(NOVA, None, 10, 20, ROUTE)).state == "admitted"


def test_the_sandbox_engine_is_given_the_route_when_it_takes_one():
    import inspect

    admission = AsyncEngine(TierEngine(catalog()), FakeClock())
    assert admission.engine_takes_route == ("route" in inspect.signature(TierEngine.submit).parameters)
