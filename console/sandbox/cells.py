"""A sandbox's cells: one per (account, region), each a sandbox of its own behind the one endpoint.

A cell has what a single-region sandbox has — tier engine, runtime, outcome log, metrics publisher (into
moto's CloudWatch backend of its account and region), batch jobs, Service Quotas and its scenario — and
shares the endpoint, clock, faults and moto bridge of the sandbox that hosts it. The sandbox's own default
account in its own region (``sandbox.region``, the home region) is that sandbox itself.

A fleet sandbox (``sandbox.accounts``) serves the closed set of regions its config lists. The single-account
sandbox (no ``accounts``) serves its one account in every region botocore's endpoint data lists for Amazon Bedrock
(:func:`bedrock_regions`, a closed set): as on AWS, where on-demand and cross-region quotas, CloudWatch metrics,
batch jobs and Service Quotas are per account per region, a call signed for another region than the home one is
answered by that region's cell, made when it is first asked for. Its scenario traffic stays in the home region.

Which cell answers a request: the **account** is told by its access key (:meth:`Cells.account_of`): the
built-in ``sandbox-<account>`` key of an account the config names (:mod:`...core.domain.sandboxkeys`), or a key
moto's STS issued by ``AssumeRole`` into one of them; any other key acts in the default account (as the
single-account sandbox takes every key; there every key acts in its one account). The **region** is the SigV4
scope's; a region the sandbox does not serve is refused with the error AWS gives a credential that is not valid
there. Both sets are closed: nothing a client sends makes more than one cell per account and region served.
"""
from __future__ import annotations

import functools
import logging
import re
from collections import OrderedDict
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import parse_qsl

from ..core.domain.sandboxkeys import account_of_key
from .http import AwsError, Call
from .services.xaccount import wire

if TYPE_CHECKING:  # pragma: no cover
    from .config import SandboxConfig

Sandbox = Any  # a cell is a sandbox (.app.Sandbox), made by the factory its host gives (no import cycle)

log = logging.getLogger("tierconsole.sandbox.cells")

MAX_ISSUED_KEYS = 4096  # assumed-role keys remembered (least recently used dropped; looked up again in moto)
MAX_ASSUMED_PER_ACCOUNT = 256  # STS AssumeRole credentials moto keeps per account (the oldest dropped)
_ROLE_ACCOUNT = re.compile(r"arn:[^:]*:iam::([0-9]+)")
_REGION_ERRORS = {"query": "InvalidClientTokenId", "s3": "InvalidAccessKeyId", "json": "UnrecognizedClientException"}


@functools.cache
def bedrock_regions() -> tuple[str, ...]:
    """The regions botocore's endpoint data lists for Amazon Bedrock, in every partition, sorted: the ``bedrock``
    service's (bedrock-runtime shares its signing name; its own endpoints come from rules, with no list)."""
    from botocore.loaders import create_loader  # noqa: PLC0415 - loaded with the sandbox's moto anyway

    found: set[str] = set()
    for partition in create_loader().load_data("endpoints")["partitions"]:
        pattern = re.compile(partition.get("regionRegex", r"(?!)"))
        found.update(name for name in partition.get("services", {}).get("bedrock", {}).get("endpoints", {})
                     if pattern.fullmatch(name))  # not the "bedrock-runtime-fips-…" hostname keys
    return tuple(sorted(found))


