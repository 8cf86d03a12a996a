"""A capacity plan as Rich tables: stats, recommendation, costs, assumptions.

Shared by ``tierconsole plan`` (printed) and the plan screen (drawn), so both show the same figures.
"""
from __future__ import annotations

import json

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from .domain.format import percent, tier_label
from .domain.planning import CapacityPlan, TierStats


def _n(v: float | None) -> str:
    return "—" if v is None else f"{v:,.0f}"


def usd(v: float | None) -> str:
    if v is None:
        return "unknown"
    return f"-${-v:,.2f}" if v < 0 else f"${v:,.2f}"


def _tier(t: str) -> str:
    return "All tiers" if t == "all" else tier_label(t)


def _table(title: str, **kw) -> Table:
    return Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1),
                 pad_edge=False, show_edge=False, **kw)


def stats_table(plan: CapacityPlan) -> Table:
    t = _table(f"Per-minute TPM over {plan.minutes:,} minutes (input = input + cache write)")
    t.add_column("tier", no_wrap=True)
    for side in ("input", "output"):
        for k in ("P50", "P90", "P99", "max"):
            t.add_column(f"{side}\n{k}", justify="right", no_wrap=True)
    for h in ("throttled\nminutes", "token\nshare", "call\nshare"):
        t.add_column(h, justify="right", no_wrap=True)
    rows: list[TierStats] = [*plan.tiers, plan.all]
    for s in rows:
        t.add_row(_tier(s.tier), *(_n(s.input_tpm[k]) for k in ("p50", "p90", "p99", "max")),
                  *(_n(s.output_tpm[k]) for k in ("p50", "p90", "p99", "max")),
                  _n(s.throttled_minutes), percent(s.token_share), percent(s.invocation_share),
                  style="bold" if s.tier == "all" else None)
    return t


def recommendation_table(plan: CapacityPlan) -> Table:
    r = plan.recommendation
    t = _table("Reservation recommendation")
    t.add_column("")
    t.add_column("input TPM", justify="right", no_wrap=True)
    t.add_column("output TPM", justify="right", no_wrap=True)
    t.add_row(f"P{r.percentile:g} of traffic", _n(r.input_tpm_at_percentile), _n(r.output_tpm_at_percentile))
    t.add_row(Text("recommended", style="bold"),
              Text(_n(r.input_tpm) + (" (minimum)" if r.input_raised_to_minimum else ""), style="bold"),
              Text(_n(r.output_tpm) + (" (minimum)" if r.output_raised_to_minimum else ""), style="bold"))
    if r.current_input_tpm is not None:
        t.add_row("current reservation", _n(r.current_input_tpm), _n(r.current_output_tpm))
    t.add_row("minutes above it", _n(r.minutes_over_input), _n(r.minutes_over_output))
    t.add_row("tokens overflowing to Standard", percent(r.overflow_input_share), percent(r.overflow_output_share))
    t.caption = r.basis
    t.caption_justify = "left"
    return t


def costs_table(plan: CapacityPlan) -> Table:
    t = _table("Monthly cost of the same traffic")
    t.add_column("option", ratio=2)
    t.add_column("per month", justify="right", no_wrap=True)
    t.add_column("vs Standard", justify="right", no_wrap=True)
    t.add_column("note", ratio=3)
    for c in plan.costs:
        extra = ""
        if c.key == "reserved" and c.components.get("overflow_usd") is not None:
            extra = (f"fixed {usd(c.components['reservation_usd'])} + overflow {usd(c.components['overflow_usd'])}")
        note = "; ".join(x for x in (extra, c.note or "") if x)
        t.add_row(c.label, usd(c.monthly_usd), usd(c.delta_vs_standard_usd) if c.key != "standard" else "",
                  note)
    return t


def assumptions_table(plan: CapacityPlan) -> Table:
    t = _table("Assumptions")
    t.add_column("what", no_wrap=True)
    t.add_column("value", ratio=2, overflow="fold")
    t.add_column("meaning", ratio=3, overflow="fold")
    t.add_column("source", ratio=2, overflow="fold")
    for a in plan.assumptions:
        value = a.value if isinstance(a.value, str) else json.dumps(a.value)
        t.add_row(a.key, value, a.text, a.source)
    return t


def notes_text(plan: CapacityPlan) -> Text:
    return Text("\n".join(f"• {n}" for n in plan.notes) or "no warnings", style="yellow" if plan.notes else "dim")


def plan_renderables(plan: CapacityPlan) -> Group:
    head = Text(f"{plan.model_id}  {plan.start:%Y-%m-%d %H:%M} → {plan.end:%Y-%m-%d %H:%M} UTC"
                + ("" if plan.tier_split else "  (model totals only: no per-tier split)"), style="bold")
    return Group(head, Text(""), stats_table(plan), Text(""), recommendation_table(plan), Text(""),
                 costs_table(plan), Text(""), notes_text(plan), Text(""), assumptions_table(plan))
