"""What the dashboard shows: plain, frozen data posted by collectors and drawn by widgets.

This module is the contract between ``tierconsole.core.aws`` (which polls) and ``tierconsole.tui.widgets``
(which only draw). It imports nothing from Textual and reads no clock: every age is computed
from :attr:`DashboardData.time`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence, TypedDict

from .quota_requests import QuotaRequestView, request_view
from .throttle_feed import SearchIndex as SearchIndex, ThrottleEvent as ThrottleEvent
from .throttle_feed import filter_events as filter_events

#: Pane names, as used for :attr:`DashboardData.status` keys and widget ids.
PANES = ("reservations", "quota", "throttles", "batch")

#: On-demand tier keys of :attr:`ModelQuotaView.tpm_by_tier` (wire values), in queue order.
QUOTA_TIERS = ("priority", "default", "flex")

ACTIVE_BATCH_STATUSES = frozenset({"Submitted", "Validating", "Scheduled", "InProgress", "Stopping"})


def _fraction(used: float, limit: float | None) -> float:
    return used / limit if limit else 0.0


@dataclass(frozen=True)
class ReservationView:
    """One Reserved-tier reservation; TPM figures are tokens per minute over the last minute."""

    reservation_id: str
    model_id: str
    input_tpm_used: float
    input_tpm_reserved: float
    output_tpm_used: float
    output_tpm_reserved: float
    #: Tokens/min (input + cache write + output) that overflowed to Standard; None when not known:
    #: no AWS metric counts overflow, so only the sandbox's own series (``overflow_source``
    #: "sandbox") gives it.
    overflow_tpm: float | None = None
    input_history: tuple[float, ...] = ()  # last 15 one-minute input TPM values, oldest first
    output_history: tuple[float, ...] = ()
    overflow_rpm: float | None = None  # requests/min that overflowed (same source)
    overflow_source: str = ""  # "sandbox": the sandbox's own metrics; "": not published by AWS (unknown)
    region: str = ""  # the region the reserved capacity is in ("": not known: an older recording)

    @property
    def input_fraction(self) -> float:
        return _fraction(self.input_tpm_used, self.input_tpm_reserved)

    @property
    def output_fraction(self) -> float:
        return _fraction(self.output_tpm_used, self.output_tpm_reserved)


_SHORT = {"tokens": "TPM", "requests": "RPM", "input_tokens": "in TPM", "output_tokens": "out TPM"}


@dataclass(frozen=True)
class QuotaUseView:
    """One quota a model's route draws on, and how much of it is used.

    ``used`` and ``fraction`` are None when nothing publishes the use (never a made-up 0); ``source`` says
    who published the figure ("AWS CloudWatch", "sandbox utilization report", ...; "" when none did)."""

    code: str
    name: str  # the Service Quotas name, as listed
    kind: str  # QuotaKind value: on_demand, cross_region, global, model_daily, global_daily, cross_model_daily
    measure: str  # Measure value: tokens, requests, input_tokens, output_tokens
    period_s: int
    value: float
    used: float | None = None
    fraction: float | None = None
    source: str = ""
    used_derived: str = ""  # how ``used`` was derived when no count is published (a daily quota: the report's %)

    @property
    def short(self) -> str:
        """``TPM``, ``RPM``, ``in TPM``, ``day``, ``account day``: the pane's label."""
        if self.kind == "cross_model_daily":
            return "account day"
        if self.period_s >= 86_400:
            return "day"
        return _SHORT.get(self.measure, self.measure)


def _use_view(u: "QuotaUseView | Mapping[str, Any]") -> QuotaUseView:
    if isinstance(u, QuotaUseView):
        return u
    known = {f for f in QuotaUseView.__dataclass_fields__}
    return QuotaUseView(**{k: v for k, v in u.items() if k in known})


