"""The prompt lab's widgets: the prompt editor (its ``↑``/``↓`` recall history), the stream tick box,
the results table and one tier's answer."""
from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Checkbox, DataTable, Static, TextArea

from ....core.domain import format as fmt
from ...widgets.render import COMPONENT_CLASSES


class TickBox(Checkbox):
    """A checkbox that shows a tick only when ticked (Textual's draws its ``X`` either way, dimmed
    when off, which reads as ticked on many terminals and without colour)."""

    @property
    def _button(self):
        self.BUTTON_INNER = "✓" if self.value else " "
        return super()._button

class PromptArea(TextArea):
    """The prompt editor. ``↑`` on the first line and ``↓`` on the last recall the history, as in a shell."""

    class Recall(Message):
        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("up", "older", "Older prompt", show=False, id="prompt-history-older",
                tooltip="In the prompt, on its first line: recall the previous prompt from history"),
        Binding("down", "newer", "Newer prompt", show=False, id="prompt-history-newer",
                tooltip="In the prompt, on its last line: recall the next prompt (or your draft)"),
    ]

    def action_older(self) -> None:
        if self.cursor_at_first_line:
            self.post_message(self.Recall(-1))
        else:
            self.action_cursor_up()

    def action_newer(self) -> None:
        if self.cursor_at_last_line:
            self.post_message(self.Recall(1))
        else:
            self.action_cursor_down()

class ResultsTable(DataTable):
    """One row per tier tried; cells use the dashboard's semantic colours."""

    COMPONENT_CLASSES = DataTable.COMPONENT_CLASSES | COMPONENT_CLASSES
    ALLOW_MAXIMIZE = False

class TierOutput(VerticalScroll):
    """One tier's answer text (streamed as it arrives) or its exact error."""

    COMPONENT_CLASSES = COMPONENT_CLASSES
    ALLOW_MAXIMIZE = False

    def __init__(self, tier: str) -> None:
        super().__init__(classes="tier-output")
        self.tier = tier
        self.border_title = fmt.tier_label(tier)
        self.content: str | Text = ""

    @property
    def text(self) -> str:
        return self.content.plain if isinstance(self.content, Text) else self.content

    def compose(self) -> ComposeResult:
        yield Static(self.content, classes="tier-text", markup=False)

    def show(self, text: str | Text, follow: bool = False) -> None:
        """Show ``text`` (kept until mounted if called early). ``follow``: keep the end in view
        while streaming (unless the operator scrolled up to read)."""
        self.content = text
        statics = self.query(Static)
        if not statics:
            return
        at_end = self.scroll_y >= self.max_scroll_y - 1
        statics.first().update(text)
        if follow and at_end:
            self.call_after_refresh(self.scroll_end, animate=False)
