"""Batch inference jobs: active jobs first with progress, record counts, the model's batch throughput
(``AWS/Bedrock/Batch``), elapsed and ETA; finished below."""
from __future__ import annotations

import math

from typing import Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...core.domain import format as fmt
from ...core.domain.views import BatchJobView, PaneStatus, eta_seconds
from .pane import Pane
from .render import Palette, bar, fit, join, to_strips

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
#: Lines of the list that belong to no job.
_SEPARATOR, _EMPTY = 0, 1


def order_jobs(jobs: Sequence[BatchJobView]) -> tuple[list[BatchJobView], list[BatchJobView]]:
    """(active, finished): active by stage then newest submission; finished newest end first.

    Ties (jobs submitted or ended together) are broken by ARN, so the order never depends on the
    order the API listed them in: a refresh leaves every job where it was."""
    active = sorted((j for j in jobs if j.active),
                    key=lambda j: (_ACTIVE_ORDER.get(j.status, 9), -j.submit_time, j.job_arn))
    done = sorted((j for j in jobs if not j.active),
                  key=lambda j: (-(j.end_time or j.submit_time), -j.submit_time, j.job_arn))
    return active, done


def line_count(job: BatchJobView) -> int:
    """Lines an active job takes: a queued one has no progress yet (two), a running one three."""
    return 2 if job.processed == 0 and job.status != "InProgress" else 3