@dataclass(frozen=True)
class ModelQuotaView:
    """A model's shared on-demand quota and what Priority/Standard/Flex draw from it.

    ``tpm_by_tier`` is keyed by wire value: ``priority``, ``default``, ``flex``.
    A quota of 0 means "not known" (fractions are then 0).
    """

    model_id: str
    name: str
    tpm_quota: float
    rpm_quota: float
    tpm_by_tier: Mapping[str, float] = field(default_factory=dict)
    rpm_used: float = 0.0
    hold_tokens: float | None = None  # tokens currently held by in-flight requests (input + maxTokens)
    #: The route this row's traffic takes: "on-demand" (direct calls), "cross-region" or "global" (profiles).
    #: ``tpm_quota``/``rpm_quota`` are that route's minute quotas.
    route: str = "on-demand"
    quotas: tuple[QuotaUseView, ...] = ()  # every quota the route draws on (minute and daily)
    binding: QuotaUseView | None = None  # the one closest to its limit (None: nothing used)
    binding_text: str = ""  # "cross-region TPM quota of Amazon Nova Lite (us-east-1), 96% used"
    via: tuple[str, ...] = ()  # the application inference profiles whose traffic the row holds ("etl (5dews3o6kky6)")
    #: the highest measured one-minute TPM (the minute in progress, or the last complete one; None: not known)
    tpm_peak_minute: float | None = None
    tpm_estimated: bool = False  # the TPM figure blends the previous minute in: an estimate, never "over" alone
    requests: tuple[QuotaRequestView, ...] = ()  # open quota-increase requests for a quota of this route

    def __post_init__(self) -> None:
        # A recording stores the nested quota views by field name; rebuild them (unknown fields dropped).
        if any(isinstance(u, Mapping) for u in self.quotas):
            object.__setattr__(self, "quotas", tuple(_use_view(u) for u in self.quotas))
        if isinstance(self.binding, Mapping):
            object.__setattr__(self, "binding", _use_view(self.binding))
        if not isinstance(self.via, tuple):
            object.__setattr__(self, "via", tuple(self.via))
        if any(isinstance(r, Mapping) for r in self.requests):
            object.__setattr__(self, "requests", tuple(request_view(r) for r in self.requests))

    @property
    def key(self) -> str:
        """The row's identity: the model id, with the route when it is not on-demand."""
        return self.model_id if self.route == "on-demand" else f"{self.model_id} ({self.route})"

    @property
    def tpm_used(self) -> float:
        return sum(self.tpm_by_tier.get(tier, 0.0) for tier in QUOTA_TIERS)

    @property
    def tpm_fraction(self) -> float:
        return _fraction(self.tpm_used, self.tpm_quota)

    @property
    def tpm_peak_fraction(self) -> float | None:
        """The highest measured minute over the TPM quota (None: either not known): :func:`~.alerts.tpm_judged`."""
        return self.tpm_peak_minute / self.tpm_quota if self.tpm_peak_minute is not None and self.tpm_quota else None

    @property
    def tpm_measured_over(self) -> bool:  # a measured minute reached the TPM quota, never the estimate alone
        peak = self.tpm_used if self.tpm_peak_minute is None else self.tpm_peak_minute
        return self.tpm_quota > 0 and peak >= self.tpm_quota

    @property
    def rpm_fraction(self) -> float:
        return _fraction(self.rpm_used, self.rpm_quota)


@dataclass(frozen=True)
class BatchJobView:
    """A batch inference job as ``GetModelInvocationJob``/``ListModelInvocationJobs`` describe it, with what
    the console adds: its model's batch throughput and the progress it has seen.

    Record counts are the job's own. ``ListModelInvocationJobs`` carries no token counts; AWS publishes
    batch tokens per *model* (``AWS/Bedrock/Batch``, dimension ``modelId``), so ``model_*`` figures are
    the model's, shared by its jobs, and None when not published (never a made-up 0).
    """

    job_arn: str
    job_name: str
    model_id: str
    status: str  # Submitted | Validating | Scheduled | InProgress | Completed | PartiallyCompleted | Failed | Stopping | Stopped | Expired
    submit_time: float
    end_time: float | None = None
    total_records: int | None = None
    processed: int = 0
    success: int = 0
    errors: int = 0
    #: ``NumberOf{Input,Output}TokensProcessedPerMinute`` and ``NumberOfRecordsPendingProcessing`` of the
    #: model (``AWS/Bedrock/Batch``): the latest minute published, None when none was.
    model_input_tpm: float | None = None
    model_output_tpm: float | None = None
    model_pending_records: float | None = None
    #: The console's own observations, for the ETA: when it first saw the job InProgress and how many
    #: records were processed then, and when ``processed`` was read.
    progress_since: float | None = None
    processed_since: int = 0
    observed_at: float | None = None
    #: The start of the minute the ``model_*`` token figures were published for: only minutes since the job
    #: was submitted and after any other job of its model ended, so never another job's figures.
    model_tpm_minute: float | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_BATCH_STATUSES

    @property
    def fraction(self) -> float | None:
        """Records processed out of the total, when the total is known."""
        if not self.total_records:
            return None
        return min(1.0, self.processed / self.total_records)

    def elapsed(self, now: float) -> float:
        return max(0.0, (self.end_time if self.end_time is not None else now) - self.submit_time)


def eta_seconds(job: BatchJobView, now: float) -> float | None:
    """Seconds until an InProgress job finishes at the processing rate the console has seen since the
    job went InProgress (time queued before it does not count), less the time since that was read.

    ``None`` when unknown: the job is not processing, its total is unknown, or no progress has been
    seen yet (a rate needs two observations).
    """
    if job.status != "InProgress" or not job.total_records:
        return None
    remaining = job.total_records - job.processed
    if remaining <= 0:
        return 0.0
    if job.progress_since is None or job.observed_at is None:
        return None
    done, span = job.processed - job.processed_since, job.observed_at - job.progress_since
    if not (done > 0 and 0 < span < math.inf):  # also NaN and infinities: a time no clock shows
        return None
    eta = max(0.0, remaining * span / done - max(0.0, now - job.observed_at))
    return eta if math.isfinite(eta) else None


