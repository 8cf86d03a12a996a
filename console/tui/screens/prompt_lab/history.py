"""The prompt lab's history: the list picker (``ctrl+r``), recall with ``↑``/``↓`` and loading the file."""
from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from ....core.domain import format as fmt
from ...theming import screen_stylesheet
from .tiers import TIER_OPTIONS, choice_label
from ...widgets.marked import MarkedOptionList
from .widgets import PromptArea

HISTORY_LIMIT = 500


class HistoryPicker(ModalScreen[dict | None]):
    """The prompt history, newest first: enter recalls one, esc closes."""

    CSS_PATH = screen_stylesheet("actions.tcss")

    BINDINGS = [Binding("escape", "dismiss_none", "Close", show=False)]

    def __init__(self, entries: list[dict]) -> None:
        super().__init__()
        self.entries = list(reversed(entries))

    def compose(self) -> ComposeResult:
        options = []
        for i, e in enumerate(self.entries):
            when = fmt.clock(e.get("time") or 0.0) if e.get("time") else "--:--:--"
            first = (e.get("text") or "").strip().splitlines()[0:1]
            line = Text.assemble((f"{when} ", "dim"), (f"{e.get('profile', '?')} ", "bold"),
                                 f"{fmt.short_model(e.get('model') or '?')} · {choice_label(e.get('tier'))} · ",
                                 (first[0][:120] if first else "(empty)"))
            options.append(Option(line, id=str(i)))
        with Vertical(id="history-box") as box:
            box.border_title = "Prompt history"
            box.border_subtitle = "enter recalls · esc closes"
            if options:
                yield MarkedOptionList(*options, id="history-list")
            else:
                yield Static("No prompts sent yet.", id="history-empty")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.entries[int(event.option.id)])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class HistoryView:
    """The history part of :class:`~.form.PromptLabScreen` (a mixin until the lab's parts are
    widgets of their own that react to messages)."""

    def action_history(self) -> None:
        def chosen(entry: dict | None) -> None:
            if entry is not None:
                self.apply_history(entry)
                self.history_pos = None
                self.say("Recalled from history: ctrl+s sends it.")
                self.query_one(PromptArea).focus()

        self.app.push_screen(HistoryPicker(self.history), chosen)

    @work(thread=True, group="prompt-history", exclusive=True)
    def load_history(self) -> None:
        from ....core.ops.guard import read_history  # noqa: PLC0415

        if self.session is None:
            return
        entries = [e for e in read_history(self.session.history_path, HISTORY_LIMIT) if isinstance(e, dict)]
        self.app.call_from_thread(self._set_history, entries)

    def _set_history(self, entries: list[dict]) -> None:
        self.history = entries + self.history  # anything sent while loading stays last

    def recall(self, step: int) -> None:
        """``↑``/``↓`` on the prompt's first/last line: the previous/next history entry, then the draft."""
        if not self.history:
            self.say("No prompt history yet.")
            return
        area = self.query_one(PromptArea)
        if self.history_pos is None:
            if step > 0:
                return
            self._draft = area.text
            self.history_pos = len(self.history) - 1
        else:
            self.history_pos += step
        if self.history_pos >= len(self.history):
            self.history_pos = None
            area.load_text(self._draft)
            self.say("Back to your draft.")
            return
        self.history_pos = max(0, self.history_pos)
        entry = self.history[self.history_pos]
        self.apply_history(entry)
        when = fmt.clock(entry["time"]) if entry.get("time") else "?"
        self.say(f"History {self.history_pos + 1}/{len(self.history)} · {when} UTC · profile "
                 f"{entry.get('profile', '?')} · ↑/↓ for more, ctrl+s sends")

    def apply_history(self, entry: dict) -> None:
        area = self.query_one(PromptArea)
        area.load_text(entry.get("text") or "")
        area.move_cursor((0, 0))
        self.query_one("#lab-system", Input).value = entry.get("system") or ""
        max_tokens = entry.get("max_tokens")
        self.query_one("#lab-max-tokens", Input).value = "" if max_tokens is None else str(max_tokens)
        temperature = entry.get("temperature")
        self.query_one("#lab-temperature", Input).value = "" if temperature is None else str(temperature)
        self.query_one("#lab-stream", Checkbox).value = bool(entry.get("stream"))
        tier = entry.get("tier")
        if tier == "default":
            tier = "standard"
        if tier in {v for _, v in TIER_OPTIONS}:
            self.query_one("#lab-tier", Select).value = tier
        model = entry.get("model")
        if model in self._model_ids:
            self.query_one("#lab-model", Select).value = model
