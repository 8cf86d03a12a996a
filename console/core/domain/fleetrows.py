"""The fleet's rows (account × region × ``ModelId`` series), worst first, and the pulse line (pure).

A row's figures come from the monitoring account's one ``GetMetricData`` per region (:mod:`.fleetplan`);
its quota use is the binding quota (:func:`~.quotas.binding`) of the route the series is published for,
from the account's own quota listing (read through the account itself on a slow cadence). A figure that
could not be read is None (shown as ``—``), never 0; a row whose account or region could not be read keeps
its last figures and says why (``stale``).

Worst first (a total order, so equal data always draws the same): band 0 throttling (throttles/min > 0),
band 1 at or over the threshold (binding quota or a reservation), band 2 stale or quota unknown, band 3 the
rest; within a band by use (descending), throttles (descending), then account label, region, series.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Mapping, Sequence

from .alerts import tpm_judged
from .metricsplan import PERIOD, Answers, Series, measured_minutes, reservation_views, trailing_minute
from .quota_use import Listed, route_uses
from .quotas import CROSS_REGION_ROUTE, GLOBAL_ROUTE, ON_DEMAND_ROUTE, Measure, binding, describe, quota_label
from .catalog import ReservationSpec
from .routes import GLOBAL_GEO, KNOWN_GEOS, model_named_by

GROUPS = ("none", "account", "region", "model")


@dataclass(frozen=True)
class BindingQuota:
    name: str
    code: str
    kind: str
    label: str  # "on-demand TPM", "cross-region RPM", "daily tokens"
    limit: float
    used: float
    fraction: float
    measure: str = ""  # "tokens", "requests", "input_tokens", "output_tokens" (Service Quotas' measure, as status --json)
    period: int | None = None  # seconds: 60 a minute quota, 86400 a daily one
    text: str = ""  # "on-demand TPM quota of Amazon Nova Lite (eu-west-1), 60% used" (status --json's binding.text)
    source: str = ""  # who published the use: "AWS CloudWatch", "sandbox CloudWatch", "… utilization report"


@dataclass(frozen=True)
class ReservedUse:
    reservation_id: str
    input_fraction: float
    output_fraction: float
    overflow_tpm: float | None  # None: not published (AWS); the sandbox's own figure otherwise
    overflow_source: str  # "sandbox" or ""

    @property
    def fraction(self) -> float:
        return max(self.input_fraction, self.output_fraction)


@dataclass(frozen=True)
class FleetRow:
    account_id: str
    account_name: str  # the link's label (or the profile's names:), else the id
    region: str
    series: str  # the ModelId value: a model id, a profile id, an application profile ARN
    model_id: str  # the foundation model the series names (the series itself when it cannot tell)
    route: str  # on_demand | cross_region | global | "" (an application profile: its route is not known here)
    tpm_used: float | None
    rpm_used: float | None
    #: ``InvocationThrottles`` of the last complete minute (``throttles_minute``): the count the account's dashboard
    #: lists for that minute, never a blend with the minute in progress (a partial count)
    throttles_per_min: float | None
    #: wire tier -> throttles/min (Standard is ``default``), adding up to the total; None: no split read (totals
    #: only). A split known to be partial keeps what was read and says why in ``tiers_note``
    throttles_by_tier: Mapping[str, float] | None = None
    tiers_note: str = ""  # "tiers: top 500 only" (Insights cut), "tiers: not read (Insights)", "tiers: partial"
    binding: BindingQuota | None = None
    reserved: ReservedUse | None = None
    stale: str | None = None  # why this row's figures are not fresh (account or region unreadable)
    quota_note: str | None = None  # why quota use is unknown ("no access configured", "access denied …")
    source: str = "AWS"  # "AWS" or "sandbox": who published the figures
    #: ``InvocationThrottles`` per minute as read ((minute start, sum), oldest first; a minute with no datapoint
    #: is absent): what ``watch`` judges a throttle storm on, minute by complete minute
    throttle_minutes: tuple[tuple[float, float], ...] = ()
    #: the route's per-minute quota values as listed (label, value): ``watch``'s ``quota_value`` changes
    quota_values: tuple[tuple[str, float], ...] = ()
    tpm_quota: float | None = None  # the route's TPM minute quota as listed (None: not known)
    #: the highest measured one-minute TPM (the minute in progress so far, or the last complete one)
    tpm_peak_minute: float | None = None
    tpm_estimated: bool = False  # tpm_used blends the previous minute in: an estimate (``~``), as on the dashboard
    throttles_minute: float | None = None  # the start of the minute ``throttles_per_min`` counts

    @property
    def tpm_fraction(self) -> float | None:
        """The blended estimate over the route's TPM quota: the dashboard's ``tpm_fraction``."""
        return self.tpm_used / self.tpm_quota if self.tpm_used is not None and self.tpm_quota else None

    @property
    def tpm_peak_fraction(self) -> float | None:
        return self.tpm_peak_minute / self.tpm_quota if self.tpm_peak_minute is not None and self.tpm_quota else None

    @property
    def tpm_measured_over(self) -> bool:
        """A measured minute reached the TPM quota (``✖``), never the estimate alone: the dashboard's rule."""
        return (self.tpm_peak_fraction or 0.0) >= 1.0

    @property
    def shown_use(self) -> float | None:
        """The figure the use column shows: the highest of the binding quota's fraction and the reservation's."""
        figures = [f for f in ((self.binding.fraction if self.binding else None),
                               (self.reserved.fraction if self.reserved else None)) if f is not None]
        return max(figures) if figures else None

    @property
    def use(self) -> float | None:
        """What "over" judges (the pulse, worst first, ``--fail-over``): :attr:`shown_use`, or the TPM use as the
        dashboard judges it (:func:`~.alerts.tpm_judged`: a measured minute when it is higher than the blend)."""
        figures = [f for f in (self.shown_use, tpm_judged(self.tpm_fraction, self.tpm_peak_fraction)
                               if self.binding is not None else None) if f is not None]
        return max(figures) if figures else None

    @property
    def label(self) -> str:
        return self.account_name or self.account_id

    @cached_property
    def search_key(self) -> str:
        return " ".join((self.account_id, self.account_name, self.region, self.series, self.model_id,
                         "stale" if self.stale else "", "throttling" if (self.throttles_per_min or 0) > 0 else "")
                        ).lower()


