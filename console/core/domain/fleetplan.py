"""What one fleet refresh asks CloudWatch, per region, from the monitoring account (pure).

Per region and refresh: ``ceil((Q + 1) / 500)`` ``GetMetricData`` calls, nothing else, where Q is 3 MetricStat
queries per discovered (account, series) — ``EstimatedTPMQuotaUsage``, ``Invocations``, ``InvocationThrottles``
on the bare ``ModelId`` series, with ``AccountId`` — plus, for an (account, model) with a declared reservation,
the reserved tier's ``InputTokenCount``/``CacheWriteInputTokenCount``/``OutputTokenCount`` (and, on a sandbox,
its two ``TierConsole/Sandbox`` overflow series). The "+1" is the one Metrics Insights query call 0 carries:
``InvocationThrottles`` of the whole region grouped by account, series and tier (:func:`insights_query`),
which replaces a MetricStat query per tier and pair.

:func:`pack` cuts the queries, in (account, series) order, every 500 (call 0 keeps a slot for Insights): the
fewest calls the limit allows, and the same fleet always gives the same calls. Query ids: ``a{i}_m{j}_{k}``
(account ``i`` of the region's sorted accounts, series ``j`` of its sorted series, metric key ``k``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from .metricforms import DIMENSION, SUFFIX, split_series, tier_series
from .metricsplan import MAX_QUERIES, METRICS, NAMESPACE, PERIOD, SANDBOX_NAMESPACE, Answers, Series, window

#: the trailing-minute estimate needs the minute in progress and the one before it; one more for slack
FLEET_MINUTES = 2
PAIR_METRICS = ("EstimatedTPMQuotaUsage", "Invocations", "InvocationThrottles")
RESERVED_METRICS = ("InputTokenCount", "CacheWriteInputTokenCount", "OutputTokenCount")
SANDBOX_OVERFLOW = ("ReservedOverflowInputTokenCount", "ReservedOverflowOutputTokenCount")
INSIGHTS_ID = "insights"
#: Metrics Insights returns at most this many series: exactly this many means the answer may be cut
INSIGHTS_LIMIT = 500


@dataclass(frozen=True)
class FleetQuery:
    id: str
    account_id: str
    metric: str
    series: str  # the ModelId value (model id, profile id or application profile ARN)
    tier: str | None = None  # reserved-tier token queries only
    namespace: str = NAMESPACE
    form: str = SUFFIX

    def to_api(self) -> dict[str, Any]:
        value = self.series if self.tier is None or self.form != SUFFIX else tier_series(self.series, self.tier)
        dims = [{"Name": "ModelId", "Value": value}]
        if self.tier is not None and self.form == DIMENSION:
            dims.append({"Name": "ServiceTier", "Value": self.tier})
        return {"Id": self.id, "AccountId": self.account_id, "ReturnData": True,
                "MetricStat": {"Metric": {"Namespace": self.namespace, "MetricName": self.metric, "Dimensions": dims},
                               "Period": PERIOD, "Stat": "Sum"}}


@dataclass(frozen=True)
class Call:
    """One ``GetMetricData`` of a region's refresh."""

    index: int
    queries: tuple[FleetQuery, ...]
    insights: str | None = None  # the Metrics Insights query this call carries (call 0 only)

    @property
    def accounts(self) -> frozenset[str]:
        return frozenset(q.account_id for q in self.queries)

    def api_queries(self) -> list[dict[str, Any]]:
        out = [q.to_api() for q in self.queries]
        if self.insights is not None:
            out.append({"Id": INSIGHTS_ID, "Expression": self.insights, "Period": PERIOD, "ReturnData": True})
        return out


@dataclass(frozen=True)
class RegionPlan:
    region: str
    calls: tuple[Call, ...]
    start: float
    end: float
    form: str = SUFFIX
    bare: str = "total"

    @property
    def query_count(self) -> int:
        return sum(len(c.queries) for c in self.calls)


