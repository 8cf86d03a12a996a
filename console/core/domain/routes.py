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


# ---------------------------------------------------------------------------------------------------------------
# Resolving a runtime model identifier (model id, foundation-model ARN, system or application profile id or ARN).
# The catalog is duck-typed (``models``, ``model(id)``, ``geographies``) so this module stays free of the parser.

import re  # noqa: E402 - below the shared interface above, which both branches carry verbatim
from typing import TYPE_CHECKING, Mapping  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog, ModelSpec

GLOBAL_GEO = "global"
ON_DEMAND_UNSUPPORTED = ("Invocation of model ID {id} with on-demand throughput isn't supported. Retry your request "
                         "with the ID or ARN of an inference profile that contains this model.")
APPLICATION_ID_LENGTH = 12  # AWS's application profile ids: 12 characters of [a-z0-9], e.g. 5dews3o6kky6

_ARN = re.compile(r"arn:aws(?:-[a-z-]+)?:bedrock:(?P<region>[a-z0-9-]*):(?P<account>[0-9]*):"
                  r"(?P<type>foundation-model|inference-profile|application-inference-profile)/(?P<id>.+)")


class RouteError(Exception):
    """An identifier the runtime refuses, named as the AWS error it becomes."""

    def __init__(self, code: str, message: str, status: int):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def not_found(identifier: str, why: str) -> RouteError:
    return RouteError("ResourceNotFoundException", f"Model {identifier!r} {why}. List models with "
                      "ListFoundationModels and inference profiles with ListInferenceProfiles.", 404)


# Geography prefixes of AWS's system-defined profile ids, for reading ids the console meets in traffic (the
# sandbox's own geographies are catalog data).
KNOWN_GEOS = ("us", "eu", "apac", "jp", "au", "ca", "us-gov", "global")


def model_named_by(identifier: str) -> str:
    """The foundation model a model id, foundation-model ARN or system profile id/ARN names, read from the
    identifier alone (``global.anthropic.claude-…`` → ``anthropic.claude-…``); anything else (an application
    profile, whose model only GetInferenceProfile tells) is returned unchanged."""
    arn = parse_arn(identifier)
    if arn is not None and arn[0] != "application-inference-profile":
        identifier = arn[3]
    geo, _, rest = identifier.partition(".")
    return rest if geo in KNOWN_GEOS and "." in rest else identifier


def route_kind(geo: str) -> RouteKind:
    return RouteKind.GLOBAL if geo == GLOBAL_GEO else RouteKind.CROSS_REGION


def foundation_model_arn(region: str, model_id: str) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"


def system_profile_id(geo: str, model_id: str) -> str:
    return f"{geo}.{model_id}"


def system_profile_arn(region: str, account: str, profile_id: str) -> str:
    return f"arn:aws:bedrock:{region}:{account}:inference-profile/{profile_id}"


def application_profile_arn(region: str, account: str, profile_id: str) -> str:
    return f"arn:aws:bedrock:{region}:{account}:application-inference-profile/{profile_id}"


def parse_arn(identifier: str) -> tuple[str, str, str, str] | None:
    """(type, region, account, id) of a bedrock ARN naming a model or a profile, else None."""
    m = _ARN.fullmatch(identifier)
    return (m["type"], m["region"], m["account"], m["id"]) if m else None


def geo_available(catalog: "Catalog", geo: str, region: str) -> bool:
    """Whether a geography's profiles can be called from ``region``: a geography profile from one of its
    destination regions (AWS lists ``eu.`` profiles in eu regions only); a global profile from anywhere."""
    regions = catalog.geographies.get(geo)
    return regions is not None and (geo == GLOBAL_GEO or region in regions)


@dataclass(frozen=True)
class SystemProfile:
    """A system-defined (cross-region or global) inference profile, as seen from one source region."""

    profile_id: str
    geo: str
    model: "ModelSpec"
    regions: tuple[str, ...]  # the destination regions (the profile's ``models``, one foundation-model ARN each)


def system_profiles(catalog: "Catalog", region: str) -> tuple[SystemProfile, ...]:
    """The system-defined profiles callable from ``region``, in catalog order (model, then its geographies)."""
    return tuple(SystemProfile(system_profile_id(geo, m.model_id), geo, m, tuple(catalog.geographies[geo]))
                 for m in catalog.models for geo in m.profiles if geo_available(catalog, geo, region))