def route_of(series: str) -> tuple[str, str]:
    """(foundation model, route kind) of a ``ModelId`` series; an application profile ARN: (itself, "")."""
    if series.startswith("arn:") and "application-inference-profile" in series:
        return series, ""
    model = model_named_by(series)
    geo = series.partition(".")[0]
    if model != series and geo in KNOWN_GEOS:
        return model, GLOBAL_ROUTE if geo == GLOBAL_GEO else CROSS_REGION_ROUTE
    return model, ON_DEMAND_ROUTE


def build_rows(account_id: str, account_name: str, region: str, series: Sequence[str], answers: Answers | None,
               now: float, *, listed: Listed | None, quota_note: str | None,
               reservations: Sequence[ReservationSpec] = (),
               by_tier: Mapping[str, Mapping[str, Series]] | None = None, tier_notes: Mapping[str, str] | None = None,
               tiers_unread: str = "", stale: str | None = None, sandbox: bool = False) -> list[FleetRow]:
    """One account's rows in one region. ``answers``: its metric answers (None: never read); ``listed``: its
    quotas (None: not read: ``quota_note`` says why); ``by_tier``: series -> tier -> throttle series (Insights,
    Standard derived: :func:`~.fleetplan.read_answers`); ``tier_notes``: series -> why its split is partial;
    ``tiers_unread``: why no series has a split (Insights asked, not answered)."""
    src = "sandbox" if sandbox else "AWS"
    res_views = {v.model_id: v for v in reservation_views(answers, reservations, now)} if answers else {}
    rows = []
    for s in sorted(set(series)):
        model, route = route_of(s)
        minutes: tuple[tuple[float, float], ...] = ()
        peak, estimated, tpm_quota = None, False, None
        if answers is None:
            tpm = rpm = thr = None
        else:
            tpm = trailing_minute(answers.get("EstimatedTPMQuotaUsage", s), now)
            peak, estimated = measured_minutes([answers.get("EstimatedTPMQuotaUsage", s)], now)  # the dashboard's
            rpm = trailing_minute(answers.get("Invocations", s), now)
            thr = last_complete_minute(answers.get("InvocationThrottles", s), now)
            minutes = tuple(sorted(answers.get("InvocationThrottles", s).items()))
        bound = None
        note = quota_note
        values: tuple[tuple[str, float], ...] = ()
        if listed is not None and answers is not None and route:
            uses = route_uses(answers, listed, model, route, (s,), None, now, sandbox=sandbox)
            values = tuple((quota_label(u.spec), float(u.spec.value)) for u in uses if not u.spec.daily)
            tpm_quota = next((float(u.spec.value) for u in uses
                              if u.spec.measure is Measure.TOKENS and not u.spec.daily), None)
            b = binding(uses) or next((u for u in uses if u.used is not None and not u.spec.daily), None)  # idle: 0%
            if b is not None and b.used is not None and b.fraction is not None:
                bound = BindingQuota(b.spec.name, listed.code(b.spec), b.spec.kind.value, quota_label(b.spec),
                                     float(b.spec.value), b.used, b.fraction, b.spec.measure.value, b.spec.period_s,
                                     describe(b, region, listed.quota_name_of(model)), b.source)
            elif not uses:
                note = note or "no quota listed for this model"
        elif listed is not None and not route:
            note = note or "application profile: its quotas are those of the model it copies"
        split = None
        if by_tier is not None and s in by_tier:
            split = {t: last_complete_minute(v, now) for t, v in sorted(by_tier[s].items())}
        rv = res_views.get(s)
        reserved = None if rv is None else ReservedUse(rv.reservation_id, rv.input_fraction, rv.output_fraction,
                                                       rv.overflow_tpm, rv.overflow_source)
        tiers_note = (tier_notes or {}).get(s) or (tiers_unread if split is None else "") or _unsplit(split, thr)
        rows.append(FleetRow(account_id, account_name, region, s, model, route, tpm, rpm, thr, split,
                             tiers_note if (thr or 0) > 0 else "", bound, reserved, stale, note, src, minutes, values,
                             tpm_quota, peak, estimated, None if answers is None else complete_minute(now)))
    return rows