def pair_queries(series: Mapping[str, Sequence[str]], reserved: Mapping[str, Iterable[str]], *, sandbox: bool,
                 form: str = SUFFIX) -> list[FleetQuery]:
    """Every MetricStat query of a region, in (account, series) order: ``series`` is account -> the ``ModelId``
    values discovery found (bare), ``reserved`` account -> models with a declared reservation."""
    out: list[FleetQuery] = []
    for i, account in enumerate(sorted(series)):
        held = set(reserved.get(account, ()))
        for j, s in enumerate(sorted(set(series[account]))):
            pid = f"a{i}_m{j}"
            out += [FleetQuery(f"{pid}_{METRICS[m]}", account, m, s) for m in PAIR_METRICS]
            if s in held:
                out += [FleetQuery(f"{pid}_r{METRICS[m]}", account, m, s, "reserved", form=form)
                        for m in RESERVED_METRICS]
                if sandbox:
                    out += [FleetQuery(f"{pid}_{METRICS[m]}", account, m, s, namespace=SANDBOX_NAMESPACE)
                            for m in SANDBOX_OVERFLOW]
    return out


def pack(queries: Sequence[FleetQuery], limit: int = MAX_QUERIES, *, insights: bool = True) -> list[list[FleetQuery]]:
    """The queries cut into calls of at most ``limit`` (the first keeps one slot for the Insights query):
    ``ceil((Q + 1) / limit)`` calls, the fewest possible, always the same for the same queries."""
    if limit < 2:
        raise ValueError("a call must hold at least 2 queries")
    first = limit - 1 if insights else limit
    calls = [list(queries[:first])]
    rest = queries[first:]
    calls += [list(rest[k:k + limit]) for k in range(0, len(rest), limit)]
    return calls


def insights_query(form: str) -> str:
    """Throttles of the whole region by account, series and tier: one Metrics Insights query (top 500)."""
    if form == DIMENSION:
        return ('SELECT SUM(InvocationThrottles) FROM SCHEMA("AWS/Bedrock", ModelId, ServiceTier) '
                'GROUP BY AWS.AccountId, ModelId, ServiceTier ORDER BY SUM() DESC LIMIT 500')
    return ('SELECT SUM(InvocationThrottles) FROM SCHEMA("AWS/Bedrock", ModelId) '
            'GROUP BY AWS.AccountId, ModelId ORDER BY SUM() DESC LIMIT 500')


def plan_region(region: str, series: Mapping[str, Sequence[str]], reserved: Mapping[str, Iterable[str]],
                now: float, *, sandbox: bool, form: str | None, bare: str = "total",
                limit: int = MAX_QUERIES, insights: bool = True) -> RegionPlan:
    """The calls of one region's refresh. ``form`` None (no per-tier series seen yet) or ``insights`` False:
    no Insights query (throttles are then shown as totals only)."""
    queries = pair_queries(series, reserved, sandbox=sandbox, form=form or SUFFIX)
    ask = insights and form is not None
    groups = pack(queries, limit, insights=ask)
    calls = tuple(Call(i, tuple(g), insights_query(form) if i == 0 and ask and form is not None else None)
                  for i, g in enumerate(groups) if g or i == 0)
    start, end = window(now, FLEET_MINUTES)
    return RegionPlan(region, calls, start, end, form or SUFFIX, bare)


def calls_needed(query_count: int, limit: int = MAX_QUERIES, insights: bool = True) -> int:
    return max(1, math.ceil((query_count + (1 if insights else 0)) / limit))


# ------------------------------------------------------------------ answers

@dataclass
class FleetAnswers:
    """A region's answers: per account, its series as :class:`~.metricsplan.Answers` (keyed by the
    ``ModelId`` value), the throttles by tier (from Insights; in the suffix form Standard follows from the row's
    own bare series as :meth:`~.metricsplan.Answers.derive_standard` does for one account), and which accounts'
    calls failed. A split that is known to be partial says so in :attr:`tier_notes`; where Insights did not
    answer at all, :attr:`tiers_unread` says why and no row has a split."""

    by_account: dict[str, Answers] = field(default_factory=dict)
    throttles_by_tier: dict[tuple[str, str], dict[str, Series]] = field(default_factory=dict)
    insights_cut: bool = False  # Insights returned its 500-series limit: tiers of the rest were not read
    insights_read: bool = False
    forbidden: set[str] = field(default_factory=set)  # accounts whose results came back Forbidden
    tier_notes: dict[tuple[str, str], str] = field(default_factory=dict)  # (account, series) -> why partial
    tiers_unread: str = ""  # "tiers: not read (Insights)": asked, but its call or its answer failed

    def account(self, account_id: str) -> Answers | None:
        return self.by_account.get(account_id)


CUT_NOTE = "tiers: top 500 only"
UNREAD_NOTE = "tiers: not read (Insights)"
_BARE = "__bare__"
_THROTTLES = "InvocationThrottles"


