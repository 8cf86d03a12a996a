"""CloudWatch metrics for the sandbox: every request outcome, published as Bedrock publishes it.

A :class:`MetricsPublisher` subscribes to the sandbox's :class:`~.outcomes.OutcomeLog`, sums
outcomes per sandbox-second and writes the sums into moto's CloudWatch backend in-process
(the same backend the sandbox endpoint serves ``GetMetricData`` and ``ListMetrics`` from).

Namespace ``AWS/Bedrock``. Every datapoint is a 1-second ``StatisticValues`` aggregate
(Sum, SampleCount, Minimum, Maximum; ``StorageResolution`` 1) stamped with the start of the
sandbox-clock second the outcome completed in, so ``Period`` 1 shows live movement and
``Period`` 60 sums are exact.

=========================== ============ ===================================================
metric                      unit         one sample per ...
=========================== ============ ===================================================
Invocations                 Count        successful request (value 1)
InvocationLatency           Milliseconds successful request: latency in ms
InvocationThrottles         Count        ``ThrottlingException`` (value 1; not an Invocation)
InvocationClientErrors      Count        other 4xx, incl. a stream the client closed (499)
InvocationServerErrors      Count        5xx (e.g. ``ServiceUnavailableException``)
InputTokenCount             Count        served request: input tokens (when > 0)
OutputTokenCount            Count        served request: output tokens (when > 0)
CacheReadInputTokenCount    Count        served request: cache-read tokens (when > 0)
CacheWriteInputTokenCount   Count        served request: cache-write tokens (when > 0)
TimeToFirstToken            Milliseconds served streaming request: time to first token
EstimatedTPMQuotaUsage      Count        served request: tokens counted against the quota,
                                         burndown included (``Outcome.quota_tokens``)
=========================== ============ ===================================================

These are the metrics AWS documents for ``AWS/Bedrock``; the sandbox publishes nothing else there.
What no AWS metric tells goes to the sandbox's own namespace ``TierConsole/Sandbox``
(:data:`SANDBOX_NAMESPACE`, dimension ``{ModelId}`` only), so nothing invented can pass for an
AWS figure. The console reads it only when it watches a sandbox, and labels what it shows from it:

================================ ===== ==============================================================
metric                           unit  one sample per overflowed ``reserved`` request (served from
                                       the on-demand pool as Standard)
================================ ===== ==============================================================
ReservedOverflowInvocations      Count value 1
ReservedOverflowInputTokenCount  Count input + cache-write tokens (what reserved input TPM counts)
ReservedOverflowOutputTokenCount Count output tokens
================================ ===== ==============================================================

Batch records (``source == "batch"``) are left out: the batch module publishes them to
``AWS/Bedrock/Batch``. "Served" means the request was admitted (it has a served tier), whatever its final status:
the tokens of a stream the client closed were charged, so they are counted.

Dimensions. Every metric is published twice, as ``{ModelId}`` (the model total, as
Bedrock has it) and as ``{ModelId, ServiceTier}`` (sandbox extension; the per-tier split is
unconfirmed for real Bedrock, so discover it with ``ListMetrics``). ``ServiceTier`` is the
wire value of the tier that served the request (``reserved``, ``priority``, ``default``,
``flex``; an overflowed reserved request carries the reported tier, ``default`` unless the
profile says otherwise); for a request that was not served (throttle, error) it is the tier
asked for, ``default`` when none was asked. The one exception to "model total = sum over
tiers" is ``EstimatedTPMQuotaUsage``: its ``{ModelId}`` series counts only what drew on the
on-demand TPM quota (requests served by a reservation are left out, overflow is in), so it
compares directly with the model's TPM quota; its ``{ModelId, ServiceTier=reserved}`` series
carries what reserved requests drew from the reservation.

Only non-zero aggregates are written: a quiet model adds no datapoints. Pending sums are
flushed once per real second by a background task (started with the first outcome) and when
the sandbox stops. Datapoints older than ``retention_s`` of sandbox time (default 3 hours,
what CloudWatch keeps at 1-second resolution) are pruned, because moto keeps every datapoint
in one list.

moto's own ``GetMetricData`` rescans every stored datapoint for every query *and every
period* (hours for 200 queries over an hour of traffic) and its ``ListMetrics`` does not
de-duplicate series with two dimensions (and ``GetMetricStatistics`` sums every series that
*contains* the dimensions asked for), so :class:`SeriesIndex` replaces the three on the
sandbox's backend instance with an index from series to time-sorted datapoints, answering
with CloudWatch's semantics (exact dimension set, any order). Metric math runs through moto's
expression parser as before (moto evaluates a bare query id only); Metrics Insights
(``SELECT``) queries fall back to moto. Percentile statistics are not available (the data are
pre-aggregated, as ``StatisticValues`` data are in CloudWatch).
"""
from __future__ import annotations

