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

The parts: this module (constants, errors, the schema), :mod:`.encode` and :mod:`.decode`
(the frame codec), :mod:`.store` (the SQLite file), :mod:`.recorder` (writing), :mod:`.reader`
(reading); :mod:`.capture` records a live source, :mod:`.replay` plays a recording back.

Round trips are exact up to ``==``: :meth:`Recording.at` returns a ``DashboardData`` equal to the
one written (sequences come back as tuples, mappings as dicts). Nothing but ``DashboardData`` is
recorded: no credentials, no request payloads.
"""
from __future__ import annotations

import os
from dataclasses import fields
from datetime import datetime, timezone

from ..core.domain.views import (
    BatchJobView,
    DashboardData,
    ModelQuotaView,
    PaneStatus,
    ReservationView,
    ThrottleEvent,
    UsageMinute,
)

FORMAT = "tierconsole-recording"
FORMAT_VERSION = 1
APPLICATION_ID = 0x74637263  # "tcrc"
from .limits import DEFAULT_MAX_BYTES as DEFAULT_MAX_BYTES  # noqa: E402 - the command line reads it from there
DEFAULT_KEYFRAME_EVERY = 300
DEFAULT_COMMIT_SECONDS = 2.0

KEYFRAME, DELTA = b"k", b"d"
_FIRST_TIME, _LAST_TIME = -62135596800.0, 253402300799.0  # the epoch times a clock can show (years 1-9999)
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


# --------------------------------------------------------------------------------------- schema
def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.init)


SCHEMA: dict[str, list[str]] = {cls.__name__: list(_names(cls)) for cls in ROW_TYPES}
_ITEM_NAMES: dict[type, tuple[str, ...]] = {cls: _names(cls) for cls in ROW_TYPES}
SCALARS: tuple[str, ...] = tuple(n for n in _ITEM_NAMES[DashboardData] if n not in SEQUENCES and n not in MAPPINGS)



def stamp(epoch: float) -> str:
    """``2026-03-02 14:30:05``: a frame time as replay shows it (UTC, like the dashboard's header)."""
    try:
        return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    except (ValueError, OverflowError, OSError):  # NaN, infinite, or beyond the year 9999
        return "????-??-?? ??:??:??"
