"""``tierconsole replay FILE``: the console on a recording, or ``--info``: what it holds (no UI)."""
from __future__ import annotations

import argparse
import json
from typing import Any

from ..recording.format import RecordingError
from .argtypes import positive_float as _positive_float
from .common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, err


def _speed_arg(text: str) -> float:
    value = _positive_float(text)
    if not 0.25 <= value <= 64:
        raise argparse.ArgumentTypeError(f"must be from 0.25 to 64, got {text}")
    return value


def add_replay_parser(subparsers: Any) -> argparse.ArgumentParser:
    """The ``replay`` subcommand (the colour theme is the shared ``--theme``, checked by the parser)."""
    p = subparsers.add_parser(
        "replay", help="replay a recording in the console",
        description="Show a recording made with --record or `tierconsole record` in the console, frame by frame. "
                    "Keys: space play/pause, . and , step, + and - speed (0.25x-64x), g jump to a time.")
    p.add_argument("file", metavar="FILE", help="the recording")
    p.add_argument("--at", metavar="TIME",
                   help="start at TIME: HH:MM:SS (UTC), +10m (from the start), -5m (from the end; --at -5m or "
                        "--at=-5m), end, or ISO")
    p.add_argument("--speed", type=_speed_arg, default=1.0, metavar="X", help="playback speed, 0.25 to 64 (default 1)")
    p.add_argument("--play", action="store_true", help="start playing at once")
    p.add_argument("--info", action="store_true", help="print what the recording holds and exit (no UI)")
    p.add_argument("--json", action="store_true", help="with --info: print JSON")
    return p


def join_negative_at(argv: list[str]) -> list[str]:
    """``--at -5m`` as ``--help`` documents it: argparse takes ``-5m`` for an option (it only knows plain
    negative numbers), so a value of ``--at`` that starts with ``-`` and a digit is joined to it
    (``--at=-5m``) before parsing. Nothing else is touched (``--`` ends the options)."""
    import re  # noqa: PLC0415

    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return out + argv[i:]
        if arg == "--at" and i + 1 < len(argv) and re.match(r"-\d", argv[i + 1]):
            out.append(f"--at={argv[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def _start_time(text: str, start: float, end: float) -> float:
    """``--at``: like the jump prompt, with ``+D`` counted from the start and ``-D`` from the end."""
    from ..recording.replay import parse_jump  # noqa: PLC0415

    text = text.strip()
    if text[:1] == "+":
        return parse_jump(text, current=start, start=start, end=end)
    if text[:1] == "-":
        return parse_jump(text, current=end, start=start, end=end)
    return parse_jump(text, current=start, start=start, end=end)


def cmd_replay(args: argparse.Namespace) -> int:
    """``tierconsole replay FILE``: the console on a recording (or ``--info``: a summary). A damaged
    frame is named and played or jumped around; ``--info`` on a damaged recording exits 1."""
    from ..recording.reader import Recording  # noqa: PLC0415

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
            more = f" (and {len(runs) - 1} more damaged {'run' if len(runs) == 2 else 'runs'} of frames)" if len(runs) > 1 else ""
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
    from ..core.domain.catalog import ConfigError  # noqa: PLC0415
    from ..tui.keymap import load_keymap  # noqa: PLC0415
    from ..tui.replay import ReplayApp  # noqa: PLC0415

    try:
        keymap = load_keymap()
    except ConfigError as e:
        err(str(e))
        return EXIT_USAGE
    app = ReplayApp(recording, theme=getattr(args, "theme", None), at=at, speed=args.speed, play=args.play,
                    keymap=keymap)
    if app.replay.notice:  # also said on screen; this stays in the terminal after the replay
        err(f"{app.replay.notice}")
    app.run()
    if app.return_code:  # the app ended on an error (Textual has shown it): never exit 0 then
        return EXIT_FAIL
    return EXIT_OK


def _print_info(info: dict) -> None:
    from ..recording.format import stamp  # noqa: PLC0415

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
