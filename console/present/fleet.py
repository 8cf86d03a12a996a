"""The fleet (issue 15) for people: one line per account × region × series, worst first, in the same cells the
TUI's fleet screen draws (:func:`row_cells`), and what ``status --fleet`` says on stderr."""
from __future__ import annotations

from typing import Iterable, Sequence

from ..core.domain.fleetrows import FleetRow, FleetSnapshot, group
from ..core.domain.format import tier_label

COLUMNS = ("account", "region", "model", "use", "binding quota", "throttles/min", "reserved", "state")
WIDTHS = (30, 14, 44, 6, 18, 24, 16, 0)


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def account_cell(r: FleetRow) -> str:
    return f"{r.account_name} {r.account_id}" if r.account_name and r.account_name != r.account_id else r.account_id


def throttles_cell(r: FleetRow) -> str:
    if r.throttles_per_min is None:
        return "—"
    total = f"{r.throttles_per_min:.1f}" if r.throttles_per_min else "0"
    if r.throttles_by_tier:
        split = " ".join(f"{tier_label(t)} {v:.1f}" for t, v in r.throttles_by_tier.items() if v > 0)
        return f"{total} ({split})" if split else total
    return f"{total} ({r.tiers_note})" if r.tiers_note else total


def reserved_cell(r: FleetRow) -> str:
    if r.reserved is None:
        return ""
    res = r.reserved
    text = f"in {res.input_fraction:.0%} out {res.output_fraction:.0%}"
    if res.overflow_tpm:
        text += f" +{res.overflow_tpm:,.0f} overflow ({res.overflow_source})"
    return text


def state_cell(r: FleetRow) -> str:
    if r.stale:
        return f"STALE: {r.stale}"
    return r.quota_note or ""


def row_cells(r: FleetRow) -> tuple[str, ...]:
    return (account_cell(r), r.region, r.series, pct(r.use), r.binding.label if r.binding else "—",
            throttles_cell(r), reserved_cell(r), state_cell(r))


def line(cells: Sequence[str], mark: str = "  ") -> str:
    parts = [c if w == 0 else (c if len(c) <= w else c[: w - 1] + "…").ljust(w) for c, w in zip(cells, WIDTHS)]
    return (mark + " ".join(parts)).rstrip()


def format_fleet(s: FleetSnapshot, rows: Sequence[FleetRow] | None = None, by: str = "none") -> str:
    rows = s.rows if rows is None else rows
    out = [f"fleet {s.profile}  monitoring account {s.monitoring_account or '?'}  regions {', '.join(s.regions)}"
           f"  endpoint {s.endpoint or 'AWS'}  ({s.source} figures)",
           f"{s.pulse.text()}  ·  {sum(s.calls.values())} AWS calls this refresh "
           f"({', '.join(f'{op} {n}' for op, n in sorted(s.calls.items()))})", ""]
    for region, why in sorted(s.region_stale.items()):
        out.append(f"region {region} STALE: {why}")
    out.append(line(COLUMNS))
    for key, members in group(rows, by, s.threshold):
        if by != "none":
            out.append(f"{key}")
        out += [line(row_cells(r), "▲ " if (r.use or 0) >= s.threshold or (r.throttles_per_min or 0) > 0 else "  ")
                for r in members]
    quiet = [a for a in s.accounts if not a.traffic]
    if quiet:
        out.append("")
        out.append("linked, no Bedrock traffic in the last 3 hours: " + ", ".join(f"{a.name} ({a.account_id})"
                                                                             for a in quiet))
    return "\n".join(out)


def over_lines(rows: Iterable[FleetRow], threshold: float) -> list[str]:
    """``payments-prod (200000000001): us-east-1 amazon.nova-lite-v1:0 on-demand TPM 93%``"""
    return [f"{r.account_name} ({r.account_id}): {r.region} {r.series} "
            f"{r.binding.label + ' ' if r.binding else ''}{pct(r.use)}" for r in rows]
