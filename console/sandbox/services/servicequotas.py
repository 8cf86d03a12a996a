"""Service Quotas for ``bedrock`` in the sandbox, from the model catalog and the tier engine.

Protocol: awsJson1_1 (``X-Amz-Target: ServiceQuotasV20190624.<Operation>``), SigV4 service
name ``servicequotas``. Operations: ``ListServiceQuotas``, ``ListAWSDefaultServiceQuotas``
(paginated with ``MaxResults`` 1-100, default 100, and an opaque ``NextToken``),
``GetServiceQuota``, ``GetAWSDefaultServiceQuota``, ``StartQuotaUtilizationReport`` and
``GetQuotaUtilizationReport``, and the quota-increase requests of :mod:`.quota_requests`
(``RequestServiceQuotaIncrease``, ``ListRequestedServiceQuotaChangeHistory[ByQuota]``,
``GetRequestedServiceQuotaChange``). Applied and default values are the same until an increase is
approved (``sandbox.quota_requests``): then the applied value is the one approved. Any service code but ``bedrock`` answers ``NoSuchResourceException``.

Per model of the catalog, in catalog order (``X`` is the model's ``quota_name``, by default its
``name``; a catalog's ``quota_names:`` overrides any one name), every quota the engine enforces
(:mod:`tierconsole.core.domain.quotas`):

=========================================================================== ============================
quota name                                                                  value
=========================================================================== ============================
On-demand model inference tokens per minute for X                           ``tpm`` / ``quotas.on_demand``
On-demand model inference requests per minute for X                         ``rpm``
On-demand model inference input|output tokens per minute for X              split shape (no RPM)
Cross-region model inference tokens|requests per minute for X               ``quotas.cross_region``
Global cross-Region model inference tokens|requests per minute for X        ``quotas.global``
Model invocation max tokens per day for X                                   ``tokens_per_day``
Global cross-Region model inference tokens per day for X                    ``quotas.global_tokens_per_day``
Minimum number of records per batch inference job for X                     ``batch_min_records``
Records per batch inference job for X                                       ``batch_max_records``
=========================================================================== ============================

then the account's ``Cross-Model Max Tokens Per Day`` (``sandbox.account_quotas``).

Every quota has ``Unit`` ``None``, ``Adjustable`` true (false for the minimum records per batch job), ``GlobalQuota`` false,
``QuotaAppliedAtLevel`` ``ACCOUNT`` and a code ``L-XXXXXXXX`` taken from a hash of its name,
so a code never changes between runs (see :func:`quota_code`).

The utilization report: ``StartQuotaUtilizationReport`` answers ``PENDING`` and a report id;
the report is ready :data:`REPORT_DELAY_S` sandbox seconds later (``IN_PROGRESS`` until then)
with one row per quota the engine counts (batch record limits have no usage), Utilization =
use / value × 100 from the engine's windows at generation, sorted by Utilization descending,
pages of up to 1,000. A Start within :data:`REPORT_REUSE_S` of the last report returns that
report; a report is deleted :data:`REPORT_TTL_S` after it was started (then, and for any id
the sandbox does not hold, ``NoSuchResourceException``). One report is kept at a time.
"""
from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...core.domain.catalog import Catalog
from ...core.domain.quotas import DAY_S, QuotaKind, QuotaSpec, quota_code
from ..http import AwsError, BadJson, Call, Response, parse_json
from ..shapes import conform, input_shape
from .quota_requests import QuotaRequests

if TYPE_CHECKING:  # pragma: no cover
    from ..host import SandboxHost

__all__ = ["quota_code", "bedrock_quotas", "ServiceQuotas", "Quota"]

TARGET_PREFIX = "ServiceQuotasV20190624"
SERVICE_CODE = "bedrock"
SERVICE_NAME = "Amazon Bedrock"
MAX_RESULTS = 100
MAX_REPORT_RESULTS = 1000
MAX_TOKEN_CHARS = 2048  # the model's NextToken limit
MAX_REPORT_VALUE = 10_000_000_000  # the model's DefaultValue/AppliedValue maximum in a report
CONTENT_TYPE = "application/x-amz-json-1.1"
REPORT_DELAY_S = 1.0  # sandbox seconds from Start to a completed report (AWS: "may take several seconds")
REPORT_REUSE_S = 60.0  # a Start this soon after the last one returns it (AWS may reuse a recent report)
REPORT_TTL_S = 15 * 60.0  # "Reports are automatically deleted after 15 minutes."


