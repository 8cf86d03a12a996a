"""``incident export``: each model's incident (timeline and diagnosis) over the last minutes, from one
collection with the panes' collectors."""
from __future__ import annotations

import math


class MetricsUnavailable(RuntimeError):
    """CloudWatch could not be read; the message says why."""


class UnknownModel(ValueError):
    """The model asked for is not one of the account's (``known``)."""

    def __init__(self, model: str, known):
        super().__init__(model)
        self.model, self.known = model, known


async def build_incidents(source, since: float, model: str | None = None) -> list:
    """The incidents of the last ``since`` seconds over a started live source: of ``model``, or of every
    model the collector found."""
    from ..aws.collectors import Collector  # noqa: PLC0415
    from ..domain import incident as inc  # noqa: PLC0415

    minutes = max(1, math.ceil(since / 60))
    collector = Collector(source.ctx, clock=source.collector.clock, history_minutes=minutes)
    await collector.refresh()
    if collector.answers is None:
        raise MetricsUnavailable(collector.errors.get("metrics", "unknown error"))
    now = collector.clock()
    models = [model] if model else collector.models
    unknown = [m for m in models if model and m not in collector.names and m not in collector.models]
    if unknown:
        raise UnknownModel(unknown[0], collector.names)
    reserved = {r.model_id for r in source.profile.reservations}
    incidents = []
    for model_id in models:  # a timeline per route the model's traffic took, each naming its quotas
        for route in collector.routes_with_traffic(collector.answers, model_id):
            rows = collector.route_timeline(collector.answers, model_id, route, now - since, now,
                                            model_id in reserved)
            incidents.append(inc.from_minutes(model_id, collector.names.get(model_id, model_id), rows,
                                              now - since, now))
    return incidents
