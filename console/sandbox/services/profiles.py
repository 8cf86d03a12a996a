"""Inference profiles in the sandbox: the system-defined ones (from the catalog) and the account's
application inference profiles (created, tagged and deleted through the control plane), and the
route of every runtime model identifier (:func:`~tierconsole.core.domain.routes.resolve`).

Bounded: at most ``max_application_profiles`` application profiles (then ServiceQuotaExceededException),
at most :data:`MAX_TAGS` tags each (then TooManyTagsException); a client request token is kept only as
long as the profile it created.
"""
from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from ...core.domain.routes import (
    APPLICATION_ID_LENGTH, Route, RouteError, RouteKind, SystemProfile, application_profile_arn, foundation_model_arn,
    parse_arn, resolve, resolve_foundation_model, system_profile, system_profiles)
from ..http import AwsError

if TYPE_CHECKING:  # pragma: no cover
    from ...core.domain.catalog import Catalog

MAX_TAGS = 200  # per resource (botocore: TagList max 200; AWS's tag limit)
_ID_CHARS = string.ascii_lowercase + string.digits
APPLICATION = "APPLICATION"
SYSTEM = "SYSTEM_DEFINED"
GEO_LABELS = {"us": "US", "eu": "EU", "apac": "APAC", "global": "Global", "us-gov": "US-GOV"}


@dataclass
class ApplicationProfile:
    profile_id: str
    arn: str
    region: str
    name: str
    description: str | None
    route: Route  # its calls' route: the copied profile's geography (or on-demand for a model ARN), its own ARN
    models: tuple[str, ...]  # foundation-model ARNs (one per destination region)
    created_at: float
    updated_at: float
    seq: int  # creation order, for stable paging
    token: str | None = None
    fingerprint: str = ""  # the create request, for clientRequestToken idempotency
    tags: dict[str, str] = field(default_factory=dict)


def aws_error(err: RouteError) -> AwsError:
    return AwsError(err.code, err.message, err.status)