def complete_minute(now: float) -> float:
    """The start of the last complete minute at ``now``."""
    return float(math.floor(now / PERIOD) * PERIOD - PERIOD)


def last_complete_minute(series: Series, now: float) -> float:
    """The sum of the last complete minute (0 when nothing was published for it)."""
    return series.get(complete_minute(now), 0.0)


def _unsplit(split: Mapping[str, float] | None, total: float | None) -> str:
    """``tiers: partial`` when a split that was read does not add up to the row's total (a tier's series missing,
    or tiers over the total): never shown as if whole."""
    if split is None or total is None:
        return ""
    return "" if abs(sum(split.values()) - total) <= max(0.05, 0.005 * total) else "tiers: partial"


def band(row: FleetRow, threshold: float) -> int:
    if (row.throttles_per_min or 0) > 0:
        return 0
    if (row.use or 0) >= threshold:
        return 1
    if row.stale or row.use is None:
        return 2
    return 3


def worst_first(rows: Iterable[FleetRow], threshold: float) -> list[FleetRow]:
    return sorted(rows, key=lambda r: (band(r, threshold), -(r.use or 0.0), -(r.throttles_per_min or 0.0),
                                       r.label, r.account_id, r.region, r.series))


def filter_rows(rows: Sequence[FleetRow], query: str) -> list[FleetRow]:
    """Rows whose account id, name, region, series or model contain every term (case-insensitive); ``!term``
    excludes: the throttle feed's filter syntax. Order is kept."""
    terms = query.lower().split()
    include = [t for t in terms if not t.startswith("!")]
    exclude = [t[1:] for t in terms if t.startswith("!") and len(t) > 1]
    return [r for r in rows if all(t in r.search_key for t in include)
            and not any(t in r.search_key for t in exclude)]


def group_key(row: FleetRow, by: str) -> str:
    if by == "account":
        return f"{row.label} ({row.account_id})" if row.account_name and row.account_name != row.account_id \
            else row.account_id
    if by == "region":
        return row.region
    if by == "model":
        return row.model_id
    return ""


