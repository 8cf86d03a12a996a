"""Decoding frames: keyframes and deltas back to :class:`DashboardData`, every row and field checked, so a
damaged frame is named, never a traceback (see :mod:`.format`)."""
from __future__ import annotations

import types
import typing
import zlib
from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any, Callable, Sequence

from ..core.domain.catalog import show
from ..core.domain.views import DashboardData
from .format import _ITEM_NAMES, DELTA, KEYFRAME, MAPPINGS, SCALARS, SEQUENCES, RecordingError


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
