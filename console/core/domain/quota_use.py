"""Every quota a model's traffic draws on, how much of each is used, and which one binds (pure).

Inputs are what the console reads on its slow quota cadence and on each refresh:

* ``ListServiceQuotas`` rows → :func:`parse_quotas` (every name variant through :func:`~.quotas.classify`;
  the "for X" subject mapped to a model with :func:`~.quotas.match_model` over the model's ``modelName``,
  provider + name and the profile's ``quota_names:`` overrides; anything else is left out).
* ``ListInferenceProfiles`` summaries → :func:`profile_series`: the ``ModelId`` series each route of a model
  is published under (``us.``/``eu.``/… for cross-region, ``global.`` for global).
* ``GetQuotaUtilizationReport`` rows → :func:`report_use` (the only source of a day's use: no AWS metric
  gives it inside one 16-minute ``GetMetricData``). A daily quota the report does not list is ``None``
  ("not published"), never 0.
* The metric answers (one ``GetMetricData``): on-demand TPM from the model's bare series, cross-region TPM
  from its geography-profile series, global TPM from its ``global.`` series; RPM from ``Invocations``.

Each use says where its figure came from (:func:`source_label`): AWS's CloudWatch or utilization report,
or the sandbox's (when the console watches the sandbox, every figure is the sandbox's).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

from .metricsplan import (DIMENSION, MAX_QUERIES, NAMESPACE, SUFFIX, Answers, Plan, Query, measured_minutes,
                          trailing_minute)
from .quotas import (CROSS_REGION_ROUTE, GLOBAL_ROUTE, ON_DEMAND_ROUTE, ROUTE_LABEL, QuotaKind, QuotaRules,
                     QuotaSpec, QuotaUse, Measure, binding, classify, describe, match_model, route_quotas)
from .app_profiles import AppProfile, by_series
from .routes import GLOBAL_GEO, KNOWN_GEOS, model_named_by
from .views import QUOTA_TIERS, ModelQuotaView, QuotaUseView, RouteNames

#: Metrics asked of a profile series (the bare model series already has them in the plan).
ROUTE_METRICS = {"EstimatedTPMQuotaUsage": "q", "Invocations": "n", "InvocationThrottles": "t"}
#: ... and of its total only: the requests' input, which the incident diagnosis weighs against the TPM left
ROUTE_TOTALS = {**ROUTE_METRICS, "InputTokenCount": "i"}
#: What measures a split quota (AWS publishes no ``EstimatedTPMQuotaUsage`` per input or output): the token
#: counts CloudWatch publishes per ``ModelId``, asked only of the routes of models whose quotas split.
SPLIT_METRICS = {Measure.INPUT_TOKENS: ("InputTokenCount", "CacheWriteInputTokenCount"),
                 Measure.OUTPUT_TOKENS: ("OutputTokenCount",)}
_SPLIT_KEYS = {"InputTokenCount": "i", "CacheWriteInputTokenCount": "w", "OutputTokenCount": "o"}
#: the quota rules the console applies (AWS's: no sandbox overrides)
DEFAULT_RULES = QuotaRules()


def source_label(sandbox: bool, channel: str) -> str:
    """``AWS CloudWatch``, ``sandbox utilization report``: who published a figure and through what."""
    return f"{'sandbox' if sandbox else 'AWS'} {channel}"


# ------------------------------------------------------------------ quota listing

def model_candidates(summaries: Iterable[Mapping[str, Any]], overrides: Mapping[str, Sequence[str]] | None = None
                     ) -> dict[str, list[str]]:
    """Per model id of ``ListFoundationModels``: the names a quota's "for X" may call it by."""
    out: dict[str, list[str]] = {}
    for m in summaries:
        model_id = m.get("modelId")
        if not model_id:
            continue
        name = m.get("modelName") or ""
        provider = m.get("providerName") or ""
        out[model_id] = [n for n in (name, f"{provider} {name}".strip() if name else "") if n]
    for model_id, names in (overrides or {}).items():
        out.setdefault(model_id, []).extend(names)
    return out


