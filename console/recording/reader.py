"""Reading a recording (see :mod:`.format`)."""
from __future__ import annotations

import json
import math
import operator
import os
import sqlite3
import zlib
from array import array
from bisect import bisect_right
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..core.domain.catalog import show
from ..core.domain.views import DashboardData, PaneStatus
from .decode import _NUMBER, _apply_delta, _decompress, _keyframe_state, _maker, _RowCheck, _thaw
from .format import _FIRST_TIME, _LAST_TIME, KEYFRAME, ROW_TYPES, SCALARS, SEQUENCES, DamagedFrameError, RecordingError
from .store import _check_header, _check_identity, _schema


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
            raise RecordingError(self.path, _sqlite_words(e)) from None
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


def _sqlite_words(e: sqlite3.Error) -> str:
    """An SQLite error opening a recording, in an operator's words (SQLite's own text in parentheses)."""
    text = str(e)
    if "malformed" in text or "corrupt" in text:
        return (f"damaged: the file's internal index is corrupt, so its frames cannot be listed "
                f"(SQLite: {text})")
    if "not a database" in text or "encrypted" in text:
        return f"not a tierconsole recording: not an SQLite database (SQLite: {text})"
    if "locked" in text or "busy" in text:
        return f"cannot be read now: another program holds it locked (SQLite: {text}); try again"
    return f"damaged or unreadable (SQLite: {text})"
