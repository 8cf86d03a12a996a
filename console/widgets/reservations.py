"""Reserved tier: input and output TPM used against each reservation, overflow, 15-minute history."""
from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.reactive import reactive

from ..domain import format as fmt
from ..domain.views import PaneStatus, ReservationView
from .pane import Body, Pane, ScrollBody
from .render import Palette, bar, fit, join, spark

SPARK_WIDTH = 15


class ReservationsBody(Body):
    warn_at: reactive[float] = reactive(0.9)  # fraction of a reservation that colours its bar as a warning

    def build(self, width: int, palette: Palette) -> list[Text]:
        reservations: Sequence[ReservationView] = self.data
        if not reservations:
            return [Text("No reservations declared in this profile.", style=palette["muted"])]
        show_spark = width >= 50
        fixed = 5 + 1 + 1 + 4 + 12 + (1 + SPARK_WIDTH if show_spark else 0)
        bar_w = max(4, width - fixed)
        head = join(" " * (5 + 1 + bar_w + 1), " " * 4, fit("TPM", 12, align="right"))
        if show_spark:
            head.append(" " + "last 15 min".ljust(SPARK_WIDTH))
        head.stylize(palette["muted"])
        lines = [head]
        for r in reservations:
            title = join(fmt.short_model(r.model_id), " ", (r.reservation_id, palette["muted"]))
            if r.overflow_tpm > 0:
                note = Text(f"↪ overflow {fmt.human_count(r.overflow_tpm)} TPM", style=palette["warn"])
            else:
                note = Text("no overflow", style=palette["muted"])
            title.stylize(palette["strong"], 0, len(fmt.short_model(r.model_id)))
            note_w = min(note.cell_len, max(0, width - 20))
            lines.append(join(fit(title, width - note_w - 1), " ", fit(note, note_w, align="right")))
            for label, used, reserved, history in (
                ("in", r.input_tpm_used, r.input_tpm_reserved, r.input_history),
                ("out", r.output_tpm_used, r.output_tpm_reserved, r.output_history),
            ):
                fraction = used / reserved if reserved else 0.0
                level = palette.level(fraction, self.warn_at)
                bar_style = palette["reserved"] if level == "ok" else palette[level]
                line = join(
                    fit(f"  {label}", 5, palette["muted"]), " ",
                    bar(fraction, bar_w, bar_style, palette), " ",
                    fit(fmt.percent(fraction), 4, palette["strong"] if level == "ok" else palette[level], "right"),
                    fit(f"{fmt.human_count(used)}/{fmt.human_count(reserved)}", 12, align="right"),
                )
                if show_spark:
                    line.append(" ")
                    line.append(spark(history, reserved, palette["reserved"], palette, SPARK_WIDTH))
                lines.append(line)
            lines.append(Text())
        return lines[:-1]


class ReservationsPane(Pane):
    PANE = "reservations"
    TITLE = "Reservations"
    KEY = "1"

    def compose_body(self) -> ComposeResult:
        with ScrollBody(classes="pane-focus"):
            yield ReservationsBody()

    @property
    def body(self) -> ReservationsBody:
        return self.query_one(ReservationsBody)

    def update_data(self, reservations: Sequence[ReservationView], status: PaneStatus | None = None,
                    now: float = 0.0) -> bool:
        """Show ``reservations``; returns whether anything was redrawn."""
        reservations = tuple(reservations)
        self.set_status(status, now)
        changed = self.body.set_data(reservations)
        if changed:
            overflow = sum(r.overflow_tpm for r in reservations)
            count = f"{len(reservations)} reservation{'s' if len(reservations) != 1 else ''}"
            self.set_subtitle(f"{count} · overflow {fmt.human_count(overflow)} TPM" if overflow else count)
        return changed
