"""The change events' data: the event kinds, a detector's settings (:class:`WatchSettings`), a
:class:`ChangeEvent`, and how a span of data time is written. Pure; the detector is :mod:`.events`."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

EPISODE_KINDS = ("quota_over", "throttle_storm", "error_storm", "overflow", "stale")
CHANGE_KINDS = ("batch_state", "quota_value")
KINDS = EPISODE_KINDS + CHANGE_KINDS
MINUTE = 60.0
HISTORY_S = 15 * MINUTE  # what one refresh's metrics hold (metricsplan.HISTORY_MINUTES)
BACKWARDS_S = 5.0  # data time going back more than this: a new clock (a new sandbox); timers re-based


@dataclass(frozen=True)
class WatchSettings:
    """The parameters of one detector (the profile's ``watch:`` section, or an alert rule's own)."""

    threshold: float = 0.8  # the profile's alert_threshold
    storm_rate: float = 30.0  # throttles per minute
    error_rate: float = 10.0  # server errors (5xx) per minute: an error storm
    storm_minutes: int = 1  # minutes at or above the rate before a storm starts ("for a minute")
    clear_minutes: int = 1  # minutes below it before the storm ends
    hold_s: float = 0.0  # seconds a level condition holds before its episode starts (an alert rule's ``for``)
    clear_s: float = 30.0  # seconds a level condition is false before its episode ends
    stale_after_s: float = 30.0
    metric_delay_s: float = 5.0
    overflow_min_tpm: float = 0.0


@dataclass(frozen=True)
class ChangeEvent:
    kind: str  # one of KINDS
    phase: str  # start | end | change
    time: float  # data time
    subject: str  # "quota:<model (route)>", "reservation:<id>", "model:<id>", "job:<arn>", "data"
    episode: str  # shared by an episode's start and end; a change's own id
    summary: str  # one plain line
    source: str  # whose figure: cloudwatch, sandbox, bedrock, service-quotas, console
    value: float | None = None
    limit: float | None = None
    since: float | None = None  # an end: when its episode started
    model: str | None = None
    condition: str = "watch"
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["details"] = dict(self.details)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ChangeEvent":
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class _Level:
    """A level condition's truth for one subject at this refresh."""

    kind: str
    subject: str
    true: bool
    value: float | None
    limit: float | None
    source: str
    model: str | None
    label: str  # "Amazon Nova Lite TPM", "reservation r1"
    details: dict[str, Any] = field(default_factory=dict)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def _span(seconds: float) -> str:
    s = int(max(0.0, seconds))
    return f"{s // 3600}h {s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m {s % 60:02d}s"
