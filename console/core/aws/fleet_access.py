"""Reaching a source account of the fleet (issue 15): an AWS profile of its own, or a role assumed from the
monitoring account, as the fleet profile's ``access:`` rules say (:mod:`..domain.fleetspec`).

Before its first use, an account's credentials are checked (``sts:GetCallerIdentity``): they must act in
that very account, else the access is refused ("credentials for X act in Y") — never act on the wrong target.
Assumed-role credentials refresh themselves (aiobotocore's deferred refreshable credentials) from the
monitoring account's STS client. Nothing here prints or keeps a secret beyond the session holding it.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable

from ..domain.fleetspec import AccessRule, FleetSpec
from .session import AwsContext, Target, describe_error

if TYPE_CHECKING:  # pragma: no cover
    from ..domain.profile import Profile
    from .listing import CallCounter

ROLE_SESSION_NAME = "tierconsole-fleet"
# aiobotocore logs a failed assume-role refresh with its traceback before raising it to the caller, which says it
# in one line (a denied account's quota note, a refused drill-in): with no handler configured, Python's last
# resort would print that traceback on the terminal.
logging.getLogger("aiobotocore.credentials").addHandler(logging.NullHandler())
NO_ACCESS = "unknown — no access configured (add a fleet.access rule matching it)"


class AccessRefused(Exception):
    """An account cannot be reached (no rule, denied, or credentials acting in another account)."""


class AssumedRoleContext(AwsContext):
    """Clients acting as a role of a source account, assumed with the monitoring account's credentials."""

    def __init__(self, target: Target, monitoring: AwsContext, role_arn: str, external_id: str | None,
                 region: str, calls: "CallCounter"):
        super().__init__(target)
        self._monitoring, self._role_arn, self._external_id = monitoring, role_arn, external_id
        self._region, self._calls = region, calls

    def _static_credentials(self) -> tuple[str, str] | None:
        return None  # the assumed role's, never the monitoring account's

    def _get_session(self) -> Any:
        if self._session is None:
            from aiobotocore.credentials import AioDeferredRefreshableCredentials  # noqa: PLC0415
            from aiobotocore.session import AioSession  # noqa: PLC0415

            session = AioSession()
            # the service models the monitoring session has loaded already (hundreds of accounts: read once)
            session.register_component("data_loader", self._monitoring._get_session().get_component("data_loader"))
            session._credentials = AioDeferredRefreshableCredentials(self._assume, "assume-role")
            self._session = session
        return self._session

    async def _assume(self) -> dict[str, Any]:
        sts = await self._monitoring.client("sts", self._region)
        params: dict[str, Any] = {"RoleArn": self._role_arn, "RoleSessionName": ROLE_SESSION_NAME}
        if self._external_id:
            params["ExternalId"] = self._external_id
        self._calls.add("AssumeRole")
        c = (await sts.assume_role(**params))["Credentials"]
        return {"access_key": c["AccessKeyId"], "secret_key": c["SecretAccessKey"], "token": c["SessionToken"],
                "expiry_time": c["Expiration"].isoformat()}


def account_profile(monitoring: "Profile", rule: AccessRule, account_id: str, name: str, region: str) -> "Profile":
    """The console profile an account is reached with: the monitoring profile's settings, the rule's AWS profile
    and read-only flag, one region, named ``prod-fleet/payments@us-east-1``."""
    bucket, role = rule.batch_for(account_id)
    if bucket is None and monitoring.sandbox is not None:  # the fleet sandbox: each account's cell has its own
        bucket = f"{monitoring.sandbox.get('bucket') or 'tierconsole-sandbox'}-{account_id}"
        role = f"arn:aws:iam::{account_id}:role/tierconsole-sandbox-batch"
    return replace(monitoring, name=f"{monitoring.name}/{name or account_id}@{region}", regions=(region,),
                   aws_profile=rule.aws_profile if rule.aws_profile else monitoring.aws_profile,
                   read_only=monitoring.read_only or bool(rule.read_only), fleet=None, models=(), reservations=(),
                   read_only_field=f"{rule.where}.read_only" if rule.read_only else monitoring.read_only_field,
                   # batch jobs go to the account's own bucket and role, never the monitoring profile's
                   s3_input_prefix=bucket and f"s3://{bucket}/input/", s3_output_prefix=bucket and f"s3://{bucket}/output/",
                   batch_role_arn=role, fleet_account=account_id, fleet_access=rule.where)


def account_context(monitoring: AwsContext, rule: AccessRule, account_id: str, name: str, region: str,
                    calls: "CallCounter") -> AwsContext:
    mt = monitoring.target
    target = Target(account_profile(mt.profile, rule, account_id, name, region), mt.endpoint_url,
                    sandbox=mt.sandbox, credentials=mt.credentials)
    role = rule.role_for(account_id)
    if role is None:
        return AwsContext(target)
    return AssumedRoleContext(target, monitoring, role, rule.external_id, region, calls)


class AccountContexts:
    """Contexts acting as source accounts, each account's identity checked once. A context is opened for one
    slow-cadence read and closed after it: hundreds of accounts' clients are never held between reads."""

    def __init__(self, monitoring: AwsContext, spec: FleetSpec, calls: "CallCounter", *,
                 make: Callable[..., AwsContext] = account_context):
        self.monitoring, self.spec, self.calls, self._make = monitoring, spec, calls, make
        self._verified: set[str] = set()

    def rule(self, account_id: str, label: str | None) -> AccessRule | None:
        return self.spec.access_for(account_id, label)

    async def open(self, account_id: str, label: str | None, region: str) -> AwsContext:
        """A new context acting as the account in ``region`` (the caller closes it); its identity is checked the
        first time. Raises :class:`AccessRefused`."""
        rule = self.rule(account_id, label)
        if rule is None:
            raise AccessRefused(NO_ACCESS)
        ctx = self._make(self.monitoring, rule, account_id, label or "", region, self.calls)
        if account_id in self._verified:
            return ctx
        try:
            sts = await ctx.client("sts", region)
            self.calls.add("GetCallerIdentity")
            acting = (await sts.get_caller_identity())["Account"]
        except asyncio.CancelledError:
            await ctx.close()
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is this account's, said in its quota note
            await ctx.close()
            raise AccessRefused(f"{describe_error(exc)} via {rule.describe(account_id)}") from None
        if acting != account_id:
            await ctx.close()
            raise AccessRefused(f"credentials for {account_id} act in {acting} ({rule.describe(account_id)}): refused")
        self._verified.add(account_id)
        return ctx
