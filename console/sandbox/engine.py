"""The tier engine: admission to Bedrock's capacity pools, as pure logic with explicit time.

No I/O and no clock of its own: every method takes ``now`` (sandbox seconds), so unit tests
drive it with a fake clock and the async runtime (:mod:`.runtime`) drives it with a real one.

Model of the service (facts in ``shared/reference/bedrock-tiers.md``):

* One on-demand pool per model (TPM and RPM, sliding 60-second window) shared by
  ``priority``, ``default`` and ``flex``. Admission holds ``input + maxTokens`` (× burndown
  if ``hold_applies_burndown``); completion settles the hold to
  ``input + cacheWrite + output × burndown``.
* A request that does not fit queues. The queue is strict priority: priority ahead of
  default ahead of flex, first come first served within a tier; a lower tier never passes
  a blocked higher one. Each tier waits at most its policy's ``max_wait_s`` and is then
  throttled (``ThrottlingException``).
* A reservation has its own input-TPM and output-TPM windows. A ``reserved`` request that
  fits is served as ``reserved``; one that does not overflows to the on-demand pool as
  Standard (reported as ``settings.overflow_reported_as``).
"""
from __future__ import annotations

import itertools
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Iterable

from ..core.domain.burndown import hold_tokens, reserved_input_tokens, settled_tokens
from ..core.domain.catalog import Catalog, ModelSpec, ReservationSpec
from ..core.domain.tiers import QUEUE_RANK, Tier

WINDOW_S = 60.0

THROTTLE_TOKENS = "Too many tokens, please wait before trying again."
THROTTLE_REQUESTS = "Too many requests, please wait before trying again."


class EngineError(Exception):
    """A request the service refuses outright, named as the AWS error it becomes."""

    def __init__(self, code: str, message: str, status: int):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def validation(message: str) -> EngineError:
    return EngineError("ValidationException", message, 400)


class SlidingWindow:
    """Sum of amounts added in the last ``span`` seconds; an entry can be re-valued (settled)."""

    __slots__ = ("span", "_entries", "_total")

    def __init__(self, span: float = WINDOW_S):
        self.span = span
        self._entries: deque[list] = deque()  # [time, amount, alive]
        self._total = 0.0

    def add(self, now: float, amount: float) -> list:
        entry = [now, float(amount), True]
        self._entries.append(entry)
        self._total += amount
        return entry

    def adjust(self, entry: list, amount: float) -> None:
        if entry[2]:
            self._total += amount - entry[1]
        entry[1] = float(amount)

    def remove(self, entry: list) -> None:
        self.adjust(entry, 0.0)

    def total(self, now: float) -> float:
        entries, span = self._entries, self.span
        while entries and entries[0][0] + span <= now:  # the same sum as next_expiry: no float gap between them
            e = entries.popleft()
            e[2] = False
            self._total -= e[1]
        if not entries:
            self._total = 0.0  # no float drift once the window is empty
        return self._total

    def next_expiry(self) -> float | None:
        return self._entries[0][0] + self.span if self._entries else None


@dataclass(eq=False)
class Ticket:
    """One request's passage through the engine."""

    id: int
    model: ModelSpec
    asked: Tier
    input_tokens: int
    max_tokens: int
    cache_write_tokens: int
    submitted_at: float
    deadline: float = 0.0
    state: str = "queued"  # queued | admitted | throttled | done | cancelled
    served: Tier | None = None  # the pool that served it
    reported_tier: str = ""  # what the response says (serviceTier.type)
    overflowed: bool = False
    admitted_at: float | None = None
    throttle_message: str = ""
    blocked_on: str = "tokens"
    _holds: list = field(default_factory=list)  # (window, entry) pairs

    @property
    def queue_tier(self) -> Tier:
        return Tier.STANDARD if self.overflowed else self.asked

    @property
    def wait_s(self) -> float:
        end = self.admitted_at if self.admitted_at is not None else self.deadline
        return max(0.0, end - self.submitted_at)


class _ModelPool:
    def __init__(self, model: ModelSpec):
        self.model = model
        self.tokens = SlidingWindow()
        self.requests = SlidingWindow()
        self.queues: dict[Tier, deque[Ticket]] = {t: deque() for t in QUEUE_RANK}

    def queued(self) -> Iterable[Ticket]:
        for tier in sorted(QUEUE_RANK, key=QUEUE_RANK.get):
            yield from self.queues[tier]


class _ReservationPool:
    def __init__(self, spec: ReservationSpec):
        self.spec = spec
        self.input = SlidingWindow()
        self.output = SlidingWindow()


