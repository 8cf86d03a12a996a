"""Damaged recordings: the reader names the first damaged frame and reads around it; ``replay``
(``--info``, ``--at``, ``--play``) says so and plays or jumps around it. Never a traceback, never
exit 0 after a crash."""
from __future__ import annotations

import json
import os
import random
import select
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tierconsole.cli.main import main
from tierconsole.recording.format import DamagedFrameError, RecordingError
from tierconsole.recording.reader import Recording
from tierconsole.tui.replay import ReplayApp
from tierconsole.recording.replay import ReplaySource
from tests.functional.test_replay_pilot import _isolated  # noqa: F401 - autouse: isolated XDG dirs, colours on
from tests.recording_corpus import CORPUS, FRAMES, KEY_EVERY, N, make, write_good

FRAME_DAMAGE = [d for d in CORPUS if d.frame is not None]
FILE_DAMAGE = [d for d in CORPUS if d.frame is None]
CLI = [sys.executable, "-m", "tierconsole.cli"]


def run_of(first: int) -> range:
    """The frames a damage at ``first`` spoils: up to the end of its segment."""
    return range(first, min(N, (first // KEY_EVERY + 1) * KEY_EVERY))


# --- the reader ---------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", FILE_DAMAGE, ids=lambda d: d.name)
def test_a_file_that_cannot_be_a_recording_is_refused_naming_the_file(tmp_path, damage):
    path = make(tmp_path, damage)
    with pytest.raises(RecordingError) as info:
        Recording(path)
    assert str(info.value).startswith(f"{path}: ") and damage.reason in str(info.value), str(info.value)
    assert not isinstance(info.value, DamagedFrameError)


@pytest.mark.parametrize("damage", FRAME_DAMAGE, ids=lambda d: d.name)
def test_the_first_damaged_frame_is_named_and_every_other_frame_reads(tmp_path, damage):
    path = make(tmp_path, damage)
    with Recording(path) as rec:
        runs = rec.damage()
        assert [(a, b) for a, b, _ in runs] == [(run_of(damage.frame)[0], run_of(damage.frame)[-1])]
        assert damage.reason in runs[0][2]
        spoiled = run_of(damage.frame)
        for p in range(N):
            if p in spoiled:
                with pytest.raises(DamagedFrameError) as info:
                    rec.frame(p)
                assert info.value.position == damage.frame and damage.reason in str(info.value)
                assert str(info.value).startswith(f"{path}: ")
            else:
                assert rec.frame(p) == FRAMES[p], p
        for p in range(N - 1, -1, -1):  # backwards too (the decode cursor must not carry damage)
            if p not in spoiled:
                assert rec.frame(p) == FRAMES[p], p
        before, after = rec.readable(damage.frame, forward=False), rec.readable(damage.frame)
        assert before == (damage.frame - 1 if damage.frame else (spoiled[-1] + 1 if spoiled[-1] + 1 < N else None))
        assert after == (spoiled[-1] + 1 if spoiled[-1] + 1 < N else damage.frame - 1)


# --- replay --info, in process and as a process ---------------------------------------------------
@pytest.mark.parametrize("damage", CORPUS, ids=lambda d: d.name)
def test_replay_info_names_the_first_damaged_frame_and_fails(tmp_path, damage, capsys):
    path = make(tmp_path, damage)
    code = main(["replay", str(path), "--info"])
    out, err = capsys.readouterr()
    if damage.frame is None:
        assert code == 2 and err.startswith(f"tierconsole: error: {path}: ") and damage.reason in err
        return
    spoiled = run_of(damage.frame)
    assert code == 1
    assert f"{path}: {damage.reason}" in err and "Traceback" not in err
    frames = f"frame {spoiled[0] + 1}" if len(spoiled) == 1 else f"frames {spoiled[0] + 1}-{spoiled[-1] + 1}"
    assert f"damaged:   {frames} cannot be read: {damage.reason}" in out
    assert f"readable:  {N - len(spoiled)} of {N} frames" in out
    assert main(["replay", str(path), "--info", "--json"]) == 1
    info = json.loads(capsys.readouterr().out)
    assert [(d["first"], d["last"]) for d in info["damaged"]] == [(spoiled[0] + 1, spoiled[-1] + 1)]
    assert info["readable_frames"] == N - len(spoiled)


def test_replay_info_of_a_whole_recording_says_nothing_is_damaged(tmp_path, capsys):
    path = write_good(tmp_path / "good.tcrec")
    assert main(["replay", str(path), "--info"]) == 0
    out = capsys.readouterr().out
    assert "damaged" not in out and f"frames:    {N}" in out
    assert main(["replay", str(path), "--info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["damaged"] == [] and info["readable_frames"] == N


@pytest.mark.parametrize("name", ["keyframe-deep-json", "blob-is-text", "schema-not-a-mapping", "time-null",
                                  "delta-mapping-not-a-mapping", "keyframe-status-not-mapping"])
def test_replay_info_as_a_process_never_tracebacks(tmp_path, name):
    damage = next(d for d in CORPUS if d.name == name)
    path = make(tmp_path, damage)
    out = subprocess.run([*CLI, "replay", str(path), "--info"], capture_output=True, text=True, timeout=60)
    assert out.returncode in (1, 2) and "Traceback" not in out.stderr and damage.reason in out.stderr, out.stderr


def test_a_recording_with_no_readable_frame_is_an_error_not_a_screen(tmp_path, capsys):
    path = write_good(tmp_path / "one.tcrec", n=5, key_every=10)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE frames SET data = X'6b00' WHERE seq = 1")
    db.close()
    assert main(["replay", str(path), "--at", "end"]) == 1
    err = capsys.readouterr().err
    assert f"{path}: no frame can be read (damaged frame 1 (seq 1)" in err


@pytest.mark.parametrize("path_kind", ["fifo", "directory"])
def test_replay_of_something_that_is_not_a_file_never_blocks(tmp_path, path_kind, capsys):
    path = tmp_path / "thing.tcrec"
    os.mkfifo(path) if path_kind == "fifo" else path.mkdir()
    assert main(["replay", str(path), "--info"]) == 2
    assert f"{path}: " in capsys.readouterr().err


# --- the replay screen: --at, stepping, --play ------------------------------------------------------
def notifications(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


@pytest.mark.parametrize("damage", FRAME_DAMAGE, ids=lambda d: d.name)
async def test_replay_at_a_damaged_frame_shows_the_next_readable_one_and_says_why(tmp_path, damage):
    path = make(tmp_path, damage)
    spoiled = run_of(damage.frame)
    app = ReplayApp(Recording(path), at=FRAMES[damage.frame].time)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        shown = app.replay.position
        assert shown not in spoiled and app.dashboard.shown == FRAMES[shown]
        assert shown == (spoiled[-1] + 1 if spoiled[-1] + 1 < N else damage.frame - 1)
        assert any(damage.reason in n for n in notifications(app)), notifications(app)
        await pilot.press("q")
    assert app.return_code == 0


@pytest.mark.parametrize("damage", FRAME_DAMAGE, ids=lambda d: d.name)
def test_stepping_through_a_damaged_recording_steps_over_the_damage_both_ways(tmp_path, damage):
    path = make(tmp_path, damage)
    spoiled = set(run_of(damage.frame))
    src = ReplaySource(Recording(path))
    seen = [src.position]
    for _ in range(N + 2):
        seen.append(src.step(1))
    assert set(seen) == set(range(N)) - spoiled and seen == sorted(seen)
    back = [src.position]
    for _ in range(N + 2):
        back.append(src.step(-1))
    assert set(back) == set(range(N)) - spoiled and back == sorted(back, reverse=True)
    assert src.notices >= 2 and damage.reason in src.notice


@pytest.mark.parametrize("name", ["keyframe-flipped-byte", "delta-patch-adds-text", "first-frame", "last-frame"])
async def test_the_step_keys_step_over_the_damage_on_screen(tmp_path, name):
    damage = next(d for d in CORPUS if d.name == name)
    path = make(tmp_path, damage)
    spoiled = run_of(damage.frame)
    app = ReplayApp(Recording(path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.dashboard.action_step(max(0, damage.frame - 1) - app.replay.position)  # just before the damage
        seen = [app.replay.position]
        for key in ("full_stop", "full_stop", "comma", "comma"):
            await pilot.press(key)
            seen.append(app.replay.position)
            assert app.dashboard.shown == FRAMES[app.replay.position]
        assert not set(spoiled) & set(seen)
        if spoiled[-1] + 1 < N and damage.frame:
            assert seen[:3] == [damage.frame - 1, spoiled[-1] + 1, spoiled[-1] + 2]
            assert seen[3:] == [spoiled[-1] + 1, damage.frame - 1]
        assert any(damage.reason in n for n in notifications(app)), notifications(app)
        await pilot.press("q")
    assert app.return_code == 0


@pytest.mark.parametrize("name", ["keyframe-flipped-byte", "delta-bad-zlib", "last-frame", "first-frame"])
async def test_play_plays_around_the_damage_to_the_end(tmp_path, name):
    damage = next(d for d in CORPUS if d.name == name)
    path = make(tmp_path, damage)
    spoiled = set(run_of(damage.frame))
    app = ReplayApp(Recording(path), speed=64, play=True)  # 5 s frames at 64x: one every 78 ms
    async with app.run_test(size=(120, 40)) as pilot:
        seen = set()
        for _ in range(200):
            await pilot.pause(0.05)
            seen.add(app.replay.position)
            if not app.replay.playing:
                break
        assert not app.replay.playing and not spoiled & seen
        last = max(set(range(N)) - spoiled)
        assert app.replay.position == last and app.dashboard.shown == FRAMES[last]
        await pilot.press("q")
    assert app.return_code == 0


# --- replay --at as a process, in a terminal -----------------------------------------------------------
def _run_in_pty(argv: list[str], keys: bytes, wait_for: bytes, timeout: float = 60) -> tuple[int, bytes]:
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: the console in a 120x40 terminal
        os.environ.update(TERM="xterm-256color", COLUMNS="120", LINES="40")
        os.execv(argv[0], argv)
    out = b""
    deadline = time.monotonic() + timeout
    sent = False
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            if not sent and wait_for in out:
                time.sleep(0.5)
                os.write(fd, keys)
                sent = True
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(status), out


def test_replay_at_a_damaged_frame_as_a_process(tmp_path):
    damage = next(d for d in CORPUS if d.name == "keyframe-bad-zlib")
    path = make(tmp_path, damage)
    at = time.strftime("%H:%M:%S", time.gmtime(FRAMES[damage.frame].time))
    code, out = _run_in_pty([*CLI, "replay", str(path), "--at", at], b"q", wait_for=b"REPLAY")
    text = out.decode("utf-8", "replace")
    assert code == 0 and "Traceback" not in text
    assert f"{damage.reason} (seq {damage.frame + 1}): " in text  # said in the terminal after the screen


# --- the class: any damage to any frames ----------------------------------------------------------
def _damage_blob(blob: bytes, kind: str, rnd: random.Random, prev_json: bytes | None) -> bytes:
    if kind == "flip":
        b = bytearray(blob)
        b[rnd.randrange(1, len(b))] ^= 1 << rnd.randrange(8)
        return bytes(b)
    if kind == "garbage":
        return rnd.randbytes(rnd.randrange(0, 40))
    if kind == "truncate":
        return blob[: rnd.randrange(0, len(blob))]
    doc = rnd.choice([[], {}, {"time": "x"}, {"time": 1.0, "quotas": [[1]]}, {"quotas": [["c", 0, 99]]},
                      {"status": {"quota": [True, None]}}, {"throttle_rates": {"x": ["a"]}}, 7, None,
                      {"reservations": [["p", 0, 1, {}]]}, {"batch_jobs": [["n", "a"]]}])
    raw = json.dumps(doc).encode()
    if blob[:1] == b"k" or prev_json is None:
        return b"k" + zlib.compress(raw)
    c = zlib.compressobj(6, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, prev_json[-32768:])
    return b"d" + c.compress(raw) + c.flush()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, N - 1), st.sampled_from(["flip", "garbage", "truncate", "json"])),
                min_size=1, max_size=4, unique_by=lambda t: t[0]),
       st.randoms(use_true_random=False))
def test_any_damage_to_any_frames_is_named_and_read_around(changes, rnd):
    """Whatever frames are damaged, however: every frame reads or raises DamagedFrameError (nothing
    else); ``damage()`` lists exactly the frames that do not read; nothing before the first changed
    frame of a segment is reported; and replay steps through every readable frame, none other."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_good(Path(tmp) / "h.tcrec")
        with sqlite3.connect(path) as db:
            for position, kind in changes:
                blob = db.execute("SELECT data FROM frames WHERE seq = ?", (position + 1,)).fetchone()[0]
                db.execute("UPDATE frames SET data = ? WHERE seq = ?",
                           (_damage_blob(blob, kind, rnd, b"{}"), position + 1))
        db.close()
        changed = {p for p, _ in changes}
        with Recording(path) as rec:
            unreadable = set()
            for p in range(N):
                try:
                    data = rec.frame(p)
                except DamagedFrameError as e:
                    unreadable.add(p)
                    segment = p - p % KEY_EVERY
                    assert segment <= e.position <= p and any(segment <= c <= e.position for c in changed)
                else:
                    if not any(p - p % KEY_EVERY <= c <= p for c in changed):
                        assert data == FRAMES[p]
            runs = rec.damage()
            assert {p for a, b, _ in runs for p in range(a, b + 1)} == unreadable
            assert runs == sorted(runs) and all(b < c for (_, b, _), (c, _, _) in zip(runs, runs[1:]))
            if len(unreadable) == N:
                with pytest.raises(RecordingError, match="no frame can be read"):
                    ReplaySource(rec)
                return
            src = ReplaySource(rec)
            seen = [src.position]
            for _ in range(N):
                src.step(1)
                seen.append(src.position)
            assert set(seen) == set(range(min(seen), N)) - unreadable and seen == sorted(seen)


# --- the class: whatever figures a recording holds, the replay draws them ----------------------------
wild_numbers = st.one_of(st.sampled_from([float("nan"), float("inf"), float("-inf"), 0.0, -1.0, 1e300, -1e300,
                                          2.0 ** 63, 1e-300]),
                         st.floats(), st.integers(-2 ** 70, 2 ** 70))
wild_texts = st.one_of(st.sampled_from(["", "[bold]x[/]", "[/]", "\x1b[31mred", "\t\n\r", "x" * 300, "\u202e",
                                        "\U0001F600" * 5, "\x00"]), st.text(max_size=20))


def _wild(draw, value):
    """``value`` with every number and string in it (recursively, through dataclasses) maybe replaced."""
    import dataclasses as dc
    if dc.is_dataclass(value):
        changes = {f.name: _wild(draw, getattr(value, f.name)) for f in dc.fields(value) if f.init}
        return dc.replace(value, **changes)
    if type(value) is bool or value is None:
        return value
    if type(value) in (int, float):
        return draw(wild_numbers) if draw(st.booleans()) else value
    if type(value) is str:
        return draw(wild_texts) if draw(st.integers(0, 3)) == 0 else value
    if isinstance(value, tuple):
        return tuple(_wild(draw, v) for v in value)
    if isinstance(value, dict):
        return {k: _wild(draw, v) for k, v in value.items()}
    return value


@st.composite
def wild_frames(draw):
    frames = [FRAMES[i] for i in draw(st.lists(st.integers(0, N - 1), min_size=1, max_size=3))]
    out = []
    for f in frames:
        f = _wild(draw, f)
        out.append(f)
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # each example drives the screen: no shrinking
@given(wild_frames())
def test_any_recorded_figures_and_texts_draw_without_a_crash(frames):
    """Live figures are never NaN, infinite or years away, but a recording can hold anything of the
    right type: the replay draws every frame of it (a figure no bar or clock can show draws empty)."""
    import asyncio
    from tierconsole.recording.recorder import Recorder

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wild.tcrec"
        with Recorder(path, "wild", keyframe_every=2) as rec:
            for f in frames:
                rec.write(f)

        async def replay() -> ReplayApp:
            app = ReplayApp(Recording(path))
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause()
                for key in ("full_stop",) * len(frames) + ("2", "2", "3", "3", "4", "4", "comma"):
                    await pilot.press(key)
                await pilot.press("q")
            return app

        app = asyncio.run(replay())
        exc = getattr(app, "_exception", None)
        assert app.return_code == 0, "".join(traceback.format_exception(exc)[-6:]) if exc else None