import asyncio
import bisect
import math
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ..domain.metricsplan import BATCH_NAMESPACE, SANDBOX_NAMESPACE
from .outcomes import Outcome

if TYPE_CHECKING:  # pragma: no cover
    from .app import Sandbox
    from .clock import SandboxClock

NAMESPACE = "AWS/Bedrock"
DEFAULT_RETENTION_S = 3 * 3600.0
FLUSH_EVERY_S = 1.0  # real seconds
PRUNE_EVERY_S = 30.0  # real seconds

UNITS = {
    "Invocations": "Count", "InvocationLatency": "Milliseconds", "InvocationThrottles": "Count",
    "InvocationClientErrors": "Count", "InvocationServerErrors": "Count", "InputTokenCount": "Count",
    "OutputTokenCount": "Count", "CacheReadInputTokenCount": "Count", "CacheWriteInputTokenCount": "Count",
    "TimeToFirstToken": "Milliseconds", "EstimatedTPMQuotaUsage": "Count",
}
METRICS = tuple(UNITS)  # AWS/Bedrock: exactly the documented metrics
SANDBOX_UNITS = {"ReservedOverflowInvocations": "Count", "ReservedOverflowInputTokenCount": "Count",
                 "ReservedOverflowOutputTokenCount": "Count"}
SANDBOX_METRICS = tuple(SANDBOX_UNITS)

Dims = tuple[tuple[str, str], ...]


def _utc(epoch_second: int) -> datetime:
    """moto stores timestamps as naive UTC datetimes."""
    return datetime.fromtimestamp(epoch_second, timezone.utc).replace(tzinfo=None)


class _Agg:
    __slots__ = ("sum", "count", "min", "max")

    def __init__(self) -> None:
        self.sum = 0.0
        self.count = 0
        self.min = math.inf
        self.max = -math.inf

    def add(self, value: float) -> None:
        self.sum += value
        self.count += 1
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value


