"""Record and replay the dashboard: a compressed, size-bounded file of :class:`DashboardData` snapshots.

File format (version 1)
=======================

One SQLite database (stdlib ``sqlite3``), marked ``PRAGMA application_id = 0x74637263`` ("tcrc")
and ``PRAGMA user_version = 1``, with two tables::

    meta(key TEXT PRIMARY KEY, value TEXT)          -- every value is JSON
    frames(seq INTEGER PRIMARY KEY, time REAL, key INTEGER, data BLOB)

``meta`` holds ``format`` (``"tierconsole-recording"``), ``version``, ``created`` (epoch),
``tierconsole`` (the writer's version), ``profile``, ``region``, ``is_sandbox``, ``keyframe_every``,
``max_bytes``, ``dropped_frames`` / ``dropped_until`` (how many of the oldest frames were dropped to
stay under ``max_bytes``, and the time of the first kept frame), and ``schema``: the field names of
every recorded dataclass, in row order (a reader maps rows by name, so a field added later with a
default reads back from older files, and a field it does not know is ignored).

Each ``frames`` row is one :class:`DashboardData`, in write order (``seq``). ``time`` is the frame's
*index time*: ``data.time``, except that it never goes backwards (a clock stepping back gets the
previous frame's time; the data keeps its own). ``key`` is 1 for a keyframe, 0 for a delta.
``data`` is one codec byte followed by zlib data of compact JSON:

* ``b"k"`` + ``zlib(json)`` -- a **keyframe**, the whole snapshot: ``DashboardData`` fields by name;
  sequences of dataclasses (reservations, quotas, throttle_events, batch_jobs, usage_minutes) as lists of *rows*
  (a row is the list of the dataclass's ``__init__`` fields in ``schema`` order); ``status`` as a
  mapping of pane to PaneStatus row; ``throttle_rates`` as a mapping of tier to list.
* ``b"d"`` + ``zlib(json, zdict=previous frame's JSON)`` -- a **delta** against the previous frame:
  ``time`` always, then only what changed. A changed scalar field: its new value. A changed mapping:
  ``{"set": {key: value}, "del": [key]}``. A changed sequence: a list of operations building the
  new list from the old one -- ``["c", start, stop]`` copies ``old[start:stop]``,
  ``["n", row, ...]`` adds new rows, ``["p", i, f, value, ...]`` is ``old[i]`` with field ``f``
  set to ``value``; a negative ``f`` (``~field``) *adds* ``value`` to the field instead (used for
  integers and integral floats, and for dicts of them, where the sum is exact). New throttle events
  thus cost their own bytes only, an unchanged run of items costs one copy, and a figure that moved
  costs its (short) increment. Compressing each delta with the previous frame's JSON as preset
  dictionary makes the repeated structure (keys, model ids, operations) nearly free.

A keyframe is written every ``keyframe_every`` frames (default 300: five minutes at 1 s refresh), so
reading any frame decodes at most one keyframe and ``keyframe_every - 1`` deltas; the first frame
(and the first after re-opening a file to append) is always a keyframe. A *segment* is a keyframe
and the deltas after it. When the file's used pages exceed ``max_bytes``, the oldest segments are
deleted (their pages are reused, so the file stops growing) and ``meta`` says how much was dropped.

While recording, the file is in WAL mode and writes are committed every ``commit_seconds`` (default
2 s): a crash or kill loses at most those seconds and never damages the file (SQLite replays the
``-wal`` file beside it on the next open). Closing switches back to a rollback journal, leaving one
self-contained file. Reading a file that is not a recording, of a newer version, truncated or
damaged raises :class:`RecordingError`, whose message starts with the file's path.

Round trips are exact up to ``==``: :meth:`Recording.at` returns a ``DashboardData`` equal to the
one written (sequences come back as tuples, mappings as dicts). Nothing but ``DashboardData`` is
recorded: no credentials, no request payloads.
"""
from __future__ import annotations

import json
import math
import operator
import os
import re
import sqlite3
import stat
import time
import types
import typing
import zlib
from array import array
from bisect import bisect_right
from collections.abc import Mapping
from datetime import datetime, timezone
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from .core.domain.catalog import show
from .core.domain.views import (
    BatchJobView, DashboardData, ModelQuotaView, PaneStatus, ReservationView, ThrottleEvent, UsageMinute,
)

FORMAT = "tierconsole-recording"
FORMAT_VERSION = 1
APPLICATION_ID = 0x74637263  # "tcrc"
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_KEYFRAME_EVERY = 300
DEFAULT_COMMIT_SECONDS = 2.0

KEYFRAME, DELTA = b"k", b"d"
_ZLEVEL = 6

#: DashboardData fields holding sequences of dataclasses, and the item type.
SEQUENCES: dict[str, type] = {
    "reservations": ReservationView,
    "quotas": ModelQuotaView,
    "throttle_events": ThrottleEvent,
    "batch_jobs": BatchJobView,
    "usage_minutes": UsageMinute,
}
#: DashboardData fields holding mappings, and the value dataclass (None: plain values).
MAPPINGS: dict[str, type | None] = {"throttle_rates": None, "status": PaneStatus}
ROW_TYPES: tuple[type, ...] = (DashboardData, ReservationView, ModelQuotaView, ThrottleEvent, BatchJobView,
                               PaneStatus, UsageMinute)


