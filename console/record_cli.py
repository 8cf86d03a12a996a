"""Command-line glue for recording and replay: ``tierconsole --record FILE``, ``tierconsole record
FILE [--duration D]`` (no UI) and ``tierconsole replay FILE``.

:data:`RECORD_GROUP`, :func:`add_record_parser` and :func:`add_replay_parser` are the options
and subcommands to ``tierconsole``'s parser; :func:`cmd_record` and :func:`cmd_replay` run the
subcommands; :func:`recording_source` wraps the live console's source when ``--record`` is given.
Only the standard library is imported here: the heavy modules load inside the commands.
"""
from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable

from .argtypes import positive_float as _positive_float
from .argtypes import sandbox_speed
from .options import Group, Option
from .recording import DEFAULT_MAX_BYTES, DURATION_HELP, SIZE_HELP, RecordingError, parse_duration, parse_size

log = logging.getLogger("tierconsole.recording")

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
MAX_BACKOFF_S = 30.0  # as the live console: a failing account is polled less and less often


def err(message: str) -> None:
    print(f"tierconsole: error: {message}", file=sys.stderr)


# --------------------------------------------------------------------------------------- arguments
def duration_arg(text: str) -> float:
    """argparse type: a positive duration (``30s``, ``10m``, ``2h``, ``1h30m``)."""
    try:
        value = parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be longer than 0, got {text!r} ({DURATION_HELP})")
    return value


def size_arg(text: str) -> int:
    """argparse type: a size of at least 1 MiB (``500M``, ``2G``)."""
    try:
        value = parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if value < 1024 * 1024:
        raise argparse.ArgumentTypeError(f"must be at least 1M, got {text!r} ({SIZE_HELP})")
    return value


def _speed_arg(text: str) -> float:
    value = _positive_float(text)
    if not 0.25 <= value <= 64:
        raise argparse.ArgumentTypeError(f"must be from 0.25 to 64, got {text}")
    return value


_MAX_SIZE_HELP = (f"keep the file under SIZE by dropping the oldest minutes ({SIZE_HELP}; "
                  f"default {DEFAULT_MAX_BYTES // 2**20}M, about a week of a busy dashboard at 1 s)")


#: ``--record FILE`` and ``--record-max-size SIZE``: options of the live console (the main parser) only.
RECORD_GROUP = Group("record", (
    Option(("--record",), "record", None, dict(
        metavar="FILE", help="record every refresh to FILE while the console runs (compressed SQLite; an existing "
                             "recording is appended to); watch it later with `tierconsole replay FILE`")),
    Option(("--record-max-size",), "record_max_size", DEFAULT_MAX_BYTES, dict(
        type=size_arg, metavar="SIZE", help=_MAX_SIZE_HELP)),
))


def add_record_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The ``record`` subcommand (the shared --profile/--endpoint-url/--region/--read-only are added to
    every subcommand by ``cli.build_parser``)."""
    p = subparsers.add_parser(
        "record", help="record the dashboard's data to a file, with no UI",
        description="Poll the profile at its refresh cadence and record every refresh to FILE, with no UI, "
                    "until --duration has passed (wall-clock time) or Ctrl-C / SIGTERM. The file is valid at any "
                    "moment, even after a kill; an existing recording is appended to. "
                    "Replay it with `tierconsole replay FILE`.")
    p.add_argument("file", metavar="FILE", help="recording file to create or append to")
    p.add_argument("--duration", type=duration_arg, metavar="D",
                   help=f"stop after D ({DURATION_HELP}); default: until Ctrl-C")
    p.add_argument("--max-size", type=size_arg, default=DEFAULT_MAX_BYTES, metavar="SIZE", help=_MAX_SIZE_HELP)
    p.add_argument("--interval", type=_positive_float, metavar="SECONDS",
                   help="seconds between refreshes (default: the profile's refresh_seconds)")
    p.add_argument("--scenario", metavar="NAME",
                   help="embedded sandbox only: background traffic (none, steady, spike, flex-backlog, "
                        "reserved-overflow, outage or a scenario YAML file)")
    p.add_argument("--speed", type=sandbox_speed, default=1.0, metavar="FACTOR",
                   help="embedded sandbox only: run its clock FACTOR times faster (its timeline, and so the "
                        "recording's, then covers FACTOR × D)")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    return p


def add_replay_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The ``replay`` subcommand (the colour theme is the shared ``--theme``, checked by the parser)."""
    p = subparsers.add_parser(
        "replay", help="replay a recording in the console",
        description="Show a recording made with --record or `tierconsole record` in the console, frame by frame. "
                    "Keys: space play/pause, . and , step, + and - speed (0.25x-64x), g jump to a time.")
    p.add_argument("file", metavar="FILE", help="the recording")
    p.add_argument("--at", metavar="TIME",
                   help="start at TIME: HH:MM:SS (UTC), +10m (from the start), -5m (from the end), end, or ISO")
    p.add_argument("--speed", type=_speed_arg, default=1.0, metavar="X", help="playback speed, 0.25 to 64 (default 1)")
    p.add_argument("--play", action="store_true", help="start playing at once")
    p.add_argument("--info", action="store_true", help="print what the recording holds and exit (no UI)")
    p.add_argument("--json", action="store_true", help="with --info: print JSON")
    return p


