"""What an AWS quota-increase case asks for, from one model's per-minute history (pure: pandas/numpy).

Input: the planning history frame (:mod:`.planning`: per minute and tier, input, cache_write, output,
invocations and throttles from CloudWatch ``AWS/Bedrock``) and the model's minute quotas as Service Quotas
lists them. Every figure says where it comes from (``source``); what is estimated says so.

* quota-counted TPM of a minute = input + cache_write + output × burndown (the documented settle rule);
  Reserved traffic is left out when the history splits tiers (it draws on the reservation, not the quota).
* steady = P50, and P90, over the minutes *with traffic* (as the plan); peak = the highest minute.
* average input / output tokens per request = the window's sums / its invocations.
* demand of a minute (an **estimate**) = what was served + throttled requests × average quota tokens per request:
  CloudWatch counts a throttled call, never its tokens.
* the binding quota = :func:`.quotas.binding` of each minute quota's peak use over its value (the same rule as
  the quota pane's, on the window's peaks instead of the last minute).
* desired value = peak demand of the binding quota's measure × headroom, rounded up to 3 significant figures;
  none when that is within the quota's value (nothing to request).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from .quotas import ROUTE_LABEL, Measure, QuotaKind, QuotaSpec, QuotaUse, binding, quota_label
from .routes import KNOWN_GEOS, model_named_by, route_kind

MIN_TRAFFIC_MINUTES = 30  # fewer minutes with traffic than this: too little history to ask AWS for anything
DEFAULT_HEADROOM = 1.25
HISTORY_SOURCE = "CloudWatch AWS/Bedrock, 1-minute sums"
BURNDOWN_SOURCE = ("AWS documentation: output tokens count 5× against the quota for Claude 3.7 Sonnet and later "
                   "Claude models, 1× for other models")
_FIVE_X = ("claude-3-7", "claude-sonnet-4", "claude-opus-4", "claude-haiku-4")


NOT_SPLIT = "not known: a recording keeps quota-counted TPM (EstimatedTPMQuotaUsage), not input and output apart"
RECORDING_SOURCE = "recording {path}: EstimatedTPMQuotaUsage, Invocations, InvocationThrottles per minute as recorded " \
                   "from CloudWatch"


class TooLittleHistory(ValueError):
    """The window holds too few minutes with traffic to state a steady and a peak demand."""


class DesiredNotAbove(ValueError):
    """A desired value given that is not above the binding quota's value: no increase to ask for."""


def documented_burndown(model_id: str) -> float:
    """The output-token burndown rate AWS documents for a model (no API gives it)."""
    base = model_named_by(model_id)
    return 5.0 if base.startswith("anthropic.") and any(k in base for k in _FIVE_X) else 1.0


def route_of(identifier: str) -> tuple[str, QuotaKind]:
    """(the foundation model, the quota kind of its minute quotas) for a model id or system profile id."""
    geo, _, rest = identifier.partition(".")
    if geo in KNOWN_GEOS and "." in rest:
        kind = route_kind(geo).value
        return model_named_by(identifier), QuotaKind(kind)
    return model_named_by(identifier), QuotaKind.ON_DEMAND


def significant(value: float, digits: int = 3) -> int:
    """``value`` rounded *up* to ``digits`` significant figures (244,321 → 245,000)."""
    if value <= 0:
        return 0
    step = 10 ** max(0, math.floor(math.log10(value)) - digits + 1)
    return int(math.ceil(value / step) * step)


@dataclass(frozen=True)
class Figure:
    value: float | None
    source: str
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "source": self.source}
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Demand:
    minutes: int
    active_minutes: int
    steady_tpm: float
    p90_tpm: float
    peak_tpm: float
    steady_rpm: float
    peak_rpm: float
    avg_input_tokens: float | None  # None: the source does not split input and output (a recording)
    avg_output_tokens: float | None
    peak_throttles_per_min: float
    throttles: float
    peak_demand_tpm: float  # estimate
    peak_demand_rpm: float  # estimate
    peak_input_tpm: float | None
    peak_output_tpm: float | None  # output × burndown
    reserved_left_out: bool
    tokens_per_request: float = 0.0  # quota-counted tokens per request, the demand estimate's unit


