"""The tier engine: admission to Bedrock's capacity pools, as pure logic with explicit time.

No I/O and no clock of its own: every method takes ``now`` (sandbox seconds), so unit tests
drive it with a fake clock and the async runtime (:mod:`.runtime`) drives it with a real one.

Model of the service (facts in ``shared/reference/bedrock-tiers.md``, quotas in
:mod:`tierconsole.core.domain.quotas`):

* A **bucket** per quota of the catalog: minute quotas are an exact sliding 60-second window,
  daily quotas a :class:`BucketedWindow` (a minute's granularity, at most 1,441 entries
  whatever the traffic). A request draws on every quota of its route
  (:func:`~tierconsole.core.domain.quotas.route_quotas`): a direct call on the model's
  on-demand TPM/RPM, a ``us.``/``eu.`` profile call on its cross-region TPM/RPM, a ``global.``
  call on its global TPM/RPM; each also on the model's daily quota and the account's
  cross-model daily quota. Priority, Standard and Flex share them.
* Admission holds ``input + maxTokens`` (× burndown if ``hold_applies_burndown``) on token
  quotas and 1 on request quotas; completion settles a token hold to
  ``input + cacheWrite + output × burndown``. A split quota holds ``input + cacheWrite +
  maxTokens`` on input TPM and settles it to ``input + cacheWrite``; output TPM admits while
  below its quota and counts ``output × burndown``.
* A request that does not fit queues in its route's **lane** (one per model and route kind).
  A lane is strict priority: priority ahead of default ahead of flex, first come first served
  within a tier; a lower tier never passes a blocked higher one in the same lane; lanes are
  independent (a full cross-region pool does not hold up direct calls), and the shared
  buckets (daily, cross-model) are checked by every lane. Each tier waits at most its policy's
  ``max_wait_s`` and is then throttled (``ThrottlingException``); the ticket records which
  quota blocked it (``blocked_by``) and the message follows that quota's measure and period.
* A reservation has its own input-TPM and output-TPM windows. A ``reserved`` request that
  fits is served as ``reserved``; one that does not overflows to its route's pools as
  Standard (reported as ``settings.overflow_reported_as``).
* A model's ``not_ready_rate`` answers that share of calls ``ModelNotReadyException`` (429), before
  any quota is drawn.
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field, replace

from ..core.domain.burndown import hold_tokens, reserved_input_tokens, settled_tokens
from ..core.domain.catalog import Catalog, ModelSpec
from ..core.domain.quotas import DAY_S, Measure, QuotaSpec, QuotaUse, route_quotas
from ..core.domain.routes import Route, RouteKind
from ..core.domain.tiers import QUEUE_RANK, Tier

from .quota_buckets import (  # noqa: F401  (WINDOW_S, DAY_STEP_S and the windows: this module's names before the split)
    DAY_STEP_S, WINDOW_S, BucketedWindow, SlidingWindow, _Bucket, _Lane, _ReservationPool,
)

THROTTLE_TOKENS = "Too many tokens, please wait before trying again."
THROTTLE_REQUESTS = "Too many requests, please wait before trying again."
THROTTLE_DAILY = "Too many tokens per day, please wait before trying again."  # unconfirmed wording
NOT_READY = "The model specified in the request is not ready to serve inference requests."


class EngineError(Exception):
    """A request the service refuses outright, named as the AWS error it becomes."""

    def __init__(self, code: str, message: str, status: int):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def validation(message: str) -> EngineError:
    return EngineError("ValidationException", message, 400)


#: the tiers a request of each tier queues behind in its lane (its own and the higher ones)
_AHEAD = {tier: tuple(t for t, r in QUEUE_RANK.items() if r <= rank) for tier, rank in QUEUE_RANK.items()}


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
    route: Route | None = None
    deadline: float = 0.0
    state: str = "queued"  # queued | admitted | throttled | done | cancelled
    served: Tier | None = None  # the pool that served it
    reported_tier: str = ""  # what the response says (serviceTier.type)
    overflowed: bool = False
    admitted_at: float | None = None
    throttle_message: str = ""
    blocked_by: QuotaSpec | None = None  # the quota that throttled it (None: a throttle within quota)
    _holds: list = field(default_factory=list)  # (window, handle) for reserved; (bucket, handle) on demand
    _needs: list = field(default_factory=list)  # (bucket, amount held at admission)
    _lane: "_Lane | None" = None

    @property
    def queue_tier(self) -> Tier:
        return Tier.STANDARD if self.overflowed else self.asked

    @property
    def blocked_on(self) -> str:
        return "requests" if self.blocked_by is not None and self.blocked_by.measure is Measure.REQUESTS else "tokens"

    @property
    def wait_s(self) -> float:
        end = self.admitted_at if self.admitted_at is not None else self.deadline
        return max(0.0, end - self.submitted_at)


class TierEngine:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.settings = catalog.settings
        self.rules = catalog.rules
        specs = catalog.quota_specs
        self._buckets = {s.code: _Bucket(s, self._window(s)) for s in specs}
        self._lanes: dict[tuple[str, RouteKind], _Lane] = {}
        self._models = {m.model_id: m for m in catalog.models}
        for m in catalog.models:
            for kind in RouteKind:
                route = Route(kind, m.model_id, m.model_id)
                drawn = route_quotas(route, specs, self.rules)
                if any(q.period_s < DAY_S for q in drawn):  # a route with no minute quota is not served
                    self._lanes[(m.model_id, kind)] = _Lane(m, route, tuple(self._buckets[q.code] for q in drawn))
        self._reservations = {r.model_id: _ReservationPool(r) for r in catalog.reservations}
        self._ids = itertools.count(1)
        self._rng = random.Random(self.settings.seed)

    def _window(self, spec: QuotaSpec) -> SlidingWindow | BucketedWindow:
        if spec.period_s < DAY_S:
            return SlidingWindow(float(spec.period_s))
        if self.rules.daily_window == "utc_day":
            return BucketedWindow(span=0.0, step=float(spec.period_s))
        return BucketedWindow(span=float(spec.period_s), step=DAY_STEP_S)

    # ------------------------------------------------------------------ submit
    def submit(self, model_id: str, tier: Tier | str | None, input_tokens: int, max_tokens: int | None,
               now: float, *, cache_write_tokens: int = 0, route: Route | None = None,
               region: str | None = None) -> Ticket:
        """Admit, queue or throttle a request. Raises :class:`EngineError` for refused input. ``route`` is how the
        call reaches the model (a profile's route names the model); None is the on-demand route of ``model_id``.
        ``region``: the call's (a reservation serves its own region only); None: the sandbox's own traffic."""
        if route is not None:
            model_id = route.model_id
        model = self._models.get(model_id)
        if model is None:
            raise EngineError("ResourceNotFoundException",
                              f"Model {model_id!r} is not available in this sandbox. "
                              "List models with ListFoundationModels.", 404)
        kind = route.kind if route is not None else RouteKind.ON_DEMAND
        lane = self._lanes.get((model_id, kind))
        if lane is None:
            raise validation(f"The sandbox has no {kind.value.replace('_', '-')} quota for model {model_id}.")
        asked = self._parse_tier(tier)
        if max_tokens is None:
            max_tokens = model.max_output_tokens  # an unset maxTokens holds the model maximum
        if max_tokens < 1:
            raise validation("inferenceConfig.maxTokens: must be at least 1")
        if max_tokens > model.max_output_tokens:
            raise validation(f"inferenceConfig.maxTokens: {max_tokens} exceeds the maximum of "
                             f"{model.max_output_tokens} for model {model_id}")
        if model.not_ready_rate and self._rng.random() < model.not_ready_rate:
            raise EngineError("ModelNotReadyException", NOT_READY, 429)
        ticket = Ticket(next(self._ids), model, asked, int(input_tokens), int(max_tokens),
                        int(cache_write_tokens), now, route=route or lane.route)
        ticket._lane = lane

        if asked is Tier.RESERVED:
            res = self._reservations.get(model_id)
            if res is None or (region is not None and res.spec.region not in (None, region)):
                raise validation("Reservation not found.")
            if self._try_reserved(ticket, res, now):
                return ticket
            ticket.overflowed = True

        qtier = ticket.queue_tier
        policy = self.settings.policies[qtier]
        if policy.spurious_throttle_rate and self._rng.random() < policy.spurious_throttle_rate:
            return self._throttle(ticket, None)
        ticket._needs = needs = self._needs(lane, ticket)
        for b, need in needs:
            if need > b.value:  # can never fit, however long it waits
                return self._throttle(ticket, b.spec)
        queues = lane.queues
        if not any(queues[t] for t in _AHEAD[qtier]) and self._blocker(ticket, now) is None:
            self._admit_on_demand(ticket, now)
            return ticket
        ticket.deadline = now + policy.max_wait_s
        if policy.max_wait_s <= 0:
            return self._throttle(ticket, self._why_blocked(ticket, now))
        lane.queues[qtier].append(ticket)
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

    def _needs(self, lane: _Lane, ticket: Ticket) -> list:
        """What admission holds on each of the lane's buckets: a token hold, 1 request, input +
        cacheWrite + maxTokens on input TPM, nothing on output TPM (it admits while below its quota)."""
        hold = self._hold(ticket)
        held_input = ticket.input_tokens + ticket.cache_write_tokens + ticket.max_tokens
        by_measure = (hold, 1, held_input, 0)
        return [(b, by_measure[b.index]) for b in lane.buckets]

    def _blocker(self, ticket: Ticket, now: float) -> _Bucket | None:
        """The first of the ticket's buckets it does not fit in now, or None when it fits them all."""
        for b, need in ticket._needs:
            total = b.window.total(now)
            if total + need > b.value if need else total >= b.value:
                return b
        return None

    def _why_blocked(self, ticket: Ticket, now: float) -> QuotaSpec | None:
        b = self._blocker(ticket, now)
        if b is None:  # behind a higher tier of its lane: the lane's token pool is what it waited for
            b = ticket._lane.minute_tokens if ticket._lane is not None else None
        return b.spec if b is not None else None

    def _admit_on_demand(self, ticket: Ticket, now: float) -> None:
        ticket._holds = [(b, b.window.add(now, need)) for b, need in ticket._needs]
        ticket.state, ticket.admitted_at = "admitted", now
        ticket.served = ticket.queue_tier
        ticket.reported_tier = (self.settings.overflow_reported_as if ticket.overflowed else ticket.served.value)

    def _throttle(self, ticket: Ticket, spec: QuotaSpec | None) -> Ticket:
        ticket.state, ticket.blocked_by = "throttled", spec
        ticket.throttle_message = throttle_message(spec)
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
        for lane in self._lanes.values():
            if not any(lane.queues.values()):
                continue
            for b in lane.buckets:  # expire every window up to now, whichever one blocks
                b.window.total(now)
            for q in lane.queues.values():  # one max_wait per tier: deadlines follow arrival order
                while q and q[0].deadline <= now:
                    t = q.popleft()
                    throttled.append(self._throttle(t, self._why_blocked(t, now)))
            blocked = False
            for tier in sorted(QUEUE_RANK, key=QUEUE_RANK.get):
                q = lane.queues[tier]
                while q and not blocked:
                    if self._blocker(q[0], now) is None:
                        t = q.popleft()
                        self._admit_on_demand(t, now)
                        admitted.append(t)
                    else:
                        blocked = True

    def next_wakeup(self) -> float | None:
        """The earliest sandbox time at which :meth:`advance` could change anything."""
        times: list[float] = []
        for lane in self._lanes.values():
            heads = [q[0] for q in lane.queues.values() if q]
            if not heads:
                continue
            times.extend(t.deadline for t in heads)
            for b in lane.buckets:
                exp = b.window.next_expiry()
                if exp is not None:
                    times.append(exp)
        return min(times) if times else None

    def has_queued(self) -> bool:
        return any(any(lane.queues.values()) for lane in self._lanes.values())

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
            counted = settled_tokens(ticket.input_tokens, output_tokens, m.burndown, ticket.cache_write_tokens)
            daily = counted if self.rules.daily_applies_burndown else \
                settled_tokens(ticket.input_tokens, output_tokens, 1, ticket.cache_write_tokens)
            # per measure: tokens (minute, day), requests (unchanged), input, output
            settle = (counted, None, ticket.input_tokens + ticket.cache_write_tokens, output_tokens * m.burndown)
            for b, handle in ticket._holds:
                amount = settle[b.index] if b.index or b.spec.period_s < DAY_S else daily
                if amount is not None:
                    b.window.adjust(handle, amount)
        ticket.state = "done"
        return counted

    def cancel(self, ticket: Ticket, now: float) -> None:
        """The client went away: leave the queue, or settle an admitted request as if nothing was generated."""
        if ticket.state == "queued":
            if ticket._lane is not None:
                for q in ticket._lane.queues.values():
                    if ticket in q:
                        q.remove(ticket)
            ticket.state = "cancelled"
        elif ticket.state == "admitted":
            self.complete(ticket, 0, now)
            ticket.state = "cancelled"

    # ------------------------------------------------------------------ observation
    def usage(self, model_id: str, now: float) -> dict:
        """The model's on-demand pool as before: ``tpm_used`` (the input TPM of a split shape), ``rpm_used``
        (0 without an RPM quota), on-demand ``queued`` per tier, and the reservation's windows."""
        lane = self._lanes.get((model_id, RouteKind.ON_DEMAND))
        if lane is None and model_id not in self._models:
            raise KeyError(model_id)
        tpm = rpm = 0.0
        queued = {t.value: 0 for t in QUEUE_RANK}
        if lane is not None:
            tpm = lane.minute_tokens.window.total(now) if lane.minute_tokens is not None else 0.0
            rpm = next((b.window.total(now) for b in lane.buckets
                        if b.measure is Measure.REQUESTS and b.spec.period_s < DAY_S), 0.0)
            queued = {t.value: len(q) for t, q in lane.queues.items()}
        out = {"tpm_used": tpm, "rpm_used": rpm, "queued": queued}
        res = self._reservations.get(model_id)
        if res is not None:
            out["reserved_input_used"] = res.input.total(now)
            out["reserved_output_used"] = res.output.total(now)
        return out

    def quota_uses(self, now: float, model_id: str | None = None) -> tuple[QuotaUse, ...]:
        """Every quota's use now (catalog order), or the quotas of one model and the account's."""
        return tuple(QuotaUse(b.spec, b.window.total(now), "sandbox") for b in self._buckets.values()
                     if model_id is None or b.spec.model_id in (model_id, None))

    def set_quota_value(self, code: str, value: int) -> bool:
        """Apply a new value to the quota ``code`` (an approved increase): admission and its use follow at once.
        False when the engine does not enforce that quota (batch record limits)."""
        bucket = self._buckets.get(code)
        if bucket is None:
            return False
        bucket.spec = replace(bucket.spec, value=int(value))
        bucket.value = int(value)
        return True

    def generation_timing(self, ticket: Ticket) -> tuple[float, float]:
        """(time to first token in s, output tokens per second) for an admitted ticket."""
        m = ticket.model
        speed = 1.0 if ticket.served is Tier.RESERVED else self.settings.policies[ticket.served].speed_factor
        ttft = m.ttft_ms / 1000.0 / speed + ticket.input_tokens / 50_000.0
        return ttft, m.output_tps * speed


def throttle_message(spec: QuotaSpec | None) -> str:
    """The ThrottlingException message for a throttle by ``spec`` (None: a throttle within quota)."""
    if spec is None:
        return THROTTLE_TOKENS
    if spec.period_s >= DAY_S:
        return THROTTLE_DAILY
    return THROTTLE_REQUESTS if spec.measure is Measure.REQUESTS else THROTTLE_TOKENS