class RecordingError(Exception):
    """A recording cannot be read or written. The message starts with the file's path."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        super().__init__(f"{os.fspath(path)}: {reason}")
        self.path = os.fspath(path)
        self.reason = reason


class DamagedFrameError(RecordingError):
    """A frame cannot be read. ``position`` (0-based) is the first damaged frame on the way to the one
    asked for (a delta needs every frame since its keyframe), so the frames before it in the segment
    are fine and the next readable one is at the next keyframe. The message counts frames from 1, as
    the replay's status line does."""

    def __init__(self, path: str | os.PathLike, position: int, seq: int | None, detail: str) -> None:
        where = f"damaged frame {position + 1:,}" + (f" (seq {seq})" if seq is not None else "")
        super().__init__(path, f"{where}: {detail}")
        self.position = position
        self.detail = detail


# --------------------------------------------------------------------------------------- encoding
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.init)


SCHEMA: dict[str, list[str]] = {cls.__name__: list(_names(cls)) for cls in ROW_TYPES}
_ITEM_NAMES: dict[type, tuple[str, ...]] = {cls: _names(cls) for cls in ROW_TYPES}
SCALARS: tuple[str, ...] = tuple(n for n in _ITEM_NAMES[DashboardData] if n not in SEQUENCES and n not in MAPPINGS)


