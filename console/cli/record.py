"""``tierconsole record FILE [--duration D]`` (record with no UI): the subcommand's parser
(:func:`add_record_parser`) and its run (:func:`cmd_record`); the live console's ``--record FILE`` options are
:data:`tierconsole.cli.groups.RECORD_GROUP`. Only the standard library is imported here: the heavy modules load inside the command.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from ..core.units import DURATION_HELP
from ..recording.format import DEFAULT_MAX_BYTES, RecordingError
from .argtypes import positive_float as _positive_float
from .argtypes import sandbox_speed
from .common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, err
from .groups import _MAX_SIZE_HELP, duration_arg, size_arg


def add_record_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The ``record`` subcommand (the shared --profile/--endpoint-url/--region/--read-only are added to
    every subcommand by ``cli.build_parser``)."""
    p = subparsers.add_parser(
        "record", help="record the dashboard's data to a file, with no UI",
        description="Poll the profile at its refresh cadence and record every refresh to FILE, with no UI, "
                    "until --duration has passed (wall-clock time) or Ctrl-C / SIGTERM. The file is valid at any "
                    "moment, even after a kill. An existing FILE is refused unless --append is given. Exit 1 when no "
                    "pane could be read in any refresh (every pane stale: nothing worth replaying was recorded). "
                    "Replay it with `tierconsole replay FILE`.")
    p.add_argument("file", metavar="FILE", help="recording file to create (see --append)")
    p.add_argument("--append", action="store_true",
                   help="add to FILE when it already holds a recording (without it an existing FILE is refused)")
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


def polling_source(args: argparse.Namespace) -> Any:
    """The live source of a command that polls with no UI (``record``, ``watch``): the profile's, or with
    --scenario or --speed an embedded sandbox of its own (not the background one, whatever it runs); with
    --interval its refresh cadence. Raises ConfigError."""
    from dataclasses import replace  # noqa: PLC0415

    from ..core.source import LiveSource  # noqa: PLC0415

    kwargs: dict[str, Any] = {"speed": args.speed}
    if args.scenario:
        kwargs["scenario"] = args.scenario
    if args.scenario or args.speed != 1:
        kwargs["sandbox"] = "embedded"
    source = LiveSource.from_args(args, **kwargs)
    if args.interval:
        source.profile = replace(source.profile, refresh_seconds=args.interval)
    return source


def cmd_record(args: argparse.Namespace) -> int:
    """``tierconsole record FILE``: record with no UI. Exit 0 when the duration ends or on Ctrl-C."""
    from ..core.domain.catalog import ConfigError  # noqa: PLC0415
    from ..recording.capture import record_loop  # noqa: PLC0415
    from ..recording.reader import Recording  # noqa: PLC0415
    from ..recording.recorder import Recorder  # noqa: PLC0415

    try:
        source = polling_source(args)
    except ConfigError as e:
        err(str(e))
        return EXIT_USAGE
    from ..core.files import output_path_problem  # noqa: PLC0415

    exists = Path(args.file).is_file()
    problem = None if exists else output_path_problem(args.file)
    if exists and not args.append:
        problem = "already exists; pass --append to add to this recording, or give a new file"
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
        print(f"{args.file}: {frames(recorder.frames_written)} recorded{why}{span}; "
              f"{info['frames']:,} in the file, {info['bytes'] / 1e6:.2f} MB")
    if recorder.frames_written and not recorder.frames_with_data:
        err(f"{args.file}: no pane could be read in any of the {frames(recorder.frames_written)} (every pane "
            f"stale: check the profile {p.name!r}, its AWS credentials and endpoint); nothing worth replaying "
            "was recorded")
        return EXIT_FAIL
    return EXIT_OK


def frames(n: int) -> str:
    """``1 frame``, ``2 frames``."""
    return f"{n:,} frame" if n == 1 else f"{n:,} frames"
