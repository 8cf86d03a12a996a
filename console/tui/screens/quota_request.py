"""The quota-increase request of one model (the plan screen's ``i``): the same document ``tierconsole plan
--quota-request`` writes, drawn as it is built; ``s`` files it after a confirmation naming the quota, its code,
current → desired value, account, profile and region. The screen only draws: the app builds and files
(:mod:`tierconsole.core.ops.quota_request` in workers) and posts :class:`~..messages.QuotaRequestReady`,
:class:`~..messages.QuotaRequestFailed` and :class:`~..messages.QuotaSubmitDone`."""
from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from ...core.domain.quotarequest import QuotaIncreaseRequest
from ..messages import QuotaRequestFailed, QuotaRequestReady, QuotaSubmitDone, QuotaSubmitWanted
from ..widgets.keybar import KeyBar
from ..widgets.render import Palette
from .batch_submit import ConfirmCancelScreen


class QuotaRequestScreen(Screen[None]):
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("escape,q", "dismiss", "Close", id="quota-request-close"),
        Binding("s", "submit", "Submit request", id="quota-request-submit",
                tooltip="File RequestServiceQuotaIncrease for the binding quota (asks first)"),
    ]
    DEFAULT_CSS = """
    QuotaRequestScreen #qr-box { padding: 0 1; }
    QuotaRequestScreen #qr-result { margin-bottom: 1; }
    """

    def __init__(self, model_id: str) -> None:
        super().__init__()
        self.model_id = model_id
        self.request: QuotaIncreaseRequest | None = None
        self.error: str | None = None
        self.result: str | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="qr-box") as box:
            box.border_title = f"Quota-increase request · {self.model_id}"
            yield Static("building the request from CloudWatch history and Service Quotas…", id="qr-status")
            yield Static(id="qr-result", markup=False)
            yield Static(id="qr-document", markup=False)
        yield KeyBar()

    @property
    def fileable(self) -> bool:
        """A request built with a desired value for a binding quota: something `s` can file."""
        r = self.request
        return r is not None and r.desired_value is not None and r.binding is not None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.fileable if action == "submit" else True  # no `s` in the footer with nothing to file

    @property
    def text(self) -> str:
        return self.request.to_markdown() if self.request is not None else ""

    @on(QuotaRequestReady)
    def _ready(self, message: QuotaRequestReady) -> None:
        self.request, self.error = message.request, None
        r = message.request
        self.query_one("#qr-status", Static).update(
            "s files it for the binding quota" if r.desired_value is not None and r.binding is not None
            else "nothing to file: see the binding quota below")
        self.query_one("#qr-document", Static).update(self.text)
        self.refresh_bindings()

    @on(QuotaRequestFailed)
    def _failed(self, message: QuotaRequestFailed) -> None:
        self.error = message.reason
        self.query_one("#qr-status", Static).update(Text.assemble(("no request: ", "bold red"), message.reason))
        self.refresh_bindings()

    @on(QuotaSubmitDone)
    def _done(self, message: QuotaSubmitDone) -> None:
        self.result = message.text
        self.query_one("#qr-result", Static).update(Text(message.text, style="bold" if message.ok else "bold red"))

    def action_submit(self) -> None:
        if not self.fileable:  # the key is hidden then; a remapped or palette call still gets the reason
            why = self.error or ("the quota covers the peak demand: nothing to file" if self.request is not None
                                 else "the request is still being built")
            self.notify(f"Nothing to file: {why}", severity="warning")
            return
        assert self.request is not None
        self.post_message(QuotaSubmitWanted(self.request))


class ConfirmQuotaRequestScreen(ConfirmCancelScreen):
    """Ask before filing a quota increase, naming the quota, its code, current → desired, account, profile, region."""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("y", "answer(True)", "File the request", id="confirm-yes", tooltip="Yes: RequestServiceQuotaIncrease"),
        Binding("n,escape", "answer(False)", "Do not file", key_display="n/esc", id="confirm-no",
                tooltip="No: nothing is filed"),
    ]

    def __init__(self, request: QuotaIncreaseRequest, account_id: str | None, profile: str, region: str) -> None:
        super().__init__(None, account_id, profile, region)  # type: ignore[arg-type] - no job here
        self.request = request

    # its own title, not the batch cancel's it inherited (newcomer-3)
    NO_LABEL, YES_LABEL = "Do not file (n)", "File request (y)"
    BOX_TITLE, BOX_SUBTITLE = "Request a quota increase", "y files it · n or esc does not"

    def _question(self) -> Text:
        r, palette = self.request, Palette(self)
        b = r.binding
        return Text.assemble(
            ("Request a quota increase?", palette["strong"]), "\n\n",
            ("quota    ", palette["muted"]), (b.name if b else "?", palette["warn"]), "\n",
            ("code     ", palette["muted"]), (r.binding_code or "?", palette["strong"]), "\n",
            ("value    ", palette["muted"]), (f"{b.spec.value:,} → {r.desired_value:,}" if b and r.desired_value
                                             else "?", palette["strong"]), "\n",
            ("account  ", palette["muted"]), (self.account_id or "unknown", palette["strong"]), "\n",
            ("profile  ", palette["muted"]), (self.profile_name, palette["strong"]), "\n",
            ("region   ", palette["muted"]), (self.job_region, palette["strong"]), "\n\n",
            ("RequestServiceQuotaIncrease opens a request AWS reviews; it cannot be withdrawn here.", palette["muted"]),
        )

    def on_mount(self) -> None:
        super().on_mount()
        box = self.query_one("#confirm-box")
        box.border_title = "Request a quota increase"
        box.border_subtitle = "y files it · n or esc does not"