class MetricsPublisher:
    """Outcomes in, 1-second CloudWatch aggregates out (see the module docstring)."""

    def __init__(self, backend, clock: "SandboxClock", *, namespace: str = NAMESPACE,
                 retention_s: float = DEFAULT_RETENTION_S):
        self.backend = backend
        self.clock = clock
        self.namespace = namespace
        self.retention_s = retention_s
        self.sandbox_namespace = SANDBOX_NAMESPACE
        self._pending: dict[tuple[int, str, str, Dims], _Agg] = {}
        self._task: asyncio.Task | None = None
        self._start_task = None  # callable(coro) -> Task; set by install()
        self._last_prune = time.monotonic()
        self.published = 0  # datapoints written so far (for tests and the status line)

    # ------------------------------------------------------------------ aggregation
    def observe(self, o: Outcome) -> None:
        """OutcomeLog listener: add one outcome to its second's sums (batch records are not runtime calls)."""
        if o.source == "batch":
            return
        sec = math.floor(o.time)
        served = o.served_tier is not None
        model: Dims = (("ModelId", o.model_id),)
        tier: Dims = model + (("ServiceTier", o.served_tier if served else (o.asked_tier or "default")),)
        both = (model, tier)

        def add(name: str, value: float, dims: tuple[Dims, ...] = both, namespace: str = self.namespace) -> None:
            for d in dims:
                key = (sec, namespace, name, d)
                agg = self._pending.get(key)
                if agg is None:
                    agg = self._pending[key] = _Agg()
                agg.add(value)

        if o.error == "ThrottlingException":
            add("InvocationThrottles", 1)
        elif o.status >= 500:
            add("InvocationServerErrors", 1)
        elif o.error is not None or o.status >= 400:
            add("InvocationClientErrors", 1)
        else:
            add("Invocations", 1)
            add("InvocationLatency", o.latency_ms)
        if served:
            for name, value in (("InputTokenCount", o.input_tokens), ("OutputTokenCount", o.output_tokens),
                                ("CacheReadInputTokenCount", o.cache_read_tokens),
                                ("CacheWriteInputTokenCount", o.cache_write_tokens)):
                if value > 0:
                    add(name, value)
            if o.ttft_ms is not None:
                add("TimeToFirstToken", o.ttft_ms)
            if o.quota_tokens > 0:
                on_demand = o.overflowed or o.served_tier != "reserved"
                add("EstimatedTPMQuotaUsage", o.quota_tokens, both if on_demand else (tier,))
            if o.overflowed:  # no AWS metric counts overflow: the sandbox's own namespace
                own = self.sandbox_namespace
                add("ReservedOverflowInvocations", 1, (model,), own)
                if o.input_tokens + o.cache_write_tokens > 0:
                    add("ReservedOverflowInputTokenCount", o.input_tokens + o.cache_write_tokens, (model,), own)
                if o.output_tokens > 0:
                    add("ReservedOverflowOutputTokenCount", o.output_tokens, (model,), own)
        self._ensure_task()

    # ------------------------------------------------------------------ publishing
    def flush(self) -> int:
        """Write every pending aggregate to the backend. Returns the number of datapoints."""
        pending, self._pending = self._pending, {}
        by_namespace: dict[str, list[dict]] = {}
        for (sec, namespace, name, dims), a in sorted(pending.items()):
            if a.count and (a.sum or a.max):
                by_namespace.setdefault(namespace, []).append({
                    "MetricName": name, "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
                    "Timestamp": _utc(sec), "Unit": UNITS.get(name) or SANDBOX_UNITS[name], "StorageResolution": 1,
                    "StatisticValues": {"Sum": a.sum, "SampleCount": float(a.count), "Minimum": a.min,
                                        "Maximum": a.max}})
        for namespace, data in by_namespace.items():
            self.backend.put_metric_data(namespace, data)
            self.published += len(data)
        n = sum(map(len, by_namespace.values()))
        if time.monotonic() - self._last_prune >= PRUNE_EVERY_S:
            self.prune()
        return n

    @property
    def namespaces(self) -> tuple[str, ...]:
        """What this publisher prunes and purges: its namespaces, and the batch runner's (which only appends)."""
        return self.namespace, self.sandbox_namespace, BATCH_NAMESPACE

    def prune(self, now: float | None = None) -> int:
        """Drop this publisher's datapoints older than the retention horizon. Returns how many."""
        self._last_prune = time.monotonic()
        cutoff = _utc(math.floor((self.clock.now() if now is None else now) - self.retention_s))
        mine = self.namespaces
        return _remove(self.backend, lambda md: md.namespace in mine and md.timestamp < cutoff)

    def purge(self) -> None:
        """Forget this publisher's datapoints (a new sandbox is a fresh region)."""
        mine = self.namespaces
        _remove(self.backend, lambda md: md.namespace in mine)

    async def run(self) -> None:
        """Flush once per real second, for the sandbox's lifetime."""
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            self.flush()

    def _ensure_task(self) -> None:
        if self._start_task is None or (self._task is not None and not self._task.done()):
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # recorded outside a loop (unit tests): flush() by hand
            return
        self._task = self._start_task(self.run())


def _remove(backend, doomed) -> int:
    """Remove datapoints from a backend's list, keeping its :class:`SeriesIndex` (if any) in step."""
    index = getattr(backend, "sandbox_series_index", None)
    if index is not None:
        return index.remove(doomed)
    data = backend.metric_data
    n = len(data)  # clients may append meanwhile (moto's worker threads): those stay
    kept = [md for md in data[:n] if not doomed(md)]
    if len(kept) != n:
        data[:n] = kept
    return n - len(kept)


# ---------------------------------------------------------------------- queries

def _series_key(namespace: str, name: str, dims) -> tuple:
    return namespace, name, frozenset((d.name, d.value) for d in dims)


