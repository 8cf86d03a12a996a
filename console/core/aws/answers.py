"""The collector's small conversions: AWS answers to the dashboard's plain data, and timeouts in the operator's
words (pure but for botocore's exception classes)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..domain.quota_requests import QuotaRequestView, open_request_views
from ..domain.views import BatchJobView, ThrottleEvent

if TYPE_CHECKING:  # pragma: no cover
    from ..domain.profile import Timeouts


def timeout_reason(exc: BaseException, timeouts: Timeouts) -> str | None:
    """A timed-out call, naming the setting that ended it (``timeouts.calls`` or ``timeouts.connect``)."""
    import botocore.exceptions as bx  # noqa: PLC0415

    if isinstance(exc, bx.ConnectTimeoutError):
        return f"timed out: no connection within {timeouts.connect:g} s (the profile's timeouts.connect)"
    if isinstance(exc, (bx.ReadTimeoutError, TimeoutError)):
        return f"timed out: no answer within {timeouts.calls:g} s (the profile's timeouts.calls)"
    return None


def merge_events(cloudwatch: list[ThrottleEvent], console: list[ThrottleEvent]) -> tuple[ThrottleEvent, ...]:
    merged = cloudwatch + console
    merged.sort(key=lambda e: e.time, reverse=True)
    return tuple(merged)


def job_view(j: dict[str, Any]) -> BatchJobView:
    def ts(v: Any) -> float | None:
        return v.timestamp() if hasattr(v, "timestamp") else (float(v) if v is not None else None)

    return BatchJobView(job_arn=j.get("jobArn", ""), job_name=j.get("jobName", ""), model_id=j.get("modelId", ""),
                        status=j.get("status", ""), submit_time=ts(j.get("submitTime")) or 0.0,
                        end_time=ts(j.get("endTime")), total_records=j.get("totalRecordCount"),
                        processed=j.get("processedRecordCount", 0) or 0, success=j.get("successRecordCount", 0) or 0,
                        errors=j.get("errorRecordCount", 0) or 0)


async def open_requests(sq: Any, pages: Any, last: tuple[QuotaRequestView, ...]) -> tuple[QuotaRequestView, ...]:
    """The open quota-increase requests (``ListRequestedServiceQuotaChangeHistory``), or ``last`` when they cannot be
    listed (a role without the permission leaves the quota pane whole)."""
    try:
        return open_request_views(await pages(sq.list_requested_service_quota_change_history,
                                              "ListRequestedServiceQuotaChangeHistory", "RequestedQuotas",
                                              {"ServiceCode": "bedrock", "MaxResults": 100}))
    except Exception:  # noqa: BLE001 - the last listing stays
        return last
