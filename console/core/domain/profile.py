"""A console profile: which account and region to watch, what to show, and how.

Parsed from YAML (see ``profiles/``); field errors raise :class:`ConfigError` with the field
path, and the loader adds file and line.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit

from .catalog import (ConfigError, ReservationSpec, _check_keys, _get, field_name, in_region, parse_reservation,
                      show)
from .metricforms import CONSOLE_METRICS, MetricsSettings, parse_metrics_settings
from .watchconfig import WatchConfig, parse_watch
from .fleetspec import FleetSpec, parse_fleet

_KEYS = {"name", "description", "aws_profile", "region", "regions", "endpoint_url", "models", "reservations",
         "prices", "tier_price_multipliers", "refresh_seconds", "quota_refresh_seconds", "alert_threshold",
         "alert_bell", "read_only", "allow_prompts_in_read_only", "sandbox", "default", "s3_input_prefix", "s3_output_prefix",
         "batch_role_arn", "timeouts", "quota_names", "metrics", "watch", "alerts", "fleet"}
_TIMEOUT_KEYS = {"connect", "calls", "prompt", "stream_event"}
PROMPT_TIERS = ("reserved", "priority", "default", "flex")
MAX_TIMEOUT_S = 86_400.0  # a day: a larger figure is a unit mistake (milliseconds), not a wait

#: How long a prompt may wait for its answer (streamed: for its first event), per tier. The answer of a
#: non-streamed prompt comes whole at the end: queueing plus generating the longest answer a catalog model
#: gives (8,192 tokens at 70 tokens/s is about two minutes) must fit. Flex waits behind every other tier:
#: "minutes rather than seconds", with a one-hour timeout quoted by AWS (the sandbox's Flex max_wait_s).
DEFAULT_PROMPT_TIMEOUTS = {"reserved": 300.0, "priority": 300.0, "default": 300.0, "flex": 3900.0}


@dataclass(frozen=True)
class Timeouts:
    """Seconds the console waits. ``calls`` is the read timeout of every call but a prompt's answer
    (CloudWatch, Service Quotas, batch, S3, STS): short, so that a stale pane shows quickly.
    ``prompt`` is per tier; ``stream_event`` is the longest gap between two events of a streamed answer
    once its first event has come (a stream is not timed in total)."""

    connect: float = 3.0
    calls: float = 10.0
    prompt: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_PROMPT_TIMEOUTS))
    stream_event: float = 60.0

    def for_prompt(self, tier: str | None) -> float:
        tier = "default" if tier in (None, "", "standard") else tier
        return self.prompt.get(tier, self.prompt["default"])


def parse_timeouts(d: Any) -> Timeouts:
    d = _check_keys(d if d is not None else {}, _TIMEOUT_KEYS, "timeouts")

    def seconds(doc: Mapping[str, Any], key: str, path: str, default: float) -> float:
        value: float = _get(doc, key, path, float, default=default, minimum=0.1)
        if value > MAX_TIMEOUT_S:
            raise ConfigError(f"{path}.{key}", f"must be at most {MAX_TIMEOUT_S:g} seconds, got {value!r}")
        return value

    prompt = _check_keys(d.get("prompt") or {}, set(PROMPT_TIERS) | {"standard"}, "timeouts.prompt")
    if "standard" in prompt and "default" in prompt:
        raise ConfigError("timeouts.prompt", "give either 'standard' or 'default' (the same tier), not both")
    per_tier = dict(DEFAULT_PROMPT_TIMEOUTS)
    for key in prompt:
        per_tier["default" if key == "standard" else key] = seconds(prompt, key, "timeouts.prompt", 0.0)
    return Timeouts(connect=seconds(d, "connect", "timeouts", 3.0), calls=seconds(d, "calls", "timeouts", 10.0),
                    prompt=per_tier, stream_event=seconds(d, "stream_event", "timeouts", 60.0))


@dataclass(frozen=True)
class Profile:
    name: str
    description: str = ""
    aws_profile: str | None = None  # a profile of ~/.aws/config; None = the default credential chain
    regions: tuple[str, ...] = ("us-east-1",)
    endpoint_url: str | None = None
    models: tuple[str, ...] = ()  # models to watch; empty = every model the quotas/catalog know
    reservations: tuple[ReservationSpec, ...] = ()
    prices: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # model -> {input, output} per 1K
    tier_price_multipliers: Mapping[str, float] = field(default_factory=dict)
    refresh_seconds: float = 5.0
    quota_refresh_seconds: float = 900.0
    alert_threshold: float = 0.8  # quotas at or over this fraction are marked, counted and alerted on
    alert_bell: bool = True  # ring the terminal bell once when a quota crosses alert_threshold
    read_only: bool = False
    #: what made the profile read-only besides its file (``--read-only``, an ad-hoc AWS config profile, a replay),
    #: said in every refusal; the file's own cause is the field ``read_only_field`` of ``raw`` when it is true
    #: (``read_only``, or a fleet access rule's ``fleet.access[1].read_only`` for an account reached by it)
    read_only_by: str = ""
    read_only_field: str = "read_only"
    # read-only refuses test prompts too (they spend the shared production quota) unless this is true
    allow_prompts_in_read_only: bool = False
    sandbox: Mapping[str, Any] | None = None  # present: run on the embedded sandbox with this section
    s3_input_prefix: str | None = None
    s3_output_prefix: str | None = None
    batch_role_arn: str | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    #: model id -> the "for X" subjects its Service Quotas names use, when no listed name matches (AWS names
    #: quotas "Anthropic Claude Sonnet 4.5", "Claude Sonnet 4.5 V1", ... not always as ListFoundationModels does)
    quota_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    metrics: MetricsSettings = CONSOLE_METRICS  # how to read per-tier CloudWatch series (tier_form, bare_model_id)
    watch: WatchConfig = WatchConfig()  # `tierconsole watch`: change events, sinks, alert rules (watch:, alerts:)
    fleet: FleetSpec | None = None  # present: the monitoring account of a fleet (issue 15; see fleetspec)
    #: a fleet drill-in's: the source account it acts as and the access rule reaching it (``fleet.access[0]``).
    #: Its batch destination is that account's own (s3 prefixes and role above), never the monitoring profile's
    fleet_account: str | None = None
    fleet_access: str = ""
    source: str = "<built-in>"
    origin: str = "built-in"  # built-in | project | user
    raw: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)  # the parsed document

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox is not None

    @property
    def region(self) -> str:
        return self.regions[0]


def parse_profile(doc: Any, *, default_name: str, source: str = "<memory>", origin: str = "user") -> Profile:
    d = _check_keys(doc, _KEYS, "")
    _get(d, "default", "", bool, default=False)  # `default: "false"` is no default (discovery reads the flag)
    if "region" in d and "regions" in d:
        raise ConfigError("regions", "give either 'region' or 'regions', not both")
    if "regions" in d:
        regions = d["regions"]
        if not isinstance(regions, list) or not regions or not all(isinstance(r, str) and r for r in regions):
            raise ConfigError("regions", f"must be a non-empty list of region names, got {show(regions)}")
        regions = tuple(regions)
    else:
        regions = (_get(d, "region", "", str, default="us-east-1"),)
    models = d.get("models") or []
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        raise ConfigError("models", f"must be a list of model ids, got {show(models)}")
    res = d.get("reservations") or []
    if not isinstance(res, list):
        raise ConfigError("reservations", "must be a list")
    prices = d.get("prices") or {}
    if not isinstance(prices, Mapping):
        raise ConfigError("prices", "must be a mapping of model id to {input, output} per 1K tokens")
    for model_id, p in prices.items():
        where = f"prices.{field_name(model_id)}"
        p = _check_keys(p, {"input", "output"}, where)
        for k in ("input", "output"):
            _get(p, k, where, float, minimum=0)
    mults = d.get("tier_price_multipliers") or {}
    mults = _check_keys(mults, {"priority", "default", "standard", "flex", "batch", "reserved"}, "tier_price_multipliers")
    for k in mults:
        _get(mults, k, "tier_price_multipliers", float, minimum=0)
    sandbox = d.get("sandbox")
    if sandbox is not None and not isinstance(sandbox, Mapping):
        raise ConfigError("sandbox", "must be a mapping (the embedded sandbox's catalog)")
    threshold = _get(d, "alert_threshold", "", float, default=0.8, minimum=0)
    if threshold > 1:
        raise ConfigError("alert_threshold", f"must be a fraction between 0 and 1, got {threshold}")
    endpoint = _get(d, "endpoint_url", "", str, default=None)
    problem = None if endpoint is None else endpoint_problem(endpoint)
    if problem:
        raise ConfigError("endpoint_url", f"{problem}, got {show(endpoint)}")
    quota_names = d.get("quota_names") or {}
    if not isinstance(quota_names, Mapping):
        raise ConfigError("quota_names", f"must be a mapping of model id to a list of names, got {show(quota_names)}")
    for model_id, names in quota_names.items():
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
            raise ConfigError(f"quota_names.{field_name(model_id)}",
                              f"must be a name or a list of names, got {show(names)}")
    return Profile(
        quota_names={k: tuple([v] if isinstance(v, str) else v) for k, v in quota_names.items()},
        name=_get(d, "name", "", str, default=default_name),
        description=_get(d, "description", "", str, default=""),
        aws_profile=_get(d, "aws_profile", "", str, default=None),
        regions=regions,
        endpoint_url=endpoint,
        models=tuple(models),
        reservations=in_region((parse_reservation(r, f"reservations[{i}]", i) for i, r in enumerate(res)),
                               regions[0]),
        prices={k: {kk: float(vv) for kk, vv in v.items()} for k, v in prices.items()},
        tier_price_multipliers={("default" if k == "standard" else k): float(v) for k, v in mults.items()},
        # a fleet's 1-minute metrics change once a minute (and GetMetricData is billed per metric asked)
        refresh_seconds=_get(d, "refresh_seconds", "", float, minimum=0.2,
                             default=60.0 if "fleet" in d else 1.0 if sandbox is not None else 5.0),
        quota_refresh_seconds=_get(d, "quota_refresh_seconds", "", float, default=900.0, minimum=10),
        alert_threshold=threshold,
        alert_bell=_get(d, "alert_bell", "", bool, default=True),
        read_only=_get(d, "read_only", "", bool, default=False),
        allow_prompts_in_read_only=_get(d, "allow_prompts_in_read_only", "", bool, default=False),
        sandbox=sandbox,
        s3_input_prefix=_get(d, "s3_input_prefix", "", str, default=None),
        s3_output_prefix=_get(d, "s3_output_prefix", "", str, default=None),
        batch_role_arn=_get(d, "batch_role_arn", "", str, default=None),
        timeouts=parse_timeouts(d.get("timeouts")),
        metrics=console_metrics(d.get("metrics"), sandbox),
        watch=parse_watch(d.get("watch"), d.get("alerts"), threshold=threshold, sandbox=sandbox is not None,
                          models=models or _sandbox_models(sandbox), fleet="fleet" in d),
        fleet=parse_fleet(d["fleet"]) if "fleet" in d else None,
        source=source,
        origin=origin,
        raw=d,
    )


def _sandbox_models(sandbox: Mapping[str, Any] | None) -> list[str]:
    """The model ids a profile's own sandbox lists (an alert rule's ``models`` names one of them)."""
    listed = (sandbox or {}).get("models")
    return [m["id"] for m in listed if isinstance(m, Mapping) and isinstance(m.get("id"), str)] \
        if isinstance(listed, list) else []


def console_metrics(section: Any, sandbox: Mapping[str, Any] | None) -> MetricsSettings:
    """The profile's ``metrics`` section. A profile that runs its own sandbox and names no ``tier_form``
    reads the form its sandbox publishes (``sandbox.metrics``) until discovery has seen one."""
    settings = parse_metrics_settings(section, "metrics", console=True)
    named = isinstance(section, Mapping) and section.get("tier_form") is not None
    if sandbox is None or named:
        return settings
    own = parse_metrics_settings(sandbox.get("metrics"), "sandbox.metrics", console=False)
    bare = settings.bare_model_id if isinstance(section, Mapping) and "bare_model_id" in section else own.bare_model_id
    return MetricsSettings(tier_form=own.tier_form, bare_model_id=bare)


_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def endpoint_problem(url: str) -> str | None:
    """What is wrong with an endpoint URL (``--endpoint-url``, a profile's ``endpoint_url``), or None
    for one every AWS SDK call can be sent to: http(s), a host name or IP address, a port in range."""
    if not url.startswith(("http://", "https://")):
        return "must be an http:// or https:// URL"
    if any(c.isspace() or not c.isprintable() for c in url):
        return "must not hold spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port out of range or not a number
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    host = parts.hostname
    if not host:
        return "names no host"
    if parts.netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return "names an IPv6 address that is not valid"
        return None
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if len(host) > 255 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        return "names a host that is not valid (letters, digits, '-' and '.' only)"
    return None
