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
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

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

    def to_json(self) -> dict[str, Any]:
        source = {"dimension": "ServiceTier dimension", "suffix": "ModelId+tier series"}.get(
            self.form or "", "model totals (no per-tier series)")
        return {"model_id": self.model_id, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "minutes": len(self.frame), "tiers": list(self.tiers), "tier_split": self.tier_split,
                "source": source if self.tier_split else "model totals (no per-tier series)",
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


async def discover_tiers(cw: Any, model_id: str, settings: mp.MetricsSettings = mp.CONSOLE_METRICS
                         ) -> tuple[list[str], mp.Discovery]:
    """The tiers CloudWatch has per-tier series for, for this model, in display order, and the form."""
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
    d = mp.discover(listed, settings.tier_form, settings.bare_model_id)
    found = set(d.tiers(model_id))
    return [t for t in TIER_ORDER if t in found] + sorted(found - set(TIER_ORDER)), d


def _epoch(ts: Any) -> float:
    if isinstance(ts, datetime):
        return (ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)).timestamp()
    return float(ts)


async def fetch_history(cw: Any, model_id: str, *, days: int = 14, now: float | None = None,
                        max_points: int = MAX_DATAPOINTS, settings: mp.MetricsSettings = mp.CONSOLE_METRICS) -> History:
    """The model's last ``days`` of 1-minute history (see the module docstring)."""
    start, end = window(time.time() if now is None else now, days)
    tiers, d = await discover_tiers(cw, model_id, settings)
    form = d.form if tiers else None
    derive = form == mp.SUFFIX and "default" not in d.published(model_id)
    asked = [t for t in tiers if not (derive and t == "default")]
    qs, ids = queries(model_id, asked or None, form or mp.DIMENSION, bare=derive)
    names = tiers or [TOTAL_TIER]
    n = (end - start) // PERIOD
    frame = empty_history(datetime.fromtimestamp(start, timezone.utc), n, names)
    data = {key: np.zeros(n) for key in ids.values()}
    calls = 0
    for c0, c1 in chunks(start, end, len(qs), max_points):
        token = None
        while True:
            kwargs = {"MetricDataQueries": qs, "StartTime": datetime.fromtimestamp(c0, timezone.utc),
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
    if derive:  # the suffix form's Standard: the bare series, or the bare series less the suffixed tiers
        for field in FIELDS:
            bare = data.pop((_BARE, field))
            others = sum((data[(t, field)] for t in asked), np.zeros(n))
            data[("default", field)] = bare if d.bare == "standard" else np.clip(bare - others, 0, None)
    for key, values in data.items():
        frame[key] = values
    return History(frame, model_id, tuple(names), bool(tiers), datetime.fromtimestamp(start, timezone.utc),
                   datetime.fromtimestamp(end, timezone.utc), calls, form)
