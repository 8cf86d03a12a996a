"""Every request outcome the sandbox sees, for metrics, events and the access log."""
from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    from ..core.domain.routes import Route


@dataclass(slots=True)
class Outcome:
    time: float  # sandbox epoch seconds at completion (or at the throttle/error)
    request_id: str
    operation: str  # Converse | ConverseStream | InvokeModel | InvokeModelWithResponseStream | Batch
    model_id: str
    asked_tier: str | None  # wire value asked for, None when the request named no tier
    served_tier: str | None  # tier reported back (serviceTier.type); None when not served
    status: int  # HTTP status (200 for success; 429 throttled; ...)
    error: str | None = None  # AWS error code, e.g. ThrottlingException
    message: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    quota_tokens: int = 0  # counted against the on-demand quota (burndown included)
    latency_ms: float = 0.0
    ttft_ms: float | None = None  # streaming only
    queue_ms: float = 0.0
    overflowed: bool = False  # a reserved request served from the on-demand pool
    source: str = "client"  # client | background | batch
    tenant: str | None = None
    quota: str | None = None  # the Service Quotas name of the quota that throttled it (None: not a quota throttle)
    identifier: str | None = None  # a client call's model identifier as called (model id, ARN, profile id or ARN)
    route: "Route | None" = None  # how the call reached model_id (on-demand, cross-region, global; its series)
    region: str | None = None  # the region a client call was made in (its SigV4 scope); None: the sandbox's own

    @property
    def throttled(self) -> bool:
        return self.error == "ThrottlingException"

    def to_dict(self) -> dict:
        return asdict(self)


class OutcomeLog:
    """A bounded history of outcomes with synchronous listeners (called on the sandbox's loop)."""

    # The recent outcomes are kept for tests and inspection only (listeners get each one as it happens):
    # 200,000 of them were ~70 MB of a long-running sandbox's memory.
    def __init__(self, maxlen: int = 20_000):
        self.recent: deque[Outcome] = deque(maxlen=maxlen)
        self._listeners: list[Callable[[Outcome], None]] = []

    def subscribe(self, listener: Callable[[Outcome], None]) -> None:
        self._listeners.append(listener)

    def record(self, outcome: Outcome) -> None:
        self.recent.append(outcome)
        for listener in self._listeners:
            listener(outcome)
