"""The capacity plan of one model: TPM stats, reservation recommendation, monthly costs, assumptions.

The screen only draws. The app fetches (``tierconsole.aws.history.fetch_history`` in a worker,
then ``tierconsole.domain.planning.plan_from_profile``) and hands the result over with
:meth:`PlanScreen.show_plan`, or :meth:`PlanScreen.show_error` when the fetch failed. Built with
``plan=None`` the screen says it is fetching.
"""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from ..domain.planning import CapacityPlan
from ..plan_tables import assumptions_table, costs_table, notes_text, recommendation_table, stats_table
from ..widgets.keybar import KeyBar

SECTIONS = ("stats", "recommendation", "costs", "notes", "assumptions")


class PlanScreen(Screen[None]):
    BINDINGS = [Binding("escape,q", "dismiss", "Close")]
    DEFAULT_CSS = """
    PlanScreen #plan-box { padding: 0 1; }
    PlanScreen .plan-section { margin-bottom: 1; }
    """

    def __init__(self, model_id: str, plan: CapacityPlan | None = None) -> None:
        super().__init__()
        self.model_id = model_id
        self.plan = plan
        self.error: str | None = None
        self.spends: tuple = ()
        self.moves: tuple = ()
        self._spend_shown = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="plan-box") as box:
            box.border_title = f"Capacity plan · {self.model_id}"
            yield Static(id="plan-status", classes="plan-section")
            yield Static(id="plan-spend", classes="plan-section")  # the cost view, when the app has it
            for name in SECTIONS:
                yield Static(id=f"plan-{name}", classes="plan-section")
        yield KeyBar()

    def on_mount(self) -> None:
        self._draw()

    def show_spend(self, spends, moves) -> None:
        """The cost view: spend per tier per hour at the last hour's rates, and what moving tiers saves."""
        from rich.table import Table  # noqa: PLC0415

        self.spends, self.moves = tuple(spends), tuple(moves)
        self._spend_shown = True
        self.query_one("#plan-spend", Static).display = self.plan is not None
        table = Table(title="Spend now (last 60 min rates)", title_justify="left", box=None, padding=(0, 2))
        for col, just in (("tier", "left"), ("input TPM", "right"), ("output TPM", "right"), ("USD / hour", "right")):
            table.add_column(col, justify=just)
        for sp in spends:
            usd = "—" if sp.usd_per_hour is None else f"{sp.usd_per_hour:,.4f}"
            table.add_row(sp.tier, f"{sp.input_tpm:,.0f}", f"{sp.output_tpm:,.0f}", usd)
        for mv in moves:
            if mv.saving_per_hour is None:
                continue
            table.add_row(Text(f"move {mv.from_tier} → {mv.to_tier}", style="italic"), "", "",
                          Text(f"saves {mv.saving_per_hour:,.4f}/h · {mv.saving_per_month:,.2f}/month"
                               + (f" ({mv.note})" if mv.note else ""), style="bold"))
        if not spends:
            self.query_one("#plan-spend", Static).update("No traffic in the last hour: nothing is being spent.")
        else:
            self.query_one("#plan-spend", Static).update(table)

    def show_plan(self, plan: CapacityPlan) -> None:
        self.plan, self.error = plan, None
        self._draw()

    def show_error(self, message: str) -> None:
        self.error = message
        self._draw()

    def _draw(self) -> None:
        status = self.query_one("#plan-status", Static)
        plan = self.plan
        if self.error:
            status.update(Text.assemble(("could not build the plan: ", "bold red"), self.error))
        elif plan is None:
            status.update("fetching 1-minute history from CloudWatch…")
        else:
            status.update(Text.assemble(
                (plan.model_id, "bold"), f"  {plan.start:%Y-%m-%d %H:%M} → {plan.end:%Y-%m-%d %H:%M} UTC, "
                f"{plan.minutes:,} minutes" + ("" if plan.tier_split else "  (model totals only: no per-tier split)")))
        builders = {"stats": stats_table, "recommendation": recommendation_table, "costs": costs_table,
                    "notes": notes_text, "assumptions": assumptions_table}
        self.query_one("#plan-spend", Static).display = plan is not None and self._spend_shown
        for name, build in builders.items():
            widget = self.query_one(f"#plan-{name}", Static)
            widget.display = plan is not None
            if plan is not None:
                widget.update(build(plan))
