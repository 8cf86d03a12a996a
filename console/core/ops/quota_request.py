"""The quota-increase request use case, for ``tierconsole plan --quota-request`` and the plan screen's ``i``:
:func:`build` (history from CloudWatch, the quotas Service Quotas lists, the requests already filed) and
:func:`submit` (``RequestServiceQuotaIncrease`` for the binding quota, through the guard: refused in read-only
mode, audited, idempotent on retry — Service Quotas takes no client token, so an open request for the quota is
looked up first and after any failure, and returned instead of a second one)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from .plan import PlanError, history_series, load_history

if TYPE_CHECKING:  # pragma: no cover
    from ..domain.quotarequest import QuotaIncreaseRequest
    from ..session import OperatorSession

SERVICE = "bedrock"
OPEN = ("PENDING", "CASE_OPENED")
ACTION = "quota-increase"


class QuotaRequestError(PlanError):
    """Service Quotas could not be read or asked; the message names the call and the error."""


@dataclass(frozen=True)
class SubmitResult:
    outcome: str  # "requested", "exists", "nothing to request", "declined"
    request: dict[str, Any] | None  # RequestedQuota as Service Quotas answers it
    message: str


def _error(e: Exception, op: str) -> QuotaRequestError:
    import botocore.exceptions as bx  # noqa: PLC0415

    if isinstance(e, bx.ClientError):
        err = e.response.get("Error", {})
        return QuotaRequestError(f"Service Quotas {op} failed: {err.get('Code')}: {err.get('Message')}")
    return QuotaRequestError(f"Service Quotas {op} failed: {type(e).__name__}: {e}")


async def _pages(call: Callable[..., Awaitable[dict[str, Any]]], key: str, **kwargs: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        page = await call(**kwargs)
        out += page.get(key, [])
        if not page.get("NextToken"):
            return out
        kwargs["NextToken"] = page["NextToken"]


async def open_requests(sq: Any, quota_code: str | None = None) -> list[dict[str, Any]]:
    """The open (PENDING, CASE_OPENED) requests for bedrock, or for one quota, newest first as listed."""
    try:
        if quota_code:
            rows = await _pages(sq.list_requested_service_quota_change_history_by_quota, "RequestedQuotas",
                                ServiceCode=SERVICE, QuotaCode=quota_code)
        else:
            rows = await _pages(sq.list_requested_service_quota_change_history, "RequestedQuotas",
                                ServiceCode=SERVICE)
    except Exception as e:  # noqa: BLE001 - named to the operator
        raise _error(e, "ListRequestedServiceQuotaChangeHistory") from None
    return [r for r in rows if r.get("Status") in OPEN]


async def build(session: OperatorSession, identifier: str, days: int = 14, *, headroom: float = 1.25,
                desired: int | None = None) -> QuotaIncreaseRequest:
    """The request for ``identifier`` (a model id or system profile id). Raises :class:`PlanError`
    (:class:`~.plan.UnknownModel`, :class:`~.plan.NoTraffic`), :class:`QuotaRequestError`, or
    :class:`~..domain.quotarequest.TooLittleHistory`."""
    from ..domain import quota_use as qu  # noqa: PLC0415
    from ..domain.quotarequest import HISTORY_SOURCE, build_request  # noqa: PLC0415

    resolved = await history_series(session, identifier)
    app = resolved.application_profile
    if app is not None:  # its traffic alone is not the demand on the quota it draws on
        raise PlanError(f"{identifier} is application inference profile {app.label}, which {app.copies_text}: " + (
            f"its calls draw on {app.copies}'s quota, so ask for that one: plan --quota-request --model {app.copies} "
            "(it counts every series drawing on the quota, this profile's included)" if app.copies else
            "the listing does not tell which quota its calls draw on; nothing to request for it"))
    history = await load_history(session, identifier, days, resolved)
    ctx = await session.context()
    account = await session.ensure_account()
    try:
        bedrock = await ctx.client("bedrock")
        fms = (await bedrock.list_foundation_models()).get("modelSummaries", [])
        sq = await ctx.client("service-quotas")
        rows = await _pages(sq.list_service_quotas, "Quotas", ServiceCode=SERVICE, MaxResults=100)
    except Exception as e:  # noqa: BLE001 - named to the operator
        raise _error(e, "ListServiceQuotas") from None
    listed = qu.parse_quotas(rows, qu.model_candidates(fms, session.profile.quota_names))
    adjustable = {r["QuotaName"]: bool(r.get("Adjustable")) for r in rows if "QuotaName" in r}
    pending: list[dict[str, Any]] = []
    pending_error = None
    try:  # a role that may not list them still gets its request document, saying so
        pending = await open_requests(sq)
    except QuotaRequestError as e:
        pending_error = str(e)
    request = await asyncio.to_thread(
        build_request, history.frame,
        history_source=f"{HISTORY_SOURCE}; {history.summed}" if history.summed else HISTORY_SOURCE, identifier=identifier, region=session.profile.region, account=account,
        profile=session.profile.name, window=(f"{history.start:%Y-%m-%d %H:%M}", f"{history.end:%Y-%m-%d %H:%M}"),
        specs=listed.specs, codes=dict(listed.codes), adjustable=adjustable,
        quota_source=qu.source_label(ctx.target.sandbox, "Service Quotas ListServiceQuotas"),
        headroom=headroom, desired=desired)
    code = request.binding_code
    return replace(request, pending=tuple(p for p in pending if p.get("QuotaCode") == code),
                   pending_error=pending_error)


async def require_submit(session: OperatorSession, identifier: str) -> None:
    """Before a request meant to be filed is even built (``plan --quota-request --submit``): refused in read-only
    mode first, as batch submit and cancel are (:class:`~.guard.ReadOnlyError`, audited with the account and the
    model as target), so the refusal is never hidden behind a history or listing problem."""
    await session.context()
    await session.ensure_account()
    await asyncio.to_thread(session.guard.require_mutation, ACTION, identifier)


async def submit(session: OperatorSession, request: QuotaIncreaseRequest,
                 confirm: Callable[[str | None], Awaitable[bool]]) -> SubmitResult:
    """File ``RequestServiceQuotaIncrease`` for the request's binding quota at its desired value: guard (read-only
    refused, audited) → an open request for the quota already there is returned (``exists``, no call) → the
    quota's current value at or above the desired one is ``nothing to request`` → ``confirm(account)`` → the call.
    A ``ResourceAlreadyExistsException`` (a race) or a failure after sending is followed by a second look for
    the open request; a second request is never filed. Audited with its outcome."""
    code, desired = request.binding_code, request.desired_value
    if code is None or request.binding is None:
        raise QuotaRequestError(f"no minute quota of {request.identifier}'s {request.route} route is listed by "
                                "Service Quotas: nothing to request")
    if desired is None:
        return SubmitResult("nothing to request", None, f"{request.binding.name} ({request.binding.spec.value:,}) "
                                                        "covers the peak demand with headroom: nothing to request")
    target = f"{SERVICE}/{code}"
    guard = session.guard
    ctx = await session.context()
    await session.ensure_account()
    await asyncio.to_thread(guard.require_mutation, ACTION, target)
    detail = {"quota": request.binding.name, "desired": desired, "current": request.binding.spec.value}
    if request.binding_adjustable is False:
        guard.audit(ACTION, target, "refused: not adjustable", **detail)
        raise QuotaRequestError(f"{request.binding.name} ({code}) is not adjustable in Service Quotas: ask AWS "
                                "support instead")
    sq = await ctx.client("service-quotas")
    existing = await open_requests(sq, code)
    if existing:
        r = existing[0]
        guard.audit(ACTION, target, f"exists: {r.get('Id')}", **detail)
        return SubmitResult("exists", r, f"an open request for {r.get('QuotaName')} already exists: {r.get('Id')} "
                                         f"({r.get('Status')}, desired {r.get('DesiredValue'):,.0f}); nothing new "
                                         "was filed")
    try:
        current = (await sq.get_service_quota(ServiceCode=SERVICE, QuotaCode=code))["Quota"]["Value"]
    except Exception as e:  # noqa: BLE001 - named to the operator
        guard.audit(ACTION, target, "failed: GetServiceQuota", **detail)
        raise _error(e, "GetServiceQuota") from None
    if current >= desired:
        guard.audit(ACTION, target, "nothing to request", **{**detail, "current": current})
        return SubmitResult("nothing to request", None, f"{request.binding.name} is already {current:,.0f} "
                                                        f"(≥ {desired:,}): nothing to request")
    if not await confirm(session.account_id):
        guard.audit(ACTION, target, "declined", **detail)
        return SubmitResult("declined", None, "not submitted")
    result: SubmitResult = await session.mutation(_file(sq, guard, target, code, desired, detail))
    collector = session.source.collector
    if collector is not None:  # the quota pane lists the request on its next refresh, not in a quota period
        collector.requery_quotas()
    return result


async def _file(sq: Any, guard: Any, target: str, code: str, desired: int, detail: dict[str, Any]) -> SubmitResult:
    import botocore.exceptions as bx  # noqa: PLC0415

    try:
        answer = await sq.request_service_quota_increase(ServiceCode=SERVICE, QuotaCode=code,
                                                         DesiredValue=float(desired))
    except (bx.ClientError, bx.BotoCoreError, OSError) as e:
        code_name = e.response.get("Error", {}).get("Code") if isinstance(e, bx.ClientError) else type(e).__name__
        # a race, or an answer lost after the request was sent: the open request, if there is one, is the answer
        if not isinstance(e, bx.ClientError) or code_name == "ResourceAlreadyExistsException":
            try:
                found = await open_requests(sq, code)
            except QuotaRequestError:
                found = []
            if found:
                guard.audit(ACTION, target, f"exists: {found[0].get('Id')}", **detail)
                return SubmitResult("exists", found[0], f"the request is there: {found[0].get('Id')} "
                                                        f"({found[0].get('Status')}); nothing new was filed")
        guard.audit(ACTION, target, f"failed: {code_name}", **detail)
        raise _error(e, "RequestServiceQuotaIncrease") from None
    r = answer["RequestedQuota"]
    guard.audit(ACTION, target, f"requested: {r.get('Id')}", **detail)
    return SubmitResult("requested", r, f"requested {r.get('QuotaName')} → {r.get('DesiredValue'):,.0f}: "
                                        f"{r.get('Id')} ({r.get('Status')})")
