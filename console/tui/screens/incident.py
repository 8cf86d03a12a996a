"""The incident view: the minute-by-minute timeline around a throttle event, with a diagnosis.

It is given an :class:`~tierconsole.core.domain.incident.Incident` (built by the app around the selected
event, from the collector's last answers or, in a replay, from the recording); it fetches nothing. ``e`` writes the same report an engineer can paste
into a ticket (``tierconsole incident export`` writes it headless).
"""
from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ...core.domain import format as fmt
from ...core.domain.incident import NO_DATA_NOTE, TIERS, Incident, to_markdown
from ..theming import screen_stylesheet


class IncidentScreen(ModalScreen[None]):
    CSS_PATH = screen_stylesheet("incident.tcss")
    BINDINGS = [
        Binding("escape,q", "dismiss", "Close", id="incident-close"),
        Binding("e", "export", "Export report", id="incident-export",
                tooltip="Write this incident as Markdown to the tierconsole data folder"),
    ]

    def __init__(self, incident: Incident, *, highlight: float | None = None, export_dir=None) -> None:
        super().__init__()
        self.incident = incident
        self.highlight = highlight
        self.export_dir = export_dir
        self.exported: str | None = None

    def compose(self) -> ComposeResult:
        inc = self.incident
        with Vertical(id="incident-box") as box:
            window = (f" · {time.strftime('%H:%M', time.gmtime(inc.minutes[0].time))}–"
                      f"{time.strftime('%H:%M', time.gmtime(inc.minutes[-1].time))} UTC") if inc.minutes else ""
            box.border_title = f"Incident · {inc.model_id}{window}"
            box.border_subtitle = "e export · esc close"
            yield Static(Text(inc.diagnosis, style="bold"), id="incident-diagnosis")
            notes = [f"• {f}" for f in inc.findings]
            if any(not m.has_data for m in inc.minutes):
                notes.append(f"• {NO_DATA_NOTE}")
            if inc.context is not None:
                ctx = inc.context
                notes.append(f"• from {ctx.source} · profile {ctx.profile} · account {ctx.account_id or 'unknown'} · "
                             f"{ctx.region} · {ctx.endpoint_text}")
            if notes:
                yield Static("\n".join(notes), id="incident-findings", markup=False)
            yield DataTable(id="incident-timeline", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        sandbox = any(m.overflow_tokens is not None for m in self.incident.minutes)
        table.add_columns("UTC", "TPM Pri", "TPM Std", "TPM Flex", "TPM / quota", "RPM / quota",
                          "Thr P/S/F", "Res in/out", "Overflow tok (sandbox)" if sandbox else "Overflow tok")
        highlight_row = None
        for i, m in enumerate(self.incident.minutes):
            if self.highlight is not None and m.time <= self.highlight < m.time + 60:
                highlight_row = i
            if not m.has_data:  # no data point at all (before the metrics began, no requests): not zeros
                table.add_row(time.strftime("%H:%M", time.gmtime(m.time)), *[Text("—", style="dim")] * 8)
                continue
            thr = (str(m.throttles_by_tier["all"]) if "all" in m.throttles_by_tier
                   else "/".join(str(m.throttles_by_tier.get(t, 0)) for t in TIERS))
            pct = Text(f"{fmt.human_count(m.tpm)}/{fmt.human_count(m.tpm_quota)} {m.tpm_fraction:4.0%}",
                       style="bold red" if m.tpm_fraction >= 0.9 else "")
            res = "—" if m.reserved_input_tpm is None else f"{fmt.human_count(m.reserved_input_tpm)}/{fmt.human_count(m.reserved_output_tpm)}"
            table.add_row(time.strftime("%H:%M", time.gmtime(m.time)),
                          fmt.human_count(m.tpm_by_tier.get("priority", 0)), fmt.human_count(m.tpm_by_tier.get("default", 0)),
                          fmt.human_count(m.tpm_by_tier.get("flex", 0)), pct,
                          f"{m.rpm:.0f}/{m.rpm_quota:.0f}", Text(thr, style="bold" if m.throttles else "dim"),
                          res, fmt.human_count(m.overflow_tokens))
        if highlight_row is not None:
            table.move_cursor(row=highlight_row)
        table.focus()

    def action_export(self) -> None:
        from ...core.config.paths import user_data_dir  # noqa: PLC0415

        folder = self.export_dir or (user_data_dir() / "incidents")
        from ...core.files import private_dir, write_private  # noqa: PLC0415

        private_dir(folder)  # 0700 where it is made: incident reports name the account's models and figures
        # Named after the selected event's minute when there is one (the minute the operator chose), else its end.
        named = self.incident.focus if self.incident.focus is not None else self.incident.end
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(named // 60 * 60 if self.incident.focus is not None else named))
        name = self.incident.model_id.replace(":", "_").replace("/", "_")
        path = folder / f"incident-{name}-{stamp}.md"
        write_private(path, to_markdown([self.incident]))  # 0600: it names the account's models and figures
        self.exported = str(path)
        self.notify(f"Incident report written to {path}", title="Exported")
