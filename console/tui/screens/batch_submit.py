"""Batch submit (``b``) and the cancel confirmation (``x``), over the shared batch core.

Submit takes a local JSONL file (validated locally first: a bad file shows its problems with line
numbers and nothing is uploaded) or an ``s3://`` URI of an object already in S3 (nothing uploaded,
the job is created over it). Read-only profiles are refused by the :class:`~tierconsole.core.ops.guard.Guard`
(and the refusal is audited), not merely hidden.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Iterable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, Label, Select, Static

from ...core.domain import format as fmt
from ...core.ops.guard import read_only_reason
from ..theming import screen_stylesheet
from ..widgets.header import ContextBar, ContextInfo
from ..widgets.keybar import KeyBar
from ..widgets.marked import MarkedDirectoryTree, MarkedSelect
from ..widgets.render import COMPONENT_CLASSES, Palette, PaletteHost
from ..messages import RefreshRequested

if TYPE_CHECKING:  # pragma: no cover
    from ...core.domain.views import BatchJobView, DashboardData
    from ...core.session import OperatorSession

#: CreateModelInvocationJob's jobName pattern (botocore's bedrock model), anchored.
JOB_NAME = re.compile(r"^[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\+\-\.]){0,63}$")


def check_path(value: str) -> tuple[bool, str]:
    """(usable, what to say) about a batch input: a local JSONL file or an s3:// object URI."""
    value = value.strip()
    if not value:
        return False, "Give a local .jsonl file or an s3://bucket/key URI (ctrl+o browses)."
    if value.startswith("s3://"):
        bucket, _, key = value[5:].partition("/")
        if not bucket or not key or key.endswith("/"):
            return False, f"{value}: an s3:// URI must name one object: s3://bucket/path/file.jsonl"
        return True, f"S3 object {value}: used in place (nothing uploaded); the service validates it."
    path = Path(os.path.expanduser(value))
    try:
        st = path.stat()
    except FileNotFoundError:
        return False, f"{path}: no such file"
    except OSError as e:
        return False, f"{path}: cannot read: {e.strerror or e}"
    if path.is_dir():
        return False, f"{path}: is a directory; choose a .jsonl file in it"
    if not os.access(path, os.R_OK):
        return False, f"{path}: not readable (permissions)"
    note = "" if path.suffix.lower() in (".jsonl", ".json", ".txt") else " (not a .jsonl name; checked anyway)"
    return True, f"Local file, {fmt.human_count(st.st_size)}B{note}: validated on submit; uploaded only if valid."


class JsonlTree(MarkedDirectoryTree):
    """The file picker: folders and .jsonl files, hidden entries left out. ``esc`` closes the picker
    (not the form it is in) and puts the cursor back in the path field."""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("escape", "close_browser", "Close browser", key_display="esc", id="batch-browser-close",
                tooltip="Close the file browser (the form stays)"),
    ]

    def action_close_browser(self) -> None:
        self.display = False
        self.screen.query_one("#batch-path", Input).focus()

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() == ".jsonl")]


