"""The console's operator actions: each opens its screen, or starts a worker that calls
:mod:`tierconsole.core.ops` under the session it started with and posts the outcome to a screen as a typed
message (:mod:`.messages`). Part of :class:`~.app.TierConsoleApp` (which holds the session, the
dashboard and the prompt lab); the action screens are imported when first opened (together they were
~25 ms of the time to the first frame).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work

from ..core.domain.views import BatchJobView
from ..core.session import OperatorSession
from .messages import (
    CancelJobRequested, Notice, PlanFailed, PlanReady, QuotaRequestFailed, QuotaRequestReady, QuotaRequestWanted,
    QuotaSubmitDone, QuotaSubmitWanted,
)

if TYPE_CHECKING:  # pragma: no cover
    from textual.app import App

    from ..core.domain.incident import Incident
    from ..core.domain.views import ThrottleEvent
    from .screens.dashboard import DashboardScreen
    from .screens.plan import PlanScreen
    from .screens.prompt_lab import PromptLabScreen
    from .screens.quota_request import QuotaRequestScreen
    from .widgets.throttles import ThrottleList

    _Base = App[None]
else:
    _Base = object


class OperatorActions(_Base):
    """The action keys of the dashboard and what they start (a mixin of the console's App)."""

    session: OperatorSession | None
    generation: int
    dashboard: DashboardScreen
    _prompt_lab: PromptLabScreen | None

    def action_prompt_lab(self) -> None:
        """``t``: the prompt lab of the current profile (kept while the profile is, with its last results)."""
        from .screens.prompt_lab import PromptLabScreen  # noqa: PLC0415

        if isinstance(self.screen, PromptLabScreen):
            return
        if self._prompt_lab is None or self._prompt_lab.session is not self.session:
            self._prompt_lab = PromptLabScreen(self.session, latest=lambda: self.dashboard.latest)
            self.install_screen(self._prompt_lab, f"prompt-lab-{self.generation}")
        self.push_screen(self._prompt_lab)

    # --- triage and planning ----------------------------------------------------------------------
    def on_throttle_list_selected(self, message: ThrottleList.Selected) -> None:
        """``enter`` on a throttle event: the incident view of that event's window."""
        from .screens.incident import IncidentScreen  # noqa: PLC0415

        event = message.event
        incident = self.incident_for(event)
        if isinstance(incident, str):
            self.notify(incident, severity="warning", timeout=8)
            return
        self.push_screen(IncidentScreen(incident, highlight=event.time))

    def incident_for(self, event: "ThrottleEvent") -> "Incident | str":
        """The incident around ``event`` (:func:`~tierconsole.core.ops.incident.incident_around`), or why
        there is none. A replay builds it from its recording instead."""
        from ..core.ops.incident import incident_around  # noqa: PLC0415

        return incident_around(self.session, event)

    def action_events(self) -> None:
        """``e``: the change events of the profile (the same detector as `tierconsole watch`), newest first."""
        from .screens.events import EventsScreen  # noqa: PLC0415

        session = self.session
        if session is None:
            self.notify("No live profile: change events come from live data.", severity="warning")
            return
        self.push_screen(EventsScreen(list(session.events), session.detector.open, session.profile.name))

    def action_capacity_plan(self) -> None:
        """``c``: choose a model, then its capacity plan and cost view."""
        from .screens.pickers import Picker  # noqa: PLC0415

        session = self.session
        latest = session.latest if session is not None else None
        # one option a model: a model with traffic on several routes is several rows of the quota pane
        models = list({q.model_id: f"{q.name}  ({q.model_id})" for q in (latest.quotas if latest else ())}.items())
        if session is None or not models:
            self.notify("No models collected yet: wait for the first refresh.", severity="warning")
            return

        def chosen(model_id: str | None) -> None:
            if model_id:
                from .screens.plan import PlanScreen  # noqa: PLC0415

                screen = PlanScreen(model_id)
                self.push_screen(screen)
                self._fetch_plan(session, screen, model_id)

        self.push_screen(Picker("Capacity plan and cost: which model?", models), chosen)

    @work(exclusive=True, group="plan", exit_on_error=False)
    async def _fetch_plan(self, session: OperatorSession, screen: "PlanScreen", model_id: str) -> None:
        """The plan screen's figures (:func:`~tierconsole.core.ops.plan.plan_view`), posted to it."""
        from ..core.aws.session import describe_error  # noqa: PLC0415
        from ..core.ops.plan import PlanError, plan_view  # noqa: PLC0415

        try:
            plan, view = await plan_view(session, model_id)
        except Exception as e:  # noqa: BLE001 - shown on the screen; the console keeps running
            if session.alive:
                screen.post_message(PlanFailed(str(e) if isinstance(e, (PlanError, ValueError)) else describe_error(e)))
            return
        if session.alive:
            screen.post_message(PlanReady(plan, view))

    # --- the quota-increase request (plan screen ``i``, then ``s``) -------------------------------------
    def on_quota_request_wanted(self, message: QuotaRequestWanted) -> None:
        from .screens.quota_request import QuotaRequestScreen  # noqa: PLC0415

        if self.session is None:
            self.notify("No live source: this console shows sample data.", severity="warning")
            return
        screen = QuotaRequestScreen(message.model_id)
        self.push_screen(screen)
        self._build_quota_request(self.session, screen, message.model_id)

    @work(exclusive=True, group="quota-request", exit_on_error=False)
    async def _build_quota_request(self, session: OperatorSession, screen: "QuotaRequestScreen", model_id: str) -> None:
        """:func:`~tierconsole.core.ops.quota_request.build` (14 days of history), posted to the screen."""
        from ..core.aws.session import describe_error  # noqa: PLC0415
        from ..core.domain.quotarequest import TooLittleHistory  # noqa: PLC0415
        from ..core.ops.plan import PlanError  # noqa: PLC0415
        from ..core.ops.quota_request import build  # noqa: PLC0415

        try:
            request = await build(session, model_id)
        except Exception as e:  # noqa: BLE001 - shown on the screen; the console keeps running
            if session.alive:
                reason = (f"too little history: {e}" if isinstance(e, TooLittleHistory) else
                          str(e) if isinstance(e, (PlanError, ValueError)) else describe_error(e))
                screen.post_message(QuotaRequestFailed(reason))
            return
        if session.alive:
            screen.post_message(QuotaRequestReady(request))

    def on_quota_submit_wanted(self, message: QuotaSubmitWanted) -> None:
        if self.session is not None:
            self._submit_quota_request(self.session, self.screen, message)

    @work(exclusive=True, group="quota-submit", exit_on_error=False)
    async def _submit_quota_request(self, session: OperatorSession, screen: Any, message: QuotaSubmitWanted) -> None:
        """:func:`~tierconsole.core.ops.quota_request.submit`, confirmed on a modal; the outcome to the screen."""
        from ..core.aws.session import describe_error  # noqa: PLC0415
        from ..core.ops.guard import ReadOnlyError  # noqa: PLC0415
        from ..core.ops.quota_request import QuotaRequestError, submit  # noqa: PLC0415
        from .screens.quota_request import ConfirmQuotaRequestScreen  # noqa: PLC0415

        p = session.profile

        async def confirm(account: str | None) -> bool:
            yes = await self.push_screen_wait(ConfirmQuotaRequestScreen(message.request, account, p.name, p.region))
            return bool(yes) and session.alive

        try:
            result = await submit(session, message.request, confirm)
            done = QuotaSubmitDone(result.message, result.outcome != "declined")
        except (ReadOnlyError, QuotaRequestError) as e:
            done = QuotaSubmitDone(str(e), False)
        except Exception as e:  # noqa: BLE001 - shown on the screen; the console keeps running
            done = QuotaSubmitDone(describe_error(e), False)
        if session.alive:
            screen.post_message(done)

    def action_batch_submit(self) -> None:
        """``b``: the batch submit form for the current profile."""
        from .screens.batch_submit import BatchSubmitScreen  # noqa: PLC0415

        if not isinstance(self.screen, BatchSubmitScreen):
            self.push_screen(BatchSubmitScreen(self.session, latest=self.dashboard.latest))

    def on_cancel_job_requested(self, message: CancelJobRequested) -> None:
        """``x`` on a job of the batch pane: check, confirm (naming job, account, profile), cancel."""
        job = message.job
        if self.session is None:
            self.notify("No live source: this console shows sample data.", title="Cancel batch job",
                        severity="warning")
        elif not job.active:
            self.notify(f"{job.job_name} is {job.status}: only a Submitted, Validating, Scheduled or InProgress "
                        "job can be cancelled.", title=f"Cancel batch job · {self.session.profile.name}",
                        severity="warning")
        else:
            self._cancel_job(self.session, job)

    @work(exclusive=True, group="batch-cancel", exit_on_error=False)
    async def _cancel_job(self, session: OperatorSession, job: BatchJobView) -> None:
        """:func:`~tierconsole.core.ops.batch.cancel_confirmed`, confirmed on a modal; the outcome is
        posted to the dashboard as a :class:`~.messages.Notice`."""
        import botocore.exceptions as bx  # noqa: PLC0415

        from ..core.aws.session import describe_error  # noqa: PLC0415
        from ..core.ops.batch import cancel_confirmed  # noqa: PLC0415
        from ..core.ops.guard import ReadOnlyError  # noqa: PLC0415
        from ..core.session import SessionClosed, SourceFailed  # noqa: PLC0415
        from .screens.batch_submit import ConfirmCancelScreen  # noqa: PLC0415

        p = session.profile
        title = f"Cancel batch job · {p.name}"

        async def confirm(account: str | None) -> str | None:
            yes = await self.push_screen_wait(ConfirmCancelScreen(job, account, p.name, p.region))
            return job.job_arn if yes and session.alive else None

        notice: Notice
        try:
            result = await cancel_confirmed(session, job.job_arn, confirm)
        except (ReadOnlyError, SessionClosed, SourceFailed) as e:
            notice = Notice(str(e), title=title, severity="error", timeout=10 if isinstance(e, ReadOnlyError) else None)
        except bx.ClientError as e:
            err = e.response.get("Error", {})
            notice = Notice(f"{err.get('Code', 'Error')}: {err.get('Message', '')}", title=title, severity="error",
                            timeout=8, refresh=True)
        except (bx.BotoCoreError, OSError) as e:
            notice = Notice(describe_error(e), title=title, severity="error", timeout=8, refresh=True)
        else:
            if result is None:
                notice = Notice(f"Not cancelled: {job.job_name} keeps running.", title=title)
            else:
                notice = Notice(f"{result.get('jobName', job.job_name)}: {result.get('status')}", title=title,
                                timeout=8, refresh=True)
        if session.alive:
            self.dashboard.post_message(notice)
