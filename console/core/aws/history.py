"""One model's 1-minute history from CloudWatch, in the shape :mod:`tierconsole.core.domain.planning` takes.

* The window is the last ``days`` whole minutes-aligned days, ending at the start of the current
  minute (the minute in progress is left out: it would read low).
* Per tier when CloudWatch has per-tier series for the model, in either form (discovered with one
  ``ListMetrics`` of ``Invocations``, :func:`tierconsole.core.domain.metricsplan.discover`): AWS's documented
  ``ModelId=<model>+priority`` / ``+flex`` (Standard is then the bare series less the suffixed ones, or the
  bare series itself with ``metrics.bare_model_id: standard``), or ``{ModelId, ServiceTier}``; else the
  ``{ModelId}`` totals under the tier name ``total``.
* ``GetMetricData`` with ``Period`` 60 and ``Stat`` Sum; the window is cut into chunks so that one
  call asks for at most 100,800 datapoints (queries × minutes), and every call follows
  ``NextToken``. CloudWatch keeps 1-minute datapoints for 15 days, hence ``days`` ≤ 14 (the
  window starts up to a minute before ``days`` ago and must stay inside the 15 days).
* Minutes without a datapoint are zeros: CloudWatch publishes nothing for a quiet minute.
* Several ``ModelId`` series (``series``: the model's own and the application profiles copying it, whose calls
  draw on its quota) are summed per minute and per tier, all asked in the same call per chunk (in groups of
  500 queries, GetMetricData's limit, only beyond that); when one with traffic has no per-tier series the
  history is the totals.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..domain import metricsplan as mp
from ..domain.planning import FIELDS, TIER_ORDER, TOTAL_TIER, empty_history

NAMESPACE = "AWS/Bedrock"
PERIOD = 60
MAX_DATAPOINTS = 100_800  # GetMetricData: datapoints returned per call
MAX_DAYS = 14  # 1-minute datapoints are kept for 15 days; the minute-aligned window must fit inside
METRIC_OF_FIELD = {
    "input": "InputTokenCount",
    "cache_write": "CacheWriteInputTokenCount",
    "output": "OutputTokenCount",
    "invocations": "Invocations",
    "throttles": "InvocationThrottles",
}


class HistoryError(RuntimeError):
    """CloudWatch answered, but not with usable data (a query's status was an error)."""


@dataclass(frozen=True)
class History:
    frame: pd.DataFrame
    model_id: str
    tiers: tuple[str, ...]
    tier_split: bool
    start: datetime
    end: datetime  # exclusive
    calls: int  # GetMetricData calls made
    form: str | None = None  # the per-tier form read (``suffix`` or ``dimension``), None: totals only
    series: tuple[str, ...] = ()  # the ModelId series summed (empty: model_id alone)
    labels: tuple[str, ...] = ()  # how each series is named (an application profile: ``etl (3zcjidm03iv5)``)
    note: str | None = None  # why the series may be incomplete (application profiles could not be listed)

    @property
    def summed(self) -> str:
        """Which series the history sums, as the plan and the quota request say it ("" for the model alone)."""
        shown = [label if label == s else f"application profile {label}"
                 for s, label in zip(self.series, self.labels)]
        text = f"ModelId series summed per minute: {', '.join(shown)}" \
            if self.series and self.series != (self.model_id,) else ""
        return "; ".join(t for t in (text, self.note or "") if t)

    def to_json(self) -> dict[str, Any]:
        source = {"dimension": "ServiceTier dimension", "suffix": "ModelId+tier series"}.get(
            self.form or "", "model totals (no per-tier series)")
        source = source if self.tier_split else "model totals (no per-tier series)"
        series = list(self.series or (self.model_id,))
        return {"model_id": self.model_id, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "minutes": len(self.frame), "tiers": list(self.tiers), "tier_split": self.tier_split,
                "source": f"{source}; {self.summed}" if self.summed else source, "series": series,
                "application_profiles": [label for s, label in zip(self.series, self.labels) if label != s],
                "period_seconds": PERIOD, "get_metric_data_calls": self.calls}


def window(now: float, days: int) -> tuple[int, int]:
    """(start, end) epoch seconds: ``days`` × 1,440 whole minutes ending where the current minute starts."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1 to {MAX_DAYS} (CloudWatch keeps 1-minute data for 15 days), got {days}")
    end = math.floor(now / PERIOD) * PERIOD
    return end - days * 86_400, end


def chunks(start: int, end: int, n_queries: int, max_points: int = MAX_DATAPOINTS) -> list[tuple[int, int]]:
    """Minute-aligned sub-ranges of [start, end) in which ``n_queries`` ask at most ``max_points`` datapoints."""
    minutes = max(1, max_points // max(1, n_queries))
    step = minutes * PERIOD
    return [(t, min(t + step, end)) for t in range(start, end, step)]


#: the bare series of the suffix form, fetched to give Standard (not a tier of the history)
_BARE = "__bare"


def queries(model_id: str, tiers: list[str] | None, form: str = mp.DIMENSION,
            bare: bool = False) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str]]]:
    """GetMetricData queries for every field of every tier (``None``: the model totals), in ``form``;
    ``bare``: the bare series too (the suffix form's Standard follows from it)."""
    out: list[dict[str, Any]] = []
    ids: dict[str, tuple[str, str]] = {}
    asked: list[str | None] = [*(tiers if tiers else [None]), *([_BARE] if bare else [])]
    for ti, tier in enumerate(asked):
        q = mp.Query("", "", model_id, None if tier in (None, _BARE) else tier, form=form)
        dims = q.to_api()["MetricStat"]["Metric"]["Dimensions"]
        for field in FIELDS:
            qid = f"t{ti}_{field}"
            ids[qid] = (tier or TOTAL_TIER, field)
            out.append({"Id": qid, "ReturnData": True, "MetricStat": {
                "Metric": {"Namespace": NAMESPACE, "MetricName": METRIC_OF_FIELD[field], "Dimensions": dims},
                "Period": PERIOD, "Stat": "Sum"}})
    return out, ids


async def _list_invocations(cw: Any) -> list[dict[str, Any]]:
    """Every ``AWS/Bedrock`` ``Invocations`` series (one ``ListMetrics``, more pages only beyond 500)."""
    listed: list[dict[str, Any]] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"Namespace": NAMESPACE, "MetricName": "Invocations"}
        if token:
            kwargs["NextToken"] = token
        page = await cw.list_metrics(**kwargs)
        listed += page.get("Metrics", [])
        token = page.get("NextToken")
        if not token:
            break
    return listed


def _ordered(found: set[str]) -> list[str]:
    return [t for t in TIER_ORDER if t in found] + sorted(found - set(TIER_ORDER))


async def discover_tiers(cw: Any, model_id: str, settings: mp.MetricsSettings = mp.CONSOLE_METRICS
                         ) -> tuple[list[str], mp.Discovery]:
    """The tiers CloudWatch has per-tier series for, for this model, in display order, and the form."""
    d = mp.discover(await _list_invocations(cw), settings.tier_form, settings.bare_model_id)
    return _ordered(set(d.tiers(model_id))), d


def _epoch(ts: Any) -> float:
    if isinstance(ts, datetime):
        return (ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)).timestamp()
    return float(ts)


