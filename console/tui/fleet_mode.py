"""The console on a fleet profile (issue 15): the fleet screen first, its own poll worker (kept running while
drilled in, so every screen's header carries the pulse), ``enter`` to open an account and region's dashboard
as that account, ``esc`` back.

A drill-in is a profile switch (:meth:`TierConsoleApp.switch_profile`'s rules): a new operator session whose
clients act as the account (checked with ``GetCallerIdentity`` before anything shows), the old one's workers
cancelled; leaving closes it the same way (mutations already sent finish first). The fleet's own session (the
monitoring account's) is never the one actions run in."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import work
from textual.binding import Binding

from ..core.session import OperatorSession

if TYPE_CHECKING:  # pragma: no cover
    from ..core.aws.fleet import FleetCollector
    from ..core.domain.fleetrows import FleetRow, FleetSnapshot
    from .screens.fleet import FleetDrill, FleetScreen


#: The app's own key (Textual merges only DOM classes' BINDINGS: the app lists these in its table).
FLEET_BINDINGS = [Binding("escape", "leave_drill", "Fleet", show=False, id="fleet-back",
                          tooltip="Back to the fleet (from an account's dashboard)")]


class FleetMode:
    """Mixed into the app: everything the fleet adds to it."""

    fleet_session: OperatorSession | None
    fleet_screen: "FleetScreen | None"
    fleet_collector: "FleetCollector | None"
    drilled: "FleetRow | None"
    fleet_pulse: str

    def init_fleet(self, snapshot: "FleetSnapshot | None" = None) -> None:
        """Called by the app once its first session exists: a fleet profile makes it the fleet's. ``snapshot``:
        fixed fleet data to show (tests, snapshots), with no session."""
        app: Any = self
        self.fleet_session = self.fleet_screen = self.fleet_collector = self.drilled = None
        self.fleet_pulse = ""
        self._fleet_now = asyncio.Event()
        if snapshot is not None or app.session is not None and app.session.profile.fleet is not None:
            from .screens.fleet import FleetScreen  # noqa: PLC0415

            self.fleet_session, app.session = app.session, None
            # above the dashboard (the default screen): a drill-in pops it, esc pushes it back, a profile switch
            # pops it as any screen; installed, so popping keeps it whole
            self.fleet_screen = FleetScreen()
            app.install_screen(self.fleet_screen, name="fleet")
            if snapshot is not None:
                self.show_fleet(snapshot)

    def show_fleet(self, snapshot: "FleetSnapshot") -> None:
        """Show a fleet refresh: the fleet screen's rows and the pulse in every header."""
        app: Any = self
        if self.fleet_screen is not None:
            self.fleet_screen.show(snapshot)
        self.fleet_pulse = snapshot.pulse.short()
        app.dashboard.set_pulse(self.fleet_pulse)

    @work(exclusive=True, group="fleet", name="fleet-poll", exit_on_error=False)
    async def fleet_poll(self) -> None:
        from ..core.aws.fleet import FleetCollector  # noqa: PLC0415

        app: Any = self
        session = self.fleet_session
        if session is None:
            return
        try:
            await session.start()
            collector = self.fleet_collector = FleetCollector(await session.context(), clock=session.clock)
        except Exception as exc:  # noqa: BLE001 - shown; the console stays usable
            app.notify(f"{session.start_error or exc}", title=f"Fleet {session.profile.name}: cannot start",
                       severity="error", timeout=30)
            return
        while session.alive:
            snapshot = await collector.refresh()
            if not session.alive:
                return
            self.show_fleet(snapshot)
            if collector.quotas_pending:  # quota reads landing (first refresh, quota cadence): show them at once
                await collector.settle()
                continue
            self._fleet_now.clear()
            try:
                await asyncio.wait_for(self._fleet_now.wait(), timeout=session.profile.refresh_seconds)
            except asyncio.TimeoutError:
                pass

    def fleet_refresh_now(self) -> None:
        self._fleet_now.set()

    def on_fleet_drill(self, message: "FleetDrill") -> None:
        self.drill(message.row)

    @work(exclusive=True, group="switch", exit_on_error=False)
    async def drill(self, row: "FleetRow") -> None:
        """Open ``row``'s account and region: its dashboard, running as that account."""
        from ..core.ops.fleet import DrillRefused, check_drill, drill_source  # noqa: PLC0415

        app: Any = self
        fleet = self.fleet_session
        if fleet is None or self.drilled is not None:
            return
        where = f"{row.account_name} ({row.account_id}) {row.region}"
        try:
            source = drill_source(fleet.source, row, self.fleet_collector.calls if self.fleet_collector else None)
        except DrillRefused as exc:
            app.notify(str(exc), title=f"Cannot open {where}", severity="error", timeout=20)
            return
        app.generation += 1
        session = OperatorSession(source, app.generation)
        session.pulse = lambda: self.fleet_pulse  # the action screens of this account show the fleet's pulse
        try:
            await session.start()
            await check_drill(session, row.account_id)
        except Exception as exc:  # noqa: BLE001 - refused or failed: said, nothing opened, nothing kept
            await session.close()
            app.notify(str(exc), title=f"Cannot open {where}", severity="error", timeout=20)
            return
        self.drilled = row
        app.session = session
        app.failures = 0
        app.dashboard.reset_for_profile()
        app._watch_profile(source.profile)
        app.dashboard.set_pulse(self.fleet_pulse)
        app.show_data(app.starting_data(source.profile))
        while app.screen is not app.dashboard:  # the fleet screen (and anything opened over it)
            await app.pop_screen()
        app.poll()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_drill":
            app: Any = self
            return self.drilled is not None and app.screen is app.dashboard
        return True

    async def action_leave_drill(self) -> None:
        """``esc`` on a drilled-in dashboard (when no pane takes it): close that account's session, back to the fleet."""
        app: Any = self
        if self.drilled is None:
            return
        self.drilled = None
        await app.close_source()
        while len(app.screen_stack) > 1:
            await app.pop_screen()
        await app.push_screen("fleet")
        self.fleet_refresh_now()

    async def leave_fleet(self) -> None:
        """A switch to another profile leaves the fleet: its poll and session close, the dashboard is the screen."""
        if self.fleet_screen is None:
            return
        app: Any = self
        await self.close_fleet()
        self.fleet_screen, self.drilled, self.fleet_pulse = None, None, ""
        app.dashboard.set_pulse("")
        app.uninstall_screen("fleet")  # popped already by the switch

    async def close_fleet(self) -> None:
        session, self.fleet_session = self.fleet_session, None
        if session is not None:
            session.closed = True
        app: Any = self
        for worker in list(app.workers):
            if worker.group == "fleet":
                worker.cancel()
        if self.fleet_collector is not None:
            await self.fleet_collector.close()
        if session is not None:
            await session.close()
