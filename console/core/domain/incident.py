"""Incident triage: the minute-by-minute timeline around throttles, and a one-line diagnosis.

Pure: takes the per-minute answers of one GetMetricData (see :mod:`.metricsplan`) and the
quotas, and returns rows and plain words. The rules, in order:

1. throttles while the TPM used was at or above ``SATURATED`` of the quota: the tiers that
   drew the most saturated the shared quota ("Standard + Flex drew 96% ... Priority was
   unaffected" when Priority had traffic and no throttles);
2. throttles while RPM was at or above ``SATURATED`` of its quota: the RPM quota was hit;
3. throttles while both TPM and RPM were well below the quota: admission holds
   (``input + maxTokens``) exhausted the quota, not real usage — lower ``maxTokens``;
4. a reservation overflowing to Standard is reported beside the above: in requests and tokens
   from the sandbox's own metrics; on AWS, which publishes no overflow metric, the report says it
   cannot be shown (never a zero).

With a selected event (the incident view opened from the throttle feed), the window is the
event's minute with :data:`BEFORE_MINUTES` before and :data:`AFTER_MINUTES` after it (as far as the
data go), and the rules judge the event's minute (or a minute next to it with throttles: a
throttle is counted when it is raised), not the window's worst minute. Without one (the export),
the window's worst minute is judged.

The quotas are sliding 60-second windows and throttles are counted when they are raised
(after the tier's queue wait), while usage is counted when requests complete. A burst that
crosses a minute boundary therefore puts its usage in one minute and its throttles in the
next; the window in force at a throttle in minute ``t`` also covers part of minute ``t-1``.
Rules 1 and 2 so judge the busier of the throttle peak's minute and the minute before it.
"""
from __future__ import annotations

import csv
import io
import json
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Iterator, Sequence

from . import format as fmt
from .metricsplan import PERIOD, Answers, overflow_tokens
from .diagnosis import _clock, diagnose
from .views import DashboardData, RouteNames, UsageMinute

TIERS = ("priority", "default", "flex")
BEFORE_MINUTES = 10  # an event's window: minutes before its minute ...
AFTER_MINUTES = 4  # ... and after it


Minute = UsageMinute  # one row of an incident's timeline (see views.UsageMinute)


@dataclass(frozen=True)
class ReportContext:
    """Where an incident's figures were read, named at the top of every export: profile, account, region,
    endpoint and data source. Never credentials: an endpoint's user-info part is left out."""

    profile: str
    account_id: str | None
    region: str
    endpoint: str | None  # None: the SDK's own endpoint for the region
    sandbox: bool
    source: str  # e.g. "CloudWatch GetMetricData: AWS/Bedrock per-minute sums"

    @classmethod
    def of(cls, data: "DashboardData", source: str) -> "ReportContext":
        """The context of the dashboard data an incident was read beside."""
        return cls(data.profile, data.account_id, data.region, data.endpoint, data.is_sandbox, source)

    @property
    def endpoint_text(self) -> str:
        return fmt.safe_endpoint(self.endpoint) if self.endpoint else f"AWS (the SDK's endpoint for {self.region})"

    def to_json(self) -> dict[str, Any]:
        return {"profile": self.profile, "account_id": self.account_id, "region": self.region,
                "endpoint": fmt.safe_endpoint(self.endpoint) if self.endpoint else None, "sandbox": self.sandbox,
                "source": self.source}


def live_source(sandbox: bool) -> str:
    """The data source of an incident built from the console's own CloudWatch answers (``incident export``
    and the live incident view)."""
    return ("CloudWatch GetMetricData: AWS/Bedrock per-minute sums" +
            (", reservation overflow from the sandbox's own TierConsole/Sandbox namespace" if sandbox else ""))


@dataclass
class Incident:
    model_id: str
    start: float
    end: float
    minutes: list[Minute] = field(default_factory=list)
    diagnosis: str = ""
    findings: list[str] = field(default_factory=list)
    focus: float | None = None  # the selected event's time, when the view was opened from one
    context: ReportContext | None = None  # where the figures were read (named by every export)

    @property
    def route(self) -> str:
        return self.minutes[0].route if self.minutes else "on-demand"

    @property
    def quota_name(self) -> str:
        """The Service Quotas name of the route's TPM quota ("" when not known)."""
        return next((m.quota_name for m in self.minutes if m.quota_name), "")

    def to_json(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "route": self.route, "quota_name": self.quota_name or None,
                "start": self.start, "end": self.end, "focus": self.focus,
                "diagnosis": self.diagnosis, "findings": self.findings,
                "timeline": [{**asdict(m), "has_data": m.has_data, "tpm": m.tpm if m.has_data else None,
                              "throttles": m.throttles if m.has_data else None} for m in self.minutes]}