@dataclass(frozen=True)
class _Series:
    """One ``ModelId`` series of the history: its tiers (in the discovered form) and the queries asking them."""

    index: int
    model_id: str
    tiers: list[str]
    form: str | None
    derive: bool  # suffix form: Standard follows from the bare series
    asked: list[str]


def _series(d: mp.Discovery, index: int, model_id: str) -> _Series:
    tiers = _ordered(set(d.tiers(model_id)))
    form = d.form if tiers else None
    derive = form == mp.SUFFIX and "default" not in d.published(model_id)
    return _Series(index, model_id, tiers, form, derive, [t for t in tiers if not (derive and t == "default")])


async def fetch_history(cw: Any, model_id: str, *, series: Sequence[str] | None = None,
                        labels: Mapping[str, str] | None = None, note: str | None = None, days: int = 14,
                        now: float | None = None, max_points: int = MAX_DATAPOINTS,
                        settings: mp.MetricsSettings = mp.CONSOLE_METRICS) -> History:
    """The model's last ``days`` of 1-minute history (see the module docstring).

    ``series``: the ``ModelId`` series summed per minute and per tier (default: ``model_id`` alone), e.g. the
    model and the application profiles copying it (their calls draw on its on-demand quota); ``labels``: how
    the history names them (an application profile's ARN: ``etl (3zcjidm03iv5)``). All of them are asked in
    the same ``GetMetricData`` per chunk. When a series with traffic has no per-tier series while another has,
    the history is the totals (a per-tier figure is never guessed)."""
    start, end = window(time.time() if now is None else now, days)
    names_of = tuple(series or (model_id,))
    d = mp.discover(await _list_invocations(cw), settings.tier_form, settings.bare_model_id)
    parts = [_series(d, i, s) for i, s in enumerate(names_of)]
    qs: list[dict[str, Any]] = []
    ids: dict[str, tuple[int, str, str]] = {}
    for part in parts:
        asks, keys = queries(part.model_id, part.asked or None, part.form or mp.DIMENSION, bare=part.derive)
        for one in asks:
            qid = f"s{part.index}{one['Id']}"
            tier, field = keys[one["Id"]]
            ids[qid] = (part.index, tier, field)
            qs.append({**one, "Id": qid})
    n = (end - start) // PERIOD
    data = {key: np.zeros(n) for key in ids.values()}
    calls = 0
    groups = [qs[i:i + mp.MAX_QUERIES] for i in range(0, len(qs), mp.MAX_QUERIES)]  # one group unless > 500
    for c0, c1 in chunks(start, end, len(qs), max_points):
        for group in groups:
            token = None
            while True:
                kwargs = {"MetricDataQueries": group, "StartTime": datetime.fromtimestamp(c0, timezone.utc),
                          "EndTime": datetime.fromtimestamp(c1, timezone.utc), "ScanBy": "TimestampAscending"}
                if token:
                    kwargs["NextToken"] = token
                page = await cw.get_metric_data(**kwargs)
                calls += 1
                for r in page.get("MetricDataResults", []):
                    if r.get("StatusCode") in ("InternalError", "Forbidden"):
                        msgs = "; ".join(m.get("Value", "") for m in r.get("Messages", []))
                        raise HistoryError(f"GetMetricData {r.get('Id')}: {r['StatusCode']} {msgs}".strip())
                    key = ids.get(r.get("Id"))
                    if key is None:
                        continue
                    for ts, value in zip(r.get("Timestamps", []), r.get("Values", [])):
                        i = int((math.floor(_epoch(ts) / PERIOD) * PERIOD - start) // PERIOD)
                        if 0 <= i < n:
                            data[key][i] += float(value)
                token = page.get("NextToken")
                if not token:
                    break
    for part in parts:
        if part.derive:  # the suffix form's Standard: the bare series, or the bare series less the suffixed tiers
            for field in FIELDS:
                bare = data.pop((part.index, _BARE, field))
                others = sum((data[(part.index, t, field)] for t in part.asked), np.zeros(n))
                data[(part.index, "default", field)] = bare if d.bare == "standard" else np.clip(bare - others, 0, None)
    # the model's own series always counts; another one only when it had a datapoint (an idle one without
    # per-tier series does not turn the history into totals)
    counted = [p for p in parts if p.index == 0 or any(v.any() for (index, _, _), v in data.items() if index == p.index)]
    split = all(p.tiers for p in counted)
    names = _ordered({t for p in counted for t in p.tiers}) if split else [TOTAL_TIER]
    frame = empty_history(datetime.fromtimestamp(start, timezone.utc), n, names)
    for (index, tier, field), values in data.items():
        if any(p.index == index for p in counted):
            column = (tier if split else TOTAL_TIER, field)
            frame[column] = frame[column].to_numpy() + values
    form = next((p.form for p in counted if p.form), None) if split else None
    return History(frame, model_id, tuple(names), split, datetime.fromtimestamp(start, timezone.utc),
                   datetime.fromtimestamp(end, timezone.utc), calls, form, series=names_of,
                   labels=tuple((labels or {}).get(s, s) for s in names_of), note=note)
