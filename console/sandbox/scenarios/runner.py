"""Running a scenario: background tenants, phases and faults on the sandbox clock.

Each tenant is one ``sandbox.background`` task. Requests go through
``sandbox.runtime.generate(..., source="background", tenant=...)``, so they meet the same tier
engine, quotas and queues as client calls, and are recorded as outcomes (errors included).

Pacing is on the sandbox clock: an open-loop tenant earns ``rate × multiplier`` request credits
per sandbox second and fires whole credits; a closed-loop tenant keeps ``concurrency ×
multiplier`` workers busy. No loop wakes more than once per :data:`MIN_TICK_S` of real time,
and each tenant has at most ``max_in_flight`` requests in flight. Arrivals missed while the loop
was busy are caught up (up to :data:`CATCH_UP_REAL_S` of real time, at least one sandbox second);
beyond that, and beyond ``max_in_flight``, they are dropped rather than piled up: at a very high
``--speed`` the offered load is best effort.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import random
from typing import TYPE_CHECKING

from ...core.domain.tiers import Tier
from ..engine import EngineError
from ..http import AwsError
from ..wire import Prompt
from .spec import FAULT_ERRORS, Scenario, TenantSpec

if TYPE_CHECKING:  # pragma: no cover
    from ..host import SandboxHost

log = logging.getLogger("tierconsole.sandbox.scenarios")

MIN_TICK_S = 0.001  # real seconds: the shortest sleep of any scenario loop
IDLE_S = 60.0  # sandbox seconds an idle loop sleeps when no phase boundary is ahead
CATCH_UP_REAL_S = 0.5  # an open-loop tenant catches up on at most this much real time of missed arrivals
_FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "


class ScenarioRun:
    """One scenario running in one sandbox. ``stop()`` (on sandbox close) undoes its settings."""

    def __init__(self, sandbox: "SandboxHost", scenario: Scenario):
        self.sandbox = sandbox
        self.scenario = scenario
        self.clock = sandbox.clock
        self.runtime = sandbox.runtime
        self.t0 = self.clock.now()
        self.sent = 0
        self._rng = random.Random(sandbox.config.catalog.settings.seed)
        self._saved_policies: dict | None = None
        self._latency = 0.0
        self.tasks: list[asyncio.Task] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "ScenarioRun":
        settings = self.sandbox.engine.settings
        if self.scenario.tiers:
            self._saved_policies = dict(settings.policies)
            for wire, overrides in self.scenario.tiers.items():
                tier = Tier(wire)
                settings.policies[tier] = dataclasses.replace(settings.policies[tier], **overrides)
        self.runtime.fault_hooks.append(self._fault)
        if any(p.fault and p.fault.latency for p in self.scenario.phases):
            self.tasks.append(self.sandbox.background(self._latency_loop()))
        for tenant in self.scenario.tenants:
            loop = self._open_loop if tenant.rate is not None else self._closed_loop
            self.tasks.append(self.sandbox.background(loop(tenant)))
        self.sandbox.on_close(self.stop)
        return self

    def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self._fault in self.runtime.fault_hooks:
            self.runtime.fault_hooks.remove(self._fault)
        self.runtime.extra_latency_s -= self._latency
        self._latency = 0.0
        if self._saved_policies is not None:
            self.sandbox.engine.settings.policies.update(self._saved_policies)
            self._saved_policies = None

    def elapsed(self) -> float:
        return self.clock.now() - self.t0

    def active_phases(self) -> list[str]:
        return [p.name for p in self.scenario.active_phases(self.elapsed())]

    async def _sleep(self, sandbox_seconds: float) -> None:
        await asyncio.sleep(max(MIN_TICK_S, self.clock.real_delay(sandbox_seconds)))

    async def _sleep_to_boundary(self) -> None:
        el = self.elapsed()
        await self._sleep(min(self.scenario.next_boundary(el), el + IDLE_S) - el)

    # ------------------------------------------------------------------ faults
    def _fault(self, operation: str, model_id: str) -> AwsError | None:
        for fault in self.scenario.faults(model_id, self.elapsed()):
            if fault.probability and self._rng.random() < fault.probability:
                status, message = FAULT_ERRORS[fault.error]
                return AwsError(fault.error, message, status)
        return None

    async def _latency_loop(self) -> None:
        """Keep ``runtime.extra_latency_s`` at the latency of the active fault phases (the largest)."""
        while True:
            latency = max((f.latency for p in self.scenario.active_phases(self.elapsed()) if (f := p.fault)),
                          default=0.0)
            self.runtime.extra_latency_s += latency - self._latency
            self._latency = latency
            await self._sleep_to_boundary()

    # ------------------------------------------------------------------ load
    async def _open_loop(self, t: TenantSpec) -> None:
        await self._sleep(t.start - self.elapsed())
        slots = asyncio.Semaphore(t.max_in_flight)
        credit, last, rate = 1.0, self.elapsed(), 0.0  # the first request goes at once
        carry_s = max(1.0, CATCH_UP_REAL_S * self.clock.speed)  # sandbox seconds of arrivals kept after a stall
        async with asyncio.TaskGroup() as group:
            while True:
                el = self.elapsed()
                credit = min(credit + rate * (el - last), 1.0 + rate * carry_s)  # at the rate since `last`
                last = el
                rate = t.rate * self.scenario.multiplier(t.name, el)
                while credit >= 1.0 and not slots.locked():
                    credit -= 1.0
                    await slots.acquire()
                    group.create_task(self._request(t, slots))
                if rate <= 0:
                    await self._sleep_to_boundary()
                else:
                    boundary = self.scenario.next_boundary(el)
                    await self._sleep(min((1.0 - credit) / rate if credit < 1.0 else 1.0 / rate, boundary - el))

    async def _closed_loop(self, t: TenantSpec) -> None:
        await self._sleep(t.start - self.elapsed())
        workers = min(t.max_in_flight, math.ceil(t.concurrency * self.scenario.max_multiplier(t.name)))
        async with asyncio.TaskGroup() as group:
            for i in range(workers):
                group.create_task(self._worker(t, i))

    async def _worker(self, t: TenantSpec, index: int) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if index >= round(t.concurrency * self.scenario.multiplier(t.name, self.elapsed())):
                await self._sleep_to_boundary()
                continue
            began = loop.time()
            ok = await self._request(t, None)
            if not ok and t.backoff:
                await self._sleep(t.backoff)
            elif loop.time() - began < MIN_TICK_S:
                await asyncio.sleep(MIN_TICK_S)  # never spin, whatever the speed

    async def _request(self, t: TenantSpec, slot: asyncio.Semaphore | None) -> bool:
        """One request. Errors are already outcomes, so they are not raised; returns success."""
        self.sent += 1
        prefix = f"[{t.name} #{self.sent}] "
        text = (prefix + _FILLER * (4 * t.prompt_tokens // len(_FILLER) + 1))[:4 * t.prompt_tokens]
        try:
            await self.runtime.generate(t.model, t.tier, Prompt(texts=[text], max_tokens=t.max_tokens),
                                        operation="ConverseStream" if t.streaming else "Converse",
                                        source="background", tenant=t.name, streaming=t.streaming)
            return True
        except (AwsError, EngineError):
            return False
        except Exception:
            log.exception("scenario %s: request of tenant %s failed", self.scenario.name, t.name)
            return False
        finally:
            if slot is not None:
                slot.release()
