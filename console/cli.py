"""Command line: the console (TUI) by default, headless subcommands beside it.

Heavy modules (textual, aiohttp, botocore, moto, pandas) are imported inside the commands that
need them, so ``--help`` and ``--version`` answer at once.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from . import __version__

EXIT_USAGE = 2


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tierconsole",
        description="Terminal operations console for Amazon Bedrock service tiers "
                    "(Reserved, Priority, Standard, Flex, Batch). With no command it opens the live "
                    "console; with no profile configured it runs on the embedded sandbox.",
    )
    parser.add_argument("--version", action="version", version=f"tierconsole {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sb = sub.add_parser(
        "sandbox",
        help="run the embedded Bedrock sandbox in the foreground",
        description="Run the embedded Bedrock sandbox: one loopback endpoint speaking bedrock-runtime, "
                    "bedrock, S3, STS, CloudWatch and Service Quotas with tier semantics. "
                    "Aim any AWS client at it with AWS_ENDPOINT_URL.",
    )
    sb.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)")
    sb.add_argument("--port", type=_port, default=4599, help="port to bind (default: 4599; 0 picks a free one)")
    sb.add_argument("--config", metavar="FILE", help="profile YAML with a 'sandbox' section (default: built-in profiles/sandbox.yaml)")
    sb.add_argument("--scenario", metavar="NAME", default=None,
                    help="background traffic: none, steady, spike, flex-backlog, reserved-overflow, outage, "
                         "or a scenario YAML file (default: the config's, else none)")
    sb.add_argument("--speed", type=_positive_float, default=1.0, metavar="FACTOR",
                    help="run the sandbox clock FACTOR times faster (pacing, quota windows, waits, jobs)")
    sb.add_argument("--access-log", metavar="FILE", help="append one JSON line per request to FILE")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "sandbox":
        from .sandbox.serve import serve  # noqa: PLC0415

        return serve(args)
    from .tui import run_tui  # noqa: PLC0415

    return run_tui(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
