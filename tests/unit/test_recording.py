"""The recording file: exact round trips, bounded size, crash safety, clear errors on bad files."""
from __future__ import annotations

import dataclasses
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierconsole.core.domain.sample import SAMPLE_NOW, sample_dashboard
from tierconsole.core.domain.views import (
    PANES, BatchJobView, DashboardData, ModelQuotaView, PaneStatus, ReservationView, ThrottleEvent, UsageMinute,
)
from tierconsole.recording.format import FORMAT_VERSION, RecordingError
from tierconsole.recording.recorder import Recorder
from tierconsole.recording.reader import Recording
from tierconsole.recording.decode import _apply_ops, _maker
from tierconsole.recording.encode import _dumps, _row, _seq_ops

ROOT = Path(__file__).resolve().parents[2]


def frame(i: int) -> DashboardData:
    """A deterministic, changing dashboard: the sample one at time i with some figures moving."""
    data = sample_dashboard(now=SAMPLE_NOW + i, seed=7 + i % 4)
    return dataclasses.replace(data, quotas=tuple(
        dataclasses.replace(q, rpm_used=q.rpm_used + i, tpm_by_tier={**q.tpm_by_tier, "default": 1000.0 * i})
        for q in data.quotas))


def write(path: Path, frames, **kwargs) -> None:
    with Recorder(path, "prod-ops", **kwargs) as rec:
        for data in frames:
            rec.write(data)


def expected_at(frames, t: float):
    """What ``at(t)`` must give: the last frame whose (never decreasing) index time is <= t."""
    index_time, best = float("-inf"), None
    for data in frames:
        index_time = max(index_time, float(data.time))
        if index_time <= t:
            best = data
    return best


# --- round trips ------------------------------------------------------------------------------
def test_every_frame_and_every_time_reads_back_exactly(tmp_path):
    frames = [frame(i) for i in range(150)]
    path = tmp_path / "r.rec"
    write(path, frames, keyframe_every=20)
    with Recording(path) as rec:
        assert len(rec) == 150
        assert list(rec.times()) == [d.time for d in frames]
        assert rec.first == frames[0] and rec.last == frames[-1]
        assert (rec.start, rec.end) == (frames[0].time, frames[-1].time)
        assert list(rec) == frames
        for i in random.Random(1).sample(range(150), 60):  # random jumps, forwards and backwards
            assert rec.frame(i) == frames[i]
        for i in range(150):  # stepping forward reuses the last decode
            assert rec.at(frames[i].time + 0.5) == frames[i]
        with pytest.raises(LookupError):
            rec.at(frames[0].time - 1)
        info = rec.info()
        assert info["frames"] == 150 and info["keyframes"] == 8 and info["profile"] == "prod-ops"


def test_lists_come_back_as_tuples_and_new_objects_are_reused_between_frames(tmp_path):
    data = sample_dashboard()
    as_lists = dataclasses.replace(data, throttle_events=list(data.throttle_events), quotas=list(data.quotas))
    later = dataclasses.replace(data, time=data.time + 1)
    write(tmp_path / "r.rec", [as_lists, later])
    with Recording(tmp_path / "r.rec") as rec:
        first, second = rec.frame(0), rec.frame(1)
        assert first == data and type(first.throttle_events) is tuple
        # Unchanged items are the same objects in consecutive frames (cheap for the widgets to compare).
        assert all(a is b for a, b in zip(first.throttle_events, second.throttle_events))


def test_time_going_backwards_keeps_the_data_and_a_monotonic_index(tmp_path):
    times = [100.0, 101.0, 99.5, 102.0, 102.0]
    frames = [dataclasses.replace(frame(i), time=t) for i, t in enumerate(times)]
    write(tmp_path / "r.rec", frames)
    with Recording(tmp_path / "r.rec") as rec:
        assert list(rec.times()) == [100.0, 101.0, 101.0, 102.0, 102.0]
        assert [rec.frame(i).time for i in range(5)] == times
        assert rec.at(101.5) == frames[2]  # the last written at that index time
        assert rec.at(102.0) == frames[4]


