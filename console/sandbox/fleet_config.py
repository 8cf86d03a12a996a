"""A fleet sandbox's accounts and regions: the ``regions``, ``accounts`` and ``oam`` keys of ``sandbox:``.

::

    sandbox:
      account_id: "100000000000"      # the default account: the built-in `sandbox` key acts here (monitoring)
      account_name: observability     # optional: what $AccountName becomes for it
      regions: [us-east-1, us-west-2, eu-west-1]   # absent: sandbox.region only (without accounts: the regions
                                                   # the single-account sandbox serves; absent, every region
                                                   # botocore lists for Amazon Bedrock: see .cells)
      oam: auto                       # at start: a sink per region in account_id, a policy admitting the
                                      # accounts below, a link from each account (link: true) in its regions
      accounts:                       # the source accounts (at most MAX_ACCOUNTS)
        - id: "200000000001"
          name: payments-prod         # the link's label ($AccountName)
          regions: [us-east-1]        # where it runs traffic and is linked (default: every sandbox region)
          scenario: hot               # or per region {us-east-1: hot, eu-west-1: calm}; default none
                                      # (loaded, and so checked, when the sandbox is made: before any port)
          quotas: {amazon.nova-lite-v1:0: {tpm: 60000, rpm: 200}}   # this account's on-demand quotas
          reservations: [...]         # this account's reservations (default: none; same form as the file's)
          link: true                  # linked to the monitoring sinks by `oam: auto` (default true)
          assume_role: allow          # deny: STS AssumeRole into the account answers AccessDenied

Every account and region is a closed set built from this file: nothing a client sends creates an account.
Without ``accounts`` the sandbox is the single-account sandbox it always was.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..core.domain.catalog import Catalog, ConfigError, _check_keys, parse_catalog, parse_profiles, show

MAX_ACCOUNTS = 200  # source accounts a sandbox serves (each active region of each is a cell)
MAX_REGIONS = 10
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_ACCOUNT_KEYS = {"id", "name", "regions", "scenario", "quotas", "reservations", "link", "assume_role"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,49}")


@dataclass(frozen=True)
class AccountSpec:
    account_id: str
    name: str
    regions: tuple[str, ...]
    scenarios: Mapping[str, str] = field(default_factory=dict)  # region -> scenario name (absent: none)
    catalog: Catalog | None = None  # its own quotas and reservations (None: the sandbox's, for the default account)
    link: bool = True
    assume_role: bool = True


@dataclass(frozen=True)
class Fleet:
    regions: tuple[str, ...]
    accounts: tuple[AccountSpec, ...]
    oam_auto: bool
    default_name: str

    def account(self, account_id: str) -> AccountSpec | None:
        return next((a for a in self.accounts if a.account_id == account_id), None)

    @property
    def account_ids(self) -> frozenset[str]:
        return frozenset(a.account_id for a in self.accounts)


def _account_id(raw: Any, path: str) -> str:
    text = str(raw) if type(raw) in (str, int) else ""
    if not (text.isdigit() and text.isascii() and len(text) == 12):
        raise ConfigError(path, f"must be 12 digits, got {show(raw)}")
    return text


def _regions(raw: Any, path: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or len(raw) > MAX_REGIONS:
        raise ConfigError(path, f"must be a list of 1 to {MAX_REGIONS} region names")
    for i, r in enumerate(raw):
        if not isinstance(r, str) or not _REGION.fullmatch(r):
            raise ConfigError(f"{path}[{i}]", f"must be a region name such as us-east-1, got {show(r)}")
    if len(set(raw)) != len(raw):
        raise ConfigError(path, "lists a region twice")
    return tuple(raw)


def parse_regions(sb: dict, default_region: str) -> tuple[str, ...]:
    """``sandbox.regions`` (the home region ``default_region`` one of them), or () when it is absent."""
    if "regions" not in sb:
        return ()
    regions = _regions(sb["regions"], "sandbox.regions")
    if default_region not in regions:
        raise ConfigError("sandbox.region", f"{show(default_region)} must be one of sandbox.regions")
    return regions


def parse_fleet(sb: dict, doc: dict, default_account: str, default_region: str) -> Fleet | None:
    """The fleet of a ``sandbox:`` section, or None when it names no ``accounts`` (the single-account sandbox)."""
    if "accounts" not in sb:
        if "oam" in sb:
            raise ConfigError("sandbox.oam", "needs sandbox.accounts (a fleet sandbox's source accounts)")
        if "account_name" in sb and not isinstance(sb["account_name"], str):
            raise ConfigError("sandbox.account_name", f"must be a string, got {show(sb['account_name'])}")
        return None
    regions = parse_regions(sb, default_region) or (default_region,)
    oam = sb.get("oam", "none")
    if oam not in ("auto", "none"):
        raise ConfigError("sandbox.oam", f"must be auto or none, got {show(oam)}")
    default_name = sb.get("account_name", "monitoring")
    if not isinstance(default_name, str) or not _NAME.fullmatch(default_name):
        raise ConfigError("sandbox.account_name", f"must be a name of 1-50 letters, digits, '.', '_', '-' or "
                          f"spaces, got {show(default_name)}")
    raw = sb["accounts"]
    if not isinstance(raw, list) or not raw or len(raw) > MAX_ACCOUNTS:
        raise ConfigError("sandbox.accounts", f"must be a list of 1 to {MAX_ACCOUNTS} accounts")
    seen = {default_account: "sandbox.account_id"}
    accounts = []
    for i, entry in enumerate(raw):
        accounts.append(_parse_account(entry, f"sandbox.accounts[{i}]", sb, regions, seen))
    return Fleet(regions=regions, accounts=tuple(accounts), oam_auto=oam == "auto", default_name=default_name)


def _parse_account(entry: Any, path: str, sb: dict, regions: tuple[str, ...], seen: dict[str, str]) -> AccountSpec:
    if not isinstance(entry, dict):
        raise ConfigError(path, "must be a mapping (id, name, ...)")
    _check_keys(entry, _ACCOUNT_KEYS, path)
    if "id" not in entry:
        raise ConfigError(f"{path}.id", "is required (12 digits)")
    account = _account_id(entry["id"], f"{path}.id")
    if account in seen:
        raise ConfigError(f"{path}.id", f"{account} is also {seen[account]}")
    seen[account] = path
    name = entry.get("name", account)
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(f"{path}.name", f"must be a name of 1-50 letters, digits, '.', '_', '-' or spaces, "
                          f"got {show(name)}")
    own = _regions(entry["regions"], f"{path}.regions") if "regions" in entry else regions
    for i, r in enumerate(own):
        if r not in regions:
            raise ConfigError(f"{path}.regions[{i}]", f"{r} is not one of sandbox.regions ({', '.join(regions)})")
    scenarios = _scenarios(entry.get("scenario"), f"{path}.scenario", own)
    for flag in ("link",):
        if flag in entry and not isinstance(entry[flag], bool):
            raise ConfigError(f"{path}.{flag}", f"must be true or false, got {show(entry[flag])}")
    assume = entry.get("assume_role", "allow")
    if assume not in ("allow", "deny"):
        raise ConfigError(f"{path}.assume_role", f"must be allow or deny, got {show(assume)}")
    catalog = _catalog(entry, path, sb)
    return AccountSpec(account_id=account, name=name, regions=own, scenarios=scenarios, catalog=catalog,
                       link=entry.get("link", True), assume_role=assume == "allow")


def _scenarios(raw: Any, path: str, regions: tuple[str, ...]) -> dict[str, str]:
    if raw is None or raw == "none":
        return {}
    if isinstance(raw, str):
        return {r: raw for r in regions}
    if not isinstance(raw, dict):
        raise ConfigError(path, f"must be a scenario name or a mapping of region to scenario, got {show(raw)}")
    out = {}
    for region, name in raw.items():
        if region not in regions:
            raise ConfigError(f"{path}.{region}", f"{show(region)} is not one of this account's regions")
        if not isinstance(name, str):
            raise ConfigError(f"{path}.{region}", f"must be a scenario name, got {show(name)}")
        if name != "none":
            out[region] = name
    return out


def _catalog(entry: dict, path: str, sb: dict) -> Catalog:
    """The account's own catalog: the sandbox's models with this account's quotas, and its reservations."""
    models = copy.deepcopy(sb.get("models"))
    quotas = entry.get("quotas") or {}
    if not isinstance(quotas, dict):
        raise ConfigError(f"{path}.quotas", "must be a mapping of model id to {tpm, rpm}")
    by_id = {m.get("id"): m for m in models if isinstance(m, dict)} if isinstance(models, list) else {}
    for model_id, values in quotas.items():
        where = f"{path}.quotas.{model_id}"
        if model_id not in by_id:
            raise ConfigError(where, f"model {show(model_id)} is not in sandbox.models")
        if not isinstance(values, dict) or not values or set(values) - {"tpm", "rpm"}:
            raise ConfigError(where, "must be a mapping with tpm and/or rpm")
        if "quotas" in by_id[model_id]:
            raise ConfigError(where, "the model lists its quotas in full (quotas:): give the account's there")
        for key, value in values.items():
            if type(value) is not int or not 1 <= value <= 10**9:
                raise ConfigError(f"{where}.{key}", f"must be a whole number from 1 to 1,000,000,000, "
                                  f"got {show(value)}")
            by_id[model_id][key] = value
    try:
        catalog = parse_catalog(models, entry.get("reservations"), sb.get("engine"),
                                account_quotas=sb.get("account_quotas"), quota_rules=sb.get("quota_rules"))
    except ConfigError as err:
        if err.path.startswith("reservations"):
            err.path = f"{path}.{err.path}"
        raise
    return parse_profiles(catalog, sb.get("geographies"))
