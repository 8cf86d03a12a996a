"""The tier engine's quota buckets: the windows that count a quota's use, and the lanes that draw on them.

Pure, with explicit time, like :mod:`.engine` (which is their only user): a minute quota is an exact
:class:`SlidingWindow` of 60 seconds, a daily quota a :class:`BucketedWindow` (a minute's granularity,
at most 1,441 entries whatever the traffic); a :class:`_Lane` is one model's route with its queues per
tier and the buckets it draws on; a :class:`_ReservationPool` a reservation's input and output windows.
"""
from __future__ import annotations

import math
from collections import deque
from typing import Any, Iterable

from ..core.domain.catalog import ModelSpec, ReservationSpec
from ..core.domain.quotas import DAY_S, Measure, QuotaSpec
from ..core.domain.routes import Route
from ..core.domain.tiers import QUEUE_RANK, Tier

WINDOW_S = 60.0
DAY_STEP_S = 60.0  # a daily quota's granularity: its window forgets a whole minute at a time, never early


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


class BucketedWindow:
    """Sum of amounts added in the last ``span`` seconds, kept in ``step``-second buckets.

    A bucket starting at ``s`` is forgotten whole at ``s + step + span``: never early, at most a
    step late, and at most ``span / step + 1`` buckets whatever the traffic (1,441 for a day in
    minutes). ``span=0, step=86400`` is a calendar day (reset at 00:00 UTC of sandbox time).
    A hold is re-valued (settled) in the bucket it was added to.
    """

    __slots__ = ("span", "step", "_buckets", "_total")

    def __init__(self, span: float = DAY_S, step: float = DAY_STEP_S):
        self.span = span
        self.step = step
        self._buckets: deque[list] = deque()  # [start, amount, alive]
        self._total = 0.0

    def __len__(self) -> int:
        return len(self._buckets)

    def add(self, now: float, amount: float) -> list:
        start = math.floor(now / self.step) * self.step
        buckets = self._buckets
        if buckets and buckets[-1][0] >= start:  # the current bucket (or, were time to step back, the last one)
            bucket = buckets[-1]
        else:
            self.total(now)  # a new bucket: forget the expired ones first, so the count stays bounded
            bucket = [start, 0.0, True]
            buckets.append(bucket)
        bucket[1] += amount
        self._total += amount
        return [bucket, float(amount)]

    def adjust(self, handle: list, amount: float) -> None:
        bucket, old = handle
        if bucket[2]:
            self._total += amount - old
            bucket[1] += amount - old
        handle[1] = float(amount)

    def remove(self, handle: list) -> None:
        self.adjust(handle, 0.0)

    def total(self, now: float) -> float:
        buckets, life = self._buckets, self.step + self.span
        while buckets and buckets[0][0] + life <= now:
            b = buckets.popleft()
            b[2] = False
            self._total -= b[1]
        if not buckets:
            self._total = 0.0
        return self._total

    def next_expiry(self) -> float | None:
        return self._buckets[0][0] + self.step + self.span if self._buckets else None


class _Bucket:
    """One quota's window and value."""

    __slots__ = ("spec", "window", "value", "measure", "index")

    def __init__(self, spec: QuotaSpec, window: SlidingWindow | BucketedWindow):
        self.spec = spec
        self.window = window
        self.value = spec.value
        self.measure = spec.measure
        self.index = _MEASURES.index(spec.measure)


_MEASURES = (Measure.TOKENS, Measure.REQUESTS, Measure.INPUT_TOKENS, Measure.OUTPUT_TOKENS)


class _Lane:
    """The queue of one model's route (on-demand, cross-region or global) and the buckets it draws on."""

    def __init__(self, model: ModelSpec, route: Route, buckets: tuple[_Bucket, ...]):
        self.model = model
        self.route = route
        # requests first, then tokens, then the day: a blocked request names the quota AWS would
        self.buckets = tuple(sorted(buckets, key=lambda b: (b.spec.period_s, b.measure is not Measure.REQUESTS)))
        self.minute_tokens = next((b for b in self.buckets if b.spec.period_s < DAY_S
                                   and b.measure in (Measure.TOKENS, Measure.INPUT_TOKENS)), None)
        # of engine.Ticket, named loosely: the engine imports this module
        self.queues: dict[Tier, deque[Any]] = {t: deque() for t in QUEUE_RANK}

    def queued(self) -> Iterable[Any]:
        for tier in sorted(QUEUE_RANK, key=QUEUE_RANK.get):
            yield from self.queues[tier]


class _ReservationPool:
    def __init__(self, spec: ReservationSpec):
        self.spec = spec
        self.input = SlidingWindow()
        self.output = SlidingWindow()
