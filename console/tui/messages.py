"""Messages the dashboard posts for the app (and, later, the collectors) to act on."""
from __future__ import annotations

from textual.message import Message


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
