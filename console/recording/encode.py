"""Encoding frames: a keyframe is a whole snapshot as rows, a delta the operations that rebuild the
next snapshot from the previous one; each compressed (see :mod:`.format`)."""
from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, Sequence

from ..core.domain.views import (BatchJobView, DashboardData, ModelQuotaView, QuotaUseView, ReservationView, ThrottleEvent,
                                 UsageMinute)
from .format import _ITEM_NAMES, _ZLEVEL, DELTA, KEYFRAME, MAPPINGS, SCALARS, SEQUENCES


# --------------------------------------------------------------------------------------- encoding
def _json_default(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    if isinstance(value, QuotaUseView):  # nested in a ModelQuotaView row: by field name (the view rebuilds it)
        return {f.name: getattr(value, f.name) for f in fields(value)}
    raise TypeError(f"cannot record a {type(value).__name__}: {value!r}")


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), default=_json_default, allow_nan=True).encode()


def _row(item: Any) -> list:
    return [getattr(item, name) for name in _ITEM_NAMES[type(item)]]


def _plain(value: Any) -> Any:
    """A mapping value as JSON will see it (PaneStatus to a row)."""
    return _row(value) if type(value) in _ITEM_NAMES else value


def _normalize(data: DashboardData) -> DashboardData:
    """``data`` with every sequence a tuple (what a reader gives back), without copying tuples."""
    changed = {name: tuple(getattr(data, name)) for name in SEQUENCES if type(getattr(data, name)) is not tuple}
    if not changed:
        return data
    from dataclasses import replace  # noqa: PLC0415

    return replace(data, **changed)


def _keyframe(data: DashboardData) -> dict:
    out: dict[str, Any] = {name: getattr(data, name) for name in SCALARS}
    for name in SEQUENCES:
        out[name] = [_row(item) for item in getattr(data, name)]
    for name in MAPPINGS:
        out[name] = {k: _plain(v) for k, v in getattr(data, name).items()}
    return out


def _delta(old: DashboardData, new: DashboardData) -> dict:
    out: dict[str, Any] = {"time": new.time}
    for name in SCALARS:
        if name != "time":
            value = getattr(new, name)
            if value != getattr(old, name):
                out[name] = value
    for name in SEQUENCES:
        ops = _seq_ops(getattr(old, name), getattr(new, name))
        if ops is not None:
            out[name] = ops
    for name in MAPPINGS:
        a, b = getattr(old, name), getattr(new, name)
        if a is b or a == b:
            continue
        change: dict[str, Any] = {}
        changed = {k: _plain(v) for k, v in b.items() if k not in a or a[k] != v}
        removed = [k for k in a if k not in b]
        if changed:
            change["set"] = changed
        if removed:
            change["del"] = removed
        out[name] = change
    return out


_LOOKAHEAD = 64
_CHUNK = 32

#: The fields naming the same thing across refreshes: an item whose key matches the old item at its
#: place is patched rather than re-sent. (Only the file size depends on this, never correctness.)
ENTITY_KEYS: dict[type, tuple[str, ...]] = {
    ReservationView: ("reservation_id",),
    ModelQuotaView: ("model_id",),
    BatchJobView: ("job_arn",),
    ThrottleEvent: ("time", "model_id", "tier", "source"),  # CloudWatch's current minute keeps counting
    UsageMinute: ("time", "model_id"),
}


def _same_entity(a: Any, b: Any) -> bool:
    key = ENTITY_KEYS.get(type(b))
    return key is not None and type(a) is type(b) and all(getattr(a, f) == getattr(b, f) for f in key)


def _patch(base: Any, item: Any) -> list | None:
    """``[field, value, ...]`` turning ``base`` into ``item`` (``~field, increment`` for numbers
    that moved), or None when more than half the fields changed (a new row is then as small)."""
    names = _ITEM_NAMES[type(item)]
    patch: list = []
    for f, name in enumerate(names):
        value, was = getattr(item, name), getattr(base, name)
        if value != was:
            step = _increment(was, value)
            patch += [f, value] if step is None else [~f, step]
    return patch if len(patch) <= len(names) else None