@dataclass(frozen=True)
class Listed:
    """The Bedrock quotas Service Quotas lists, understood: their specs and AWS's codes by name."""

    specs: tuple[QuotaSpec, ...] = ()
    codes: Mapping[str, str] = field(default_factory=dict)  # quota name -> QuotaCode as listed

    def code(self, spec: QuotaSpec) -> str:
        """AWS's code of the quota as listed (the sandbox's hash code only when the listing gave none)."""
        return self.codes.get(spec.name) or spec.code

    def _minute(self, model_id: str, kind: QuotaKind, measure: Measure) -> QuotaSpec | None:
        return next((s for s in self.specs
                     if s.model_id == model_id and s.kind is kind and s.measure is measure and not s.daily), None)

    def minute(self, model_id: str, kind: QuotaKind, measure: Measure) -> float:
        """A model's minute quota value (0 when not listed)."""
        spec = self._minute(model_id, kind, measure)
        return float(spec.value) if spec is not None else 0.0

    def quota_name_of(self, model_id: str) -> str | None:
        """The model as Service Quotas names it ("Amazon Nova Lite"): the subject of its on-demand minute quotas;
        None when none is listed."""
        for spec in (self._minute(model_id, QuotaKind.ON_DEMAND, Measure.TOKENS),
                     self._minute(model_id, QuotaKind.ON_DEMAND, Measure.REQUESTS),
                     self._minute(model_id, QuotaKind.ON_DEMAND, Measure.INPUT_TOKENS)):
            if spec is None:
                continue
            c = classify(spec.name)
            if c is not None and c.subject:
                return c.subject
        return None

    def route_timeline_args(self, model_id: str, route: str, region: str) -> RouteNames:
        """The incident timeline's keywords for a model's route: its label, TPM and RPM quota names, region."""
        kind = {ON_DEMAND_ROUTE: QuotaKind.ON_DEMAND, CROSS_REGION_ROUTE: QuotaKind.CROSS_REGION,
                GLOBAL_ROUTE: QuotaKind.GLOBAL}[route]
        tpm, rpm = self._minute(model_id, kind, Measure.TOKENS), self._minute(model_id, kind, Measure.REQUESTS)
        return {"route": ROUTE_LABEL[route], "quota_name": tpm.name if tpm else "",
                "rpm_quota_name": rpm.name if rpm else "", "region": region}


def parse_quotas(rows: Iterable[Mapping[str, Any]], candidates: Mapping[str, Iterable[str]]) -> Listed:
    """The quotas of ``ListServiceQuotas`` rows that limit inference, each tied to its model (the account-level
    cross-model quota to none); a name whose subject matches no watched model (or several) is left out."""
    specs: list[QuotaSpec] = []
    codes: dict[str, str] = {}
    for row in rows:
        name = row.get("QuotaName", "")
        c = classify(name)
        value = row.get("Value")
        if c is None or not isinstance(value, (int, float)):
            continue
        model = None
        if c.kind is not QuotaKind.CROSS_MODEL_DAILY:
            model = match_model(c.subject or "", candidates)
            if model is None:
                continue
        specs.append(QuotaSpec(c.kind, c.measure, c.period_s, int(value), name, model))
        if row.get("QuotaCode"):
            codes[name] = row["QuotaCode"]
    return Listed(tuple(specs), codes)


# ------------------------------------------------------------------ routes and their series

def profile_series(summaries: Iterable[Mapping[str, Any]], apps: Iterable[AppProfile] = ()
                   ) -> dict[str, dict[str, list[str]]]:
    """Per foundation model, per route kind, the profile series (the ``ModelId`` a call through them is
    published under): the system-defined profile ids, and the ARNs of the application profiles ``apps``
    whose copied source is known (one copying a model: its on-demand route; one copying a system profile:
    that profile's route)."""
    out: dict[str, dict[str, list[str]]] = {}
    for p in summaries:
        pid = p.get("inferenceProfileId") or ""
        if p.get("type", "SYSTEM_DEFINED") != "SYSTEM_DEFINED":
            continue
        geo, _, rest = pid.partition(".")
        if geo not in KNOWN_GEOS or not rest:
            continue
        kind = GLOBAL_ROUTE if geo == GLOBAL_GEO else CROSS_REGION_ROUTE
        out.setdefault(model_named_by(pid), {}).setdefault(kind, []).append(pid)
    for app in apps:
        if app.model_id is not None and app.route is not None:
            out.setdefault(app.model_id, {}).setdefault(app.route, []).append(app.arn)
    return out


