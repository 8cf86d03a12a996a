"""Change events of a fleet (``tierconsole --profile FLEET watch``): the one detector (:mod:`.events`), alert
rules and episodes (:mod:`.alerting`) of the single-profile watch, run per **account × region** of each
:class:`~.fleetrows.FleetSnapshot`.

Each cell (an account in a region) is handed to its own :class:`~.alerting.Watch` as the
:class:`~.views.DashboardData` its fleet rows make (:func:`cell_data`): a row's binding quota is a quota row
(``quota_over`` on the profile's threshold and back), its reservation a reservation (``quota_over``,
``overflow`` on the sandbox), its ``InvocationThrottles`` per minute the CloudWatch throttles a storm is judged
on (``throttle_storm``, complete minute by complete minute), its ``stale`` reason the panes' status (``stale``
after ``stale_after_seconds``, with the reason; recovered when the cell is read again), and a cell whose quota use
cannot be read (access denied, no access rule: :func:`quota_unread`) is ``stale`` too, its pane ``quota``, at once
(the refusal holds until the account's next quota read: ``stale_after_seconds`` would only delay it). Every event and alert
names the account id and name and the region (``details``, and its summary begins with them); episode ids
include the cell, so two accounts' episodes never share an id (nor an ``alert_id``). The state is the cells'
states keyed ``<account>|<region>``, so a restart does not start (or alert) an open episode again.

Pure, on data time (the snapshot's).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable, Mapping

from .alerting import STATE_FORMAT, Alert, Watch, clock_note
from .events import MINUTE, ChangeEvent
from .fleetplan import FLEET_MINUTES
from .fleetrows import FleetRow, FleetSnapshot
from .quotas import route_label
from .views import DashboardData, ModelQuotaView, PaneStatus, QuotaUseView, ReservationView, ThrottleEvent
from .watchconfig import WatchConfig

#: the panes whose figures a stale fleet row holds (old, not judged)
FLEET_PANES = ("quota", "reservations", "throttles")
NOT_READ_YET = "quotas not read yet"  # the fleet collector's note before a cell's quotas are first read


def cell_key(account_id: str, region: str) -> str:
    return f"{account_id}|{region}"


def _measure(label: str) -> str:
    if "input" in label:
        return "input_tokens"
    if "output" in label:
        return "output_tokens"
    return "requests" if label.endswith("RPM") else "tokens"


def _quota(r: FleetRow) -> ModelQuotaView | None:
    """The row's quota view: its binding quota (``quota_over``) and its route's TPM and RPM values
    (``quota_value``); a row whose use is not known has the values only (its subject is :func:`_unknown`)."""
    b = r.binding
    values = {label.rsplit(" ", 1)[-1]: v for label, v in r.quota_values if label.endswith((" TPM", " RPM"))
              and not label.endswith(("input TPM", "output TPM"))}  # the route's TPM and RPM
    route = route_label(r.route) or "on-demand"
    if b is None:
        return ModelQuotaView(r.model_id, r.series, values["TPM"], values.get("RPM", 0.0), route=route) \
            if values.get("TPM") else None
    use = QuotaUseView(b.code, b.name, b.kind, _measure(b.label), 86_400 if b.kind.endswith("daily") else 60,
                       b.limit, b.used, b.fraction, "sandbox" if r.source == "sandbox" else "AWS CloudWatch")
    return ModelQuotaView(r.model_id, r.series, values.get("TPM", 0.0), values.get("RPM", 0.0), route=route,
                          quotas=(use,), binding=use)


def _unknown(rows: Iterable[FleetRow]) -> list[str]:
    """What is not known this refresh, so neither starts nor ends: the quota subjects of rows whose use is not
    known (quotas not read yet, access refused), and the cell's ``data`` (stale) while its quotas are not read yet."""
    rows = list(rows)
    waiting = ["data"] if not any(r.stale for r in rows) and any(
        r.binding is None and (r.quota_note or "").startswith(NOT_READ_YET) for r in rows) else []
    return waiting + ["quota:" + ModelQuotaView(r.model_id, r.series, 0.0, 0.0,
                                                route=route_label(r.route) or "on-demand").key
                      for r in rows if r.binding is None and r.route]


def quota_unread(rows: Iterable[FleetRow]) -> str | None:
    """Why this account × region's quota use is unknown (as ``status --fleet`` says it: access denied, no access
    rule, no quota listed), or None when a row's binding quota is known or its quotas are not read *yet* (the
    first refreshes: neither stale nor recovered)."""
    rows = list(rows)
    if any(r.binding is not None for r in rows):
        return None
    note = next((r.quota_note for r in rows if r.quota_note), None)
    return None if note is None or note.startswith(NOT_READ_YET) else note


def _reservation(r: FleetRow) -> ReservationView | None:
    v = r.reserved
    if v is None:  # fractions of 1.0 "reserved": the row holds fractions, the detector judges fractions
        return None
    return ReservationView(v.reservation_id, r.model_id, v.input_fraction, 1.0, v.output_fraction, 1.0,
                           overflow_tpm=v.overflow_tpm, overflow_source=v.overflow_source, region=r.region)


