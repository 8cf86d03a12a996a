"""Durations as operators type them (``30s``, ``10m``, ``1h30m``, ``90``): the one parser, for the command line
(:mod:`..units`, ``--duration``) and the settings a profile holds in seconds (an alert rule's ``cooldown``).
Pure."""
from __future__ import annotations

import math
import re

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h|d)?", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
DURATION_HELP = "e.g. 90, 30s, 10m, 2h, 1d or 1h30m"


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
