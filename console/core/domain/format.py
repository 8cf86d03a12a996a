"""Pure formatting helpers for the dashboard: compact numbers, durations, clock times, model names.

Nothing here reads a clock: callers pass ``now`` so that renders are reproducible.
"""
from __future__ import annotations

import math

import re
from datetime import datetime, timezone, tzinfo

from .tiers import Tier

_UNITS = ("", "k", "M", "B", "T")


def human_count(value: float | None) -> str:
    """``950`` → ``950``, ``12_345`` → ``12.3k``, ``123_456`` → ``123k``, ``1_500_000`` → ``1.5M``."""
    if value is None:
        return "—"
    sign = "-" if value < 0 else ""
    value = abs(float(value))
    if value < 999.5:
        return f"{sign}{value:.0f}"
    unit = 0
    # 999.5 and above would print as "1000": carry into the next unit instead.
    while value >= 999.5 and unit < len(_UNITS) - 1:
        value /= 1000.0
        unit += 1
    text = f"{value:.1f}" if value < 99.95 else f"{value:.0f}"
    return f"{sign}{text}{_UNITS[unit]}"


def grouped(value: float | None) -> str:
    """``12345`` → ``12,345`` (exact counts where they fit)."""
    return "—" if value is None else f"{value:,.0f}"


def percent(fraction: float | None) -> str:
    """``0.704`` → ``70%``; a non-zero fraction below 1% shows as ``<1%``."""
    if fraction is None:
        return "—"
    if 0 < fraction < 0.005:
        return "<1%"
    return f"{fraction * 100:.0f}%"


def duration(seconds: float | None) -> str:
    """Compact duration: ``0s``, ``42s``, ``4m05s``, ``42m``, ``2h03m``, ``3d04h``."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 10:
        return f"{m}m{s:02d}s"
    if m < 60:
        return f"{m}m"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h{m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d{h:02d}h"


def age(seconds: float | None) -> str:
    """How long ago: ``12s ago``; ``never`` when there was no time."""
    if seconds is None:
        return "never"
    return "just now" if seconds < 1 else f"{duration(seconds)} ago"


def clock(epoch: float, tz: tzinfo = timezone.utc) -> str:
    """``HH:MM:SS`` of an epoch time (UTC unless told); ``--:--:--`` for a time no clock shows."""
    try:
        return datetime.fromtimestamp(epoch, tz).strftime("%H:%M:%S")
    except (ValueError, OverflowError, OSError):  # NaN, infinite, or beyond the year 9999
        return "--:--:--"


_TIER_LABELS = {t.value: t.label for t in Tier}
_TIER_LABELS["standard"] = Tier.STANDARD.label


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 event``, ``2 events``, ``1,204 events`` (``many`` for irregular plurals)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def usd(cost: float | None, served_tier: str | None = None, *, sign: str = "$") -> str:
    """A call's cost as people read it. ``None`` (no price for the model or tier) is ``unknown``; a
    Reserved call is ``in reservation`` (paid by the reservation's fixed monthly price, not per call);
    a cost too small for six decimals is ``<$0.000001``; nothing is ever shown as ``$0.000000``."""
    if cost is None:
        return "unknown"
    if served_tier == Tier.RESERVED.value and cost == 0:
        return "in reservation"
    if cost == 0:
        return f"{sign}0"
    if cost < 0.0000005:
        return f"<{sign}0.000001"
    return f"{sign}{cost:.6f}"


def tier_label(wire: str | None) -> str:
    """``default`` → ``Standard``; unknown or empty tiers pass through (``""`` → ``all``)."""
    if not wire:
        return "all"
    return _TIER_LABELS.get(wire.lower(), wire)


_ARN_PREFIX = re.compile(r"^arn:[^:]+:bedrock:[^:]*:[^:]*:[a-z-]+/")
_GEO_PREFIX = re.compile(r"^(us|eu|apac|jp|au|ca|us-gov|global)\.")
_VERSION_SUFFIX = re.compile(r"(-\d{8})?(-v\d+)?(:\d+)?$|-\d+:\d+$")


def short_model(model_id: str) -> str:
    """Drop ARN, provider and version noise, keep the geo prefix:
    ``anthropic.claude-sonnet-4-5-20250929-v1:0`` → ``claude-sonnet-4-5``,
    ``us.amazon.nova-lite-v1:0`` → ``us.nova-lite``, ``openai.gpt-oss-20b-1:0`` → ``gpt-oss-20b``."""
    name = _ARN_PREFIX.sub("", model_id)
    geo = ""
    m = _GEO_PREFIX.match(name)
    if m:
        geo, name = m.group(0), name[m.end():]
    if "." in name:
        name = name.split(".", 1)[1]
    name = _VERSION_SUFFIX.sub("", name) or name
    return geo + name


def short_error(error: str) -> str:
    """``ThrottlingException`` → ``Throttling`` (the column is narrow; search keeps the full name)."""
    return error[: -len("Exception")] if error.endswith("Exception") and len(error) > 9 else error


def safe_endpoint(url: str) -> str:
    """``url`` without a user-info part (``https://key:secret@host`` -> ``https://host``) or a trailing ``/``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    host, slash, path = rest.partition("/")
    host = host.rpartition("@")[2]
    out = f"{scheme}{sep}{host}{slash}{path}"
    return out.rstrip("/") if out.endswith("/") and path == "" else out