class SeriesIndex:
    """Series → time-sorted datapoints over a moto CloudWatch backend's ``metric_data`` list.

    The list stays the store (clients' ``PutMetricData`` appends to it over HTTP); the index
    catches up with appended datapoints on every query. :meth:`remove` prunes list and index
    together; if anything else shrinks the list, the index rebuilds.
    """

    def __init__(self, backend):
        self.backend = backend
        self._lock = threading.Lock()  # queries run on moto's worker threads
        self._series: dict[tuple, _Series] = {}
        self._upto = 0
        self._last = None
        self._moto_get_metric_data = backend.get_metric_data

    def install(self) -> None:
        self.backend.get_metric_data = self.get_metric_data
        self.backend.get_filtered_metrics = self.get_filtered_metrics
        self.backend.get_metric_statistics = self.get_metric_statistics
        self.backend.sandbox_series_index = self

    def _sync(self) -> None:
        data = self.backend.metric_data
        n = len(data)
        if n < self._upto or (self._upto and data[self._upto - 1] is not self._last):
            self._series, self._upto = {}, 0  # the list was pruned or replaced: rebuild
        for md in data[self._upto:n]:
            key = _series_key(md.namespace, md.name, md.dimensions)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = _Series()
            series.add(md)
        self._upto = n
        self._last = data[n - 1] if n else None

    def remove(self, doomed) -> int:
        with self._lock:
            self._sync()
            data, n = self.backend.metric_data, self._upto  # the index covers data[:n] exactly
            kept = [md for md in data[:n] if not doomed(md)]
            if len(kept) != n:
                data[:n] = kept
                for key, series in list(self._series.items()):
                    series.keep(lambda md: not doomed(md))
                    if not series.times:
                        del self._series[key]
                self._upto, self._last = len(kept), (kept[-1] if kept else None)
            return n - len(kept)

    def get_metric_data(self, queries: list[dict[str, Any]], start_time: datetime, end_time: datetime,
                        scan_by: str = "TimestampAscending") -> list[dict[str, Any]]:
        from moto.cloudwatch.exceptions import ValidationError  # noqa: PLC0415
        from moto.cloudwatch.metric_data_expression_parser import parse_expression  # noqa: PLC0415

        if any(q.get("Expression", "").startswith("SELECT") for q in queries):
            return self._moto_get_metric_data(queries, start_time, end_time, scan_by)
        start_time = start_time.replace(microsecond=0)
        end_time = end_time.replace(microsecond=0)
        if start_time >= end_time:
            raise ValidationError("The parameter StartTime must not equal parameter EndTime." if start_time == end_time
                                  else "The parameter EndTime must be greater than StartTime.")
        t0, t1 = _epoch(start_time), _epoch(end_time)
        results, returned = [], []
        with self._lock:
            self._sync()
            for q in queries:
                if "MetricStat" not in q:
                    continue
                ms = q["MetricStat"]
                metric = ms["Metric"]
                values, stamps = self._stat(metric, int(ms["Period"]), ms["Stat"], ms.get("Unit"), t0, t1)
                if scan_by == "TimestampDescending":
                    values.reverse()
                    stamps.reverse()
                result = {"id": q["Id"], "label": q.get("Label") or f"{metric['MetricName']} {ms['Stat']}",
                          "values": values, "timestamps": stamps, "status_code": "Complete"}
                results.append(result)
                if q.get("ReturnData", True):
                    returned.append(result)
        for q in queries:
            if "Expression" in q:
                values, stamps = parse_expression(q["Expression"], results)
                returned.append({"id": q["Id"], "label": q.get("Label") or q["Id"], "values": values,
                                 "timestamps": stamps, "status_code": "Complete"})
        return returned

    def _stat(self, metric: dict, period: int, stat: str, unit: str | None, t0: float, t1: float):
        dims = frozenset((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
        series = self._series.get((metric["Namespace"], metric["MetricName"], dims))
        pick = _PICK.get(stat)
        values: list[float] = []
        stamps: list[datetime] = []
        if series is None or period <= 0 or pick is None:  # pick None: percentiles cannot come from aggregates
            return values, stamps
        times = series.times
        i, end = bisect.bisect_left(times, t0), bisect.bisect_left(times, t1)
        start = _utc(int(t0))
        while i < end:  # one step per non-empty period
            k = int((times[i] - t0) // period)
            j = bisect.bisect_left(times, t0 + (k + 1) * period, i, end)
            v = pick(series, i, j, unit)
            if v is not None:
                values.append(v)
                stamps.append(start + timedelta(seconds=k * period))
            i = j
        return values, stamps

    def get_metric_statistics(self, namespace: str, metric_name: str, start_time: datetime, end_time: datetime,
                              period: int, stats: list[str], dimensions: list[dict[str, str]],
                              unit: str | None = None) -> list:
        """GetMetricStatistics over the exact series, periods aligned on StartTime (moto matches any superset
        of the dimensions, which would add the per-tier series to the model total)."""
        from moto.cloudwatch.exceptions import InvalidParameterValue  # noqa: PLC0415
        from moto.cloudwatch.models import Statistics  # noqa: PLC0415

        start_time = start_time.replace(microsecond=0)
        end_time = end_time.replace(microsecond=0)
        if start_time >= end_time:
            raise InvalidParameterValue("The parameter StartTime must be less than the parameter EndTime.")
        t0, t1 = _epoch(start_time), _epoch(end_time)
        dims = frozenset((d["Name"], d["Value"]) for d in dimensions or [])
        out: list = []
        with self._lock:
            self._sync()
            series = self._series.get((namespace, metric_name, dims))
            if series is None or period <= 0:
                return out
            times = series.times
            i, end = bisect.bisect_left(times, t0), bisect.bisect_left(times, t1)
            while i < end:
                k = int((times[i] - t0) // period)
                j = bisect.bisect_left(times, t0 + (k + 1) * period, i, end)
                points = [series.points[n] for n in series.rows(i, j, unit)]
                if points:
                    s = Statistics(stats, start_time + timedelta(seconds=k * period), points[-1].unit)
                    s.metric_data = points
                    out.append(s)
                i = j
        return out

    def get_filtered_metrics(self, metric_name: str | None, namespace: str | None, dimensions) -> list:
        """ListMetrics: one entry per distinct series (moto repeats two-dimension series per datapoint)."""
        wanted = [(d["Name"], d.get("Value")) for d in dimensions or []]
        out = []
        with self._lock:
            self._sync()
            for (ns, name, dims), series in self._series.items():
                if namespace and ns != namespace or metric_name and name != metric_name:
                    continue
                if any(not any(k == n and (v is None or v == val) for n, val in dims) for k, v in wanted):
                    continue
                out.append(series.points[-1])
        return out


class _Series:
    """One series' datapoints sorted by time, with their statistics in parallel lists."""

    __slots__ = ("times", "sums", "counts", "mins", "maxs", "points")

    def __init__(self) -> None:
        self.times: list[float] = []
        self.sums: list[float] = []
        self.counts: list[float] = []
        self.mins: list[float] = []
        self.maxs: list[float] = []
        self.points: list = []

    def add(self, md) -> None:
        ts = _epoch(md.timestamp)
        if hasattr(md, "sample_count"):  # MetricAggregatedDatum (StatisticValues)
            row = (ts, md.sum, md.sample_count, md.min, md.max, md)
        else:
            row = (ts, md.value, 1.0, md.value, md.value, md)
        lists = (self.times, self.sums, self.counts, self.mins, self.maxs, self.points)
        if not self.times or ts >= self.times[-1]:
            for lst, v in zip(lists, row):
                lst.append(v)
        else:
            i = bisect.bisect_right(self.times, ts)
            for lst, v in zip(lists, row):
                lst.insert(i, v)

    def keep(self, pred) -> None:
        rows = [k for k, md in enumerate(self.points) if pred(md)]
        if len(rows) != len(self.points):
            for name in self.__slots__:
                lst = getattr(self, name)
                setattr(self, name, [lst[k] for k in rows])

    def rows(self, i: int, j: int, unit: str | None) -> range | list[int]:
        return range(i, j) if not unit else [k for k in range(i, j) if self.points[k].unit == unit]


def _sum(s: _Series, i: int, j: int, unit: str | None) -> float:
    return sum(s.sums[i:j]) if not unit else sum(s.sums[k] for k in s.rows(i, j, unit))


def _count(s: _Series, i: int, j: int, unit: str | None) -> float:
    return sum(s.counts[i:j]) if not unit else sum(s.counts[k] for k in s.rows(i, j, unit))


def _min(s: _Series, i: int, j: int, unit: str | None) -> float | None:
    return min((s.mins[k] for k in s.rows(i, j, unit)), default=None)


def _max(s: _Series, i: int, j: int, unit: str | None) -> float | None:
    return max((s.maxs[k] for k in s.rows(i, j, unit)), default=None)


def _average(s: _Series, i: int, j: int, unit: str | None) -> float | None:
    n = _count(s, i, j, unit)
    return _sum(s, i, j, unit) / n if n else None


_PICK = {"Sum": _sum, "SampleCount": _count, "Minimum": _min, "Maximum": _max, "Average": _average}


def _epoch(dt: datetime) -> float:
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()


# ---------------------------------------------------------------------- wiring

def install(sandbox: "Sandbox", *, retention_s: float = DEFAULT_RETENTION_S,
            fast_queries: bool = True) -> MetricsPublisher:
    """Publish the sandbox's outcomes to moto's CloudWatch backend for its account and region."""
    from .moto_bridge import cloudwatch_backend  # noqa: PLC0415

    backend = cloudwatch_backend(sandbox.config.account_id, sandbox.config.region)
    if fast_queries and getattr(backend, "sandbox_series_index", None) is None:
        SeriesIndex(backend).install()
    publisher = MetricsPublisher(backend, sandbox.clock, retention_s=retention_s)
    publisher.purge()
    publisher._start_task = sandbox.background
    sandbox.outcomes.subscribe(publisher.observe)
    sandbox.on_close(publisher.flush)
    return publisher