class ProfileStore:
    """The inference profiles of one sandbox account."""

    def __init__(self, catalog: "Catalog", account: str, max_application_profiles: int):
        self.catalog = catalog
        self.account = account
        self.limit = max_application_profiles
        self.applications: dict[str, ApplicationProfile] = {}  # by id (ids are unique across regions)
        self._tokens: dict[str, str] = {}  # clientRequestToken → profile id, while that profile lives
        self._routes: dict[str, dict[str, Route]] = {}  # region → id → route (what resolve() is given)
        self._seq = 0

    # ------------------------------------------------------------------ runtime
    def resolve(self, identifier: str, region: str, *, foundation_model: bool = False) -> Route:
        """The route of a runtime call, or the AWS error for the identifier (:class:`AwsError`).
        ``foundation_model``: the operation names a foundation model only (CountTokens)."""
        try:
            if foundation_model:
                return resolve_foundation_model(identifier, self.catalog, region=region)
            return resolve(identifier, self.catalog, region=region, account=self.account,
                           applications=self._routes.get(region, {}))
        except RouteError as err:
            raise aws_error(err) from None

    # ------------------------------------------------------------------ lookups
    def system(self, profile_id: str, region: str) -> SystemProfile | None:
        return system_profile(self.catalog, profile_id, region)

    def systems(self, region: str) -> tuple[SystemProfile, ...]:
        return system_profiles(self.catalog, region)

    def find(self, identifier: str, region: str) -> SystemProfile | ApplicationProfile:
        """A profile by id or ARN as seen from ``region``, or ResourceNotFoundException."""
        arn = parse_arn(identifier)
        kind, ident = (arn[0], arn[3]) if arn else (None, identifier)
        if arn is None or (arn[1], arn[2]) == (region, self.account):
            if kind in (None, "application-inference-profile"):
                app = self.applications.get(ident)
                if app is not None and app.region == region:
                    return app
            if kind in (None, "inference-profile"):
                system = self.system(ident, region)
                if system is not None:
                    return system
        raise AwsError("ResourceNotFoundException",
                       f"The inference profile {identifier!r} was not found in {region} for account {self.account}. "
                       "List them with ListInferenceProfiles.", 404)

    def application(self, arn: str, region: str) -> ApplicationProfile:
        """An application profile by ARN (the tagging operations' resourceARN)."""
        parsed = parse_arn(arn)
        found = self.find(arn, region) if parsed and parsed[0] == "application-inference-profile" else None
        if not isinstance(found, ApplicationProfile):
            raise AwsError("ResourceNotFoundException",
                           f"The resource {arn!r} was not found: the sandbox keeps tags on application inference "
                           "profiles only.", 404)
        return found

    # ------------------------------------------------------------------ application profiles
    def create(self, body: Mapping[str, Any], region: str, now: float) -> tuple[ApplicationProfile, bool]:
        """A new application profile from a conformed CreateInferenceProfile body, or the one this
        ``clientRequestToken`` already created (``created`` False). Errors as AWS declares them."""
        token = body.get("clientRequestToken")
        fingerprint = json.dumps({k: v for k, v in body.items() if k != "clientRequestToken"}, sort_keys=True)
        if token is not None and token in self._tokens:
            existing = self.applications[self._tokens[token]]
            if existing.fingerprint != fingerprint or existing.region != region:
                raise AwsError("ConflictException", f"The client request token {token!r} was already used for a "
                               "different CreateInferenceProfile request.", 400)
            return existing, False
        name = body["inferenceProfileName"]
        if any(p.name == name and p.region == region for p in self.applications.values()):
            raise AwsError("ConflictException", f"An inference profile named {name!r} already exists.", 400)
        tags = self._tag_dict(body.get("tags", []))
        if len(tags) > MAX_TAGS:
            raise AwsError("TooManyTagsException", f"An inference profile can have at most {MAX_TAGS} tags.", 400)
        if len(self.applications) >= self.limit:
            raise AwsError("ServiceQuotaExceededException",
                           f"This account already has {len(self.applications)} application inference profiles, "
                           f"the sandbox's limit (sandbox.max_application_profiles: {self.limit}). Delete one first.",
                           400)
        source = body["modelSource"]["copyFrom"]
        copied, models = self._copy_from(source, region)
        profile_id = self._new_id()
        arn = application_profile_arn(region, self.account, profile_id)
        self._seq += 1
        app = ApplicationProfile(profile_id=profile_id, arn=arn, region=region, name=name,
                                 description=body.get("description"),
                                 route=Route(copied.kind, copied.model_id, arn, copied.geo, arn), models=models,
                                 created_at=now, updated_at=now, seq=self._seq, token=token,
                                 fingerprint=fingerprint, tags=tags)
        self.applications[profile_id] = app
        self._routes.setdefault(region, {})[profile_id] = app.route
        if token is not None:
            self._tokens[token] = profile_id
        return app, True

    def _copy_from(self, source: str, region: str) -> tuple[Route, tuple[str, ...]]:
        """The route and models of what ``copyFrom`` names: a foundation-model ARN or a system profile ARN."""
        try:
            route = resolve(source, self.catalog, region=region, account=self.account)
        except RouteError as err:
            if err.code == "ValidationException":  # a profile-only model's ARN (unconfirmed on AWS: refused here)
                raise AwsError("ValidationException", f"{source} is served on demand only through an inference "
                               "profile: copy from the ARN of a system-defined inference profile that contains "
                               "it.", 400) from None
            raise aws_error(err) from None
        if route.kind is RouteKind.ON_DEMAND:  # a foundation-model ARN: a one-region profile
            return route, (foundation_model_arn(region, route.model_id),)
        system = self.system(route.series, region)  # a system profile ARN (the shape's pattern allows no other)
        assert system is not None  # resolve() found it
        return route, tuple(foundation_model_arn(r, route.model_id) for r in system.regions)

    def _new_id(self) -> str:
        while True:
            candidate = "".join(secrets.choice(_ID_CHARS) for _ in range(APPLICATION_ID_LENGTH))
            if candidate not in self.applications:
                return candidate

    def delete(self, identifier: str, region: str) -> None:
        found = self.find(identifier, region)
        if not isinstance(found, ApplicationProfile):
            raise AwsError("ValidationException", f"{identifier!r} is a system-defined inference profile; only "
                                                  "application inference profiles can be deleted.", 400)
        del self.applications[found.profile_id]
        self._routes.get(found.region, {}).pop(found.profile_id, None)
        if found.token is not None:
            self._tokens.pop(found.token, None)

    # ------------------------------------------------------------------ tags
    @staticmethod
    def _tag_dict(tags: list[Mapping[str, str]]) -> dict[str, str]:
        return {t["key"]: t["value"] for t in tags}

    def tag(self, arn: str, tags: list[Mapping[str, str]], region: str, now: float) -> None:
        app = self.application(arn, region)
        merged = {**app.tags, **self._tag_dict(tags)}
        if len(merged) > MAX_TAGS:
            raise AwsError("TooManyTagsException", f"The resource {arn!r} would have {len(merged)} tags; at most "
                                                   f"{MAX_TAGS} are allowed.", 400)
        app.tags = merged
        app.updated_at = now

    def untag(self, arn: str, keys: list[str], region: str, now: float) -> None:
        app = self.application(arn, region)
        for key in keys:
            app.tags.pop(key, None)
        app.updated_at = now

    # ------------------------------------------------------------------ listing
    def listing(self, region: str, type_equals: str | None) -> list[tuple[tuple, SystemProfile | ApplicationProfile]]:
        """Every profile seen from ``region`` with its paging key: system ones first (catalog order), then
        application ones (creation order)."""
        out: list[tuple[tuple, SystemProfile | ApplicationProfile]] = []
        if type_equals in (None, SYSTEM):
            out += [((0, i, p.profile_id), p) for i, p in enumerate(self.systems(region))]
        if type_equals in (None, APPLICATION):
            out += [((1, a.seq, a.profile_id), a) for a in self.applications.values() if a.region == region]
        return out


def profile_name(profile: SystemProfile, display: str) -> str:
    """A system profile's name as AWS words it: "US Anthropic Claude Sonnet 4.5" (at most 64 characters);
    ``display`` is the model's provider and name ("Anthropic Claude Sonnet 4.5")."""
    return f"{GEO_LABELS.get(profile.geo, profile.geo.upper())} {display}"[:64]


def profile_description(profile: SystemProfile, display: str) -> str:
    """As AWS words it: "Routes requests to Anthropic Claude 3.5 Haiku in us-west-2, us-east-1 and us-east-2."."""
    regions = list(profile.regions)
    where = regions[0] if len(regions) == 1 else ", ".join(regions[:-1]) + " and " + regions[-1]
    return f"Routes requests to {display} in {where}."[:200]

