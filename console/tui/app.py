"""The tierconsole Textual app: screens, bindings and wiring. It makes no AWS calls itself.

Given a live source (:class:`~tierconsole.core.source.LiveSource`), a worker polls it every
``refresh_seconds`` — the source's collectors make the calls and return plain
:class:`~tierconsole.core.domain.views.DashboardData` — and the app shows what comes back. A failed
poll still returns data (the failed panes marked stale); the worker then backs off and recovers
by itself. Without a source the app shows whatever :meth:`show_data` is given (tests, replay).

Operator actions (prompt lab ``t``, batch submit ``b``, cancel ``x``, plan ``c``, incident ``enter``:
:mod:`.actions`) run over the shared core in :mod:`tierconsole.core.ops`, each in a worker that posts
typed messages (:mod:`.messages`), each holding the :class:`~tierconsole.core.session.OperatorSession`
it started under. Switching profile (``a``, here) closes that session first, so nothing started under
one profile is shown under, or attributed to, another.
"""
from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import TYPE_CHECKING, Iterable, Mapping

from textual import work
from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ..core.domain.views import DashboardData
from ..core.session import OperatorSession
from .actions import OperatorActions
from .fleet_mode import FLEET_BINDINGS, FleetMode
from .keymap import remapped
from .messages import PauseToggled, RefreshRequested
from .screens.dashboard import DashboardScreen
from .terminal import install as install_partial_repaints
from .theming import DEFAULT_THEME, VARIABLE_DEFAULTS, builtin_themes, stylesheet_path

if TYPE_CHECKING:  # pragma: no cover
    from ..core.domain.fleetrows import FleetSnapshot
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


class TierConsoleApp(FleetMode, OperatorActions, App[None]):
    TITLE = "tierconsole"
    BINDINGS = FLEET_BINDINGS
    CSS_PATH = [stylesheet_path()]  # the action screens bring their own (theming.screen_stylesheet)

    def __init__(self, theme: str | None = None, *, data: DashboardData | None = None,
                 source: "LiveSource | None" = None, keymap: Mapping[str, str] | None = None,
                 fleet: "FleetSnapshot | None" = None, **kwargs) -> None:
        """``keymap``: binding id → keys, the operator's remapping (checked: :func:`.keymap.load_keymap`)."""
        super().__init__(**kwargs)
        install_partial_repaints()  # a changed figure sends that figure to the terminal (tui/terminal.py)
        self.keymap: Mapping[str, str] = dict(keymap or {})
        if self.keymap:
            self.set_keymap(dict(self.keymap))
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
        self.init_fleet(fleet)  # a fleet profile: the fleet screen first, its session apart (fleet_mode.py)
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
        # ANSI colours mapped for a light or dark theme, as Textual's theme watcher does. Private Textual API:
        # no public way starts an app in a theme without a restyle before the first frame (assigning
        # App.theme in __init__ refreshes the CSS at startup: Textualize/textual#6360; the filter is
        # Textualize/textual#4192's). tests/functional/test_textual_internals.py pins the result.
        self._refresh_truecolor_filter(self.ansi_theme)
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
        if self.fleet_screen is not None:
            self.push_screen("fleet")  # a fleet profile opens on its fleet (fleet_mode.py)
        if self.fleet_session is not None:
            self.call_after_refresh(self.fleet_poll)
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
        await self.close_fleet()
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
        self.fleet_refresh_now()
        if self.paused and message.while_paused:
            self._poll_once = True
        self._refresh_now.set()

    def on_pause_toggled(self, message: PauseToggled) -> None:
        """The operator pressed ``p``. ``self.paused`` tells the poller whether to poll."""
        self.paused = message.paused
        if not message.paused:
            self._refresh_now.set()

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
        await self.leave_fleet()
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
            for binding in remapped(type(screen).BINDINGS, self.keymap):
                title = binding.tooltip or binding.description
                yield SystemCommand(title, f"key: {self.get_key_display(binding)}",
                                    partial(self.call_later, screen.run_action, binding.action))
        if not isinstance(screen, DashboardScreen):
            yield SystemCommand("Switch profile (console or AWS config)", "key: a on the dashboard",
                                self.action_switch_profile)
