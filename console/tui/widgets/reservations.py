"""Reserved tier: input and output TPM used against each reservation, overflow, 15-minute history."""
from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.reactive import reactive

from ...core.domain import format as fmt
from ...core.domain.views import PaneStatus, ReservationView
from .pane import Body, Pane, ScrollBody
from .render import Palette, bar, fit, join, spark

SPARK_WIDTH = 15
NOT_PUBLISHED = "overflow not published by AWS"


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
            if r.overflow_tpm is None:  # no AWS metric counts overflow (the subtitle says it in full)
                notes = [Text(t, style=palette["muted"]) for t in (NOT_PUBLISHED, "overflow: not published")]
            elif r.overflow_tpm > 0:
                notes = [Text(f"↪ {overflow_text(r)}", style=palette["warn"]),
                         Text(f"↪ {fmt.human_count(r.overflow_tpm)} TPM ({r.overflow_source})", style=palette["warn"])]
            else:
                notes = [Text(f"no overflow ({r.overflow_source})", style=palette["muted"]),
                         Text("no overflow", style=palette["muted"])]  # the subtitle names the source
            title.stylize(palette["strong"], 0, len(fmt.short_model(r.model_id)))
            room = max(width - title.cell_len - 1, 12)  # the whole title first, when it can be
            note = next((n for n in notes if n.cell_len <= room), notes[-1])
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
            count = f"{len(reservations)} reservation{'s' if len(reservations) != 1 else ''}"
            known = [r for r in reservations if r.overflow_tpm is not None]
            sources = " + ".join(sorted({r.overflow_source for r in known}))
            overflow = sum(r.overflow_tpm for r in known)
            if not reservations:
                self.set_subtitle(count)
            elif not known:
                self.set_subtitle(f"{count} · {NOT_PUBLISHED}")
            elif overflow:
                self.set_subtitle(f"{count} · overflow {fmt.human_count(overflow)} TPM ({sources})")
            else:
                self.set_subtitle(f"{count} · no overflow ({sources})")
        return changed


def overflow_text(r: ReservationView) -> str:
    """``overflow 8.2k TPM (sandbox)``: tokens per minute, and whose figure it is."""
    return f"overflow {fmt.human_count(r.overflow_tpm)} TPM ({r.overflow_source})"
