"""The fleet (issue 15) for people: one line per account × region × series, worst first, in the same cells the
TUI's fleet screen draws (:func:`row_cells`), and what ``status --fleet`` says on stderr."""
from __future__ import annotations

import time
from typing import Iterable, Sequence

from ..core.domain.alerts import DEFAULT_THRESHOLD, tpm_mark
from ..core.domain.fleetrows import FleetRow, FleetSnapshot, complete_minute, group
from ..core.domain.format import tier_label

#: throttles/min (``thr/min``): the last complete minute, as the account's dashboard lists it in its throttle feed
COLUMNS = ("account", "region", "model", "use", "binding quota", "thr/min", "reserved i/o", "state")
THROTTLE_WINDOW = "last complete minute"
#: each column's width where there is room (the text output); the state takes the rest (a stale row is also
#: marked ``!`` in front). The use is 5 wide: ``✖117%``, ``~117%``
WIDTHS = (24, 14, 26, 5, 13, 20, 12, 0)
#: how a narrower screen makes room (:func:`layout`), in order: (column, width it gives way to). The model and the
#: account's name go first, throttles/min and the state are never given up; the reservation column last of all
#: (the line under the table still says all of the selected row)
SHRINK = ((5, 16), (2, 21), (6, 10), (1, 12), (0, 20), (2, 14), (0, 13), (1, 10), (4, 7), (5, 12), (6, 9))
STATE_MIN = 10
RESERVED = 6


def layout(width: int | None) -> tuple[int | None, ...]:
    """The columns' widths in ``width`` cells (None: no limit, :data:`WIDTHS`); a column given up is None."""
    widths: list[int | None] = list(WIDTHS)
    if width is None:
        return tuple(widths)

    def over() -> int:
        shown = [w for w in widths[:-1] if w is not None]
        return 2 + sum(shown) + len(shown) + STATE_MIN - width

    for column, least in SHRINK:
        if over() <= 0:
            break
        widths[column] = max(least, (widths[column] or 0) - over())
    if over() > 0:
        widths[RESERVED] = None
    return tuple(widths)


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def account_cell(r: FleetRow, width: int = WIDTHS[0]) -> str:
    """Name and id; a long name is cut, never the id (the id is what an operator acts on)."""
    if not r.account_name or r.account_name == r.account_id:
        return r.account_id
    room = width - len(r.account_id) - 1
    if room < 2:
        return r.account_id
    name = r.account_name if len(r.account_name) <= room else r.account_name[: max(1, room - 1)] + "…"
    return f"{name} {r.account_id}"


def _count(x: float) -> str:
    return f"{round(x, 1):g}"


def minute_text(t: float | None) -> str:
    return "" if t is None else time.strftime("%H:%M UTC", time.gmtime(t))


def throttles_cell(r: FleetRow) -> str:
    """Throttles of the last complete minute, by tier: ``33 (S 27 P 6)``."""
    if r.throttles_per_min is None:
        return "—"
    total = _count(r.throttles_per_min)
    split = " ".join(f"{tier_label(t)[0]} {_count(v)}" for t, v in (r.throttles_by_tier or {}).items() if v > 0)
    inside = "; ".join(p for p in (split, r.tiers_note) if p)  # a partial split says so beside what was read
    return f"{total} ({inside})" if inside else total


def use_cell(r: FleetRow) -> str:
    """The use as the account's own dashboard shows it (:func:`~..core.domain.alerts.tpm_mark`): a TPM quota's
    blended estimate ``~85%``, ``✖`` when a measured minute reached the quota; another quota or a reservation plain."""
    shown = r.shown_use
    b = r.binding
    if shown is None or b is None or b.measure != "tokens" or b.period != 60 or shown != b.fraction:
        return pct(shown)
    _, glyph, text = tpm_mark(b.fraction, estimated=r.tpm_estimated, measured_over=r.tpm_measured_over,
                              warn=DEFAULT_THRESHOLD, peak=r.tpm_peak_fraction)
    return (glyph if glyph in "~✖" else "") + text


def reserved_cell(r: FleetRow) -> str:
    if r.reserved is None:
        return ""
    res = r.reserved
    text = f"{res.input_fraction:.0%}/{res.output_fraction:.0%}"
    if res.overflow_tpm:
        text += f" +{res.overflow_tpm:,.0f}({res.overflow_source[:3]})"
    return text