def _series(frame: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    tiers = list(dict.fromkeys(frame.columns.get_level_values(0)))
    kept = [t for t in tiers if t != "reserved"]
    summed = frame[kept].T.groupby(level=1).sum().T if kept else frame.iloc[:, :0]
    return summed, "reserved" in tiers


def demand(frame: pd.DataFrame, burndown: float, min_minutes: int = MIN_TRAFFIC_MINUTES) -> Demand:
    """The steady and peak demand of a CloudWatch history frame. Raises :class:`TooLittleHistory`."""
    f, reserved = _series(frame)
    col = {k: (f[k].to_numpy(dtype=float) if k in f else np.zeros(len(f)))
           for k in ("input", "cache_write", "output", "invocations", "throttles")}
    tokens_in = col["input"] + col["cache_write"]
    return _demand(tokens_in + col["output"] * burndown, col["invocations"], col["throttles"], min_minutes,
                   tokens_in=tokens_in, output=col["output"], burndown=burndown, reserved=reserved)


def demand_from_minutes(minutes: Sequence[tuple[float, float, float]], min_minutes: int = MIN_TRAFFIC_MINUTES
                        ) -> Demand:
    """The demand of recorded minutes ``(quota-counted TPM, invocations, throttles)`` (a recording keeps
    ``EstimatedTPMQuotaUsage``, burndown included, not input and output apart). Raises :class:`TooLittleHistory`."""
    a = np.array(minutes, dtype=float).reshape(-1, 3)
    return _demand(a[:, 0], a[:, 1], a[:, 2], min_minutes)


def _demand(quota_tpm: np.ndarray, calls: np.ndarray, throttles: np.ndarray, min_minutes: int, *,
            tokens_in: np.ndarray | None = None, output: np.ndarray | None = None, burndown: float = 1.0,
            reserved: bool = False) -> Demand:
    busy = (quota_tpm > 0) | (calls > 0) | (throttles > 0)
    active = int(busy.sum())
    if active < min_minutes:
        raise TooLittleHistory(f"{active} minute{'s' if active != 1 else ''} with traffic in the window; at least "
                               f"{min_minutes} are needed to state a steady and a peak demand")
    n_calls = float(calls.sum())
    per_request = float(quota_tpm.sum() / n_calls) if n_calls else 0.0
    avg_in = float(tokens_in.sum() / n_calls) if tokens_in is not None and n_calls else None
    avg_out = float(output.sum() / n_calls) if output is not None and n_calls else None
    demand_tpm = quota_tpm + throttles * per_request
    return Demand(
        minutes=len(quota_tpm), active_minutes=active,
        steady_tpm=float(np.percentile(quota_tpm[busy], 50)), p90_tpm=float(np.percentile(quota_tpm[busy], 90)),
        peak_tpm=float(quota_tpm.max()), steady_rpm=float(np.percentile(calls[busy], 50)),
        peak_rpm=float(calls.max()), avg_input_tokens=avg_in, avg_output_tokens=avg_out,
        peak_throttles_per_min=float(throttles.max()), throttles=float(throttles.sum()),
        peak_demand_tpm=float(demand_tpm.max()), peak_demand_rpm=float((calls + throttles).max()),
        peak_input_tpm=float(tokens_in.max()) if tokens_in is not None else None,
        peak_output_tpm=float((output * burndown).max()) if output is not None else None, reserved_left_out=reserved,
        tokens_per_request=per_request)


def _peak_use(d: Demand, measure: Measure) -> tuple[float | None, float | None]:
    """(peak served use, peak demand estimate) of a quota measure; None where the source does not tell."""
    if measure is Measure.REQUESTS:
        return d.peak_rpm, d.peak_demand_rpm
    scale = d.peak_demand_tpm / d.peak_tpm if d.peak_tpm else 1.0
    if measure is Measure.INPUT_TOKENS:
        return d.peak_input_tpm, None if d.peak_input_tpm is None else d.peak_input_tpm * scale
    if measure is Measure.OUTPUT_TOKENS:
        return d.peak_output_tpm, None if d.peak_output_tpm is None else d.peak_output_tpm * scale
    return d.peak_tpm, d.peak_demand_tpm


@dataclass(frozen=True)
class QuotaIncreaseRequest:
    model_id: str
    identifier: str
    route: str  # "on-demand", "cross-region", "global"
    region: str
    account: str | None
    profile: str
    window: tuple[str, str]
    history_source: str
    burndown: Figure
    stats: Demand
    binding: QuotaUse | None
    binding_code: str | None
    binding_adjustable: bool | None
    desired_value: int | None
    headroom: float
    quota_source: str
    justification: tuple[str, ...] = ()
    pending: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    desired_given: bool = False  # the desired value came from --desired, not from the peak demand × headroom
    pending_error: str | None = None  # why the open requests could not be listed (then ``pending_requests`` is null)

    def to_json(self) -> dict[str, Any]:
        d, src = self.stats, self.history_source
        est = "estimate: served + throttled requests × average quota tokens per request (CloudWatch counts a " \
              "throttled call, not its tokens)"
        figures = {
            "steady_tpm": Figure(d.steady_tpm, src, "P50 of quota-counted TPM over the minutes with traffic"),
            "p90_tpm": Figure(d.p90_tpm, src, "P90 of quota-counted TPM over the minutes with traffic"),
            "peak_tpm": Figure(d.peak_tpm, src, "the highest minute of quota-counted TPM"),
            "steady_rpm": Figure(d.steady_rpm, src, "P50 of Invocations per minute over the minutes with traffic"),
            "peak_rpm": Figure(d.peak_rpm, src, "the highest minute of Invocations"),
            "avg_input_tokens_per_request": Figure(d.avg_input_tokens, src, NOT_SPLIT if d.avg_input_tokens is None
                                                   else "(InputTokenCount + CacheWriteInputTokenCount) / Invocations"),
            "avg_output_tokens_per_request": Figure(d.avg_output_tokens, src, NOT_SPLIT if d.avg_output_tokens is None
                                                    else "OutputTokenCount / Invocations"),
            "quota_tokens_per_request": Figure(d.tokens_per_request, src, "quota-counted tokens / Invocations"),
            "peak_throttles_per_minute": Figure(d.peak_throttles_per_min, src, "InvocationThrottles"),
            "throttles": Figure(d.throttles, src, "InvocationThrottles in the window"),
            "peak_demand_tpm": Figure(d.peak_demand_tpm, src, est),
            "peak_demand_rpm": Figure(d.peak_demand_rpm, src, "estimate: Invocations + InvocationThrottles"),
        }
        b = self.binding
        return {
            "model_id": self.model_id, "identifier": self.identifier, "route": self.route, "region": self.region,
            "account": self.account, "profile": self.profile,
            "window": {"start": self.window[0], "end": self.window[1], "minutes": d.minutes,
                       "active_minutes": d.active_minutes, "source": src},
            "burndown": self.burndown.to_json(),
            "quota_counted_tpm": "input + cache write + output × burndown" + (
                "; Reserved traffic left out (it draws on the reservation)" if d.reserved_left_out else ""),
            "figures": {k: v.to_json() for k, v in figures.items()},
            "binding_quota": None if b is None else {
                "name": b.name, "code": self.binding_code, "kind": b.spec.kind.value, "measure": b.spec.measure.value,
                "value": b.spec.value, "peak_use": b.used, "peak_fraction": b.fraction,
                "adjustable": self.binding_adjustable, "source": self.quota_source},
            "desired_value": self.desired_value,
            **({"desired_source": "--desired"} if self.desired_given else
               {"desired_source": "peak demand × headroom", "headroom": self.headroom}),
            "justification": list(self.justification),
            "pending_requests": None if self.pending_error else [_plain(p) for p in self.pending],
            **({"pending_requests_error": self.pending_error} if self.pending_error else {}),
        }

    def to_markdown(self) -> str:
        doc = self.to_json()
        d = self.stats
        lines = [f"# Service Quotas increase request: {self.model_id}", "",
                 f"- Account: {self.account or 'unknown'} · Region: {self.region} · profile {self.profile}",
                 f"- Route: {self.route} ({self.identifier})",
                 f"- History: {self.window[0]} → {self.window[1]} UTC, {d.minutes:,} minutes "
                 f"({d.active_minutes:,} with traffic); source: {self.history_source}",
                 f"- Burndown: {self.burndown.value:g}× output tokens (source: {self.burndown.source})",
                 f"- Quota-counted TPM: {doc['quota_counted_tpm']}", "",
                 "## Demand", "", "| figure | value | source |", "|---|---:|---|"]
        for key, fig in doc["figures"].items():
            value = fig["value"]
            shown = "—" if value is None else f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() \
                else f"{value:,.1f}"
            lines.append(f"| {key.replace('_', ' ')} | {shown} | {fig['source']}: {fig.get('note', '')} |")
        lines += ["", "## The quota that binds", ""]
        b = doc["binding_quota"]
        if b is None:
            lines.append("No minute quota of this route is listed by Service Quotas: nothing to request.")
        else:
            fraction = "—" if b["peak_fraction"] is None else f"{b['peak_fraction'] * 100:.0f}%"
            code = b["code"] or "code not recorded"
            lines += [f"- {b['name']} ({code}): value {b['value']:,.0f}, peak use {b['peak_use']:,.0f} "
                      f"({fraction}); source: {b['source']}",
                      f"- Adjustable: {'yes' if b['adjustable'] else 'no' if b['adjustable'] is False else 'unknown'}",
                      f"- Desired value: {self.desired_value:,} (given with --desired)" if self.desired_given and
                      self.desired_value is not None else
                      f"- Desired value: {self.desired_value:,} (peak demand × {self.headroom:g} headroom, "
                      "rounded up to 3 significant figures)" if self.desired_value is not None else
                      "- Desired value: none (the quota covers the peak demand with headroom)"]
        lines += ["", "## Justification", ""] + [f"- {j}" for j in self.justification]
        if self.pending_error:
            lines += ["", "## Requests already filed", "", f"Could not be listed: {self.pending_error}"]
        elif self.pending:
            lines += ["", "## Requests already filed", ""] + [
                f"- {p.get('Id')}: {p.get('QuotaName')} → {p.get('DesiredValue'):,.0f} ({p.get('Status')})"
                for p in self.pending]
        return "\n".join(lines) + "\n"


def _justification(req_model: str, d: Demand, b: QuotaUse | None, desired: int | None, burndown: float,
                   region: str, route: str) -> tuple[str, ...]:
    out = [f"{req_model} in {region} ({route}) served a steady {d.steady_tpm:,.0f} quota-counted tokens per minute "
           f"(P50 of {d.active_minutes:,} minutes with traffic) and {d.peak_tpm:,.0f} at peak, "
           f"{d.steady_rpm:,.0f} requests per minute steady and {d.peak_rpm:,.0f} at peak.",
           f"An average request has {d.avg_input_tokens:,.0f} input and {d.avg_output_tokens:,.0f} output tokens; "
           f"output counts {burndown:g}× against the quota." if d.avg_input_tokens is not None and
           d.avg_output_tokens is not None else f"An average request counts {d.tokens_per_request:,.0f} tokens "
           f"against the quota (output {burndown:g}×)."]
    if d.throttles:
        out.append(f"{d.throttles:,.0f} requests were throttled in the window (up to {d.peak_throttles_per_min:,.0f} "
                   f"a minute); with them the peak demand is an estimated {d.peak_demand_tpm:,.0f} tokens per minute.")
    if b is not None and desired is None:
        out.append(f"The binding quota, {b.name} at {b.spec.value:,}, already covers the peak demand with headroom: "
                   "there is nothing to request.")
    if b is not None and desired is not None:
        out.append(f"The binding quota is {quota_label(b.spec)} ({b.name}) at {b.spec.value:,}: its peak use reached "
                   f"{(b.fraction or 0) * 100:.0f}%. We ask for {desired:,}.")
    return tuple(out)


def build_request(frame: pd.DataFrame | Demand, *, identifier: str, region: str, account: str | None, profile: str,
                  window: tuple[str, str], specs: Sequence[QuotaSpec], codes: dict[str, str],
                  adjustable: dict[str, bool], quota_source: str, headroom: float = DEFAULT_HEADROOM,
                  desired: int | None = None, pending: Iterable[dict[str, Any]] = (),
                  min_minutes: int = MIN_TRAFFIC_MINUTES, history_source: str = HISTORY_SOURCE
                  ) -> QuotaIncreaseRequest:
    """The request for ``identifier``'s route, from a CloudWatch history frame or an already computed
    :class:`Demand` (a recording's). ``specs``: the quotas known (any); ``codes``/``adjustable`` by quota name as
    Service Quotas lists them (a quota not listed has no code: none is made up). Raises :class:`TooLittleHistory`."""
    model_id, kind = route_of(identifier)
    rate = documented_burndown(model_id)
    d = frame if isinstance(frame, Demand) else demand(frame, rate, min_minutes)
    minute = [s for s in specs if s.model_id == model_id and s.kind is kind and not s.daily]
    uses = [QuotaUse(s, _peak_use(d, s.measure)[0], "history") for s in minute]
    b = binding(uses)
    if b is None and minute:
        b = uses[0]
    value = desired
    if b is not None and desired is not None and desired <= b.spec.value:
        raise DesiredNotAbove(f"--desired {desired:,} is not above {b.name}'s value, {b.spec.value:,.0f}: a "
                              "quota-increase request asks for more")
    peak_demand = _peak_use(d, b.spec.measure)[1] if b is not None else None
    if b is not None and value is None and peak_demand is not None:
        value = significant(peak_demand * headroom)
        if value <= b.spec.value:  # the quota already covers the peak demand with headroom: nothing to ask
            value = None
    route = ROUTE_LABEL[kind.value]
    return QuotaIncreaseRequest(
        model_id=model_id, identifier=identifier, route=route, region=region, account=account, profile=profile,
        window=window, history_source=history_source, burndown=Figure(rate, BURNDOWN_SOURCE), stats=d, binding=b,
        binding_code=None if b is None else codes.get(b.name),
        binding_adjustable=None if b is None else adjustable.get(b.name),
        desired_value=value if b is not None else None, headroom=headroom, quota_source=quota_source,
        justification=_justification(model_id, d, b, value, rate, region, route), pending=tuple(pending),
        desired_given=desired is not None)


def recorded_minutes(usage: Iterable[Any], model_id: str, route: str) -> tuple[list[tuple[float, float, float]],
                                                                            list[QuotaSpec], tuple[float, float]]:
    """From a recording's ``UsageMinute`` rows (every frame's): each minute of the model's route once
    ``(quota TPM, invocations, throttles)``, the TPM and RPM quotas as recorded (value and name), and the window.
    Minutes the recording has no row for count as quiet (CloudWatch publishes nothing for a quiet minute)."""
    by_minute: dict[float, Any] = {}
    for m in usage:
        if m.model_id == model_id and m.route == route:
            by_minute[m.time] = m
    if not by_minute:
        return [], [], (0.0, 0.0)
    first, last = min(by_minute), max(by_minute)
    rows = []
    for t in np.arange(first, last + 60, 60):
        m = by_minute.get(float(t))
        rows.append((0.0, 0.0, 0.0) if m is None else (float(sum(m.tpm_by_tier.values())), float(m.rpm),
                                                        float(sum(m.throttles_by_tier.values()))))
    latest = by_minute[last]
    kind = {"on-demand": QuotaKind.ON_DEMAND, "cross-region": QuotaKind.CROSS_REGION, "global": QuotaKind.GLOBAL}[route]
    specs = [QuotaSpec(kind, measure, 60, int(value), name, model_id)
             for measure, value, name in ((Measure.TOKENS, latest.tpm_quota, latest.quota_name),
                                          (Measure.REQUESTS, latest.rpm_quota, latest.rpm_quota_name))
             if value and name]
    return rows, specs, (first, last + 60)


def _plain(request: dict[str, Any]) -> dict[str, Any]:
    """An open request as Service Quotas lists it, its times (datetimes from the SDK) as ISO 8601 text."""
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in request.items()}