def timeline(a: Answers, model_id: str, tiers: Iterable[str], tpm_quota: float, rpm_quota: float,
             start: float, end: float, has_reservation: bool = False, *, route: str = "on-demand",
             quota_name: str = "", rpm_quota_name: str = "", region: str = "",
             series: Sequence[str] | None = None) -> list[Minute]:
    """Per minute: the model's use of its route's quotas. ``series``: a profile route's ``ModelId`` series
    (summed; split by tier when the answers hold its tiers); None: the model's own series (on demand)."""
    named = RouteNames(route=route, quota_name=quota_name, rpm_quota_name=rpm_quota_name, region=region)
    if series is not None:
        return _route_timeline(a, model_id, series, tpm_quota, rpm_quota, start, end, named)
    tiers = set(tiers)
    split = bool(tiers & set(TIERS))
    overflow = overflow_tokens(a, model_id) if has_reservation and a.sandbox else {}
    rows = []
    for t, seen in _minutes(a, (model_id,), start, end):
        if not seen:
            rows.append(Minute(t, model_id, {}, tpm_quota, 0.0, rpm_quota, {}, **named))
            continue
        if split:
            tpm = {k: a.get("EstimatedTPMQuotaUsage", model_id, k).get(t, 0.0) for k in TIERS}
            rpm = sum(a.get("Invocations", model_id, k).get(t, 0.0) for k in TIERS)
            thr = {k: int(round(a.get("InvocationThrottles", model_id, k).get(t, 0.0))) for k in TIERS}
        else:
            tpm = {"default": a.get("EstimatedTPMQuotaUsage", model_id).get(t, 0.0)}
            rpm = a.get("Invocations", model_id).get(t, 0.0)
            thr = {"all": int(round(a.get("InvocationThrottles", model_id).get(t, 0.0)))}
        res_in = res_out = over_tokens = over_requests = None
        errors = int(round(a.get("InvocationServerErrors", model_id).get(t, 0.0)))
        if has_reservation:
            res_in = (a.get("InputTokenCount", model_id, "reserved").get(t, 0.0)
                      + a.get("CacheWriteInputTokenCount", model_id, "reserved").get(t, 0.0))
            res_out = a.get("OutputTokenCount", model_id, "reserved").get(t, 0.0)
            if a.sandbox:
                over_tokens = overflow.get(t, 0.0)
                over_requests = a.get("ReservedOverflowInvocations", model_id).get(t, 0.0)
        rows.append(Minute(t, model_id, tpm, tpm_quota, rpm, rpm_quota, thr, res_in, res_out,
                           over_tokens, over_requests, **named, input_tokens=_input(a, (model_id,), t),
                           server_errors=errors))
    return rows


def _minutes(a: Answers, series: Sequence[str], start: float, end: float) -> Iterator[tuple[float, bool]]:
    """Each minute from ``start`` to ``end`` and whether CloudWatch holds any data point of ``series`` for it:
    the others are "no data", not zeros."""
    seen = {ts for (_metric, model, _tier), points in a.series.items() if model in series for ts in points}
    t = float(math.floor(start / PERIOD) * PERIOD)
    while t <= end:
        yield t, t in seen
        t += PERIOD


def _route_timeline(a: Answers, model_id: str, series: Sequence[str], tpm_quota: float, rpm_quota: float,
                    start: float, end: float, named: RouteNames) -> list[Minute]:
    split = any(tier in TIERS for (_metric, model, tier) in a.series if model in series)
    rows = []
    for t, seen in _minutes(a, series, start, end):  # as on demand: a minute without data is no data
        if not seen:
            rows.append(Minute(t, model_id, {}, tpm_quota, 0.0, rpm_quota, {}, **named))
            continue
        if split:  # the tiers discovery saw published for the route's series (asked in the same call)
            tpm = {k: sum(a.get("EstimatedTPMQuotaUsage", s, k).get(t, 0.0) for s in series) for k in TIERS}
            thr = {k: int(round(sum(a.get("InvocationThrottles", s, k).get(t, 0.0) for s in series))) for k in TIERS}
        else:
            tpm = {"default": sum(a.get("EstimatedTPMQuotaUsage", s).get(t, 0.0) for s in series)}
            thr = {"all": int(round(sum(a.get("InvocationThrottles", s).get(t, 0.0) for s in series)))}
        rpm = sum(a.get("Invocations", s).get(t, 0.0) for s in series)
        rows.append(Minute(t, model_id, tpm, tpm_quota, rpm, rpm_quota, thr, **named, input_tokens=_input(a, series, t)))
    return rows


