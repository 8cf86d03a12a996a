"""The tierconsole Textual app: screens, bindings and wiring. It makes no AWS calls itself.

Given a live source (:class:`~tierconsole.core.source.LiveSource`), a worker polls it every
``refresh_seconds`` — the source's collectors make the calls and return plain
:class:`~tierconsole.core.domain.views.DashboardData` — and the app shows what comes back. A failed
poll still returns data (the failed panes marked stale); the worker then backs off and recovers
by itself. Without a source the app shows whatever :meth:`show_data` is given (tests, replay).

Operator actions (prompt lab ``t``, batch submit ``b``, cancel ``x``, profile switch ``a``) run
over the shared core in :mod:`tierconsole.core.ops`, each in a worker, each holding the
:class:`~tierconsole.core.session.OperatorSession` it started under. Switching profile closes that
session first, so nothing started under one profile is shown under, or attributed to, another.
"""
from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import TYPE_CHECKING, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ..core.domain.views import BatchJobView, DashboardData
from ..core.session import OperatorSession
from .screens.dashboard import DashboardScreen
from .messages import PauseToggled, RefreshRequested
from .theming import DEFAULT_THEME, VARIABLE_DEFAULTS, builtin_themes, stylesheet_paths

if TYPE_CHECKING:  # pragma: no cover
    from ..core.domain.incident import Incident
    from ..core.domain.profile import Profile
    from ..core.source import LiveSource
    from .screens.prompt_lab import PromptLabScreen

# The action screens (prompt lab, batch submit, profile switcher, incident, plan) are imported when
# first opened: together they were ~25 ms of the time to the first frame.

MAX_BACKOFF_S = 30.0
#: Worker groups that belong to one profile session: cancelled when it is switched away from.
SESSION_GROUPS = frozenset({"poll", "prompt", "batch-submit", "batch-cancel", "plan"})
#: Screens whose key table is offered in the command palette (the footer and help read the same
#: table), by class name: the dashboard, the prompt lab and the batch submit form.
PALETTE_SCREENS = frozenset({"DashboardScreen", "PromptLabScreen", "BatchSubmitScreen"})


