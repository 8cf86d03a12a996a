"""The quota sections of the sandbox's catalog: a model's ``quotas:``, ``account_quotas:`` and ``quota_rules:``.

Plain dicts in, :class:`~.quotas.QuotaSpec` and :class:`~.quotas.QuotaRules` out, or a
:class:`~.checks.ConfigError` naming the field; :mod:`.catalog` calls these while parsing a model.
"""
from __future__ import annotations

from typing import Any, Mapping

from .checks import ConfigError, _check_keys, _get, field_name, kind_of, show
from .quotas import (
    ROUTE_KINDS, QuotaKind, QuotaRules, QuotaSpec, classify, daily_spec, default_name, minute_specs, spec_key,
)

_QUOTAS_KEYS = {"on_demand", "cross_region", "global", "tokens_per_day", "global_tokens_per_day"}
_SHAPE_KEYS = {"tpm", "rpm", "input_tpm", "output_tpm"}
_ROUTE_QUOTA_KINDS = {"on_demand": QuotaKind.ON_DEMAND, "cross_region": QuotaKind.CROSS_REGION,
                      "global": QuotaKind.GLOBAL}


def _parse_shape(d: Any, path: str) -> dict[str, int]:
    """A minute quota shape: ``{tpm, rpm}`` or the split ``{input_tpm, output_tpm}`` (``rpm`` optional)."""
    d = _check_keys(d, _SHAPE_KEYS, path)
    split = "input_tpm" in d or "output_tpm" in d
    if split and "tpm" in d:
        raise ConfigError(f"{path}.tpm", "give either tpm (with rpm) or the split input_tpm/output_tpm, not both")
    keys = ("input_tpm", "output_tpm") if split else ("tpm", "rpm")
    shape = {k: _get(d, k, path, int, minimum=1) for k in keys}
    if split and d.get("rpm") is not None:
        shape["rpm"] = _get(d, "rpm", path, int, minimum=1)
    return shape


def profile_routes(profiles: tuple[str, ...]) -> tuple[str, ...]:
    """The profile routes a model's system profiles give it: cross-region for any geography but
    ``global``, global for ``global``."""
    return tuple(k for k, has in (("cross_region", any(g != "global" for g in profiles)),
                                  ("global", "global" in profiles)) if has)