@dataclass(frozen=True)
class Quota:
    code: str
    name: str
    value: float
    period_unit: str | None  # MINUTE, DAY or None (a count, not a rate)
    description: str
    adjustable: bool = True

    def to_wire(self, region: str, account_id: str, value: float | None = None) -> dict:
        out = {"ServiceCode": SERVICE_CODE, "ServiceName": SERVICE_NAME,
               "QuotaArn": f"arn:aws:servicequotas:{region}:{account_id}:{SERVICE_CODE}/{self.code}",
               "QuotaCode": self.code, "QuotaName": self.name,
               "Value": float(self.value if value is None else value), "Unit": "None",
               "Adjustable": self.adjustable, "GlobalQuota": False, "QuotaAppliedAtLevel": "ACCOUNT",
               "Description": self.description}
        if self.period_unit:
            out["Period"] = {"PeriodValue": 1, "PeriodUnit": self.period_unit}
        return out


_ROUTE_WORDS = {QuotaKind.ON_DEMAND: "direct (on-demand) calls", QuotaKind.CROSS_REGION:
                "calls through a cross-region (geography) inference profile, counted in the source Region",
                QuotaKind.GLOBAL: "calls through a global cross-Region inference profile"}


def _description(spec: QuotaSpec, who: str) -> str:
    if spec.kind is QuotaKind.CROSS_MODEL_DAILY:
        return "The maximum number of tokens per day across all models in this account and Region."
    if spec.period_s >= DAY_S:
        return f"The maximum number of tokens per day for {who}."
    what = spec.measure.value.replace("_", " ")
    return (f"The maximum number of {what} per minute for {who} for {_ROUTE_WORDS[spec.kind]}, shared by the "
            "priority, standard and flex tiers.")


def _quota(spec: QuotaSpec, who: str) -> Quota:
    return Quota(spec.code, spec.name, float(spec.value), "DAY" if spec.period_s >= DAY_S else "MINUTE",
                 _description(spec, who))


def bedrock_quotas(catalog: Catalog) -> list[Quota]:
    """The ``bedrock`` quotas the catalog implies: per model (catalog order) every quota the engine
    enforces and the two batch record limits, then the account's."""
    quotas: list[Quota] = []
    for m in catalog.models:
        who = f"{m.quota_name} ({m.model_id})"
        quotas.extend(_quota(spec, who) for spec in m.quotas)
        for template, value, description, adjustable in (
            ("Minimum number of records per batch inference job for {}", m.batch_min_records,
             "The minimum number of records in a batch inference job for {}.", False),
            ("Records per batch inference job for {}", m.batch_max_records,
             "The maximum number of records in a batch inference job for {}.", True),
        ):
            name = template.format(m.name)
            quotas.append(Quota(quota_code(name), name, float(value), None, description.format(who), adjustable))
    quotas.extend(_quota(spec, "") for spec in catalog.account_quotas)
    codes = [q.code for q in quotas]
    if len(set(codes)) != len(codes):  # two models with the same name
        dup = next(q for q in quotas if codes.count(q.code) > 1)
        raise ValueError(f"two quotas share the name {dup.name!r}: give the models distinct names")
    return quotas


@dataclass
class _Report:
    report_id: str
    started: float
    rows: list[dict] | None = None  # filled when generated
    generated_at: float | None = None


def _page_token(offset: int) -> str:
    # standard base64: the model's pattern for NextToken is ^[a-zA-Z0-9/+]*={0,2}$
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def _page_offset(token: str | None, total: int) -> int:
    """The offset a NextToken of ours carries (read with the bounded JSON parser), or the declared error."""
    if not token:
        return 0
    if len(token) > MAX_TOKEN_CHARS:
        raise AwsError("InvalidPaginationTokenException", "Invalid pagination token.", 400)
    try:
        offset = parse_json(base64.b64decode(token.encode(), validate=True))["offset"]
    except (BadJson, KeyError, TypeError, ValueError, binascii.Error):
        offset = None
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= total:
        raise AwsError("InvalidPaginationTokenException", "Invalid pagination token.", 400)
    return offset