def _input(a: Answers, series: Sequence[str], t: float) -> float | None:
    """The minute's InputTokenCount over ``series``; None when it was not asked (an older plan or recording)."""
    if not any(("InputTokenCount", s, None) in a.series for s in series):
        return None
    return sum(a.get("InputTokenCount", s).get(t, 0.0) for s in series)


def event_window(event_time: float, start: float, end: float) -> tuple[float, float]:
    """The window of an event at ``event_time``: its minute, :data:`BEFORE_MINUTES` before and
    :data:`AFTER_MINUTES` after, within the data's own ``start``-``end``."""
    minute = math.floor(event_time / PERIOD) * PERIOD
    return max(float(start), minute - BEFORE_MINUTES * PERIOD), min(float(end), minute + AFTER_MINUTES * PERIOD)


def build(a: Answers, model_id: str, model_name: str, tiers: Iterable[str], tpm_quota: float, rpm_quota: float,
          start: float, end: float, has_reservation: bool = False, focus: float | None = None,
          **route: Any) -> Incident:
    """``route``: :func:`timeline`'s route keywords (``route``, ``quota_name``, ``rpm_quota_name``, ``region``,
    ``series``)."""
    rows = timeline(a, model_id, tiers, tpm_quota, rpm_quota, start, end, has_reservation, **route)
    return from_minutes(model_id, model_name, rows, start, end, focus)


def from_minutes(model_id: str, model_name: str, rows: Sequence[Minute], start: float, end: float,
                 focus: float | None = None, route: str | None = None) -> Incident:
    """An incident from per-minute rows (from live answers, or gathered from a recording) of one route of the
    model: ``route`` (a label, "on-demand" …), else on-demand (or the only route the rows have)."""
    if route is None:  # on-demand when the rows have it (a throttle event names a model, not a route)
        routes = {r.route for r in rows if r.model_id == model_id}
        route = "on-demand" if "on-demand" in routes or not routes else sorted(routes)[0]
    rows = sorted((r for r in rows if r.model_id == model_id and r.route == route and start - PERIOD < r.time <= end),
                  key=lambda r: r.time)
    partial = False
    if focus is not None and rows:  # the selected event's minute is always in its window, with data or not
        minute = float(math.floor(focus / PERIOD) * PERIOD)
        if all(r.time != minute for r in rows):
            near = min(rows, key=lambda r: abs(r.time - minute))
            rows = sorted([*rows, Minute(minute, model_id, {}, near.tpm_quota, 0.0, near.rpm_quota, {})],
                          key=lambda r: r.time)
            start, end, partial = min(start, minute), max(end, minute), True
    line, findings = diagnose(model_name, rows, focus, partial)
    return Incident(model_id, start, end, list(rows), line, findings, focus)


# ------------------------------------------------------------------ export formats

NO_DATA_NOTE = ("— is no data: CloudWatch holds no data point of the model for that minute (no requests, or before "
                "the metrics began), never counted as zero.")


def _context_lines(incidents: Sequence[Incident]) -> list[str]:
    ctx = next((i.context for i in incidents if i.context is not None), None)
    out = []
    if ctx is not None:
        out += [f"- **Profile:** {ctx.profile}{' (sandbox)' if ctx.sandbox else ''}",
                f"- **Account:** {ctx.account_id or 'unknown (not read)'}",
                f"- **Region:** {ctx.region}",
                f"- **Endpoint:** {ctx.endpoint_text}",
                f"- **Data source:** {ctx.source}"]
    if incidents:
        start, end = min(i.start for i in incidents), max(i.end for i in incidents)
        out.append(f"- **Window:** {time.strftime('%Y-%m-%d %H:%M', time.gmtime(start))}–{_clock(end)} UTC")
    return out + [""] if out else []