def test_older_and_newer_dashboard_fields_are_tolerated(tmp_path):
    """A recording made before a DashboardData field existed reads with its default; a field this
    version does not know is ignored."""
    data = dataclasses.replace(sample_dashboard(), read_only=True) if hasattr(DashboardData, "read_only") \
        else sample_dashboard()
    path = tmp_path / "r.rec"
    write(path, [data])
    with sqlite3.connect(path) as db:
        blob = db.execute("SELECT data FROM frames").fetchone()[0]
        doc = json.loads(zlib.decompress(blob[1:]))
        doc["field_from_the_future"] = [1, 2]
        dropped = doc.pop("read_only", None)
        db.execute("UPDATE frames SET data = ?", (b"k" + zlib.compress(json.dumps(doc).encode()),))
    with Recording(path) as rec:
        expected = dataclasses.replace(data, read_only=False) if dropped is not None else data
        assert rec.frame(0) == expected


def test_rows_are_mapped_by_field_name_when_the_schema_differs():
    stored = ["model_id", "time", "tier", "count", "source", "message", "error", "retired_field"]
    make = _maker(ThrottleEvent, stored, "x.rec")
    event = make(["m", 5.0, "flex", 3, "console", "msg", "ThrottlingException", "ignored"])
    assert event == ThrottleEvent(5.0, "m", "flex", 3, "ThrottlingException", "msg", "console")
    with pytest.raises(RecordingError, match=r"x\.rec: .*required field 'model_id'"):
        _maker(ThrottleEvent, ["time", "tier"], "x.rec")


# --- hypothesis -------------------------------------------------------------------------------
numbers = st.one_of(st.integers(-2**64, 2**64), st.floats(allow_nan=False),
                    st.integers(-10**6, 10**6).map(float))
texts = st.text(max_size=8)
ids = st.sampled_from(["a", "b", "nova", "sonnet:0"])
maybe = st.none().__or__

reservations = st.builds(ReservationView, ids, ids, numbers, numbers, numbers, numbers, numbers,
                         st.lists(numbers, max_size=3).map(tuple), st.lists(numbers, max_size=3).map(tuple))
quotas = st.builds(ModelQuotaView, ids, texts, numbers, numbers,
                   st.dictionaries(st.sampled_from(["priority", "default", "flex", "reserved"]), numbers, max_size=4),
                   numbers, maybe(numbers))
events = st.builds(ThrottleEvent, st.sampled_from([0.0, 60.0, 1772461800.5]) | numbers, ids,
                   st.sampled_from(["", "default", "flex", "priority", "reserved"]), st.integers(-5, 10**12),
                   st.sampled_from(["ThrottlingException", "ServiceUnavailableException"]) | texts, texts,
                   st.sampled_from(["cloudwatch", "console"]))
jobs = st.builds(BatchJobView, ids, texts, ids, st.sampled_from(["InProgress", "Completed", "Failed"]), numbers,
                 maybe(numbers), maybe(st.integers(0, 10**9)), st.integers(0, 10**9), st.integers(0, 10**9),
                 st.integers(0, 10**9), maybe(numbers), maybe(numbers), maybe(numbers), maybe(numbers),
                 st.integers(0, 10**9), maybe(numbers))
statuses = st.dictionaries(st.sampled_from([*PANES, "other"]),
                           st.builds(PaneStatus, st.booleans(), maybe(numbers), maybe(texts)), max_size=5)
rates = st.dictionaries(st.sampled_from(["priority", "default", "flex", "x"]),
                        st.lists(numbers, max_size=4).map(tuple), max_size=4)
tier_counts = st.dictionaries(st.sampled_from(["priority", "default", "flex", "all"]), st.integers(0, 10**6), max_size=3)
minutes = st.builds(UsageMinute, st.sampled_from([0.0, 60.0, 1772461800.0]) | numbers, ids,
                    st.dictionaries(st.sampled_from(["priority", "default", "flex"]), numbers, max_size=3), numbers,
                    numbers, numbers, tier_counts, maybe(numbers), maybe(numbers), maybe(numbers), maybe(numbers))
ITEMS = {"reservations": reservations, "quotas": quotas, "throttle_events": events, "batch_jobs": jobs,
         "usage_minutes": minutes}


def _variants(item):
    """The item and a changed copy of it (same entity, one field moved): exercises patches."""
    out = [item]
    for f in dataclasses.fields(item):
        value = getattr(item, f.name)
        if f.init and type(value) in (int, float) and abs(value) < 2**50:
            out.append(dataclasses.replace(item, **{f.name: value + 7}))
            break
    return out


