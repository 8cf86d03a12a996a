"""Alerts from change events: each alert rule fires **once per episode**, with a cool-down, and sends a
resolution when an alerted episode ends.

- ``start`` of an episode a rule matches: an ``alert``, unless the same (rule, subject) had an alerted episode
  end less than ``cooldown`` ago: then ``suppressed`` (logged, not sent), and its end sends nothing either.
- ``end`` of an alerted episode: a ``resolved`` (when the rule's ``resolve`` is true); the cool-down starts.
- a ``change`` event: an ``alert``, then none for the same (rule, subject) for ``cooldown``.

Pure; :meth:`AlertBook.state` is JSON and bounded (alerted episodes still open, cool-downs not yet expired),
so a restart neither fires an open episode again nor forgets to resolve it.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping

from .events import ChangeEvent, Detector, WatchSettings
from .views import DashboardData
from .watchconfig import AlertRule, WatchConfig


@dataclass(frozen=True)
class Alert:
    type: str  # alert | resolved | suppressed
    rule: str
    severity: str
    alert_id: str  # the same for every delivery of this alert: receivers de-duplicate on it
    event: ChangeEvent
    sinks: tuple[str, ...]  # the rule's profile sinks (the command line's get every alert too)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "rule": self.rule, "severity": self.severity, "alert_id": self.alert_id,
                "event": self.event.to_dict()}

    @property
    def title(self) -> str:
        """``[warning] quota-hot: Amazon Nova Lite TPM 93% ≥ 80%`` / ``RESOLVED …``."""
        word = "RESOLVED " if self.type == "resolved" else ""
        return f"{word}[{self.severity}] {self.rule}: {self.event.summary}"


def alert_id(rule: str, episode: str, kind: str) -> str:
    import hashlib  # noqa: PLC0415 - not on the console's way to its first frame
    return hashlib.sha256(f"{rule}|{episode}|{kind}".encode()).hexdigest()[:16]


class AlertBook:
    def __init__(self, config: WatchConfig, state: Mapping[str, Any] | None = None, *, scope: str = "",
                 history_s: float | None = None):
        self.config = config
        st = dict(state or {})
        self.fired: dict[str, float] = dict(st.get("fired", {}))  # "rule|episode" -> start time (alerted, open)
        self.suppressed: dict[str, float] = dict(st.get("suppressed", {}))  # "rule|episode" -> start time
        self.cooldown: dict[str, float] = dict(st.get("cooldown", {}))  # "rule|subject" -> until (data time)

    def state(self) -> dict[str, Any]:
        return {"fired": dict(self.fired), "suppressed": dict(self.suppressed), "cooldown": dict(self.cooldown)}

    def decide(self, events: Iterable[ChangeEvent]) -> list[Alert]:
        out: list[Alert] = []
        for e in events:
            for rule in self.config.rules:
                if e.condition == self.config.condition_of(rule) and rule.matches(e.kind, e.model, e.details):
                    alert = self._one(rule, e)
                    if alert is not None:
                        out.append(alert)
        return out

    def forget_before(self, now: float) -> None:
        """Drop cool-downs that have expired (keeps the state bounded)."""
        for key in [k for k, until in self.cooldown.items() if until <= now]:
            del self.cooldown[key]

    def _one(self, rule: AlertRule, e: ChangeEvent) -> Alert | None:
        ep, subject = f"{rule.name}|{e.episode}", f"{rule.name}|{e.subject}"
        cooling = self.cooldown.get(subject, float("-inf")) > e.time
        if e.phase == "start":
            if ep in self.fired or ep in self.suppressed:  # the same start seen again (a replayed refresh)
                return None
            if cooling:
                self.suppressed[ep] = e.time
                return self._make("suppressed", rule, e)
            self.fired[ep] = e.time
            return self._make("alert", rule, e)
        if e.phase == "end":
            if self.suppressed.pop(ep, None) is not None:
                return None
            if self.fired.pop(ep, None) is None:  # an episode this rule never alerted (it began before the rule)
                return None
            self.cooldown[subject] = e.time + rule.cooldown_s
            return self._make("resolved", rule, e) if rule.resolve else None
        if cooling:
            return self._make("suppressed", rule, e)
        self.cooldown[subject] = e.time + rule.cooldown_s
        return self._make("alert", rule, e)

    @staticmethod
    def _make(kind: str, rule: AlertRule, e: ChangeEvent) -> Alert:
        return Alert(kind, rule.name, rule.severity, alert_id(rule.name, e.episode, kind), e, rule.sinks)


def settings_hash(settings: WatchSettings) -> str:
    import hashlib  # noqa: PLC0415 - not on the console's way to its first frame
    return hashlib.sha256(json.dumps(asdict(settings), sort_keys=True).encode()).hexdigest()[:16]


STATE_FORMAT = "tierconsole-watch-state"


def clock_note(before: float, now: float, abandoned: int) -> str:
    """The one line a watch writes when the data clock went back (:meth:`Watch.restart`)."""
    import time  # noqa: PLC0415 - formatting only: no clock is read

    def hms(t: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

    return (f"the data clock went back from {hms(before)} to {hms(now)} (a new sandbox or another data source): "
            f"starting afresh; {abandoned} open episode{'s' if abandoned != 1 else ''} closed as abandoned (no "
            "resolution sent: none was seen), cool-downs of the old clock cleared")


class Watch:
    """One profile's watch: the log's detector (``watch``), one per alert rule with parameters of its own, and
    the alert book. :meth:`state` is the whole of it as JSON; a detector whose parameters changed since it was
    saved starts afresh (its open episodes are dropped, said in :attr:`discarded`)."""

    def __init__(self, config: WatchConfig, state: Mapping[str, Any] | None = None, *, scope: str = "",
                 history_s: float | None = None):
        self.config = config
        wanted = {"watch": config.settings}
        for rule in config.rules:
            wanted.setdefault(config.condition_of(rule), config.rule_settings(rule))
        saved = dict(state or {})
        hashes, detectors = saved.get("conditions", {}), saved.get("detectors", {})
        self.discarded = sorted(n for n in detectors if hashes.get(n) != settings_hash(wanted.get(n, WatchSettings()))
                                or n not in wanted)
        extra: dict[str, Any] = {"scope": scope} if history_s is None else {"scope": scope, "history_s": history_s}
        self.detectors = {n: Detector(s, n, None if n in self.discarded else detectors.get(n), **extra)
                          for n, s in wanted.items()}
        rules = {r.name for r in config.rules}
        book = dict(saved.get("book") or {})
        for part in ("fired", "suppressed"):  # alerts of rules no longer in the profile are forgotten
            book[part] = {k: v for k, v in dict(book.get(part) or {}).items() if k.split("|", 1)[0] in rules}
        self.book = AlertBook(config, book)
        self.notes: list[str] = []  # lines for the log (the data clock went back)

    def last_time(self) -> float | None:
        times = [d.time for d in self.detectors.values() if d.time is not None]
        return max(times) if times else None

    def went_back(self, t: float) -> bool:
        return any(d.went_back(t) for d in self.detectors.values())

    def restart(self, now: float, *, note: bool = True) -> list[ChangeEvent]:
        """A new data clock: every open episode of every condition ends abandoned (no resolution: nothing was
        seen to resolve), the alert book and its cool-downs start afresh (a cool-down on the old clock would hold
        the new one's alerts back); the log's abandoned ends are returned, and a note said."""
        before = self.last_time() or now
        every = {name: d.abandon() for name, d in self.detectors.items()}
        self.book = AlertBook(self.config)
        if note:
            self.notes.append(clock_note(before, now, len(every["watch"])))
        return every["watch"]

    def take_notes(self) -> list[str]:
        notes, self.notes = self.notes, []
        return notes

    def observe(self, data: DashboardData, unknown: Iterable[str] = ()) -> tuple[list[ChangeEvent], list[Alert]]:
        """This refresh's events (the log's: condition ``watch``) and alerts (from every condition); ``unknown``:
        subjects whose figures are not known this refresh (:meth:`.Detector.observe`). Data time gone back
        (:meth:`restart`) starts the watch afresh first."""
        unknown = tuple(unknown)
        abandoned = self.restart(data.time) if self.went_back(data.time) else []
        every = {name: d.observe(data, unknown) for name, d in self.detectors.items()}
        alerts = self.book.decide(e for events in every.values() for e in events)
        self.book.forget_before(data.time)
        return abandoned + every["watch"], alerts

    @staticmethod
    def where(data: DashboardData, event: ChangeEvent) -> dict[str, Any]:
        """What an event's log line and alert say it is about, beside the event."""
        return {"profile": data.profile, "account": data.account_id, "region": data.region}

    def state(self) -> dict[str, Any]:
        return {"format": STATE_FORMAT, "version": 1,
                "conditions": {n: settings_hash(d.settings) for n, d in self.detectors.items()},
                "detectors": {n: d.state() for n, d in self.detectors.items()}, "book": self.book.state()}

    def open_episodes(self) -> list[dict[str, Any]]:
        """The log's open episodes: ``{"kind", "subject", "episode", "since", "label"}``."""
        return [{"kind": k.split("|", 1)[0], "subject": k.split("|", 1)[1], **{f: ep.get(f) for f in
                 ("episode", "since", "label")}} for k, ep in self.detectors["watch"].open.items()]
