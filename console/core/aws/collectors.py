"""Collectors: poll AWS (or the sandbox) and turn the answers into the dashboard's plain data.

Per refresh, per region: one ``GetMetricData`` for every model, tier and metric on screen (the
batch throughput of models with active jobs included) and one ``ListModelInvocationJobs``. Service Quotas,
``ListFoundationModels`` and the ``ListMetrics`` discovery of the per-tier form (AWS's ``ModelId=<model>+priority``
suffix or a ``ServiceTier`` dimension: one call, a second page only beyond 500 series) are cached and refreshed
rarely. A failed call keeps the pane's last good data and marks it stale with the reason; the caller backs off.
"""
from __future__ import annotations

import asyncio
import math
import time
from dataclasses import replace
from typing import Any, Awaitable, Callable, Iterable

from ..domain import app_profiles as ap
from ..domain import incident as inc
from ..domain import metricsplan as mp
from ..domain import quota_use as qu
from ..domain.catalog import ReservationSpec
from ..domain.quotas import CROSS_REGION_ROUTE, GLOBAL_ROUTE, ON_DEMAND_ROUTE, Measure, QuotaKind
from ..domain.quota_requests import QuotaRequestView, with_requests
from ..domain.views import BatchJobView, DashboardData, PaneStatus, ThrottleEvent
from .answers import job_view, merge_events, open_requests, timeout_reason
from .listing import CallCounter as CallCounter  # where it was, for its users
from .listing import inference_profiles, list_quotas, pages
from .session import AwsContext, describe_error

REPORT_TTL_S = 15 * 60.0  # "Reports are automatically deleted after 15 minutes."
#: The per-tier form and series are listed again after this long (a slow cadence, not every refresh) ...
DISCOVERY_EVERY_S = 300.0
#: ... or after this long while a watched model has no per-tier series yet (new tiers appear as traffic arrives).
DISCOVERY_UNSEEN_EVERY_S = 60.0
MAX_CONSOLE_EVENTS = 100_000


