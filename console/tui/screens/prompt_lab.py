"""Prompt lab: send a test prompt at one tier, at every tier side by side, or escalating.

Everything goes through the shared core (:func:`tierconsole.actions.prompt.send_prompt`) with the
session's long-lived bedrock-runtime client, in a cancellable worker. Each tier's row fills in as
that tier finishes; streamed text appears as it arrives, one area per tier. ``esc`` cancels a prompt
in flight; ``f2`` goes back to the dashboard and lets it run. Every prompt is audited (length and
hash, never the text) and appended to the history file, which ``↑``/``↓`` and ``ctrl+r`` recall.
"""
from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Checkbox, DataTable, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from ...core.domain import format as fmt
from ..widgets.header import ContextBar, ContextInfo
from ..widgets.keybar import KeyBar
from ..widgets.render import COMPONENT_CLASSES, Palette, PaletteHost
from .help import HelpScreen
from ..messages import RefreshRequested

if TYPE_CHECKING:  # pragma: no cover
    from ...core.ops.prompt import PromptRequest, PromptResult
    from ...core.session import OperatorSession

#: (label, value) of the tier picker; values are what :class:`PromptRequest` takes.
TIER_OPTIONS: list[tuple[str, str]] = [
    ("Standard", "standard"), ("Priority", "priority"), ("Flex", "flex"), ("Reserved", "reserved"),
    ("All tiers side by side", "all"), ("Escalate: Standard → Priority", "escalate"),
]
#: The tiers "all" sends, in display order (the same set as the core's ``ALL_TIERS``).
ALL_TIERS_ORDER = ("reserved", "priority", "default", "flex")
#: Cost and latency come right after the status, so that they are on screen at 80 columns.
COLUMNS = (("tier", "Tier"), ("served", "Served"), ("status", "Status"), ("cost", "Cost"),
           ("latency", "Latency"), ("ttft", "TTFT"), ("tps", "Out tok/s"), ("in", "In tok"), ("out", "Out tok"),
           ("detail", "Detail"))
#: Below this height the lab compacts its form (one-line fields) so every tier's row stays on screen.
COMPACT_BELOW = 36
HISTORY_LIMIT = 500
PROMPT_HINT = "↑ on the first line recalls history, ctrl+r lists it"


def wire_tier(tier: str) -> str:
    return "default" if tier == "standard" else tier


def first_tiers(tier: str) -> tuple[str, ...]:
    """The rows a run starts with (escalate adds Priority only after a Standard throttle)."""
    if tier == "all":
        return ALL_TIERS_ORDER
    if tier == "escalate":
        return ("default",)
    return (wire_tier(tier),)


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


def choice_label(tier: str | None) -> str:
    """A tier choice as the picker says it: ``default``/``standard`` → Standard, ``all`` → all tiers."""
    return {"all": "all tiers", "escalate": "escalate"}.get(tier or "", fmt.tier_label(tier or "?"))


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


