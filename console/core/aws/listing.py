"""Paged AWS listings and the Bedrock quota listing, shared by the dashboard's collector and the fleet's
(one account's quotas, read through that account: ``ListFoundationModels`` + ``ListServiceQuotas``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping, Sequence

from ..domain import app_profiles as ap
from ..domain import quota_use as qu

if TYPE_CHECKING:  # pragma: no cover
    from .session import AwsContext


@dataclass
class CallCounter:
    """How many AWS calls of each operation the collectors made (for the cost-of-watching figures)."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, op: str) -> None:
        self.counts[op] = self.counts.get(op, 0) + 1


async def pages(call: Callable[..., Awaitable[dict[str, Any]]], op: str, key: str, kwargs: dict[str, Any],
                calls: CallCounter) -> list[dict[str, Any]]:
    """Every item of a paged listing (``NextToken``/``nextToken`` as the operation names it), each page counted."""
    token_key = "NextToken" if "MaxResults" in kwargs else "nextToken"
    items: list[dict[str, Any]] = []
    while True:
        calls.add(op)
        page = await call(**kwargs)
        items += page.get(key, [])
        token = page.get(token_key)
        if not token:
            return items
        kwargs = {**kwargs, token_key: token}


async def list_quotas(ctx: "AwsContext", region: str, quota_names: Mapping[str, Sequence[str]],
                      calls: CallCounter) -> tuple[dict[str, str], qu.Listed]:
    """The account's models (id -> name as Service Quotas names it, else as ListFoundationModels does) and
    every Bedrock quota it lists, understood (:func:`~tierconsole.core.domain.quota_use.parse_quotas`)."""
    bedrock = await ctx.client("bedrock", region)
    calls.add("ListFoundationModels")
    fms = (await bedrock.list_foundation_models()).get("modelSummaries", [])
    names = {m["modelId"]: m.get("modelName", m["modelId"]) for m in fms}
    sq = await ctx.client("service-quotas", region)
    rows = await pages(sq.list_service_quotas, "ListServiceQuotas", "Quotas",
                       {"ServiceCode": "bedrock", "MaxResults": 100}, calls)
    listed = qu.parse_quotas(rows, qu.model_candidates(fms, quota_names))
    return {m: listed.quota_name_of(m) or name for m, name in names.items()}, listed


async def inference_profiles(bedrock: Any, region: str, calls: CallCounter
                             ) -> tuple[tuple[ap.AppProfile, ...], dict[str, dict[str, list[str]]]]:
    """The account's application inference profiles (each with what it copies) and, per foundation model and
    route, the profile series (:func:`~tierconsole.core.domain.quota_use.profile_series`), from every page of
    ``ListInferenceProfiles``: shared by the dashboard's collector and the plan's history."""
    profiles = await pages(bedrock.list_inference_profiles, "ListInferenceProfiles", "inferenceProfileSummaries",
                           {"maxResults": 1000}, calls)
    apps = ap.application_profiles(profiles, region)
    return apps, qu.profile_series(profiles, apps)
