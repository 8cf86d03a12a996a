"""The fleet collector (issue 15): every source account × region × series in one view, from the monitoring
account's CloudWatch cross-account observability.

Per refresh, per region (concurrently): ``ceil((Q + 1) / 500)`` ``GetMetricData`` calls with ``AccountId`` per
query (:mod:`..domain.fleetplan`), nothing else. On a slow cadence (``fleet.discovery_seconds``): the links
(``oam:ListSinks`` + ``oam:ListAttachedLinks``: account ids and labels) and the series
(``ListMetrics`` with ``IncludeLinkedAccounts``). On a slower one (``fleet.quota_refresh_seconds``), in the
background and at most :data:`MAX_QUOTA_READS` at once: each account's quotas, read through the account
itself (:mod:`.fleet_access`).

Faults are kept to the smallest scope that failed: a call that fails marks stale the accounts with a query in
it; a ``Forbidden`` result marks its account stale in that region; a region whose calls all fail (or whose
endpoint is down) is stale as a whole; a source account that cannot be reached only loses its quota use.
Stale rows keep their last good figures. :meth:`FleetCollector.refresh` never raises for an AWS error.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any, Callable

from ..domain import fleetplan as fp
from ..domain import fleetrows as fr
from ..domain import metricsplan as mp
from ..domain.quota_use import Listed
from . import fleet_cache
from .answers import timeout_reason
from .listing import CallCounter
from .fleet_access import NO_ACCESS, AccessRefused, AccountContexts
from .listing import list_quotas, pages
from .session import AwsContext, describe_error

MAX_QUOTA_READS = 8
METRIC_RESOURCE = "AWS::CloudWatch::Metric"


def link_account(link_arn: str) -> str | None:
    """The source account of a link ARN (``arn:aws:oam:REGION:SOURCE:link/ID``)."""
    parts = link_arn.split(":")
    return parts[4] if len(parts) > 5 and parts[2] == "oam" and fp_is_account(parts[4]) else None


def fp_is_account(text: str) -> bool:
    return len(text) == 12 and text.isdigit()


class FleetCollector:
    def __init__(self, ctx: AwsContext, *, clock: Callable[[], float] = time.time,
                 accounts: AccountContexts | None = None, regions: tuple[str, ...] | None = None,
                 cache: bool = True):
        if ctx.profile.fleet is None:
            raise ValueError(f"profile {ctx.profile.name!r} has no fleet: section")
        self.ctx, self.profile, self.spec, self.clock = ctx, ctx.profile, ctx.profile.fleet, clock
        self.regions = tuple(regions or ctx.profile.regions)
        self.calls = CallCounter()
        self.accounts = accounts or AccountContexts(ctx, self.spec, self.calls)
        self.monitoring_account: str | None = None
        self._links: dict[str, dict[str, str]] = {}  # region -> account -> label
        self._series: dict[str, dict[str, mp.Discovery]] = {}  # region -> account -> its series and tiers
        self._discovered_at: dict[str, float] = {}
        self._quotas: dict[tuple[str, str], tuple[float, Listed | None, str | None]] = {}
        self._quota_tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._rows: dict[tuple[str, str], list[fr.FleetRow]] = {}  # last good rows per (account, region)
        self._sem: asyncio.Semaphore | None = None
        self.query_limit = mp.MAX_QUERIES  # GetMetricData's; smaller only to exercise splits
        #: the quota listings on disk (fleet_cache.py): a one-shot command reads them instead of every account's
        self.cache_path = fleet_cache.cache_path(self.profile.name) if cache else None
        if self.cache_path is not None:
            for key, (at, listed) in fleet_cache.load(self.cache_path, ctx.target.endpoint_url).items():
                self._quotas[key] = (at, listed, None)
        self.last: fr.FleetSnapshot | None = None

    @property
    def sandbox(self) -> bool:
        return self.ctx.target.sandbox

    # ------------------------------------------------------------------ names
    def label(self, account_id: str) -> str:
        return self.spec.names.get(account_id) or next(
            (links[account_id] for links in self._links.values() if account_id in links), "")

    def name_source(self, account_id: str) -> str:
        if account_id in self.spec.names:
            return "profile names:"
        return "link label" if any(account_id in links for links in self._links.values()) else "id"

    # ------------------------------------------------------------------ slow cadence
    async def _identity(self) -> None:
        if self.monitoring_account is None:
            sts = await self.ctx.client("sts", self.regions[0])
            self.calls.add("GetCallerIdentity")
            self.monitoring_account = (await sts.get_caller_identity())["Account"]

    async def _discover(self, region: str, now: float) -> None:
        if now - self._discovered_at.get(region, -1e18) < self.spec.discovery_seconds:
            return
        oam = await self.ctx.client("oam", region)
        links: dict[str, str] = {}
        for sink in await pages(oam.list_sinks, "ListSinks", "Items", {"MaxResults": 100}, self.calls):
            for link in await pages(oam.list_attached_links, "ListAttachedLinks", "Items",
                                    {"SinkIdentifier": sink["Arn"], "MaxResults": 1000}, self.calls):
                account = link_account(link.get("LinkArn", ""))
                if account and METRIC_RESOURCE in link.get("ResourceTypes", []):
                    links[account] = link.get("Label") or ""
        cw = await self.ctx.client("cloudwatch", region)
        by_account: dict[str, list[dict[str, Any]]] = {}
        kwargs: dict[str, Any] = {"Namespace": mp.NAMESPACE, "MetricName": "Invocations", "RecentlyActive": "PT3H",
                                  "IncludeLinkedAccounts": True}
        while True:
            self.calls.add("ListMetrics")
            page = await cw.list_metrics(**kwargs)
            for metric, owner in zip(page.get("Metrics", []), page.get("OwningAccounts", [])):
                by_account.setdefault(owner, []).append(metric)
            if not page.get("NextToken"):
                break
            kwargs = {**kwargs, "NextToken": page["NextToken"]}
        settings = self.profile.metrics
        self._links[region] = links
        self._series[region] = {a: mp.discover(m, settings.tier_form, settings.bare_model_id)
                                for a, m in by_account.items() if a not in self.spec.exclude}
        self._discovered_at[region] = now

    def _start_quota_reads(self, region: str, now: float) -> None:
        for account in self._series.get(region, {}):
            key = (account, region)
            at = self._quotas.get(key, (-1e18, None, None))[0]
            if now - at < self.spec.quota_refresh_seconds or key in self._quota_tasks:
                continue
            self._quota_tasks[key] = asyncio.ensure_future(self._read_quotas(account, region, now))

    async def _read_quotas(self, account: str, region: str, now: float) -> None:
        if self._sem is None:
            self._sem = asyncio.Semaphore(MAX_QUOTA_READS)
        try:
            async with self._sem:
                ctx = await self.accounts.open(account, self.label(account) or None, region)
                try:
                    _, listed = await list_quotas(ctx, region, self.profile.quota_names, self.calls)
                finally:
                    await ctx.close()
            self._quotas[(account, region)] = (now, listed, None)
        except asyncio.CancelledError:
            raise
        except AccessRefused as exc:
            self._quotas[(account, region)] = (now, None, str(exc))
        except Exception as exc:  # noqa: BLE001 - this account's quota use is unknown, said why; metrics stay
            self._quotas[(account, region)] = (now, None, f"quotas: {describe_error(exc)}")
        finally:
            self._quota_tasks.pop((account, region), None)

    @property
    def quotas_pending(self) -> bool:
        return bool(self._quota_tasks)

    async def settle(self) -> None:
        """Wait for the quota reads in flight (a one-shot command judges with every account's quotas), then keep
        what they read on disk."""
        if not self._quota_tasks:
            return
        while self._quota_tasks:
            await asyncio.gather(*list(self._quota_tasks.values()), return_exceptions=True)
        self.save_cache()

    def save_cache(self) -> None:
        if self.cache_path is None:
            return
        good = {k: (at, listed) for k, (at, listed, _) in self._quotas.items() if listed is not None}
        try:
            fleet_cache.save(self.cache_path, self.ctx.target.endpoint_url, good)
        except OSError:  # a cache that cannot be written is read again next time; nothing else depends on it
            pass

    # ------------------------------------------------------------------ per refresh
    def series_of(self, region: str) -> dict[str, list[str]]:
        out = {}
        for account, d in self._series.get(region, {}).items():
            series = sorted(d.series)
            if self.spec.models:
                series = [s for s in series if fr.route_of(s)[0] in self.spec.models or s in self.spec.models]
            if series:
                out[account] = series
        return out

    def form_of(self, region: str) -> str | None:
        seen = [d.form for d in self._series.get(region, {}).values() if d.seen]
        if seen:
            return mp.DIMENSION if mp.DIMENSION in seen else mp.SUFFIX
        form = self.profile.metrics.tier_form
        return None if form == "auto" else form

    def plan(self, region: str, now: float) -> fp.RegionPlan:
        reserved = {a: self.spec.reserved_models(a) for a in self.spec.reservations}
        return fp.plan_region(region, self.series_of(region), reserved, now, sandbox=self.sandbox,
                              form=self.form_of(region), bare=self.profile.metrics.bare_model_id,
                              limit=self.query_limit, insights=self.spec.use_insights(self.sandbox))

    async def _call(self, cw: Any, plan: fp.RegionPlan, call: fp.Call) -> list[dict[str, Any]]:
        from datetime import datetime, timezone  # noqa: PLC0415

        results: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"MetricDataQueries": call.api_queries(),
                                  "StartTime": datetime.fromtimestamp(plan.start, timezone.utc),
                                  "EndTime": datetime.fromtimestamp(plan.end, timezone.utc),
                                  "ScanBy": "TimestampDescending"}
        while True:
            self.calls.add("GetMetricData")
            page = await cw.get_metric_data(**kwargs)
            results += page.get("MetricDataResults", [])
            if not page.get("NextToken"):
                return results
            kwargs = {**kwargs, "NextToken": page["NextToken"]}

    async def _region(self, region: str, now: float, region_stale: dict[str, str],
                      account_stale: dict[tuple[str, str], str]) -> tuple[fp.RegionPlan, fp.FleetAnswers] | None:
        timeouts = self.profile.timeouts
        try:
            async with asyncio.timeout(timeouts.calls):
                await self._discover(region, now)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - discovery keeps what it knew; a region never read is stale
            reason = timeout_reason(exc, timeouts) or describe_error(exc)
            if region not in self._discovered_at:
                region_stale[region] = f"discovery: {reason}"
                return None
        self._start_quota_reads(region, now)
        plan = self.plan(region, now)
        if not plan.query_count:
            return plan, fp.FleetAnswers()
        results: dict[int, list[dict[str, Any]]] = {}
        errors: dict[int, str] = {}
        cw = await self.ctx.client("cloudwatch", region)

        async def one(call: fp.Call) -> None:
            try:
                async with asyncio.timeout(timeouts.calls):
                    results[call.index] = await self._call(cw, plan, call)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the accounts of this call are stale, nothing else
                errors[call.index] = timeout_reason(exc, timeouts) or describe_error(exc)

        await asyncio.gather(*(one(c) for c in plan.calls))
        if errors and not results:
            region_stale[region] = next(iter(errors.values()))
        for call in plan.calls:
            if call.index in errors:
                for account in call.accounts:
                    account_stale[(account, region)] = errors[call.index]
        published = {(a, s): d.published(s) for a, d in self._series.get(region, {}).items() for s in d.series}
        answers = fp.read_answers(plan, results, sandbox=self.sandbox, published=published)
        for account in answers.forbidden:
            account_stale.setdefault((account, region), f"not linked to this monitoring account in {region} "
                                                        "(GetMetricData: Forbidden)")
        return plan, answers

    def _quota_state(self, account: str, region: str) -> tuple[Listed | None, str | None]:
        if self.accounts.rule(account, self.label(account) or None) is None:
            return None, NO_ACCESS
        _, listed, note = self._quotas.get((account, region), (0.0, None, "quotas not read yet"))
        return listed, note

    async def refresh(self, *, wait_quotas: bool = False, quota_wait_s: float | None = None) -> fr.FleetSnapshot:
        """Collect once (every region concurrently). ``wait_quotas``: wait for the quota reads this refresh
        started (a one-shot command), instead of showing "quotas not read yet" until they land; ``quota_wait_s``:
        wait at most that long for the *first* read of an account × region's quotas (a watch: its quota use is
        judged from the first refresh that has its rows; a later re-read never holds a refresh up)."""
        now = self.clock()
        before = dict(self.calls.counts)
        try:
            async with asyncio.timeout(self.profile.timeouts.calls):
                await self._identity()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the monitoring account's id is only shown; the calls below say what fails
            pass
        region_stale: dict[str, str] = {}
        account_stale: dict[tuple[str, str], str] = {}
        got = await asyncio.gather(*(self._region(r, now, region_stale, account_stale) for r in self.regions))
        if wait_quotas:
            await self.settle()
        elif quota_wait_s:  # an account × region's first quota read: wait for it a while
            first = [task for key, task in self._quota_tasks.items() if key not in self._quotas]
            if first:
                await asyncio.wait(first, timeout=quota_wait_s)
        rows: list[fr.FleetRow] = []
        for region, result in zip(self.regions, got):
            series = self.series_of(region)
            for account in sorted(series):
                key = (account, region)
                stale = region_stale.get(region) or account_stale.get(key)
                if stale is not None or result is None:
                    old = self._rows.get(key) or fr.build_rows(account, self.label(account), region, series[account],
                                                               None, now, listed=None, quota_note=None)
                    rows += [replace(r, stale=stale) for r in old]
                    continue
                _, answers = result
                listed, note = self._quota_state(account, region)
                made = fr.build_rows(
                    account, self.label(account), region, series[account], answers.account(account) or mp.Answers(),
                    now, listed=listed, quota_note=note, reservations=self.spec.reservations.get(account, ()),
                    by_tier={s: t for (a, s), t in answers.throttles_by_tier.items() if a == account},
                    tier_notes={s: n for (a, s), n in answers.tier_notes.items() if a == account},
                    tiers_unread=answers.tiers_unread, sandbox=self.sandbox)
                self._rows[key] = made
                rows += made
        self.last = fr.FleetSnapshot(
            time=now, profile=self.profile.name, monitoring_account=self.monitoring_account, regions=self.regions,
            threshold=self.profile.alert_threshold, rows=tuple(fr.worst_first(rows, self.profile.alert_threshold)),
            accounts=self._account_infos(region_stale, account_stale), region_stale=region_stale,
            calls={op: n - before.get(op, 0) for op, n in self.calls.counts.items() if n - before.get(op, 0)},
            source="sandbox" if self.sandbox else "AWS", endpoint=self.ctx.target.endpoint_url)
        return self.last

    def _account_infos(self, region_stale: dict[str, str],
                       account_stale: dict[tuple[str, str], str]) -> tuple[fr.AccountInfo, ...]:
        ids = sorted({a for links in self._links.values() for a in links if a not in self.spec.exclude}
                     | {a for r in self.regions for a in self.series_of(r)})
        out = []
        for account in ids:
            regions = tuple(r for r in self.regions if account in self._links.get(r, {}) or account in self.series_of(r))
            stale = {r: region_stale.get(r) or account_stale[(account, r)] for r in regions
                     if r in region_stale or (account, r) in account_stale}
            rule = self.accounts.rule(account, self.label(account) or None)
            notes = [n for r in regions if (n := self._quota_state(account, r)[1])]
            out.append(fr.AccountInfo(account, self.label(account) or account, self.name_source(account), regions,
                                      stale, rule.describe(account) if rule else "", notes[0] if notes else None,
                                      traffic=any(account in self.series_of(r) for r in regions)))
        return tuple(out)

    async def close(self) -> None:
        for task in list(self._quota_tasks.values()):
            task.cancel()
        await asyncio.gather(*self._quota_tasks.values(), return_exceptions=True)
