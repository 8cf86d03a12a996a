"""The option groups of the main parser that belong to a command: the live console's ``--record FILE``
(:data:`RECORD_GROUP`, the options of ``tierconsole record`` too) and the sandbox's ``--host``, ``--port``...
(:data:`SANDBOX_GROUP`, refused by the console with a reason). Kept apart from their commands' modules,
so that building the console's parser imports neither the recording format nor any command.
"""
from __future__ import annotations

import argparse
from typing import Callable

from ..core.units import DURATION_HELP, SIZE_HELP, parse_duration, parse_size
from ..recording.limits import DEFAULT_MAX_BYTES
from ..sandbox.choices import SCENARIOS, fault_kinds_text
from .argtypes import sandbox_speed
from .options import Group, Option


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


def size_at_least(minimum: int, shown: str) -> Callable[[str], int]:
    """argparse type: a size (``500M``, ``2G``, ``64k``) of at least ``minimum`` bytes (``shown``, as typed)."""

    def parse(text: str) -> int:
        try:
            value = parse_size(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {shown}, got {text!r} ({SIZE_HELP})")
        return value

    return parse


size_arg = size_at_least(1024 * 1024, "1M")  # a recording's --max-size


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


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, got {value}")
    return value


SANDBOX_GROUP = Group("sandbox", (
    Option(("--host",), "host", "127.0.0.1", dict(
        metavar="ADDRESS", help="address to bind (default: 127.0.0.1, loopback only)")),
    Option(("--port",), "port", 4599, dict(
        type=_port, metavar="PORT", help="port to bind (default: 4599; 0 picks a free one)")),
    Option(("--config",), "config", None, dict(
        metavar="FILE", help="profile YAML with a 'sandbox' section (default: built-in profiles/sandbox.yaml; "
                             "--profile NAME uses that console profile's file)")),
    Option(("--scenario",), "scenario", None, dict(
        metavar="NAME", help=f"background traffic: {', '.join(SCENARIOS)}, or a scenario YAML file (default: the "
                             "config's, else none)")),
    Option(("--speed",), "speed", 1.0, dict(
        type=sandbox_speed, metavar="FACTOR",
        help="run the sandbox clock FACTOR times faster (pacing, quota windows, waits, jobs)")),
    Option(("--access-log",), "access_log", None, dict(
        metavar="FILE", help="append one JSON line per request to FILE")),
    Option(("--auth",), "auth", None, dict(
        metavar="FILE",
        help="require SigV4-signed requests from the access keys in FILE (YAML: access_keys: {ID: SECRET})")),
    Option(("--faults",), "faults", None, dict(
        metavar="SPEC", help="inject faults, e.g. '503@0.3:bedrock,slow=15s@0.2:monitoring,down=10s/60s' "
                             f"(kinds: {fault_kinds_text()})")),
))
