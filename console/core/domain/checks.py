"""Checking configuration values as plain data: :class:`ConfigError` naming the field path
(``sandbox.models[2].tpm``; the loader in :mod:`tierconsole.core.config.loader` adds file and line), values
shown bounded in messages (:func:`show`), and the typed getters every parser uses (:func:`_get`,
:func:`_check_keys`, :func:`_names`)."""
from __future__ import annotations

import math
import reprlib
from typing import Any, Mapping, cast


class ConfigError(ValueError):
    """A configuration value is wrong. ``path`` is the field path, e.g. ``models[1].tpm``."""

    def __init__(self, path: str, message: str, *, source: str | None = None, line: int | None = None):
        self.path = path
        self.message = message
        self.source = source
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.source:
            where = f"{self.source}:{self.line}: " if self.line else f"{self.source}: "
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"


MAX_NUMBER = 1e15  # no setting is larger; beyond it numbers overflow floats or time arithmetic


class _Shown(reprlib.Repr):
    """A bounded rendering of any value: long strings and containers clipped, shallow, in a
    few hundred characters whatever the input (an alias bomb of 10^9 items shows as its first few)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother = 2, 60, 40
        self.maxdict = self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 4

    def repr1(self, x: Any, level: int) -> str:
        if isinstance(x, dict) and type(x) is not dict:  # the loader's line-tracking subclasses
            return self.repr_dict(x, level)
        if isinstance(x, list) and type(x) is not list:
            return self.repr_list(x, level)
        return super().repr1(x, level)

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 128:  # repr() of a 5,000-digit integer raises, and no one reads it
            return f"<an integer of about {int(x.bit_length() * 0.30103) + 1:,} digits>"
        return super().repr_int(x, level)

    def repr_bytes(self, x: bytes, level: int) -> str:
        return f"<{len(x):,} bytes of binary data>"

    def repr_bool(self, x: bool, level: int) -> str:
        return "true" if x else "false"


_shown = _Shown()


def kind_of(value: Any) -> str:
    """What a configuration value is, in the words of its file (YAML), never a Python class name:
    "a mapping", "a list", "a string", "a number", "true/false", "null"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "a value of another kind"


def show(value: Any) -> str:
    """``value`` for an error message: bounded in length, never the raw input in full."""
    if value is None:
        return "null"
    try:
        return _shown.repr(value)
    except Exception:  # noqa: BLE001 - an error message must never fail
        return kind_of(value)


def field_name(key: Any) -> str:
    """A mapping key as it appears in a field path: itself when it is a short string, else bounded."""
    return key if isinstance(key, str) and len(key) <= 60 else show(key)


def _get(d: Mapping[str, Any], key: str, path: str, kind: type | tuple[type, ...], default: Any = ..., *,
         minimum: float | None = None, maximum: float | None = None) -> Any:
    """``d[key]`` as ``kind``: finite, at least ``minimum`` and at most ``maximum`` (and never beyond
    :data:`MAX_NUMBER`), or :class:`ConfigError` naming the field."""
    where = f"{path}.{key}" if path else key
    if key not in d or d[key] is None:
        if default is ...:
            raise ConfigError(where, "is required")
        return default
    value: Any = d[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and abs(value) > MAX_NUMBER and (float in kinds or int in kinds):
        raise ConfigError(where, f"is out of range: {show(value)} (no setting here goes beyond "
                                 f"{maximum if maximum is not None else MAX_NUMBER:g})")
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise ConfigError(where, f"must be {names}, got {show(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(where, f"must be a finite number, got {show(value)}")
    if minimum is not None and cast(float, value) < minimum:
        raise ConfigError(where, f"must be at least {minimum:g}, got {show(value)}")
    if maximum is not None and cast(float, value) > maximum:
        raise ConfigError(where, f"must be at most {maximum:g}, got {show(value)}")
    return value


def _check_keys(d: Any, allowed: set[str], path: str) -> Mapping[str, Any]:
    if not isinstance(d, Mapping):
        raise ConfigError(path, f"must be a mapping, got {kind_of(d)}")
    unknown = sorted((k for k in d if k not in allowed), key=lambda k: (not isinstance(k, str), field_name(k)))
    if unknown:
        key = field_name(unknown[0])
        raise ConfigError(f"{path}.{key}" if path else key,
                          f"unknown key (expected one of: {', '.join(sorted(allowed))})")
    return d


def _names(d: Mapping[str, Any], key: str, path: str) -> tuple[str, ...]:
    """``d[key]`` as a list of distinct non-empty strings (empty when absent)."""
    raw = _get(d, key, path, list, default=[])
    for i, item in enumerate(raw):
        if not isinstance(item, str) or not item:
            raise ConfigError(f"{path}.{key}[{i}]", f"must be a non-empty string, got {show(item)}")
        if item in raw[:i]:
            raise ConfigError(f"{path}.{key}[{i}]", f"{show(item)} is listed twice")
    return tuple(raw)
