"""A capacity plan as Rich tables: stats, recommendation, costs, assumptions.

Shared by ``tierconsole plan`` (printed) and the plan screen (drawn), so both show the same figures.
"""
from __future__ import annotations

import json

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from ..core.domain.format import percent, plural, tier_label
from ..core.domain.planning import TOTAL_TIER
from ..core.domain.plan_results import CapacityPlan, TierStats
from ..core.domain.costview import CostView


class StdoutConsole(Console):
    """A Rich console on stdout whose reader going away (``plan | head -2``) is a ``BrokenPipeError`` for
    the command line to end quietly with 141, as every other command does (Rich's own answer is exit 1)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def _n(v: float | None) -> str:
    return "—" if v is None else f"{v:,.0f}"


def _money(v: float | None, places: int) -> str:
    """``$1.50``, ``-$1.50``; what rounds to zero is ``$0.00``, never ``-$0.00``."""
    if v is None:
        return "unknown"
    r = round(v, places)
    return f"-${-r:,.{places}f}" if r < 0 else f"${abs(r):,.{places}f}"


def usd(v: float | None) -> str:
    return _money(v, 2)


def _tier(t: str) -> str:
    return "All tiers" if t == "all" else tier_label(t)


def _table(title: str, **kw) -> Table:
    return Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1),
                 pad_edge=False, show_edge=False, **kw)


def traffic_table(plan: CapacityPlan) -> Table:
    """Per tier: the minutes with traffic (what the percentiles are over), throttled minutes, shares."""
    t = _table(f"Traffic by tier over {plan.minutes:,} minutes")
    t.add_column("tier", no_wrap=True)
    for h in ("minutes with\ntraffic", "throttled\nminutes", "token\nshare", "call\nshare"):
        t.add_column(h, justify="right", no_wrap=True)
    for s in [*plan.tiers, plan.all]:
        t.add_row(_tier(s.tier), _n(s.active_minutes), _n(s.throttled_minutes), percent(s.token_share),
                  percent(s.invocation_share), style="bold" if s.tier == "all" else None)
    return t


def percentile_rule(plan: CapacityPlan) -> Text:
    """The rule behind every percentile, stated next to them."""
    return Text(f"Percentiles are over the {plural(plan.all.active_minutes, 'minute')} with traffic "
                f"(of {plan.minutes:,}); "
                "each tier over its own; idle minutes are left out. Input = input + cache write.", style="dim")


def stats_table(plan: CapacityPlan) -> Table:
    """Per tier, input and output TPM percentiles (over the minutes with traffic: :func:`percentile_rule`)."""
    t = _table("Per-minute TPM in minutes with traffic")
    t.add_column("tier", no_wrap=True)
    t.add_column("TPM", no_wrap=True)
    for k in ("P50", "P90", "P99", "max"):
        t.add_column(k, justify="right", no_wrap=True)
    rows: list[TierStats] = [*plan.tiers, plan.all]
    for s in rows:
        style = "bold" if s.tier == "all" else None
        t.add_row(_tier(s.tier), "in", *(_n(s.input_tpm[k]) for k in ("p50", "p90", "p99", "max")), style=style)
        t.add_row("", "out", *(_n(s.output_tpm[k]) for k in ("p50", "p90", "p99", "max")), style=style)
    return t


def stats_section(plan: CapacityPlan) -> Group:
    return Group(stats_table(plan), percentile_rule(plan))


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
    t = _table("Monthly cost of the same traffic ($ per month)")
    t.add_column("option", ratio=2)
    t.add_column("$ per month", justify="right", no_wrap=True)
    t.add_column("vs Standard", justify="right", no_wrap=True)
    t.add_column("note", ratio=3)
    for c in plan.costs:
        extra = ""
        if c.key == "reserved" and c.components.get("overflow_usd") is not None:
            extra = (f"fixed {usd(c.components['reservation_usd'])} + overflow {usd(c.components['overflow_usd'])}")
        note = "; ".join(x for x in (extra, c.note or "") if x)
        t.add_row(c.label, usd(c.monthly_usd), usd(c.delta_vs_standard_usd) if c.key != "standard" else "",
                  note)
    t.caption = (f"The window's traffic priced on each option: computed from the average of the window's "
                 f"{plan.minutes:,} minutes, scaled to a month (Spend now below uses the last hour's rate instead)")
    t.caption_justify = "left"
    return t


def usd_hourly(v: float | None) -> str:
    """Dollars per hour: cents are too coarse for a small model's hourly spend, so four decimals."""
    return _money(v, 4)


def _spend_tier(tier: str) -> str:
    return "All tiers*" if tier == TOTAL_TIER else _tier(tier)


def spend_table(view: CostView) -> Table:
    """Spend now: each tier at its rate over the last ``view.minutes``, in $ per hour, and the total."""
    t = _table(f"Spend now ($ per hour; rates of the last {view.minutes} min)")
    t.add_column("tier", no_wrap=True)
    t.add_column("input TPM", justify="right", no_wrap=True)
    t.add_column("output TPM", justify="right", no_wrap=True)
    t.add_column("$ per hour", justify="right", no_wrap=True)
    for sp in view.spends:
        t.add_row(_spend_tier(sp.tier), _n(sp.input_tpm), _n(sp.output_tpm),
                  usd_hourly(sp.usd_per_hour) + (" (fixed fee)" if sp.tier == "reserved" else ""))
    t.add_row(Text("Total", style="bold"), "", "", Text(usd_hourly(view.total_per_hour), style="bold"))
    if any(sp.tier == TOTAL_TIER for sp in view.spends):
        t.caption = "* no per-tier split: every token at Standard prices"
        t.caption_justify = "left"
    return t


