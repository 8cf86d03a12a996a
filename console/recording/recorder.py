"""Writing a recording (see :mod:`.format`)."""
from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable

from ..core.domain.views import DashboardData
from .encode import _compress, _delta, _dumps, _keyframe, _normalize
from .format import (
    _FIRST_TIME,
    _LAST_TIME,
    APPLICATION_ID,
    DEFAULT_COMMIT_SECONDS,
    DEFAULT_KEYFRAME_EVERY,
    DEFAULT_MAX_BYTES,
    FORMAT,
    FORMAT_VERSION,
    SCHEMA,
    RecordingError,
)
from .store import _SCHEMA_SQL, _check_header, _check_identity, _profile_meta


class Recorder:
    """Append :class:`DashboardData` snapshots to a recording file, keeping it under ``max_bytes``.

    ``profile`` (a :class:`~tierconsole.core.domain.profile.Profile` or a name) only labels the file.
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
        self.frames_with_data = 0  # frames where at least one pane was read (not all stale)
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
                from .. import __version__  # noqa: PLC0415

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
        if not data.status or any(st.ok for st in data.status.values()):
            self.frames_with_data += 1
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
