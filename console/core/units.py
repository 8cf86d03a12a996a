"""Durations and sizes as operators type them (``30s``, ``10m``, ``1h30m``, ``500M``).

Phase 2 of issue 13 makes this the one duration parser: ``incident export --since`` still has its own
(:func:`parse_since`, where a bare number is minutes; here it is seconds).
"""
from __future__ import annotations

import math
import re

from .domain.durations import DURATION_HELP as DURATION_HELP, parse_duration as parse_duration  # the one parser

_SIZE = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(i?b?)$", re.IGNORECASE)
SIZE_HELP = "e.g. 500M, 2G, 64MiB or a number of bytes"


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
