"""Batch inference jobs: active jobs first with progress, counts, tokens, elapsed and ETA; finished below."""
from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Region

from ..domain import format as fmt
from ..domain.views import BatchJobView, PaneStatus, eta_seconds
from .pane import Body, Pane, ScrollBody
from .render import Palette, bar, fit, join

#: Display order of active jobs: running work first, then the queue.
_ACTIVE_ORDER = {"InProgress": 0, "Stopping": 1, "Scheduled": 2, "Validating": 3, "Submitted": 4}
#: (glyph, palette style) by status.
_LOOK = {
    "InProgress": ("▶", "accent"), "Stopping": ("■", "warn"), "Scheduled": ("◷", "muted"),
    "Validating": ("◷", "muted"), "Submitted": ("◷", "muted"),
    "Completed": ("✓", "ok"), "PartiallyCompleted": ("◐", "warn"), "Failed": ("✖", "crit"),
    "Stopped": ("■", "muted"), "Expired": ("✖", "warn"),
}
_SHORT_STATUS = {"PartiallyCompleted": "Partial"}


#: Finished jobs drawn in the pane (newest first); older ones are counted, and listed by `batch list`.
MAX_FINISHED_SHOWN = 50


def order_jobs(jobs: Sequence[BatchJobView]) -> tuple[list[BatchJobView], list[BatchJobView]]:
    """(active, finished): active by stage then newest submission; finished newest end first."""
    active = sorted((j for j in jobs if j.active), key=lambda j: (_ACTIVE_ORDER.get(j.status, 9), -j.submit_time))
    done = sorted((j for j in jobs if not j.active), key=lambda j: -(j.end_time or j.submit_time))
    return active, done


def shown_jobs(jobs: Sequence[BatchJobView]) -> tuple[list[BatchJobView], list[BatchJobView], int]:
    """(active, finished shown, finished not shown): a thousand old jobs must not cost every refresh."""
    active, done = order_jobs(jobs)
    return active, done[:MAX_FINISHED_SHOWN], max(0, len(done) - MAX_FINISHED_SHOWN)


class BatchBody(Body):
    """Active jobs (two or three lines each), then finished ones (one line each).

    ``data`` is ``(jobs, now, selected_arn)``; the selected job's lines are highlighted, and
    :attr:`rows` maps each job's ARN to its (first line, line count) for scrolling and clicks.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows: dict[str, tuple[int, int]] = {}

    def build(self, width: int, palette: Palette) -> list[Text]:
        jobs, now, selected = self.data
        self.rows = {}
        if not jobs:
            return [Text("No batch jobs.", style=palette["muted"])]
        active, done, hidden = shown_jobs(jobs)
        lines: list[Text] = []

        def add(job: BatchJobView, job_lines: list[Text]) -> None:
            self.rows[job.job_arn] = (len(lines), len(job_lines))
            if job.job_arn == selected:
                job_lines = [fit(line, width) for line in job_lines]
                for line in job_lines:
                    line.stylize(palette["selected"])
            lines.extend(job_lines)

        for job in active:
            add(job, self._active(job, now, width, palette))
        if done:
            if active:
                lines.append(Text.assemble(("── ", palette["empty"]), ("finished ", palette["muted"]),
                                           ("─" * max(0, width - 12), palette["empty"])))
            for job in done:
                add(job, [self._finished(job, width, palette)])
            if hidden:
                lines.append(Text(f"… {hidden:,} older finished job{'s' if hidden != 1 else ''} "
                                  "(tierconsole batch list)", style=palette["muted"]))
        return lines

    def job_at(self, y: int) -> str | None:
        """The ARN of the job drawn on line ``y`` (None for a separator or empty space)."""
        return next((arn for arn, (start, n) in self.rows.items() if start <= y < start + n), None)

    def on_click(self, event: events.Click) -> None:
        arn = self.job_at(event.y)
        if arn is not None:
            pane = next((a for a in self.ancestors if isinstance(a, BatchPane)), None)
            if pane is not None:
                pane.select_job(arn)

    def _active(self, job: BatchJobView, now: float, width: int, palette: Palette) -> list[Text]:
        glyph, style = _LOOK.get(job.status, ("·", "muted"))
        model = fmt.short_model(job.model_id)
        status_w, model_w = 11, min(18, len(model))
        head = join(
            (f"{glyph} ", palette[style]),
            fit(job.job_name, max(4, width - 2 - status_w - model_w - 2), palette["strong"]), " ",
            fit(job.status, status_w, palette[style]), " ",
            fit(model, model_w, palette["muted"], "right"),
        )
        elapsed = fmt.duration(job.elapsed(now))
        if job.processed == 0 and job.status != "InProgress":
            records = f" · {fmt.grouped(job.total_records)} records" if job.total_records else ""
            return [head, Text(f"  queued {elapsed}{records}", style=palette["muted"])]
        total = fmt.grouped(job.total_records) if job.total_records else "?"
        progress = join(
            "  ", bar(job.fraction or 0.0, max(4, width - 2 - 5 - 16), palette["accent"], palette), " ",
            fit(fmt.percent(job.fraction), 4, palette["strong"], "right"),
            fit(f"{fmt.grouped(job.processed)}/{total}", 16, align="right"),
        )
        counts = join(
            "  ", ("✓ ", palette["ok"]), fmt.human_count(job.success),
            ("  ✗ ", palette["crit"] if job.errors else palette["muted"]), fmt.human_count(job.errors),
        )
        tokens_in, tokens_out = fmt.human_count(job.input_tokens), fmt.human_count(job.output_tokens)
        if width >= 70:
            counts.append_text(Text.assemble(("  tokens ", palette["muted"]), tokens_in, (" in / ", palette["muted"]),
                                             tokens_out, (" out", palette["muted"])))
        else:
            counts.append_text(Text.assemble(("  tok ", palette["muted"]), f"{tokens_in}/{tokens_out}"))
        timing = Text.assemble(("elapsed ", palette["muted"]), elapsed)
        eta = eta_seconds(job, now)
        if eta is not None:
            timing.append("  ETA ", palette["muted"])
            timing.append(fmt.duration(eta), palette["strong"])
        timing_w = min(timing.cell_len, width)
        return [head, progress, join(fit(counts, width - timing_w), fit(timing, timing_w, align="right"))]

    def _finished(self, job: BatchJobView, width: int, palette: Palette) -> Text:
        glyph, style = _LOOK.get(job.status, ("·", "muted"))
        tail = join(
            fit(_SHORT_STATUS.get(job.status, job.status), 10, palette[style]),
            fit(f"✓{fmt.human_count(job.success)}", 7, align="right"),
            fit(f"✗{fmt.human_count(job.errors)}", 6, palette["crit"] if job.errors else palette["muted"], "right"),
            fit(fmt.duration(job.elapsed(job.end_time)) if job.end_time is not None else "—", 7, palette["muted"],
                "right"),
        )
        return join((f"{glyph} ", palette[style]), fit(job.job_name, max(4, width - 2 - tail.cell_len - 1)), " ", tail)


class BatchScroll(ScrollBody):
    """The batch pane's focusable scroller: ↑/↓ select a job (``x`` on the dashboard cancels it)."""

    BINDINGS = [
        Binding("up", "select_job(-1)", "Previous job", show=False, id="batch-previous-job",
                tooltip="Batch pane: select the previous job"),
        Binding("down", "select_job(1)", "Next job", show=False, id="batch-next-job",
                tooltip="Batch pane: select the next job"),
    ]

    @property
    def pane(self) -> "BatchPane":
        return next(a for a in self.ancestors if isinstance(a, BatchPane))

    def action_select_job(self, step: int) -> None:
        self.pane.move_selection(step)

    def on_focus(self) -> None:
        self.pane.ensure_selection()