def route_series(model_id: str, profiles: Mapping[str, Mapping[str, Sequence[str]]]) -> dict[str, tuple[str, ...]]:
    """The series of each route of a model: its own id on demand (and the application profiles copying it),
    its profiles' ids and ARNs on theirs."""
    own = profiles.get(model_id, {})
    return {ON_DEMAND_ROUTE: (model_id, *own.get(ON_DEMAND_ROUTE, ())), CROSS_REGION_ROUTE: tuple(own.get(CROSS_REGION_ROUTE, ())),
            GLOBAL_ROUTE: tuple(own.get(GLOBAL_ROUTE, ()))}


def with_route_queries(p: Plan, series: Iterable[str], limit: int = MAX_QUERIES, *,
                       tiers: Mapping[str, Iterable[str]] | None = None, form: str = DIMENSION,
                       bare: str = "total") -> Plan:
    """``p`` plus the per-route metrics of profile series (asked in the same one ``GetMetricData``).

    A series ``p`` already asks (a watched model that is itself a profile id) is not asked again. ``tiers``:
    the tiers discovery saw published for each series (:attr:`~.metricsplan.Discovery.series`), in ``form``;
    they are asked too, so a route's figures split by tier as the on-demand ones do (in the suffix form its
    Standard follows from the bare series, as :func:`~.metricsplan.plan` does for a model). When the tiers
    would pass GetMetricData's ``limit``, the routes are asked as totals only; when even those would, not at
    all (the routes then show no use, never a wrong one)."""
    asked = {(q.metric, q.model_id, q.tier) for q in p.queries if q.namespace == NAMESPACE}
    names = sorted(set(series))
    totals: list[Query] = []
    split: list[Query] = []
    derive = dict(p.derive)
    for i, s in enumerate(names):
        totals += [Query(f"r{i}_{key}", metric, s, None) for metric, key in ROUTE_TOTALS.items()
                   if (metric, s, None) not in asked]
        published = sorted((tiers or {}).get(s, ()))
        if published and form == SUFFIX and "default" not in published and s not in derive:
            derive[s] = bare
        split += [Query(f"r{i}_{tier}_{key}", metric, s, tier, form=form)
                  for tier in published for metric, key in ROUTE_METRICS.items() if (metric, s, tier) not in asked]
    for extra, how in ((totals + split, derive), (totals, p.derive)):
        if extra and len(p.queries) + len(extra) <= limit:
            return Plan(p.queries + tuple(extra), p.start, p.end, p.sandbox, how)
    return p


def split_series(listed: Listed, models: Iterable[str], profiles: Mapping[str, Mapping[str, Sequence[str]]]
                 ) -> list[str]:
    """The series of every route of the watched models whose quotas split input and output TPM."""
    split = {s.model_id for s in listed.specs if s.measure in SPLIT_METRICS}
    return [s for m in models if m in split for series in route_series(m, profiles).values() for s in series]


def with_split_queries(p: Plan, series: Iterable[str], limit: int = MAX_QUERIES) -> Plan:
    """``p`` plus the token counts that measure split quotas, for ``series`` (in the same ``GetMetricData``;
    a query already asked is not asked again). Past GetMetricData's ``limit`` they are not asked, and the
    split quotas' use stays unknown (``—``), never estimated."""
    asked = {(q.metric, q.model_id, q.tier) for q in p.queries if q.namespace == NAMESPACE}
    extra = [Query(f"s{i}_{key}", metric, s, None) for i, s in enumerate(dict.fromkeys(series))
             for metric, key in _SPLIT_KEYS.items() if (metric, s, None) not in asked]
    if not extra or len(p.queries) + len(extra) > limit:
        return p
    return replace(p, queries=p.queries + tuple(extra))