class BatchList(ScrollView, can_focus=True):
    """Active jobs (two or three lines each), then finished ones (one line each); ↑/↓ select a job.

    A virtual list on Textual's Line API: a refresh sorts the jobs and counts their lines, and only
    the jobs in view are drawn, so a thousand jobs cost a refresh no more than ten. ``data`` is
    ``(jobs, now, selected_arn)``; the selected job's lines are highlighted, and :attr:`rows` maps
    each shown job's ARN to its (first line, line count) for scrolling and clicks.
    """

    ALLOW_MAXIMIZE = False  # the dashboard maximises whole panes (keys 1-4)
    DEFAULT_CSS = "BatchList { overflow-x: hidden; }"
    BINDINGS = [
        Binding("up", "select_job(-1)", "Previous job", show=False, id="batch-previous-job",
                tooltip="Batch pane: select the previous job"),
        Binding("down", "select_job(1)", "Next job", show=False, id="batch-next-job",
                tooltip="Batch pane: select the next job"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data: tuple[Sequence[BatchJobView], float, str | None] | None = None
        self._key: object = object()
        self.rows: dict[str, tuple[int, int]] = {}
        self._lines: list[tuple[BatchJobView | None, int]] = [(None, _EMPTY)]  # per line: (job, line of it) or (None, kind)
        self._drawn: dict[str, list[Strip]] = {}  # lines of the jobs drawn since the last change
        self._drawn_width = -1
        self.renders = 0  # jobs drawn (tests check a refresh draws only what is in view)

    # --- data -------------------------------------------------------------------------------------
    def set_data(self, data: tuple[Sequence[BatchJobView], float, str | None], key: object = None) -> bool:
        """Show ``data``; returns False (and draws nothing) when ``key`` is unchanged."""
        key = data if key is None else key
        if key == self._key:
            return False
        self._key, self.data = key, data
        jobs, _now, selected = data
        before = self.rows.get(selected) if selected is not None else None
        active, done = order_jobs(jobs)
        lines: list[tuple[BatchJobView | None, int]] = []
        self.rows = {}
        for job in active:
            n = line_count(job)
            self.rows[job.job_arn] = (len(lines), n)
            lines.extend((job, i) for i in range(n))
        if done and active:
            lines.append((None, _SEPARATOR))
        for job in done:
            self.rows[job.job_arn] = (len(lines), 1)
            lines.append((job, 0))
        self._lines = lines or [(None, _EMPTY)]
        self._drawn.clear()
        self._set_height(len(self._lines))
        after = self.rows.get(selected) if selected is not None else None
        if before is not None and after is not None and after[0] != before[0]:
            # Jobs above the selected one came or went: scroll with it, so it stays where the operator saw it.
            self.scroll_to(y=max(0, round(self.scroll_y) + after[0] - before[0]), animate=False, immediate=True)
        self.refresh()
        return True

    def _set_height(self, height: int) -> None:
        size = Size(self.size.width, height)
        if size != self.virtual_size:
            self.virtual_size = size

    def on_resize(self) -> None:
        self._set_height(len(self._lines) or 1)

    def refresh(self, *regions, repaint: bool = True, layout: bool = False, recompose: bool = False):
        if repaint and not regions:  # a whole repaint (theme, style, data); a scroll names its region
            self._drawn.clear()
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def notify_style_update(self) -> None:
        self._drawn.clear()
        super().notify_style_update()

    def job_at(self, y: int) -> str | None:
        """The ARN of the job drawn on content line ``y`` (None for a separator or empty space)."""
        job = self._lines[y][0] if 0 <= y < len(self._lines) else None
        return job.job_arn if job is not None else None

    def on_click(self, event: events.Click) -> None:
        arn = self.job_at(round(self.scroll_y) + event.y)
        if arn is not None:
            pane = next((a for a in self.ancestors if isinstance(a, BatchPane)), None)
            if pane is not None:
                pane.select_job(arn)

    # --- keys -------------------------------------------------------------------------------------
    @property
    def pane(self) -> "BatchPane":
        return next(a for a in self.ancestors if isinstance(a, BatchPane))

    def action_select_job(self, step: int) -> None:
        self.pane.move_selection(step)

    def on_focus(self) -> None:
        self.pane.ensure_selection()

    # --- drawing ----------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        index = round(self.scroll_y) + y
        if index >= len(self._lines):
            return Strip.blank(width, base)
        if width != self._drawn_width:
            self._drawn.clear()
            self._drawn_width = width
        job, part = self._lines[index]
        key = job.job_arn if job is not None else f"\0{part}"
        strips = self._drawn.get(key)
        if strips is None:
            self.renders += 1
            strips = to_strips(self._build(job, part, width, Palette(self)), width, base, self.app.console)
            self._drawn[key] = strips
        return strips[part if job is not None else 0]

    def _build(self, job: BatchJobView | None, kind: int, width: int, palette: Palette) -> list[Text]:
        if job is None:
            if kind == _SEPARATOR:
                return [Text.assemble(("── ", palette["empty"]), ("finished ", palette["muted"]),
                                      ("─" * max(0, width - 12), palette["empty"]))]
            text = "waiting for data…" if self.data is None else "No batch jobs."
            return [Text(text, style=palette["muted"])]
        _jobs, now, selected = self.data
        lines = self._active(job, now, width, palette) if job.active else [self._finished(job, width, palette)]
        if job.job_arn == selected:
            lines = [fit(line, width) for line in lines]
            for line in lines:
                line.stylize(palette["selected"])
        return lines

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
        ok, bad = fmt.human_count(job.success), fmt.human_count(job.errors)
        bad_style = palette["crit"] if job.errors else palette["muted"]
        counts = join("  ", ("✓ ", palette["ok"]), ok, ("  ✗ ", bad_style), bad)
        compact = join("  ", ("✓", palette["ok"]), ok, (" ✗", bad_style), bad)
        timing = Text.assemble(("elapsed ", palette["muted"]), elapsed)
        eta = eta_seconds(job, now)
        if eta is not None:
            timing.append("  ETA ", palette["muted"])
            timing.append(fmt.duration(eta), palette["strong"])
        # Short of room: the ETA alone (the elapsed time goes before the batch figure does).
        brief = timing if eta is None else Text.assemble(("ETA ", palette["muted"]), (fmt.duration(eta),
                                                                                      palette["strong"]))
        # AWS publishes batch tokens per model (AWS/Bedrock/Batch), not per job: labelled as the model's, with
        # the minute they were published for, left out when none is the job's yet (never another job's); the
        # words shrink before the figures and the minute do.
        candidates = [counts]
        if job.model_input_tpm is not None or job.model_output_tpm is not None:
            tokens_in, tokens_out = fmt.human_count(job.model_input_tpm), fmt.human_count(job.model_output_tpm)
            muted = palette["muted"]
            minute = "" if job.model_tpm_minute is None else fmt.clock(job.model_tpm_minute)[:5]
            long = Text.assemble(("  model batch ", muted), tokens_in, (" in / ", muted), tokens_out,
                                 (" out TPM", muted), (f" ({minute} UTC)" if minute else "", muted))
            short = Text.assemble(("  model ", muted), f"{tokens_in}/{tokens_out}", (" TPM", muted),
                                  (f" @{minute}" if minute else "", muted))
            candidates = [join(counts, long), join(counts, short), join(compact, short)]
        choices = [(c, timing) for c in candidates] + [(c, brief) for c in candidates[-1:]] + [(counts, timing)]
        line, timing = next(((c, t) for c, t in choices if c.cell_len + 1 + t.cell_len <= width), choices[-1])
        timing_w = min(timing.cell_len, width)
        return [head, progress, join(fit(line, width - timing_w), fit(timing, timing_w, align="right"))]

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


class BatchPane(Pane):
    PANE = "batch"
    TITLE = "Batch jobs"
    KEY = "4"
    BINDINGS = BatchList.BINDINGS  # for the help screen: the keys live on the list

    def __init__(self) -> None:
        super().__init__()
        self.jobs: tuple[BatchJobView, ...] = ()
        self.now = 0.0
        self.selected_arn: str | None = None

    def compose_body(self) -> ComposeResult:
        yield BatchList(classes="pane-focus")

    @property
    def body(self) -> BatchList:
        return self.query_one(BatchList)

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
                                     key=(jobs, int(now) if active and math.isfinite(now) else None,
                                          self.selected_arn))
        if changed:
            self.set_subtitle(f"{active} active · {len(jobs) - active} finished")
        return changed

    # --- selection ----------------------------------------------------------------------------
    @property
    def ordered(self) -> list[BatchJobView]:
        """Jobs in display order (active first, then the finished ones)."""
        active, done = order_jobs(self.jobs)
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
        arns = list(self.body.rows)  # display order
        if not arns:
            return
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
            self.body.scroll_to_region(Region(0, start, 1, n), animate=False, immediate=True)