class RouteNames(TypedDict):
    """What a :class:`UsageMinute` says of its route: its label, its TPM and RPM quota names, its region."""

    route: str
    quota_name: str
    rpm_quota_name: str
    region: str


@dataclass(frozen=True)
class UsageMinute:
    """One model's use of its quota in one minute, from CloudWatch's per-minute sums: a row of the
    incident view's timeline. :attr:`DashboardData.usage_minutes` carries the last complete minute of
    each model, so a recording holds every minute and a replay can open an incident view."""

    time: float  # the minute's start (epoch)
    model_id: str
    tpm_by_tier: Mapping[str, float]  # EstimatedTPMQuotaUsage by tier ({"default": total} without a split)
    tpm_quota: float
    rpm: float
    rpm_quota: float
    throttles_by_tier: Mapping[str, int]  # {"all": n} without a split
    reserved_input_tpm: float | None = None  # None: the model has no reservation
    reserved_output_tpm: float | None = None
    overflow_tokens: float | None = None  # sandbox-only (no AWS metric counts overflow); None: not known
    overflow_requests: float | None = None
    #: The route these figures are of ("on-demand", "cross-region", "global") and the Service Quotas names of
    #: its TPM and RPM quotas ("" when not known: an old recording, or the listing had no such quota).
    route: str = "on-demand"
    quota_name: str = ""
    rpm_quota_name: str = ""
    region: str = ""
    input_tokens: float | None = None  # InputTokenCount summed over the route's series; None: not asked
    server_errors: int | None = None  # InvocationServerErrors (5xx) in the minute; None: not asked (route, old file)

    @property
    def has_data(self) -> bool:
        """False for a minute CloudWatch holds no data point of the model for (no requests, or before the
        metrics began: a sandbox or recording just started); its figures are "no data", never zeros.
        Such a row has empty ``tpm_by_tier`` and ``throttles_by_tier``."""
        return bool(self.tpm_by_tier or self.throttles_by_tier)

    @property
    def tpm(self) -> float:
        return sum(self.tpm_by_tier.values())

    @property
    def throttles(self) -> int:
        return sum(self.throttles_by_tier.values())

    @property
    def tpm_fraction(self) -> float:
        return self.tpm / self.tpm_quota if self.tpm_quota else 0.0

    @property
    def rpm_fraction(self) -> float:
        return self.rpm / self.rpm_quota if self.rpm_quota else 0.0


@dataclass(frozen=True)
class PaneStatus:
    """Whether a pane's last collection worked. Not ok: the pane keeps its last good data and says
    how old it is and why."""

    ok: bool = True
    updated_at: float | None = None  # epoch of the last good data
    reason: str | None = None
    #: a failure known not to clear before its next read (a fleet account's quotas refused): stale at once, the
    #: watch does not wait ``stale_after_seconds`` for it to pass
    at_once: bool = False

    def age(self, now: float) -> float | None:
        return None if self.updated_at is None else max(0.0, now - self.updated_at)


_OK = PaneStatus()


@dataclass(frozen=True)
class DashboardData:
    """One refresh of everything the dashboard shows. ``time`` is "now" for every age on screen."""

    time: float
    profile: str = ""
    account_id: str | None = None
    region: str = ""
    endpoint: str | None = None
    is_sandbox: bool = False
    read_only: bool = False  # the profile (or --read-only) refuses batch submit/cancel
    reservations: Sequence[ReservationView] = ()
    quotas: Sequence[ModelQuotaView] = ()
    throttle_events: Sequence[ThrottleEvent] = ()  # newest first
    throttle_rates: Mapping[str, tuple[float, ...]] = field(default_factory=dict)  # tier -> per-minute counts, oldest first
    batch_jobs: Sequence[BatchJobView] = ()
    status: Mapping[str, PaneStatus] = field(default_factory=dict)  # pane name (see PANES) -> status
    usage_minutes: Sequence[UsageMinute] = ()  # each model's last complete minute (for incident views)

    def pane_status(self, pane: str) -> PaneStatus:
        """The pane's status; a pane with no entry is ok."""
        return self.status.get(pane, _OK)

    @property
    def oldest_update(self) -> float | None:
        """The oldest ``updated_at`` among the panes: the age of the stalest thing on screen."""
        times = [s.updated_at for s in self.status.values() if s.updated_at is not None]
        return min(times) if times else None