def _split_use(a: Answers, measure: Measure, series: Sequence[str], now: float, sandbox: bool
               ) -> tuple[float | None, str]:
    """A split quota's use over the trailing minute and its source; (None, "") when its counts were not asked."""
    metrics = SPLIT_METRICS[measure]
    if not all((metric, s, None) in a.series for metric in metrics for s in series):
        return None, ""
    used = sum(trailing_minute(a.get(metric, s), now) for metric in metrics for s in series)
    return used, source_label(sandbox, f"CloudWatch {' + '.join(metrics)}")


# ------------------------------------------------------------------ use

@dataclass(frozen=True)
class _RouteRef:
    kind: str
    model_id: str


def report_use(rows: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Quota name -> Utilization (percent) of a utilization report's rows (Bedrock's only)."""
    return {r["QuotaName"]: float(r["Utilization"]) for r in rows
            if r.get("ServiceCode", "bedrock") == "bedrock" and isinstance(r.get("Utilization"), (int, float))
            and r.get("QuotaName")}


def route_has_traffic(a: Answers, series: Iterable[str]) -> bool:
    return any(v > 0 for s in series for metric in ROUTE_METRICS for v in a.get(metric, s).values())


def route_uses(a: Answers | None, listed: Listed, model_id: str, route: str, series: Sequence[str],
               report: Mapping[str, float] | None, now: float, *, sandbox: bool,
               rules: QuotaRules = DEFAULT_RULES) -> tuple[QuotaUse, ...]:
    """Every quota a call on ``route`` of ``model_id`` draws on, with its use now.

    Minute quotas: the trailing minute of the route's series (``EstimatedTPMQuotaUsage`` for TPM,
    ``Invocations`` for RPM); a split input/output quota: the token counts of :data:`SPLIT_METRICS` (None when
    they were not asked). Daily quotas: the
    utilization report, None when it does not list the quota."""
    out = []
    for spec in route_quotas(_RouteRef(route, model_id), listed.specs, rules):
        if spec.daily:
            pct = (report or {}).get(spec.name)
            used = None if pct is None else pct / 100.0 * spec.value
            # GetQuotaUtilizationReport gives Utilization (a percentage) and no usage count: the figure is derived
            derived = "" if pct is None else (f"Utilization {pct:g}% × value {spec.value:,.0f} (the report gives a "
                                              "percentage, no count)")
            out.append(QuotaUse(spec, used, source_label(sandbox, "utilization report") if used is not None else "",
                                derived))
            continue
        metric = {Measure.TOKENS: "EstimatedTPMQuotaUsage", Measure.REQUESTS: "Invocations"}.get(spec.measure)
        if a is not None and spec.measure in SPLIT_METRICS:
            out.append(QuotaUse(spec, *_split_use(a, spec.measure, series, now, sandbox)))
            continue
        if a is None or metric is None:
            out.append(QuotaUse(spec, None, ""))
            continue
        used = sum(trailing_minute(a.get(metric, s), now) for s in series)
        out.append(QuotaUse(spec, used, source_label(sandbox, "CloudWatch")))
    return tuple(out)




# ------------------------------------------------------------------ views

def use_view(use: QuotaUse, listed: Listed) -> QuotaUseView:
    return QuotaUseView(code=listed.code(use.spec), name=use.spec.name, kind=use.spec.kind.value,
                        measure=use.spec.measure.value, period_s=use.spec.period_s, value=float(use.spec.value),
                        used=use.used, fraction=use.fraction, source=use.source, used_derived=use.derived)


def with_uses(view: ModelQuotaView, uses: Sequence[QuotaUse], listed: Listed, region: str,
              subject: str | None) -> ModelQuotaView:
    """``view`` with every quota of its route and the binding one (named as :func:`~.quotas.describe` says)."""
    views = tuple(use_view(u, listed) for u in uses)
    bound = binding(uses)
    at = uses.index(bound) if bound is not None else None
    return replace(view, quotas=views, binding=views[at] if at is not None else None,
                   binding_text=describe(bound, region, subject) if bound is not None else "")


def quota_views(a: Answers, base: Sequence[ModelQuotaView], listed: Listed,
                profiles: Mapping[str, Mapping[str, Sequence[str]]], report: Mapping[str, float] | None,
                now: float, *, region: str, sandbox: bool, rules: QuotaRules = DEFAULT_RULES,
                apps: Iterable[AppProfile] = ()) -> list[ModelQuotaView]:
    """Per model: the on-demand row (``base``, from :func:`~.metricsplan.quota_views`, plus the traffic of the
    application profiles copying the model) with its quotas and binding one, followed by a row per profile
    route that has traffic (its series in the answers, or its quotas in use by the utilization report).
    Each row names the application profiles (``apps``) whose traffic it holds (``via``)."""
    named = by_series(apps)
    out: list[ModelQuotaView] = []
    for view in base:
        model = view.model_id
        series = route_series(model, profiles)
        uses = route_uses(a, listed, model, ON_DEMAND_ROUTE, series[ON_DEMAND_ROUTE], report, now,
                          sandbox=sandbox, rules=rules)
        view = _with_app_traffic(view, a, series[ON_DEMAND_ROUTE][1:], named, now)
        out.append(with_uses(view, uses, listed, region, view.name))
        for route in (CROSS_REGION_ROUTE, GLOBAL_ROUTE):
            uses = route_uses(a, listed, model, route, series[route], report, now, sandbox=sandbox, rules=rules)
            minute = [u for u in uses if not u.spec.daily]
            reported = any((report or {}).get(u.spec.name, 0) > 0 for u in minute)
            if not minute or not (route_has_traffic(a, series[route]) or reported):
                continue
            kind = {CROSS_REGION_ROUTE: QuotaKind.CROSS_REGION, GLOBAL_ROUTE: QuotaKind.GLOBAL}[route]
            tpm = sum(trailing_minute(a.get("EstimatedTPMQuotaUsage", s), now) for s in series[route])
            rpm = sum(trailing_minute(a.get("Invocations", s), now) for s in series[route])
            peak, estimated = measured_minutes((a.get("EstimatedTPMQuotaUsage", s) for s in series[route]), now)
            row = ModelQuotaView(model_id=model, name=view.name, route=ROUTE_LABEL[route],
                                 tpm_peak_minute=peak, tpm_estimated=estimated,
                                 tpm_quota=listed.minute(model, kind, Measure.TOKENS),
                                 rpm_quota=listed.minute(model, kind, Measure.REQUESTS),
                                 tpm_by_tier={"default": tpm}, rpm_used=rpm,
                                 via=_via(a, series[route], named))
            out.append(with_uses(row, uses, listed, region, view.name))
    return out


def _via(a: Answers, series: Sequence[str], named: Mapping[str, AppProfile]) -> tuple[str, ...]:
    """The application profiles among ``series`` that had traffic, as the console names them."""
    return tuple(named[s].label for s in series if s in named and route_has_traffic(a, (s,)))


def _with_app_traffic(view: ModelQuotaView, a: Answers, apps: Sequence[str], named: Mapping[str, AppProfile],
                      now: float) -> ModelQuotaView:
    """The on-demand row with the traffic of the application profiles copying the model added (their calls
    draw on the same on-demand quota): per tier where their tiers were asked, else as Standard."""
    via = _via(a, apps, named)
    if not via:
        return view
    by_tier = dict(view.tpm_by_tier)
    rpm = view.rpm_used
    for s in apps:
        split = [t for t in QUOTA_TIERS if a.get("EstimatedTPMQuotaUsage", s, t)]
        for tier in split or ["default"]:
            by_tier[tier] = by_tier.get(tier, 0.0) + trailing_minute(
                a.get("EstimatedTPMQuotaUsage", s, tier if split else None), now)
        rpm += trailing_minute(a.get("Invocations", s), now)
    peak, estimated = measured_minutes((a.get("EstimatedTPMQuotaUsage", s) for s in (view.model_id, *apps)), now)
    return replace(view, tpm_by_tier=by_tier, rpm_used=rpm, via=via, tpm_peak_minute=peak, tpm_estimated=estimated)