def system_profile(catalog: "Catalog", profile_id: str, region: str) -> SystemProfile | None:
    geo, _, model_id = profile_id.partition(".")
    model = catalog.model(model_id) if model_id else None
    if model is None or geo not in model.profiles or not geo_available(catalog, geo, region):
        return None
    return SystemProfile(profile_id, geo, model, tuple(catalog.geographies[geo]))


def resolve(identifier: str, catalog: "Catalog", *, region: str, account: str,
            applications: Mapping[str, Route] | None = None) -> Route:
    """The route of a runtime call on ``identifier`` made in ``region`` by ``account``, or :class:`RouteError`.

    Accepted, as Bedrock's runtime accepts them: a model id; a foundation-model ARN (of this region); a
    system profile id (``us.…``, ``global.…``) or ARN; an application profile ARN or id (``applications``
    maps application profile ids to their routes, made when they were created). A model configured as
    profile-only (``on_demand: false``) refuses a direct call with AWS's ValidationException; anything
    else unknown is ResourceNotFoundException.
    """
    applications = applications or {}
    arn = parse_arn(identifier)
    if arn is not None:
        kind, arn_region, arn_account, ident = arn
        if arn_region != region:
            raise not_found(identifier, f"names region {arn_region or '(none)'}; this call was made in {region}")
        if kind == "foundation-model":
            if arn_account:
                raise not_found(identifier, "is not a foundation-model ARN (those have no account)")
            return _on_demand(identifier, ident, catalog)
        if arn_account != account:
            raise not_found(identifier, f"belongs to account {arn_account or '(none)'}, not to {account}")
        if kind == "inference-profile":
            return _system(identifier, ident, catalog, region, account)
        route = applications.get(ident)
        if route is None:
            raise not_found(identifier, "is not an application inference profile of this account")
        return route
    if identifier in applications:
        return applications[identifier]
    geo, _, rest = identifier.partition(".")
    if rest and geo in catalog.geographies and catalog.model(rest) is not None:
        return _system(identifier, identifier, catalog, region, account)
    return _on_demand(identifier, identifier, catalog)


def resolve_foundation_model(identifier: str, catalog: "Catalog", *, region: str) -> Route:
    """The route of an operation that names a foundation model only (CountTokens: "the unique identifier
    or ARN of the foundation model", AWS's API reference): a model id or a foundation-model ARN of this
    region, profile-only models included (nothing is invoked; whether AWS counts for every profile-only
    model is unconfirmed). An inference profile id or ARN is a ValidationException."""
    arn = parse_arn(identifier)
    kind = arn[0] if arn is not None else None
    if kind in ("inference-profile", "application-inference-profile") or (
            arn is None and identifier.partition(".")[0] in catalog.geographies
            and catalog.model(identifier.partition(".")[2]) is not None):
        raise RouteError("ValidationException", f"{identifier} is an inference profile; this operation takes the "
                                                "id or ARN of a foundation model.", 400)
    model_id = identifier
    if arn is not None:
        if arn[1] != region or arn[2]:
            raise not_found(identifier, f"is not a foundation-model ARN of {region}")
        model_id = arn[3]
    model = catalog.model(model_id)
    if model is None:
        raise not_found(identifier, "is not available in this sandbox")
    return Route(RouteKind.ON_DEMAND, model.model_id, model.model_id)


def _on_demand(identifier: str, model_id: str, catalog: "Catalog") -> Route:
    model = catalog.model(model_id)
    if model is None:
        raise not_found(identifier, "is not available in this sandbox")
    if not model.on_demand:
        raise RouteError("ValidationException", ON_DEMAND_UNSUPPORTED.format(id=model_id), 400)
    return Route(RouteKind.ON_DEMAND, model.model_id, model.model_id)


def _system(identifier: str, profile_id: str, catalog: "Catalog", region: str, account: str) -> Route:
    profile = system_profile(catalog, profile_id, region)
    if profile is None:
        raise not_found(identifier, f"is not an inference profile available in {region}")
    return Route(route_kind(profile.geo), profile.model.model_id, profile.profile_id, profile.geo,
                 system_profile_arn(region, account, profile.profile_id))
