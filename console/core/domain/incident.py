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
from typing import Any, Iterable, Sequence

from . import format as fmt
from .format import plural
from .metricsplan import PERIOD, Answers, overflow_tokens
from .views import DashboardData, UsageMinute
from .tiers import Tier

SATURATED = 0.9
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

    def to_json(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "start": self.start, "end": self.end, "focus": self.focus,
                "diagnosis": self.diagnosis, "findings": self.findings,
                "timeline": [{**asdict(m), "has_data": m.has_data, "tpm": m.tpm if m.has_data else None,
                              "throttles": m.throttles if m.has_data else None} for m in self.minutes]}


def timeline(a: Answers, model_id: str, tiers: Iterable[str], tpm_quota: float, rpm_quota: float,
             start: float, end: float, has_reservation: bool = False) -> list[Minute]:
    tiers = set(tiers)
    split = bool(tiers & set(TIERS))
    overflow = overflow_tokens(a, model_id) if has_reservation and a.sandbox else {}
    # The minutes CloudWatch holds any data point of the model for; the others are "no data", not zeros.
    seen = {ts for (_metric, model, _tier), series in a.series.items() if model == model_id for ts in series}
    rows = []
    t = float(math.floor(start / PERIOD) * PERIOD)
    while t <= end:
        if t not in seen:
            rows.append(Minute(t, model_id, {}, tpm_quota, 0.0, rpm_quota, {}))
            t += PERIOD
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
        if has_reservation:
            res_in = (a.get("InputTokenCount", model_id, "reserved").get(t, 0.0)
                      + a.get("CacheWriteInputTokenCount", model_id, "reserved").get(t, 0.0))
            res_out = a.get("OutputTokenCount", model_id, "reserved").get(t, 0.0)
            if a.sandbox:
                over_tokens = overflow.get(t, 0.0)
                over_requests = a.get("ReservedOverflowInvocations", model_id).get(t, 0.0)
        rows.append(Minute(t, model_id, tpm, tpm_quota, rpm, rpm_quota, thr, res_in, res_out,
                           over_tokens, over_requests))
        t += PERIOD
    return rows


def _clock(t: float) -> str:
    return time.strftime("%H:%M", time.gmtime(t))


def _tier_names(keys: Sequence[str]) -> str:
    return " + ".join(Tier(k).label if k in ("priority", "default", "flex", "reserved") else k for k in keys)


def event_window(event_time: float, start: float, end: float) -> tuple[float, float]:
    """The window of an event at ``event_time``: its minute, :data:`BEFORE_MINUTES` before and
    :data:`AFTER_MINUTES` after, within the data's own ``start``-``end``."""
    minute = math.floor(event_time / PERIOD) * PERIOD
    return max(float(start), minute - BEFORE_MINUTES * PERIOD), min(float(end), minute + AFTER_MINUTES * PERIOD)


def diagnose(model_name: str, rows: Sequence[Minute], focus: float | None = None,
             partial: bool = False) -> tuple[str, list[str]]:
    """(one-line diagnosis, supporting findings) for the rows of one model: about the minute of the event
    at ``focus`` when given, else about the worst minute. ``partial``: the focus minute is not in the
    per-minute data yet (the newest minute of a recording, still counting when it stopped)."""
    findings = overflow_findings(model_name, rows)
    hot = [r for r in rows if r.throttles]
    if hot:
        worst = max(hot, key=lambda r: (r.throttles, r.tpm))
        findings.append(f"{plural(sum(r.throttles for r in hot), 'throttle')} in {plural(len(hot), 'minute')}; "
                        "the worst minute was "
                        f"{_clock(worst.time)} UTC with {worst.throttles}")
    if focus is not None:
        minute = math.floor(focus / PERIOD) * PERIOD
        if partial:  # the newest minute: still counting, not in the per-minute data yet
            said = (f"{model_name} was throttled at {_clock(minute)} UTC, a partial minute: its per-minute "
                    "figures are not in the data yet (shown as —), so its usage cannot be judged yet")
            before = next((r for r in hot if r.time == minute - PERIOD), None)
            if before is None:
                return said + ".", findings
            return f"{said}; the minute before: {_judge(model_name, rows, hot, before)}", findings
        near = [r for r in hot if abs(r.time - minute) <= PERIOD]
        if not near:
            return (f"CloudWatch counted no throttles on {model_name} at {_clock(focus)} UTC (±1 minute).", findings)
        peak = min(near, key=lambda r: (abs(r.time - minute), -r.throttles))
    elif not hot:
        return (f"No throttles on {model_name} in this window.", findings)
    else:
        peak = worst
    return _judge(model_name, rows, hot, peak), findings