class HistoryPicker(ModalScreen[dict | None]):
    """The prompt history, newest first: enter recalls one, esc closes."""

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
                yield OptionList(*options, id="history-list")
            else:
                yield Static("No prompts sent yet.", id="history-empty")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.entries[int(event.option.id)])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class PromptLabScreen(Screen):
    """Send test prompts and compare tiers. One lab per profile session (it keeps its last results)."""

    #: The lab's key table: its footer, its help (f1) and the command palette all read it.
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("ctrl+enter,ctrl+s", "send", "Send", key_display="^s", priority=True, id="prompt-send",
                tooltip="Send the prompt (ctrl+enter or ctrl+s)"),
        Binding("escape", "cancel_prompt", "Cancel", key_display="esc", id="prompt-cancel",
                tooltip="Cancel the prompt in flight"),
        Binding("escape", "close", "Back", key_display="esc", id="prompt-back", tooltip="Back to the dashboard"),
        Binding("f2", "dashboard", "Dashboard", id="prompt-dashboard",
                tooltip="Back to the dashboard (a prompt in flight keeps running)"),
        Binding("ctrl+r", "history", "History", id="prompt-history", tooltip="Pick a previous prompt from the history"),
        Binding("f1", "help", "Help", id="prompt-help", tooltip="Show the prompt lab's keys"),
    ]

    in_flight: reactive[bool] = reactive(False)

    def __init__(self, session: "OperatorSession | None", **kwargs) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.run_id = 0
        self.request: "PromptRequest | None" = None
        self.results: dict[str, "PromptResult"] = {}  # by wire tier, this run
        self.pending: dict[str, str] = {}  # wire tier -> status while it has no result ("waiting…", "streaming…", "cancelled")
        self.outputs: dict[str, TierOutput] = {}
        self.texts: dict[str, list[str]] = {}
        self.started = 0.0
        self.history: list[dict] = []
        self.history_pos: int | None = None
        self._draft: str = ""
        self._worker = None
        self._model_ids: list[str] = []
        self._message = ""

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield PaletteHost()
        yield ContextBar(id="lab-context")
        with Horizontal(id="lab-form", classes="lab-row"):
            with Vertical(id="lab-model-field", classes="lab-field"):
                yield Label("Model", classes="lab-label")
                yield Select([], id="lab-model", prompt="choose a model")
            with Vertical(id="lab-tier-field", classes="lab-field"):
                yield Label("Tier", classes="lab-label")
                yield Select(TIER_OPTIONS, id="lab-tier", value="standard", allow_blank=False)
        with Horizontal(id="lab-options", classes="lab-row"):
            with Vertical(id="lab-max-field", classes="lab-field"):
                yield Label("Max tokens", classes="lab-label")
                yield Input(id="lab-max-tokens", placeholder="model max")
            with Vertical(id="lab-temp-field", classes="lab-field"):
                yield Label("Temperature", classes="lab-label")
                yield Input(id="lab-temperature", placeholder="model's")
            with Vertical(id="lab-stream-field", classes="lab-field"):
                yield Label("Streaming", classes="lab-label")
                yield TickBox("Stream", id="lab-stream")
            with Vertical(id="lab-system-field", classes="lab-field"):
                yield Label("System prompt (optional)", classes="lab-label")
                yield Input(id="lab-system", placeholder="e.g. Answer in one sentence.")
        yield Label(f"Prompt  ·  {PROMPT_HINT}", classes="lab-label", id="lab-prompt-label")
        yield PromptArea(id="lab-prompt", soft_wrap=True, placeholder="Type a prompt, then ctrl+s (or ctrl+enter)")
        with Horizontal(id="lab-bar"):
            yield Static("", id="lab-message", markup=False)
            yield Button("Send", id="lab-send", variant="primary", compact=True)
        table = ResultsTable(id="lab-results", cursor_type="none", zebra_stripes=False)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield Static("", id="lab-detail", markup=False)
        yield Horizontal(id="lab-outputs")
        yield KeyBar()

    def on_mount(self) -> None:
        self.refresh_context()
        self.refresh_models()
        self.query_one(PromptArea).focus()
        self.load_history()
        profile = self.session.profile if self.session else None
        if profile is not None and profile.read_only and not profile.allow_prompts_in_read_only:
            self.say(f"READ-ONLY: profile {profile.name!r} refuses test prompts (allow_prompts_in_read_only: false)",
                     "warn")
        elif self.session is None:
            self.say("No live source (sample data): prompts cannot be sent from this console.", "warn")

    def on_resize(self, event) -> None:
        """Below ``COMPACT_BELOW`` rows the form's fields are one line each (no borders), the prompt
        is shorter and its hint moves onto its border: every tier's row and the answers keep room."""
        compact = event.size.height < COMPACT_BELOW
        if compact == self.has_class("-compact"):
            return
        self.set_class(compact, "-compact")
        for field in self.query("#lab-form Select, #lab-options Input, #lab-options Checkbox"):
            field.compact = compact
        self.query_one(PromptArea).border_subtitle = PROMPT_HINT if compact else None

    def on_screen_resume(self) -> None:
        self.refresh_context()
        if not self._model_ids:
            self.refresh_models()

    # ------------------------------------------------------------------ context and choices
    def context_info(self) -> ContextInfo:
        if self.session is not None:
            p = self.session.profile
            return ContextInfo("PROMPT LAB", p.name, self.session.account_id, p.region, p.is_sandbox, p.read_only)
        data = getattr(self.app, "dashboard", None) and self.app.dashboard.latest
        if data is None:
            return ContextInfo("PROMPT LAB")
        return ContextInfo("PROMPT LAB", data.profile, data.account_id, data.region, data.is_sandbox, data.read_only)

    def refresh_context(self) -> None:
        self.query_one(ContextBar).set_data(self.context_info())

    @property
    def model_ids(self) -> list[str]:
        """The models offered in the model picker, in order."""
        return list(self._model_ids)

    def refresh_models(self) -> None:
        from ...core.session import model_choices  # noqa: PLC0415

        if self.session is not None:
            choices = self.session.models()
        else:
            choices = model_choices(None, self.app.dashboard.latest if hasattr(self.app, "dashboard") else None)
        select = self.query_one("#lab-model", Select)
        ids = [c.model_id for c in choices]
        if ids == self._model_ids:
            return
        current = select.value
        self._model_ids = ids
        select.set_options([(c.label, c.model_id) for c in choices])
        if current in ids:
            select.value = current
        elif ids:
            select.value = ids[0]

    # ------------------------------------------------------------------ messages
    def say(self, text: str, level: str = "muted") -> None:
        """The one-line message under the prompt: what is wrong, or what is happening."""
        self._message = text
        message = self.query_one("#lab-message", Static)
        message.update(Text(text))
        for name in ("muted", "ok", "warn", "crit"):
            message.set_class(name == level, f"-{name}")

    @property
    def message(self) -> str:
        return self._message

    # ------------------------------------------------------------------ building the request
    def build_request(self) -> "PromptRequest":
        """The request from the form. Raises ValueError naming the field that is wrong."""
        from ...core.ops.prompt import PromptRequest  # noqa: PLC0415

        model = self.query_one("#lab-model", Select).value
        if model is Select.BLANK or not model:
            known = "" if self._model_ids else " (none known yet for this profile: wait for the first refresh, " \
                                               "or list models in the profile)"
            raise ValueError(f"model: choose a model{known}")
        raw_max = self.query_one("#lab-max-tokens", Input).value.strip().replace(",", "").replace("_", "")
        max_tokens = None
        if raw_max:
            try:
                max_tokens = int(raw_max)
            except ValueError:
                raise ValueError(f"max tokens: {raw_max!r} is not a whole number") from None
        raw_temp = self.query_one("#lab-temperature", Input).value.strip()
        temperature = None
        if raw_temp:
            try:
                temperature = float(raw_temp)
            except ValueError:
                raise ValueError(f"temperature: {raw_temp!r} is not a number (0 to 1)") from None
        system = self.query_one("#lab-system", Input).value.strip() or None
        req = PromptRequest(model_id=str(model), text=self.query_one(PromptArea).text,
                            tier=str(self.query_one("#lab-tier", Select).value), system=system,
                            max_tokens=max_tokens, temperature=temperature,
                            stream=self.query_one("#lab-stream", Checkbox).value)
        req.validate()
        return req

    _FIELD_OF = {"model": "#lab-model", "max tokens": "#lab-max-tokens", "temperature": "#lab-temperature",
                 "prompt": "#lab-prompt", "tier": "#lab-tier"}

    # ------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_prompt":
            return self.in_flight
        if action == "close":
            return not self.in_flight
        return True

    def watch_in_flight(self) -> None:
        self.refresh_bindings()
        if self.is_mounted:
            self.query_one("#lab-send", Button).disabled = self.in_flight

    @on(Button.Pressed, "#lab-send")
    def _send_pressed(self) -> None:
        self.action_send()

    def action_send(self) -> None:
        if self.in_flight:
            self.say("A prompt is already in flight: esc cancels it.", "warn")
            return
        try:
            req = self.build_request()
        except ValueError as e:
            field = str(e).split(":", 1)[0]
            self.say(f"✖ {e} — nothing sent", "crit")
            if field in self._FIELD_OF:
                self.query_one(self._FIELD_OF[field]).focus()
            return
        if self.session is None:
            self.say("✖ No live source: this console shows sample data; nothing sent.", "crit")
            return
        self.history_pos = None
        self.run_id += 1
        self.in_flight = True
        self._worker = self.run_prompt(self.session, req, self.run_id)

    def action_cancel_prompt(self) -> None:
        if not self.in_flight or self._worker is None:
            return
        self._worker.cancel()
        self._mark_cancelled(self.run_id)

    def action_close(self) -> None:
        if self.app.screen is self:
            self.app.pop_screen()

    def action_dashboard(self) -> None:
        if self.in_flight:
            self.app.notify("The prompt keeps running: t returns to the prompt lab.", title="Prompt lab")
        self.action_close()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen([*self.BINDINGS, *PromptArea.BINDINGS]))

    def action_history(self) -> None:
        def chosen(entry: dict | None) -> None:
            if entry is not None:
                self.apply_history(entry)
                self.history_pos = None
                self.say("Recalled from history: ctrl+s sends it.")
                self.query_one(PromptArea).focus()

        self.app.push_screen(HistoryPicker(self.history), chosen)

    # ------------------------------------------------------------------ history
    @work(thread=True, group="prompt-history", exclusive=True)
    def load_history(self) -> None:
        from ...core.ops.guard import read_history  # noqa: PLC0415

        if self.session is None:
            return
        entries = [e for e in read_history(self.session.history_path, HISTORY_LIMIT) if isinstance(e, dict)]
        self.app.call_from_thread(self._set_history, entries)

    def _set_history(self, entries: list[dict]) -> None:
        self.history = entries + self.history  # anything sent while loading stays last

    @on(PromptArea.Recall)
    def _recall(self, event: PromptArea.Recall) -> None:
        if not self.history:
            self.say("No prompt history yet.")
            return
        area = self.query_one(PromptArea)
        if self.history_pos is None:
            if event.step > 0:
                return
            self._draft = area.text
            self.history_pos = len(self.history) - 1
        else:
            self.history_pos += event.step
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

    # ------------------------------------------------------------------ a run
    async def begin_run(self, req: "PromptRequest") -> None:
        """Reset the table and the output areas for a new request (rows show as waiting)."""
        self.request = req
        self.results, self.pending, self.texts = {}, {}, {}
        self.started = time.monotonic()
        table = self.query_one(ResultsTable)
        table.clear()
        self._show_details()
        outputs = self.query_one("#lab-outputs", Horizontal)
        await outputs.remove_children()
        self.outputs = {}
        for tier in first_tiers(req.tier):
            self._add_tier(tier, "waiting…")

    def _add_tier(self, tier: str, status: str) -> None:
        self.pending[tier] = status
        self.texts.setdefault(tier, [])
        self.query_one(ResultsTable).add_row(*self._cells(tier), key=tier)
        output = TierOutput(tier)
        self.outputs[tier] = output
        self.query_one("#lab-outputs", Horizontal).mount(output)
        self._show_text(tier)

    def _cells(self, tier: str) -> tuple:
        palette = Palette(self.query_one(ResultsTable))
        tier_style = palette[tier] if tier in ("priority", "default", "flex", "reserved") else palette["strong"]
        r = self.results.get(tier)
        label = Text(fmt.tier_label(tier), style=tier_style)
        if r is None:
            status = self.pending.get(tier, "")
            style = palette["muted"] if status == "cancelled" else palette["accent"]
            detail = ""
            if status == "cancelled":
                detail = f"cancelled after {time.monotonic() - self.started:.1f} s"
            return (label, "—", Text(status, style=style), "—", "—", "—", "—", "—", "—", detail)  # as COLUMNS
        if r.escalated_from:
            label.append(" ↑", palette["warn"])
        served = Text(fmt.tier_label(r.served_tier), style=palette[r.served_tier]) if r.served_tier in (
            "priority", "default", "flex", "reserved") else Text(r.served_tier or "—")
        if r.ok:
            status = Text("ok", style=palette["ok"])
            detail = r.stop_reason or ""
        else:
            status = Text(r.error or "error", style=palette["warn"] if r.error == "ThrottlingException" else palette["crit"])
            detail = r.message or ""
        if r.escalated_from:
            detail = f"escalated from {fmt.tier_label(r.escalated_from)} after a throttle" + (f"; {detail}" if detail else "")
        tps = "—" if r.output_tps is None else f"{r.output_tps:,.1f}"
        cost = fmt.usd(r.cost_usd, r.served_tier) if r.ok else "—"  # a failed call is not charged
        return (label, served, status, cost, _ms(r.latency_ms), _ms(r.ttft_ms), tps,
                fmt.grouped(r.input_tokens) if r.ok else "—", fmt.grouped(r.output_tokens) if r.ok else "—",
                detail)

    def _update_row(self, tier: str) -> None:
        table = self.query_one(ResultsTable)
        if tier not in table.rows:
            return
        for (key, _), value in zip(COLUMNS, self._cells(tier)):
            table.update_cell(tier, key, value, update_width=True)
        self._show_details()

    def _show_details(self) -> None:
        """Each failed tier's whole error under the table (the Detail column is cut at the screen's edge)."""
        palette = Palette(self.query_one(ResultsTable))
        text = Text()
        for tier in self.query_one(ResultsTable).rows:
            r = self.results.get(tier.value)
            if r is None or r.ok:
                continue
            if text:
                text.append("\n")
            text.append(fmt.tier_label(r.tier), palette[r.tier] if r.tier in ALL_TIERS_ORDER else palette["strong"])
            text.append(" · ")
            text.append(r.message or r.error or "error",
                        palette["warn"] if r.error == "ThrottlingException" else palette["crit"])
        detail = self.query_one("#lab-detail", Static)
        detail.update(text)
        detail.display = bool(text)

    def _show_text(self, tier: str) -> None:
        output = self.outputs.get(tier)
        if output is None:
            return
        r = self.results.get(tier)
        text = Text("".join(self.texts.get(tier, ())))
        if r is not None and not r.ok:
            palette = Palette(output)
            err = Text(f"{r.error}: {r.message or ''}".rstrip(": "),
                       style=palette["warn"] if r.error == "ThrottlingException" else palette["crit"])
            text = err if not text else Text.assemble(text, "\n\n", err)
        elif r is None and self.pending.get(tier) == "cancelled":
            text = Text.assemble(text, ("\n\n" if text else "", ""), ("cancelled", Palette(output)["muted"]))
        output.show(text, follow=r is None)

    def on_text(self, run: int, tier: str, chunk: str) -> None:
        if run != self.run_id or (self.session is not None and not self.session.alive):
            return
        self.texts.setdefault(tier, []).append(chunk)
        if tier in self.pending and self.pending[tier] != "streaming…" and self.request and self.request.stream:
            self.pending[tier] = "streaming…"
            self._update_row(tier)
        self._show_text(tier)

    def on_result(self, run: int, result: "PromptResult") -> None:
        if run != self.run_id or (self.session is not None and not self.session.alive):
            return
        tier = result.tier
        if tier not in self.pending and tier not in self.results:
            self._add_tier(tier, "waiting…")
        self.pending.pop(tier, None)
        self.results[tier] = result
        if result.ok and not self.texts.get(tier) and result.text:
            self.texts[tier] = [result.text]
        self._update_row(tier)
        self._show_text(tier)
        if (self.request is not None and self.request.tier == "escalate" and tier == "default"
                and result.error == "ThrottlingException"):
            self._add_tier("priority", "waiting… (escalated)")

    async def show_run(self, req: "PromptRequest", results: list["PromptResult"]) -> None:
        """Show a finished run (its request in the form, its results below) as if it had just been sent."""
        self.apply_history({"model": req.model_id, "tier": req.tier, "text": req.text, "system": req.system,
                            "max_tokens": req.max_tokens, "temperature": req.temperature, "stream": req.stream})
        self.run_id += 1
        await self.begin_run(req)
        for r in results:
            self.on_result(self.run_id, r)
        self.say(self._summary(results), "ok" if any(r.ok for r in results) else "crit")

    def _mark_cancelled(self, run: int) -> None:
        if run != self.run_id:
            return
        elapsed = time.monotonic() - self.started
        for tier in list(self.pending):
            self.pending[tier] = "cancelled"
            self._update_row(tier)
            self._show_text(tier)
        self.in_flight = False
        answered = len(self.results)
        kept = (f"; the {answered} tiers that had answered keep their results" if answered > 1 else
                "; the tier that had answered keeps its result" if answered else "")
        self.say(f"Cancelled after {elapsed:.1f} s{kept}.", "warn")

    @staticmethod
    def _summary(results: list["PromptResult"]) -> str:
        parts = []
        for r in results:
            if r.ok:
                parts.append(f"{fmt.tier_label(r.tier)} → served {fmt.tier_label(r.served_tier)}")
            else:
                parts.append(f"{fmt.tier_label(r.tier)}: {r.error}")
        return " · ".join(parts)

    @work(exclusive=True, group="prompt", exit_on_error=False)
    async def run_prompt(self, session: "OperatorSession", req: "PromptRequest", run: int) -> None:
        """Send one request under ``session``; nothing is shown if the session closes meanwhile."""
        from ...core.ops.guard import ReadOnlyError, append_history  # noqa: PLC0415
        from ...core.ops.prompt import send_prompt  # noqa: PLC0415
        from ...core.session import SessionClosed, SourceFailed, stamp  # noqa: PLC0415

        await self.begin_run(req)
        tier_text = "all tiers" if req.tier == "all" else fmt.tier_label(wire_tier(req.tier)) \
            if req.tier != "escalate" else "Standard (escalating to Priority on a throttle)"
        self.say(f"Sending to {fmt.short_model(req.model_id)} at {tier_text}…  esc cancels", "muted")
        sent = False
        results: list = []  # every tier that has answered so far (for the audit, even if cancelled)
        try:
            try:
                await asyncio.to_thread(session.guard.require_prompt)
            except ReadOnlyError as e:
                self.pending = {t: "refused" for t in self.pending}
                for t in list(self.pending):
                    self._update_row(t)
                self.say(f"✖ {e} — nothing sent", "crit")
                return
            ctx = await session.context()
            await session.ensure_account()
            self.refresh_context()
            client = await ctx.client("bedrock-runtime")
            entry = {"time": stamp(), "profile": session.profile.name, "model": req.model_id, "tier": req.tier,
                     "system": req.system, "text": req.text, "max_tokens": req.max_tokens,
                     "temperature": req.temperature, "stream": req.stream}
            await asyncio.to_thread(append_history, session.history_path, entry)
            self.history.append(entry)

            def on_text(tier: str, chunk: str) -> None:
                self.on_text(run, tier, chunk)

            def on_result(result) -> None:
                results.append(result)
                if session.note_console_error(req.model_id, result.tier, result.error, result.message):
                    self.app.post_message(RefreshRequested())  # the throttle shows in the pane now
                self.on_result(run, result)

            sent = True
            results[:] = await send_prompt(client, req, session.prices, on_text=on_text, on_result=on_result,
                                           timeouts=session.profile.timeouts)
        except asyncio.CancelledError:
            if sent:
                self._audit(session, req, "cancelled", results)
            raise
        except (SessionClosed, SourceFailed) as e:
            if sent:
                self._audit(session, req, f"failed: {type(e).__name__}", results)
            if session.alive and run == self.run_id:
                self._fail_pending(f"✖ {e}")
            return
        except Exception as e:  # noqa: BLE001 - shown inline and audited; the lab stays usable
            if sent:
                self._audit(session, req, f"failed: {type(e).__name__}", results)
            if session.alive and run == self.run_id:
                self._fail_pending(f"✖ {type(e).__name__}: {e} (nothing more was sent)")
            return
        finally:
            if run == self.run_id and session.alive and not sent:
                self.in_flight = False
        ok = any(r.ok for r in results)
        self._audit(session, req, "ok" if ok else "failed", results)
        if not session.alive or run != self.run_id:
            return
        self.in_flight = False
        self.say(self._summary(results), "ok" if ok else "crit")
        if self.app.screen is not self:
            self.app.notify(self._summary(results), title=f"Prompt lab · {session.profile.name}",
                            severity="information" if ok else "warning")

    def _fail_pending(self, message: str) -> None:
        for tier in list(self.pending):
            self.pending[tier] = "error"
            self._update_row(tier)
        self.in_flight = False
        self.say(message, "crit")

    @staticmethod
    def _audit(session: "OperatorSession", req: "PromptRequest", outcome: str, results: list) -> None:
        from ...core.ops.guard import text_fingerprint  # noqa: PLC0415

        session.guard.audit("prompt", req.model_id, outcome, via="console", tier=req.tier,
                            tiers=[r.tier for r in results], served=[r.served_tier for r in results],
                            errors=[r.error for r in results if r.error], prompt=text_fingerprint(req.text))


