"""Cross-account CloudWatch reads of a monitoring account: which source accounts its ``GetMetricData``
(``AccountId``) and ``ListMetrics`` (``IncludeLinkedAccounts``) may read in a region, from the OAM links
(:mod:`.oam`). :func:`wire` hands a :class:`LinkView` to a CloudWatch backend's series index
(:mod:`.metrics_index`), which answers the queries."""
from __future__ import annotations

from .oam import Oam


class LinkView:
    """What one monitoring account reads of its source accounts in one region (for :mod:`.metrics_index`:
    called on moto's worker threads, so it reads snapshots of the OAM state)."""

    def __init__(self, oam: Oam, account: str, region: str):
        self.oam, self.account, self.region = oam, account, region

    def backend(self, source: str, namespace: str | None):
        """The CloudWatch backend of ``source`` here, if it is linked to this account and admits ``namespace``."""
        link = self.oam.sources(self.account, self.region).get(source)
        if link is None or not link.admits(namespace):
            return None
        from .moto_bridge import cloudwatch_backend  # noqa: PLC0415

        backend = cloudwatch_backend(source, self.region)
        return getattr(backend, "sandbox_series_index", None) or backend

    def linked(self) -> list[tuple[str, object]]:
        """(source account, its series index or backend), by account id."""
        return [(a, self.backend(a, None)) for a in sorted(self.oam.sources(self.account, self.region))]


def wire(oam: Oam, cell) -> None:
    """Let ``cell``'s CloudWatch (a sandbox's, or a fleet cell's) answer for the accounts linked to its account's
    sink in its region. moto's backends are per process: the last sandbox of an account wires its backend, and
    unwires it when it stops."""
    index = getattr(cell.metrics.backend, "sandbox_series_index", None)
    if index is None:
        return
    index.links = view = LinkView(oam, cell.config.account_id, cell.config.region)
    cell.on_close(lambda: setattr(index, "links", None) if index.links is view else None)