# --------------------------------------------------------------------------------------- --record
class RecordingSource:
    """A live source that records every refresh it returns. Everything else is the wrapped source's.

    A recording that fails (disk full, file removed) is logged and stopped; the console goes on.
    On a profile switch the new profile's source records to the same file.
    """

    def __init__(self, inner: Any, path: str | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 recorder: Any = None) -> None:
        from .recording import Recorder  # noqa: PLC0415

        self.inner = inner
        self.recorder = recorder if recorder is not None else Recorder(path, inner.profile, max_bytes=max_bytes)
        self.error: str | None = None
        self._owner = True
        atexit.register(self.recorder.close)  # however the console ends, the last seconds are kept

    def __getattr__(self, name: str) -> Any:  # profile, refresh_seconds, ctx, collector, sandbox_thread…
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def start(self) -> None:
        self.inner.start()

    async def refresh(self):
        data = await self.inner.refresh()
        if self._owner and not self.recorder.closed:
            try:
                self.recorder.write(data)
            except RecordingError as e:
                self.error = str(e)
                log.error("recording stopped: %s", e)
                self.recorder.close()
        return data

    def for_profile(self, profile: Any) -> "RecordingSource":
        """The source of another profile, recording on to the same file (this one stops writing)."""
        self._owner = False
        return RecordingSource(self.inner.for_profile(profile), recorder=self.recorder)

    async def close(self) -> None:
        if self._owner:
            self.recorder.close()
        await self.inner.close()


def recording_source(source: Any, args: argparse.Namespace) -> Any:
    """``source`` wrapped to record when ``--record FILE`` was given, else ``source`` itself.
    Raises :class:`~tierconsole.recording.RecordingError` when FILE cannot be recorded to."""
    path = getattr(args, "record", None)
    if not path:
        return source
    return RecordingSource(source, path, max_bytes=getattr(args, "record_max_size", DEFAULT_MAX_BYTES))


# --------------------------------------------------------------------------------------- record
async def record_loop(source: Any, recorder: Any, *, duration: float | None = None,
                      stop: asyncio.Event | None = None, clock: Callable[[], float] = time.monotonic,
                      progress: Callable[[str], None] | None = None) -> str:
    """Start ``source``, then write one refresh every ``source.refresh_seconds`` until ``duration``
    (wall seconds) has passed or ``stop`` is set (SIGINT/SIGTERM set it). Closes both. Returns why
    it stopped: ``"duration"`` or ``"signal"``."""
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            pass
    reason = "signal"
    failures = 0
    try:
        await asyncio.to_thread(source.start)
        started = clock()
        while not stop.is_set():
            began = clock()
            refresh = asyncio.ensure_future(source.refresh())
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({refresh, stopped}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if not refresh.done():
                refresh.cancel()
                await asyncio.gather(refresh, return_exceptions=True)
                break
            data = refresh.result()
            recorder.write(data)
            failures = failures + 1 if any(not st.ok for st in data.status.values()) else 0
            if progress is not None and recorder.frames_written % 60 == 1:
                progress(f"{recorder.frames_written:,} frames")
            if duration is not None and clock() - started >= duration:
                reason = "duration"
                break
            delay = min(source.refresh_seconds * 2 ** min(failures, 5), MAX_BACKOFF_S)
            wait = began + delay - clock()
            if duration is not None:
                wait = min(wait, started + duration - clock())
            if wait > 0:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=wait)
                except asyncio.TimeoutError:
                    pass
            if duration is not None and clock() - started >= duration:
                reason = "duration"
                break
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        recorder.close()
        await source.close()
    return reason


