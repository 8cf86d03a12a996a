"""Fast CloudWatch queries over the sandbox's moto backend (used by :mod:`.metrics`).

moto's own ``GetMetricData`` rescans every stored datapoint for every query *and every
period* (hours for 200 queries over an hour of traffic) and its ``ListMetrics`` does not
de-duplicate series with two dimensions (and ``GetMetricStatistics`` sums every series that
*contains* the dimensions asked for), so :class:`SeriesIndex` replaces the three on the
sandbox's backend instance with an index from series to time-sorted datapoints, answering
with CloudWatch's semantics (exact dimension set, any order). Metric math runs through moto's
expression parser as before (moto evaluates a bare query id only); Metrics Insights
(``SELECT``) queries are answered by :mod:`.insights` (moto's answer is a stub). Percentile statistics are not available (the data are
pre-aggregated, as ``StatisticValues`` data are in CloudWatch).

Cross-account observability: a query whose ``AccountId`` is another account is answered from that
account's backend when the account is linked to this one's sink in this region (``links``, an OAM
:class:`~.oam.LinkView` the sandbox sets) and the link admits the metric's namespace; otherwise it returns
no data with ``StatusCode: Forbidden``. ``ListMetrics`` with ``IncludeLinkedAccounts`` lists the linked
accounts' series too, with ``OwningAccounts`` (moto drops both members: :func:`patch_list_metrics`).
"""
from __future__ import annotations

import bisect
import threading
import uuid
from collections import OrderedDict
from array import array
from datetime import datetime, timedelta, timezone
from typing import Any


def _utc(epoch_second: int) -> datetime:
    """moto stores timestamps as naive UTC datetimes."""
    return datetime.fromtimestamp(epoch_second, timezone.utc).replace(tzinfo=None)

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
        self.links = None  # the accounts linked to this one's sink here (an OAM LinkView), set by the sandbox
        self._linked_pages: OrderedDict[str, list] = OrderedDict()  # unfollowed linked ListMetrics pages

    def install(self) -> None:
        patch_list_metrics()
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
                series = self._series[key] = _Series(md.dimensions)
            else:
                md.dimensions = series.dims  # one list of Dimension objects per series, not two objects per datapoint
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

        if any(self._foreign(q) for q in queries):
            return self._with_linked(queries, start_time, end_time, scan_by)
        selects = [q for q in queries if q.get("Expression", "").lstrip()[:6].upper() == "SELECT"]
        if selects:  # Metrics Insights: the sandbox's own evaluator (moto's is a stub)
            from . import insights  # noqa: PLC0415

            if len(selects) > 1:
                raise insights._bad("one Metrics Insights query per GetMetricData call")
            rest = [q for q in queries if q is not selects[0]]
            out = self.get_metric_data(rest, start_time, end_time, scan_by) if rest else []
            return out + insights.run(selects[0], self._insights_sources, start_time, end_time, scan_by)
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

    def _insights_sources(self, namespace: str) -> list[tuple[str | None, "SeriesIndex"]]:
        """This account's index and those of the accounts linked here that admit ``namespace``."""
        own = getattr(self.backend, "account_id", None)
        linked = self.links.linked() if self.links else []
        return [(own, self)] + [(a, src) for a, src in linked
                                if hasattr(src, "series_of") and self.links.backend(a, namespace) is not None]

    def series_of(self, namespace: str, name: str) -> list[tuple[dict[str, str], dict]]:
        """(dimensions, Metric) of each series of ``name`` in ``namespace``."""
        with self._lock:
            self._sync()
            keys = [k for k in self._series if k[0] == namespace and k[1] == name]
        return [(dict(k[2]), {"Namespace": k[0], "MetricName": k[1],
                              "Dimensions": [{"Name": n, "Value": v} for n, v in sorted(k[2])]}) for k in keys]

    def stat_of(self, metric: dict, period: int, stat: str, start: datetime, end: datetime):
        """(values, timestamps) of one series' ``stat`` per ``period`` from ``start`` to ``end``."""
        t0, t1 = _epoch(start.replace(microsecond=0)), _epoch(end.replace(microsecond=0))
        with self._lock:
            self._sync()
            return self._stat(metric, period, stat, None, t0, t1)

    def _foreign(self, query: dict) -> bool:
        return query.get("AccountId") not in (None, "", getattr(self.backend, "account_id", None))

    def _with_linked(self, queries: list[dict[str, Any]], start_time: datetime, end_time: datetime,
                     scan_by: str) -> list[dict[str, Any]]:
        """Queries of other accounts answered from theirs (when linked here), the rest from this one, in order."""
        local = [q for q in queries if not self._foreign(q)]
        mine: dict[str, list[dict[str, Any]]] = {}  # an Insights query answers one result per group, same Id
        for r in self.get_metric_data(local, start_time, end_time, scan_by) if local else []:
            mine.setdefault(r["id"], []).append(r)
        out = []
        for q in queries:
            if not self._foreign(q):
                out += mine.pop(q["Id"], [])
                continue
            if not q.get("ReturnData", True):
                continue
            metric = q.get("MetricStat", {}).get("Metric", {})
            source = self.links.backend(q["AccountId"], metric.get("Namespace")) if self.links else None
            label = q.get("Label") or f"{metric.get('MetricName', q['Id'])} {q.get('MetricStat', {}).get('Stat', '')}"
            answer = {"id": q["Id"], "label": label.strip(), "values": [], "timestamps": [], "status_code": "Forbidden",
                      "messages": [{"Code": "Forbidden", "Value": f"Account {str(q['AccountId'])[:20]} is not a source "
                                    "account linked to this account in this Region (sandbox)"}]}
            if source is not None and "MetricStat" in q:
                found = source.get_metric_data([{k: v for k, v in q.items() if k != "AccountId"}], start_time,
                                               end_time, scan_by)
                answer.pop("messages")
                answer.update(found[0] if found else {"status_code": "Complete"})
            out.append(answer)
        return out

    def list_linked(self, token: str | None, namespace: str | None, metric_name: str | None, dimensions,
                    owner: str | None) -> dict[str, Any]:
        """ListMetrics with IncludeLinkedAccounts: this account's series and its linked accounts', 500 a page."""
        from moto.cloudwatch.exceptions import InvalidParameterValue  # noqa: PLC0415

        if token:
            rows = self._linked_pages.pop(token, None)
            if rows is None:
                raise InvalidParameterValue("Request parameter NextToken is invalid")
        else:
            own = getattr(self.backend, "account_id", None)
            sources = [(own, self)] + (self.links.linked() if self.links else [])
            rows = []
            for account, source in sources:
                if owner and account != owner:
                    continue
                for md in source.get_filtered_metrics(metric_name, namespace, dimensions):
                    if account == own or self.links.backend(account, md.namespace) is not None:
                        rows.append((md, account))
        page, rest = rows[:500], rows[500:]
        out: dict[str, Any] = {"Metrics": [md for md, _ in page], "OwningAccounts": [a for _, a in page]}
        if rest:
            out["NextToken"] = str(uuid.uuid4())
            self._linked_pages[out["NextToken"]] = rest
            while len(self._linked_pages) > 100:  # unfollowed pages kept (as moto_bridge bounds moto's own)
                self._linked_pages.popitem(last=False)
        return out

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


