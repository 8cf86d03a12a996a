"""The typed messages of the console: what a screen asks the app for (refresh, pause, cancel a job), and
what the app's workers send back to a screen (a plan, a notice). Screens react with ``@on`` handlers."""
from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # pragma: no cover
    from textual.notifications import SeverityLevel

    from ..core.domain.costview import CostView
    from ..core.domain.plan_results import CapacityPlan
    from ..core.domain.quotarequest import QuotaIncreaseRequest
    from ..core.domain.views import BatchJobView


class RefreshRequested(Message):
    """The operator asked for a refresh now (``r``). ``while_paused``: asked on a paused dashboard,
    which shows that one refresh and stays paused."""

    def __init__(self, while_paused: bool = False) -> None:
        super().__init__()
        self.while_paused = while_paused


class PauseToggled(Message):
    """The operator paused or resumed live updates (``p``). While paused the dashboard keeps
    showing what it had; data that arrives meanwhile is shown on resume."""

    def __init__(self, paused: bool) -> None:
        super().__init__()
        self.paused = paused


class CancelJobRequested(Message):
    """The operator pressed ``x`` on a job of the batch pane: the app checks, confirms and cancels it."""

    def __init__(self, job: BatchJobView) -> None:
        super().__init__()
        self.job = job


class Notice(Message):
    """The outcome of an operator action a worker ran (a batch cancel): the screen shows it as a
    notification, and asks for a refresh when the action changed something."""

    def __init__(self, text: str, *, title: str, severity: SeverityLevel = "information",
                 timeout: float | None = None, refresh: bool = False) -> None:
        super().__init__()
        self.text, self.title, self.severity, self.timeout, self.refresh = text, title, severity, timeout, refresh


class PlanReady(Message):
    """The capacity plan and cost view of the plan screen's model (from :func:`core.ops.plan.plan_view`)."""

    def __init__(self, plan: CapacityPlan, view: CostView) -> None:
        super().__init__()
        self.plan, self.view = plan, view


class PlanFailed(Message):
    """The plan screen's figures could not be built; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class QuotaRequestWanted(Message):
    """``i`` on the plan screen: the app builds the quota-increase request of the model and shows it."""

    def __init__(self, model_id: str) -> None:
        super().__init__()
        self.model_id = model_id


class QuotaRequestReady(Message):
    """The quota-increase request of the request screen's model (from :func:`core.ops.quota_request.build`)."""

    def __init__(self, request: QuotaIncreaseRequest) -> None:
        super().__init__()
        self.request = request


class QuotaRequestFailed(Message):
    """The request could not be built (too little history, an AWS error); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class QuotaSubmitWanted(Message):
    """``s`` on the request screen: the app confirms and files it (:func:`core.ops.quota_request.submit`)."""

    def __init__(self, request: QuotaIncreaseRequest) -> None:
        super().__init__()
        self.request = request


class QuotaSubmitDone(Message):
    """What filing the request came to (requested, exists, nothing to request, not submitted, refused, failed)."""

    def __init__(self, text: str, ok: bool) -> None:
        super().__init__()
        self.text, self.ok = text, ok
