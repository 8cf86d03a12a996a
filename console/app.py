"""The tierconsole Textual app: draws the dashboard from data it is given; fetches nothing itself.

Wiring (done by the caller): call :meth:`TierConsoleApp.show_data` with each
:class:`~tierconsole.domain.views.DashboardData`; override :meth:`on_refresh_requested` to poll now;
read :attr:`TierConsoleApp.paused` (or override :meth:`on_pause_toggled`) to stop polling.
"""
from __future__ import annotations

from functools import partial
from typing import Iterable

from textual.app import App, SystemCommand
from textual.screen import Screen

from .domain.views import DashboardData
from .screens.dashboard import DashboardScreen
from .screens.messages import PauseToggled, RefreshRequested
from .theming import DEFAULT_THEME, VARIABLE_DEFAULTS, builtin_themes, stylesheet_path


class TierConsoleApp(App[None]):
    TITLE = "tierconsole"
    CSS_PATH = stylesheet_path()

    def __init__(self, theme: str | None = None, *, data: DashboardData | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
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

    # --- hooks for the collectors (override or replace) ---------------------------------------
    def on_refresh_requested(self, message: RefreshRequested) -> None:
        """The operator pressed ``r``. Override to start a collection now."""

    def on_pause_toggled(self, message: PauseToggled) -> None:
        """The operator pressed ``p``. ``self.paused`` tells collectors whether to poll."""
        self.paused = message.paused

    # --- command palette: one command per dashboard binding -----------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, DashboardScreen):
            for binding in DashboardScreen.BINDINGS:
                title = binding.tooltip or binding.description
                yield SystemCommand(title, f"key: {self.get_key_display(binding)}",
                                    partial(self.call_later, screen.run_action, binding.action))
