"""The headless watch loop: the same source and collector as the console (one ``GetMetricData`` per region per
refresh; a fleet's :class:`~..aws.fleet.FleetCollector` with :class:`~..domain.fleetwatch.FleetWatch`), each refresh recorded (``--record``), turned into change events and alerts (:mod:`..domain.alerting`),
written to the event log and offered to the sinks; the state saved whenever it changed.

SIGTERM or SIGINT stops it cleanly: the refresh in flight is cancelled, the state saved, the sinks given
``drain_timeout`` seconds to deliver (what is left is kept in the state's outbox and sent first by the next
run; with no state it is dropped, and the stop line says so), the log flushed and closed, the recording closed.
:attr:`WatchRunner.lost` counts the alerts neither delivered nor kept (the command exits 3 for them).
"""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Callable

from ..domain.alerting import Alert, Watch
from ..domain.events import ChangeEvent
from ..polling import panes_failing, poll_until, stop_on_signals
from .eventlog import EventLog, iso
from .sinks import SinkWorker
from .state import StateFile

MAX_OUTBOX = 1000


class WatchRunner:
    def __init__(self, source: Any, watch: Watch | Any, log: EventLog, *, sinks: dict[str, SinkWorker] | None = None,
                 everywhere: tuple[str, ...] = (), state: StateFile | None = None, outbox: list[Any] | None = None,
                 recorder: Any = None, duration: float | None = None, drain_timeout: float = 10.0,
                 clock: Callable[[], float] = time.monotonic, on_events: Callable[[list[ChangeEvent]], None] | None = None):
        self.source, self.watch, self.log = source, watch, log
        self.sinks = sinks or {}
        self.everywhere = everywhere  # the command line's sinks: every alert goes to them
        self.state, self.recorder = state, recorder
        self.outbox = list(outbox or [])
        self.duration, self.drain_timeout, self.clock = duration, drain_timeout, clock
        self.on_events = on_events
        self.refreshes = 0
        self.stop_reason = "signal"
        self.lost = 0  # alerts neither delivered nor kept for the next run (known once stopped)
        self._saved = ""

    # ------------------------------------------------------------------ one refresh
    def handle(self, data: Any) -> tuple[list[ChangeEvent], list[Alert]]:
        """Record, detect, log, alert and save one refresh (no waiting: sinks only get an offer)."""
        if self.recorder is not None and not self.recorder.closed:
            self.recorder.write(data)
        events, alerts = self.watch.observe(data)
        self.log.data_time = iso(data.time)  # sink outcomes and the stop line: on the data's clock too
        for note in self.watch.take_notes():  # the data clock went back: starting afresh, said once
            self.log.write({"type": "watch", "event": "restart", "data_time": iso(data.time), "message": note})
        for e in events:
            self.log.write({"type": "event", "data_time": iso(e.time), **e.to_dict(), **self.watch.where(data, e)})
        for a in alerts:
            to = self._targets(a) if a.type != "suppressed" else []
            where = self.watch.where(data, a.event)
            doc = {**a.to_dict(), **where}
            self.log.write({"type": "alert", "outcome": a.type if a.type != "alert" else "fired", "rule": a.rule,
                            "severity": a.severity, "alert_id": a.alert_id, "to": to, "data_time": iso(a.event.time),
                            "event": a.event.to_dict(), **where})
            for name in to:
                self.sinks[name].offer(doc)
        if self.on_events is not None and events:
            self.on_events(events)
        self.save()
        self.refreshes += 1
        return events, alerts

    def _targets(self, alert: Alert) -> list[str]:
        return [n for n in dict.fromkeys((*alert.sinks, *self.everywhere)) if n in self.sinks]

    def save(self, final: bool = False) -> None:
        if self.state is None:
            return
        doc = self.watch.state()
        if final:
            pending = [{"sink": name, "alert": a} for name, w in self.sinks.items() for a in w.pending()]
            doc["outbox"] = pending[-MAX_OUTBOX:]
        text = json.dumps(doc, sort_keys=True)
        if text != self._saved or final:
            self.state.save(doc)
            self._saved = text

    # ------------------------------------------------------------------ the loop
    async def run(self, stop: asyncio.Event | None = None) -> str:
        stop = stop or asyncio.Event()
        for worker in self.sinks.values():
            worker.start()
        for item in self.outbox:  # alerts a previous run could not deliver before it stopped
            if item.get("sink") in self.sinks:
                self.sinks[item["sink"]].offer(item["alert"])
        with stop_on_signals(stop):
            try:
                await asyncio.to_thread(self.source.start)
                self.stop_reason = await poll_until(self.source, self.handle, stop, duration=self.duration,
                                                    clock=self.clock,
                                                    failing=getattr(self.watch, "failing", panes_failing))
            finally:
                await self._finish()
        return self.stop_reason

    async def _finish(self) -> None:
        self.save()
        await asyncio.gather(*(w.drain(self.drain_timeout) for w in self.sinks.values()))
        self.save(final=True)
        left = sum(len(w.pending()) for w in self.sinks.values())
        kept = min(left, MAX_OUTBOX) if self.state is not None else 0
        failed = sum(w.failed for w in self.sinks.values())
        dropped = sum(w.dropped for w in self.sinks.values())  # a full queue's oldest
        self.lost = failed + dropped + left - kept

        def n(count: int) -> str:
            return f"{count} alert{'s' if count != 1 else ''}"

        said = [f"{n(kept)} still queued, kept for the next run (sent first)"] if kept else []
        if left - kept:  # nowhere to keep them: gone
            why = "no state: --no-state" if self.state is None else f"the state keeps at most {MAX_OUTBOX}"
            said.append(f"{n(left - kept)} still queued, dropped ({why})")
        if failed:  # given up on: not kept (their sink lines say why)
            said.append(f"{n(failed)} not delivered: the sink gave up on {'them' if failed != 1 else 'it'} "
                        "(see its failed lines; not kept)")
        if dropped:
            said.append(f"{n(dropped)} dropped from a full sink queue (see its dropped lines)")
        self.log.write({"type": "watch", "event": "stop", "reason": self.stop_reason, "refreshes": self.refreshes,
                        "undelivered": left, "kept": kept, "failed": failed, "dropped": dropped, "lost": self.lost,
                        "message": "; ".join([f"stopped ({self.stop_reason}) after {self.refreshes} refreshes",
                                              *said])})
        self.log.close()
        if self.recorder is not None:
            self.recorder.close()
        await self.source.close()