class TierEngine:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.settings = catalog.settings
        self._pools = {m.model_id: _ModelPool(m) for m in catalog.models}
        self._reservations = {r.model_id: _ReservationPool(r) for r in catalog.reservations}
        self._ids = itertools.count(1)
        self._rng = random.Random(self.settings.seed)

    # ------------------------------------------------------------------ submit
    def submit(self, model_id: str, tier: Tier | str | None, input_tokens: int, max_tokens: int | None,
               now: float, *, cache_write_tokens: int = 0) -> Ticket:
        """Admit, queue or throttle a request. Raises :class:`EngineError` for refused input."""
        pool = self._pools.get(model_id)
        if pool is None:
            raise EngineError("ResourceNotFoundException",
                              f"Model {model_id!r} is not available in this sandbox. "
                              "List models with ListFoundationModels.", 404)
        model = pool.model
        asked = self._parse_tier(tier)
        if max_tokens is None:
            max_tokens = model.max_output_tokens  # an unset maxTokens holds the model maximum
        if max_tokens < 1:
            raise validation("inferenceConfig.maxTokens: must be at least 1")
        if max_tokens > model.max_output_tokens:
            raise validation(f"inferenceConfig.maxTokens: {max_tokens} exceeds the maximum of "
                             f"{model.max_output_tokens} for model {model_id}")
        ticket = Ticket(next(self._ids), model, asked, int(input_tokens), int(max_tokens),
                        int(cache_write_tokens), now)

        if asked is Tier.RESERVED:
            res = self._reservations.get(model_id)
            if res is None:
                raise validation("Reservation not found.")
            if self._try_reserved(ticket, res, now):
                return ticket
            ticket.overflowed = True

        qtier = ticket.queue_tier
        policy = self.settings.policies[qtier]
        if policy.spurious_throttle_rate and self._rng.random() < policy.spurious_throttle_rate:
            return self._throttle(ticket, THROTTLE_TOKENS)
        need = self._hold(ticket)
        if need > model.tpm:  # can never fit, however long it waits
            return self._throttle(ticket, THROTTLE_TOKENS)
        rank = QUEUE_RANK[qtier]
        ahead = any(pool.queues[t] for t, r in QUEUE_RANK.items() if r <= rank)
        if not ahead and self._fits(pool, ticket, now):
            self._admit_on_demand(pool, ticket, now)
            return ticket
        ticket.deadline = now + policy.max_wait_s
        if policy.max_wait_s <= 0:
            return self._throttle(ticket, self._why_blocked(pool, ticket, now))
        ticket.blocked_on = "tokens"
        pool.queues[qtier].append(ticket)
        return ticket

    def _parse_tier(self, tier: Tier | str | None) -> Tier:
        if tier is None:
            return Tier.STANDARD
        if isinstance(tier, Tier):
            return tier
        try:
            return Tier(tier)
        except ValueError:
            raise validation(f"serviceTier.type: {tier[:100]!r} is not a valid service tier; "
                             "valid values are priority, default, flex, reserved") from None

    # ------------------------------------------------------------------ reserved
    def _try_reserved(self, ticket: Ticket, res: _ReservationPool, now: float) -> bool:
        need_in = reserved_input_tokens(ticket.input_tokens, ticket.cache_write_tokens)
        need_out = ticket.max_tokens
        if res.input.total(now) + need_in > res.spec.input_tpm or res.output.total(now) + need_out > res.spec.output_tpm:
            return False
        ticket._holds = [(res.input, res.input.add(now, need_in)), (res.output, res.output.add(now, need_out))]
        ticket.state, ticket.served, ticket.reported_tier = "admitted", Tier.RESERVED, Tier.RESERVED.value
        ticket.admitted_at = now
        return True

    # ------------------------------------------------------------------ on-demand
    def _hold(self, ticket: Ticket) -> int:
        return hold_tokens(ticket.input_tokens + ticket.cache_write_tokens, ticket.max_tokens,
                           ticket.model.burndown, hold_applies_burndown=self.settings.hold_applies_burndown)

    def _fits(self, pool: _ModelPool, ticket: Ticket, now: float) -> bool:
        m = pool.model
        return (pool.requests.total(now) + 1 <= m.rpm
                and pool.tokens.total(now) + self._hold(ticket) <= m.tpm)

    def _why_blocked(self, pool: _ModelPool, ticket: Ticket, now: float) -> str:
        if pool.requests.total(now) + 1 > pool.model.rpm:
            return THROTTLE_REQUESTS
        return THROTTLE_TOKENS

    def _admit_on_demand(self, pool: _ModelPool, ticket: Ticket, now: float) -> None:
        ticket._holds = [(pool.tokens, pool.tokens.add(now, self._hold(ticket))),
                         (pool.requests, pool.requests.add(now, 1))]
        ticket.state, ticket.admitted_at = "admitted", now
        ticket.served = ticket.queue_tier
        ticket.reported_tier = (self.settings.overflow_reported_as if ticket.overflowed else ticket.served.value)

    def _throttle(self, ticket: Ticket, message: str) -> Ticket:
        ticket.state, ticket.throttle_message = "throttled", message
        ticket.blocked_on = "requests" if message == THROTTLE_REQUESTS else "tokens"
        return ticket

    # ------------------------------------------------------------------ time passes
    def advance(self, now: float) -> tuple[list[Ticket], list[Ticket]]:
        """Play every deadline and window expiry up to ``now`` in time order. Returns ``(admitted, throttled)``.

        A late call (a loaded host, or a high ``--speed`` where 10 ms of lag is seconds of sandbox
        time) decides each event at its own time, as an unhurried run would: a Standard request
        whose window freed up before its deadline is admitted then, not throttled now with its
        capacity handed to Flex.
        """
        admitted: list[Ticket] = []
        throttled: list[Ticket] = []
        last = float("-inf")
        while (t := self.next_wakeup()) is not None and last < t < now:  # each step consumes the event at t
            self._step(t, admitted, throttled)
            last = t
        self._step(now, admitted, throttled)
        return admitted, throttled

    def _step(self, now: float, admitted: list[Ticket], throttled: list[Ticket]) -> None:
        """Throttle queued tickets past their deadline, then admit what fits, at one instant."""
        for pool in self._pools.values():
            if not any(pool.queues.values()):
                continue
            pool.tokens.total(now)  # expire both windows up to now, whichever one blocks
            pool.requests.total(now)
            for q in pool.queues.values():  # one max_wait per tier: deadlines follow arrival order
                while q and q[0].deadline <= now:
                    t = q.popleft()
                    throttled.append(self._throttle(t, self._why_blocked(pool, t, now)))
            blocked = False
            for tier in sorted(QUEUE_RANK, key=QUEUE_RANK.get):
                q = pool.queues[tier]
                while q and not blocked:
                    if self._fits(pool, q[0], now):
                        t = q.popleft()
                        self._admit_on_demand(pool, t, now)
                        admitted.append(t)
                    else:
                        blocked = True

    def next_wakeup(self) -> float | None:
        """The earliest sandbox time at which :meth:`advance` could change anything."""
        times: list[float] = []
        for pool in self._pools.values():
            heads = [q[0] for q in pool.queues.values() if q]
            if not heads:
                continue
            times.extend(t.deadline for t in heads)
            for w in (pool.tokens, pool.requests):
                exp = w.next_expiry()
                if exp is not None:
                    times.append(exp)
        return min(times) if times else None

    def has_queued(self) -> bool:
        return any(any(p.queues.values()) for p in self._pools.values())

    # ------------------------------------------------------------------ completion
    def complete(self, ticket: Ticket, output_tokens: int, now: float) -> int:
        """Settle the holds to what was really used. Returns the tokens counted against the quota."""
        if ticket.state != "admitted":
            raise RuntimeError(f"ticket {ticket.id} is {ticket.state}, not admitted")
        m = ticket.model
        if ticket.served is Tier.RESERVED:
            (win_in, _e_in), (win_out, e_out) = ticket._holds
            out = output_tokens * (m.burndown if self.settings.reserved_output_burndown else 1)
            win_out.adjust(e_out, out)
            counted = reserved_input_tokens(ticket.input_tokens, ticket.cache_write_tokens) + int(out)
        else:
            (win_tok, e_tok), _ = ticket._holds
            counted = settled_tokens(ticket.input_tokens, output_tokens, m.burndown, ticket.cache_write_tokens)
            win_tok.adjust(e_tok, counted)
        ticket.state = "done"
        return counted

    def cancel(self, ticket: Ticket, now: float) -> None:
        """The client went away: leave the queue, or settle an admitted request as if nothing was generated."""
        if ticket.state == "queued":
            for q in self._pools[ticket.model.model_id].queues.values():
                if ticket in q:
                    q.remove(ticket)
            ticket.state = "cancelled"
        elif ticket.state == "admitted":
            self.complete(ticket, 0, now)
            ticket.state = "cancelled"

    # ------------------------------------------------------------------ observation
    def usage(self, model_id: str, now: float) -> dict:
        pool = self._pools[model_id]
        out = {"tpm_used": pool.tokens.total(now), "rpm_used": pool.requests.total(now),
               "queued": {t.value: len(q) for t, q in pool.queues.items()}}
        res = self._reservations.get(model_id)
        if res is not None:
            out["reserved_input_used"] = res.input.total(now)
            out["reserved_output_used"] = res.output.total(now)
        return out

    def generation_timing(self, ticket: Ticket) -> tuple[float, float]:
        """(time to first token in s, output tokens per second) for an admitted ticket."""
        m = ticket.model
        speed = 1.0 if ticket.served is Tier.RESERVED else self.settings.policies[ticket.served].speed_factor
        ttft = m.ttft_ms / 1000.0 / speed + ticket.input_tokens / 50_000.0
        return ttft, m.output_tps * speed