class BatchPane(Pane):
    PANE = "batch"
    TITLE = "Batch jobs"
    KEY = "4"
    BINDINGS = BatchScroll.BINDINGS  # for the help screen: the keys live on the scroller

    def __init__(self) -> None:
        super().__init__()
        self.jobs: tuple[BatchJobView, ...] = ()
        self.now = 0.0
        self.selected_arn: str | None = None

    def compose_body(self) -> ComposeResult:
        with BatchScroll(classes="pane-focus"):
            yield BatchBody()

    @property
    def body(self) -> BatchBody:
        return self.query_one(BatchBody)

    def update_data(self, jobs: Sequence[BatchJobView], status: PaneStatus | None = None, now: float = 0.0) -> bool:
        jobs = tuple(jobs)
        self.jobs, self.now = jobs, now
        if self.selected_arn is not None and not any(j.job_arn == self.selected_arn for j in jobs):
            self.selected_arn = None  # the job left the list (or another profile's list arrived)
        self.set_status(status, now)
        return self._draw()

    def _draw(self) -> bool:
        jobs, now = self.jobs, self.now
        active = sum(1 for j in jobs if j.active)
        # Elapsed and ETA move with time only while a job is active.
        changed = self.body.set_data((jobs, now, self.selected_arn),
                                     key=(jobs, int(now) if active else None, self.selected_arn))
        if changed:
            self.set_subtitle(f"{active} active · {len(jobs) - active} finished")
        return changed

    # --- selection ----------------------------------------------------------------------------
    @property
    def ordered(self) -> list[BatchJobView]:
        """Jobs in display order (active first, then the finished ones shown)."""
        active, done, _hidden = shown_jobs(self.jobs)
        return active + done

    @property
    def selected_job(self) -> BatchJobView | None:
        return next((j for j in self.jobs if j.job_arn == self.selected_arn), None)

    def select_job(self, arn: str | None) -> None:
        if arn == self.selected_arn:
            return
        self.selected_arn = arn
        self._draw()
        if arn is not None:
            self.call_after_refresh(self._scroll_to_selection)

    def ensure_selection(self) -> None:
        if self.selected_job is None and self.jobs:
            self.select_job(self.ordered[0].job_arn)

    def move_selection(self, step: int) -> None:
        ordered = self.ordered
        if not ordered:
            return
        arns = [j.job_arn for j in ordered]
        if self.selected_arn not in arns:
            self.select_job(arns[0])
            return
        index = max(0, min(len(arns) - 1, arns.index(self.selected_arn) + step))
        self.select_job(arns[index])

    def clear_selection(self) -> None:
        self.select_job(None)

    def _scroll_to_selection(self) -> None:
        row = self.body.rows.get(self.selected_arn or "")
        if row is not None:
            start, n = row
            self.query_one(BatchScroll).scroll_to_region(Region(0, start, 1, n), animate=False, immediate=True)
