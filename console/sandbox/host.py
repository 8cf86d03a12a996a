"""What a sandbox service may use of the sandbox that hosts it, declared in one place.

The services beside the runtime (:mod:`.services`: the bedrock control plane and its batch jobs,
the moto bridge for S3/STS/CloudWatch, the metrics publisher, Service Quotas) and a scenario run
are given a :class:`SandboxHost`. They read its settings, clock, engine, runtime and outcome log,
start background work and register what must run at close; they never attach attributes to it.
:class:`~.app.Sandbox` implements it and keeps, as attributes its ``__init__`` declares, what each
service's constructor or ``install`` returns.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Coroutine, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from .clock import SandboxClock
    from .config import SandboxConfig
    from .engine import TierEngine
    from .outcomes import OutcomeLog
    from .services.runtime import Runtime

Closer = Callable[[], "Awaitable[None] | None"]


class SandboxHost(Protocol):
    """The sandbox as its services see it."""

    config: "SandboxConfig"  # models, quotas, reservations, account, region, bucket
    clock: "SandboxClock"  # the sandbox's timeline (runs faster at --speed)
    engine: "TierEngine"  # the pure tier engine (admission, queues, windows)
    runtime: "Runtime"  # bedrock-runtime: what a scenario's tenants call
    outcomes: "OutcomeLog"  # every request's outcome; the metrics publisher subscribes to it

    def background(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        """Run ``coro`` for the sandbox's lifetime; it is cancelled when the sandbox stops."""
        ...

    def on_close(self, fn: Closer) -> None:
        """Call ``fn`` (awaited when it returns a coroutine) when the sandbox stops, last registered first."""
        ...
