"""The quota-increase request from a recording (``plan --quota-request --from-recording FILE``): the minutes
the recording holds of the model's route (each frame's ``usage_minutes``: quota-counted TPM, invocations,
throttles, the quota values and names as listed then), through the same pure builder as CloudWatch's history.
Nothing is called: no code of a quota is known (a recording keeps names), so such a request cannot be filed."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from ..core.domain.quotas import ROUTE_LABEL
from ..core.domain.quotarequest import (
    RECORDING_SOURCE, QuotaIncreaseRequest, TooLittleHistory, build_request, demand_from_minutes, recorded_minutes,
    route_of,
)
from .format import DamagedFrameError
from .reader import Recording


def request_from_recording(path: str | Path, identifier: str, *, headroom: float, desired: int | None
                           ) -> QuotaIncreaseRequest:
    """Raises :class:`~.format.RecordingError` (unreadable file) or :class:`TooLittleHistory`."""
    model_id, kind = route_of(identifier)
    route = ROUTE_LABEL[kind.value]
    usage, last = [], None
    damaged = ""
    with Recording(path) as recording:
        try:
            for frame in recording:
                usage.extend(frame.usage_minutes)
                last = frame
        except DamagedFrameError as e:
            damaged = f"; read up to a damaged frame ({e})"
    rows, specs, (start, end) = recorded_minutes(usage, model_id, route)
    if not rows:
        raise TooLittleHistory(f"the recording holds no minute of {identifier} ({route})")
    d = demand_from_minutes(rows)

    def when(t: float) -> str:
        return f"{datetime.fromtimestamp(t, timezone.utc):%Y-%m-%d %H:%M}"

    source = RECORDING_SOURCE.format(path=path) + damaged
    return build_request(d, identifier=identifier, region=(last.region if last else "") or "unknown",
                         account=last.account_id if last else None, profile=last.profile if last else "",
                         window=(when(start), when(end)), specs=specs, codes={}, adjustable={},
                         quota_source=f"recording {path}: quota values and names as listed when recorded",
                         headroom=headroom, desired=desired, history_source=source)
