"""The capacity plan of one model: TPM stats, reservation recommendation, monthly costs, assumptions.

The screen only draws. The app fetches (:func:`tierconsole.core.ops.plan.plan_view` in a worker) and
posts :class:`~..messages.PlanReady` (shown with :meth:`PlanScreen.show_plan` and
:meth:`PlanScreen.show_spend`) or :class:`~..messages.PlanFailed` (:meth:`PlanScreen.show_error`).
Built with ``plan=None`` the screen says it is fetching. The tables are the
ones ``tierconsole plan`` prints (:mod:`tierconsole.present.plan`), each in one money unit.
"""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from ...core.domain.plan_results import CapacityPlan
from ...core.domain.costview import CostView
from ...present.plan import (
    assumptions_table, cost_view_renderables, costs_table, notes_text, recommendation_table, stats_section,
    traffic_table,
)
from ..messages import PlanFailed, PlanReady, QuotaRequestWanted
from ..widgets.keybar import KeyBar

SECTIONS = ("traffic", "stats", "recommendation", "costs", "notes", "assumptions")


class PlanScreen(Screen[None]):
    BINDINGS = [Binding("escape,q", "dismiss", "Close"),
                Binding("i", "quota_request", "Quota request", id="quota-request",
                        tooltip="What an AWS quota-increase case asks for, from this model's history")]
    DEFAULT_CSS = """
    PlanScreen #plan-box { padding: 0 1; }
    PlanScreen .plan-section { margin-bottom: 1; }
    """

    def __init__(self, model_id: str, plan: CapacityPlan | None = None) -> None:
        super().__init__()
        self.model_id = model_id
        self.plan = plan
        self.error: str | None = None
        self.cost_view: CostView | None = None

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

    @property
    def spends(self) -> tuple:
        return self.cost_view.spends if self.cost_view is not None else ()

    @property
    def moves(self) -> tuple:
        return self.cost_view.moves if self.cost_view is not None else ()

    def show_spend(self, view: CostView) -> None:
        """The cost view: spend per tier in $ per hour at the last hour's rates, and what moving the Standard
        traffic to Flex or Batch saves (from the same Standard figure)."""
        self.cost_view = view
        spend = self.query_one("#plan-spend", Static)
        spend.display = self.plan is not None
        spend.update(cost_view_renderables(view))

    def action_quota_request(self) -> None:
        self.post_message(QuotaRequestWanted(self.model_id))

    @on(PlanReady)
    def _plan_ready(self, message: PlanReady) -> None:
        self.show_plan(message.plan)
        self.show_spend(message.view)

    @on(PlanFailed)
    def _plan_failed(self, message: PlanFailed) -> None:
        self.show_error(message.reason)

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
        builders = {"traffic": traffic_table, "stats": stats_section, "recommendation": recommendation_table,
                    "costs": costs_table, "notes": notes_text, "assumptions": assumptions_table}
        self.query_one("#plan-spend", Static).display = plan is not None and self.cost_view is not None
        for name, build in builders.items():
            widget = self.query_one(f"#plan-{name}", Static)
            widget.display = plan is not None
            if plan is not None:
                widget.update(build(plan))
