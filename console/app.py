"""The tierconsole Textual app: screens, bindings and wiring. It makes no AWS calls itself.

Given a live source (:class:`~tierconsole.live.LiveSource`), a worker polls it every
``refresh_seconds`` — the source's collectors make the calls and return plain
:class:`~tierconsole.domain.views.DashboardData` — and the app shows what comes back. A failed
poll still returns data (the failed panes marked stale); the worker then backs off and recovers
by itself. Without a source the app shows whatever :meth:`show_data` is given (tests, replay).
"""
from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import TYPE_CHECKING, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.screen import Screen

from .domain.views import DashboardData
from .screens.dashboard import DashboardScreen
from .screens.messages import PauseToggled, RefreshRequested
from .theming import DEFAULT_THEME, VARIABLE_DEFAULTS, builtin_themes, stylesheet_path

if TYPE_CHECKING:  # pragma: no cover
    from .live import LiveSource

MAX_BACKOFF_S = 30.0


class TierConsoleApp(App[None]):
    TITLE = "tierconsole"
    CSS_PATH = stylesheet_path()

    def __init__(self, theme: str | None = None, *, data: DashboardData | None = None,
                 source: "LiveSource | None" = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.source = source
        self._refresh_now = asyncio.Event()
        self.failures = 0
        self.polls = 0
        for builtin in builtin_themes().values():
            self.register_theme(builtin)
        self.theme = theme or DEFAULT_THEME
        self.paused = False
        self.dashboard = DashboardScreen()
        if data is not None:
            self.dashboard.show(data)

    def get_default_screen(self) -> Screen:
        return self.dashboard

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **VARIABLE_DEFAULTS}

    def show_data(self, data: DashboardData) -> None:
        """Show a refresh. Cheap to call every second: panes redraw only what changed."""
        self.dashboard.show(data)

    # --- live polling -------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self.source is not None:
            p = self.source.profile
            self.show_data(DashboardData(time=time.time(), profile=p.name, region=p.region,
                                         endpoint="starting embedded sandbox…" if p.is_sandbox else None,
                                         is_sandbox=p.is_sandbox))
            self.poll()

    @work(exclusive=True, group="poll", name="poll")
    async def poll(self) -> None:
        """Start the source after the first frame (heavy imports, sandbox), then poll until exit."""
        source = self.source
        await asyncio.to_thread(source.start)
        while True:
            if not self.paused:
                data = await source.refresh()
                self.polls += 1
                stale = any(not st.ok for st in data.status.values())
                self.failures = self.failures + 1 if stale else 0
                self.show_data(data)
            delay = source.refresh_seconds * (2 ** min(self.failures, 5)) if self.failures else source.refresh_seconds
            self._refresh_now.clear()
            try:
                await asyncio.wait_for(self._refresh_now.wait(), timeout=min(delay, MAX_BACKOFF_S))
            except asyncio.TimeoutError:
                pass

    async def action_quit(self) -> None:
        await self.close_source()
        self.exit()

    async def close_source(self) -> None:
        self.workers.cancel_group(self, "poll")
        if self.source is not None:
            source, self.source = self.source, None
            await source.close()

    # --- hooks for the collectors ---------------------------------------------------------------
    def on_refresh_requested(self, message: RefreshRequested) -> None:
        """The operator pressed ``r``: poll now (also cuts a back-off short)."""
        self.failures = 0
        self._refresh_now.set()

    def on_pause_toggled(self, message: PauseToggled) -> None:
        """The operator pressed ``p``. ``self.paused`` tells the poller whether to poll."""
        self.paused = message.paused
        if not message.paused:
            self._refresh_now.set()

    # --- command palette: one command per dashboard binding -----------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, DashboardScreen):
            for binding in DashboardScreen.BINDINGS:
                title = binding.tooltip or binding.description
                yield SystemCommand(title, f"key: {self.get_key_display(binding)}",
                                    partial(self.call_later, screen.run_action, binding.action))