@st.composite
def timelines(draw):
    """A few snapshots drawing items from small shared pools: items stay, move, change, repeat,
    appear and disappear between snapshots, as on a live dashboard (and worse)."""
    pools = {}
    for name, strategy in ITEMS.items():
        pools[name] = [v for item in draw(st.lists(strategy, min_size=1, max_size=4)) for v in _variants(item)]
    t = draw(st.floats(-1e9, 2e9))
    out = []
    for _ in range(draw(st.integers(1, 10))):
        t += draw(st.sampled_from([1.0, 1.0, 0.0, 0.25, -3.0]))
        seqs = {name: tuple(draw(st.lists(st.sampled_from(pool), max_size=7))) for name, pool in pools.items()}
        out.append(DashboardData(
            time=t, profile=draw(st.sampled_from(["prod", "sandbox"])), account_id=draw(maybe(st.just("123"))),
            region=draw(st.sampled_from(["us-east-1", "eu-west-1"])), endpoint=draw(maybe(texts)),
            is_sandbox=draw(st.booleans()), throttle_rates=draw(rates), status=draw(statuses), **seqs))
    return out


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_sequence_operations_rebuild_any_new_list_from_any_old_one(data):
    strategy = data.draw(st.sampled_from(list(ITEMS.values())))
    pool = [v for item in data.draw(st.lists(strategy, min_size=1, max_size=4)) for v in _variants(item)]
    old = tuple(data.draw(st.lists(st.sampled_from(pool), max_size=12)))
    new = tuple(data.draw(st.lists(st.sampled_from(pool), max_size=12)))
    ops = _seq_ops(old, new)
    assert (ops is None) == (old == new)
    rows = json.loads(_dumps([_row(x) for x in old]))
    make = _maker(type(pool[0]), None, "x")
    ops = json.loads(_dumps(ops))
    # Decoding on the way to a frame: rows only, objects built at the end.
    rebuilt, objs = (rows, None) if ops is None else _apply_ops((rows, None), ops, make)
    assert objs is None and tuple(make(r) for r in rebuilt) == new
    # Stepping from a shown frame: the objects are carried along, unchanged ones shared.
    old_objs = tuple(make(r) for r in rows)
    if ops is not None:
        rebuilt, objs = _apply_ops((rows, old_objs), ops, make)
        assert objs == new and tuple(make(r) for r in rebuilt) == new


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(timelines(), st.integers(1, 4), st.randoms(use_true_random=False))
def test_any_sequence_of_snapshots_reads_back_exactly(frames, keyframe_every, rnd):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.rec"
        write(path, frames, keyframe_every=keyframe_every)
        with Recording(path) as rec:
            assert len(rec) == len(frames)
            assert list(rec) == frames
            positions = list(range(len(frames)))
            rnd.shuffle(positions)
            for p in positions:
                assert rec.frame(p) == frames[p]
            probes = [t + d for t in rec.times() for d in (-0.1, 0.0, 0.1)]
            for t in probes:
                want = expected_at(frames, t)
                if want is None:
                    with pytest.raises(LookupError):
                        rec.at(t)
                else:
                    assert rec.at(t) == want


# --- bounded size -----------------------------------------------------------------------------
def noisy(i: int) -> DashboardData:
    """A frame with ~2 KB of incompressible text, so that a small size limit is reached quickly."""
    rng = random.Random(i)
    message = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(2000))
    return dataclasses.replace(frame(i), throttle_events=(ThrottleEvent(SAMPLE_NOW + i, "m", "default",
                                                                        message=message),))


def test_size_is_bounded_by_dropping_the_oldest_segments(tmp_path):
    path = tmp_path / "small.rec"
    frames = [noisy(i) for i in range(800)]
    limit = 256 * 1024
    write(path, frames, max_bytes=limit, keyframe_every=10, commit_seconds=0)
    assert path.stat().st_size <= limit * 1.25
    with Recording(path) as rec:
        kept = len(rec)
        assert 50 < kept < 800
        assert rec.meta["dropped_frames"] == 800 - kept
        assert (800 - kept) % 10 == 0  # whole segments
        assert rec.meta["dropped_until"] == rec.start == frames[800 - kept].time
        assert list(rec) == frames[800 - kept:]


def test_appending_to_a_recording_starts_with_a_keyframe(tmp_path):
    path = tmp_path / "r.rec"
    write(path, [frame(i) for i in range(5)])
    write(path, [frame(i) for i in range(5, 9)])
    with Recording(path) as rec:
        assert list(rec) == [frame(i) for i in range(9)]
        assert rec.keyframe_of(6) == 5


