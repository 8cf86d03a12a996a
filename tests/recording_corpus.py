"""A corpus of damaged recordings, each with what a reader must say about it.

Every entry is made from one good recording (``N`` frames, a keyframe every ``KEY_EVERY``) and
damaged one way. ``Damage.frame`` is the position of the first damaged frame when the file opens
but a frame is bad (the reader must name that frame and play around it); ``None`` when the file
as a whole is refused (the reader must say so, naming the file).
"""
from __future__ import annotations

import dataclasses
import json
import sqlite3
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tierconsole.core.domain.sample import SAMPLE_NOW, sample_dashboard
from tierconsole.core.domain.views import DashboardData
from tierconsole.recording.recorder import Recorder

N = 60
KEY_EVERY = 10
STEP_S = 5.0


def good_frame(i: int) -> DashboardData:
    data = sample_dashboard(now=SAMPLE_NOW + STEP_S * i, seed=7 + i % 3)
    return dataclasses.replace(data, quotas=tuple(dataclasses.replace(q, rpm_used=q.rpm_used + i)
                                                  for q in data.quotas))


FRAMES = [good_frame(i) for i in range(N)]


def write_good(path: Path, n: int = N, key_every: int = KEY_EVERY) -> Path:
    with Recorder(path, "prod-ops", keyframe_every=key_every) as rec:
        for data in FRAMES[:n]:
            rec.write(data)
    return path


@dataclass(frozen=True)
class Damage:
    name: str
    damage: Callable[[Path], None]
    frame: int | None  # first damaged position; None: the whole file is refused
    reason: str = ""  # a piece of the message


def _sql(*statements: str, params: tuple = ()) -> Callable[[Path], None]:
    def run(path: Path) -> None:
        with sqlite3.connect(path) as db:
            for s in statements:
                db.execute(s, params if "?" in s else ())
        db.close()
    return run


def _blob(position: int, blob: bytes) -> Callable[[Path], None]:
    return _sql("UPDATE frames SET data = ? WHERE seq = %d" % (position + 1), params=(blob,))


def _keyframe_json(position: int, doc) -> Callable[[Path], None]:
    return _blob(position, b"k" + zlib.compress(json.dumps(doc).encode()))


def _delta_json(position: int, doc) -> Callable[[Path], None]:
    """Replace frame ``position`` (a delta) with ``doc``, compressed as the recorder would (against
    the previous frame's JSON), so the damage is in the content, not the compression."""
    def run(path: Path) -> None:
        from tierconsole.recording.encode import _dumps, _keyframe, _delta  # noqa: PLC0415
        prev = FRAMES[position - 1]
        key = position - position % KEY_EVERY
        prev_raw = _dumps(_keyframe(FRAMES[key])) if position - 1 == key else \
            _dumps(_delta(FRAMES[position - 2], prev))
        c = zlib.compressobj(6, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, prev_raw[-32768:])
        blob = b"d" + c.compress(json.dumps(doc).encode()) + c.flush()
        _blob(position, blob)(path)
    return run


def _flip(position: int, offset: int) -> Callable[[Path], None]:
    def run(path: Path) -> None:
        with sqlite3.connect(path) as db:
            blob = bytearray(db.execute("SELECT data FROM frames WHERE seq = ?", (position + 1,)).fetchone()[0])
            blob[offset % len(blob)] ^= 0x5A
            db.execute("UPDATE frames SET data = ? WHERE seq = ?", (bytes(blob), position + 1))
        db.close()
    return run


def _truncate(fraction: float) -> Callable[[Path], None]:
    def run(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])
    return run