class Collector:
    def __init__(self, ctx: AwsContext, *, clock: Callable[[], float] = time.time,
                 history_minutes: int = mp.HISTORY_MINUTES, region: str | None = None):
        self.ctx = ctx
        self.region = region or ctx.profile.region
        self.history_minutes = history_minutes
        self.answers: mp.Answers | None = None  # the last good metric answers (for status and triage)
        self.errors: dict[str, str] = {}
        self.clock = clock
        self.calls = CallCounter()
        self.profile = ctx.profile
        self._account: str | None = None
        self._names: dict[str, str] = {}
        self._tpm: dict[str, float] = {}
        self._rpm: dict[str, float] = {}
        self._listed = qu.Listed()
        self._profiles: dict[str, dict[str, list[str]]] = {}
        self.apps: tuple[ap.AppProfile, ...] = ()  # the account's application inference profiles
        self._report: dict[str, float] | None = None  # quota name -> Utilization % (None: no report read yet)
        self._report_id: str | None = None
        self._report_started = self._quotas_at = self._tiers_at = -1e18
        self._report_due = self._profiles_due = False
        self._requests: tuple[QuotaRequestView, ...] = ()
        self._tiers: dict[str, set[str]] = {}  # model -> tiers the panes can show (see metricsplan.Discovery.tiers)
        self._published: dict[str, frozenset[str]] = {}  # model -> tiers asked, in the discovered form
        self.discovery = mp.Discovery(form=None if self.profile.metrics.tier_form == "auto" else
                                      self.profile.metrics.tier_form, bare=self.profile.metrics.bare_model_id)
        self._events_key: tuple[Any, ...] = ()
        self._events: tuple[ThrottleEvent, ...] = ()
        self._last = DashboardData(time=clock(), profile=self.profile.name, region=self.region,
                                   endpoint=ctx.target.endpoint_url, is_sandbox=ctx.target.sandbox,
                                   read_only=self.profile.read_only)
        self._status: dict[str, PaneStatus] = {}
        self.console_events: list[ThrottleEvent] = []  # throttles from the console's own calls, newest last
        self._progress: dict[str, tuple[float, int]] = {}  # job ARN -> (first seen InProgress, processed then)

    # ------------------------------------------------------------------ models
    @property
    def tiers(self) -> dict[str, set[str]]:
        return self._tiers

    @property
    def names(self) -> dict[str, str]:
        return self._names

    @property
    def reservations(self) -> tuple[ReservationSpec, ...]:
        """The profile's reservations in this collector's region (reserved capacity is in one region)."""
        return tuple(r for r in self.profile.reservations if r.region in (None, self.region))

    def quota(self, model_id: str) -> tuple[float, float]:
        """(TPM quota, RPM quota) of a model, 0 when not known."""
        return self._tpm.get(model_id, 0.0), self._rpm.get(model_id, 0.0)

    @property
    def models(self) -> list[str]:
        if self.profile.models:
            return list(self.profile.models)
        return sorted(self._names) or [r.model_id for r in self.reservations]

    def requery_quotas(self) -> None:
        """Read the quotas and the open increase requests on the next refresh (one was just filed)."""
        self._quotas_at = -1e18

    def note_console_throttle(self, event: ThrottleEvent) -> None:
        self.console_events.append(event)
        if len(self.console_events) > MAX_CONSOLE_EVENTS:
            del self.console_events[: len(self.console_events) - MAX_CONSOLE_EVENTS]

    # ------------------------------------------------------------------ slow, cached
    async def _identity(self) -> None:
        if self._account is None:
            sts = await self.ctx.client("sts", self.region)
            self.calls.add("GetCallerIdentity")
            self._account = (await sts.get_caller_identity())["Account"]

    async def _quotas(self, now: float) -> None:
        """The slow quota cadence (``quota_refresh_seconds``): models, every Bedrock quota, the open increase
        requests, the inference profiles, and the utilization report (started on one pass, read on the next)."""
        if now - self._quotas_at < self.profile.quota_refresh_seconds and self._listed.specs:
            return
        names, listed = await list_quotas(self.ctx, self.region, self.profile.quota_names, self.calls)
        self._names, self._listed, self._profiles_due = names, listed, True
        sq = await self.ctx.client("service-quotas", self.region)  # the client list_quotas used (one per region)
        self._requests = await open_requests(sq, self._pages, self._requests)  # for the pane, on this cadence
        self._tpm = {m: v for m in names if (v := listed.minute(m, QuotaKind.ON_DEMAND, Measure.TOKENS))}
        self._rpm = {m: v for m in names if (v := listed.minute(m, QuotaKind.ON_DEMAND, Measure.REQUESTS))}
        self._quotas_at, self._report_due = now, True

    async def _list_profiles(self, now: float) -> None:
        """The inference profiles (each model's routes' series; application ones with what each copies), on the
        quota cadence and on the discovery one (an application profile made or deleted is seen within five
        minutes, as its series are). Its failure (a role without bedrock:ListInferenceProfiles) leaves the on-demand rows
        whole and is reported under ``profiles``; the routes known before stay."""
        if not self._profiles_due:
            return
        self._profiles_due = False
        bedrock = await self.ctx.client("bedrock", self.region)
        self.apps, self._profiles = await inference_profiles(bedrock, self.region, self.calls)

    async def _pages(self, call: Callable[..., Awaitable[dict[str, Any]]], op: str, key: str,
                     kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        """Every item of a paged listing (``NextToken``/``nextToken`` as the operation names it)."""
        return await pages(call, op, key, kwargs, self.calls)

    async def _start_report(self, now: float) -> None:
        """Start a utilization report on the quota cadence; :meth:`_read_report` reads it after the metrics
        (or on a later refresh while it is being made). Its failure never marks the quota pane stale."""
        if not self._report_due:
            return
        self._report_due = False
        sq = await self.ctx.client("service-quotas", self.region)
        self.calls.add("StartQuotaUtilizationReport")
        started = await sq.start_quota_utilization_report()
        self._report_id, self._report_started = started["ReportId"], now

    async def _read_report(self, now: float) -> None:
        """Get the started report until it is COMPLETED (one call a refresh), then keep its figures until the
        next one: a day's use of a quota has no metric, only this report. A report AWS deleted (15 minutes) or
        that failed is dropped; the figures read before stay (they carry no clock: at most one quota period old)."""
        if self._report_id is None:
            return
        if now - self._report_started >= REPORT_TTL_S:
            self._report_id = None
            return
        sq = await self.ctx.client("service-quotas", self.region)
        kwargs = {"ReportId": self._report_id, "MaxResults": 1000}
        rows: list[dict[str, Any]] = []
        while True:
            self.calls.add("GetQuotaUtilizationReport")
            page = await sq.get_quota_utilization_report(**kwargs)
            status = page.get("Status")
            if status != "COMPLETED":
                if status == "FAILED":
                    self._report_id = None
                return
            rows += page.get("Quotas", [])
            if not page.get("NextToken"):
                break
            kwargs = {**kwargs, "NextToken": page["NextToken"]}
        self._report, self._report_id = qu.report_use(rows), None

    async def _discover_tiers(self, now: float) -> None:
        """One ``ListMetrics`` of ``AWS/Bedrock`` ``Invocations`` active in the last 3 hours: which per-tier form the
        account publishes and the series of each model (more pages only beyond 500 series)."""
        if now - self._tiers_at < self.discovery_every:
            return
        self._profiles_due = True  # the series found and the profiles they belong to, on one cadence
        cw = await self.ctx.client("cloudwatch", self.region)
        listed: list[dict[str, Any]] = []
        token = None
        while True:
            kwargs = {"Namespace": mp.NAMESPACE, "MetricName": "Invocations", "RecentlyActive": "PT3H"}
            if token:
                kwargs["NextToken"] = token
            self.calls.add("ListMetrics")
            page = await cw.list_metrics(**kwargs)
            listed += page.get("Metrics", [])
            token = page.get("NextToken")
            if not token:
                break
        settings = self.profile.metrics
        self._apply_discovery(mp.discover(listed, settings.tier_form, settings.bare_model_id), now)

    def _apply_discovery(self, d: mp.Discovery, now: float) -> None:
        reserved = {r.model_id for r in self.reservations}
        models = set(self.models) | set(d.series)
        self.discovery = d
        self._published = {m: d.published(m, m in reserved) for m in models}
        self._tiers = {m: set(d.tiers(m, m in reserved)) for m in models if d.tiers(m, m in reserved)}
        self._tiers_at = now

    @property
    def discovery_every(self) -> float:
        """Seconds between two discoveries now: slow once every watched model's tiers are seen."""
        return DISCOVERY_UNSEEN_EVERY_S if any(not self._published.get(m) for m in self.models) else DISCOVERY_EVERY_S

    def throttle_sources(self) -> tuple[list[str], dict[str, set[str]]]:
        """The series whose ``InvocationThrottles`` are the operator's and the tiers read: the watched models',
        and their inference profiles' (a profile call counts under the profile's ``ModelId``) as totals."""
        models = self.models
        series = [s for s in self._route_series() if s not in models]
        return [*models, *series], {**self._tiers, **{s: set() for s in series}}

    def route_of(self, series: str) -> tuple[str, str] | None:
        """(model, route) of an inference profile's series (``us.<model>``…), None for anything else."""
        found = ((m, route) for m, kinds in self._profiles.items() for route, names in kinds.items() if series in names)
        return next(found, None)

    def _route_series(self) -> list[str]:
        """The profile series of the watched models (their cross-region and global routes)."""
        return [s for m in self.models for kind, series in self._profiles.get(m, {}).items() for s in series]

    # ------------------------------------------------------------------ per refresh
    def metric_plan(self, now: float, batch_models: Iterable[str] = ()) -> mp.Plan:
        """This refresh's one GetMetricData: every watched model, its tiers in the discovered form, and the
        series of its inference-profile routes."""
        if not self._published and self.discovery.form is not None:  # discovery failed: the profile's form
            self._apply_discovery(self.discovery, self._tiers_at)
        form = self.discovery.form or mp.DIMENSION
        p = mp.plan(self.models, self._published, [r.model_id for r in self.reservations], now,
                    self.history_minutes, sandbox=self.ctx.target.sandbox, batch_models=batch_models,
                    form=form, bare=self.discovery.bare)
        # the watched models' cross-region and global profile series ride in the same call, with the tiers
        # discovery saw published for them (a series already asked as a watched model is not asked twice)
        p = qu.with_route_queries(p, self._route_series(), tiers=self.discovery.series, form=form,
                                  bare=self.discovery.bare)
        return qu.with_split_queries(p, qu.split_series(self._listed, self.models, self._profiles))

    async def _metrics(self, now: float) -> mp.Answers:
        # Batch throughput is asked for the models with active jobs at the last refresh (the job list
        # is fetched beside this call, not before it).
        batch_models = {mp.batch_metric_model(j.model_id) for j in self._last.batch_jobs if j.active}
        p = self.metric_plan(now, batch_models)
        cw = await self.ctx.client("cloudwatch", self.region)
        from datetime import datetime, timezone  # noqa: PLC0415

        results = []
        token = None
        while True:  # one call; a second page only when CloudWatch cuts the answer
            kwargs = {"MetricDataQueries": p.api_queries(),
                      "StartTime": datetime.fromtimestamp(p.start, timezone.utc),
                      "EndTime": datetime.fromtimestamp(p.end, timezone.utc), "ScanBy": "TimestampDescending"}
            if token:
                kwargs["NextToken"] = token
            self.calls.add("GetMetricData")
            page = await cw.get_metric_data(**kwargs)
            results += page.get("MetricDataResults", [])
            token = page.get("NextToken")
            if not token:
                break
        return mp.Answers.from_results(p, results)

    async def _batch(self) -> list[dict[str, Any]]:
        bedrock = await self.ctx.client("bedrock", self.region)
        self.calls.add("ListModelInvocationJobs")
        page = await bedrock.list_model_invocation_jobs(maxResults=100, sortBy="CreationTime", sortOrder="Descending")
        jobs: list[dict[str, Any]] = page.get("invocationJobSummaries", [])
        return jobs

    def _job_views(self, summaries: list[dict[str, Any]], answers: mp.Answers | None, now: float) -> list[BatchJobView]:
        """Job views with the model's batch throughput and the progress this console has seen."""
        progress: dict[str, tuple[float, int]] = {}
        jobs = []
        views = [job_view(summary) for summary in summaries]
        for job in views:
            if job.status == "InProgress":
                progress[job.job_arn] = self._progress.get(job.job_arn) or (now, job.processed)
                since, done = progress[job.job_arn]
                job = replace(job, progress_since=since, processed_since=done, observed_at=now)
            if job.active and answers is not None:
                rates = mp.batch_rates(answers, job.model_id, now, since=mp.job_minutes_from(job, views))
                job = replace(job, model_input_tpm=rates.input_tpm, model_output_tpm=rates.output_tpm,
                              model_pending_records=rates.pending_records, model_tpm_minute=rates.minute)
            jobs.append(job)
        self._progress = progress
        return jobs

    def _usage_minutes(self, answers: mp.Answers, now: float) -> tuple[inc.Minute, ...]:
        """Each model's last complete minute, as the incident view's timeline has it (a recording of the
        dashboard so holds every minute, and a replay can open incident views)."""
        minute = (math.floor(now / mp.PERIOD) - 1) * mp.PERIOD
        reserved = {r.model_id for r in self.reservations}
        return tuple(row for model in self.models for route in self.routes_with_traffic(answers, model)
                     for row in self.route_timeline(answers, model, route, minute, minute, model in reserved))

    def routes_with_traffic(self, answers: mp.Answers, model: str) -> list[str]:
        """On-demand, and each profile route of the model whose series had traffic in the answers."""
        series = qu.route_series(model, self._profiles)
        return [ON_DEMAND_ROUTE] + [r for r in (CROSS_REGION_ROUTE, GLOBAL_ROUTE)
                                       if qu.route_has_traffic(answers, series[r])]

    def route_timeline(self, answers: mp.Answers, model: str, route: str, start: float, end: float,
                       reserved: bool = False) -> list[inc.Minute]:
        """The incident timeline of one model's route, its rows naming the route's quotas."""
        named = self._listed.route_timeline_args(model, route, self.region)
        series = qu.route_series(model, self._profiles)[route]
        if route == ON_DEMAND_ROUTE:  # the model's own series, with the application profiles copying it if any
            return inc.timeline(answers, model, self._tiers.get(model, ()), *self.quota(model), start, end,
                                reserved, series=series if len(series) > 1 else None, **named)
        kind = {CROSS_REGION_ROUTE: QuotaKind.CROSS_REGION, GLOBAL_ROUTE: QuotaKind.GLOBAL}[route]
        return inc.timeline(answers, model, (), self._listed.minute(model, kind, Measure.TOKENS),
                            self._listed.minute(model, kind, Measure.REQUESTS), start, end,
                            series=series, **named)

    async def refresh(self) -> DashboardData:
        """Collect once. Never raises for an AWS error: failed panes keep their data, marked stale.

        The whole refresh is bounded by the profile's ``timeouts.calls`` (its calls run one after another: a
        hung endpoint must not cost one read timeout per call), and a timeout names that setting."""
        now = self.clock()
        last = self._last
        errors: dict[str, str] = {}
        timeouts = self.ctx.profile.timeouts
        deadline = asyncio.get_running_loop().time() + timeouts.calls

        async def guarded(name: str, step: Callable[..., Awaitable[Any]], *args: Any) -> Any:
            try:  # the coroutine is made here: a task cancelled before it starts leaves none un-awaited
                async with asyncio.timeout_at(deadline):
                    return await step(*args)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure becomes a stale pane, never a crash
                errors[name] = timeout_reason(exc, timeouts) or describe_error(exc)
                return None

        await guarded("identity", self._identity)
        await guarded("quotas", self._quotas, now)
        await guarded("discovery", self._discover_tiers, now)
        await guarded("profiles", self._list_profiles, now)
        await guarded("report", self._start_report, now)
        answers, summaries = await asyncio.gather(guarded("metrics", self._metrics, now),
                                                  guarded("batch", self._batch))
        await guarded("report", self._read_report, now)

        reservations, quotas = last.reservations, last.quotas
        events, rates, usage = last.throttle_events, last.throttle_rates, last.usage_minutes
        if answers is not None:
            self.answers = answers
            reservations = mp.reservation_views(answers, self.reservations, now)
            quotas = with_requests(qu.quota_views(
                answers, mp.quota_views(answers, self.models, self._names, self._tpm, self._rpm, self._tiers, now),
                self._listed, self._profiles, self._report, now, region=self.region,
                sandbox=self.ctx.target.sandbox, apps=self.apps), self._requests)
            cw_events = mp.throttle_events(answers, *self.throttle_sources(), labels={a.arn: a.label for a in self.apps})
            # Unchanged events keep the same tuple, so the throttle pane skips a 100k-item comparison.
            key = (tuple(cw_events), len(self.console_events))
            if key != self._events_key:
                self._events_key, self._events = key, merge_events(cw_events, self.console_events)
            events = self._events
            rates = mp.throttle_rates(answers, self.models, self._tiers, now)
            usage = self._usage_minutes(answers, now)
        batch = self._job_views(summaries, answers, now) if summaries is not None else last.batch_jobs
        metric_err = errors.get("metrics")
        quota_err = errors.get("quotas") or metric_err
        for pane, err in (("reservations", metric_err), ("quota", quota_err), ("throttles", metric_err),
                          ("batch", errors.get("batch"))):
            prev = self._status.get(pane, PaneStatus(ok=True, updated_at=None))
            self._status[pane] = PaneStatus(ok=False, updated_at=prev.updated_at, reason=err) if err else \
                PaneStatus(ok=True, updated_at=now)
        self._last = replace(last, time=now, account_id=self._account, reservations=tuple(reservations),
                             quotas=tuple(quotas), throttle_events=events, throttle_rates=rates,
                             batch_jobs=tuple(batch), status=dict(self._status), usage_minutes=usage)
        self.errors = errors
        return self._last
