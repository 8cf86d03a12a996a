"""The sandbox's model catalog, reservations and tier policies as plain, validated data.

Parsing takes plain dicts (from YAML) and raises :class:`ConfigError` naming the field
path (``sandbox.models[2].tpm``); the loader in :mod:`tierconsole.core.config.loader` adds file and line.
The value checks every parser shares are in :mod:`.checks`, the inference-profile geographies in
:mod:`.geographies` (both re-exported here, where their users import them).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

# Re-exported (``X as X``): the catalog's users import the checks and the profile parsing from here.
from .checks import ConfigError as ConfigError
from .checks import _check_keys as _check_keys
from .checks import _get as _get
from .checks import _names
from .checks import field_name as field_name
from .checks import show as show
from .geographies import _REGION as REGION_NAME
from .geographies import DEFAULT_GEOGRAPHIES
from .geographies import parse_geographies as parse_geographies
from .quotas import (
    QuotaKind, QuotaRules, QuotaSpec, daily_spec, minute_specs,
)
from .quota_config import _parse_model_quotas, parse_account_quotas, parse_quota_rules, profile_routes
from .tiers import Tier

FAMILIES = ("anthropic", "nova", "openai", "generic")
_PROFILE_KEYS = {"on_demand", "profiles"}  # a model's inference profiles (checked by parse_profiles)
MAX_TTFT_MS = 3_600_000.0  # a model's time to first token: at most an hour
MAX_WAIT_S = 366 * 86_400.0  # a tier's queue wait: at most a year of sandbox time


@dataclass(frozen=True)
class ModelSpec:
    model_id: str
    name: str
    family: str
    provider: str
    tpm: int  # on-demand tokens per minute, shared by priority/default/flex (input TPM of a split shape)
    rpm: int  # on-demand requests per minute (0: a split shape has no RPM quota)
    burndown: float
    max_output_tokens: int
    output_tps: float  # Standard output tokens per second
    ttft_ms: float  # Standard time to first token
    tokens_per_day: int
    on_demand: bool = True  # False: profile-only; a direct call (bare id or FM ARN) is a ValidationException
    profiles: tuple[str, ...] = ()  # the geographies (keys of Catalog.geographies) with a system profile for it
    batch_min_records: int = 100
    batch_max_records: int = 50_000
    batch_records_per_minute: int = 600
    quota_name: str = ""  # the "for X" of its Service Quotas names (AWS: "Anthropic Claude Sonnet 4.5"); default name
    #: every quota of the model (on-demand, cross-region, global minute quotas, daily); derived from
    #: tpm/rpm/tokens_per_day when not given (a cross-region or global pool, where the model has such a
    #: profile, then copies the on-demand values)
    quotas: tuple[QuotaSpec, ...] = ()
    not_ready_rate: float = 0.0  # share of calls answered ModelNotReadyException (429); 0 = never
    # As ListFoundationModels names the model (AWS's BrandedName: at most 20 characters, "Claude Sonnet 4.5")
    # and what it takes and gives, as its model card says (the enum of botocore's model: TEXT, IMAGE, EMBEDDING).
    model_name: str = ""
    input_modalities: tuple[str, ...] = ("TEXT",)
    output_modalities: tuple[str, ...] = ("TEXT",)

    def __post_init__(self) -> None:
        if not self.quota_name:
            object.__setattr__(self, "quota_name", self.name)
        if not self.model_name:  # a spec built directly (parse_model checks the file's against the 20 characters)
            object.__setattr__(self, "model_name", self.name)
        if not self.quotas:
            shape = {"tpm": self.tpm, "rpm": self.rpm} if self.rpm else {"tpm": self.tpm}
            kinds = (QuotaKind.ON_DEMAND, *(QuotaKind(k) for k in profile_routes(self.profiles)))
            specs = [s for kind in kinds for s in minute_specs(kind, self.model_id, self.quota_name, shape)]
            specs.append(daily_spec(QuotaKind.MODEL_DAILY, self.tokens_per_day, self.quota_name, self.model_id))
            object.__setattr__(self, "quotas", tuple(specs))

    def quotas_of(self, kind: QuotaKind) -> tuple[QuotaSpec, ...]:
        return tuple(q for q in self.quotas if q.kind is kind)


MODEL_NAME_MAX = 20  # ListFoundationModels' modelName (BrandedName in botocore's model)
MODALITIES = ("TEXT", "IMAGE", "EMBEDDING")


@dataclass(frozen=True)
class ReservationSpec:
    reservation_id: str
    model_id: str
    input_tpm: int
    output_tpm: int
    term_months: int = 1
    price_per_1k_tpm_month: float = 0.0
    #: the region the reserved capacity is in (a reservation is made in one region; AWS's documentation does not
    #: say one can span regions): ``region:`` in the profile, by default the profile's (first) region
    region: str | None = None


@dataclass(frozen=True)
class TierPolicy:
    """How one on-demand tier behaves in the sandbox's queue."""

    max_wait_s: float  # how long a request may queue for quota before a ThrottlingException
    speed_factor: float  # output tokens/s relative to Standard
    spurious_throttle_rate: float = 0.0  # "may throttle even within quota" (Standard); 0 = off