class Cells:
    """The (account, region) cells of a sandbox, made from its config on first use (a fleet's: at start)."""

    def __init__(self, host: Sandbox, make: Callable[["SandboxConfig", str | None], Sandbox]):
        self.host = host
        self._make_sandbox = make  # (config, scenario) -> a cell sharing the host's clock, moto and OAM
        self.fleet = host.config.fleet  # None: the single-account sandbox
        if self.fleet is not None:
            self._check_scenarios()
        self.default = host.config.account_id
        self._cells: dict[tuple[str, str], Sandbox] = {(self.default, host.config.region): host}
        self._issued: OrderedDict[str, str] = OrderedDict()
        self.started = False

    # ------------------------------------------------------------------ who and where
    @functools.cached_property
    def regions(self) -> tuple[str, ...]:
        """The regions served: ``sandbox.regions``, else every region botocore lists for Bedrock and the home one
        (read when a region other than the home one is first asked for: not at start)."""
        config = self.host.config
        if config.regions:
            return config.regions
        return bedrock_regions() if config.region in bedrock_regions() else (config.region, *bedrock_regions())

    def known(self, account: str) -> bool:
        return account == self.default or self.fleet is not None and self.fleet.account(account) is not None

    def account_of(self, access_key: str | None) -> str:
        """The account a request signed with ``access_key`` acts in."""
        if not access_key or self.fleet is None:
            return self.default
        named = account_of_key(access_key)
        if named is not None and self.known(named):
            return named
        found = self._issued.get(access_key)
        if found is not None:
            self._issued.move_to_end(access_key)
            return found
        found = self._issued_by_moto(access_key)
        if found is None:
            return self.default
        self._issued[access_key] = found
        while len(self._issued) > MAX_ISSUED_KEYS:
            self._issued.popitem(last=False)
        return found

    def issued_secret(self, access_key: str) -> str | None:
        """The secret of a key moto's STS issued into one of the sandbox's accounts (``--auth`` verifies it)."""
        account = self._issued_by_moto(access_key)
        if account is None:
            return None
        from moto.iam.models import iam_backends  # noqa: PLC0415

        key = iam_backends[account]["aws"].access_keys.get(access_key)
        return key.secret_access_key if key is not None else None

    def _issued_by_moto(self, access_key: str) -> str | None:
        if not access_key.startswith("ASIA"):  # moto's STS issues ASIA… keys
            return None
        from moto.iam.models import iam_backends  # noqa: PLC0415

        for account in (self.default, *(a.account_id for a in self.fleet.accounts)):
            if account in iam_backends and access_key in iam_backends[account]["aws"].access_keys:
                return account
        return None

    def route(self, call: Call) -> Sandbox:
        """The cell that answers ``call`` (``call.account``: :meth:`account_of` its access key)."""
        from .auth import family  # noqa: PLC0415

        if call.service == "sts" and self.fleet is not None:
            target = self.check_assume_role(call)
            if target is not None:
                bound_assumed_roles(target, MAX_ASSUMED_PER_ACCOUNT - 1)  # moto adds one
        return self.cell(call.account, call.region, family(call.service, call.request.headers))

    def cell(self, account: str, region: str, family: str) -> Sandbox:
        """The cell serving ``account`` in ``region`` (made now if it is not yet)."""
        cell = self._cells.get((account, region))
        if cell is not None:
            return cell
        if region not in self.regions:
            serves = (f"{', '.join(self.regions)} (sandbox.regions of its config)" if self.host.config.regions else
                      f"the {len(self.regions)} regions botocore lists for Amazon Bedrock (sandbox.regions of its "
                      "config lists fewer)")
            raise AwsError(_REGION_ERRORS[family], f"The sandbox does not serve region {region[:40]!r}; it serves "
                           f"{serves}.", 403)
        return self._make(account, region)

    def _check_scenarios(self) -> None:
        """Load (and so validate) every account's scenarios now: a bad one fails before any port is bound."""
        from ..core.domain.catalog import ConfigError  # noqa: PLC0415
        from .scenarios import load_scenario  # noqa: PLC0415

        for i, spec in enumerate(self.fleet.accounts):
            for scenario in sorted(set(spec.scenarios.values())):
                try:
                    load_scenario(scenario, spec.catalog)
                except ConfigError as err:
                    raise ConfigError(f"sandbox.accounts[{i}].scenario", str(err),
                                      source=self.host.config.source) from None

    def _make(self, account: str, region: str) -> Sandbox:
        spec = self.fleet.account(account) if self.fleet is not None else None
        base = self.host.config
        # Each cell its own seed (fixed by account and region): two calm accounts do not send the same traffic.
        seed = base.catalog.settings.seed + int(account) % 100_003 * 31 + self.regions.index(region)
        if spec is None:  # the default account in another region
            config = replace(base, region=region, catalog=_own_settings(base.catalog, seed))
            scenario = None
        else:
            config = replace(base, account_id=account, region=region, catalog=_own_settings(spec.catalog, seed),
                             bucket=f"{base.bucket}-{account}", access_log=None)
            scenario = spec.scenarios.get(region)
        cell = self._make_sandbox(config, scenario)
        self._cells[(account, region)] = cell
        wire(self.host.oam, cell)
        if self.started:
            cell.start_cell()
        return cell

    def start(self) -> None:
        """At the sandbox's start: a fleet's cells that run traffic or are linked, so their metrics exist from now
        (the single-account sandbox's other regions are made when first asked for)."""
        self.started = True
        if self.fleet is None:
            return
        for region in self.fleet.regions:
            self.cell(self.default, region, "json")
        for spec in self.fleet.accounts:
            for region in spec.regions:
                self.cell(spec.account_id, region, "json")
        for cell in list(self._cells.values()):
            if cell is not self.host:
                cell.start_cell()

    async def stop(self) -> None:
        for cell in list(self._cells.values()):
            if cell is not self.host:
                await cell.stop()

    def __iter__(self):
        return iter(list(self._cells.items()))

    def __len__(self) -> int:
        return len(self._cells)

    # ------------------------------------------------------------------ STS into the fleet's accounts
    def check_assume_role(self, call: Call) -> str | None:
        """Refuse ``AssumeRole`` into an account the sandbox does not serve (or one that says ``assume_role:
        deny``) before moto sees it, so no client makes moto grow state for arbitrary accounts. Returns the
        target account of an AssumeRole the sandbox lets through, else None."""
        params = dict(call.request.query)
        if call.request.content_type == "application/x-www-form-urlencoded":
            params.update(parse_qsl(call.body.decode("utf-8", "replace")[:65536]))
        if params.get("Action") not in ("AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"):
            return None
        arn = params.get("RoleArn", "")
        found = _ROLE_ACCOUNT.search(arn)  # as moto reads it; without an account moto acts in the caller's
        target = found.group(1) if found else call.account
        spec = self.fleet.account(target)
        if not self.known(target) or spec is not None and not spec.assume_role:
            raise AwsError("AccessDenied", f"User: arn:aws:sts::{call.account}:assumed-role is not authorized to "
                           f"perform: sts:AssumeRole on resource: {arn[:200]}", 403)
        return target


def bound_assumed_roles(account: str, keep: int = MAX_ASSUMED_PER_ACCOUNT) -> None:
    """Keep the newest ``keep`` assumed-role credentials moto holds for ``account`` (each AssumeRole adds one
    access key to the account's IAM backend and one role to its STS backend)."""
    from moto.iam.models import iam_backends  # noqa: PLC0415
    from moto.sts.models import sts_backends  # noqa: PLC0415

    sts = sts_backends[account]["aws"]
    roles = sts.assumed_roles
    if len(roles) <= keep:
        return
    dropped, sts.assumed_roles = roles[:-keep], roles[-keep:]
    keys = iam_backends[account]["aws"].access_keys
    for role in dropped:
        keys.pop(role.access_key_id, None)


def _own_settings(catalog, seed: int):
    """``catalog`` with tier policies of its own (a scenario's ``tiers:`` changes them in its cell only) and
    ``seed`` (its scenario's arrivals and its answers)."""
    return replace(catalog, settings=replace(catalog.settings, policies=dict(catalog.settings.policies), seed=seed))