def to_markdown(incidents: Sequence[Incident]) -> str:
    out = ["# tierconsole incident report", ""]
    out += _context_lines(incidents)
    for inc in incidents:
        route = "" if inc.route == "on-demand" else f" ({inc.route})"
        out += [f"## {inc.model_id}{route}", ""]
        if inc.quota_name:
            out += [f"**Quota:** {inc.quota_name}", ""]
        out += [f"**Diagnosis:** {inc.diagnosis}", ""]
        out += [f"- {f}" for f in inc.findings] + ([""] if inc.findings else [])
        sandbox = any(m.overflow_tokens is not None for m in inc.minutes)
        out.append("| minute (UTC) | TPM Priority | TPM Standard | TPM Flex | TPM / quota | RPM / quota | "
                   f"throttles P/S/F | reserved in/out TPM | overflow tokens{' (sandbox)' if sandbox else ''} |")
        out.append("|---|---:|---:|---:|---:|---:|---|---:|---:|")
        for m in inc.minutes:
            if not m.has_data:
                out.append(f"| {_clock(m.time)} |" + " — |" * 8)
                continue
            thr = "/".join(str(m.throttles_by_tier.get(k, 0)) for k in TIERS) if "all" not in m.throttles_by_tier \
                else str(m.throttles_by_tier["all"])
            res = "-" if m.reserved_input_tpm is None else f"{m.reserved_input_tpm:,.0f}/{m.reserved_output_tpm:,.0f}"
            out.append(f"| {_clock(m.time)} | {m.tpm_by_tier.get('priority', 0):,.0f} | "
                       f"{m.tpm_by_tier.get('default', 0):,.0f} | {m.tpm_by_tier.get('flex', 0):,.0f} | "
                       f"{m.tpm:,.0f} / {m.tpm_quota:,.0f} ({m.tpm_fraction:.0%}) | {m.rpm:,.0f} / {m.rpm_quota:,.0f} | "
                       f"{thr} | {res} | {_or_dash(m.overflow_tokens)} |")
        out.append("")
        if any(not m.has_data for m in inc.minutes):
            out += [NO_DATA_NOTE, ""]
    return "\n".join(out)


def _or_dash(v: float | None) -> str:
    return "—" if v is None else f"{v:,.0f}"


def _or_blank(v: float | None) -> int | str:
    return "" if v is None else round(v)


#: ``overflow_tokens`` / ``overflow_requests``: sandbox figures (AWS publishes no overflow metric), blank when
#: not known.
CSV_FIELDS = ["model_id", "route", "quota_name", "minute_utc", "epoch", "tpm_priority", "tpm_standard", "tpm_flex", "tpm", "tpm_quota",
              "rpm", "rpm_quota", "throttles_priority", "throttles_standard", "throttles_flex", "throttles",
              "reserved_input_tpm", "reserved_output_tpm", "overflow_tokens", "overflow_requests", "diagnosis",
              "has_data"]
#: Left blank in a minute without data (``has_data`` false): no data is not zero.
_CSV_FIGURES = [f for f in CSV_FIELDS if f not in ("model_id", "route", "quota_name", "minute_utc", "epoch",
                                                    "tpm_quota", "rpm_quota", "diagnosis", "has_data")]


def to_csv(incidents: Sequence[Incident]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    w.writeheader()
    for inc in incidents:
        for m in inc.minutes:
            w.writerow({"model_id": m.model_id, "route": m.route, "quota_name": m.quota_name, "minute_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(m.time)),
                        "epoch": int(m.time), "tpm_priority": round(m.tpm_by_tier.get("priority", 0)),
                        "tpm_standard": round(m.tpm_by_tier.get("default", 0)),
                        "tpm_flex": round(m.tpm_by_tier.get("flex", 0)), "tpm": round(m.tpm),
                        "tpm_quota": m.tpm_quota, "rpm": round(m.rpm), "rpm_quota": m.rpm_quota,
                        "throttles_priority": m.throttles_by_tier.get("priority", 0),
                        "throttles_standard": m.throttles_by_tier.get("default", 0),
                        "throttles_flex": m.throttles_by_tier.get("flex", 0), "throttles": m.throttles,
                        "reserved_input_tpm": _or_blank(m.reserved_input_tpm),
                        "reserved_output_tpm": _or_blank(m.reserved_output_tpm),
                        "overflow_tokens": _or_blank(m.overflow_tokens),
                        "overflow_requests": _or_blank(m.overflow_requests), "diagnosis": inc.diagnosis,
                        "has_data": "true" if m.has_data else "false",
                        **({} if m.has_data else dict.fromkeys(_CSV_FIGURES, ""))})
    return buf.getvalue()


def to_json(incidents: Sequence[Incident]) -> str:
    ctx = next((i.context for i in incidents if i.context is not None), None)
    doc = {"context": ctx.to_json()} if ctx is not None else {}
    return json.dumps({**doc, "incidents": [i.to_json() for i in incidents]}, indent=2)