DEFAULT_POLICIES = {
    Tier.PRIORITY: TierPolicy(max_wait_s=20.0, speed_factor=1.25),
    Tier.STANDARD: TierPolicy(max_wait_s=2.0, speed_factor=1.0),
    Tier.FLEX: TierPolicy(max_wait_s=3600.0, speed_factor=0.6),
}


@dataclass(frozen=True)
class EngineSettings:
    hold_applies_burndown: bool = False
    overflow_reported_as: str = "default"  # what a reserved request that overflowed reports as its tier
    reserved_output_burndown: bool = False  # whether output counts × burndown against output TPM
    seed: int = 0
    policies: Mapping[Tier, TierPolicy] = field(default_factory=lambda: dict(DEFAULT_POLICIES))


@dataclass(frozen=True)
class Catalog:
    models: tuple[ModelSpec, ...]
    reservations: tuple[ReservationSpec, ...] = ()
    # system-defined inference profiles: geography → destination regions (see parse_profiles)
    geographies: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_GEOGRAPHIES))
    settings: EngineSettings = field(default_factory=EngineSettings)
    #: account-level quotas ("Cross-Model Max Tokens Per Day"); default: the sum of the models' daily quotas
    account_quotas: tuple[QuotaSpec, ...] = ()
    rules: QuotaRules = field(default_factory=QuotaRules)

    def __post_init__(self) -> None:
        if not self.account_quotas:
            total = sum(m.tokens_per_day for m in self.models)
            object.__setattr__(self, "account_quotas",
                               (daily_spec(QuotaKind.CROSS_MODEL_DAILY, max(1, total), None, None),))

    @property
    def quota_specs(self) -> tuple[QuotaSpec, ...]:
        """Every quota: the models' in catalog order, then the account's."""
        return tuple(q for m in self.models for q in m.quotas) + self.account_quotas

    def model(self, model_id: str) -> ModelSpec | None:
        for m in self.models:
            if m.model_id == model_id:
                return m
        return None

    def reservation_for(self, model_id: str) -> ReservationSpec | None:
        for r in self.reservations:
            if r.model_id == model_id:
                return r
        return None


_MODEL_KEYS = {"id", "name", "family", "provider", "tpm", "rpm", "burndown", "max_output_tokens", "output_tps",
               "ttft_ms", "tokens_per_day", "batch_min_records", "batch_max_records", "batch_records_per_minute",
               "quota_name", "quotas", "quota_names", "not_ready_rate", "model_name", "input_modalities",
               "output_modalities"}
