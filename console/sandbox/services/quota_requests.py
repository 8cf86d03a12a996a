"""Quota-increase requests for ``bedrock`` in the sandbox: ``RequestServiceQuotaIncrease``,
``ListRequestedServiceQuotaChangeHistory``, ``ListRequestedServiceQuotaChangeHistoryByQuota`` and
``GetRequestedServiceQuotaChange``, in botocore's shapes, dispatched from :mod:`.servicequotas`.

How AWS decides a request is not an API fact: here it is the setting ``sandbox.quota_requests``
(:class:`~tierconsole.sandbox.config.QuotaRequestSettings`). A request is ``PENDING``, ``CASE_OPENED`` (with a
``CaseId``) ``case_after_s`` sandbox seconds later, and ``decision`` (default ``APPROVED``; ``none`` leaves it
open) ``decide_after_s`` after it was filed. The lifecycle is evaluated from the clock on every Service Quotas
call and by one timer per open request, so an approval changes the quota's applied value (``ListServiceQuotas``,
``GetServiceQuota``; the AWS default stays) and the engine's admission at its time, read or not.

Errors, each one the operation's model declares: an unknown quota ``NoSuchResourceException``; a quota that is
not adjustable, a ``DesiredValue`` not above the current value, a ``ContextId`` on an account-level quota
``IllegalArgumentException`` (the first is the sandbox's choice: AWS's answer there is unconfirmed; the second is
AWS's "You must provide a quota value greater than the current quota value"); a quota with an open request
``ResourceAlreadyExistsException``; an unknown request id ``NoSuchResourceException``. At most
``max_requests`` are kept: beyond it the oldest closed one is forgotten (open ones are at most one per quota).
"""
from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Protocol

from ..http import AwsError

if TYPE_CHECKING:  # pragma: no cover
    from ..host import SandboxHost


class Quota(Protocol):
    """What a request reads of a quota (:class:`.servicequotas.Quota`)."""

    code: str
    name: str
    value: float
    adjustable: bool

OPEN = ("PENDING", "CASE_OPENED")
MAX_LIST = 100


@dataclass
class _Request:
    id: str
    quota: Quota
    desired: float
    created: float
    status: str = "PENDING"
    updated: float = 0.0
    case_id: str | None = None
    applied: bool = field(default=False)

    def to_wire(self, region: str, account_id: str) -> dict:
        q = self.quota
        out = {"Id": self.id, "ServiceCode": "bedrock", "ServiceName": "Amazon Bedrock", "QuotaCode": q.code,
               "QuotaName": q.name, "DesiredValue": float(self.desired), "Status": self.status,
               "Created": self.created, "LastUpdated": self.updated or self.created,
               "Requester": f"arn:aws:iam::{account_id}:root",
               "QuotaArn": f"arn:aws:servicequotas:{region}:{account_id}:bedrock/{q.code}",
               "GlobalQuota": False, "Unit": "None", "QuotaRequestedAtLevel": "ACCOUNT"}
        if self.case_id:
            out["CaseId"] = self.case_id
        return out


class QuotaRequests:
    """The requests a sandbox holds, newest last; ``applied`` values by quota code (what ListServiceQuotas shows)."""

    def __init__(self, host: "SandboxHost", by_code: dict[str, Quota],
                 page: Callable[[list, dict, int], tuple[list, str | None]]):
        self.host = host
        self.settings = host.config.quota_requests
        self.by_code = by_code
        self._page = page
        self.requests: list[_Request] = []
        self.applied: dict[str, float] = {}

    def value(self, quota: Quota) -> float:
        return self.applied.get(quota.code, quota.value)

    # ------------------------------------------------------------------ lifecycle
    def advance(self, now: float) -> None:
        s = self.settings
        for r in self.requests:
            if r.status == "PENDING" and now - r.created >= s.case_after_s:
                r.status, r.updated = "CASE_OPENED", r.created + s.case_after_s
                r.case_id = f"case-{self.host.config.account_id}-sandbox-{r.id[:8]}"
            if r.status in OPEN and s.decision != "none" and now - r.created >= s.decide_after_s:
                r.status, r.updated = s.decision, r.created + s.decide_after_s
                if s.decision == "APPROVED" and not r.applied:
                    r.applied = True
                    self.applied[r.quota.code] = r.desired
                    self.host.engine.set_quota_value(r.quota.code, int(r.desired))

    async def _timer(self) -> None:
        clock = self.host.clock
        for after in (self.settings.case_after_s, self.settings.decide_after_s):
            await asyncio.sleep(clock.real_delay(after) + 0.001)
            self.advance(clock.now())

    def _forget_old(self) -> None:
        while len(self.requests) >= self.settings.max_requests:
            old = next((r for r in self.requests if r.status not in OPEN), None)
            if old is None:  # every kept request open (a tiny setting): the oldest goes
                old = self.requests[0]
            self.requests.remove(old)

    # ------------------------------------------------------------------ operations
    def request(self, params: dict, region: str, quota: "Quota | None") -> dict:
        now = self.host.clock.now()
        code = params.get("QuotaCode")
        if quota is None:
            raise AwsError("NoSuchResourceException", f"The request failed because the specified quota does not "
                                                      f"exist: {str(code)[:128]!r} for service 'bedrock'.", 400)
        if not quota.adjustable:
            raise AwsError("IllegalArgumentException", f"The quota {quota.name!r} ({quota.code}) is not "
                                                       "adjustable.", 400)
        if params.get("ContextId"):
            raise AwsError("IllegalArgumentException", f"The quota {quota.code} is applied at the account level: "
                                                       "ContextId must not be given.", 400)
        desired = float(params["DesiredValue"])
        if desired <= self.value(quota):
            raise AwsError("IllegalArgumentException", "You must provide a quota value greater than the current "
                                                       f"quota value ({self.value(quota):g}).", 400)
        if any(r.quota.code == quota.code and r.status in OPEN for r in self.requests):
            raise AwsError("ResourceAlreadyExistsException", f"A request for quota {quota.code} is already open: "
                           "list it with ListRequestedServiceQuotaChangeHistoryByQuota.", 400)
        self._forget_old()
        req = _Request(uuid.uuid4().hex, quota, desired, now, updated=now)
        self.requests.append(req)
        try:
            self.host.background(self._timer())
        except RuntimeError:  # no running loop (a direct call in a unit test): reads still advance it
            pass
        return {"RequestedQuota": req.to_wire(region, self.host.config.account_id)}

    def history(self, params: dict, region: str, by_quota: bool) -> dict:
        size = params.get("MaxResults", MAX_LIST)
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_LIST:
            raise AwsError("IllegalArgumentException", f"MaxResults must be between 1 and {MAX_LIST}.", 400)
        items = [r for r in reversed(self.requests)  # newest first
                 if (not by_quota or r.quota.code == params.get("QuotaCode"))
                 and (not params.get("Status") or r.status == params["Status"])
                 and params.get("QuotaRequestedAtLevel", "ALL") in ("ALL", "ACCOUNT")]
        page, token = self._page(items, params, size)
        out: dict = {"RequestedQuotas": [r.to_wire(region, self.host.config.account_id) for r in page]}
        if token:
            out["NextToken"] = token
        return out

    def get(self, params: dict, region: str) -> dict:
        rid = params.get("RequestId")
        req = next((r for r in self.requests if r.id == rid), None)
        if req is None:
            raise AwsError("NoSuchResourceException", f"No quota increase request {str(rid)[:128]!r} (the sandbox "
                                                      "keeps its newest requests only).", 400)
        return {"RequestedQuota": req.to_wire(region, self.host.config.account_id)}