def patch_list_metrics() -> None:
    """moto's ListMetrics drops ``IncludeLinkedAccounts`` and ``OwningAccount``: with them, a backend holding a
    :class:`SeriesIndex` answers through :meth:`SeriesIndex.list_linked` (serialized by moto for every protocol)."""
    from moto.cloudwatch.responses import CloudWatchResponse  # noqa: PLC0415
    from moto.core.responses import ActionResult  # noqa: PLC0415

    original = CloudWatchResponse.list_metrics
    if getattr(original, "sandbox_linked", False):
        return

    def list_metrics(self):
        index = getattr(self.cloudwatch_backend, "sandbox_series_index", None)
        if index is None or self._get_param("IncludeLinkedAccounts") not in (True, "true"):
            return original(self)
        return ActionResult(index.list_linked(self._get_param("NextToken"), self._get_param("Namespace"),
                                              self._get_param("MetricName"),
                                              self._get_params().get("Dimensions", []),
                                              self._get_param("OwningAccount")))

    list_metrics.sandbox_linked = True  # type: ignore[attr-defined]
    CloudWatchResponse.list_metrics = list_metrics


class _Series:
    """One series' datapoints sorted by time, with their statistics in parallel arrays of doubles (8 bytes a
    value where a list of floats takes 32: the index holds every datapoint of the retention)."""

    __slots__ = ("times", "sums", "counts", "mins", "maxs", "points", "dims")

    def __init__(self, dims: list | None = None) -> None:
        self.times = array("d")
        self.sums = array("d")
        self.counts = array("d")
        self.mins = array("d")
        self.maxs = array("d")
        self.points: list = []
        self.dims = dims if dims is not None else []

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
            for name in ("times", "sums", "counts", "mins", "maxs"):
                lst = getattr(self, name)
                setattr(self, name, array("d", [lst[k] for k in rows]))
            self.points = [self.points[k] for k in rows]

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