def _parse_model_quotas(d: Mapping[str, Any], path: str, model_id: str, subject: str, profiles: tuple[str, ...]
                        ) -> tuple[tuple[QuotaSpec, ...], dict[str, int], int]:
    """The model's quotas from ``quotas:`` (and the flat ``tpm``/``rpm``/``tokens_per_day`` shorthand of
    older files). A profile pool (cross-region, global) is the data's, or a copy of the on-demand shape
    when the model has such a profile, or absent. Returns (specs, on-demand shape, tokens per day)."""
    q = _check_keys(d.get("quotas") or {}, _QUOTAS_KEYS, f"{path}.quotas")
    flat = [k for k in ("tpm", "rpm") if d.get(k) is not None]
    if flat and q.get("on_demand") is not None:
        raise ConfigError(f"{path}.{flat[0]}", "give the on-demand quota once: the flat tpm/rpm or "
                                               "quotas.on_demand, not both")
    if q.get("on_demand") is not None:
        on_demand = _parse_shape(q["on_demand"], f"{path}.quotas.on_demand")
    else:
        on_demand = {"tpm": _get(d, "tpm", path, int, minimum=1), "rpm": _get(d, "rpm", path, int, minimum=1)}
    if d.get("tokens_per_day") is not None and q.get("tokens_per_day") is not None:
        raise ConfigError(f"{path}.tokens_per_day", "give it once: tokens_per_day or quotas.tokens_per_day")
    minute_tokens = on_demand.get("tpm", on_demand.get("input_tpm", 0) + on_demand.get("output_tpm", 0))
    where, src = (f"{path}.quotas", q) if q.get("tokens_per_day") is not None else (path, d)
    per_day = _get(src, "tokens_per_day", where, int, default=minute_tokens * 1440, minimum=1)

    names_raw = d.get("quota_names") or {}
    if not isinstance(names_raw, Mapping):
        raise ConfigError(f"{path}.quota_names", f"must be a mapping, got {kind_of(names_raw)}")
    shapes = {"on_demand": on_demand}
    for k in ("cross_region", "global"):
        if q.get(k) is not None:
            shapes[k] = _parse_shape(q[k], f"{path}.quotas.{k}")
        elif k in profile_routes(profiles):
            shapes[k] = on_demand
    names = {k: _get(names_raw, k, f"{path}.quota_names", str) for k in names_raw if isinstance(k, str)}
    specs: list[QuotaSpec] = []
    for key, kind in _ROUTE_QUOTA_KINDS.items():
        if key in shapes:
            specs.extend(minute_specs(kind, model_id, subject, shapes[key], names))
    specs.append(daily_spec(QuotaKind.MODEL_DAILY, per_day, subject, model_id, names))
    if q.get("global_tokens_per_day") is not None:
        value = _get(q, "global_tokens_per_day", f"{path}.quotas", int, minimum=1)
        specs.append(daily_spec(QuotaKind.GLOBAL_DAILY, value, subject, model_id, names))
    known = {spec_key(s.kind, s.measure): s for s in specs}
    for key in names_raw:
        where = f"{path}.quota_names.{field_name(key)}"
        if key not in known:
            raise ConfigError(where, f"is not a quota of this model (its quotas: {', '.join(sorted(known))})")
        c = classify(names[key])
        spec = known[key]
        if c is None or (c.kind, c.measure) != (spec.kind, spec.measure):
            example = default_name(spec.kind, spec.measure, "Model Name")
            raise ConfigError(where, f"{show(names[key])} does not read as a {key.replace('_', ' ')} quota "
                                     f"name (e.g. {example!r})")
    return tuple(specs), on_demand, per_day


_ACCOUNT_QUOTA_KEYS = {"cross_model_tokens_per_day"}
_RULES_KEYS = {"daily_counts", "daily_window", "daily_applies_burndown"}
DAILY_WINDOWS = ("rolling", "utc_day")


def parse_account_quotas(d: Any, path: str, models_per_day: int) -> tuple[QuotaSpec, ...]:
    """``account_quotas: {cross_model_tokens_per_day: N}``; default: the sum of the models' daily quotas."""
    d = _check_keys(d or {}, _ACCOUNT_QUOTA_KEYS, path)
    default = max(1, models_per_day)
    value = _get(d, "cross_model_tokens_per_day", path, int, default=default, minimum=1)
    return (daily_spec(QuotaKind.CROSS_MODEL_DAILY, value, None, None),)


def parse_quota_rules(d: Any, path: str) -> QuotaRules:
    """``quota_rules:``: the unconfirmed parts of daily counting (see :class:`QuotaRules`)."""
    d = _check_keys(d or {}, _RULES_KEYS, path)
    counts = d.get("daily_counts")
    kinds = frozenset(ROUTE_KINDS)
    if counts is not None:
        if not isinstance(counts, list):
            raise ConfigError(f"{path}.daily_counts", f"must be a list of routes, got {show(counts)}")
        for i, c in enumerate(counts):
            if c not in ROUTE_KINDS:
                raise ConfigError(f"{path}.daily_counts[{i}]", f"must be one of {', '.join(ROUTE_KINDS)}, "
                                                               f"got {show(c)}")
        kinds = frozenset(counts)
    window = _get(d, "daily_window", path, str, default="rolling")
    if window not in DAILY_WINDOWS:
        raise ConfigError(f"{path}.daily_window", f"must be one of {', '.join(DAILY_WINDOWS)}, got {show(window)}")
    return QuotaRules(daily_counts=kinds, daily_window=window,
                      daily_applies_burndown=_get(d, "daily_applies_burndown", path, bool, default=True))
