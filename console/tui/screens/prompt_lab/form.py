"""The prompt lab's screen: the form (model, tier, max tokens, temperature, streaming, system prompt,
prompt), sending in a cancellable worker, and its keys. Its results and history parts are in
:mod:`.results` and :mod:`.history`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from ....core.domain import format as fmt
from ....core.ops.guard import read_only_reason
from ...messages import RefreshRequested
from ...theming import screen_stylesheet
from ...widgets.header import ContextBar, ContextInfo
from ...widgets.keybar import KeyBar
from ...widgets.marked import MarkedSelect
from ...widgets.render import PaletteHost
from ..help import HelpScreen
from .history import HistoryView
from .results import COLUMNS, ResultsView
from .tiers import TIER_OPTIONS, wire_tier
from .widgets import PromptArea, ResultsTable, TickBox, TierOutput

if TYPE_CHECKING:  # pragma: no cover
    from ....core.domain.views import DashboardData
    from ....core.ops.prompt import PromptRequest, PromptResult
    from ....core.session import OperatorSession


#: Below this height the lab compacts its form (one-line fields) so every tier's row stays on screen.
COMPACT_BELOW = 36

PROMPT_HINT = "↑ on the first line recalls history, ctrl+r lists it"


class PromptLabScreen(ResultsView, HistoryView, Screen):
    """Send test prompts and compare tiers. One lab per profile session (it keeps its last results)."""

    CSS_PATH = screen_stylesheet("actions.tcss")

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

    def __init__(self, session: "OperatorSession | None", *,
                 latest: "Callable[[], DashboardData | None] | None" = None, **kwargs) -> None:
        """``latest``: the data the dashboard shows, for the context bar and the models offered when
        there is no live session (sample data, tests)."""
        super().__init__(**kwargs)
        self.session = session
        self._latest = latest or (lambda: None)
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
                yield MarkedSelect([], id="lab-model", prompt="choose a model")
            with Vertical(id="lab-tier-field", classes="lab-field"):
                yield Label("Tier", classes="lab-label")
                yield MarkedSelect(TIER_OPTIONS, id="lab-tier", value="standard", allow_blank=False)
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
            self.say(f"READ-ONLY: test prompts are refused: {read_only_reason(profile)}, and the profile does not set "
                     "allow_prompts_in_read_only: true", "warn")
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
            return ContextInfo("PROMPT LAB", p.name, self.session.account_id, p.region, p.is_sandbox, p.read_only,
                               self.session.pulse())
        data = self._latest()
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
        from ....core.session import model_choices  # noqa: PLC0415

        if self.session is not None:
            choices = self.session.models()
        else:
            choices = model_choices(None, self._latest())
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
        from ....core.ops.prompt import PromptRequest  # noqa: PLC0415

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

    # ------------------------------------------------------------------ history

    @on(PromptArea.Recall)
    def _recall(self, event: PromptArea.Recall) -> None:
        self.recall(event.step)

    # ------------------------------------------------------------------ a run

    @work(exclusive=True, group="prompt", exit_on_error=False)
    async def run_prompt(self, session: "OperatorSession", req: "PromptRequest", run: int) -> None:
        """Send one request under ``session`` through the one prompt flow
        (:func:`~tierconsole.core.ops.prompt.run_prompt`: account, guard, history, send, audit); nothing
        is shown if the session closes meanwhile."""
        from ....core.ops.guard import ReadOnlyError  # noqa: PLC0415
        from ....core.ops.prompt import run_prompt  # noqa: PLC0415
        from ....core.session import SessionClosed, SourceFailed  # noqa: PLC0415

        await self.begin_run(req)
        tier_text = "all tiers" if req.tier == "all" else fmt.tier_label(wire_tier(req.tier)) \
            if req.tier != "escalate" else "Standard (escalating to Priority on a throttle)"
        self.say(f"Sending to {fmt.short_model(req.model_id)} at {tier_text}…  esc cancels", "muted")
        sent = False

        def on_sending(entry: dict) -> None:
            nonlocal sent
            sent = True
            self.refresh_context()  # the account, now known
            self.history.append(entry)

        def on_text(tier: str, chunk: str) -> None:
            self.append_text(run, tier, chunk)

        def on_result(result: "PromptResult", noted: bool) -> None:
            if noted:
                self.app.post_message(RefreshRequested())  # the throttle shows in the pane now
            self.fill_result(run, result)

        try:
            results = await run_prompt(session, req, via="console", on_text=on_text, on_result=on_result,
                                       on_sending=on_sending)
        except ReadOnlyError as e:
            self.pending = {t: "refused" for t in self.pending}
            for t in list(self.pending):
                self._update_row(t)
            self.say(f"✖ {e} — nothing sent", "crit")
            return
        except (SessionClosed, SourceFailed) as e:
            if session.alive and run == self.run_id:
                self._fail_pending(f"✖ {e}")
            return
        except Exception as e:  # noqa: BLE001 - shown inline (audited by the flow); the lab stays usable
            if session.alive and run == self.run_id:
                self._fail_pending(f"✖ {type(e).__name__}: {e} (nothing more was sent)")
            return
        finally:
            if run == self.run_id and session.alive and not sent:
                self.in_flight = False
        ok = any(r.ok for r in results)
        if not session.alive or run != self.run_id:
            return
        self.in_flight = False
        self.say(self._summary(results), "ok" if ok else "crit")
        if self.app.screen is not self:
            self.app.notify(self._summary(results), title=f"Prompt lab · {session.profile.name}",
                            severity="information" if ok else "warning")
