"""``incident export``: each model's incident (timeline and diagnosis) over the last minutes, from one
collection with the panes' collectors."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from ..domain.incident import Incident
    from ..domain.views import ThrottleEvent
    from ..session import OperatorSession


class MetricsUnavailable(RuntimeError):
    """CloudWatch could not be read; the message says why."""


class UnknownModel(ValueError):
    """The model asked for is not one of the account's (``known``)."""

    def __init__(self, model: str, known: Iterable[str]):
        super().__init__(model)
        self.model, self.known = model, known


async def build_incidents(session: OperatorSession, since: float, model: str | None = None) -> list[Incident]:
    """The incidents of the last ``since`` seconds, from one collection with the panes' collector: of
    ``model``, or of every model the collector found."""
    from ..aws.collectors import Collector  # noqa: PLC0415
    from ..domain import incident as inc  # noqa: PLC0415

    minutes = max(1, math.ceil(since / 60))
    collector = Collector(await session.context(), clock=session.clock, history_minutes=minutes)
    data = await collector.refresh()
    if collector.answers is None:
        raise MetricsUnavailable(collector.errors.get("metrics", "unknown error"))
    now = collector.clock()
    models = [model] if model else collector.models
    unknown = [m for m in models if model and m not in collector.names and m not in collector.models]
    if unknown:
        raise UnknownModel(unknown[0], collector.names)
    reserved = {r.model_id for r in collector.reservations}  # this region's
    context = inc.ReportContext.of(data, inc.live_source(collector.answers.sandbox))  # named by every export
    incidents = []
    for model_id in models:  # a timeline per route the model's traffic took, each naming its quotas
        for route in collector.routes_with_traffic(collector.answers, model_id):
            rows = collector.route_timeline(collector.answers, model_id, route, now - since, now,
                                            model_id in reserved)
            incidents.append(inc.from_minutes(model_id, collector.names.get(model_id, model_id), rows,
                                              now - since, now))
            incidents[-1].context = context
    return incidents


def incident_around(session: OperatorSession | None, event: ThrottleEvent) -> Incident | str:
    """The console's incident view of one throttle event, from the live collector's last answers (its
    minute, some before and after, the diagnosis about it), or why there is none."""
    from ..domain import incident as inc  # noqa: PLC0415
    from ..domain.format import clock  # noqa: PLC0415

    collector: Any = session.source.collector if session is not None and session.source is not None else None
    answers = collector.answers if collector is not None else None
    if session is None or answers is None:
        return "No metrics collected yet for an incident view."
    now = collector.clock()
    if answers.start is not None and event.time < answers.start:
        return (f"{clock(event.time)} UTC is older than the metrics the console keeps (the last "
                f"{collector.history_minutes} minutes): `tierconsole incident export --since 1h --model "
                f"{event.model_id}` reports it.")
    start, end = inc.event_window(event.time, answers.start if answers.start is not None else now - 15 * 60, now)
    reserved = {r.model_id for r in collector.reservations}  # this region's
    # the model's own series: the on-demand route; an inference profile's series: that route of its model.
    # Either way the rows name the route's quotas.
    model, route = collector.route_of(event.model_id) or (event.model_id, "on_demand")
    rows = collector.route_timeline(answers, model, route, start, end, model in reserved)
    incident = inc.from_minutes(model, collector.names.get(model, model), rows, start, end, focus=event.time)
    if session.latest is not None:  # named by the view and its export
        incident.context = inc.ReportContext.of(session.latest, inc.live_source(answers.sandbox))
    return incident