def _move_name(mv) -> str:
    return f"{_spend_tier(mv.from_tier)} → {'Batch' if mv.to_tier == 'batch' else tier_label(mv.to_tier)}"


def whatif_table(view: CostView) -> Table:
    """Moving the Standard traffic: now (the Standard row of :func:`spend_table`), after, saved; $ per hour."""
    totals = any(mv.from_tier == TOTAL_TIER for mv in view.moves)
    t = _table("What if all of it moved ($ per hour)" if totals else "What if Standard moved ($ per hour)")
    t.add_column("move", no_wrap=True)
    t.add_column("now", justify="right", no_wrap=True)
    t.add_column("after", justify="right", no_wrap=True)
    t.add_column("saves", justify="right", no_wrap=True)
    for mv in view.moves:
        t.add_row(_move_name(mv), usd_hourly(mv.usd_per_hour_before), usd_hourly(mv.usd_per_hour_after),
                  Text(usd_hourly(mv.saving_per_hour), style="bold"))
    return t


def whatif_notes(view: CostView) -> Text:
    """The what-ifs over a month, and what each move asks of the work (outside the hourly table)."""
    hours = view.minutes_per_month / 60
    lines = [f"over a {hours:,.0f}-hour month at the rate of the last {view.minutes} minutes, not the window's "
             "average (the monthly table): " + "; ".join(
                 f"{_move_name(mv)} saves {usd(mv.saving_per_month)}"
                 for mv in view.moves if mv.saving_per_month is not None)] if view.moves else []
    lines += [mv.note for mv in view.moves if mv.note]
    return Text("\n".join(lines), style="dim")


def cost_view_renderables(view: CostView) -> Group:
    if not view.spends:
        return Group(Text(f"No traffic in the last {view.minutes} minutes: nothing is being spent."))
    parts = [spend_table(view)]
    if view.moves:
        parts += [Text(""), whatif_table(view), whatif_notes(view)]
    return Group(*parts)


def assumptions_table(plan: CapacityPlan) -> Table:
    t = _table("Assumptions")
    t.add_column("what", no_wrap=True)
    t.add_column("value", ratio=2, overflow="fold")
    t.add_column("meaning", ratio=3, overflow="fold")
    t.add_column("source", ratio=2, overflow="fold")
    for a in plan.assumptions:
        t.add_row(a.key, assumption_value(a.key, a.value), a.text, _tiers_named(a.source))
    return t


_WIRE_TIERS = frozenset({"reserved", "priority", "default", "flex", "batch"})


def _tier_word(t: str) -> str:
    return "Batch" if t == "batch" else tier_label(t)


def _word(v) -> str:
    """One value in the operator's words: a wire tier by its label (``default`` is Standard), numbers grouped."""
    if isinstance(v, str):
        return _tier_word(v) if v in _WIRE_TIERS else v
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, (int, float)):
        return f"{int(v):,}" if float(v).is_integer() else f"{v:g}"
    return json.dumps(v)


def assumption_value(key: str, value) -> str:
    """An assumption's value for people (``--json`` keeps the raw one): tiers by name (``Standard, Flex``),
    multipliers as ``Standard 1×, Flex 0.5×``, mappings as ``input tpm 100,000, output tpm 10,000``."""
    if value is None:
        return "unknown"
    if isinstance(value, (list, tuple)):
        return ", ".join(_word(v) for v in value)
    if isinstance(value, dict):
        if key == "multipliers":
            return ", ".join(f"{_word(k)} {v:g}×" for k, v in value.items())
        if key == "prices":
            return (f"${value.get('input_per_1k', 0):g} input, ${value.get('output_per_1k', 0):g} output "
                    "per 1K tokens")
        return ", ".join(f"{_word(k).replace('_', ' ')} {_word(v)}" for k, v in value.items())
    return _word(value)


def _tiers_named(text: str) -> str:
    """``default: built-in; flex: profile`` (a multiplier's sources) with tiers by name."""
    return "; ".join(f"{_tier_word(k)}: {rest}" if k in _WIRE_TIERS else part
                     for part in text.split("; ") for k, _, rest in [part.partition(": ")]) if text else text


def notes_text(plan: CapacityPlan) -> Text:
    return Text("\n".join(f"• {n}" for n in plan.notes) or "no warnings", style="yellow" if plan.notes else "dim")


def plan_renderables(plan: CapacityPlan) -> Group:
    head = Text(f"{plan.model_id}  {plan.start:%Y-%m-%d %H:%M} → {plan.end:%Y-%m-%d %H:%M} UTC"
                + ("" if plan.tier_split else "  (model totals only: no per-tier split)"), style="bold")
    return Group(head, Text(""), traffic_table(plan), Text(""), stats_section(plan), Text(""),
                 recommendation_table(plan), Text(""), costs_table(plan), Text(""), notes_text(plan), Text(""),
                 assumptions_table(plan))