def _series_of(result: Mapping[str, Any]) -> Series:
    s: Series = {}
    for ts, val in zip(result.get("Timestamps", []), result.get("Values", [])):
        t = ts.timestamp() if hasattr(ts, "timestamp") else float(ts)
        minute = float(math.floor(t / PERIOD) * PERIOD)
        s[minute] = s.get(minute, 0.0) + float(val)
    return s


def read_answers(plan: RegionPlan, results: Mapping[int, Sequence[Mapping[str, Any]]], *, sandbox: bool,
                 published: Mapping[tuple[str, str], Iterable[str]] | None = None) -> FleetAnswers:
    """``results``: call index -> its ``MetricDataResults`` (a call that failed is absent). ``published``:
    (account, series) -> the tiers discovery saw for it (``ListMetrics``), to tell a cut split from a whole one."""
    out = FleetAnswers()
    insights = 0
    failed = partial = False
    for call in plan.calls:
        got = results.get(call.index)
        if got is None:
            continue
        by_id = {q.id: q for q in call.queries}
        for r in got:
            rid = str(r.get("Id"))
            if rid == INSIGHTS_ID:
                insights += 1
                status = r.get("StatusCode")
                failed |= status not in (None, "Complete", "PartialData")
                partial |= status == "PartialData"  # over 10,000 metrics processed: some series not read
                _read_insights(out, r, plan.form)
                continue
            q = by_id.get(rid)
            if q is None:
                continue
            if r.get("StatusCode") == "Forbidden":
                out.forbidden.add(q.account_id)
                continue
            a = out.by_account.setdefault(q.account_id, Answers(sandbox=sandbox, start=plan.start, end=plan.end))
            a.series.setdefault((q.metric, q.series, q.tier), {}).update(_series_of(r))  # pages: same id again
    asked = bool(plan.calls) and plan.calls[0].insights is not None
    if asked and (0 not in results or failed):
        out.tiers_unread = UNREAD_NOTE
        out.throttles_by_tier.clear()
    elif asked:
        out.insights_cut = insights >= INSIGHTS_LIMIT or partial
        _finish_split(out, plan, published or {})
    return out


def _read_insights(out: FleetAnswers, r: Mapping[str, Any], form: str) -> None:
    """Insights labels are the GROUP BY values in order, separated by spaces (account, ModelId[, tier]);
    a label that does not split so is left out (its row then shows the exact total, no split)."""
    if r.get("StatusCode") not in (None, "Complete", "PartialData"):
        return
    out.insights_read = True
    label = str(r.get("Label", ""))
    parts = label.split()
    if form == DIMENSION:
        if len(parts) != 3:
            return
        account, series, tier = parts
    else:
        if len(parts) != 2:
            return
        account, value = parts
        series, suffix = split_series(value)
        tier = suffix or _BARE
    per = out.throttles_by_tier.setdefault((account, series), {})
    per.setdefault(tier, {}).update(_series_of(r))


def _finish_split(out: FleetAnswers, plan: RegionPlan, published: Mapping[tuple[str, str], Iterable[str]]) -> None:
    """Every row's split once Insights was read whole or cut at its limit. A tier Insights did not return had no
    throttles, unless the answer was cut and discovery saw that tier published: then the split is partial (its
    note says so) and Standard is not derived (the missing tier would be counted as Standard). In the suffix
    form Standard is the row's own bare series less the suffixed tiers (``bare: total``, per minute, never below
    0) or the bare series itself (``standard``; the row's total is then the sum), as for one account."""
    rows = {(q.account_id, q.series) for c in plan.calls for q in c.queries if q.metric == _THROTTLES}
    split = out.throttles_by_tier
    for key in list(split):
        if key not in rows:
            del split[key]  # an account or series this plan does not show (excluded, filtered by model)
    for key in sorted(rows):
        per = split.setdefault(key, {})
        per.pop(_BARE, None)  # the row reads its bare series itself (MetricStat: never cut)
        missing = {t for t in published.get(key, ()) if t not in per and (plan.form == DIMENSION or t != "default")}
        partial = out.insights_cut and (bool(missing) or key not in published)
        if partial:
            out.tier_notes[key] = CUT_NOTE
        a = out.by_account.get(key[0])
        if plan.form == DIMENSION or a is None or (partial and plan.bare == "total") or "default" in per:
            continue
        for tier, s in per.items():
            a.series[(_THROTTLES, key[1], tier)] = s
        a.derive_standard(_THROTTLES, key[1], plan.bare)
        per["default"] = a.get(_THROTTLES, key[1], "default")