def _seq_ops(old: Sequence, new: Sequence) -> list | None:
    """Operations rebuilding ``new`` from ``old`` (see the module docstring), or None if equal.

    Greedy and linear in the common cases: runs of unchanged items (by identity or ``==``, compared
    a chunk at a time) become one copy; an item that is the same entity as the old item at its
    place (:data:`ENTITY_KEYS`) becomes a patch; items inserted before an old item are found by
    looking a little ahead; an item found elsewhere in ``old`` (a hash lookup, built only when
    needed) restarts a run there; anything else is a new row.
    """
    if old is new or (len(old) == len(new) and old == new):
        return None
    ops: list[list] = []
    n, m = len(new), len(old)
    k = i = 0
    index: dict | None = None

    def emit_rows(rows: list) -> None:
        if ops and ops[-1][0] == "n":
            ops[-1].extend(rows)
        else:
            ops.append(["n", *rows])

    while k < n:
        x = new[k]
        if i < m and (old[i] is x or old[i] == x):
            j = i
            while k < n and j < m:
                step = min(_CHUNK, n - k, m - j)
                if new[k:k + step] == old[j:j + step]:
                    k += step
                    j += step
                    continue
                while new[k] is old[j] or new[k] == old[j]:  # the mismatch is within this chunk
                    k += 1
                    j += 1
                break
            if ops and ops[-1][0] == "c" and ops[-1][2] == i:
                ops[-1][2] = j
            else:
                ops.append(["c", i, j])
            i = j
            continue
        if i < m and _same_entity(old[i], x):
            patch = _patch(old[i], x)
            if patch is not None:
                ops.append(["p", i, *patch])
            else:
                emit_rows([_row(x)])
            k += 1
            i += 1
            continue
        if i < m:  # inserted before old[i]? look a little ahead in new for it
            target = old[i]
            stop = min(n, k + _LOOKAHEAD)
            d = next((p for p in range(k + 1, stop) if new[p] is target or new[p] == target), -1)
            if d > 0:
                emit_rows([_row(item) for item in new[k:d]])
                k = d
                continue
        if index is None:
            index = {}
            try:
                for pos in range(m - 1, -1, -1):
                    index[old[pos]] = pos
            except TypeError:  # unhashable items (a dict inside): positions only
                index = {}
        try:
            found = index.get(x)
        except TypeError:
            found = None
        if found is not None and found != i:
            i = found
            continue
        if i < m and type(old[i]) is type(x) and type(x) not in ENTITY_KEYS:
            patch = _patch(old[i], x)
            if patch is not None:
                ops.append(["p", i, *patch])
                k += 1
                i += 1
                continue
        emit_rows([_row(x)])
        k += 1
    return ops


_EXACT = float(2 ** 52)


def _increment(old: Any, new: Any) -> Any:
    """``new - old`` when adding it back to ``old`` gives exactly ``new`` (ints; integral floats;
    dicts of those with the same keys in the same order), else None. Increments of numbers that
    move a little are shorter than the numbers, and compress better."""
    kind = type(new)
    if kind is not type(old):
        return None
    if kind is int:
        return new - old
    if kind is float:
        if new and new.is_integer() and old.is_integer() and abs(new) < _EXACT and abs(old) < _EXACT:
            return int(new - old)  # written without ".0"; float + int is the float again, exactly
        return None
    if kind is dict and new and list(new) == list(old):
        out = {}
        for key, value in new.items():
            step = _increment(old[key], value) if value != old[key] else 0
            if step is None or type(step) is dict:
                return None
            out[key] = step
        return out
    return None




def _compress(raw: bytes, zdict: bytes | None) -> bytes:
    if zdict is None:
        return KEYFRAME + zlib.compress(raw, _ZLEVEL)
    c = zlib.compressobj(_ZLEVEL, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, zdict[-32768:])
    return DELTA + c.compress(raw) + c.flush()
