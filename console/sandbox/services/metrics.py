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

Series. ``ModelId`` is the series of the call's route: the ModelId value it was made with (a model id; a
foundation-model ARN is published under its model id; a system profile id or ARN under the profile id; an
application profile under its ARN), or the model it ran on with ``metrics.profile_model_id: model``
(which one AWS uses is unconfirmed). Per tier, in the form ``metrics.tier_form`` of the sandbox config says:

* ``suffix`` (default; AWS's service-tiers page: metrics "under 'model-id+priority' and 'model-id+flex'"):
  ``{ModelId=<series>+priority}``, ``{ModelId=<series>+flex}`` and, with ``metrics.reserved_suffix`` (default
  on; unconfirmed for AWS), ``{ModelId=<series>+reserved}``. Standard has no suffix: it is in the bare
  ``{ModelId=<series>}`` series, which is the model total (``metrics.bare_model_id: total``, default) or
  Standard only (``standard``; both unconfirmed for AWS).
* ``dimension``: ``{ModelId=<series>, ServiceTier=<tier>}`` beside the bare total (the earlier sandbox form;
  not documented by AWS).

The tier is the wire value of the tier that served the request (``reserved``, ``priority``, ``default``,
``flex``; an overflowed reserved request carries the reported tier, ``default`` unless the profile says
otherwise); for a request that was not served (throttle, error) it is the tier asked for, ``default`` when
none was asked. The one exception to "model total = sum over tiers" is ``EstimatedTPMQuotaUsage``: its
total series counts only what drew on the on-demand TPM quota (requests served by a reservation are left
out, overflow is in), so it compares directly with the model's TPM quota; its ``reserved`` series carries
what reserved requests drew from the reservation. The console discovers the form with one ``ListMetrics``
(:func:`tierconsole.core.domain.metricsplan.discover`) and reads either.

Regions. A sandbox (or a cell of one, :mod:`..cells`) serves one account in one region, and publishes into that
account's CloudWatch in that region: a call's datapoints are in the region it was made in (its SigV4 scope's, as
AWS publishes them), so a ``GetMetricData``/``ListMetrics`` signed for region R sees exactly the calls made in R;
the sandbox's own traffic (scenarios) is its home region's (``sandbox.region``).

Only non-zero aggregates are written: a quiet model adds no datapoints. Pending sums are
flushed once per real second by a background task (started with the first outcome) and when
the sandbox stops. Datapoints older than ``retention_s`` of sandbox time (default 3 hours,
what CloudWatch keeps at 1-second resolution) are pruned, because moto keeps every datapoint
in one list.

The queries the console makes are answered by :class:`~.metrics_index.SeriesIndex` (see there).
"""
from __future__ import annotations

import asyncio
import math
import time
from typing import TYPE_CHECKING

from ...core.domain.metricsplan import BATCH_NAMESPACE, DIMENSION, SANDBOX_NAMESPACE, MetricsSettings, tier_series
from ..outcomes import Outcome
from .metrics_index import SeriesIndex, _utc

if TYPE_CHECKING:  # pragma: no cover
    from ..host import SandboxHost
    from ..clock import SandboxClock

NAMESPACE = "AWS/Bedrock"
DEFAULT_RETENTION_S = 3 * 3600.0
FLUSH_EVERY_S = 1.0  # real seconds
PRUNE_EVERY_S = 30.0  # real seconds
# ... or sooner, once this much sandbox time has passed: a sped-up sandbox otherwise piles up (and frees at
# once) PRUNE_EVERY_S x speed seconds of datapoints, and the allocator keeps the high-water mark.
PRUNE_EVERY_SANDBOX_S = 600.0

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
                 retention_s: float = DEFAULT_RETENTION_S, naming: MetricsSettings | None = None):
        self.backend = backend  # the sandbox's account's CloudWatch in its region
        self.naming = naming if naming is not None else MetricsSettings()
        self.clock = clock
        self.namespace = namespace
        self.retention_s = retention_s
        self.sandbox_namespace = SANDBOX_NAMESPACE
        self._pending: dict[tuple[int, str, str, Dims], _Agg] = {}  # (second, namespace, name, dims)
        self._task: asyncio.Task | None = None
        self._start_task = None  # callable(coro) -> Task; set by install()
        self._last_prune = time.monotonic()
        self._last_prune_at = clock.now()
        self.published = 0  # datapoints written so far (for tests and the status line)

    # ------------------------------------------------------------------ aggregation
    def observe(self, o: Outcome) -> None:
        """OutcomeLog listener: add one outcome to its second's sums (batch records are not runtime calls)."""
        if o.source == "batch":
            return
        sec = math.floor(o.time)
        served = o.served_tier is not None
        model: Dims = (("ModelId", o.model_id),)  # the sandbox's own namespace: per model (as reservations are)
        total, tier = self.series(o)
        both = tuple(d for d in (total, tier) if d)
        tier_only = (tier,) if tier else ()

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
                add("EstimatedTPMQuotaUsage", o.quota_tokens, both if on_demand else tier_only)
            if o.overflowed:  # no AWS metric counts overflow: the sandbox's own namespace
                own = self.sandbox_namespace
                add("ReservedOverflowInvocations", 1, (model,), own)
                if o.input_tokens + o.cache_write_tokens > 0:
                    add("ReservedOverflowInputTokenCount", o.input_tokens + o.cache_write_tokens, (model,), own)
                if o.output_tokens > 0:
                    add("ReservedOverflowOutputTokenCount", o.output_tokens, (model,), own)
        self._ensure_task()

    def series(self, o: Outcome) -> tuple[Dims | None, Dims | None]:
        """The (model total, tier) dimensions an outcome is published under in ``AWS/Bedrock`` (either None
        when the form publishes none: Standard has no suffixed series; ``+reserved`` is a setting)."""
        naming = self.naming
        series = o.route.series if o.route is not None and naming.profile_model_id == "profile" else o.model_id
        tier = o.served_tier if o.served_tier is not None else (o.asked_tier or "default")
        bare: Dims = (("ModelId", series),)
        if naming.tier_form == DIMENSION:
            return bare, bare + (("ServiceTier", tier),)
        suffixed = tier != "default" and (tier != "reserved" or naming.reserved_suffix)
        total = bare if naming.bare_model_id == "total" or tier == "default" else None
        return total, ((("ModelId", tier_series(series, tier)),) if suffixed else None)

    # ------------------------------------------------------------------ publishing
    def flush(self) -> int:
        """Write every pending aggregate to the backend. Returns the number of datapoints."""
        pending, self._pending = self._pending, {}
        by_namespace: dict[str, list[dict]] = {}
        stamps: dict[int, object] = {}  # one datetime per second, shared by its datapoints (moto keeps it)
        # A series' dimensions and unit, built once a flush and shared by its seconds' datapoints (moto copies
        # them into its own objects): with the clock sped up, every request is a second of its own.
        series: dict[tuple[str, Dims], tuple[list[dict[str, str]], str]] = {}
        for (sec, namespace, name, dims), a in sorted(pending.items()):
            if a.count and (a.sum or a.max):
                stamp = stamps.get(sec)
                if stamp is None:
                    stamp = stamps[sec] = _utc(sec)
                fields = series.get((name, dims))
                if fields is None:
                    fields = series[(name, dims)] = ([{"Name": k, "Value": v} for k, v in dims],
                                                     UNITS.get(name) or SANDBOX_UNITS[name])
                by_namespace.setdefault(namespace, []).append({
                    "MetricName": name, "Dimensions": fields[0], "Timestamp": stamp, "Unit": fields[1],
                    "StorageResolution": 1, "StatisticValues": {"Sum": a.sum, "SampleCount": float(a.count),
                                                                "Minimum": a.min, "Maximum": a.max}})
        for namespace, data in by_namespace.items():
            self.backend.put_metric_data(namespace, data)
            self.published += len(data)
        n = sum(map(len, by_namespace.values()))
        if (time.monotonic() - self._last_prune >= PRUNE_EVERY_S
                or self.clock.now() - self._last_prune_at >= PRUNE_EVERY_SANDBOX_S):
            self.prune()
        return n

    @property
    def namespaces(self) -> tuple[str, ...]:
        """What this publisher prunes and purges: its namespaces, and the batch runner's (which only appends)."""
        return self.namespace, self.sandbox_namespace, BATCH_NAMESPACE

    def prune(self, now: float | None = None) -> int:
        """Drop this publisher's datapoints older than the retention horizon. Returns how many."""
        self._last_prune = time.monotonic()
        self._last_prune_at = self.clock.now()
        cutoff = _utc(math.floor((self.clock.now() if now is None else now) - self.retention_s))
        mine = self.namespaces
        return _remove(self.backend, lambda md: md.namespace in mine and md.timestamp < cutoff)

    def purge(self) -> None:
        """Forget this publisher's datapoints (a new sandbox is a fresh one)."""
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


# ---------------------------------------------------------------------- wiring

def install(sandbox: "SandboxHost", *, retention_s: float = DEFAULT_RETENTION_S,
            fast_queries: bool = True) -> MetricsPublisher:
    """Publish the sandbox's outcomes to moto's CloudWatch backend of its account and region."""
    from .moto_bridge import cloudwatch_backend  # noqa: PLC0415

    account = sandbox.config.account_id
    backend = cloudwatch_backend(account, sandbox.config.region)
    if fast_queries and getattr(backend, "sandbox_series_index", None) is None:
        SeriesIndex(backend).install()
    publisher = MetricsPublisher(backend, sandbox.clock, retention_s=retention_s, naming=sandbox.config.metrics)
    publisher.purge()
    publisher._start_task = sandbox.background
    sandbox.outcomes.subscribe(publisher.observe)
    sandbox.on_close(publisher.flush)
    return publisher
