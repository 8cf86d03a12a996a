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
from textual.widgets import Footer, Static

from ..domain.planning import CapacityPlan
from ..plan_tables import assumptions_table, costs_table, notes_text, recommendation_table, stats_table

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

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="plan-box") as box:
            box.border_title = f"Capacity plan · {self.model_id}"
            yield Static(id="plan-status", classes="plan-section")
            for name in SECTIONS:
                yield Static(id=f"plan-{name}", classes="plan-section")
        yield Footer()

    def on_mount(self) -> None:
        self._draw()

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
        for name in SECTIONS:
            widget = self.query_one(f"#plan-{name}", Static)
            widget.display = plan is not None
            if plan is not None:
                widget.update(builders[name](plan))
