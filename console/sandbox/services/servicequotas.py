"""Service Quotas for ``bedrock`` in the sandbox, from the model catalog.

Protocol: awsJson1_1 (``X-Amz-Target: ServiceQuotasV20190624.<Operation>``), SigV4 service
name ``servicequotas``. Operations: ``ListServiceQuotas``, ``ListAWSDefaultServiceQuotas``
(paginated with ``MaxResults`` 1-100, default 100, and an opaque ``NextToken``),
``GetServiceQuota`` and ``GetAWSDefaultServiceQuota``. Applied and default values are the
same: the sandbox has no quota increases. Any service code but ``bedrock`` answers
``NoSuchResourceException``.

Per model of the catalog, in catalog order (``<Model name>`` is ``ModelSpec.name``):

======================================================================== ============================
quota name                                                               value
======================================================================== ============================
On-demand model inference tokens per minute for <Model name>             ``tpm``
On-demand model inference requests per minute for <Model name>           ``rpm``
Model invocation max tokens per day for <Model name>                     ``tokens_per_day``
Minimum number of records per batch inference job for <Model name>       ``batch_min_records``
Records per batch inference job for <Model name>                         ``batch_max_records``
======================================================================== ============================

Every quota has ``Unit`` ``None``, ``Adjustable`` true, ``GlobalQuota`` false,
``QuotaAppliedAtLevel`` ``ACCOUNT`` and a code ``L-XXXXXXXX`` taken from a hash of its name,
so a code never changes between runs (see :func:`quota_code`).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass


from ...core.domain.catalog import Catalog
from ..http import AwsError, BadJson, Call, Response, parse_json
from ..shapes import conform, input_shape

TARGET_PREFIX = "ServiceQuotasV20190624"
SERVICE_CODE = "bedrock"
SERVICE_NAME = "Amazon Bedrock"
MAX_RESULTS = 100
MAX_TOKEN_CHARS = 2048  # the model's NextToken limit
CONTENT_TYPE = "application/x-amz-json-1.1"


def quota_code(name: str) -> str:
    """``L-`` and 8 uppercase hex digits of the SHA-256 of the quota name: stable forever."""
    return "L-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8].upper()


@dataclass(frozen=True)
class Quota:
    code: str
    name: str
    value: float
    period_unit: str | None  # MINUTE, DAY or None (a count, not a rate)
    description: str

    def to_wire(self, region: str, account_id: str) -> dict:
        out = {"ServiceCode": SERVICE_CODE, "ServiceName": SERVICE_NAME,
               "QuotaArn": f"arn:aws:servicequotas:{region}:{account_id}:{SERVICE_CODE}/{self.code}",
               "QuotaCode": self.code, "QuotaName": self.name, "Value": float(self.value), "Unit": "None",
               "Adjustable": True, "GlobalQuota": False, "QuotaAppliedAtLevel": "ACCOUNT",
               "Description": self.description}
        if self.period_unit:
            out["Period"] = {"PeriodValue": 1, "PeriodUnit": self.period_unit}
        return out


def bedrock_quotas(catalog: Catalog) -> list[Quota]:
    """The ``bedrock`` quotas the catalog implies, in catalog order."""
    quotas: list[Quota] = []
    for m in catalog.models:
        for template, value, unit, description in (
            ("On-demand model inference tokens per minute for {}", m.tpm, "MINUTE",
             "The maximum number of tokens (input + output × burndown) per minute for {}, "
             "shared by the priority, standard and flex tiers."),
            ("On-demand model inference requests per minute for {}", m.rpm, "MINUTE",
             "The maximum number of on-demand requests per minute for {}, shared by the priority, "
             "standard and flex tiers."),
            ("Model invocation max tokens per day for {}", m.tokens_per_day, "DAY",
             "The maximum number of tokens per day for {}."),
            ("Minimum number of records per batch inference job for {}", m.batch_min_records, None,
             "The minimum number of records in a batch inference job for {}."),
            ("Records per batch inference job for {}", m.batch_max_records, None,
             "The maximum number of records in a batch inference job for {}."),
        ):
            name = template.format(m.name)
            quotas.append(Quota(quota_code(name), name, float(value), unit,
                                description.format(f"{m.name} ({m.model_id})")))
    codes = [q.code for q in quotas]
    if len(set(codes)) != len(codes):  # two models with the same name
        dup = next(q for q in quotas if codes.count(q.code) > 1)
        raise ValueError(f"two quotas share the name {dup.name!r}: give the models distinct names")
    return quotas


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
    """The awsJson1_1 handler: ``Sandbox.services["servicequotas"]`` is ``ServiceQuotas(config).handle``."""

    def __init__(self, config):
        self.config = config
        self.quotas = bedrock_quotas(config.catalog)
        self.by_code = {q.code: q for q in self.quotas}

    async def handle(self, call: Call) -> Response:
        target = call.request.headers.get("X-Amz-Target", "")
        prefix, _, op = target.partition(".")
        handler = {"ListServiceQuotas": self.list_quotas, "ListAWSDefaultServiceQuotas": self.list_quotas,
                   "GetServiceQuota": self.get_quota, "GetAWSDefaultServiceQuota": self.get_quota}.get(op)
        if prefix != TARGET_PREFIX or handler is None or call.request.method != "POST":
            raise AwsError("UnknownOperationException",
                           f"The sandbox does not serve Service Quotas operation {target or call.request.path!r}", 400)
        call.operation = op
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

    def list_quotas(self, params: dict, region: str, op: str) -> dict:
        self._service(params)
        size = params.get("MaxResults", MAX_RESULTS)
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_RESULTS:
            raise AwsError("IllegalArgumentException", f"MaxResults must be between 1 and {MAX_RESULTS}.", 400)
        quotas = self.quotas
        if op == "ListServiceQuotas":
            if params.get("QuotaCode"):
                quotas = [q for q in quotas if q.code == params["QuotaCode"]]
            if params.get("QuotaAppliedAtLevel") == "RESOURCE":
                quotas = []
        start = _page_offset(params.get("NextToken"), len(quotas))
        page = quotas[start:start + size]
        out: dict = {"Quotas": [q.to_wire(region, self.config.account_id) for q in page]}
        if start + size < len(quotas):
            out["NextToken"] = _page_token(start + size)
        return out

    def get_quota(self, params: dict, region: str, op: str) -> dict:
        self._service(params)
        quota = self.by_code.get(params.get("QuotaCode"))
        if quota is None:
            raise AwsError("NoSuchResourceException",
                           f"The request failed because the specified quota does not exist: "
                           f"{params.get('QuotaCode')!r} for service {SERVICE_CODE!r}.", 400)
        return {"Quota": quota.to_wire(region, self.config.account_id)}