def _json_default(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
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


def _add(old: Any, step: Any) -> Any:
    if type(step) is dict:
        return {key: value + step[key] for key, value in old.items()}
    return old + step


# --------------------------------------------------------------------------------------- decoding
def _thaw(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_thaw(v) for v in value)
    if isinstance(value, dict):
        return {k: _thaw(v) for k, v in value.items()}
    return value


def _maker(cls: type, stored: Sequence[str] | None, path: str) -> Callable[[list], Any]:
    """A function turning a stored row into ``cls``; maps fields by name when the schema differs."""
    current = _ITEM_NAMES[cls]
    if stored is None or tuple(stored) == current:
        def make(row: list) -> Any:
            kinds = set(map(type, row))
            if list in kinds or dict in kinds:  # a history or a mapping inside: tuples and dicts
                return cls(*[_thaw(v) for v in row])
            return cls(*row)
        return make
    positions = {name: p for p, name in enumerate(stored)}
    for f in fields(cls):
        if f.init and f.name not in positions and f.default is MISSING and f.default_factory is MISSING:
            raise RecordingError(path, f"recorded {cls.__name__} rows lack the required field {f.name!r} "
                                       "(written by an incompatible tierconsole)")
    wanted = [(name, positions[name]) for name in current if name in positions]

    def make_mapped(row: list) -> Any:
        return cls(**{name: _thaw(row[p]) for name, p in wanted})
    return make_mapped


_NUMBER = frozenset({int, float})
_STEPS = frozenset({int, float, dict})  # increments that add numbers to numbers, or raise
_FIRST_TIME, _LAST_TIME = -62135596800.0, 253402300799.0  # the epoch times a clock can show (years 1-9999)
Check = Callable[[Any], None]  # raises ValueError naming what is wrong (a _RowCheck)


def _accepts(tp: Any) -> Callable[[Any], bool]:
    """A test that a decoded JSON value can stand for a field annotated ``tp`` (numbers are lenient:
    an int where a float is declared, or the reverse, draws the same)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp in (int, float):
        return lambda v: type(v) in _NUMBER
    if tp is str or origin is typing.Literal:
        return lambda v: type(v) is str
    if tp is bool:
        return lambda v: type(v) is bool
    if tp is type(None):
        return lambda v: v is None
    if origin in (typing.Union, types.UnionType):
        tests = [_accepts(a) for a in args]
        return lambda v: any(t(v) for t in tests)
    if origin is tuple:
        item = _accepts(args[0]) if args else (lambda v: True)
        return lambda v: type(v) is list and all(item(x) for x in v)
    if origin in (Mapping, dict):
        value = _accepts(args[1]) if len(args) == 2 else (lambda v: True)
        return lambda v: type(v) is dict and all(value(x) for x in v.values())
    return lambda v: True


class _RowCheck:
    """A check that a stored row (in the recorded field order) holds values its class can be drawn
    with: called on a whole row, or with :meth:`field` on one value a patch changed."""

    def __init__(self, cls: type, stored: Sequence[str] | None) -> None:
        names = tuple(stored) if stored is not None else _ITEM_NAMES[cls]
        hints = typing.get_type_hints(cls)
        self.cls, self.width = cls.__name__, len(names)
        self.tests = [(i, name, _accepts(hints[name])) for i, name in enumerate(names)
                      if name in hints and name in _ITEM_NAMES[cls]]
        self.by_index = {i: (name, ok) for i, name, ok in self.tests}

    def __call__(self, row: Any) -> None:
        if type(row) is not list or len(row) != self.width:
            got = f"{len(row)} fields" if type(row) is list else show(row)
            raise ValueError(f"a {self.cls} row of {got}, not {self.width} fields")
        for i, name, ok in self.tests:
            if not ok(row[i]):
                raise ValueError(f"{self.cls}.{name} is {show(row[i])}")

    def field(self, i: int, value: Any) -> None:
        test = self.by_index.get(i)
        if test is not None and not test[1](value):
            raise ValueError(f"{self.cls}.{test[0]} is {show(value)}")


_SCALAR_TESTS = {name: _accepts(tp) for name, tp in typing.get_type_hints(DashboardData).items() if name in SCALARS}


def _check_scalar(name: str, value: Any) -> None:
    ok = _SCALAR_TESTS.get(name)
    if ok is not None and not ok(value):
        raise ValueError(f"{name} is {show(value)}")


def _is_index(value: Any, size: int) -> bool:
    return type(value) is int and 0 <= value < size


def _apply_ops(old: tuple, ops: list, make: Callable[[list], Any], check: _RowCheck | None = None) -> tuple:
    """Apply sequence operations to a decoded sequence ``(rows, objects)``. Objects are carried along
    when the old ones are built (copies share them: stepping through frames builds only what
    changed); otherwise (decoding on the way to a frame) only the rows are. Operations that do not
    fit the old rows, and (with ``check``) rows that do not fit their type, raise ValueError."""
    old_rows, old_objs = old
    if type(ops) is not list:
        raise ValueError(f"sequence operations are {show(ops)}, not a list")
    size = len(old_rows)
    rows: list = []
    objs: list | None = None if old_objs is None else []
    for op in ops:
        tag = op[0] if type(op) is list and op else None
        if tag == "c":
            if len(op) != 3 or type(op[1]) is not int or type(op[2]) is not int or not 0 <= op[1] <= op[2] <= size:
                raise ValueError(f"copy {show(op)} does not fit the {size} rows before it")
            rows.extend(old_rows[op[1]:op[2]])
            if objs is not None:
                objs.extend(old_objs[op[1]:op[2]])
        elif tag == "n":
            new = op[1:]
            if check is not None:
                for row in new:
                    check(row)
            rows.extend(new)
            if objs is not None:
                objs.extend(make(row) for row in new)
        elif tag == "p":
            if len(op) % 2 or not _is_index(op[1], size):
                raise ValueError(f"patch {show(op)} does not fit the {size} rows before it")
            row = list(old_rows[op[1]])
            for p in range(2, len(op), 2):
                f = op[p]
                if type(f) is not int or not -len(row) <= f < len(row):
                    raise ValueError(f"patch of field {show(f)} of a {len(row)}-field row")
                value = op[p + 1]
                if f < 0:  # an increment: a number (or numbers) added to checked numbers stays numbers
                    f = ~f
                    was = row[f]
                    row[f] = _add(was, value)
                    if check is not None and (type(value) not in _STEPS or type(was) is bool):
                        check.field(f, row[f])
                else:
                    row[f] = value
                    if check is not None:  # the other fields come from a row checked before
                        check.field(f, value)
            rows.append(row)
            if objs is not None:
                objs.append(make(row))
        else:
            raise ValueError(f"unknown operation {show(op)}")
    return rows, (None if objs is None else tuple(objs))


def _check_mapping(name: str, value: Any, checks: Mapping[type, Check] | None) -> None:
    if type(value) is not dict:
        raise ValueError(f"{name} is {show(value)}, not a mapping")
    if checks is None:
        return
    cls = MAPPINGS[name]
    for item in value.values():
        if cls is not None:
            checks[cls](item)
        elif type(item) is not list or not all(type(x) in _NUMBER for x in item):
            raise ValueError(f"{name} holds {show(item)}, not a list of numbers")


def _keyframe_state(doc: Any, checks: Mapping[type, Check] | None = None) -> dict:
    """A decoded keyframe as reader state: sequences as ``(rows, None)`` (objects not built yet)."""
    if type(doc) is not dict:
        raise ValueError("frame is not an object")
    if "time" not in doc:
        raise ValueError("a keyframe without a time")
    state = dict(doc)
    for name, value in doc.items():
        if name in SEQUENCES:
            if type(value) is not list:
                raise ValueError(f"{name} is {show(value)}, not a list of rows")
            if checks is not None:
                check = checks[SEQUENCES[name]]
                for row in value:
                    check(row)
        elif name in MAPPINGS:
            _check_mapping(name, value, checks)
        else:
            _check_scalar(name, value)
    for name in SEQUENCES:
        state[name] = (doc.get(name, []), None)
    return state


def _apply_delta(state: dict, delta: Any, makers: Mapping[type, Callable[[list], Any]],
                 checks: Mapping[type, Check] | None = None) -> dict:
    if type(delta) is not dict:
        raise ValueError("frame is not an object")
    state = dict(state)
    for name, value in delta.items():
        if name in SEQUENCES:
            cls = SEQUENCES[name]
            state[name] = _apply_ops(state[name], value, makers[cls], None if checks is None else checks[cls])
        elif name in MAPPINGS:
            _check_mapping(name, value, None)
            changed, removed = value.get("set", {}), value.get("del", [])
            _check_mapping(name, changed, checks)
            if type(removed) is not list:
                raise ValueError(f"{name}: del is {show(removed)}, not a list")
            mapping = dict(state.get(name, {}))
            mapping.update(changed)
            for key in removed:
                if type(key) is str:
                    mapping.pop(key, None)
            state[name] = mapping
        else:
            _check_scalar(name, value)
            state[name] = value
    return state


def _compress(raw: bytes, zdict: bytes | None) -> bytes:
    if zdict is None:
        return KEYFRAME + zlib.compress(raw, _ZLEVEL)
    c = zlib.compressobj(_ZLEVEL, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, zdict[-32768:])
    return DELTA + c.compress(raw) + c.flush()


def _decompress(blob: bytes, zdict: bytes | None) -> bytes:
    codec, body = blob[:1], blob[1:]
    if codec == KEYFRAME:
        return zlib.decompress(body)
    if codec == DELTA:
        if zdict is None:
            raise ValueError("a delta with no frame before it")
        d = zlib.decompressobj(15, zdict[-32768:])
        out = d.decompress(body) + d.flush()
        if not d.eof:
            raise ValueError("truncated frame")
        return out
    raise ValueError(f"unknown frame codec {codec!r}")


# --------------------------------------------------------------------------------------- parsing
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h|d)?", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
DURATION_HELP = "e.g. 90, 30s, 10m, 2h, 1d or 1h30m"
_SIZE = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(i?b?)$", re.IGNORECASE)
SIZE_HELP = "e.g. 500M, 2G, 64MiB or a number of bytes"


def parse_duration(text: str) -> float:
    """Seconds in ``30s``, ``10m``, ``2h``, ``1d``, ``1h30m``, ``1.5h``, ``500ms`` or a bare number
    of seconds. :class:`ValueError` with a readable message otherwise."""
    s = text.strip().replace(" ", "")
    pos, total, parts = 0, 0.0, 0
    while pos < len(s):
        m = _DURATION.match(s, pos)
        if not m:
            break
        unit = m.group(2).lower() if m.group(2) else None
        if unit is None and (m.end() != len(s) or parts):  # a bare number only on its own
            break
        total += float(m.group(1)) * _DURATION_UNITS[unit]
        parts += 1
        pos = m.end()
    if not parts or pos != len(s):
        raise ValueError(f"not a duration: {text!r} ({DURATION_HELP})")
    if not math.isfinite(total):
        raise ValueError(f"not a finite duration: {text!r} ({DURATION_HELP})")
    return total


def parse_size(text: str) -> int:
    """Bytes in ``500M``, ``2G``, ``64MiB``, ``100k`` (powers of 1024) or a plain number."""
    m = _SIZE.match(text.strip())
    if not m:
        raise ValueError(f"not a size: {text!r} ({SIZE_HELP})")
    scale = 1024 ** " kmgt".index(m.group(2).lower() or " ")
    value = float(m.group(1)) * scale
    if not math.isfinite(value):
        raise ValueError(f"not a finite size: {text!r} ({SIZE_HELP})")
    return int(value)


def stamp(epoch: float) -> str:
    """``2026-03-02 14:30:05``: a frame time as replay shows it (UTC, like the dashboard's header)."""
    try:
        return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    except (ValueError, OverflowError, OSError):  # NaN, infinite, or beyond the year 9999
        return "????-??-?? ??:??:??"


# --------------------------------------------------------------------------------------- files
_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS frames (seq INTEGER PRIMARY KEY, time REAL NOT NULL, key INTEGER NOT NULL,
                                   data BLOB NOT NULL);
"""
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _check_header(path: Path) -> None:
    """Reject what is plainly not a (whole) SQLite file before SQLite sees it."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block the open; a device is no recording
            raise RecordingError(path, "not a regular file (a FIFO, a device or a socket), not a recording")
        size = info.st_size
        with path.open("rb") as f:
            header = f.read(100)
    except FileNotFoundError:
        raise RecordingError(path, "no such file") from None
    except IsADirectoryError:
        raise RecordingError(path, "is a directory, not a recording") from None
    except OSError as e:
        raise RecordingError(path, f"cannot read: {e.strerror or e}") from None
    if not header.startswith(_SQLITE_MAGIC):
        raise RecordingError(path, "not a tierconsole recording (not an SQLite file)" if size else
                             "not a tierconsole recording (empty file)")
    if len(header) < 100:
        raise RecordingError(path, f"truncated ({size} bytes)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    valid = header[24:28] == header[92:96]  # the in-header size is only meaningful then
    wal = Path(f"{path}-wal")
    if valid and pages and size < pages * page_size and not (wal.exists() and wal.stat().st_size):
        raise RecordingError(path, f"truncated ({size:,} bytes; the header says {pages * page_size:,})")


def _read_meta(conn: sqlite3.Connection) -> dict[str, Any]:
    try:
        return {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM meta")}
    except (TypeError, RecursionError) as e:  # a value that is not text, or nested too deeply
        raise ValueError(str(e)[:200]) from None


def _schema(meta: Mapping[str, Any], path: Path) -> dict[str, list[str]]:
    """The recorded field names of each row type, checked to be what a recorder writes."""
    schema = meta.get("schema") or {}
    if type(schema) is not dict or not all(type(names) is list and all(type(n) is str for n in names)
                                           for names in schema.values()):
        raise RecordingError(path, "damaged: the schema in its meta table is not readable")
    return schema


def _check_identity(conn: sqlite3.Connection, path: Path) -> dict[str, Any]:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if app_id != APPLICATION_ID or not {"meta", "frames"} <= tables:
        raise RecordingError(path, "not a tierconsole recording (an SQLite database of another kind)")
    try:
        meta = _read_meta(conn)
    except ValueError as e:
        raise RecordingError(path, f"damaged: unreadable meta ({e})") from None
    if meta.get("format") != FORMAT:
        raise RecordingError(path, "not a tierconsole recording (no format marker)")
    version = meta.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise RecordingError(path, f"recorded in format version {version}; this tierconsole reads up to "
                                   f"{FORMAT_VERSION} (upgrade tierconsole)")
    return meta


def _profile_meta(profile: Any) -> dict[str, Any]:
    """What the recording says about its profile: names only, never credentials."""
    if profile is None:
        return {"profile": "", "region": "", "is_sandbox": False}
    if isinstance(profile, str):
        return {"profile": profile, "region": "", "is_sandbox": False}
    return {"profile": str(getattr(profile, "name", "")), "region": str(getattr(profile, "region", "")),
            "is_sandbox": bool(getattr(profile, "is_sandbox", False))}


class Recorder:
    """Append :class:`DashboardData` snapshots to a recording file, keeping it under ``max_bytes``.

    ``profile`` (a :class:`~tierconsole.domain.profile.Profile` or a name) only labels the file.
    An existing recording is appended to (starting with a keyframe); any other existing file is
    refused. Use as a context manager or call :meth:`close`; a recorder that is never closed still
    leaves a valid file holding everything up to its last commit.
    """

    def __init__(self, path: str | os.PathLike, profile: Any = None, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 keyframe_every: int = DEFAULT_KEYFRAME_EVERY, commit_seconds: float = DEFAULT_COMMIT_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if keyframe_every < 1:
            raise ValueError("keyframe_every must be at least 1")
        self.path = Path(path)
        self.max_bytes = int(max_bytes)
        self.keyframe_every = int(keyframe_every)
        self.commit_seconds = commit_seconds
        self._clock = clock
        self.frames_written = 0
        self.frames_dropped = 0
        self._prev: DashboardData | None = None
        self._prev_json: bytes | None = None
        self._since_key = 0
        self._last_time = -math.inf
        self._in_tx = False
        self._last_commit = clock()
        self._keyframes: list[int] = []  # seqs of the keyframes in the file, oldest first
        self._conn: sqlite3.Connection | None = None
        if self.path.exists() and not self.path.is_file():
            raise RecordingError(self.path, "not a regular file: cannot record here")
        existing = self.path.exists() and self.path.stat().st_size > 0
        if existing:
            _check_header(self.path)
        try:  # private (it holds the account id and what the account does), and so its -wal/-shm files
            if self.path.exists():
                os.chmod(self.path, 0o600)
            else:
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass  # created meanwhile: SQLite checks it next
        except OSError as e:
            raise RecordingError(self.path, f"cannot write a recording here: {e.strerror or e}") from None
        try:
            # check_same_thread=False: the app opens it in one thread and writes from its event loop.
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn = self._conn
            if existing:
                meta = _check_identity(conn, self.path)
                if meta.get("version") != FORMAT_VERSION:
                    raise RecordingError(self.path, f"cannot append to a format version {meta.get('version')} file")
                self._keyframes = [r[0] for r in conn.execute("SELECT seq FROM frames WHERE key=1 ORDER BY seq")]
                row = conn.execute("SELECT max(time) FROM frames").fetchone()
                self._last_time = row[0] if row[0] is not None else -math.inf
                self.frames_dropped = int(meta.get("dropped_frames", 0))
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            if not existing:
                conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version={FORMAT_VERSION}")
                conn.executescript(_SCHEMA_SQL)
                from . import __version__  # noqa: PLC0415

                self._set_meta({"format": FORMAT, "version": FORMAT_VERSION, "created": time.time(),
                                "tierconsole": __version__, **_profile_meta(profile),
                                "keyframe_every": self.keyframe_every, "max_bytes": self.max_bytes,
                                "dropped_frames": 0, "dropped_until": None, "schema": SCHEMA})
            else:
                self._set_meta({"max_bytes": self.max_bytes, "keyframe_every": self.keyframe_every})
        except sqlite3.Error as e:
            self._abandon()
            raise RecordingError(self.path, f"cannot write a recording here: {e}") from None
        except RecordingError:
            self._abandon()
            raise

    def _abandon(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _set_meta(self, values: Mapping[str, Any]) -> None:
        self._conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                               [(k, json.dumps(v)) for k, v in values.items()])

    @property
    def closed(self) -> bool:
        return self._conn is None

    def write(self, data: DashboardData) -> None:
        """Append one snapshot (a keyframe or a delta against the previous one). Cheap: the file is
        committed every ``commit_seconds``, and trimmed to ``max_bytes`` then."""
        if self._conn is None:
            raise RecordingError(self.path, "the recorder is closed")
        key = self._prev is None or self._since_key >= self.keyframe_every
        try:
            data = _normalize(data)
            if key:
                raw = _dumps(_keyframe(data))
                blob = _compress(raw, None)
            else:
                raw = _dumps(_delta(self._prev, data))
                blob = _compress(raw, self._prev_json)
        except (TypeError, ValueError, KeyError, AttributeError) as e:  # not plain DashboardData
            raise RecordingError(self.path, f"cannot record this snapshot: {e}") from None
        t = float(data.time)
        index_time = t if t >= self._last_time else self._last_time  # never back (nor NaN)
        if not _FIRST_TIME <= index_time <= _LAST_TIME:  # nor a time no clock shows (the data keeps its own)
            index_time = self._last_time if math.isfinite(self._last_time) else 0.0
        try:
            if not self._in_tx:
                self._conn.execute("BEGIN")
                self._in_tx = True
            cur = self._conn.execute("INSERT INTO frames(time, key, data) VALUES (?, ?, ?)",
                                     (index_time, int(key), blob))
        except sqlite3.Error as e:
            raise RecordingError(self.path, f"cannot write: {e}") from None
        if key:
            self._keyframes.append(cur.lastrowid)
            self._since_key = 1
        else:
            self._since_key += 1
        self._prev, self._prev_json, self._last_time = data, raw, index_time
        self.frames_written += 1
        if self._clock() - self._last_commit >= self.commit_seconds:
            self.flush()

    def flush(self) -> None:
        """Trim to ``max_bytes`` if needed and commit what was written."""
        if self._conn is None or not self._in_tx:
            return
        try:
            self._trim()
            self._conn.execute("COMMIT")
        except sqlite3.Error as e:
            raise RecordingError(self.path, f"cannot write: {e}") from None
        finally:
            try:
                self._in_tx = self._conn.in_transaction
            except sqlite3.Error:
                self._in_tx = False
            self._last_commit = self._clock()

    def used_bytes(self) -> int:
        """Bytes of the file in use (the file itself may be larger by its free, reusable pages)."""
        page_size = self._conn.execute("PRAGMA page_size").fetchone()[0]
        pages = self._conn.execute("PRAGMA page_count").fetchone()[0]
        free = self._conn.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * page_size

    def _trim(self) -> None:
        dropped = 0
        until = None
        while len(self._keyframes) > 1 and self.used_bytes() > self.max_bytes:
            nxt = self._keyframes[1]
            dropped += self._conn.execute("DELETE FROM frames WHERE seq < ?", (nxt,)).rowcount
            del self._keyframes[0]
            until = self._conn.execute("SELECT time FROM frames WHERE seq = ?", (nxt,)).fetchone()[0]
        if dropped:
            self.frames_dropped += dropped
            self._set_meta({"dropped_frames": self.frames_dropped, "dropped_until": until})

    def close(self) -> None:
        """Commit and close (idempotent), leaving one self-contained file."""
        if self._conn is None:
            return
        try:
            self.flush()
            # Back to a rollback journal: one self-contained file, which readers open without
            # leaving -wal/-shm files beside it. (Appending switches to WAL again.)
            self._conn.execute("PRAGMA journal_mode=DELETE")
        except (sqlite3.Error, RecordingError):
            pass
        finally:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Recording:
    """Read a recording: ``len()``, :meth:`times`, :meth:`at` a time, :meth:`frame` by position,
    :attr:`first` / :attr:`last`, iteration in order.

    The frame index (times and keyframes) is read once when opened; frames are decoded on demand.
    Stepping forward through a segment applies one delta per step.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        _check_header(self.path)
        self._conn: sqlite3.Connection | None = None
        try:
            uri = self.path.resolve().as_uri() + "?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self.meta = _check_identity(self._conn, self.path)
            rows = self._conn.execute("SELECT seq, time, key FROM frames ORDER BY seq").fetchall()
            self._index(rows)
            schema = _schema(self.meta, self.path)
            self._make = {cls: _maker(cls, schema.get(cls.__name__), str(self.path)) for cls in ROW_TYPES[1:]}
            self._check = {cls: _RowCheck(cls, schema.get(cls.__name__)) for cls in ROW_TYPES[1:]}
        except sqlite3.Error as e:
            self.close()
            raise RecordingError(self.path, f"damaged or unreadable: {e}") from None
        except RecordingError:
            self.close()
            raise
        self._cursor: tuple[int, dict, bytes] | None = None  # (position, state, JSON) of the last decode

    def _index(self, rows: list[tuple]) -> None:
        """The frame index. A row whose time no clock can show, and deltas before the first keyframe,
        are damaged frames (see :attr:`bad_index`); times never go backwards, as the recorder wrote them."""
        try:
            self._seqs = array("q", (r[0] for r in rows))
        except (TypeError, OverflowError):
            raise RecordingError(self.path, "damaged: the frame index has rows without a sequence number") from None
        #: Positions whose index row is damaged, with why (decoding them raises DamagedFrameError).
        self.bad_index: dict[int, str] = {}
        self._times = self._index_times(rows)
        self._keys = array("q", (p for p, r in enumerate(rows) if r[2]))  # positions of keyframes
        for p in range(self._keys[0] if self._keys else len(rows)):
            self.bad_index.setdefault(p, "a delta with no keyframe before it")

    def _index_times(self, rows: list[tuple]) -> array:
        try:  # the common case, at C speed: every time a number in range, never going back
            fast = array("d", (r[1] for r in rows))
            if not fast or (_FIRST_TIME <= min(fast) and max(fast) <= _LAST_TIME and math.isfinite(math.fsum(fast))
                            and all(map(operator.le, fast, fast[1:]))):
                return fast
        except TypeError:  # a time that is not a number
            pass
        times, last = [], None
        for p, (_, t, _) in enumerate(rows):
            if type(t) not in _NUMBER or not _FIRST_TIME <= t <= _LAST_TIME:  # also NaN
                self.bad_index[p] = f"its time in the index is {show(t)}"
                t = last
            elif last is not None and t < last:
                t = last
            times.append(t)
            last = t if t is not None else last
        first = next((t for t in times if t is not None), 0.0)
        return array("d", (first if t is None else t for t in times))

    # --- index ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._seqs)

    def times(self) -> Sequence[float]:
        """Index time of every frame, ascending (an ``array('d')``; do not modify)."""
        return self._times

    @property
    def start(self) -> float:
        self._need_frames()
        return self._times[0]

    @property
    def end(self) -> float:
        self._need_frames()
        return self._times[-1]

    @property
    def first(self) -> DashboardData:
        return self.frame(0)

    @property
    def last(self) -> DashboardData:
        return self.frame(len(self) - 1)

    def _need_frames(self) -> None:
        if not len(self._seqs):
            raise LookupError(f"{self.path}: the recording has no frames")

    def index_at(self, t: float) -> int:
        """Position of the last frame at or before ``t``; -1 when ``t`` is before the first."""
        return bisect_right(self._times, t) - 1

    def at(self, t: float) -> DashboardData:
        """The frame at or before ``t`` (the last written, when several share a time).
        :class:`LookupError` when ``t`` is before the first frame."""
        position = self.index_at(t)
        if position < 0:
            self._need_frames()
            raise LookupError(f"{self.path}: {t} is before the first frame ({self._times[0]})")
        return self.frame(position)

    def keyframe_of(self, position: int) -> int:
        """Position of the keyframe that ``position`` is decoded from (-1: none, the frame is damaged)."""
        i = bisect_right(self._keys, position) - 1
        return self._keys[i] if i >= 0 else -1

    def next_keyframe(self, position: int) -> int | None:
        """Position of the first keyframe after ``position``, or None."""
        i = bisect_right(self._keys, position)
        return self._keys[i] if i < len(self._keys) else None

    # --- decoding -------------------------------------------------------------------------------
    def frame(self, position: int) -> DashboardData:
        """The frame at ``position`` (0-based; negative counts from the end). A frame that cannot be
        read raises :class:`DamagedFrameError` naming the first damaged frame on the way to it."""
        n = len(self._seqs)
        if position < 0:
            position += n
        if not 0 <= position < n:
            raise IndexError(f"frame {position} out of range (0-{n - 1})")
        key = self.keyframe_of(position)
        if key < 0:
            raise self._damaged(0, self.bad_index.get(0, "a delta with no keyframe before it"))
        cursor = self._cursor
        if cursor is not None and key <= cursor[0] <= position:
            start, state, prev = cursor  # continue forward from the last decode in this segment
        else:
            start, state, prev = key - 1, {}, None
        if start < position:
            for p, blob in self._blobs(start + 1, position):
                try:
                    state, prev = self._decode(p, blob, state, prev)
                except DamagedFrameError:
                    if p > key:  # the frames before it decode: keep them for stepping back
                        self._cursor = (p - 1, state, prev)
                    raise
            self._cursor = (position, state, prev)
        return self._build(state, position)

    def _damaged(self, position: int, detail: str) -> DamagedFrameError:
        seq = self._seqs[position] if 0 <= position < len(self._seqs) else None
        return DamagedFrameError(self.path, position, seq, detail)

    def _blobs(self, first: int, last: int) -> Iterator[tuple[int, Any]]:
        """(position, data) of frames ``first``..``last``; data is an exception for a frame SQLite
        cannot read (then each frame is fetched alone, so the others still come)."""
        lo, hi = self._seqs[first], self._seqs[last]
        try:
            rows = self._conn.execute("SELECT seq, data FROM frames WHERE seq BETWEEN ? AND ? ORDER BY seq",
                                      (lo, hi)).fetchall()
        except sqlite3.Error:
            rows = None
        if rows is not None and len(rows) == last - first + 1:
            yield from zip(range(first, last + 1), (r[1] for r in rows))
            return
        for p in range(first, last + 1):
            try:
                row = self._conn.execute("SELECT data FROM frames WHERE seq = ?", (self._seqs[p],)).fetchone()
            except sqlite3.Error as e:
                yield p, e
                continue
            yield p, row[0] if row is not None else LookupError("the frame is gone (trimmed by a recorder?)")

    def _decode(self, position: int, blob: Any, state: dict, prev: bytes | None) -> tuple[dict, bytes]:
        if position in self.bad_index:
            raise self._damaged(position, self.bad_index[position])
        if isinstance(blob, Exception):
            raise self._damaged(position, f"unreadable: {blob}")
        if type(blob) is not bytes:
            raise self._damaged(position, f"its data is {type(blob).__name__}, not compressed bytes")
        try:
            is_key = blob[:1] == KEYFRAME
            raw = _decompress(blob, None if is_key else prev)
            doc = json.loads(raw)
            if is_key:
                return _keyframe_state(doc, self._check), raw
            return _apply_delta(state, doc, self._make, self._check), raw
        except (zlib.error, ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError,
                OverflowError) as e:
            what = "nested too deeply" if isinstance(e, RecursionError) else str(e) or type(e).__name__
            raise self._damaged(position, what[:300]) from None

    def _build(self, state: dict, position: int) -> DashboardData:
        """The DashboardData of a decoded state; builds (once) the objects of its sequences."""
        try:
            kwargs: dict[str, Any] = {name: _thaw(state[name]) for name in SCALARS if name in state}
            for name, cls in SEQUENCES.items():
                rows, objs = state[name]
                if objs is None:
                    make = self._make[cls]
                    objs = tuple(make(row) for row in rows)
                    state[name] = (rows, objs)  # the cursor keeps them for the next frame
                kwargs[name] = objs
            make_status = self._make[PaneStatus]
            kwargs["status"] = {k: make_status(v) for k, v in state.get("status", {}).items()}
            kwargs["throttle_rates"] = {k: _thaw(v) for k, v in state.get("throttle_rates", {}).items()}
            return DashboardData(**kwargs)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, RecursionError) as e:
            raise self._damaged(position, str(e)[:300] or type(e).__name__) from None

    def __iter__(self) -> Iterator[DashboardData]:
        """Every frame in order, decoding each delta once. Stops with :class:`DamagedFrameError` at the
        first damaged frame (:meth:`damage` reads past them)."""
        state: dict = {}
        prev: bytes | None = None
        if len(self._seqs):
            for position, blob in self._blobs(0, len(self._seqs) - 1):
                state, prev = self._decode(position, blob, state, prev)
                yield self._build(state, position)

    def damage(self) -> list[tuple[int, int, str]]:
        """Every run of frames that cannot be read, as ``(first, last, reason)`` (0-based positions) in
        order: decodes the whole recording (about 0.1 ms a frame), resuming at the next keyframe after
        each damage."""
        runs: list[tuple[int, int, str]] = []
        n = len(self._seqs)
        position = 0
        while position < n:
            key = self.keyframe_of(position)
            end = (self.next_keyframe(position) or n) - 1  # the segment's last frame
            state: dict = {}
            prev: bytes | None = None
            try:
                if key < 0:
                    raise self._damaged(position, self.bad_index.get(position, "a delta with no keyframe before it"))
                for p, blob in self._blobs(position, end):
                    state, prev = self._decode(p, blob, state, prev)
                self._build(state, end)
            except DamagedFrameError as e:
                runs.append((e.position, end, e.reason))
            position = end + 1
        return runs

    def readable(self, position: int, forward: bool = True) -> int | None:
        """The readable frame nearest ``position`` in the direction asked (``position`` itself when it
        reads), else the nearest the other way, else None when no frame can be read."""
        n = len(self._seqs)
        position = max(0, min(position, n - 1))
        for direction in ((True, False) if forward else (False, True)):
            p = position
            while 0 <= p < n:
                try:
                    self.frame(p)
                    return p
                except DamagedFrameError as e:
                    if direction:  # the damage spoils the rest of its segment: on to the next keyframe
                        nxt = self.next_keyframe(max(p, e.position))
                        if nxt is None:
                            break
                        p = nxt
                    else:  # the frames before the damaged one read (back to the previous segment)
                        p = min(p, e.position) - 1
        return None

    def info(self) -> dict[str, Any]:
        """A summary for ``tierconsole replay --info``: frames, span, size, profile, drops."""
        size = self.path.stat().st_size
        out = {"path": str(self.path), "frames": len(self), "bytes": size,
               "keyframes": len(self._keys), **{k: self.meta.get(k) for k in (
                   "profile", "region", "is_sandbox", "created", "tierconsole", "max_bytes", "dropped_frames",
                   "dropped_until")}}
        if len(self):
            out.update(start=self._times[0], end=self._times[-1], seconds=self._times[-1] - self._times[0])
        return out

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "Recording":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