def cell_data(snapshot: FleetSnapshot, rows: Iterable[FleetRow]) -> DashboardData:
    """One account × region of ``snapshot`` as the detector reads a dashboard refresh."""
    rows = list(rows)
    first = rows[0]
    throttles = [ThrottleEvent(time=minute, model_id=r.model_id, tier="", count=int(round(n)), source="cloudwatch")
                 for r in rows for minute, n in r.throttle_minutes if n > 0]
    stale = next((r.stale for r in rows if r.stale), None)
    status = {p: PaneStatus(False, reason=stale) for p in FLEET_PANES} if stale else {}
    unread = None if stale else quota_unread(rows)
    if unread:  # metrics read, quota use not: quota_over cannot be judged, so it is a stale pane (W3)
        status["quota"] = PaneStatus(False, reason=unread, at_once=True)  # known until its next read: no wait
    return DashboardData(
        time=snapshot.time, profile=snapshot.profile, account_id=first.account_id, region=first.region,
        endpoint=snapshot.endpoint, is_sandbox=snapshot.source == "sandbox",
        reservations=tuple(v for v in map(_reservation, rows) if v is not None),
        quotas=tuple(q for q in map(_quota, rows) if q is not None),
        throttle_events=tuple(sorted(throttles, key=lambda e: -e.time)), status=status)


class FleetWatch:
    """The fleet's watch: a :class:`~.alerting.Watch` per account × region, with the same interface the watch
    loop uses (:meth:`observe`, :meth:`state`, :meth:`where`, :meth:`failing`, :attr:`discarded`)."""

    def __init__(self, config: WatchConfig, state: Mapping[str, Any] | None = None):
        self.config = config
        saved = dict(state or {})
        cells = dict(saved.get("fleet") or {}) if saved.get("format") == STATE_FORMAT else {}
        self.epoch = int(saved.get("epoch") or 0) if saved.get("format") == STATE_FORMAT else 0  # clocks gone back
        self.cells: dict[str, Watch] = {key: self._watch(key, st) for key, st in sorted(cells.items())}
        self.discarded = sorted({f"{n} ({key})" for key, w in self.cells.items() for n in w.discarded})
        self.notes: list[str] = []  # lines for the log (the data clock went back)

    def take_notes(self) -> list[str]:
        notes, self.notes = self.notes, []
        return notes

    def _watch(self, key: str, state: Mapping[str, Any] | None) -> Watch:
        # a fleet refresh reads FLEET_MINUTES whole minutes before the current one: older ones are unknown
        watch = Watch(self.config, state, scope=key, history_s=FLEET_MINUTES * MINUTE)
        for d in watch.detectors.values():  # a cell made (again) after a restart never reuses an episode id
            d.epoch = max(d.epoch, self.epoch)
        return watch

    def observe(self, snapshot: FleetSnapshot) -> tuple[list[ChangeEvent], list[Alert]]:
        """This refresh's events and alerts, cell by cell (accounts, then regions, in order)."""
        by_cell: dict[str, list[FleetRow]] = {}
        for r in snapshot.rows:
            by_cell.setdefault(cell_key(r.account_id, r.region), []).append(r)
        events: list[ChangeEvent] = []
        alerts: list[Alert] = []
        if any(w.went_back(snapshot.time) for w in self.cells.values()):  # a new data clock: as one profile's watch
            times = [t for w in self.cells.values() if (t := w.last_time()) is not None]
            names = {a.account_id: a.name for a in snapshot.accounts} | {r.account_id: r.label for r in snapshot.rows}
            for key, w in sorted(self.cells.items()):
                account, region = key.split("|", 1)
                events += [_named(e, account, names.get(account, account), region) for e in
                           w.restart(snapshot.time, note=False)]
            self.notes.append(clock_note(max(times), snapshot.time, len(events)))
            self.epoch = max([self.epoch + 1, *(d.epoch for w in self.cells.values() for d in w.detectors.values())])
        for key in sorted(by_cell):
            rows = by_cell[key]
            watch = self.cells.get(key) or self.cells.setdefault(key, self._watch(key, None))
            got, fired = watch.observe(cell_data(snapshot, rows), _unknown(rows))
            who = (rows[0].account_id, rows[0].label, rows[0].region)
            events += [_named(e, *who) for e in got]
            alerts += [replace(a, event=_named(a.event, *who)) for a in fired]
        for key in [k for k in self.cells if k not in by_cell]:  # an account gone from the fleet, nothing open
            if not any(d.open for d in self.cells[key].detectors.values()) and not self.cells[key].book.fired:
                del self.cells[key]
        return events, alerts

    def state(self) -> dict[str, Any]:
        return {"format": STATE_FORMAT, "version": 1, "fleet": {k: w.state() for k, w in self.cells.items()},
                **({"epoch": self.epoch} if self.epoch else {})}

    @staticmethod
    def where(snapshot: FleetSnapshot, event: ChangeEvent) -> dict[str, Any]:
        d = event.details
        return {"profile": snapshot.profile, "account": d.get("account_id"), "account_name": d.get("account_name"),
                "region": d.get("region"), "model": event.model}

    @staticmethod
    def failing(snapshot: FleetSnapshot) -> bool:
        """Every region of the fleet unreadable: the loop polls less often (a stale account does not)."""
        return bool(snapshot.regions) and set(snapshot.regions) <= set(snapshot.region_stale)


def _named(e: ChangeEvent, account_id: str, name: str, region: str) -> ChangeEvent:
    """``e`` naming its account and region (``details`` and the start of its summary)."""
    who = f"{name} ({account_id}) {region}" if name != account_id else f"{account_id} {region}"
    summary = e.summary
    panes = dict(e.details.get("panes") or {})
    if e.kind == "stale" and e.phase == "start" and list(panes) == ["quota"]:
        summary = f"quota use unknown: {panes['quota']}"
    elif e.kind == "stale" and e.phase == "start":  # the same reason on every pane of the row: said once
        summary = f"data stale: {next(iter(panes.values()), 'no data')}"
    elif e.kind == "stale" and not e.details.get("abandoned"):
        summary = "data recovered: metrics and quota use read again"
    return replace(e, summary=f"{who}: {summary}",
                   details={**e.details, "account_id": account_id, "account_name": name, "region": region})