def state_cell(r: FleetRow) -> str:
    if r.stale:
        return f"STALE: {r.stale}"
    return r.quota_note or ""


def row_detail(r: FleetRow) -> str:
    """Everything about one row on one line (the fleet screen's detail line under the table)."""
    parts = [f"{r.account_name} ({r.account_id}) {r.region} {r.series}"]
    if r.binding:
        parts.append(f"binding: {r.binding.name} {r.binding.used:,.0f}/{r.binding.limit:,.0f} ({pct(r.binding.fraction)})")
    if r.tpm_used is not None:
        parts.append(f"{r.tpm_used:,.0f} TPM · {r.rpm_used or 0:,.1f} RPM")
    parts.append(f"throttles in the {THROTTLE_WINDOW} ({minute_text(r.throttles_minute)}): {throttles_cell(r)}")
    if r.reserved:
        parts.append(f"reserved {r.reserved.reservation_id} in/out {reserved_cell(r)}")
    if r.stale:
        parts.append(f"STALE: {r.stale}")
    if r.quota_note:
        parts.append(r.quota_note)
    parts.append(f"{r.source} figures")
    return " · ".join(parts)


def row_cells(r: FleetRow, widths: Sequence[int | None] = WIDTHS) -> tuple[str, ...]:
    return (account_cell(r, widths[0] or WIDTHS[0]), r.region, r.series, use_cell(r), r.binding.label if r.binding else "—",
            throttles_cell(r), reserved_cell(r), state_cell(r))


def mark(r: FleetRow, threshold: float) -> str:
    """``▲`` at or over the line or throttling, ``!`` stale, else blank: what the row's first column says."""
    if (r.use or 0) >= threshold or (r.throttles_per_min or 0) > 0:
        return "▲ "
    return "! " if r.stale else "  "


def line(cells: Sequence[str], mark: str = "  ", widths: Sequence[int | None] = WIDTHS) -> str:
    parts = [c if w == 0 else (c if len(c) <= w else c[: w - 1] + "…").ljust(w)
             for c, w in zip(cells, widths) if w is not None]
    return (mark + " ".join(parts)).rstrip()


def format_fleet(s: FleetSnapshot, rows: Sequence[FleetRow] | None = None, by: str = "none") -> str:
    rows = s.rows if rows is None else rows
    out = [f"fleet  profile {s.profile}  monitoring account {s.monitoring_account or '?'}  regions {', '.join(s.regions)}"
           f"  endpoint {s.endpoint or 'AWS'}  ({s.source} figures)",
           f"{s.pulse.text()}  ·  {sum(s.calls.values())} AWS calls this refresh "
           f"({', '.join(f'{op} {n}' for op, n in sorted(s.calls.items()))})",
           f"thr/min: throttles/min: the {THROTTLE_WINDOW} ({minute_text(complete_minute(s.time))}); use: ~ an "
           "estimate, ✖ a measured minute at the quota (as on each account's dashboard)", ""]
    for region, why in sorted(s.region_stale.items()):
        out.append(f"region {region} STALE: {why}")
    out.append(line(COLUMNS))
    for key, members in group(rows, by):
        if by != "none":
            out.append(f"{key}")
        out += [line(row_cells(r), mark(r, s.threshold)) for r in members]
    quiet = [a for a in s.accounts if not a.traffic]
    if quiet:
        out.append("")
        out.append("linked, no Bedrock traffic in the last 3 hours: " + ", ".join(f"{a.name} ({a.account_id})"
                                                                             for a in quiet))
    return "\n".join(out)


def over_lines(rows: Iterable[FleetRow], threshold: float) -> list[str]:
    """``payments-prod (200000000001): us-east-1 amazon.nova-lite-v1:0 on-demand TPM 93%``"""
    return [f"{r.account_name} ({r.account_id}): {r.region} {r.series} "
            f"{r.binding.label + ' ' if r.binding else ''}{use_cell(r)}{_judged_by_peak(r)}" for r in rows]


def _judged_by_peak(r: FleetRow) -> str:
    """Why a row whose shown estimate is under the line is over it: its last measured minute (tpm_judged)."""
    if r.use is None or r.shown_use is None or r.use <= r.shown_use:
        return ""
    return f" (measured minute {pct(r.use)})"
