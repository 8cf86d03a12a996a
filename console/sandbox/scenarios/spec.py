"""The scenario file format, its validated form, and the loader.

A scenario is a YAML file::

    name: spike                   # optional (default: the file name without .yaml)
    description: Standard traffic surges past the quota of one model
    repeat: 300                   # optional: the phases repeat with this period (sandbox seconds)
    tiers:                        # optional: tier policy overrides while the scenario runs
      flex: {max_wait_s: 600}     #   keys: max_wait_s, speed_factor, spurious_throttle_rate
    tenants:                      # background load, one entry per tenant (at least one)
      - name: checkout-assistant  # unique; recorded as Outcome.tenant
        model: openai.gpt-oss-20b-1:0
        tier: default             # reserved | priority | default (or standard) | flex | none (no tier sent)
        rate: 0.5                 # open loop: requests per sandbox second ...
        # concurrency: 4          # ... or closed loop: workers that each send when the last answer came
        prompt_tokens: 1500       # input tokens per request
        max_tokens: 1000          # optional: omit to send no maxTokens (the hold is the model maximum)
        streaming: false          # optional: record as ConverseStream, with time to first token
        start: 0                  # optional: first request at this many sandbox seconds
        max_in_flight: 64         # optional: bound on this tenant's concurrent requests
        backoff: 1.0              # optional, closed loop: pause after an error (sandbox seconds)
    phases:                       # optional
      - name: surge
        start: 20                 # sandbox seconds after the scenario starts (within the cycle if repeat)
        duration: 60
        multiplier: 6             # rate (or concurrency) multiplier while active; several multiply
        tenants: [checkout-assistant]   # optional: the tenants it applies to (default: all)
      - name: brownout
        start: 100
        duration: 30
        models: [amazon.nova-lite-v1:0] # optional: the models the fault applies to (default: all)
        fault:
          probability: 0.4        # chance that a request fails before admission
          error: ServiceUnavailableException  # optional; or InternalServerException, ModelTimeoutException
          latency: 3.0            # optional: sandbox seconds added to every answer (all models)

Faults apply to every caller of the sandbox while active (clients too), as a real incident would.
Numbers must be finite: times and durations at most a year of sandbox time (:data:`MAX_SECONDS`),
rates and multipliers at most 1,000,000, concurrency and max_in_flight at most 100,000.
Errors are :class:`~tierconsole.core.domain.catalog.ConfigError` naming the file, the line and the field.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core.config.loader import load_yaml, locate
from ...core.domain.catalog import Catalog, ConfigError, _check_keys, _get, show
from ...core.domain.tiers import Tier

MAX_SECONDS = 366 * 86_400.0  # any time or duration in a scenario: at most a year of sandbox time
MAX_RATE = 1_000_000.0  # requests per sandbox second (and phase multipliers)
MAX_WORKERS = 100_000  # concurrency and max_in_flight: each is a task
FAULT_ERRORS = {"ServiceUnavailableException": (503, "Bedrock is unable to process your request."),
                "InternalServerException": (500, "The server encountered an internal error."),
                "ModelTimeoutException": (408, "The model took too long to respond.")}
_TOP_KEYS = {"name", "description", "repeat", "tiers", "tenants", "phases"}
_TENANT_KEYS = {"name", "model", "tier", "rate", "concurrency", "prompt_tokens", "max_tokens", "streaming",
                "start", "max_in_flight", "backoff"}
_PHASE_KEYS = {"name", "start", "duration", "multiplier", "tenants", "models", "fault"}
_FAULT_KEYS = {"probability", "error", "latency"}
_POLICY_KEYS = {"max_wait_s", "speed_factor", "spurious_throttle_rate"}
_POLICY_MAX = {"max_wait_s": MAX_SECONDS, "spurious_throttle_rate": 1.0}


@dataclass(frozen=True)
class TenantSpec:
    name: str
    model: str
    tier: str | None  # wire value; None sends no serviceTier
    rate: float | None  # open loop: requests per sandbox second
    concurrency: int | None  # closed loop: workers
    prompt_tokens: int
    max_tokens: int | None = None
    streaming: bool = False
    start: float = 0.0
    max_in_flight: int = 64
    backoff: float = 1.0


@dataclass(frozen=True)
class FaultSpec:
    probability: float
    error: str = "ServiceUnavailableException"
    latency: float = 0.0


@dataclass(frozen=True)
class PhaseSpec:
    name: str
    start: float
    duration: float
    multiplier: float = 1.0
    tenants: tuple[str, ...] = ()  # empty: every tenant
    models: tuple[str, ...] = ()  # empty: every model (faults)
    fault: FaultSpec | None = None

    def active(self, t: float) -> bool:
        return self.start <= t < self.start + self.duration


@dataclass(frozen=True)
class Scenario:
    name: str
    tenants: tuple[TenantSpec, ...]
    phases: tuple[PhaseSpec, ...] = ()
    description: str = ""
    repeat: float | None = None
    tiers: dict[str, dict[str, float]] = field(default_factory=dict)  # wire tier -> policy overrides
    source: str = "<scenario>"

    def cycle_time(self, elapsed: float) -> float:
        return elapsed % self.repeat if self.repeat else elapsed

    def active_phases(self, elapsed: float) -> list[PhaseSpec]:
        t = self.cycle_time(elapsed)
        return [p for p in self.phases if p.active(t)]

    def multiplier(self, tenant: str, elapsed: float) -> float:
        return math.prod(p.multiplier for p in self.active_phases(elapsed) if not p.tenants or tenant in p.tenants)

    def faults(self, model_id: str, elapsed: float) -> list[FaultSpec]:
        return [p.fault for p in self.active_phases(elapsed)
                if p.fault is not None and (not p.models or model_id in p.models)]

    def next_boundary(self, elapsed: float) -> float:
        """The next elapsed time (> ``elapsed``) at which a phase starts or ends; ``inf`` if none."""
        marks = sorted({0.0} | {p.start for p in self.phases} | {p.start + p.duration for p in self.phases})
        if not self.phases:
            return math.inf
        if not self.repeat:
            return next((m for m in marks if m > elapsed), math.inf)
        base = math.floor(elapsed / self.repeat) * self.repeat
        return min(base + k * self.repeat + m for k in (0, 1) for m in marks + [self.repeat]
                   if base + k * self.repeat + m > elapsed)

    def max_multiplier(self, tenant: str) -> float:
        """The largest multiplier the tenant can see (multipliers only change at phase starts and ends)."""
        marks = {0.0} | {p.start for p in self.phases}
        return max(1.0, *(self.multiplier(tenant, m) for m in marks))


# ---------------------------------------------------------------------- parsing

def _names(value: Any, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, f"must be a list of names, got {show(value)}")
    return tuple(value)


def _tier(value: Any, path: str) -> str | None:
    if value is None or value == "none":
        return None
    if not isinstance(value, str):
        raise ConfigError(path, f"must be a tier name, got {show(value)}")
    try:
        return Tier.parse(value).value
    except ValueError as exc:
        raise ConfigError(path, str(exc)) from None


def _tenant(d: Any, path: str, catalog: Catalog | None) -> TenantSpec:
    d = _check_keys(d, _TENANT_KEYS, path)
    rate = _get(d, "rate", path, float, default=None, minimum=0, maximum=MAX_RATE)
    concurrency = _get(d, "concurrency", path, int, default=None, minimum=1, maximum=MAX_WORKERS)
    if (rate is None) == (concurrency is None):
        raise ConfigError(f"{path}.rate", "give exactly one of 'rate' (requests per second) or 'concurrency'")
    t = TenantSpec(
        name=_get(d, "name", path, str), model=_get(d, "model", path, str), tier=_tier(d.get("tier"), f"{path}.tier"),
        rate=rate, concurrency=concurrency, prompt_tokens=_get(d, "prompt_tokens", path, int, minimum=1),
        max_tokens=_get(d, "max_tokens", path, int, default=None, minimum=1),
        streaming=_get(d, "streaming", path, bool, default=False),
        start=_get(d, "start", path, float, default=0.0, minimum=0, maximum=MAX_SECONDS),
        max_in_flight=_get(d, "max_in_flight", path, int, default=64, minimum=1, maximum=MAX_WORKERS),
        backoff=_get(d, "backoff", path, float, default=1.0, minimum=0, maximum=MAX_SECONDS))
    if catalog is not None:
        model = catalog.model(t.model)
        if model is None:
            known = ", ".join(m.model_id for m in catalog.models)
            raise ConfigError(f"{path}.model", f"model {show(t.model)} is not in the sandbox catalog ({known})")
        if t.tier == "reserved" and catalog.reservation_for(t.model) is None:
            raise ConfigError(f"{path}.tier",
                              f"tier 'reserved' needs a reservation for {t.model}; the profile has none")
        if t.max_tokens is not None and t.max_tokens > model.max_output_tokens:
            raise ConfigError(f"{path}.max_tokens", f"{t.max_tokens} exceeds the maximum of "
                              f"{model.max_output_tokens} for {t.model}")
    return t


def _phase(d: Any, path: str, tenants: set[str], repeat: float | None) -> PhaseSpec:
    d = _check_keys(d, _PHASE_KEYS, path)
    fault = None
    if d.get("fault") is not None:
        fp = f"{path}.fault"
        f = _check_keys(d["fault"], _FAULT_KEYS, fp)
        probability = _get(f, "probability", fp, float, default=0.0, minimum=0)
        if probability > 1:
            raise ConfigError(f"{fp}.probability", f"must be between 0 and 1, got {show(probability)}")
        error = _get(f, "error", fp, str, default="ServiceUnavailableException")
        if error not in FAULT_ERRORS:
            raise ConfigError(f"{fp}.error", f"must be one of {', '.join(FAULT_ERRORS)}, got {show(error)}")
        fault = FaultSpec(probability, error, _get(f, "latency", fp, float, default=0.0, minimum=0,
                                                   maximum=MAX_SECONDS))
    p = PhaseSpec(name=_get(d, "name", path, str, default=path),
                  start=_get(d, "start", path, float, minimum=0, maximum=MAX_SECONDS),
                  duration=_get(d, "duration", path, float, minimum=0.001, maximum=MAX_SECONDS),
                  multiplier=_get(d, "multiplier", path, float, default=1.0, minimum=0, maximum=MAX_RATE),
                  tenants=_names(d.get("tenants"), f"{path}.tenants"), models=_names(d.get("models"), f"{path}.models"),
                  fault=fault)
    for name in p.tenants:
        if name not in tenants:
            raise ConfigError(f"{path}.tenants", f"no tenant named {show(name)} (tenants: {', '.join(sorted(tenants))})")
    if repeat is not None and p.start + p.duration > repeat:
        raise ConfigError(f"{path}.duration", f"the phase ends at {p.start + p.duration:g}s, after the "
                          f"{repeat:g}s repeat period")
    return p


def parse_scenario(doc: Any, source: str, catalog: Catalog | None = None) -> Scenario:
    """Validate a loaded scenario document. ``catalog`` (optional) checks models and reservations."""
    try:
        d = _check_keys(doc if doc is not None else {}, _TOP_KEYS, "")
        repeat = _get(d, "repeat", "", float, default=None, minimum=1, maximum=MAX_SECONDS)
        tiers: dict[str, dict[str, float]] = {}
        for key, raw in _check_keys(d.get("tiers") or {}, {"priority", "default", "standard", "flex"}, "tiers").items():
            p = f"tiers.{key}"
            raw = _check_keys(raw or {}, _POLICY_KEYS, p)
            tiers[Tier.parse(key).value] = {k: _get(raw, k, p, float, minimum=0.001 if k == "speed_factor" else 0,
                                                    maximum=_POLICY_MAX.get(k)) for k in raw}
        raw_tenants = d.get("tenants")
        if not isinstance(raw_tenants, list) or not raw_tenants:
            raise ConfigError("tenants", "must be a non-empty list of tenants")
        tenants = tuple(_tenant(t, f"tenants[{i}]", catalog) for i, t in enumerate(raw_tenants))
        seen: set[str] = set()
        for i, t in enumerate(tenants):
            if t.name in seen:
                raise ConfigError(f"tenants[{i}].name", f"duplicate tenant name {show(t.name)}")
            seen.add(t.name)
        raw_phases = d.get("phases") or []
        if not isinstance(raw_phases, list):
            raise ConfigError("phases", "must be a list of phases")
        phases = tuple(_phase(p, f"phases[{i}]", seen, repeat) for i, p in enumerate(raw_phases))
        name = _get(d, "name", "", str, default=Path(source).stem)
        return Scenario(name=name, tenants=tenants, phases=phases, repeat=repeat, tiers=tiers, source=source,
                        description=_get(d, "description", "", str, default=""))
    except ConfigError as err:
        raise locate(err, doc, source) from None


def load_scenario_file(path: str | Path, catalog: Catalog | None = None, *, text: str | None = None,
                       source: str | None = None) -> Scenario:
    source = source or str(path)
    return parse_scenario(load_yaml(source, text) if text is not None else load_yaml(path), source, catalog)
