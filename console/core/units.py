"""Durations and sizes as operators type them (``30s``, ``10m``, ``1h30m``, ``500M``).

Phase 2 of issue 13 makes this the one duration parser: ``incident export --since`` still has its own
(:func:`parse_since`, where a bare number is minutes; here it is seconds).
"""
from __future__ import annotations

import math
import re

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h|d)?", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
DURATION_HELP = "e.g. 90, 30s, 10m, 2h, 1d or 1h30m"
_SIZE = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(i?b?)$", re.IGNORECASE)
SIZE_HELP = "e.g. 500M, 2G, 64MiB or a number of bytes"


def parse_duration(text: str) -> float:
    """Seconds in ``30s``, ``10m``, ``2h``, ``1d``, ``1h30m``, ``1.5h``, ``500ms`` or a bare number
    of seconds. :class:`ValueError` with a readable message otherwise."""
    s = text.strip().replace(" ", "")
    pos, total, parts = 0, 0.0, 0
    while pos < len(s):
        m = _DURATION.match(s, pos)
        if not m:
            break
        unit = m.group(2).lower() if m.group(2) else None
        if unit is None and (m.end() != len(s) or parts):  # a bare number only on its own
            break
        total += float(m.group(1)) * _DURATION_UNITS[unit]
        parts += 1
        pos = m.end()
    if not parts or pos != len(s):
        raise ValueError(f"not a duration: {text!r} ({DURATION_HELP})")
    if not math.isfinite(total):
        raise ValueError(f"not a finite duration: {text!r} ({DURATION_HELP})")
    return total


def parse_size(text: str) -> int:
    """Bytes in ``500M``, ``2G``, ``64MiB``, ``100k`` (powers of 1024) or a plain number."""
    m = _SIZE.match(text.strip())
    if not m:
        raise ValueError(f"not a size: {text!r} ({SIZE_HELP})")
    scale = 1024 ** " kmgt".index(m.group(2).lower() or " ")
    value = float(m.group(1)) * scale
    if not math.isfinite(value):
        raise ValueError(f"not a finite size: {text!r} ({SIZE_HELP})")
    return int(value)


def parse_since(text: str) -> float:
    """Seconds from '90s', '30m', '2h', '1d' (a bare number is minutes)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text or "")
    if not m:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 30m, 2h, 1d)")
    value = float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "": 60}[m.group(2)]
    if value <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    return value
