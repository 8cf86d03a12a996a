"""Make a small recording of a sandbox scenario, for demos, screenshots and replay by hand.

Runs the headless ``tierconsole record`` command on the embedded sandbox with a scenario, its
clock sped up, one refresh per second of *sandbox* time, so that a couple of minutes of scenario
take a few seconds to record::

    python scripts/make_recording.py                          # spike.rec: 150 s of `spike` at 10x
    python scripts/make_recording.py outage.rec --scenario outage --seconds 300 --speed 20
    tierconsole replay spike.rec                              # then watch it (space plays)

The default (the spike's quiet start, its 90-second surge of throttles and the calm after it)
makes about 150 frames and well under 1 MB.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tierconsole.cli.main import build_parser  # noqa: E402
from tierconsole.cli.record import cmd_record  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", default="spike.rec", help="recording to write (default: spike.rec)")
    ap.add_argument("--scenario", default="spike", help="sandbox scenario (default: spike)")
    ap.add_argument("--seconds", type=float, default=150.0, help="seconds of scenario time to record (default 150)")
    ap.add_argument("--speed", type=float, default=10.0, help="sandbox clock speed (default 10)")
    ap.add_argument("--overwrite", action="store_true", help="replace OUT if it exists (default: append)")
    args = ap.parse_args(argv)

    out = Path(args.out)
    if args.overwrite:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{out}{suffix}").unlink(missing_ok=True)
    wall = args.seconds / args.speed
    record_args = build_parser().parse_args([
        "record", str(out), "--profile", "sandbox", "--scenario", args.scenario, "--speed", str(args.speed),
        "--duration", f"{wall}s", "--interval", str(1.0 / args.speed),
    ])
    return cmd_record(record_args)


if __name__ == "__main__":
    sys.exit(main())