def _judge(model_name: str, rows: Sequence[Minute], hot: Sequence[Minute], peak: Minute) -> str:
    """The diagnosis of the throttles of minute ``peak`` (rules 1-3 of the module's docstring)."""
    before = next((r for r in rows if r.time == peak.time - PERIOD), None)
    window = [peak] if before is None else [peak, before]
    busy = max(window, key=lambda r: r.tpm_fraction)  # the peak on ties
    if busy.tpm_quota and busy.tpm_fraction >= SATURATED:
        shares = sorted(((v, k) for k, v in busy.tpm_by_tier.items() if v > 0), reverse=True)
        drew = [k for v, k in shares if v >= 0.1 * busy.tpm]
        line = (f"{_tier_names(drew)} drew {busy.tpm_fraction:.0%} of the shared TPM quota on {model_name} "
                f"at {_clock(busy.time)} UTC")
        if busy is not peak:
            line += f" (throttled at {_clock(peak.time)} UTC)"
        pri_traffic = sum(r.tpm_by_tier.get("priority", 0) for r in hot)
        pri_throttled = sum(r.throttles_by_tier.get("priority", 0) for r in hot)
        if "priority" not in drew and pri_traffic > 0 and pri_throttled == 0:
            line += "; Priority was unaffected"
        elif pri_throttled:
            line += f"; Priority was throttled too ({pri_throttled})"
        return line + "."
    throttled = _tier_names([k for k, v in sorted(peak.throttles_by_tier.items(), key=lambda kv: -kv[1])
                             if v and k != "all"]) or "Requests"
    busy_rpm = max(window, key=lambda r: r.rpm_fraction)
    if busy_rpm.rpm_quota and busy_rpm.rpm_fraction >= SATURATED:
        return (f"{throttled} throttled on {model_name} at {_clock(peak.time)} UTC while under TPM "
                f"({busy.tpm_fraction:.0%}): RPM quota hit ({busy_rpm.rpm:.0f}/{busy_rpm.rpm_quota:.0f} requests "
                "per minute).")
    return (f"{throttled} throttled on {model_name} at {_clock(peak.time)} UTC with only {busy.tpm_fraction:.0%} of TPM and "
            f"{busy_rpm.rpm_fraction:.0%} of RPM used: maxTokens holds, not real usage, exhausted the quota "
            "(lower maxTokens or set it explicitly).")


def overflow_findings(model_name: str, rows: Sequence[Minute]) -> list[str]:
    """What the rows tell of the reservation's overflow: sandbox figures, or that AWS does not publish it."""
    reserved = [r for r in rows if r.reserved_input_tpm is not None]
    if not reserved:
        return []
    known = [r for r in reserved if r.overflow_tokens is not None]
    if not known:
        return ["reservation overflow is not published by AWS: not shown"]
    requests = sum(r.overflow_requests or 0 for r in known)
    tokens = sum(r.overflow_tokens or 0.0 for r in known)
    if not (requests or tokens):
        return []
    return [f"the reservation on {model_name} overflowed to Standard: {requests:,.0f} requests, {tokens:,.0f} tokens "
            "(sandbox figures; AWS publishes no overflow metric)"]


def build(a: Answers, model_id: str, model_name: str, tiers: Iterable[str], tpm_quota: float, rpm_quota: float,
          start: float, end: float, has_reservation: bool = False, focus: float | None = None) -> Incident:
    rows = timeline(a, model_id, tiers, tpm_quota, rpm_quota, start, end, has_reservation)
    return from_minutes(model_id, model_name, rows, start, end, focus)


def from_minutes(model_id: str, model_name: str, rows: Sequence[Minute], start: float, end: float,
                 focus: float | None = None) -> Incident:
    """An incident from per-minute rows (from live answers, or gathered from a recording)."""
    rows = sorted((r for r in rows if r.model_id == model_id and start - PERIOD < r.time <= end),
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
        out += [f"## {inc.model_id}", "", f"**Diagnosis:** {inc.diagnosis}", ""]
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
CSV_FIELDS = ["model_id", "minute_utc", "epoch", "tpm_priority", "tpm_standard", "tpm_flex", "tpm", "tpm_quota",
              "rpm", "rpm_quota", "throttles_priority", "throttles_standard", "throttles_flex", "throttles",
              "reserved_input_tpm", "reserved_output_tpm", "overflow_tokens", "overflow_requests", "diagnosis",
              "has_data"]
#: Left blank in a minute without data (``has_data`` false): no data is not zero.
_CSV_FIGURES = [f for f in CSV_FIELDS if f not in ("model_id", "minute_utc", "epoch", "tpm_quota", "rpm_quota",
                                                    "diagnosis", "has_data")]


def to_csv(incidents: Sequence[Incident]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    w.writeheader()
    for inc in incidents:
        for m in inc.minutes:
            w.writerow({"model_id": m.model_id, "minute_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(m.time)),
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
