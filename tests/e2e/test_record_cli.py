"""`tierconsole --record`, `tierconsole record` and `tierconsole replay`: arguments, the headless
recorder on a real sandbox, Ctrl-C, the recording source inside the live console, and no credentials."""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import pytest

from tierconsole.core.domain.sample import SAMPLE_NOW, sample_dashboard
from tierconsole.recording.capture import RecordingSource, record_loop, recording_source
from tierconsole.cli.record import cmd_record
from tierconsole.cli.replay import cmd_replay
from tierconsole.recording.format import DEFAULT_MAX_BYTES, RecordingError
from tierconsole.recording.recorder import Recorder
from tierconsole.recording.reader import Recording
from tierconsole.core.units import parse_duration, parse_size

ROOT = Path(__file__).resolve().parents[2]


def parser() -> argparse.ArgumentParser:
    """The real parser: --record on the main parser, record and replay subcommands, the shared options."""
    from tierconsole.cli.main import build_parser

    return build_parser()


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("TIERCONSOLE_PROFILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- arguments --------------------------------------------------------------------------------
@pytest.mark.parametrize("text, seconds", [("90", 90), ("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400),
                                           ("1h30m", 5400), ("1.5h", 5400), ("500ms", 0.5), (" 2m 30s ", 150)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text, size", [("500M", 500 << 20), ("2G", 2 << 30), ("64MiB", 64 << 20),
                                        ("100k", 100 << 10), ("1048576", 1 << 20)])
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("argv, message", [
    (["record", "f.rec", "--duration", "soon"], "not a duration: 'soon'"),
    (["record", "f.rec", "--duration", "1h30"], "not a duration: '1h30'"),
    (["record", "f.rec", "--duration", "0s"], "must be longer than 0"),
    (["record", "f.rec", "--max-size", "lots"], "not a size: 'lots'"),
    (["record", "f.rec", "--max-size", "10k"], "must be at least 1M"),
    (["replay", "f.rec", "--speed", "100"], "must be from 0.25 to 64"),
    (["--record-max-size", "x", "replay", "f.rec"], "not a size"),
])
def test_bad_arguments_say_what_is_wrong(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        parser().parse_args(argv)
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_arguments_and_defaults():
    args = parser().parse_args(["--record", "live.rec"])
    assert (args.record, args.record_max_size) == ("live.rec", DEFAULT_MAX_BYTES)
    args = parser().parse_args(["replay", "x.rec", "--at", "+5m", "--play"])
    assert (args.at, args.play, args.speed) == ("+5m", True, 1.0)
    args = parser().parse_args(["record", "r.rec", "--duration", "2h", "--profile", "prod", "--interval", "5"])
    assert (args.duration, args.profile, args.interval, args.max_size) == (7200, "prod", 5.0, DEFAULT_MAX_BYTES)
    assert recording_source("SOURCE", parser().parse_args([])) == "SOURCE"  # no --record: unchanged


# --- record on a real sandbox -----------------------------------------------------------------
SECRETS = {"AWS_ACCESS_KEY_ID": "AKIARECORDINGTEST0001", "AWS_SECRET_ACCESS_KEY": "rec/Secret+Key/do-not-leak-0001",
           "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEND-recording-token"}


def decoded_frames(path: Path) -> list[bytes]:
    """Every frame's JSON, decompressed (a scan of the raw file cannot see inside zlib)."""
    out, prev = [], None
    with sqlite3.connect(path) as db:
        for (blob,) in db.execute("SELECT data FROM frames ORDER BY seq"):
            if blob[:1] == b"k":
                prev = zlib.decompress(blob[1:])
            else:
                d = zlib.decompressobj(15, prev[-32768:])
                prev = d.decompress(blob[1:]) + d.flush()
            out.append(prev)
    return out


def test_record_command_on_the_sandbox_records_no_credentials(isolated, monkeypatch, capsys):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    path = isolated / "spike.rec"
    args = parser().parse_args(["record", str(path), "--profile", "sandbox", "--scenario", "spike", "--speed", "10",
                                "--interval", "0.2", "--duration", "3s"])
    started = time.monotonic()
    assert cmd_record(args) == 0
    assert time.monotonic() - started < 30
    out = capsys.readouterr().out
    assert f"{path}: " in out and "frames recorded" in out
    assert sorted(p.name for p in isolated.iterdir() if p.name.startswith("spike")) == ["spike.rec"]  # no -wal
    with Recording(path) as rec:
        assert len(rec) >= 2  # ~15 at 0.2 s on an idle machine; a loaded CI machine once managed only 3
        frames = list(rec)
        assert all(d.profile == "sandbox" and d.is_sandbox and d.region == "us-east-1" for d in frames)
        assert any(q.tpm_used > 0 for q in frames[-1].quotas)
        assert rec.meta["profile"] == "sandbox" and rec.meta["is_sandbox"] is True
    everything = path.read_bytes() + b"".join(decoded_frames(path))
    secrets = [v for k, v in os.environ.items()  # credentials, not the region or config paths
               if k.startswith("AWS_") and any(w in k for w in ("KEY", "SECRET", "TOKEN", "CREDENTIAL"))
               and len(v) >= 8]
    assert set(SECRETS.values()) <= set(secrets)
    for value in secrets:
        assert value.encode() not in everything, f"an AWS_* value was recorded: {value[:4]}…"


def test_record_command_stops_cleanly_on_ctrl_c(isolated):
    path = isolated / "int.rec"
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from tests.e2e.test_record_cli import parser
        from tierconsole.cli.record import cmd_record
        sys.exit(cmd_record(parser().parse_args(sys.argv[1:])))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script, "record", str(path), "--profile", "sandbox",
                             "--interval", "0.2", "--scenario", "none"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=isolated)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.3)
            try:
                with Recording(path) as rec:
                    if len(rec) >= 3:
                        break
            except RecordingError:
                pass
        proc.send_signal(signal.SIGINT)
        out, errors = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, errors
    assert "stopped" in out
    assert not Path(f"{path}-wal").exists()
    with Recording(path) as rec:
        assert len(rec) >= 3 and len(list(rec)) == len(rec)


def test_record_command_errors(isolated, capsys):
    args = parser().parse_args(["record", "x.rec", "--profile", "no-such-profile", "--duration", "1s"])
    assert cmd_record(args) == 2
    assert "no profile named 'no-such-profile'" in capsys.readouterr().err
    foreign = isolated / "notes.txt"
    foreign.write_text("my notes\n")
    args = parser().parse_args(["record", str(foreign), "--profile", "sandbox", "--duration", "1s"])
    assert cmd_record(args) == 2  # an existing file is refused without --append
    assert f"{foreign}: already exists" in capsys.readouterr().err
    args = parser().parse_args(["record", str(foreign), "--profile", "sandbox", "--duration", "1s", "--append"])
    assert cmd_record(args) == 1
    assert f"{foreign}: not a tierconsole recording" in capsys.readouterr().err
    assert foreign.read_text() == "my notes\n"


async def test_record_loop_stops_when_told(tmp_path):
    class Source:
        refresh_seconds = 0.01
        profile = None

        def __init__(self):
            self.n, self.closed = 0, False

        def start(self):
            pass

        async def refresh(self):
            self.n += 1
            if self.n == 5:
                stop.set()
            return dataclasses.replace(sample_dashboard(), time=SAMPLE_NOW + self.n)

        async def close(self):
            self.closed = True

    stop = asyncio.Event()
    source, recorder = Source(), Recorder(tmp_path / "l.rec")
    assert await record_loop(source, recorder, stop=stop) == "signal"
    assert source.closed and recorder.closed
    with Recording(tmp_path / "l.rec") as rec:
        assert len(rec) == 5


# --- replay command ---------------------------------------------------------------------------
def test_replay_info_and_errors(tmp_path, capsys):
    path = tmp_path / "r.rec"
    with Recorder(path, "prod-ops") as rec:
        for i in range(10):
            rec.write(dataclasses.replace(sample_dashboard(), time=SAMPLE_NOW + i))
    assert cmd_replay(parser().parse_args(["replay", str(path), "--info"])) == 0
    out = capsys.readouterr().out
    assert "frames:    10" in out and "2026-03-02 14:30:00 UTC" in out and "prod-ops" in out
    assert cmd_replay(parser().parse_args(["replay", str(path), "--info", "--json"])) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["frames"] == 10 and info["seconds"] == 9
    bad = tmp_path / "bad.rec"
    bad.write_text("not a recording")
    assert cmd_replay(parser().parse_args(["replay", str(bad)])) == 2
    assert f"{bad}: not a tierconsole recording" in capsys.readouterr().err
    assert cmd_replay(parser().parse_args(["replay", str(path), "--at", "tea time"])) == 2
    assert "--at: not a time" in capsys.readouterr().err


# --- --record in the live console -------------------------------------------------------------
async def test_recording_source_records_what_the_console_shows(isolated):
    from tierconsole.tui.app import TierConsoleApp
    from tierconsole.core.source import LiveSource
    from tierconsole.core.config.profiles import load_profile
    from tests.functional.test_live_pilot import wait_for

    path = isolated / "live.rec"
    profile = dataclasses.replace(load_profile("sandbox"), refresh_seconds=0.25)
    args = parser().parse_args(["--record", str(path)])
    source = recording_source(LiveSource(profile, scenario="steady", speed=5.0), args)
    assert isinstance(source, RecordingSource)
    app = TierConsoleApp(source=source)
    async with app.run_test(size=(120, 40)) as pilot:
        assert await wait_for(pilot, lambda: app.polls >= 4, timeout=60)
        shown = app.dashboard.shown
        await app.close_source()
    assert source.recorder.closed and source.error is None
    with Recording(path) as rec:
        frames = list(rec)
    assert len(frames) >= 4 and shown in frames


async def test_a_failing_recording_stops_but_the_console_goes_on(tmp_path):
    class Inner:
        profile = "p"
        refresh_seconds = 1.0

        async def refresh(self):
            return sample_dashboard()

        async def close(self):
            pass

    source = RecordingSource(Inner(), tmp_path / "r.rec")
    assert await source.refresh() == sample_dashboard()
    source.recorder._conn.close()  # the file goes away under the recorder
    assert await source.refresh() == sample_dashboard()
    assert source.error is not None and source.recorder.closed
    assert source.refresh_seconds == 1.0  # everything else is the wrapped source's
    await source.close()
