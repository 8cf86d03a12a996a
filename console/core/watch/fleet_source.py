"""A fleet profile's source for the watch loop (:class:`~.runner.WatchRunner`): the profile's own live source
(its sandbox or AWS endpoint and the monitoring account's clients, as the console's fleet screen uses) with the
fleet's :class:`~..aws.fleet.FleetCollector` instead of the dashboard's collector: each refresh is a
:class:`~..domain.fleetrows.FleetSnapshot` (every region concurrently, ``ceil((Q + 1) / 500)``
``GetMetricData`` a region), at the profile's ``refresh_seconds`` (the fleet's cadence)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..aws.fleet import FleetCollector
    from ..domain.fleetrows import FleetSnapshot
    from ..source import LiveSource


class FleetSource:
    def __init__(self, live: "LiveSource"):
        self.live = live
        self.collector: "FleetCollector | None" = None

    @property
    def profile(self) -> Any:
        return self.live.profile

    @property
    def ctx(self) -> Any:  # the monitoring account's clients (an SNS sink publishes with them)
        return self.live.ctx

    @property
    def refresh_seconds(self) -> float:
        return self.live.refresh_seconds

    def start(self) -> None:
        """Start the profile's source (its sandbox when it runs one), then the fleet collector on its clock (a
        sandbox's own timeline)."""
        from ..aws.fleet import FleetCollector  # noqa: PLC0415

        self.live.start()
        if self.live.ctx is None or self.live.collector is None:
            raise RuntimeError("the fleet's source did not start")
        self.collector = FleetCollector(self.live.ctx, clock=self.live.collector.clock)

    async def refresh(self) -> "FleetSnapshot":
        """The fleet once; an account × region's first quota read is waited for (at most the profile's call
        timeout), so a quota already over, or an account whose quotas cannot be read, is said with its first rows."""
        if self.collector is None:
            raise RuntimeError("the fleet source has not started")
        return await self.collector.refresh(quota_wait_s=self.live.profile.timeouts.calls)

    async def close(self) -> None:
        if self.collector is not None:
            await self.collector.close()
            self.collector.save_cache()
        await self.live.close()