def cmd_record(args: argparse.Namespace) -> int:
    """``tierconsole record FILE``: record with no UI. Exit 0 when the duration ends or on Ctrl-C."""
    from dataclasses import replace  # noqa: PLC0415

    from .core.domain.catalog import ConfigError  # noqa: PLC0415
    from .core.source import LiveSource  # noqa: PLC0415
    from .recording import Recorder, Recording  # noqa: PLC0415

    kwargs: dict[str, Any] = {"speed": args.speed}
    if args.scenario:
        kwargs["scenario"] = args.scenario
    if args.scenario or args.speed != 1:  # a sandbox of its own: not the background one, whatever it runs
        kwargs["sandbox"] = "embedded"
    try:
        source = LiveSource.from_args(args, **kwargs)
    except ConfigError as e:
        err(str(e))
        return EXIT_USAGE
    if args.interval:
        source.profile = replace(source.profile, refresh_seconds=args.interval)
    from .core.files import output_path_problem  # noqa: PLC0415

    problem = None if Path(args.file).is_file() else output_path_problem(args.file)
    if problem:
        err(f"{args.file}: {problem}")
        return EXIT_USAGE
    try:
        recorder = Recorder(args.file, source.profile, max_bytes=args.max_size)
    except RecordingError as e:
        err(str(e))
        return EXIT_FAIL
    say = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr, flush=True))
    p = source.profile
    until = f"for {args.duration:g} s" if args.duration else "until Ctrl-C"
    say(f"recording profile {p.name} ({p.region}) every {p.refresh_seconds:g} s to {args.file} {until}")
    try:
        reason = asyncio.run(record_loop(source, recorder, duration=args.duration))
    except KeyboardInterrupt:  # a second Ctrl-C, or one before the loop ran: the file is still valid
        recorder.close()
        reason = "signal"
    except RecordingError as e:
        err(str(e))
        return EXIT_FAIL
    if not args.quiet:
        try:
            with Recording(args.file) as rec:
                info = rec.info()
        except RecordingError as e:
            err(str(e))
            return EXIT_FAIL
        span = f", {info['seconds']:.0f} s of data" if info["frames"] else ""
        why = "" if reason == "duration" else " (stopped)"
        print(f"{args.file}: {recorder.frames_written:,} frames recorded{why}{span}; "
              f"{info['frames']:,} in the file, {info['bytes'] / 1e6:.2f} MB")
    return EXIT_OK


# --------------------------------------------------------------------------------------- replay
def _start_time(text: str, start: float, end: float) -> float:
    """``--at``: like the jump prompt, with ``+D`` counted from the start and ``-D`` from the end."""
    from .replay import parse_jump  # noqa: PLC0415

    text = text.strip()
    if text[:1] == "+":
        return parse_jump(text, current=start, start=start, end=end)
    if text[:1] == "-":
        return parse_jump(text, current=end, start=start, end=end)
    return parse_jump(text, current=start, start=start, end=end)


def cmd_replay(args: argparse.Namespace) -> int:
    """``tierconsole replay FILE``: the console on a recording (or ``--info``: a summary). A damaged
    frame is named and played or jumped around; ``--info`` on a damaged recording exits 1."""
    from .recording import Recording  # noqa: PLC0415

    try:
        recording = Recording(args.file)
    except RecordingError as e:
        err(str(e))
        return EXIT_USAGE
    try:
        return _replay(recording, args)
    except RecordingError as e:  # no frame of the file can be read
        err(str(e))
        return EXIT_FAIL
    finally:
        recording.close()


def _replay(recording, args: argparse.Namespace) -> int:
    if args.info:
        info = recording.info()
        runs = recording.damage()
        info["damaged"] = [{"first": a + 1, "last": b + 1, "frames": b - a + 1, "reason": m} for a, b, m in runs]
        info["readable_frames"] = info["frames"] - sum(b - a + 1 for a, b, _ in runs)
        if args.json:
            print(json.dumps(info, indent=2))
        else:
            _print_info(info)
        if runs:
            more = f" (and {len(runs) - 1} more damaged run(s) of frames)" if len(runs) > 1 else ""
            err(f"{recording.path}: {runs[0][2]}{more}")
        return EXIT_FAIL if runs else EXIT_OK
    if not len(recording):
        err(f"{args.file}: the recording has no frames")
        return EXIT_USAGE
    at = None
    if args.at:
        try:
            at = _start_time(args.at, recording.start, recording.end)
        except ValueError as e:
            err(f"--at: {e}")
            return EXIT_USAGE
    from .replay import ReplayApp  # noqa: PLC0415

    app = ReplayApp(recording, theme=getattr(args, "theme", None), at=at, speed=args.speed, play=args.play)
    if app.replay.notice:  # also said on screen; this stays in the terminal after the replay
        err(f"{app.replay.notice}")
    app.run()
    if app.return_code:  # the app ended on an error (Textual has shown it): never exit 0 then
        return EXIT_FAIL
    return EXIT_OK


def _print_info(info: dict) -> None:
    from .recording import stamp  # noqa: PLC0415

    print(f"file:      {info['path']} ({info['bytes'] / 1e6:.2f} MB)")
    print(f"profile:   {info.get('profile') or '?'} ({info.get('region') or '?'})"
          f"{' sandbox' if info.get('is_sandbox') else ''}")
    print(f"frames:    {info['frames']:,} ({info['keyframes']:,} keyframes)")
    if info["frames"]:
        print(f"from:      {stamp(info['start'])} UTC")
        print(f"to:        {stamp(info['end'])} UTC ({info['seconds']:.0f} s)")
    if info.get("dropped_frames"):
        print(f"dropped:   {info['dropped_frames']:,} oldest frames to stay under "
              f"{(info.get('max_bytes') or 0) / 2**20:.0f} MiB")
    for run in info.get("damaged", ()):
        frames = f"frame {run['first']:,}" if run["frames"] == 1 else f"frames {run['first']:,}-{run['last']:,}"
        print(f"damaged:   {frames} cannot be read: {run['reason']}")
    if info.get("damaged"):
        print(f"readable:  {info['readable_frames']:,} of {info['frames']:,} frames")
