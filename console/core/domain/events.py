"""Change events: what changed between two refreshes of the dashboard's data, for ``tierconsole watch``, its
alerts and the console's events screen.

Pure logic over :class:`~.views.DashboardData` on **data time** (``data.time``: the sandbox's clock on a sandbox,
so a sped-up sandbox and the soak benchmark see the same events as a real night; no wall clock is read).

Episodes (a ``start`` event, later one ``end`` with the same ``episode`` id):

- ``quota_over``: a quota row (any of its TPM, RPM, daily quotas) or a reservation (input or output TPM) at or
  over the threshold, as :mod:`.alerts` defines "over" for the whole console; ends once under it for
  ``clear_s`` (hysteresis: a trailing-minute estimate moves every refresh).
- ``throttle_storm``: a model's CloudWatch ``InvocationThrottles`` per *complete* minute at or above
  ``storm_rate`` for ``storm_minutes`` minutes in a row; ends after ``clear_minutes`` minutes below. A minute
  is judged once, when ``data.time`` is ``metric_delay_s`` past its end (CloudWatch publishes late).
- ``error_storm``: the same with ``InvocationServerErrors`` (5xx: an outage) and ``error_rate``.
- ``overflow``: a reservation's requests served by Standard instead of the Reserved tier they asked for
  (the served tier differing from the asked one). Only the sandbox publishes it; on AWS no metric counts it.
- ``stale``: one or more panes failing to collect for ``stale_after_s``; ends when every pane collects again.

Changes (one ``change`` event each): ``batch_state`` (a job's status; a job first seen after the first
refresh is a change from nothing), ``quota_value`` (a quota's TPM or RPM value, as Service Quotas lists it).

The first refresh with no saved state is the baseline: changes need a before; episodes already true then
start at once with ``details.at_start``, as do those of a subject not known at the baseline (a fleet account's
quota use, read a refresh or more later) on the first refresh that judges it. :meth:`Detector.state` is JSON and bounded by the subjects present
(quota rows, reservations, models, jobs of the listing), so a restart resumes where it was: an episode still
open is not started again.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterable, Mapping

from .alerts import quota_fractions, quota_key, threshold_text
from .eventtypes import (BACKWARDS_S, CHANGE_KINDS, EPISODE_KINDS, HISTORY_S, KINDS, MINUTE, ChangeEvent,
                         WatchSettings, _Level, _pct, _span)
from .format import plural
from .views import DashboardData

__all__ = ["BACKWARDS_S", "CHANGE_KINDS", "EPISODE_KINDS", "HISTORY_S", "KINDS", "MINUTE", "ChangeEvent", "Detector",
           "WatchSettings"]  # the data types live in .eventtypes; the detector's users import them from here


class Detector:
    """Turns successive :class:`DashboardData` into :class:`ChangeEvent` s (see the module docstring)."""

    def __init__(self, settings: WatchSettings | None = None, name: str = "watch",
                 state: Mapping[str, Any] | None = None, *, scope: str = "", history_s: float = HISTORY_S):
        self.settings = settings or WatchSettings()
        self.name = name
        self.scope = scope  # a fleet's "<account>|<region>": part of every episode id (ids unique across the fleet)
        self.history_s = history_s  # how far back one refresh's metrics reach (older minutes: unknown)
        self._load(dict(state or {}))

    def _load(self, st: Mapping[str, Any]) -> None:
        self.time: float | None = st.get("time")
        self.baseline: bool = bool(st.get("baseline", False))
        self.open: dict[str, dict[str, Any]] = {k: dict(v) for k, v in st.get("open", {}).items()}
        self.pending: dict[str, float] = dict(st.get("pending", {}))
        self.minute: dict[str, float] = dict(st.get("minute", {}))  # "<kind>|<model>" -> last minute judged
        self.streak: dict[str, list[int]] = {k: list(v) for k, v in st.get("streak", {}).items()}  # [above, below]
        self.quota: dict[str, float] = dict(st.get("quota", {}))  # "<key>|TPM" -> value
        self.jobs: dict[str, str] = dict(st.get("jobs", {}))
        self.epoch: int = int(st.get("epoch", 0))  # data clocks gone back so far: in episode ids (never reused)
        #: subjects not known since the baseline (a fleet's quotas not read yet): judged later, still "at start"
        self.unjudged: set[str] = set(st.get("unjudged", []))
        self._unknown: frozenset[str] = frozenset()
        self._first_judged: frozenset[str] = frozenset()

    def state(self) -> dict[str, Any]:
        return {"time": self.time, "baseline": self.baseline, "open": {k: dict(v) for k, v in self.open.items()},
                "pending": dict(self.pending), "minute": dict(self.minute),
                "streak": {k: list(v) for k, v in self.streak.items()}, "quota": dict(self.quota),
                "jobs": dict(self.jobs), **({"epoch": self.epoch} if self.epoch else {}),
                **({"unjudged": sorted(self.unjudged)} if self.unjudged else {})}

    # ------------------------------------------------------------------ observe
    def observe(self, data: DashboardData, unknown: Iterable[str] = ()) -> list[ChangeEvent]:
        t = data.time
        out: list[ChangeEvent] = self.abandon() if self.went_back(t) else []
        self._unknown = frozenset(unknown)  # subjects not known this refresh (a fleet's quotas not read yet): kept
        # judged for the first time since the baseline: what is true now was (as far as anyone knows) at start
        self._first_judged = frozenset(self.unjudged - self._unknown) if self.baseline else frozenset()
        self.unjudged = (self.unjudged & self._unknown) if self.baseline else set(self._unknown)
        self.time = t
        ok = {pane: data.pane_status(pane).ok for pane in ("reservations", "quota", "throttles", "batch")}
        if ok["quota"]:
            out += self._levels(t, "quota_over", "quota:", self._quota_levels(data))
            out += self._quota_values(t, data)
        if ok["reservations"]:
            out += self._levels(t, "quota_over", "reservation:", self._reservation_levels(data))
            out += self._levels(t, "overflow", "reservation:", self._overflow_levels(data))
        if ok["throttles"]:
            out += self._storms(t, data)
            out += self._error_storms(t, data)
        if ok["batch"]:
            out += self._batch(t, data)
        if "data" not in self._unknown:  # (a fleet cell whose quotas are not read yet: not stale, not recovered)
            bad = [s for s in data.status.values() if not s.ok]
            hold = 0.0 if bad and all(s.at_once for s in bad) else self.settings.stale_after_s
            out += self._levels(t, "stale", "data", [self._stale_level(data)], hold=hold, clear=0.0)
        self.baseline = True
        # deterministic: by kind and subject; one subject's events (a storm that started and ended within the
        # minutes one refresh judged) in the order they happened
        return sorted(out, key=lambda e: (e.kind, e.subject))

    def went_back(self, t: float) -> bool:
        """Data time ``t`` is before this detector's last one (beyond :data:`BACKWARDS_S`): another clock."""
        return self.time is not None and t < self.time - BACKWARDS_S

    def abandon(self) -> list[ChangeEvent]:
        """The data clock went back (a restarted drill sandbox, another data source): every open episode ends
        *abandoned* at the last data time of the old clock (never before it started; not a recovery), and the
        detector starts afresh (a new baseline)."""
        t = self.time or 0.0
        out = [ChangeEvent(key.split("|", 1)[0], "end", max(t, ep["since"]), key.split("|", 1)[1], ep["episode"],
                           f"{ep['label']}: abandoned, the data clock went back (a new sandbox or another data "
                           "source); not judged any further", ep["source"], None, ep.get("limit"), ep["since"],
                           ep.get("model"), self.name, {"abandoned": True, "peak": ep.get("peak"),
                                                        "duration_s": max(0.0, t - ep["since"])})
               for key, ep in sorted(self.open.items())]
        self._load({"epoch": self.epoch + 1})  # a restarted drill may replay the same minutes: new ids
        return out

    def _id(self, *parts: Any) -> str:
        import hashlib  # noqa: PLC0415 - not on the console's way to its first frame
        scoped = ((self.name, self.scope) if self.scope else (self.name,)) + ((f"epoch {self.epoch}",) if self.epoch
                                                                              else ())
        return "ep-" + hashlib.sha256("|".join(map(str, (*scoped, *parts))).encode()).hexdigest()[:12]

    # ------------------------------------------------------------------ level conditions
    def _quota_levels(self, data: DashboardData) -> list[_Level]:
        out = []
        for q in data.quotas:
            fractions = quota_fractions(q)
            if not fractions:
                continue
            measure, value = max(fractions, key=lambda lf: lf[1])
            out.append(_Level("quota_over", "quota:" + quota_key(q), value >= self.settings.threshold, value,
                              self.settings.threshold, "cloudwatch", q.model_id, f"{q.name or q.model_id} {measure}",
                              {"route": q.route, "measure": measure}))
        return out

    def _reservation_levels(self, data: DashboardData) -> list[_Level]:
        out = []
        for r in data.reservations:
            value, measure = max((r.output_fraction, "output"), (r.input_fraction, "input"))
            out.append(_Level("quota_over", "reservation:" + r.reservation_id, value >= self.settings.threshold,
                              value, self.settings.threshold, "cloudwatch", r.model_id,
                              f"reservation {r.reservation_id} {measure} TPM", {"measure": measure}))
        return out

    def _overflow_levels(self, data: DashboardData) -> list[_Level]:
        return [_Level("overflow", "reservation:" + r.reservation_id, r.overflow_tpm > self.settings.overflow_min_tpm,
                       r.overflow_tpm, self.settings.overflow_min_tpm, r.overflow_source or "sandbox", r.model_id,
                       f"reservation {r.reservation_id}", {"asked": "reserved", "served": "default"})
                for r in data.reservations if r.overflow_tpm is not None]

    def _stale_level(self, data: DashboardData) -> _Level:
        bad = {p: (s.reason or "no data") for p, s in sorted(data.status.items()) if not s.ok}
        return _Level("stale", "data", bool(bad), float(len(bad)), None, "console", None, "data",
                      {"panes": bad} if bad else {})

    def _levels(self, t: float, kind: str, prefix: str, levels: Iterable[_Level], *, hold: float | None = None,
                clear: float | None = None) -> list[ChangeEvent]:
        hold = self.settings.hold_s if hold is None else hold
        clear = self.settings.clear_s if clear is None else clear
        by_key = {f"{kind}|{lv.subject}": lv for lv in levels if lv.subject not in self._unknown}  # not judged
        # an open episode whose subject is no longer listed (a model dropped from the profile) ends too
        for key in [k for k in self.open if k.startswith(f"{kind}|{prefix}") and k not in by_key
                    and k.split("|", 1)[1] not in self._unknown]:
            gone = self.open[key]
            by_key[key] = _Level(kind, key.split("|", 1)[1], False, None, gone.get("limit"), gone["source"],
                                 gone.get("model"), gone["label"])
        for key in [k for k in self.pending if k.startswith(f"{kind}|{prefix}") and k not in by_key]:
            del self.pending[key]
        out = []
        for key, lv in by_key.items():
            ep = self.open.get(key)
            if lv.true:
                if ep is not None:
                    ep["clear_since"] = None
                    if lv.value is not None and lv.value > (ep.get("peak") or -math.inf):
                        ep["peak"] = lv.value
                elif t - self.pending.setdefault(key, t) >= hold:
                    out.append(self._start(t, key, lv))
                continue
            self.pending.pop(key, None)
            if ep is None:
                continue
            ep["clear_since"] = t if ep.get("clear_since") is None else ep["clear_since"]
            if t - ep["clear_since"] >= clear:
                out.append(self._end(t, key, lv))
        return out

    def _start(self, t: float, key: str, lv: _Level) -> ChangeEvent:
        since = self.pending.pop(key, t)
        episode = self._id(key, since)
        self.open[key] = {"episode": episode, "since": since, "peak": lv.value, "limit": lv.limit,
                          "source": lv.source, "model": lv.model, "label": lv.label, "clear_since": None}
        details = dict(lv.details)
        if not self.baseline or lv.subject in self._first_judged:
            details["at_start"] = True
        return ChangeEvent(lv.kind, "start", t, lv.subject, episode, self._summary(lv, "start", None), lv.source,
                           lv.value, lv.limit, since, lv.model, self.name, details)

    def _end(self, t: float, key: str, lv: _Level) -> ChangeEvent:
        ep = self.open.pop(key)
        t = max(t, ep["since"])  # data time back by less than BACKWARDS_S: an end is never before its start
        details = {"peak": ep.get("peak"), "duration_s": t - ep["since"]}
        return ChangeEvent(lv.kind, "end", t, lv.subject, ep["episode"],
                           self._summary(lv, "end", ep) + f" (peak {self._peak(lv.kind, ep.get('peak'))}, "
                                                          f"for {_span(t - ep['since'])})",
                           ep["source"], lv.value, ep.get("limit"), ep["since"], ep.get("model"), self.name, details)

    @staticmethod
    def _peak(kind: str, peak: float | None) -> str:
        if kind == "quota_over":
            return _pct(peak)
        if kind == "overflow":
            return "—" if peak is None else f"{peak:,.0f} TPM"
        return "—" if peak is None else f"{peak:g}"

    def _summary(self, lv: _Level, phase: str, ep: Mapping[str, Any] | None) -> str:
        s = self.settings
        if lv.kind == "quota_over":
            return (f"{lv.label} {_pct(lv.value)} ≥ {threshold_text(s.threshold)}" if phase == "start"
                    else f"{lv.label} back under {threshold_text(s.threshold)}")
        if lv.kind == "overflow":
            return (f"{lv.label}: {lv.value:,.0f} TPM asked Reserved, served by Standard ({lv.source})"
                    if phase == "start" else f"{lv.label}: no more overflow to Standard ({lv.source})")
        if lv.kind == "stale":
            panes = lv.details.get("panes", {})
            return ("data stale: " + "; ".join(f"{p}: {why}" for p, why in panes.items()) if phase == "start"
                    else "data recovered: every pane collects again")
        return f"{lv.label} {phase}"

    # ------------------------------------------------------------------ storms (per complete minute)
    def _storms(self, t: float, data: DashboardData) -> list[ChangeEvent]:
        s = self.settings
        counts: dict[tuple[str, float], int] = {}
        models = {q.model_id for q in data.quotas}
        for e in data.throttle_events:
            if e.source == "cloudwatch":
                counts[(e.model_id, e.time)] = counts.get((e.model_id, e.time), 0) + e.count
                models.add(e.model_id)
        models |= {k.split("|model:", 1)[1] for k in self.open if k.startswith("throttle_storm|")}
        last = math.floor((t - MINUTE - s.metric_delay_s) / MINUTE) * MINUTE  # the newest complete minute
        first_known = math.floor(t / MINUTE) * MINUTE - self.history_s
        out = []
        for model in sorted(models):
            key = f"throttle_storm|{model}"
            cursor = self.minute.get(key, last - s.storm_minutes * MINUTE)
            m = max(cursor + MINUTE, first_known)  # older minutes are not in this refresh: unknown, not zero
            while m <= last:
                out += self._judge_minute(t, "throttle_storm", model, m, counts.get((model, m), 0), s.storm_rate)
                m += MINUTE
            self.minute[key] = max(cursor, last)
        self._forget("throttle_storm", models)
        return out

    def _error_storms(self, t: float, data: DashboardData) -> list[ChangeEvent]:
        """Server errors (``InvocationServerErrors``, 5xx) per complete minute, from each model's last complete
        minute (:attr:`DashboardData.usage_minutes`): a minute no refresh carried is unknown, never zero."""
        counts: dict[tuple[str, float], int] = {}
        for row in data.usage_minutes:
            if row.server_errors is not None:
                counts[(row.model_id, row.time)] = counts.get((row.model_id, row.time), 0) + row.server_errors
        out = []
        models = {m for m, _ in counts} | {k.split("|model:", 1)[1] for k in self.open if k.startswith("error_storm|")}
        for (model, minute), count in sorted(counts.items()):
            key = f"error_storm|{model}"
            if minute <= self.minute.get(key, -math.inf) or t < minute + MINUTE + self.settings.metric_delay_s:
                continue
            out += self._judge_minute(t, "error_storm", model, minute, count, self.settings.error_rate)
            self.minute[key] = minute
        self._forget("error_storm", models)
        return out

    def _forget(self, kind: str, models: set[str]) -> None:
        for gone in [k for k in self.minute if k.startswith(kind + "|") and k.split("|", 1)[1] not in models]:
            del self.minute[gone]
            self.streak.pop(gone, None)

    def _judge_minute(self, t: float, kind: str, model: str, minute: float, count: int,
                      rate: float) -> list[ChangeEvent]:
        s = self.settings
        key = f"{kind}|model:{model}"
        above, below = self.streak.get(f"{kind}|{model}", [0, 0])
        above, below = (above + 1, 0) if count >= rate else (0, below + 1)
        self.streak[f"{kind}|{model}"] = [above, below]
        ep = self.open.get(key)
        lv = _Level(kind, "model:" + model, count >= rate, float(count), rate, "cloudwatch", model, model,
                    {"minute": minute})
        what, unit = ("throttle storm", "throttled") if kind == "throttle_storm" else ("server error storm",
                                                                                       "server errors (5xx)")
        if ep is None and above >= s.storm_minutes:
            self.pending[key] = minute - (s.storm_minutes - 1) * MINUTE
            e = self._start(t, key, lv)
            return [dataclasses.replace(e, summary=f"{what} on {model}: {count:,} {unit} in the minute ≥ {rate:g}/min")]
        if ep is not None:
            if count > (ep.get("peak") or 0):
                ep["peak"] = float(count)
            if below >= s.clear_minutes:
                e = self._end(t, key, lv)
                return [dataclasses.replace(
                    e, summary=f"{what} on {model} over: {count:,} in the minute < {rate:g}/min "
                               f"(peak {ep.get('peak') or 0:,.0f}/min, for {_span(t - ep['since'])})",
                    details={**e.details, "minute": minute})]
        return []

    # ------------------------------------------------------------------ changes
    def _change(self, t: float, kind: str, subject: str, summary: str, source: str, model: str | None,
                details: dict[str, Any], value: float | None = None) -> ChangeEvent:
        return ChangeEvent(kind, "change", t, subject, self._id(kind, subject, t, details.get("to")), summary,
                           source, value, None, None, model, self.name, details)

    def _batch(self, t: float, data: DashboardData) -> list[ChangeEvent]:
        out = []
        seen: dict[str, str] = {}
        for job in data.batch_jobs:
            seen[job.job_arn] = job.status
            before = self.jobs.get(job.job_arn)
            if before == job.status or (before is None and not self.baseline):
                continue
            what = f"batch job {job.job_name}: {before or 'new'} → {job.status}"
            if job.total_records:
                what += f" ({job.processed:,}/{job.total_records:,} records, {plural(job.errors, 'error')})"
            out.append(self._change(t, "batch_state", "job:" + job.job_arn, what, "bedrock", job.model_id,
                                    {"from": before, "to": job.status, "job_name": job.job_name}))
        self.jobs = seen  # only the listing's jobs: bounded by it
        return out

    def _quota_values(self, t: float, data: DashboardData) -> list[ChangeEvent]:
        out = []
        present = set()
        for q in data.quotas:
            for measure, value in (("TPM", q.tpm_quota), ("RPM", q.rpm_quota)):
                if not value:  # 0: not known (not listed yet), never a change
                    continue
                key = f"{quota_key(q)}|{measure}"
                present.add(key)
                before = self.quota.get(key)
                self.quota[key] = value
                if before is not None and before != value:
                    out.append(self._change(
                        t, "quota_value", f"quota:{quota_key(q)}:{measure}",
                        f"{q.name or q.model_id} {measure} quota {before:,.0f} → {value:,.0f}", "service-quotas",
                        q.model_id, {"from": before, "to": value, "measure": measure}, value))
        for gone in [k for k in self.quota if k not in present]:
            del self.quota[gone]
        return out