_RES_KEYS = {"id", "model", "input_tpm", "output_tpm", "term_months", "price_per_1k_tpm_month", "region"}
_POLICY_KEYS = {"max_wait_s", "speed_factor", "spurious_throttle_rate"}
_SETTINGS_KEYS = {"hold_applies_burndown", "overflow_reported_as", "reserved_output_burndown", "seed", "tiers"}
def _modalities(d: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
    value = _get(d, key, path, list, default=["TEXT"])
    if not value or any(v not in MODALITIES for v in value) or len(set(value)) != len(value):
        raise ConfigError(f"{path}.{key}", f"must be a list of distinct modalities among {', '.join(MODALITIES)}, "
                          f"got {show(value)}")
    return tuple(value)


def parse_model(d: Any, path: str) -> ModelSpec:
    d = _check_keys(d, _MODEL_KEYS | _PROFILE_KEYS, path)
    model_id = _get(d, "id", path, str)
    family = _get(d, "family", path, str, default=_guess_family(model_id))
    if family not in FAMILIES:
        raise ConfigError(f"{path}.family", f"must be one of {', '.join(FAMILIES)}, got {show(family)}")
    name = _get(d, "name", path, str, default=model_id)
    quota_name = _get(d, "quota_name", path, str, default=name)
    if not quota_name.strip() or len(quota_name) > 200:
        raise ConfigError(f"{path}.quota_name", f"must be 1 to 200 characters, got {show(quota_name)}")
    profiles = _names(d, "profiles", path)
    specs, on_demand, per_day = _parse_model_quotas(d, path, model_id, quota_name, profiles)
    spec = ModelSpec(
        model_id=model_id,
        name=name,
        family=family,
        provider=_get(d, "provider", path, str, default=model_id.split(".")[0]),
        tpm=on_demand.get("tpm", on_demand.get("input_tpm", 0)),
        rpm=on_demand.get("rpm", 0),
        burndown=_get(d, "burndown", path, float, default=1.0, minimum=1),
        on_demand=_get(d, "on_demand", path, bool, default=True),
        profiles=profiles,
        max_output_tokens=_get(d, "max_output_tokens", path, int, minimum=1),
        output_tps=_get(d, "output_tps", path, float, default=100.0, minimum=0.001),
        ttft_ms=_get(d, "ttft_ms", path, float, default=300.0, minimum=0, maximum=MAX_TTFT_MS),
        tokens_per_day=per_day,
        batch_min_records=_get(d, "batch_min_records", path, int, default=100, minimum=1),
        batch_max_records=_get(d, "batch_max_records", path, int, default=50_000, minimum=1),
        batch_records_per_minute=_get(d, "batch_records_per_minute", path, int, default=600, minimum=1),
        quota_name=quota_name,
        quotas=specs,
        not_ready_rate=_get(d, "not_ready_rate", path, float, default=0.0, minimum=0, maximum=1),
        model_name=_get(d, "model_name", path, str, default=_get(d, "name", path, str, default=model_id)),
        input_modalities=_modalities(d, "input_modalities", path),
        output_modalities=_modalities(d, "output_modalities", path),
    )
    if not 1 <= len(spec.model_name) <= MODEL_NAME_MAX:
        key = "model_name" if "model_name" in d else "name"
        raise ConfigError(f"{path}.{key}", f"{show(spec.model_name)} is {len(spec.model_name)} characters; AWS names "
                          f"a foundation model in 1 to {MODEL_NAME_MAX} (set model_name, e.g. 'Claude Sonnet 4.5')")
    if spec.batch_min_records > spec.batch_max_records:
        raise ConfigError(f"{path}.batch_min_records", f"{spec.batch_min_records} is above batch_max_records "
                          f"({spec.batch_max_records})")
    return spec


def parse_reservation(d: Any, path: str, index: int) -> ReservationSpec:
    d = _check_keys(d, _RES_KEYS, path)
    return ReservationSpec(
        reservation_id=_get(d, "id", path, str, default=f"reservation-{index + 1}"),
        model_id=_get(d, "model", path, str),
        input_tpm=_get(d, "input_tpm", path, int, minimum=1),
        output_tpm=_get(d, "output_tpm", path, int, minimum=1),
        term_months=_get(d, "term_months", path, int, default=1, minimum=1),
        price_per_1k_tpm_month=_get(d, "price_per_1k_tpm_month", path, float, default=0.0, minimum=0),
        region=_region(d, path),
    )


def _region(d: Mapping[str, Any], path: str) -> str | None:
    region: str | None = _get(d, "region", path, str, default=None)
    if region is not None and not REGION_NAME.fullmatch(region):
        raise ConfigError(f"{path}.region", f"{show(region)} is not an AWS region name (e.g. us-east-1)")
    return region


def in_region(reservations: Iterable[ReservationSpec], region: str) -> tuple[ReservationSpec, ...]:
    """The reservations given a ``region`` (those without one, before the profile filled it, as its own)."""
    return tuple(replace(r, region=r.region or region) for r in reservations)


def parse_settings(d: Any, path: str) -> EngineSettings:
    if d is None:
        return EngineSettings()
    d = _check_keys(d, _SETTINGS_KEYS, path)
    policies = dict(DEFAULT_POLICIES)
    tiers = d.get("tiers") or {}
    tiers = _check_keys(tiers, {"priority", "default", "standard", "flex"}, f"{path}.tiers")
    for name, raw in tiers.items():
        tier = Tier.parse(name)
        p = f"{path}.tiers.{name}"
        raw = _check_keys(raw or {}, _POLICY_KEYS, p)
        base = policies[tier]
        policies[tier] = TierPolicy(
            max_wait_s=_get(raw, "max_wait_s", p, float, default=base.max_wait_s, minimum=0, maximum=MAX_WAIT_S),
            speed_factor=_get(raw, "speed_factor", p, float, default=base.speed_factor, minimum=0.001),
            spurious_throttle_rate=_get(raw, "spurious_throttle_rate", p, float, default=base.spurious_throttle_rate,
                                        minimum=0, maximum=1),
        )
    overflow = _get(d, "overflow_reported_as", path, str, default="default")
    if overflow not in ("default", "reserved"):
        raise ConfigError(f"{path}.overflow_reported_as", f"must be 'default' or 'reserved', got {show(overflow)}")
    return EngineSettings(
        hold_applies_burndown=_get(d, "hold_applies_burndown", path, bool, default=False),
        overflow_reported_as=overflow,
        reserved_output_burndown=_get(d, "reserved_output_burndown", path, bool, default=False),
        seed=_get(d, "seed", path, int, default=0),
        policies=policies,
    )


def parse_catalog(models: Any, reservations: Any, settings: Any, *, path: str = "sandbox",
                  account_quotas: Any = None, quota_rules: Any = None) -> Catalog:
    if not isinstance(models, list) or not models:
        raise ConfigError(f"{path}.models", "must be a non-empty list of models")
    parsed = tuple(parse_model(m, f"{path}.models[{i}]") for i, m in enumerate(models))
    seen: set[str] = set()
    for i, m in enumerate(parsed):
        if m.model_id in seen:
            raise ConfigError(f"{path}.models[{i}].id", f"duplicate model id {show(m.model_id)}")
        seen.add(m.model_id)
    accounts = parse_account_quotas(account_quotas, f"{path}.account_quotas", sum(m.tokens_per_day for m in parsed))
    model_names: dict[str, str] = {}
    for i, m in enumerate(parsed):  # the batch quotas are named "... for <name>": one name, one model
        if m.name in model_names:
            raise ConfigError(f"{path}.models[{i}].name", f"{show(m.name)} is also {model_names[m.name]}'s name: "
                                                          "give each model its own")
        model_names[m.name] = m.model_id
    names: dict[str, str] = {}
    for i, m in enumerate(parsed):
        for q in m.quotas:
            if q.name in names:
                raise ConfigError(f"{path}.models[{i}].quota_name", f"quota name {show(q.name)} is also "
                                  f"{names[q.name]}'s: give each model its own quota_name")
            names[q.name] = m.model_id
    res_list = reservations or []
    if not isinstance(res_list, list):
        raise ConfigError("reservations", "must be a list")
    res = tuple(parse_reservation(r, f"reservations[{i}]", i) for i, r in enumerate(res_list))
    for i, r in enumerate(res):
        if r.model_id not in seen:
            raise ConfigError(f"reservations[{i}].model", f"model {show(r.model_id)} is not in {path}.models")
    return Catalog(models=parsed, reservations=res, settings=parse_settings(settings, f"{path}.engine"),
                   account_quotas=accounts, rules=parse_quota_rules(quota_rules, f"{path}.quota_rules"))


def parse_profiles(catalog: Catalog, geographies: Any, *, path: str = "sandbox") -> Catalog:
    """``catalog`` with the system-defined inference profiles of ``sandbox.geographies`` (geography →
    destination regions), each model's ``profiles`` checked against them (and a profile-only model,
    ``on_demand: false``, given at least one)."""
    geos = parse_geographies(geographies, f"{path}.geographies")
    for i, m in enumerate(catalog.models):
        for j, geo in enumerate(m.profiles):
            if geo not in geos:
                raise ConfigError(f"{path}.models[{i}].profiles[{j}]", f"unknown geography {show(geo)} "
                                  f"(expected one of: {', '.join(sorted(geos))}; add it under {path}.geographies)")
        if not m.on_demand and not m.profiles:
            raise ConfigError(f"{path}.models[{i}].on_demand", "a profile-only model (on_demand: false) needs at "
                                                               "least one geography in profiles")
    return replace(catalog, geographies=geos)


def _guess_family(model_id: str) -> str:
    provider = model_id.split(".")[-2] if model_id.count(".") >= 2 else model_id.split(".")[0]
    if "anthropic" in model_id:
        return "anthropic"
    if "nova" in model_id:
        return "nova"
    if "openai" in model_id or provider == "openai":
        return "openai"
    return "generic"