def group(rows: Sequence[FleetRow], by: str) -> list[tuple[str, list[FleetRow]]]:
    """``rows`` (worst first, as a snapshot holds them and :func:`filter_rows` keeps them) in groups (``none``: one
    group of all), each group worst first, the group of the worst row first. Not sorted again: a keystroke on
    the fleet screen re-groups 4,000 rows."""
    if by not in GROUPS:
        raise ValueError(f"group by one of {', '.join(GROUPS)}, got {by!r}")
    if by == "none":
        return [("", list(rows))]
    groups: dict[str, list[FleetRow]] = {}
    for r in rows:
        groups.setdefault(group_key(r, by), []).append(r)
    return list(groups.items())  # insertion order: the group of the worst row first


@dataclass(frozen=True)
class Pulse:
    accounts: int
    regions: int
    over_accounts: tuple[str, ...] = ()
    throttling_accounts: tuple[str, ...] = ()
    stale_accounts: tuple[str, ...] = ()
    threshold: float = 0.8
    extra: Mapping[str, int] = field(default_factory=dict)

    def short(self) -> str:
        """For a header: ``2 accts over 80% · 1 throttling · 1 stale`` (the parts that are not zero, but the first)."""
        parts = [f"{len(self.over_accounts)} {'acct' if len(self.over_accounts) == 1 else 'accts'} over "
                 f"{round(self.threshold * 100)}%"]
        if self.throttling_accounts:
            parts.append(f"{len(self.throttling_accounts)} throttling")
        if self.stale_accounts:
            parts.append(f"{len(self.stale_accounts)} stale")
        return " · ".join(parts)

    def text(self, width: int | None = None) -> str:
        """``3 accounts over 80% · 1 throttling · 2 stale`` (shortened to ``width``: the parts at the end go first)."""
        def n(k: int, word: str) -> str:
            return f"{k} {word}" if k == 1 else f"{k} {word}s"

        parts = [f"{n(len(self.over_accounts), 'account')} over {round(self.threshold * 100)}%",
                 f"{len(self.throttling_accounts)} throttling"]
        if self.stale_accounts:
            parts.append(f"{len(self.stale_accounts)} stale")
        parts.append(f"{n(self.accounts, 'account')} in {n(self.regions, 'region')}")
        text = " · ".join(parts)
        while width is not None and len(text) > width and len(parts) > 1:
            parts.pop()
            text = " · ".join(parts)
        return text if width is None or len(text) <= width else text[: max(0, width - 1)] + "…"


def pulse(rows: Iterable[FleetRow], threshold: float, accounts: Iterable[str] = (), regions: Iterable[str] = ()) -> Pulse:
    rows = list(rows)
    over = sorted({r.account_id for r in rows if (r.use or 0) >= threshold})
    hot = sorted({r.account_id for r in rows if (r.throttles_per_min or 0) > 0})
    stale = sorted({r.account_id for r in rows if r.stale})
    all_accounts = set(accounts) | {r.account_id for r in rows}
    all_regions = set(regions) | {r.region for r in rows}
    return Pulse(len(all_accounts), len(all_regions), tuple(over), tuple(hot), tuple(stale), threshold)


@dataclass(frozen=True)
class AccountInfo:
    """A source account as the fleet knows it: its name and where that came from, the regions it is linked in,
    what is stale where (region -> reason), how it is reached and why its quota use is unknown."""

    account_id: str
    name: str
    name_source: str  # "link label", "profile names:", "id"
    regions: tuple[str, ...]
    stale: Mapping[str, str] = field(default_factory=dict)
    access: str = ""  # "role arn:… (fleet.access[2])", or "" when no rule matches
    quota_note: str | None = None
    traffic: bool = True  # False: linked, but no Bedrock series in the last 3 hours


@dataclass(frozen=True)
class FleetSnapshot:
    time: float
    profile: str
    monitoring_account: str | None
    regions: tuple[str, ...]
    threshold: float
    rows: tuple[FleetRow, ...]  # worst first
    accounts: tuple[AccountInfo, ...] = ()
    region_stale: Mapping[str, str] = field(default_factory=dict)  # region -> why it could not be read
    calls: Mapping[str, int] = field(default_factory=dict)  # AWS calls of this refresh, by operation
    source: str = "AWS"  # "AWS" or "sandbox"
    endpoint: str | None = None

    @property
    def pulse(self) -> Pulse:
        return pulse(self.rows, self.threshold, (a.account_id for a in self.accounts), self.regions)

    def account(self, account_id: str) -> AccountInfo | None:
        return next((a for a in self.accounts if a.account_id == account_id), None)
