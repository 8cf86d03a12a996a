"""Admission on a real clock: the pure :class:`~..engine.TierEngine` driven from an asyncio loop.

A request the engine queues awaits a future that a timer (set for the engine's next wake-up, in
sandbox time through the :class:`~..clock.SandboxClock`) or a settle that frees capacity resolves.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..engine import Ticket, TierEngine

if TYPE_CHECKING:  # pragma: no cover
    from ...core.domain.routes import Route
    from ..clock import SandboxClock


class Throttled(Exception):
    def __init__(self, ticket: Ticket):
        super().__init__(ticket.throttle_message)
        self.ticket = ticket


class AsyncEngine:
    """Runs a :class:`TierEngine` on an asyncio loop: queued requests await admission."""

    def __init__(self, engine: TierEngine, clock: "SandboxClock"):
        self.engine = engine
        self.clock = clock
        self._waiting: dict[Ticket, asyncio.Future] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None

    async def acquire(self, model_id: str, tier: str | None, input_tokens: int, max_tokens: int | None,
                      route: "Route | None" = None, region: str | None = None) -> Ticket:
        if self._waiting:
            self._advance()  # events due before this arrival (a late timer) are decided first, as they happened
        # The call's resolved Route decides which quota pools it draws on (None: the model's on-demand pool).
        ticket = self.engine.submit(model_id, tier, input_tokens, max_tokens, self.clock.now(), route=route,
                                    region=region)
        if ticket.state == "throttled":
            raise Throttled(ticket)
        if ticket.state == "admitted":
            return ticket
        fut = asyncio.get_running_loop().create_future()
        self._waiting[ticket] = fut
        self._schedule()
        try:
            await fut
        except asyncio.CancelledError:
            self._waiting.pop(ticket, None)
            self.engine.cancel(ticket, self.clock.now())
            raise
        if ticket.state == "throttled":
            raise Throttled(ticket)
        return ticket

    def release(self, ticket: Ticket, output_tokens: int) -> int:
        counted = self.engine.complete(ticket, output_tokens, self.clock.now())
        if self._waiting:
            self._advance()  # a settle below the hold frees capacity now
        return counted

    def abandon(self, ticket: Ticket) -> None:
        self.engine.cancel(ticket, self.clock.now())
        if self._waiting:
            self._advance()

    def _advance(self) -> None:
        admitted, throttled = self.engine.advance(self.clock.now())
        for t in admitted + throttled:
            fut = self._waiting.pop(t, None)
            if fut is not None and not fut.done():
                fut.set_result(None)
        self._schedule()

    def _schedule(self) -> None:
        wake = self.engine.next_wakeup()
        if wake is None:
            if self._timer:
                self._timer.cancel()
            self._timer = self._timer_at = None
            return
        if self._timer is not None and self._timer_at is not None and self._timer_at <= wake:
            return
        if self._timer:
            self._timer.cancel()
        delay = self.clock.real_delay(wake - self.clock.now()) + 0.0005
        self._timer_at = wake
        self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = self._timer_at = None
        self._advance()
