"""Quota-increase requests as the quota pane shows them (pure): the open ones Service Quotas lists
(``ListRequestedServiceQuotaChangeHistory``, read on the slow quota cadence), each under the model row whose route
draws on the quota it is for: ``↑ TPM 245k requested · CASE_OPENED · 2h``."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence, TypeVar

OPEN = ("PENDING", "CASE_OPENED")
MAX_SHOWN = 100  # a listing holds at most this many open requests for the pane


@dataclass(frozen=True)
class QuotaRequestView:
    request_id: str
    quota_code: str
    quota_name: str
    desired: float
    status: str
    created: float | None = None  # epoch seconds


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def open_request_views(rows: Iterable[Mapping[str, Any]]) -> tuple[QuotaRequestView, ...]:
    """The open (PENDING, CASE_OPENED) bedrock requests of a listing, newest first, at most :data:`MAX_SHOWN`."""
    out = [QuotaRequestView(str(r.get("Id", "")), str(r.get("QuotaCode", "")), str(r.get("QuotaName", "")),
                            float(r.get("DesiredValue") or 0.0), str(r.get("Status")), _epoch(r.get("Created")))
           for r in rows if r.get("Status") in OPEN and r.get("ServiceCode", "bedrock") == "bedrock"]
    out.sort(key=lambda v: -(v.created or 0.0))
    return tuple(out[:MAX_SHOWN])


def request_view(value: Any) -> QuotaRequestView:
    """A view from a recording's mapping (unknown fields dropped)."""
    if isinstance(value, QuotaRequestView):
        return value
    names = QuotaRequestView.__dataclass_fields__
    return QuotaRequestView(**{k: v for k, v in dict(value).items() if k in names})


Row = TypeVar("Row")


def with_requests(rows: Sequence[Row], requests: Sequence[QuotaRequestView]) -> tuple[Row, ...]:
    """Each model row (a ``ModelQuotaView``) with the open requests for a quota its route draws on."""
    out = []
    for row in rows:
        names = {u.name for u in getattr(row, "quotas", ())}
        mine = tuple(r for r in requests if r.quota_name in names)
        out.append(replace(row, requests=mine) if mine or getattr(row, "requests", ()) else row)  # type: ignore[type-var]
    return tuple(out)
