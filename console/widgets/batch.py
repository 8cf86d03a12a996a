"""Batch inference jobs: active jobs first with progress, counts, tokens, elapsed and ETA; finished below."""
from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.app import ComposeResult

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


def order_jobs(jobs: Sequence[BatchJobView]) -> tuple[list[BatchJobView], list[BatchJobView]]:
    """(active, finished): active by stage then newest submission; finished newest end first."""
    active = sorted((j for j in jobs if j.active), key=lambda j: (_ACTIVE_ORDER.get(j.status, 9), -j.submit_time))
    done = sorted((j for j in jobs if not j.active), key=lambda j: -(j.end_time or j.submit_time))
    return active, done


class BatchBody(Body):
    def build(self, width: int, palette: Palette) -> list[Text]:
        jobs, now = self.data
        if not jobs:
            return [Text("No batch jobs.", style=palette["muted"])]
        active, done = order_jobs(jobs)
        lines: list[Text] = []
        for job in active:
            lines += self._active(job, now, width, palette)
        if done:
            if active:
                lines.append(Text.assemble(("── ", palette["empty"]), ("finished ", palette["muted"]),
                                           ("─" * max(0, width - 12), palette["empty"])))
            lines += [self._finished(job, width, palette) for job in done]
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


class BatchPane(Pane):
    PANE = "batch"
    TITLE = "Batch jobs"
    KEY = "4"

    def compose_body(self) -> ComposeResult:
        with ScrollBody(classes="pane-focus"):
            yield BatchBody()

    @property
    def body(self) -> BatchBody:
        return self.query_one(BatchBody)

    def update_data(self, jobs: Sequence[BatchJobView], status: PaneStatus | None = None, now: float = 0.0) -> bool:
        jobs = tuple(jobs)
        self.set_status(status, now)
        active = sum(1 for j in jobs if j.active)
        # Elapsed and ETA move with time only while a job is active.
        changed = self.body.set_data((jobs, now), key=(jobs, int(now) if active else None))
        if changed:
            self.set_subtitle(f"{active} active · {len(jobs) - active} finished")
        return changed
