"""Application inference profiles as the console reads them from ``ListInferenceProfiles`` (pure).

An application profile copies a foundation model (then its calls draw on the model's in-region on-demand
quota) or a system-defined cross-region/global profile (then they draw on that profile's quota). AWS's
listing does not name what was copied: an application profile's ``models`` lists one foundation-model ARN
per destination region (botocore ``InferenceProfileSummary``; no ``copyFrom`` member). So the copied source
is read from those regions: the system profile of the same model listing exactly the same regions, else
the foundation model when the one region is the caller's own. Anything else is said to be unknown (its
traffic is then shown on no route rather than on a guessed one).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .quotas import CROSS_REGION_ROUTE, GLOBAL_ROUTE, ON_DEMAND_ROUTE
from .routes import GLOBAL_GEO, KNOWN_GEOS, model_named_by, parse_arn

APPLICATION = "APPLICATION"


@dataclass(frozen=True)
class AppProfile:
    """One application inference profile: what it copies and the route of its calls (None: not known)."""

    arn: str
    profile_id: str
    name: str
    model_id: str | None  # the foundation model its calls run on
    route: str | None  # on_demand | cross_region | global
    copies: str  # the system profile id or the foundation model id it copies; "" when the listing does not tell

    @property
    def label(self) -> str:
        """``nightly-etl (5dews3o6kky6)``: how the console names it."""
        return f"{self.name} ({self.profile_id})"

    @property
    def copies_text(self) -> str:
        if not self.copies:
            return "copies: not told by the listing"
        what = "foundation model" if self.route == ON_DEMAND_ROUTE else "inference profile"
        return f"copies {what} {self.copies}"


def _regions(summary: Mapping[str, Any]) -> tuple[str | None, frozenset[str]]:
    """(the model, the destination regions) of a profile's ``models``; model None when they name several."""
    arns = [parse_arn(m.get("modelArn", "")) for m in summary.get("models") or []]
    models = {a[3] for a in arns if a is not None and a[0] == "foundation-model"}
    regions = frozenset(a[1] for a in arns if a is not None and a[0] == "foundation-model")
    return (next(iter(models)) if len(models) == 1 else None), regions


def application_profiles(summaries: Iterable[Mapping[str, Any]], region: str) -> tuple[AppProfile, ...]:
    """The application profiles of a ``ListInferenceProfiles`` answer (both types listed), each with what it
    copies, read from its destination regions against the system profiles of the same answer."""
    summaries = list(summaries)
    systems: dict[tuple[str, frozenset[str]], list[str]] = {}
    for s in summaries:
        pid = s.get("inferenceProfileId") or ""
        if s.get("type", "SYSTEM_DEFINED") == APPLICATION or pid.partition(".")[0] not in KNOWN_GEOS:
            continue
        systems.setdefault((model_named_by(pid), _regions(s)[1]), []).append(pid)
    out = []
    for s in summaries:
        if s.get("type") != APPLICATION or not s.get("inferenceProfileArn"):
            continue
        model, regions = _regions(s)
        copied = systems.get((model, regions), []) if model else []
        route: str | None = None
        copies = ""
        if len(copied) == 1:
            copies = copied[0]
            route = GLOBAL_ROUTE if copies.partition(".")[0] == GLOBAL_GEO else CROSS_REGION_ROUTE
        elif not copied and model and regions == {region}:
            copies, route = model, ON_DEMAND_ROUTE
        out.append(AppProfile(arn=s["inferenceProfileArn"], profile_id=s.get("inferenceProfileId") or "",
                              name=s.get("inferenceProfileName") or "", model_id=model, route=route, copies=copies))
    return tuple(out)


def by_series(apps: Iterable[AppProfile]) -> dict[str, AppProfile]:
    """Application profiles by the ``ModelId`` series their calls are published under (the ARN as called)."""
    return {a.arn: a for a in apps}
