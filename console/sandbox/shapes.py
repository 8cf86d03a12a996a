"""Requests checked against botocore's own service models, as AWS checks them.

:func:`conform` walks a parsed request against the operation's input shape and returns a copy
that holds **only the members the model declares** (unknown members are dropped at parse, so
nothing unknown is ever stored or echoed) or raises the service's validation error listing every
violation the way AWS words it::

    2 validation errors detected: Value 'x' at 'serviceTier.type' failed to satisfy constraint:
    Member must satisfy enum value set: [priority, default, flex, reserved]; Value null at
    'roleArn' failed to satisfy constraint: Member must not be null

Checked: required members, types (structure, union — exactly one member set —, list, map,
string, integer/long within 32/64 bits, float/double, boolean, timestamp, blob), lengths, value
ranges, enums and patterns. Documents (``document`` shapes) are any JSON (already bounded by
:func:`~.http.parse_json`). Messages are bounded: values are clipped and at most
:data:`MAX_LISTED` violations are listed.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Iterable

from .botomodel import service_model
from .http import AwsError

MAX_LISTED = 10
SHOWN_CHARS = 100
_INT_RANGE = {"integer": (-2**31, 2**31 - 1), "long": (-2**63, 2**63 - 1)}
# botocore's ModelInvocationJobName pattern backtracks exponentially on inputs like "a-----!";
# for names within its 63-character limit this pattern accepts exactly the same strings.
_SAFE_PATTERNS = {"ModelInvocationJobName": r"[a-zA-Z0-9][a-zA-Z0-9+\-.]*"}


def input_shape(service: str, operation: str):
    return service_model(service).operation_model(operation).input_shape


@lru_cache(maxsize=256)
def _pattern(shape_name: str, pattern: str) -> re.Pattern | None:
    try:
        return re.compile(_SAFE_PATTERNS.get(shape_name, pattern))
    except re.error:  # a construct Python's re does not know: the pattern is not checked
        return None


def _shown(value: Any, sensitive: bool) -> str:
    if sensitive:
        return "'***'"
    text = value if isinstance(value, str) else json.dumps(value)
    if len(text) > SHOWN_CHARS:
        text = text[:SHOWN_CHARS] + "…"
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class _Violations:
    def __init__(self) -> None:
        self.listed: list[str] = []
        self.count = 0
        self.missing = 0  # of which "Member must not be null"

    def add(self, text: str) -> None:
        self.count += 1
        if len(self.listed) < MAX_LISTED:
            self.listed.append(text)

    def value(self, value: Any, path: str, why: str, sensitive: bool = False) -> None:
        self.add(f"Value {_shown(value, sensitive)} at '{path}' failed to satisfy constraint: {why}")

    def message(self) -> str:
        n = self.count
        more = f"; and {n - len(self.listed)} more" if n > len(self.listed) else ""
        return f"{n} validation error{'s' if n != 1 else ''} detected: " + "; ".join(self.listed) + more


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _conform(shape, value: Any, path: str, bad: _Violations, names: Iterable[str] | None = None) -> Any:
    kind, meta = shape.type_name, shape.metadata
    sensitive = bool(meta.get("sensitive"))
    if kind == "structure":
        if meta.get("document"):
            return value
        if not isinstance(value, dict):
            return bad.value(value, path, "Member must be a structure", sensitive)
        members = shape.members
        allowed = members.keys() if names is None else names
        out = {}
        for name, item in value.items():
            if name in allowed and item is not None:  # unknown members are dropped here
                out[name] = _conform(members[name], item, _join(path, name), bad)
        for name in shape.required_members:
            if name in allowed and value.get(name) is None:
                bad.missing += 1
                bad.add(f"Value null at '{_join(path, name)}' failed to satisfy constraint: Member must not be null")
        if meta.get("union") and len(out) != 1:
            bad.value(value, path, "Member must have exactly one member set", sensitive)
        return out
    if kind == "list":
        if not isinstance(value, list):
            return bad.value(value, path, "Member must be a list", sensitive)
        _length(value, meta, path, bad, sensitive)
        return [_conform(shape.member, item, f"{path}.{i + 1}.member", bad) for i, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            return bad.value(value, path, "Member must be a map", sensitive)
        _length(value, meta, path, bad, sensitive)
        return {_conform(shape.key, k, f"{path}.key", bad): _conform(shape.value, v, f"{path}.{k}", bad)
                for k, v in value.items()}
    if kind == "string":
        if not isinstance(value, str):
            return bad.value(value, path, "Member must be a string", sensitive)
        if _length(value, meta, path, bad, sensitive):
            return value
        if shape.enum and value not in shape.enum:
            bad.value(value, path, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]", sensitive)
        elif "pattern" in meta:
            pattern = _pattern(shape.name, meta["pattern"])
            if pattern is not None and not pattern.fullmatch(value):
                bad.value(value, path, f"Member must satisfy regular expression pattern: {meta['pattern']}",
                          sensitive)
        return value
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return bad.value(value, path, "Member must be an integer", sensitive)
        lo, hi = _INT_RANGE[kind]
        _range(value, max(lo, meta.get("min", lo)), min(hi, meta.get("max", hi)), path, bad, sensitive)
        return value
    if kind in ("float", "double"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return bad.value(value, path, "Member must be a number", sensitive)
        _range(value, meta.get("min"), meta.get("max"), path, bad, sensitive)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            return bad.value(value, path, "Member must be a boolean", sensitive)
        return value
    if kind == "timestamp":
        if not isinstance(value, (int, float, str)) or isinstance(value, bool):
            return bad.value(value, path, "Member must be a timestamp", sensitive)
        return value
    if kind == "blob":
        if not isinstance(value, str):
            return bad.value(value, path, "Member must be base64-encoded binary data", sensitive)
        return value
    return value  # a type the sandbox's JSON operations never carry


def _length(value, meta: dict, path: str, bad: _Violations, sensitive: bool) -> bool:
    """Check min/max length; True when it failed."""
    if "min" in meta and len(value) < meta["min"]:
        bad.value(value, path, f"Member must have length greater than or equal to {meta['min']}", sensitive)
        return True
    if "max" in meta and len(value) > meta["max"]:
        bad.value(value, path, f"Member must have length less than or equal to {meta['max']}", sensitive)
        return True
    return False


def _range(value, lo, hi, path: str, bad: _Violations, sensitive: bool) -> None:
    if lo is not None and value < lo:
        bad.value(value, path, f"Member must have value greater than or equal to {lo}", sensitive)
    elif hi is not None and value > hi:
        bad.value(value, path, f"Member must have value less than or equal to {hi}", sensitive)


def body_members(shape) -> list[str]:
    """The members of an input shape that travel in the body (not in the URI, headers or query)."""
    return [n for n, m in shape.members.items() if "location" not in m.serialization]


def conform(shape, value: Any, *, code: str = "ValidationException", names: Iterable[str] | None = None,
            missing_code: str | None = None) -> Any:
    """``value`` keeping only what ``shape`` declares, or :class:`AwsError` ``code`` (400) listing every
    violation (``missing_code`` instead when every violation is a missing required member). ``names``
    limits a top-level structure to those members (default: the body members)."""
    bad = _Violations()
    if names is None and shape.type_name == "structure":
        names = body_members(shape)
    out = _conform(shape, value, "", bad, set(names) if names is not None else None)
    if bad.count:
        raise AwsError(missing_code if missing_code and bad.missing == bad.count else code, bad.message(), 400)
    return out


def conform_params(shape, values: dict[str, Any], location: str, *, code: str = "ValidationException") -> dict:
    """Check members bound to ``location`` (``uri``, ``header`` or ``querystring``) given by member name."""
    names = [n for n, m in shape.members.items() if m.serialization.get("location") == location]
    bad = _Violations()
    out = _conform(shape, values, "", bad, set(names))
    if bad.count:
        raise AwsError(code, bad.message(), 400)
    return out

