"""Request routes: how a runtime call reaches a model (pure)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RouteKind(StrEnum):
    ON_DEMAND = "on_demand"        # a model id or foundation-model ARN, in-region
    CROSS_REGION = "cross_region"  # a geography profile (us., eu., apac., ...) or an application profile copying one
    GLOBAL = "global"              # a global. profile or an application profile copying one


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    model_id: str                  # the foundation model the call runs on
    series: str                    # the ModelId value the call is published under in CloudWatch (as called)
    geo: str | None = None         # "us", "eu", "apac", "global" for profiles
    profile_arn: str | None = None # the profile's ARN, system or application
