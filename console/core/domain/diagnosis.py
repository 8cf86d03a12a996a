"""The incident diagnosis: which quota or hold throttled a model's minute, in the operator's words (pure).

Rules (see :mod:`.incident`): 1. a TPM quota at or over :data:`SATURATED` in the throttled minute or the one
before it names the quota and the tiers that drew it; 2. else an RPM quota over it; 3. else maxTokens holds,
not real usage, exhausted the quota — unless the requests' input alone (InputTokenCount / Invocations of the
minute) was more than the TPM left: then the quota, nearly full, throttled them whatever their maxTokens (rule 3a;
when the input is not known, rule 3 says so).
"""
from __future__ import annotations

import math
import time
from typing import Sequence

from .format import plural
from .metricsplan import PERIOD
from .tiers import Tier
from .views import UsageMinute as Minute

SATURATED = 0.9


def _quota_words(row: Minute, measure: str, name: str) -> str:
    """"the cross-region TPM quota of Model M (us-east-1)"."""
    where = f" ({row.region})" if row.region else ""
    return f"the {row.route} {measure} quota of {name}{where}"


def _clock(t: float) -> str:
    return time.strftime("%H:%M", time.gmtime(t))


def _tier_names(keys: Sequence[str]) -> str:
    return " + ".join(Tier(k).label if k in ("priority", "default", "flex", "reserved") else k for k in keys)


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
        if busy.quota_name:  # the binding quota, by name (the rows know which quota of which route they are)
            line = (f"Throttled by {_quota_words(busy, 'TPM', model_name)}, {busy.tpm_fraction:.0%} used at "
                    f"{_clock(busy.time)} UTC: {_tier_names(drew)} drew it")
        else:
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
    if busy_rpm.rpm_quota and busy_rpm.rpm_fraction >= SATURATED and busy_rpm.rpm_quota_name:
        return (f"{throttled} throttled by {_quota_words(busy_rpm, 'RPM', model_name)}, "
                f"{busy_rpm.rpm_fraction:.0%} used at {_clock(peak.time)} UTC while under TPM "
                f"({busy.tpm_fraction:.0%}): RPM quota hit ({busy_rpm.rpm:.0f}/{busy_rpm.rpm_quota:.0f} requests "
                "per minute).")
    if busy_rpm.rpm_quota and busy_rpm.rpm_fraction >= SATURATED:
        return (f"{throttled} throttled on {model_name} at {_clock(peak.time)} UTC while under TPM "
                f"({busy.tpm_fraction:.0%}): RPM quota hit ({busy_rpm.rpm:.0f}/{busy_rpm.rpm_quota:.0f} requests "
                "per minute).")
    per_request = _input_per_request(window)
    left = busy.tpm_quota - busy.tpm
    if busy.tpm_quota and per_request is not None and per_request > left:
        whose = _quota_words(busy, "TPM", model_name) if busy.quota_name else f"the TPM quota of {model_name}"
        return (f"Throttled by {whose}, {busy.tpm_fraction:.0%} used at {_clock(busy.time)} UTC: the "
                f"{max(left, 0):,.0f} tokens left were fewer than a request's input ({per_request:,.0f} on average), "
                "so no maxTokens would have let it in (spread the load or ask for a higher quota).")
    unknown = "" if per_request is not None else " (input per request not known)"
    return (f"{throttled} throttled on {model_name} at {_clock(peak.time)} UTC with only {busy.tpm_fraction:.0%} of TPM and "
            f"{busy_rpm.rpm_fraction:.0%} of RPM used: maxTokens holds, not real usage, exhausted the quota "
            f"(lower maxTokens or set it explicitly){unknown}.")


def _input_per_request(window: Sequence[Minute]) -> float | None:
    """The largest average input per request (InputTokenCount / Invocations) of the minutes; None if not known."""
    known = [r.input_tokens / r.rpm for r in window if r.input_tokens is not None and r.rpm > 0]
    return max(known) if known else None


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
