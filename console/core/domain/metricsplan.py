"""One GetMetricData call per region per refresh: which queries to ask, and what the answers mean.

Pure: builds the query list and turns the returned series into the dashboard's views.

Queries use ``Period`` 60 over the last 16 minutes, aligned to the minute (as CloudWatch aligns
them anyway). The live "per minute" figure of a pane is the trailing sixty seconds, estimated
from the minute in progress plus the unelapsed share of the previous minute
(:func:`trailing_minute`), so it moves every refresh without asking for 1-second data.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from .catalog import ReservationSpec
from .metricforms import (  # the per-tier forms; also this module's names, as before the split
    BARE_MODES as BARE_MODES, CONSOLE_METRICS as CONSOLE_METRICS, DIMENSION as DIMENSION,
    ON_DEMAND_TOTAL as ON_DEMAND_TOTAL, SUFFIX as SUFFIX, SUFFIX_TIERS as SUFFIX_TIERS,
    TIER_FORMS as TIER_FORMS, Discovery as Discovery, MetricsSettings as MetricsSettings,
    discover as discover, parse_metrics_settings as parse_metrics_settings, split_series as split_series,
    tier_series as tier_series,
)
from .routes import model_named_by
from .views import QUOTA_TIERS, BatchJobView, ModelQuotaView, ReservationView, ThrottleEvent

NAMESPACE = "AWS/Bedrock"
#: The sandbox's own metrics: what no AWS metric tells (reservation overflow). Asked only of a sandbox,
#: and every figure from it is labelled as the sandbox's.
SANDBOX_NAMESPACE = "TierConsole/Sandbox"
#: AWS's batch inference metrics: per model (dimension ``modelId``, lower-case m), per minute.
BATCH_NAMESPACE = "AWS/Bedrock/Batch"
BATCH_METRICS = {"NumberOfInputTokensProcessedPerMinute": "bi", "NumberOfOutputTokensProcessedPerMinute": "bo",
                 "NumberOfRecordsPendingProcessing": "bp"}
#: A batch figure older than this is not shown as the model's current throughput.
BATCH_FRESH_MINUTES = 5
PERIOD = 60
HISTORY_MINUTES = 15
MAX_QUERIES = 500  # GetMetricData's limit per call

#: metric name -> short key used in query ids
METRICS = {
    "EstimatedTPMQuotaUsage": "q",
    "Invocations": "n",
    "InvocationThrottles": "t",
    "InputTokenCount": "i",
    "OutputTokenCount": "o",
    "CacheWriteInputTokenCount": "w",
    "ReservedOverflowInvocations": "v",
    "ReservedOverflowInputTokenCount": "vi",
    "ReservedOverflowOutputTokenCount": "vo",
    "InvocationServerErrors": "e",
}
#: metrics asked per (model, tier) when the ServiceTier dimension exists
PER_TIER = ("EstimatedTPMQuotaUsage", "Invocations", "InvocationThrottles")
#: extra metrics asked for the reserved tier of a model with a reservation
RESERVED = ("InputTokenCount", "OutputTokenCount", "CacheWriteInputTokenCount")
#: metrics asked per model (totals); InputTokenCount tells the incident diagnosis a request's input there
PER_MODEL = ("EstimatedTPMQuotaUsage", "Invocations", "InvocationThrottles", "InputTokenCount")
#: asked per model (its total) for `tierconsole watch`'s error storms: 5xx answers, an outage
MODEL_ERRORS = ("InvocationServerErrors",)
#: the sandbox's own overflow series, per model with a reservation, in :data:`SANDBOX_NAMESPACE`
SANDBOX_OVERFLOW = ("ReservedOverflowInputTokenCount", "ReservedOverflowOutputTokenCount",
                    "ReservedOverflowInvocations")


@dataclass(frozen=True)
class Query:
    id: str
    metric: str
    model_id: str
    tier: str | None  # None: the model total
    namespace: str = NAMESPACE
    stat: str = "Sum"
    form: str = DIMENSION  # how a tier's series is named (see :data:`TIER_FORMS`)

    def to_api(self) -> dict[str, Any]:
        model = self.model_id if self.tier is None or self.form != SUFFIX else tier_series(self.model_id, self.tier)
        dims = [{"Name": "modelId" if self.namespace == BATCH_NAMESPACE else "ModelId", "Value": model}]
        if self.tier is not None and self.form != SUFFIX:
            dims.append({"Name": "ServiceTier", "Value": self.tier})
        return {"Id": self.id, "ReturnData": True,
                "MetricStat": {"Metric": {"Namespace": self.namespace, "MetricName": self.metric, "Dimensions": dims},
                               "Period": PERIOD, "Stat": self.stat}}


@dataclass(frozen=True)
class Plan:
    queries: tuple[Query, ...]
    start: float
    end: float
    sandbox: bool = False  # the sandbox's own namespace was asked too
    #: models whose Standard series is not asked but follows from the bare one (suffix form), and how:
    #: ``total`` (Standard = bare − the suffixed tiers) or ``standard`` (Standard = bare; total = the sum)
    derive: Mapping[str, str] = field(default_factory=dict)

    def api_queries(self) -> list[dict[str, Any]]:
        return [q.to_api() for q in self.queries]


def window(now: float, minutes: int = HISTORY_MINUTES) -> tuple[float, float]:
    start = (math.floor(now / PERIOD) - minutes) * PERIOD
    return float(start), float(math.ceil(now))


def plan(models: Sequence[str], tiers_by_model: Mapping[str, Iterable[str]], reserved_models: Iterable[str],
         now: float, minutes: int = HISTORY_MINUTES, *, sandbox: bool = False,
         batch_models: Iterable[str] = (), form: str = DIMENSION, bare: str = "total") -> Plan:
    """The queries for every model, tier and metric the panes show, for one call.

    ``tiers_by_model``: the tiers published per model, in ``form`` (:meth:`Discovery.published`). In the
    suffix form Standard has no series of its own unless ``+default`` was seen: it follows from the bare
    series (``bare``: what that series holds), in :meth:`Answers.from_results`, at no extra query.
    ``sandbox``: the console watches a sandbox, so the sandbox's own overflow series are asked too
    (never of AWS, where that namespace holds nothing of Bedrock's). ``batch_models``: models with
    active batch jobs, whose ``AWS/Bedrock/Batch`` throughput is asked (in the same call)."""
    reserved_models = set(reserved_models)
    queries: list[Query] = []
    derive: dict[str, str] = {}
    for mi, model in enumerate(models):
        for metric in PER_MODEL + MODEL_ERRORS:
            queries.append(Query(f"m{mi}_{METRICS[metric]}", metric, model, None))
        if sandbox and model in reserved_models:
            for metric in SANDBOX_OVERFLOW:
                queries.append(Query(f"m{mi}_{METRICS[metric]}", metric, model, None, SANDBOX_NAMESPACE))
        tiers = sorted(tiers_by_model.get(model, ()))
        if form == SUFFIX and "default" not in tiers:
            derive[model] = bare
        for tier in tiers:
            for metric in PER_TIER:
                queries.append(Query(f"m{mi}_{tier}_{METRICS[metric]}", metric, model, tier, form=form))
            if tier == "reserved" and model in reserved_models:
                for metric in RESERVED:
                    queries.append(Query(f"m{mi}_{tier}_{METRICS[metric]}", metric, model, tier, form=form))
    for bi, model in enumerate(sorted(set(batch_models))):
        for metric, key in BATCH_METRICS.items():
            queries.append(Query(f"b{bi}_{key}", metric, model, None, BATCH_NAMESPACE, "Average"))
    if len(queries) > MAX_QUERIES:
        raise ValueError(f"{len(queries)} metric queries exceed GetMetricData's {MAX_QUERIES}; watch fewer models")
    start, end = window(now, minutes)
    return Plan(tuple(queries), start, end, sandbox, derive)


# ------------------------------------------------------------------ answers

Series = dict[float, float]  # minute start (epoch) -> sum


@dataclass
class Answers:
    """The returned series, by (metric, model, tier)."""

    series: dict[tuple[str, str, str | None], Series] = field(default_factory=dict)
    sandbox: bool = False  # the sandbox's own series were asked for (see :data:`SANDBOX_NAMESPACE`)
    start: float | None = None  # the window asked for (None: not known)
    end: float | None = None

    @classmethod
    def from_results(cls, p: Plan, results: Iterable[Mapping[str, Any]]) -> "Answers":
        by_id = {q.id: q for q in p.queries}
        out = cls(sandbox=p.sandbox, start=p.start, end=p.end)
        for r in results:
            q = by_id.get(str(r.get("Id")))
            if q is None:
                continue
            s: Series = {}
            for ts, val in zip(r.get("Timestamps", []), r.get("Values", [])):
                t = ts.timestamp() if hasattr(ts, "timestamp") else float(ts)
                s[float(math.floor(t / PERIOD) * PERIOD)] = s.get(float(math.floor(t / PERIOD) * PERIOD), 0.0) + float(val)
            out.series[(q.metric, q.model_id, q.tier)] = s
        for model, bare in p.derive.items():
            for metric in PER_TIER:
                out.derive_standard(metric, model, bare)
        return out

    def derive_standard(self, metric: str, model: str, bare: str) -> None:
        """Suffix form: Standard's series from the bare one and the suffixed tiers (per minute, never below 0).
        With ``bare == "standard"`` the bare series is Standard and the model total is the sum of the tiers."""
        tiers = [t for (m, mod, t) in self.series if m == metric and mod == model and t not in (None, "default")]
        if metric in ON_DEMAND_TOTAL:
            tiers = [t for t in tiers if t != "reserved"]
        others: dict[float, float] = {}
        for t in tiers:
            others = _add(others, self.get(metric, model, t))
        base = self.get(metric, model)
        if bare == "standard":
            self.series[(metric, model, "default")] = dict(base)
            self.series[(metric, model, None)] = _add(base, others)
        else:
            minutes = set(base) | set(others)
            self.series[(metric, model, "default")] = {
                k: max(0.0, base.get(k, 0.0) - others.get(k, 0.0)) for k in minutes if base.get(k, 0.0) > others.get(k, 0.0)}

    def get(self, metric: str, model: str, tier: str | None = None) -> Series:
        return self.series.get((metric, model, tier), {})


def trailing_minute(series: Series, now: float) -> float:
    """Estimated sum over the last 60 seconds from per-minute sums.

    The minute in progress counts whole; the previous minute counts for the share of it that is
    still inside the trailing window (assuming it was spread evenly).
    """
    current = math.floor(now / PERIOD) * PERIOD
    elapsed = (now - current) / PERIOD
    return series.get(float(current), 0.0) + series.get(float(current - PERIOD), 0.0) * max(0.0, 1.0 - elapsed)


def measured_minutes(series: Iterable[Series], now: float) -> tuple[float, bool]:
    """(the highest measured one-minute sum of ``series`` added up — the minute in progress so far or the last
    complete one —, whether :func:`trailing_minute` blends the previous minute in, i.e. is an estimate)."""
    current = math.floor(now / PERIOD) * PERIOD
    series = list(series)
    cur = sum(s.get(float(current), 0.0) for s in series)
    prev = sum(s.get(float(current - PERIOD), 0.0) for s in series)
    return max(cur, prev), prev > 0 and now > current


def history(series: Series, now: float, minutes: int = HISTORY_MINUTES) -> tuple[float, ...]:
    """The last ``minutes`` complete minutes, oldest first (zeros where nothing was published)."""
    current = math.floor(now / PERIOD) * PERIOD
    return tuple(series.get(float(current - PERIOD * k), 0.0) for k in range(minutes, 0, -1))


def reservation_views(a: Answers, reservations: Sequence[ReservationSpec], now: float) -> list[ReservationView]:
    out = []
    for r in reservations:
        inp = _add(a.get("InputTokenCount", r.model_id, "reserved"), a.get("CacheWriteInputTokenCount", r.model_id, "reserved"))
        outp = a.get("OutputTokenCount", r.model_id, "reserved")
        overflow_tpm = overflow_rpm = None
        if a.sandbox:  # no AWS metric counts overflow: only the sandbox's own series tell it
            overflow_tpm = trailing_minute(overflow_tokens(a, r.model_id), now)
            overflow_rpm = trailing_minute(a.get("ReservedOverflowInvocations", r.model_id), now)
        out.append(ReservationView(
            reservation_id=r.reservation_id, model_id=r.model_id, region=r.region or "",
            input_tpm_used=trailing_minute(inp, now), input_tpm_reserved=r.input_tpm,
            output_tpm_used=trailing_minute(outp, now), output_tpm_reserved=r.output_tpm,
            overflow_tpm=overflow_tpm, overflow_rpm=overflow_rpm, overflow_source="sandbox" if a.sandbox else "",
            input_history=history(inp, now), output_history=history(outp, now)))
    return out


@dataclass(frozen=True)
class BatchRates:
    """A model's batch throughput as ``AWS/Bedrock/Batch`` last published it (each None when not)."""

    input_tpm: float | None
    output_tpm: float | None
    pending_records: float | None
    minute: float | None = None  # the start of the minute the token figures were published for


def batch_metric_model(model_id: str) -> str:
    """The ``modelId`` dimension value for a job's model: a foundation-model ARN or a system profile id or ARN
    names the model (``us.amazon.nova-lite-v1:0`` → ``amazon.nova-lite-v1:0``; which value AWS publishes a
    profile job under is not documented: the model, as the sandbox does); an application profile's ARN is kept."""
    return model_named_by(model_id)


def batch_rates(a: Answers, model_id: str, now: float, since: float | None = None) -> BatchRates:
    """The newest minute of each batch metric of the model within :data:`BATCH_FRESH_MINUTES`, and not
    before ``since`` (the first minute that can be the job's own: :func:`job_minutes_from`)."""
    first: float = (math.floor(now / PERIOD) - BATCH_FRESH_MINUTES) * PERIOD
    if since is not None:
        first = max(first, since)
    model = batch_metric_model(model_id)

    def newest(metric: str) -> float | None:
        return max((t for t in a.get(metric, model) if t >= first), default=None)

    minutes = {metric: newest(metric) for metric in BATCH_METRICS}
    values = [None if t is None else a.get(metric, model)[t] for metric, t in minutes.items()]
    token_minutes = [t for metric, t in minutes.items() if t is not None and "Tokens" in metric]
    input_tpm, output_tpm, pending = values  # in the order of BATCH_METRICS
    return BatchRates(input_tpm, output_tpm, pending, minute=max(token_minutes, default=None))


def job_minutes_from(job: BatchJobView, jobs: Iterable[BatchJobView]) -> float:
    """The first minute whose ``AWS/Bedrock/Batch`` figures can be ``job``'s: AWS publishes them per model,
    so not before the minute the job was submitted, and only after the minute in which another job of
    its model ended since then (that minute's tokens are, at least partly, the other job's)."""
    start = math.floor(job.submit_time / PERIOD) * PERIOD
    model = batch_metric_model(job.model_id)
    ends = [math.floor(other.end_time / PERIOD) * PERIOD + PERIOD for other in jobs
            if other.job_arn != job.job_arn and other.end_time is not None and other.end_time >= start
            and batch_metric_model(other.model_id) == model]
    return float(max([start, *ends]))


def overflow_tokens(a: Answers, model: str) -> Series:
    """Per minute, the tokens (input + cache write + output) of reserved requests that overflowed to
    Standard: the sandbox's own series (empty unless ``a.sandbox``)."""
    return _add(a.get("ReservedOverflowInputTokenCount", model), a.get("ReservedOverflowOutputTokenCount", model))


def quota_views(a: Answers, models: Sequence[str], names: Mapping[str, str], tpm_quota: Mapping[str, float],
                rpm_quota: Mapping[str, float], tiers_by_model: Mapping[str, Iterable[str]], now: float,
                holds: Mapping[str, float] | None = None) -> list[ModelQuotaView]:
    out = []
    for model in models:
        tiers = set(tiers_by_model.get(model, ()))
        if tiers & set(QUOTA_TIERS):
            used = [a.get("EstimatedTPMQuotaUsage", model, t) for t in QUOTA_TIERS]
            by_tier = {t: trailing_minute(s, now) for t, s in zip(QUOTA_TIERS, used)}
            rpm = sum(trailing_minute(a.get("Invocations", model, t), now) for t in QUOTA_TIERS)
        else:  # no per-tier split published: the model total, shown as Standard
            used = [a.get("EstimatedTPMQuotaUsage", model)]
            by_tier = {"default": trailing_minute(used[0], now)}
            rpm = trailing_minute(a.get("Invocations", model), now)
        peak, estimated = measured_minutes(used, now)
        out.append(ModelQuotaView(model_id=model, name=names.get(model, model), tpm_quota=tpm_quota.get(model, 0.0),
                                  rpm_quota=rpm_quota.get(model, 0.0), tpm_by_tier=by_tier, rpm_used=rpm,
                                  hold_tokens=(holds or {}).get(model), tpm_peak_minute=peak,
                                  tpm_estimated=estimated))
    return out


def throttle_events(a: Answers, models: Sequence[str], tiers_by_model: Mapping[str, Iterable[str]],
                    labels: Mapping[str, str] | None = None) -> list[ThrottleEvent]:
    """One event per (minute, model, tier) with throttles; newest first. ``labels``: how the console names a series
    that is not a model's (an application profile's ARN: ``etl (3zcjidm03iv5)``)."""
    events = []
    for model in models:
        tiers = sorted(tiers_by_model.get(model, ()))
        sources = [(t, a.get("InvocationThrottles", model, t)) for t in tiers] or [("", a.get("InvocationThrottles", model))]
        for tier, series in sources:
            for minute, count in series.items():
                if count > 0:
                    events.append(ThrottleEvent(time=minute, model_id=model, tier=tier, count=int(round(count)),
                                                error="ThrottlingException",
                                                message=f"{int(round(count))} throttled in the minute (CloudWatch)",
                                                source="cloudwatch", label=(labels or {}).get(model, "")))
    events.sort(key=lambda e: e.time, reverse=True)
    return events


def throttle_counts(a: Answers, models: Sequence[str], tiers_by_model: Mapping[str, Iterable[str]], now: float,
                    minutes: int) -> dict[str, dict[str, int]]:
    """Throttles per model and tier over the last ``minutes`` (the minute in progress included)."""
    current = math.floor(now / PERIOD) * PERIOD
    since = current - PERIOD * (minutes - 1)
    out: dict[str, dict[str, int]] = {}
    for model in models:
        tiers: list[str | None] = [*sorted(tiers_by_model.get(model, ()))] or [None]
        per = {}
        for tier in tiers:
            s = a.get("InvocationThrottles", model, tier)
            per[tier or "all"] = int(round(sum(v for t, v in s.items() if t >= since)))
        out[model] = per
    return out


def throttle_rates(a: Answers, models: Sequence[str], tiers_by_model: Mapping[str, Iterable[str]],
                   now: float) -> dict[str, tuple[float, ...]]:
    """Per tier, throttles per minute over the last 15 minutes (plus the minute in progress)."""
    rates: dict[str, list[float]] = {}
    current = math.floor(now / PERIOD) * PERIOD
    minutes = [float(current - PERIOD * k) for k in range(HISTORY_MINUTES, -1, -1)]
    for model in models:
        for tier in tiers_by_model.get(model, ()):
            s = a.get("InvocationThrottles", model, tier)
            acc = rates.setdefault(tier, [0.0] * len(minutes))
            for i, m in enumerate(minutes):
                acc[i] += s.get(m, 0.0)
    return {t: tuple(v) for t, v in rates.items()}


def _add(a: Series, b: Series) -> Series:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0.0) + v
    return out
