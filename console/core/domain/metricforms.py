"""How CloudWatch publishes Bedrock's per-tier series, and the ``metrics`` settings that say how to read them.

Pure (no AWS client): :func:`discover` reads one ``ListMetrics`` answer, :mod:`.metricsplan` plans the
``GetMetricData`` queries in the form found.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .catalog import ConfigError, _check_keys, _get, show

# ------------------------------------------------------------------ per-tier series: two forms
#
# AWS's service-tiers page: "You can also view metrics for service tiers in Amazon CloudWatch Metrics under
# 'model-id+priority' and 'model-id+flex'", read as ``ModelId`` values with a suffix (the ``suffix`` form). The
# ``dimension`` form (``{ModelId, ServiceTier}``) is what earlier sandboxes published; an account may show either,
# so the console discovers the form with one ListMetrics (:func:`discover`) and reads whichever it finds.
# Unconfirmed for AWS, so settings on both sides: whether ``+reserved`` exists, and whether the bare ``ModelId``
# series is the model's total (``bare_model_id: total``) or Standard only (``standard``).

SUFFIX = "suffix"
DIMENSION = "dimension"
TIER_FORMS = (SUFFIX, DIMENSION)
BARE_MODES = ("total", "standard")
#: tier suffixes a ``ModelId`` value may carry (``+default`` is not documented but read if seen)
SUFFIX_TIERS = ("priority", "flex", "reserved", "default")
#: metrics whose bare (total) series counts only what drew on the on-demand quota: reserved requests served by
#: the reservation are left out of it (the sandbox publishes it so; for AWS unconfirmed)
ON_DEMAND_TOTAL = frozenset({"EstimatedTPMQuotaUsage"})


def tier_series(series: str, tier: str) -> str:
    """The ``ModelId`` value of a tier's series in the suffix form: ``amazon.nova-lite-v1:0+flex``."""
    return f"{series}+{tier}"


def split_series(value: str) -> tuple[str, str | None]:
    """A ``ModelId`` value as (base series, tier suffix or None): ``m+flex`` → (``m``, ``flex``)."""
    base, plus, tier = value.rpartition("+")
    if plus and base and tier in SUFFIX_TIERS:
        return base, tier
    return value, None


@dataclass(frozen=True)
class MetricsSettings:
    """The ``metrics`` section: of the sandbox (how it publishes) or of a console profile (how to read).

    ``tier_form``: ``suffix`` (AWS's documented ``ModelId=<series>+priority``), ``dimension`` (``{ModelId,
    ServiceTier}``) or, for a console profile, ``auto`` (discover; totals until a form is seen).
    ``reserved_suffix`` (sandbox): publish ``+reserved`` (unconfirmed for AWS). ``bare_model_id``: the bare
    ``ModelId`` series of the suffix form is the model's ``total`` or ``standard`` only (unconfirmed for AWS).
    ``profile_model_id`` (sandbox): a call through an inference profile is published under the ``profile`` id
    or ARN as called, or under the ``model`` it ran on (unconfirmed for AWS)."""

    tier_form: str = SUFFIX
    reserved_suffix: bool = True
    bare_model_id: str = "total"
    profile_model_id: str = "profile"


CONSOLE_METRICS = MetricsSettings(tier_form="auto")


def parse_metrics_settings(d: Any, path: str, *, console: bool) -> MetricsSettings:
    """A ``metrics`` section (None: the defaults); :class:`ConfigError` naming the field otherwise."""
    default = CONSOLE_METRICS if console else MetricsSettings()
    if d is None:
        return default
    keys = {"tier_form", "bare_model_id"} | (set() if console else {"reserved_suffix", "profile_model_id"})
    d = _check_keys(d, keys, path)

    def choice(key: str, choices: tuple[str, ...]) -> str:
        value = _get(d, key, path, str, default=getattr(default, key))
        if value not in choices:
            raise ConfigError(f"{path}.{key}", f"must be one of {', '.join(choices)}, got {show(value)}")
        return str(value)

    return MetricsSettings(tier_form=choice("tier_form", (("auto",) if console else ()) + TIER_FORMS),
                           reserved_suffix=_get(d, "reserved_suffix", path, bool, default=True),
                           bare_model_id=choice("bare_model_id", BARE_MODES),
                           profile_model_id=choice("profile_model_id", ("profile", "model")))


@dataclass(frozen=True)
class Discovery:
    """What one ``ListMetrics`` of ``AWS/Bedrock`` ``Invocations`` showed.

    ``form``: ``dimension`` when a ``ServiceTier`` dimension was seen, ``suffix`` when a ``ModelId`` value
    carried a tier suffix, else the profile's ``metrics.tier_form`` (None for ``auto``: nothing seen yet, so
    the panes show model totals). ``series``: each base ``ModelId`` value seen (model ids, profile ids,
    application profile ARNs) and the tiers published for it. ``seen``: the form was seen, not assumed."""

    form: str | None = None
    series: Mapping[str, frozenset[str]] = field(default_factory=dict)
    seen: bool = False
    bare: str = "total"  # the profile's metrics.bare_model_id: what the bare series of the suffix form holds

    def published(self, model: str, reserved: bool = False) -> frozenset[str]:
        """The tiers to ask for ``model`` in :attr:`form`: those seen; when none were seen and the form comes
        from the profile, every tier that form publishes (``reserved`` only for a model with a reservation)."""
        seen = self.series.get(model, frozenset())
        if seen or self.form is None or self.seen:
            return seen
        tiers = {"priority", "flex"} | ({"default"} if self.form == DIMENSION else set())
        return frozenset(tiers | ({"reserved"} if reserved else set()))

    def tiers(self, model: str, reserved: bool = False) -> frozenset[str]:
        """The tiers the panes can show for ``model``: those published, plus Standard in the suffix form
        (the bare series, or the bare series less the suffixed ones: see :attr:`bare`; a model with no
        suffixed series in an account that publishes them had Standard traffic only)."""
        tiers = self.published(model, reserved)
        if self.form == SUFFIX:
            tiers = tiers | {"default"}
        return tiers


def discover(metrics: Iterable[Mapping[str, Any]], tier_form: str = "auto", bare: str = "total") -> Discovery:
    """Parse a ``ListMetrics`` answer (its ``Metrics``): which per-tier form the account publishes, and
    the tiers of each series. ``tier_form``: the profile's ``metrics.tier_form`` (``auto``, ``suffix`` or
    ``dimension``), used only when neither form is seen."""
    series: dict[str, set[str]] = {}
    forms: set[str] = set()
    for metric in metrics:
        dims = {d.get("Name"): d.get("Value") for d in metric.get("Dimensions", [])}
        value = dims.get("ModelId")
        if not isinstance(value, str) or not value:
            continue
        if "ServiceTier" in dims:
            forms.add(DIMENSION)
            series.setdefault(value, set()).add(str(dims["ServiceTier"]))
            continue
        base, tier = split_series(value)
        tiers = series.setdefault(base, set())
        if tier is not None:
            forms.add(SUFFIX)
            tiers.add(tier)
    form: str | None
    if DIMENSION in forms:
        form, seen = DIMENSION, True
    elif SUFFIX in forms:
        form, seen = SUFFIX, True
    else:
        form, seen = (None if tier_form == "auto" else tier_form), False
    return Discovery(form=form, series={k: frozenset(v) for k, v in series.items()}, seen=seen, bare=bare)