class ServiceQuotas:
    """The awsJson1_1 handler: ``Sandbox.services["servicequotas"]`` is ``ServiceQuotas(host).handle``."""

    def __init__(self, host: "SandboxHost"):
        self.config = host.config
        self.clock = host.clock
        self.engine = host.engine
        self.quotas = bedrock_quotas(self.config.catalog)
        self.by_code = {q.code: q for q in self.quotas}
        self._report: _Report | None = None  # one report at a time: nothing a client asks for is kept without bound
        self.requests = QuotaRequests(host, self.by_code, self._page)  # quota-increase requests (bounded)

    async def handle(self, call: Call) -> Response:
        target = call.request.headers.get("X-Amz-Target", "")
        prefix, _, op = target.partition(".")
        handler = {"ListServiceQuotas": self.list_quotas, "ListAWSDefaultServiceQuotas": self.list_quotas,
                   "GetServiceQuota": self.get_quota, "GetAWSDefaultServiceQuota": self.get_quota,
                   "StartQuotaUtilizationReport": self.start_report,
                   "GetQuotaUtilizationReport": self.get_report,
                   "RequestServiceQuotaIncrease": self.request_increase,
                   "ListRequestedServiceQuotaChangeHistory": self.request_history,
                   "ListRequestedServiceQuotaChangeHistoryByQuota": self.request_history,
                   "GetRequestedServiceQuotaChange": self.get_request}.get(op)
        if prefix != TARGET_PREFIX or handler is None or call.request.method != "POST":
            raise AwsError("UnknownOperationException",
                           f"The sandbox does not serve Service Quotas operation {target or call.request.path!r}", 400)
        call.operation = op
        self.requests.advance(self.clock.now())  # a decision due by now is taken before anything is read
        raw = call.json()
        # A string NextToken is judged as a token (ours or InvalidPaginationTokenException), not by its pattern.
        token = raw.pop("NextToken") if isinstance(raw.get("NextToken"), str) else None
        params = conform(input_shape("service-quotas", op), raw, code=call.validation_error)
        if token is not None and "NextToken" in input_shape("service-quotas", op).members:
            params["NextToken"] = token
        body = handler(params, call.region, op)
        return Response(body=json.dumps(body), content_type=CONTENT_TYPE,
                            headers={"x-amzn-RequestId": call.request_id})

    def _service(self, params: dict) -> None:
        code = params.get("ServiceCode")
        if not isinstance(code, str) or not code:
            raise AwsError("IllegalArgumentException", "ServiceCode is required.", 400)
        if code != SERVICE_CODE:
            raise AwsError("NoSuchResourceException",
                           f"The request failed because the specified service does not exist: {code!r} "
                           f"(the sandbox serves quotas for {SERVICE_CODE!r} only).", 400)

    @staticmethod
    def _page_size(params: dict, maximum: int) -> int:
        size = params.get("MaxResults", maximum)
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= maximum:
            raise AwsError("IllegalArgumentException", f"MaxResults must be between 1 and {maximum}.", 400)
        return size

    @staticmethod
    def _page(items: list, params: dict, size: int) -> tuple[list, str | None]:
        start = _page_offset(params.get("NextToken"), len(items))
        more = start + size < len(items)
        return items[start:start + size], (_page_token(start + size) if more else None)

    def list_quotas(self, params: dict, region: str, op: str) -> dict:
        self._service(params)
        size = self._page_size(params, MAX_RESULTS)
        quotas = self.quotas
        if op == "ListServiceQuotas":
            if params.get("QuotaCode"):
                quotas = [q for q in quotas if q.code == params["QuotaCode"]]
            if params.get("QuotaAppliedAtLevel") == "RESOURCE":
                quotas = []
        page, token = self._page(quotas, params, size)
        applied = op == "ListServiceQuotas"  # the AWS defaults never change
        out: dict = {"Quotas": [q.to_wire(region, self.config.account_id,
                                          self.requests.value(q) if applied else None) for q in page]}
        if token:
            out["NextToken"] = token
        return out

    def get_quota(self, params: dict, region: str, op: str) -> dict:
        self._service(params)
        quota = self.by_code.get(params.get("QuotaCode"))
        if quota is None:
            raise AwsError("NoSuchResourceException",
                           f"The request failed because the specified quota does not exist: "
                           f"{params.get('QuotaCode')!r} for service {SERVICE_CODE!r}.", 400)
        applied = self.requests.value(quota) if op == "GetServiceQuota" else None
        return {"Quota": quota.to_wire(region, self.config.account_id, applied)}

    # ------------------------------------------------------------------ quota-increase requests
    def request_increase(self, params: dict, region: str, op: str) -> dict:
        self._service(params)
        return self.requests.request(params, region, self.by_code.get(params.get("QuotaCode")))

    def request_history(self, params: dict, region: str, op: str) -> dict:
        if op == "ListRequestedServiceQuotaChangeHistory" and not params.get("ServiceCode"):
            params = {**params, "ServiceCode": SERVICE_CODE}  # optional there: every service (the sandbox has one)
        self._service(params)
        by_quota = op == "ListRequestedServiceQuotaChangeHistoryByQuota"
        if by_quota and params.get("QuotaCode") not in self.by_code:
            raise AwsError("NoSuchResourceException",
                           f"The request failed because the specified quota does not exist: "
                           f"{str(params.get('QuotaCode'))[:128]!r} for service {SERVICE_CODE!r}.", 400)
        return self.requests.history(params, region, by_quota)

    def get_request(self, params: dict, region: str, op: str) -> dict:
        return self.requests.get(params, region)

    # ------------------------------------------------------------------ utilization report
    def _live_report(self, now: float) -> _Report | None:
        report = self._report
        if report is not None and now - report.started >= REPORT_TTL_S:
            self._report = report = None
        return report

    def start_report(self, params: dict, region: str, op: str) -> dict:
        now = self.clock.now()
        report = self._live_report(now)
        if report is not None and now - report.started < REPORT_REUSE_S:
            return {"ReportId": report.report_id, "Status": self._status(report, now),
                    "Message": "A report started less than a minute ago is reused; get it with "
                               "GetQuotaUtilizationReport."}
        self._report = report = _Report(str(uuid.uuid4()), now)
        return {"ReportId": report.report_id, "Status": "PENDING",
                "Message": "Report generation started; get it with GetQuotaUtilizationReport in a few seconds."}

    @staticmethod
    def _status(report: _Report, now: float) -> str:
        if report.rows is not None:
            return "COMPLETED"
        return "PENDING" if now - report.started < REPORT_DELAY_S / 2 else "IN_PROGRESS"

    def _generate(self, report: _Report, now: float) -> None:
        rows = []
        for use in self.engine.quota_uses(now):
            quota = self.by_code.get(use.code)
            if quota is None or use.used is None:
                continue
            applied = self.requests.value(quota)
            rows.append({"QuotaCode": quota.code, "ServiceCode": SERVICE_CODE, "QuotaName": quota.name,
                         "Utilization": round(100.0 * use.used / applied, 2) if applied else 0.0,
                         "DefaultValue": min(quota.value, MAX_REPORT_VALUE),
                         "AppliedValue": min(applied, MAX_REPORT_VALUE), "ServiceName": SERVICE_NAME,
                         "Adjustable": quota.adjustable})
        rows.sort(key=lambda r: (-r["Utilization"], r["QuotaName"]))
        report.rows, report.generated_at = rows, now

    def get_report(self, params: dict, region: str, op: str) -> dict:
        now = self.clock.now()
        report = self._live_report(now)
        rid = params.get("ReportId")
        if report is None or rid != report.report_id:
            raise AwsError("NoSuchResourceException",
                           f"The quota utilization report {str(rid)[:128]!r} does not exist (reports are deleted "
                           "15 minutes after they are started; start one with StartQuotaUtilizationReport).", 400)
        size = self._page_size(params, MAX_REPORT_RESULTS)
        if report.rows is None and now - report.started >= REPORT_DELAY_S:
            self._generate(report, now)
        out: dict = {"ReportId": report.report_id, "Status": self._status(report, now)}
        if report.rows is None:
            return out
        page, token = self._page(report.rows, params, size)
        out.update({"GeneratedAt": report.generated_at, "TotalCount": len(report.rows), "Quotas": page})
        if token:
            out["NextToken"] = token
        return out