class BatchSubmitScreen(ModalScreen[None]):
    """Submit a batch inference job under the current profile."""

    CSS_PATH = screen_stylesheet("actions.tcss")

    COMPONENT_CLASSES = COMPONENT_CLASSES
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("ctrl+enter,ctrl+s", "submit", "Submit", key_display="^s", priority=True, id="batch-submit-send",
                tooltip="Submit the batch job (ctrl+enter or ctrl+s)"),
        Binding("ctrl+o", "browse", "Browse", key_display="^o", id="batch-submit-browse",
                tooltip="Browse for a .jsonl file"),
        Binding("escape", "close", "Close", key_display="esc", id="batch-submit-close",
                tooltip="Close (a submit already sent still finishes)"),
    ]

    busy: reactive[bool] = reactive(False)

    def __init__(self, session: "OperatorSession | None", *, latest: "DashboardData | None" = None) -> None:
        """``latest``: the data the dashboard shows, for the context and the models offered when there is
        no live session (sample data, tests)."""
        super().__init__()
        self.session = session
        self.latest = latest
        self.result_text = ""
        self.job: dict | None = None
        self._path_ok = False

    def compose(self) -> ComposeResult:
        yield PaletteHost()
        with Vertical(id="batch-box"):
            yield ContextBar(id="batch-context")
            yield Static("", id="batch-dest", markup=False)
            yield Label("Input: local JSONL file or s3:// URI", classes="lab-label")
            yield Input(id="batch-path", placeholder="./requests.jsonl or s3://bucket/input/requests.jsonl")
            yield Static("", id="batch-path-hint", markup=False)
            yield JsonlTree(Path.cwd(), id="batch-tree")
            with Horizontal(id="batch-row"):
                with Vertical(classes="lab-field", id="batch-model-field"):
                    yield Label("Model", classes="lab-label")
                    yield MarkedSelect([], id="batch-model", prompt="choose a model")
                with Vertical(classes="lab-field", id="batch-name-field"):
                    yield Label("Job name", classes="lab-label")
                    yield Input(id="batch-name", placeholder="from the file name and content")
            with Horizontal(id="batch-buttons"):
                yield Button("Submit", id="batch-submit", variant="primary", compact=True)
                yield Button("Close", id="batch-close", compact=True)
            with VerticalScroll(id="batch-result-box"):
                yield Static("", id="batch-result", markup=False)
        yield KeyBar()

    KEYS_NOTE = "ctrl+s submits · ctrl+o browses · esc closes"
    #: Below this many rows the form drops its spacing, so a result (a file's problems) gets the lines.
    SHORT_ROWS = 32

    def on_mount(self) -> None:
        from ...core.session import model_choices  # noqa: PLC0415

        box = self.query_one("#batch-box")
        box.border_title = "Submit batch job"
        box.border_subtitle = self.KEYS_NOTE
        result_box = self.query_one("#batch-result-box")
        for attribute in ("virtual_size", "size"):  # the result's length or its box's height changed
            self.watch(result_box, attribute, lambda _value: self._note_overflow(), init=False)
        self.query_one("#batch-tree").display = False
        session = self.session
        if session is not None:
            p = session.profile
            info = ContextInfo("BATCH SUBMIT", p.name, session.account_id, p.region, p.is_sandbox, p.read_only, session.pulse())
            choices = session.models()
        else:
            data = self.latest
            info = ContextInfo("BATCH SUBMIT", *(
                (data.profile, data.account_id, data.region, data.is_sandbox, data.read_only) if data else ()))
            choices = model_choices(None, data)
        self.query_one(ContextBar).set_data(info)
        select = self.query_one("#batch-model", Select)
        select.set_options([(c.label, c.model_id) for c in choices])
        remembered = session.last_batch if session is not None else {}
        if remembered.get("model") in [c.model_id for c in choices]:
            select.value = remembered["model"]
        elif choices:
            select.value = choices[0].model_id
        self.query_one("#batch-path", Input).value = remembered.get("path", "")
        self.query_one("#batch-dest", Static).update(self._destination_text())
        if session is not None and session.profile.read_only:  # the guard's own words (core.ops.guard)
            self.show_result(f"READ-ONLY: batch submit is refused: {read_only_reason(session.profile)}.", "warn")
        self.query_one("#batch-path", Input).focus()

    def _destination_text(self) -> Text:
        from ...core.ops.batch import destination  # noqa: PLC0415

        if self.session is None:
            return Text("No live source (sample data): nothing can be submitted.", style="italic")
        try:
            dest = destination(self.session.guard, self.session.sandbox_bucket)
        except ValueError as e:
            return Text(str(e))
        return Text.assemble(("uploads to ", "dim"), dest.input_prefix, ("  ·  output to ", "dim"), dest.output_prefix)

    # ------------------------------------------------------------------ path checks
    @on(Input.Changed, "#batch-path")
    def _path_changed(self, event: Input.Changed) -> None:
        self.check(event.value)

    @work(thread=True, exclusive=True, group="batch-path-check")
    def check(self, value: str) -> None:
        ok, text = check_path(value)
        self.app.call_from_thread(self._show_check, value, ok, text)

    def _show_check(self, value: str, ok: bool, text: str) -> None:
        if value != self.query_one("#batch-path", Input).value:
            return  # typed on since
        self._path_ok = ok
        hint = self.query_one("#batch-path-hint", Static)
        hint.update(Text(("✓ " if ok else "✖ ") + text))
        hint.set_class(ok, "-ok")
        hint.set_class(not ok and bool(value.strip()), "-crit")

    def action_browse(self) -> None:
        tree = self.query_one("#batch-tree", JsonlTree)
        tree.display = not tree.display
        if tree.display:
            tree.focus()

    @on(DirectoryTree.FileSelected, "#batch-tree")
    def _file_chosen(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        field = self.query_one("#batch-path", Input)
        field.value = str(event.path)
        self.query_one("#batch-tree").display = False
        field.focus()

    # ------------------------------------------------------------------ submit
    @on(Button.Pressed, "#batch-submit")
    def _submit_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#batch-close")
    def _close_pressed(self) -> None:
        self.action_close()

    @on(Input.Submitted, "#batch-path")
    @on(Input.Submitted, "#batch-name")
    def _enter(self) -> None:
        self.action_submit()

    def action_close(self) -> None:
        self.dismiss(None)

    def watch_busy(self, busy: bool) -> None:
        if self.is_mounted:
            self.query_one("#batch-submit", Button).disabled = busy

    def on_resize(self) -> None:
        self.set_class(self.size.height < self.SHORT_ROWS, "-short")

    def show_result(self, text: str, level: str = "muted") -> None:
        self.result_text = text
        result = self.query_one("#batch-result", Static)
        result.update(Text(text))
        for name in ("muted", "ok", "warn", "crit"):
            result.set_class(name == level, f"-{name}")
        self.query_one("#batch-result-box").scroll_home(animate=False)

    def _note_overflow(self) -> None:
        """A result longer than its box (many problems in a short terminal) says how to read the rest."""
        if not self.is_attached:
            return
        more = self.query_one("#batch-result-box").max_scroll_y > 0
        self.query_one("#batch-box").border_subtitle = (
            "result continues: tab to it, ↑/↓ or pgdn scroll · esc closes" if more else self.KEYS_NOTE)

    def form(self) -> tuple[str, str, str | None]:
        """(input, model, name) from the form. Raises ValueError naming what is wrong."""
        path = self.query_one("#batch-path", Input).value.strip()
        ok, text = check_path(path)
        if not ok:
            raise ValueError(text)
        model = self.query_one("#batch-model", Select).value
        if model is Select.BLANK or not model:
            raise ValueError("model: choose a model")
        name = self.query_one("#batch-name", Input).value.strip() or None
        if name is not None and not JOB_NAME.match(name):
            raise ValueError(f"job name: {name!r} must be 1-63 letters or digits, then letters, digits, "
                             "'-', '+' or '.' (no spaces)")
        if not path.startswith("s3://"):
            path = os.path.expanduser(path)
        return path, str(model), name

    def action_submit(self) -> None:
        if self.busy:
            self.show_result("A submit is already in flight.", "warn")
            return
        try:
            path, model, name = self.form()
        except ValueError as e:
            self.show_result(f"✖ {e} — nothing submitted", "crit")
            return
        if self.session is None:
            self.show_result("✖ No live source: this console shows sample data; nothing submitted.", "crit")
            return
        self.session.last_batch = {"path": self.query_one("#batch-path", Input).value.strip(), "model": model}
        self.busy = True
        self.show_result(f"Submitting {path}…", "muted")
        self.submit(self.session, path, model, name)

    @work(exclusive=True, group="batch-submit", exit_on_error=False)
    async def submit(self, session: "OperatorSession", path: str, model: str, name: str | None) -> None:
        import botocore.exceptions as bx  # noqa: PLC0415

        from ...core.ops.batch import BatchInputError, submit as submit_job  # noqa: PLC0415
        from ...core.ops.guard import ReadOnlyError  # noqa: PLC0415
        from ...core.aws.session import describe_error  # noqa: PLC0415
        from ...core.session import SessionClosed, SourceFailed  # noqa: PLC0415

        level, text = "crit", ""
        try:
            job = await submit_job(session, path, model, name)
        except ReadOnlyError as e:
            text = f"✖ {e}"
        except BatchInputError as e:
            text = f"✖ {e.message}"
        except ValueError as e:
            text = f"✖ {e}"
        except bx.ClientError as e:
            err = e.response.get("Error", {})
            text = f"✖ {err.get('Code', 'Error')}: {err.get('Message', '')} (nothing created)"
        except (bx.BotoCoreError, OSError) as e:
            text = f"✖ {describe_error(e)}: {e}"
        except (SessionClosed, SourceFailed) as e:
            text = f"✖ {e}"
        else:
            from ...core.ops.batch import submit_text  # noqa: PLC0415

            self.job = job
            said, ran = submit_text(job)  # an earlier identical submit's job is said so (core, as the CLI says it)
            level = "ok" if ran else "warn"
            total = job.get("totalRecordCount")
            head = f"✓ Created {job.get('jobName')} ({job.get('status')})" if not getattr(job, "existing", False) \
                else ("✓ " if ran else "⚠ ") + said.replace(f": {job.get('jobArn')}", "")
            text = (f"{head}\n{job.get('jobArn')}\n"
                    f"model {job.get('modelId')} · input "
                    f"{job.get('inputDataConfig', {}).get('s3InputDataConfig', {}).get('s3Uri', path)}"
                    + (f" · {fmt.plural(total, 'record')}" if total else "")
                    + "\nIt appears in the batch pane at the next refresh.")
        if not session.alive:
            return  # the profile was switched meanwhile: nothing from it is shown
        self.busy = False
        if self.is_attached:
            self.show_result(text, level)
        if level in ("ok", "warn"):
            self.app.post_message(RefreshRequested())
            self.app.notify(text.splitlines()[0].removeprefix("✓ ").removeprefix("⚠ ")[:200],
                            title=f"Batch submit · {session.profile.name}", severity="information" if level == "ok"
                            else "warning")
        elif not self.is_attached or self.app.screen is not self:
            self.app.notify(text.splitlines()[0], title=f"Batch submit · {session.profile.name}", severity="error")


class ConfirmCancelScreen(ModalScreen[bool]):
    """Ask before cancelling a batch job, naming the job, the account and the profile."""
    NO_LABEL, YES_LABEL, BOX_TITLE, BOX_SUBTITLE = ("Keep running (n)", "Cancel job (y)", "Cancel batch job",
                                            "y cancels it · n or esc keeps it")

    CSS_PATH = screen_stylesheet("actions.tcss")

    COMPONENT_CLASSES = COMPONENT_CLASSES
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("y", "answer(True)", "Cancel the job", id="confirm-yes", tooltip="Yes: stop the batch job"),
        Binding("n,escape", "answer(False)", "Keep it", key_display="n/esc", id="confirm-no",
                tooltip="No: leave the job running"),
    ]

    def __init__(self, job: "BatchJobView", account_id: str | None, profile: str, region: str) -> None:
        super().__init__()
        self.job = job
        self.account_id = account_id
        self.profile_name = profile
        self.job_region = region  # (Screen.region is the screen's geometry)

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self._question(), id="confirm-text")
            with Horizontal(id="confirm-buttons"):
                yield Button(self.NO_LABEL, id="confirm-no", compact=True)
                yield Button(self.YES_LABEL, id="confirm-yes", variant="error", compact=True)

    def _question(self) -> Text:
        j = self.job
        palette = Palette(self)
        total = fmt.grouped(j.total_records) if j.total_records else "?"
        return Text.assemble(
            ("Cancel batch job ", palette["strong"]), (j.job_name, palette["warn"]), ("?", palette["strong"]), "\n\n",
            ("account  ", palette["muted"]), (self.account_id or "unknown", palette["strong"]), "\n",
            ("profile  ", palette["muted"]), (self.profile_name, palette["strong"]), "\n",
            ("region   ", palette["muted"]), (self.job_region, palette["strong"]), "\n",
            ("job      ", palette["muted"]), j.job_arn, "\n",
            ("model    ", palette["muted"]), j.model_id, "\n",
            ("status   ", palette["muted"]), f"{j.status} · {fmt.grouped(j.processed)}/{total} records processed", "\n\n",
            ("StopModelInvocationJob: only records already processed are charged. This cannot be undone.",
             palette["muted"]),
        )

    def on_mount(self) -> None:
        box = self.query_one("#confirm-box")
        box.border_title, box.border_subtitle = self.BOX_TITLE, self.BOX_SUBTITLE
        self.query_one("#confirm-no", Button).focus()  # the safe answer is the default

    @on(Button.Pressed, "#confirm-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def _no(self) -> None:
        self.dismiss(False)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