# --- crashes ----------------------------------------------------------------------------------
def test_a_recorder_never_closed_leaves_a_readable_file(tmp_path):
    path = tmp_path / "open.rec"
    rec = Recorder(path, "p", commit_seconds=3600)
    for i in range(30):
        rec.write(frame(i))
    rec.flush()
    for i in range(30, 40):  # written but not committed yet
        rec.write(frame(i))
    with Recording(path) as reader:  # while the writer still holds the file
        assert list(reader) == [frame(i) for i in range(30)]
    rec.close()
    with Recording(path) as reader:
        assert len(reader) == 40


def test_a_killed_recorder_leaves_every_committed_frame(tmp_path):
    path = tmp_path / "killed.rec"
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from tests.unit.test_recording import frame
        from tierconsole.recording.recorder import Recorder
        rec = Recorder({str(path)!r}, "p", commit_seconds=0, keyframe_every=7)
        i = 0
        while True:
            rec.write(frame(i))
            print(i, flush=True)
            i += 1
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if int(line) >= 40:
                break
    finally:
        proc.kill()
        proc.wait()
    with Recording(path) as rec:
        assert len(rec) >= 41
        assert list(rec) == [frame(i) for i in range(len(rec))]


# --- bad files --------------------------------------------------------------------------------
def _recording(tmp_path, n=200) -> Path:
    path = tmp_path / "good.rec"
    write(path, [noisy(i) for i in range(n)], keyframe_every=10)
    return path


@pytest.mark.parametrize("content, reason", [
    (b"", "empty file"),
    (b"hello, world\n" * 10, "not an SQLite file"),
    (json.dumps({"frames": []}).encode(), "not an SQLite file"),
])
def test_files_that_are_not_recordings_are_named_in_the_error(tmp_path, content, reason):
    path = tmp_path / "thing.rec"
    path.write_bytes(content)
    with pytest.raises(RecordingError, match=f"^{path}: .*{reason}"):
        Recording(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(RecordingError, match=f"^{tmp_path / 'nope.rec'}: no such file"):
        Recording(tmp_path / "nope.rec")
    with pytest.raises(RecordingError, match=f"^{tmp_path}: is a directory"):
        Recording(tmp_path)


def test_another_sqlite_database_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE frames (x)")
    before = path.read_bytes()
    with pytest.raises(RecordingError, match=f"^{path}: not a tierconsole recording"):
        Recording(path)
    with pytest.raises(RecordingError, match=f"^{path}: not a tierconsole recording"):
        Recorder(path, "p")
    assert path.read_bytes() == before


def test_a_newer_format_version_is_refused(tmp_path):
    path = _recording(tmp_path, 3)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'version'")
    with pytest.raises(RecordingError, match=f"^{path}: recorded in format version 99; .* up to {FORMAT_VERSION}"):
        Recording(path)


def test_a_truncated_file_is_named(tmp_path):
    path = _recording(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RecordingError, match=f"^{path}: truncated"):
        Recording(path)


def test_a_damaged_frame_is_named_with_the_file(tmp_path):
    path = _recording(tmp_path, 30)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE frames SET data = X'64deadbeef' WHERE seq = 15")
    with Recording(path) as rec:
        assert rec.frame(9) == noisy(9)
        with pytest.raises(RecordingError, match=rf"^{path}: damaged frame 15 \(seq 15\)"):  # counted from 1
            rec.frame(16)
        with pytest.raises(RecordingError, match=f"^{path}: damaged"):
            list(rec)


@pytest.mark.parametrize("seed", range(8))
def test_random_corruption_gives_a_recording_error_or_the_right_data(tmp_path, seed):
    path = _recording(tmp_path, 120)
    frames = [noisy(i) for i in range(120)]
    raw = bytearray(path.read_bytes())
    rng = random.Random(seed)
    start = rng.randrange(100, len(raw) - 4096)
    raw[start:start + 4096] = rng.randbytes(4096)  # a page's worth of garbage
    path.write_bytes(bytes(raw))
    try:  # only ever a RecordingError naming the file (zlib's checksums catch damaged frames)
        with Recording(path) as rec:
            assert len(list(rec)) == len(rec) <= len(frames)
    except RecordingError as e:
        assert str(e).startswith(f"{path}: ")


def test_a_recorder_cannot_write_where_there_is_no_directory(tmp_path):
    path = tmp_path / "no" / "such" / "dir.rec"
    with pytest.raises(RecordingError, match=f"^{path}: cannot write"):
        Recorder(path, "p")
