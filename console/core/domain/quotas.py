"""Bedrock's quota model as data (pure): which quotas exist, which a request path draws on, which binds.

Facts and sources are in ``shared/reference/bedrock-tiers.md`` and ``team/quota-design.md``:

* Per model and region: on-demand TPM/RPM (direct calls), cross-region TPM/RPM (geography profiles
  ``us.``/``eu.``/...; counted in the *source* region), global cross-region TPM/RPM (``global.``
  profiles), "Model invocation max tokens per day"; per account and region: "Cross-Model Max Tokens
  Per Day". Some newer models split input and output TPM and have no RPM: a shape is data.
* A call draws on the minute quotas of its route only (the names say "when invoked ..."), never
  two routes' pools. Whether profile traffic also counts against the daily quotas is
  **unconfirmed**: :class:`QuotaRules` ``daily_counts`` (default: every route). Rolling 24 h or
  calendar day is **unconfirmed**: ``daily_window``. Whether the daily count applies the burndown
  rate is **unconfirmed**: ``daily_applies_burndown``.

Names vary (AWS renamed them over time); :func:`classify` reads every variant seen, and
:func:`match_model` maps a name's subject ("Anthropic Claude Sonnet 4.5", "Claude Sonnet 4.5 V1")
to a model id.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Iterable, Mapping, Protocol

# Route kinds by value (``routes.RouteKind`` is a StrEnum with these values, so its members work as these
# keys). Not imported: the resolver in ``routes`` reads the catalog, and the catalog reads this module.
ON_DEMAND_ROUTE, CROSS_REGION_ROUTE, GLOBAL_ROUTE = "on_demand", "cross_region", "global"
ROUTE_KINDS = (ON_DEMAND_ROUTE, CROSS_REGION_ROUTE, GLOBAL_ROUTE)
#: How a route is written wherever people or JSON read it (the one spelling of ``route`` in every document).
ROUTE_LABEL = {ON_DEMAND_ROUTE: "on-demand", CROSS_REGION_ROUTE: "cross-region", GLOBAL_ROUTE: "global"}


def route_label(route: str | None) -> str | None:
    """``on_demand`` → ``on-demand``; None or "" (a route not known) → None."""
    return ROUTE_LABEL[route] if route else None


class RouteLike(Protocol):
    """What :func:`route_quotas` reads of a :class:`~tierconsole.core.domain.routes.Route`."""

    @property
    def kind(self) -> str: ...

    @property
    def model_id(self) -> str: ...

MINUTE_S = 60
DAY_S = 86_400


class QuotaKind(StrEnum):
    ON_DEMAND = "on_demand"
    CROSS_REGION = "cross_region"
    GLOBAL = "global"
    MODEL_DAILY = "model_daily"
    GLOBAL_DAILY = "global_daily"  # seen once, paraphrased: unconfirmed, only from data
    CROSS_MODEL_DAILY = "cross_model_daily"


class Measure(StrEnum):
    TOKENS = "tokens"
    REQUESTS = "requests"
    INPUT_TOKENS = "input_tokens"
    OUTPUT_TOKENS = "output_tokens"


#: The minute quota kind of each route kind.
ROUTE_KIND = {ON_DEMAND_ROUTE: QuotaKind.ON_DEMAND, CROSS_REGION_ROUTE: QuotaKind.CROSS_REGION,
              GLOBAL_ROUTE: QuotaKind.GLOBAL}
MINUTE_KINDS = frozenset(ROUTE_KIND.values())
DAILY_KINDS = frozenset({QuotaKind.MODEL_DAILY, QuotaKind.GLOBAL_DAILY, QuotaKind.CROSS_MODEL_DAILY})

_PREFIX = {QuotaKind.ON_DEMAND: "On-demand", QuotaKind.CROSS_REGION: "Cross-region",
           QuotaKind.GLOBAL: "Global cross-Region"}
_MEASURE_WORDS = {Measure.TOKENS: "tokens", Measure.REQUESTS: "requests", Measure.INPUT_TOKENS: "input tokens",
                  Measure.OUTPUT_TOKENS: "output tokens"}
_MEASURE_SHORT = {Measure.TOKENS: "tpm", Measure.REQUESTS: "rpm", Measure.INPUT_TOKENS: "input_tpm",
                  Measure.OUTPUT_TOKENS: "output_tpm"}


def quota_code(name: str) -> str:
    """``L-`` and 8 uppercase hex digits of the SHA-256 of the quota name: stable forever (the sandbox's codes)."""
    import hashlib  # noqa: PLC0415 - not on the console's way to its first frame (~2 ms)

    return "L-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8].upper()


def spec_key(kind: QuotaKind, measure: Measure) -> str:
    """The catalog's key for a quota of a model (``quota_names:``): ``cross_region_tpm``, ``tokens_per_day``, ..."""
    if kind is QuotaKind.MODEL_DAILY:
        return "tokens_per_day"
    if kind is QuotaKind.GLOBAL_DAILY:
        return "global_tokens_per_day"
    if kind is QuotaKind.CROSS_MODEL_DAILY:
        return "cross_model_tokens_per_day"
    return f"{kind.value}_{_MEASURE_SHORT[measure]}"


def default_name(kind: QuotaKind, measure: Measure, subject: str | None) -> str:
    """The Service Quotas name AWS lists today for a quota of ``subject`` (a model's quota name)."""
    if kind is QuotaKind.CROSS_MODEL_DAILY:
        return "Cross-Model Max Tokens Per Day"
    if kind is QuotaKind.MODEL_DAILY:
        return f"Model invocation max tokens per day for {subject}"
    if kind is QuotaKind.GLOBAL_DAILY:
        return f"Global cross-Region model inference tokens per day for {subject}"
    return f"{_PREFIX[kind]} model inference {_MEASURE_WORDS[measure]} per minute for {subject}"


@dataclass(frozen=True)
class QuotaSpec:
    """One quota: what it limits, over which period, its value and the name Service Quotas lists."""

    kind: QuotaKind
    measure: Measure
    period_s: int  # MINUTE_S or DAY_S
    value: int
    name: str
    model_id: str | None = None  # None: account-level (all models)

    @property
    def code(self) -> str:
        return quota_code(self.name)

    @property
    def daily(self) -> bool:
        return self.period_s >= DAY_S


@dataclass(frozen=True)
class QuotaRules:
    """The unconfirmed parts of how daily quotas count, as settings (defaults in brackets).

    ``daily_counts``: which routes count against the daily quotas [all three].
    ``daily_window``: ``rolling`` 24 hours [default] or ``utc_day`` (reset at 00:00 UTC).
    ``daily_applies_burndown``: output counts × burndown against a daily quota [true].
    """

    daily_counts: frozenset[str] = frozenset(ROUTE_KINDS)
    daily_window: str = "rolling"
    daily_applies_burndown: bool = True


def minute_specs(kind: QuotaKind, model_id: str, subject: str, shape: Mapping[str, int],
                 names: Mapping[str, str] | None = None) -> tuple[QuotaSpec, ...]:
    """The minute quotas of one route kind from a shape ``{tpm, rpm}`` or ``{input_tpm, output_tpm}``."""
    out = []
    for measure in (Measure.TOKENS, Measure.REQUESTS, Measure.INPUT_TOKENS, Measure.OUTPUT_TOKENS):
        value = shape.get(_MEASURE_SHORT[measure])
        if value is None:
            continue
        key = spec_key(kind, measure)
        name = (names or {}).get(key) or default_name(kind, measure, subject)
        out.append(QuotaSpec(kind, measure, MINUTE_S, int(value), name, model_id))
    return tuple(out)


def daily_spec(kind: QuotaKind, value: int, subject: str | None, model_id: str | None,
               names: Mapping[str, str] | None = None) -> QuotaSpec:
    name = (names or {}).get(spec_key(kind, Measure.TOKENS)) or default_name(kind, Measure.TOKENS, subject)
    return QuotaSpec(kind, Measure.TOKENS, DAY_S, int(value), name, model_id)


def route_quotas(route: RouteLike, specs: Iterable[QuotaSpec], rules: QuotaRules = QuotaRules()
                 ) -> tuple[QuotaSpec, ...]:
    """The quotas a request on ``route`` draws on: its route's minute quotas for the model, the model's
    daily quota and the account's cross-model daily quota (when ``rules.daily_counts`` has the route),
    and a global daily quota for a global route when the data has one. Never another route's pool."""
    minute_kind = ROUTE_KIND[route.kind]
    counts_daily = route.kind in rules.daily_counts
    out = []
    for s in specs:
        if s.kind is minute_kind and s.model_id == route.model_id:
            out.append(s)
        elif s.kind is QuotaKind.MODEL_DAILY and s.model_id == route.model_id and counts_daily:
            out.append(s)
        elif s.kind is QuotaKind.CROSS_MODEL_DAILY and counts_daily:
            out.append(s)
        elif s.kind is QuotaKind.GLOBAL_DAILY and s.model_id == route.model_id and route.kind == GLOBAL_ROUTE:
            out.append(s)
    return tuple(out)


# ---------------------------------------------------------------- names

@dataclass(frozen=True)
class Classified:
    kind: QuotaKind
    measure: Measure
    period_s: int
    subject: str | None  # the "for X" part; None for the account-level quota


_MINUTE_NAME = re.compile(
    r"^(?P<route>on-demand|cross-region|global cross-region)\s+(?:model inference|invokemodel)\s+"
    r"(?P<io>input\s+|output\s+)?(?P<what>tokens|requests)\s+per\s+minute\s+for\s+(?P<subject>.+?)\s*$",
    re.IGNORECASE)
_DAY_NAME = re.compile(r"^model invocation max tokens per day for\s+(?P<subject>.+?)\s*$", re.IGNORECASE)
_GLOBAL_DAY_NAME = re.compile(
    r"^global cross-region\s+(?:model inference\s+|invokemodel\s+)?(?:max\s+)?tokens per day for\s+(?P<subject>.+?)\s*$",
    re.IGNORECASE)
_ACCOUNT_DAY_NAME = re.compile(r"^cross-model max tokens per day\s*$", re.IGNORECASE)
_ROUTE_WORDS = {"on-demand": QuotaKind.ON_DEMAND, "cross-region": QuotaKind.CROSS_REGION,
                "global cross-region": QuotaKind.GLOBAL}


def classify(name: str) -> Classified | None:
    """What a Service Quotas name limits, for every variant seen ("On-demand model inference ...",
    "On-demand InvokeModel ...", "Cross-Region ...", "Global cross-region ...", split input/output,
    the daily and the account quotas), case-insensitive; None for anything else (batch, ...)."""
    if not isinstance(name, str) or len(name) > 512:
        return None
    text = " ".join(name.split())
    if m := _MINUTE_NAME.match(text):
        route = _ROUTE_WORDS[" ".join(m.group("route").lower().split())]
        io = (m.group("io") or "").strip().lower()
        if m.group("what").lower() == "requests":
            if io:
                return None
            measure = Measure.REQUESTS
        else:
            measure = {"": Measure.TOKENS, "input": Measure.INPUT_TOKENS, "output": Measure.OUTPUT_TOKENS}[io]
        return Classified(route, measure, MINUTE_S, m.group("subject"))
    if m := _DAY_NAME.match(text):
        return Classified(QuotaKind.MODEL_DAILY, Measure.TOKENS, DAY_S, m.group("subject"))
    if m := _GLOBAL_DAY_NAME.match(text):
        return Classified(QuotaKind.GLOBAL_DAILY, Measure.TOKENS, DAY_S, m.group("subject"))
    if _ACCOUNT_DAY_NAME.match(text):
        return Classified(QuotaKind.CROSS_MODEL_DAILY, Measure.TOKENS, DAY_S, None)
    return None


def normalise_name(text: str) -> str:
    """A model name for comparison: lower case, ``-``/``_`` as spaces, one space, a trailing ``V1`` dropped
    (ListFoundationModels leaves a model's first version unnamed; a ``V2`` is another model)."""
    words = re.sub(r"[-_]+", " ", text.lower()).split()
    if len(words) > 1 and words[-1] == "v1":
        words = words[:-1]
    return " ".join(words)


def match_model(subject: str, candidates: Mapping[str, Iterable[str]]) -> str | None:
    """The model id a quota name's subject means, or None when no model (or more than one) matches.

    ``candidates`` maps each model id to the names it may be called by: its ``modelName``, provider +
    name, a catalog ``quota_name`` or a profile's ``quota_names`` override. A subject matches a name
    exactly after :func:`normalise_name`, else once its leading provider words are dropped (one, then two,
    ...: "Amazon Nova Lite", "Mistral AI Mistral Large"; ListFoundationModels names a model briefly), the
    fewest dropped words that match deciding.
    """
    normed = {model_id: {normalise_name(n) for n in names if n} for model_id, names in candidates.items()}
    words = normalise_name(subject).split()
    for drop in range(len(words)):
        want = " ".join(words[drop:])
        found = {model_id for model_id, names in normed.items() if want in names}
        if found:
            return next(iter(found)) if len(found) == 1 else None
    return None


# ---------------------------------------------------------------- use and binding

@dataclass(frozen=True)
class QuotaUse:
    """A quota and how much of it is used now. ``used`` None: nothing publishes its use (never 0)."""

    spec: QuotaSpec
    used: float | None
    source: str  # "sandbox" (the engine's own count), "aws" (a documented AWS figure), "console" (own calls)
    #: how ``used`` was derived when nothing counts it ("" when it is a published count): a daily quota's use is
    #: the utilization report's percentage × the quota's value, only as precise as that percentage
    derived: str = ""

    @property
    def code(self) -> str:
        return self.spec.code

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def fraction(self) -> float | None:
        if self.used is None:
            return None
        return self.used / self.spec.value if self.spec.value > 0 else (1.0 if self.used > 0 else 0.0)


_MEASURE_RANK = {Measure.TOKENS: 0, Measure.INPUT_TOKENS: 1, Measure.OUTPUT_TOKENS: 2, Measure.REQUESTS: 3}


def binding(uses: Iterable[QuotaUse]) -> QuotaUse | None:
    """The quota closest to its limit (highest used / value); ties: a minute quota before a daily one,
    tokens before requests. None when nothing is used (or no use is known)."""
    best: QuotaUse | None = None
    best_key = None
    for use in uses:
        f = use.fraction
        if f is None or f <= 0:
            continue
        key = (-f, use.spec.period_s, _MEASURE_RANK[use.spec.measure])
        if best_key is None or key < best_key:
            best, best_key = use, key
    return best


_KIND_WORDS = {QuotaKind.ON_DEMAND: "on-demand", QuotaKind.CROSS_REGION: "cross-region",
               QuotaKind.GLOBAL: "global cross-region"}
_MEASURE_ABBR = {Measure.TOKENS: "TPM", Measure.REQUESTS: "RPM", Measure.INPUT_TOKENS: "input TPM",
                 Measure.OUTPUT_TOKENS: "output TPM"}


def quota_label(spec: QuotaSpec) -> str:
    """A short label: "cross-region TPM", "daily tokens", "cross-model daily tokens"."""
    if spec.kind is QuotaKind.CROSS_MODEL_DAILY:
        return "cross-model daily tokens"
    if spec.kind is QuotaKind.MODEL_DAILY:
        return "daily tokens"
    if spec.kind is QuotaKind.GLOBAL_DAILY:
        return "global daily tokens"
    return f"{_KIND_WORDS[spec.kind]} {_MEASURE_ABBR[spec.measure]}"


def describe(use: QuotaUse, region: str, subject: str | None = None) -> str:
    """"cross-region TPM quota of Claude Sonnet 4.5 (us-east-1), 96% used". ``subject`` defaults to the
    name's own "for X"; the account-level quota names no model."""
    spec = use.spec
    if subject is None:
        c = classify(spec.name)
        subject = c.subject if c is not None else spec.model_id
    label = quota_label(spec)
    whose = f" of {subject}" if spec.kind is not QuotaKind.CROSS_MODEL_DAILY and subject else ""
    f = use.fraction
    used = "use not published" if f is None else f"{f * 100:.0f}% used"
    return f"{label} quota{whose} ({region}), {used}"
