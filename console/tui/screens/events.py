"""The events screen (``e``): the change events of the profile since the console started — quota crossings,
throttle storms, overflow, stale data, batch state and quota value changes — as ``tierconsole watch`` logs
them, newest first, with the episodes still open on top. It is given the events; it fetches nothing."""
from __future__ import annotations

import time
from typing import Any, Mapping, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ...core.domain.events import ChangeEvent
from ..theming import screen_stylesheet

_PHASE = {"start": "▲ start", "end": "▼ end", "change": "• change"}


class EventsScreen(ModalScreen[None]):
    CSS_PATH = screen_stylesheet("incident.tcss")
    BINDINGS = [Binding("escape,q,e", "dismiss", "Close", id="events-close")]

    def __init__(self, events: Sequence[ChangeEvent], open_episodes: Mapping[str, Mapping[str, Any]],
                 profile: str) -> None:
        super().__init__()
        self.events = list(reversed(events))
        self.open_episodes = dict(open_episodes)
        self.profile = profile

    def compose(self) -> ComposeResult:
        with Vertical(id="incident-box") as box:
            box.border_title = f"Events · {self.profile} · {len(self.events)} since the console started"
            box.border_subtitle = "esc close"
            labels = sorted(f"{k.split('|', 1)[0]} {ep.get('label', '')}" for k, ep in self.open_episodes.items())
            head = f"{len(labels)} open: " + "; ".join(labels) if labels else "no open episode"
            yield Static(head, id="events-open", markup=False)
            yield DataTable(id="events-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("UTC", "", "kind", "what", "source")
        for e in self.events:
            table.add_row(time.strftime("%H:%M:%S", time.gmtime(e.time)), _PHASE.get(e.phase, e.phase), e.kind,
                          e.summary, e.source)
        if not self.events:
            table.add_row("—", "", "", "no change event yet", "")