def sample_run() -> tuple["PromptRequest", list["PromptResult"]]:
    """A fixed all-tiers run on Claude Sonnet 4.5 (for snapshots, screenshots and demos): Reserved
    and Priority answer, Standard throttles, Flex answers slowly and cheaply. Nothing reads a clock."""
    from ...core.ops.prompt import PromptRequest, PromptResult  # noqa: PLC0415
    from ...core.domain.pricing import PriceTable  # noqa: PLC0415
    from ...core.domain.sample import SONNET  # noqa: PLC0415

    req = PromptRequest(model_id=SONNET, tier="all", stream=True, max_tokens=400, system="Answer in two sentences.",
                        text="Why is Flex cheaper than Standard, and when is Priority worth its premium?")
    prices = PriceTable.from_profile()
    answers = {
        "reserved": "Flex trades queue position for price: it waits behind every other tier and is billed at "
                    "about half the Standard rate. Priority is worth it when a person is waiting on the answer "
                    "and a throttle or a slow first token costs more than the premium.",
        "priority": "Flex is cheaper because it gives up its place in the queue: it runs when capacity is "
                    "spare. Priority earns its premium on interactive paths where latency and throttles hurt.",
        "flex": "Flex is discounted because Bedrock may hold it back for minutes; it suits offline work. "
                "Pay for Priority only where a user waits and Standard throttles under load.",
    }
    timing = {"reserved": (412.0, 2134.0, 118), "priority": (356.0, 1688.0, 104), "flex": (2903.0, 5377.0, 96)}
    results = []
    for tier in ALL_TIERS_ORDER:
        if tier == "default":
            results.append(PromptResult(tier="default", error="ThrottlingException",
                                        message="Too many tokens, please wait before trying again.",
                                        latency_ms=2011.0))
            continue
        ttft, latency, out = timing[tier]
        results.append(PromptResult(tier=tier, served_tier=tier, ok=True, latency_ms=latency, ttft_ms=ttft,
                                    output_tps=out / ((latency - ttft) / 1000), input_tokens=31, output_tokens=out,
                                    cost_usd=prices.cost(SONNET, tier, 31, out), text=answers[tier],
                                    stop_reason="end_turn"))
    return req, results