class TierConsoleApp(App[None]):
    TITLE = "tierconsole"
    CSS_PATH = stylesheet_paths()

    def __init__(self, theme: str | None = None, *, data: DashboardData | None = None,
                 source: "LiveSource | None" = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.generation = 0  # bumped by every profile switch
        self.session: OperatorSession | None = OperatorSession(source, 0) if source is not None else None
        self._refresh_now = asyncio.Event()
        self._closing: set[asyncio.Task] = set()
        self._prompt_lab: PromptLabScreen | None = None
        self.failures = 0
        self.polls = 0
        for builtin in builtin_themes().values():
            self.register_theme(builtin)
        self._set_initial_theme(theme or DEFAULT_THEME)
        self.paused = False
        self._poll_once = False  # ``r`` while paused: one poll
        self.dashboard = DashboardScreen()
        if self.session is not None:
            self._watch_profile(self.session.profile)
        if data is not None:
            self.dashboard.show(data)

    def _watch_profile(self, profile: "Profile") -> None:
        """The dashboard shows live data of ``profile``, alerting at its threshold."""
        self.dashboard.live = True
        self.dashboard.set_alerts(profile.alert_threshold, profile.alert_bell)

    def _set_initial_theme(self, name: str) -> None:
        """Start in ``name`` without restyling: assigning ``App.theme`` re-parses every stylesheet
        and restyles the app once it runs (~15 ms before the first frame), but nothing is parsed
        or styled yet here. So set the value and the classes Textual's theme watcher would set."""
        if name not in self.available_themes:
            self.theme = name  # Textual's own error naming the theme
            return
        self.set_reactive(App.theme, name)
        dark = self.current_theme.dark
        for cls in [c for c in self.classes if c.startswith("-theme-")]:
            self.set_class(False, cls, update=False)
        self.set_class(True, f"-theme-{name}", update=False)
        self.set_class(dark, "-dark-mode", update=False)
        self.set_class(not dark, "-light-mode", update=False)
        self._refresh_truecolor_filter(self.ansi_theme)  # ANSI colours mapped for a light or dark theme
        self.stylesheet.set_variables(self.get_css_variables())  # the theme's colours, before the first parse

    @property
    def source(self) -> "LiveSource | None":
        """The live source of the current profile (None without one, or once closed)."""
        return self.session.source if self.session is not None else None

    def get_default_screen(self) -> Screen:
        return self.dashboard

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **VARIABLE_DEFAULTS}

    def show_data(self, data: DashboardData) -> None:
        """Show a refresh. Cheap to call every second: panes redraw only what changed."""
        self.dashboard.show(data)

    # --- live polling -------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self.session is not None:
            self.show_data(self.starting_data(self.session.profile))
            # Only once the first frame is on the terminal: starting the source imports the AWS stack
            # (and the sandbox) in a thread, which would otherwise hold the GIL against the first frame.
            self.call_after_refresh(self.poll)

    @staticmethod
    def starting_data(profile: "Profile") -> DashboardData:
        """What the dashboard shows for a profile before its first poll: who, where, nothing else."""
        return DashboardData(time=time.time(), profile=profile.name, region=profile.region,
                             endpoint="starting embedded sandbox…" if profile.is_sandbox else None,
                             is_sandbox=profile.is_sandbox, read_only=profile.read_only)

    @work(exclusive=True, group="poll", name="poll", exit_on_error=False)
    async def poll(self) -> None:
        """Start the source after the first frame (heavy imports, sandbox), then poll until exit."""
        session = self.session
        if session is None:
            return
        source = session.source
        try:
            await session.start()
        except Exception as exc:  # noqa: BLE001 - shown, and the console stays usable (switch profile)
            if session.alive:
                self.notify(f"{session.start_error or exc}", title=f"Profile {source.profile.name}: cannot start",
                            severity="error", timeout=30)
            return
        while session.alive:
            if not self.paused or self._poll_once:
                self._poll_once = False
                data = await source.refresh()
                if not session.alive:
                    return  # switched away while this poll ran: its data belongs to the old profile
                self.polls += 1
                stale = any(not st.ok for st in data.status.values())
                self.failures = self.failures + 1 if stale else 0
                session.observe(data)
                self.show_data(data)
            delay = min(MAX_BACKOFF_S, source.refresh_seconds * (2 ** min(self.failures, 5))) if self.failures \
                else source.refresh_seconds
            self.dashboard.set_retry(time.monotonic() + delay if self.failures else None)
            self._refresh_now.clear()
            try:
                await asyncio.wait_for(self._refresh_now.wait(), timeout=delay)
            except asyncio.TimeoutError:
                pass

    async def action_quit(self) -> None:
        await self.close_source()
        if self._closing:
            await asyncio.wait(set(self._closing), timeout=20)
        self.exit()

    def _cancel_session_workers(self) -> None:
        for worker in list(self.workers):
            if worker.group in SESSION_GROUPS:
                worker.cancel()

    async def close_source(self) -> None:
        """Stop polling and acting for the current profile and close its source."""
        session, self.session = self.session, None
        if session is not None:
            session.closed = True
        self._cancel_session_workers()
        if session is not None:
            await session.close()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that failed unexpectedly is reported, never lost (workers here do not exit the app)."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.log.error(f"worker {event.worker.name!r} failed: {error!r}")
            self.notify(f"{type(error).__name__}: {error}", title=f"{event.worker.name or 'task'} failed",
                        severity="error", timeout=30)

    # --- hooks for the collectors ---------------------------------------------------------------
    def on_refresh_requested(self, message: RefreshRequested) -> None:
        """The operator pressed ``r`` (or an action changed something): poll now, cutting a back-off
        short. While paused, ``r`` polls once (the dashboard shows that one refresh and stays paused)."""
        self.failures = 0
        if self.paused and message.while_paused:
            self._poll_once = True
        self._refresh_now.set()

    def on_pause_toggled(self, message: PauseToggled) -> None:
        """The operator pressed ``p``. ``self.paused`` tells the poller whether to poll."""
        self.paused = message.paused
        if not message.paused:
            self._refresh_now.set()

    # --- operator actions -----------------------------------------------------------------------
    def action_prompt_lab(self) -> None:
        """``t``: the prompt lab of the current profile (kept while the profile is, with its last results)."""
        from .screens.prompt_lab import PromptLabScreen  # noqa: PLC0415

        if isinstance(self.screen, PromptLabScreen):
            return
        if self._prompt_lab is None or self._prompt_lab.session is not self.session:
            self._prompt_lab = PromptLabScreen(self.session)
            self.install_screen(self._prompt_lab, f"prompt-lab-{self.generation}")
        self.push_screen(self._prompt_lab)

    # --- triage and planning ----------------------------------------------------------------------
    def on_throttle_list_selected(self, message) -> None:
        """``enter`` on a throttle event: the incident view of that event's window."""
        from .screens.incident import IncidentScreen  # noqa: PLC0415

        event = message.event
        incident = self.incident_for(event)
        if isinstance(incident, str):
            self.notify(incident, severity="warning", timeout=8)
            return
        self.push_screen(IncidentScreen(incident, highlight=event.time))

    def incident_for(self, event) -> "Incident | str":
        """The incident around ``event`` from the last collected answers (its minute, some before and
        after, the diagnosis about it), or why there is none."""
        from ..core.domain import incident as inc  # noqa: PLC0415
        from ..core.domain.format import clock  # noqa: PLC0415

        session = self.session
        collector = session.source.collector if session is not None and session.source is not None else None
        answers = collector.answers if collector is not None else None
        if answers is None:
            return "No metrics collected yet for an incident view."
        now = collector.clock()
        if answers.start is not None and event.time < answers.start:
            return (f"{clock(event.time)} UTC is older than the metrics the console keeps (the last "
                    f"{collector.history_minutes} minutes): `tierconsole incident export --since 1h --model "
                    f"{event.model_id}` reports it.")
        start, end = inc.event_window(event.time, answers.start if answers.start is not None else now - 15 * 60, now)
        reserved = {r.model_id for r in session.profile.reservations}
        # the model's own series: the on-demand route, its rows naming its quotas
        rows = collector.route_timeline(answers, event.model_id, "on_demand", start, end,
                                        event.model_id in reserved)
        return inc.from_minutes(event.model_id, collector.names.get(event.model_id, event.model_id), rows,
                                start, end, focus=event.time)

    def action_capacity_plan(self) -> None:
        """``c``: choose a model, then its capacity plan and cost view."""
        from .screens.pickers import Picker  # noqa: PLC0415

        session = self.session
        latest = session.latest if session is not None else None
        models = [(q.model_id, f"{q.name}  ({q.model_id})") for q in (latest.quotas if latest else ())]
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
    async def _fetch_plan(self, session: OperatorSession, screen, model_id: str) -> None:
        from ..core.aws.history import fetch_history  # noqa: PLC0415
        from ..core.aws.session import describe_error  # noqa: PLC0415
        from ..core.domain.costview import cost_view  # noqa: PLC0415
        from ..core.domain.planning import plan_from_profile  # noqa: PLC0415

        try:
            source = session.source
            cw = await source.ctx.client("cloudwatch")
            hist = await fetch_history(cw, model_id, days=14, now=source.collector.clock())
            plan = await asyncio.to_thread(plan_from_profile, hist.frame, session.profile, model_id)
            view = cost_view(hist.frame, model_id, session.prices)
        except Exception as e:  # noqa: BLE001 - shown on the screen; the console keeps running
            if session.alive:
                screen.show_error(str(e) if isinstance(e, ValueError) else describe_error(e))
            return
        if session.alive:
            screen.show_plan(plan)
            screen.show_spend(view)

    def action_batch_submit(self) -> None:
        """``b``: the batch submit form for the current profile."""
        from .screens.batch_submit import BatchSubmitScreen  # noqa: PLC0415

        if not isinstance(self.screen, BatchSubmitScreen):
            self.push_screen(BatchSubmitScreen(self.session))

    def cancel_job(self, job: BatchJobView) -> None:
        """``x`` on a job of the batch pane: check, confirm (naming job, account, profile), cancel."""
        if self.session is None:
            self.notify("No live source: this console shows sample data.", title="Cancel batch job",
                        severity="warning")
            return
        self._cancel_job(self.session, job)

    @work(exclusive=True, group="batch-cancel", exit_on_error=False)
    async def _cancel_job(self, session: OperatorSession, job: BatchJobView) -> None:
        import botocore.exceptions as bx  # noqa: PLC0415

        from ..core.ops.batch import cancel_batch  # noqa: PLC0415
        from ..core.ops.guard import ReadOnlyError  # noqa: PLC0415
        from ..core.aws.session import describe_error  # noqa: PLC0415
        from ..core.session import SessionClosed, SourceFailed  # noqa: PLC0415
        from .screens.batch_submit import ConfirmCancelScreen  # noqa: PLC0415

        title = f"Cancel batch job · {session.profile.name}"
        if not job.active:
            self.notify(f"{job.job_name} is {job.status}: only a Submitted, Validating, Scheduled or InProgress "
                        "job can be cancelled.", title=title, severity="warning")
            return
        try:
            await asyncio.to_thread(session.guard.require_mutation, "batch-cancel", job.job_arn)
        except ReadOnlyError as e:
            self.notify(str(e), title=title, severity="error", timeout=10)
            return
        try:
            ctx = await session.context()
            account = await session.ensure_account()
        except (SessionClosed, SourceFailed) as e:
            self.notify(str(e), title=title, severity="error")
            return
        p = session.profile
        confirmed = await self.push_screen_wait(ConfirmCancelScreen(job, account, p.name, p.region))
        if not session.alive:
            return
        if not confirmed:
            self.notify(f"Not cancelled: {job.job_name} keeps running.", title=title)
            return
        try:
            result = await session.mutation(cancel_batch(ctx, session.guard, job.job_arn))
        except ReadOnlyError as e:
            message, severity = str(e), "error"
        except bx.ClientError as e:
            err = e.response.get("Error", {})
            message, severity = f"{err.get('Code', 'Error')}: {err.get('Message', '')}", "error"
        except (bx.BotoCoreError, OSError) as e:
            message, severity = describe_error(e), "error"
        else:
            message, severity = f"{result.get('jobName', job.job_name)}: {result.get('status')}", "information"
        if not session.alive:
            return
        self.notify(message, title=title, severity=severity, timeout=8)
        self.post_message(RefreshRequested())

    def action_switch_profile(self) -> None:
        """``a``: pick a console profile or an AWS config profile and switch to it."""
        from .screens.profile_switcher import ProfileSwitcher  # noqa: PLC0415

        if isinstance(self.screen, ProfileSwitcher):
            return
        current = self.session.profile.name if self.session is not None else None

        def chosen(profile: "Profile | None") -> None:
            if profile is not None:
                self.switch_profile(profile)

        self.push_screen(ProfileSwitcher(current), chosen)

    @work(exclusive=True, group="switch", exit_on_error=False)
    async def switch_profile(self, profile: "Profile") -> None:
        """Watch ``profile`` instead of the current one.

        In order: the old session is marked closed (its handlers show nothing from here on) and its
        workers (poll, prompts, batch) are cancelled; action screens go; the panes are cleared to the
        new profile's empty data; a new source and poll start. The old source is closed in the
        background once batch calls already sent have finished (they are never cut in half).
        """
        from ..core.source import LiveSource  # noqa: PLC0415

        old = self.session
        self.generation += 1
        if old is not None:
            old.closed = True
        self._cancel_session_workers()
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        if self._prompt_lab is not None:
            lab, self._prompt_lab = self._prompt_lab, None
            self.uninstall_screen(lab)
            if lab.is_attached:
                await lab.remove()
        source = old.source.for_profile(profile) if old is not None else LiveSource(profile)
        self.session = OperatorSession(source, self.generation)
        self.failures = 0
        self.dashboard.reset_for_profile()
        self._watch_profile(source.profile)
        self.dashboard.paused = False
        self.paused = False
        self.show_data(self.starting_data(source.profile))
        self.poll()
        if old is not None:
            task = asyncio.ensure_future(old.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        self.notify(f"Now watching profile {profile.name} ({profile.region}).", title="Profile switched")

    # --- command palette: one command per binding of the screen's key table ----------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if any(cls.__name__ in PALETTE_SCREENS for cls in type(screen).__mro__):
            for binding in type(screen).BINDINGS:
                title = binding.tooltip or binding.description
                yield SystemCommand(title, f"key: {self.get_key_display(binding)}",
                                    partial(self.call_later, screen.run_action, binding.action))
        if not isinstance(screen, DashboardScreen):
            yield SystemCommand("Switch profile (console or AWS config)", "key: a on the dashboard",
                                self.action_switch_profile)