CORPUS: list[Damage] = [
    # the whole file
    Damage("zero-length", lambda p: p.write_bytes(b""), None, "empty file"),
    Damage("truncated", _truncate(0.5), None, "truncated"),
    Damage("header-only", _truncate(100 / 4096), None, "truncated"),
    Damage("not-sqlite", lambda p: p.write_bytes(b"tierconsole? no\n" * 64), None, "not an SQLite file"),
    Damage("no-frames-table", _sql("DROP TABLE frames"), None, "not a tierconsole recording"),
    Damage("no-meta-table", _sql("DROP TABLE meta"), None, "not a tierconsole recording"),
    Damage("newer-version", _sql("UPDATE meta SET value = '99' WHERE key = 'version'"), None, "format version 99"),
    Damage("version-text", _sql("UPDATE meta SET value = '\"one\"' WHERE key = 'version'"), None, "format version"),
    Damage("meta-not-json", _sql("UPDATE meta SET value = '{' WHERE key = 'profile'"), None, "meta"),
    Damage("schema-not-a-mapping", _sql("UPDATE meta SET value = '[1, 2]' WHERE key = 'schema'"), None, "schema"),
    Damage("schema-rows-not-names", _sql("UPDATE meta SET value = '{\"ThrottleEvent\": 7}' WHERE key = 'schema'"),
           None, "schema"),
    Damage("first-frame-a-delta", _sql("UPDATE frames SET key = 0 WHERE seq = 1"), 0, "damaged frame 1"),
    Damage("time-not-a-number", _sql("UPDATE frames SET time = 'noon' WHERE seq = 5"), 4, "damaged frame 5"),
    Damage("time-beyond-any-clock", _sql("UPDATE frames SET time = 1e300 WHERE seq = 15"), 14, "damaged frame 15"),
    Damage("time-null", _sql("CREATE TABLE f2 AS SELECT * FROM frames", "DROP TABLE frames",
                             "ALTER TABLE f2 RENAME TO frames", "UPDATE frames SET time = NULL WHERE seq = 5"),
           4, "damaged frame 5"),
    # one frame (and, for a delta chain, the frames after it up to the next keyframe)
    Damage("keyframe-bad-zlib", _blob(20, b"k" + b"\x78\x9c garbage"), 20, "damaged frame 21"),
    Damage("keyframe-flipped-byte", _flip(20, 40), 20, "damaged frame 21"),
    Damage("delta-flipped-byte", _flip(25, 9), 25, "damaged frame 26"),
    Damage("delta-bad-zlib", _blob(25, b"d\x00\x01\x02"), 25, "damaged frame 26"),
    Damage("unknown-codec", _blob(33, b"z" + zlib.compress(b"{}")), 33, "damaged frame 34"),
    Damage("empty-blob", _blob(33, b""), 33, "damaged frame 34"),
    Damage("blob-is-text", _sql("UPDATE frames SET data = 'hello' WHERE seq = 34"), 33, "damaged frame 34"),
    Damage("blob-is-number", _sql("UPDATE frames SET data = 12 WHERE seq = 34"), 33, "damaged frame 34"),
    Damage("keyframe-not-json", _blob(30, b"k" + zlib.compress(b"{not json")), 30, "damaged frame 31"),
    Damage("keyframe-a-list", _keyframe_json(30, [1, 2, 3]), 30, "damaged frame 31"),
    Damage("keyframe-deep-json", _blob(30, b"k" + zlib.compress(b"[" * 100_000 + b"]" * 100_000)), 30,
           "damaged frame 31"),
    Damage("keyframe-time-text", _keyframe_json(30, {"time": "noon"}), 30, "damaged frame 31"),
    Damage("keyframe-rows-wrong", _keyframe_json(30, {"time": SAMPLE_NOW, "quotas": [["m", 5]]}), 30,
           "damaged frame 31"),
    Damage("keyframe-row-types", _keyframe_json(30, {"time": SAMPLE_NOW, "quotas": [["m", "M", "lots", 1]]}), 30,
           "damaged frame 31"),
    Damage("keyframe-status-not-mapping", _keyframe_json(30, {"time": SAMPLE_NOW, "status": [1]}), 30,
           "damaged frame 31"),
    Damage("delta-ops-not-a-list", _delta_json(41, {"time": SAMPLE_NOW + 205, "quotas": 5}), 41, "damaged frame 42"),
    Damage("delta-mapping-not-a-mapping", _delta_json(41, {"time": SAMPLE_NOW + 205, "status": [1, 2]}), 41,
           "damaged frame 42"),
    Damage("delta-copy-out-of-range", _delta_json(41, {"time": SAMPLE_NOW + 205, "quotas": [["c", 0, 999]]}), 41,
           "damaged frame 42"),
    Damage("delta-patch-bad-field", _delta_json(41, {"time": SAMPLE_NOW + 205, "quotas": [["p", 0, 99, 1]]}), 41,
           "damaged frame 42"),
    Damage("delta-patch-adds-text", _delta_json(41, {"time": SAMPLE_NOW + 205, "quotas": [["p", 0, -3, "x"]]}), 41,
           "damaged frame 42"),
    Damage("last-frame", _blob(N - 1, b"k" + b"junk"), N - 1, f"damaged frame {N}"),
    Damage("first-frame", _blob(0, b"k" + b"junk"), 0, "damaged frame 1"),
]
def make(tmp: Path, damage: Damage) -> Path:
    path = write_good(tmp / f"{damage.name}.tcrec")
    damage.damage(path)
    return path
