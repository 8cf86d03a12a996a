"""The fleet's use cases (issue 15), shared by ``tierconsole fleet``, ``status --fleet`` and the TUI's fleet
screen: one collection, the JSON document, the verdict for cron, and the profile a drill-in runs as."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..domain import fleetrows as fr
from ..domain.catalog import ConfigError
from ..domain.quotas import route_label

if TYPE_CHECKING:  # pragma: no cover
    from ..aws.listing import CallCounter
    from ..aws.session import AwsContext, Target
    from ..source import LiveSource
    from ..domain.fleetspec import AccessRule
    from ..domain.profile import Profile
    from ..session import OperatorSession

EXIT_OK, EXIT_FAIL, EXIT_OVER = 0, 1, 3


def require_fleet(profile: "Profile") -> None:
    if profile.fleet is None:
        raise ConfigError("fleet", f"profile {profile.name!r} has no fleet: section (a fleet profile names the "
                                   "monitoring account and how to reach its source accounts; see "
                                   "the fleet section of the README and the shipped profiles/fleet.yaml)", source=profile.source)


async def collect_fleet(session: "OperatorSession", regions: tuple[str, ...] | None = None) -> fr.FleetSnapshot:
    """One fleet refresh (discovery and every account's quotas included) with the session's monitoring context;
    ``regions`` (``--region``): only those of the profile's."""
    from ..aws.fleet import FleetCollector  # noqa: PLC0415

    require_fleet(session.profile)
    collector = FleetCollector(await session.context(), clock=session.clock, regions=regions)
    try:
        return await collector.refresh(wait_quotas=True)
    finally:
        await collector.close()


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def row_document(r: fr.FleetRow) -> dict[str, Any]:
    b = r.binding
    return {
        "account_id": r.account_id, "account_name": r.account_name, "region": r.region, "series": r.series,
        "model_id": r.model_id, "route": route_label(r.route), "use": _round(r.use),
        "tpm_used": _round(r.tpm_used, 1), "rpm_used": _round(r.rpm_used, 2),
        # the dashboard's TPM rule (status --json's keys): tpm_used blends the previous minute in when tpm_estimated;
        # tpm_peak_minute is the highest measured minute; "use" judges the higher of the two (core.domain.alerts)
        "tpm_quota": r.tpm_quota, "tpm_fraction": _round(r.tpm_fraction), "tpm_estimated": r.tpm_estimated,
        "tpm_measured_over": r.tpm_measured_over,
        "tpm_peak_minute": None if r.tpm_peak_minute is None else round(r.tpm_peak_minute),
        # status --json's names for the same things (its quota entries' value/used, its binding's other fields);
        # label is the fleet's short one ("on-demand TPM")
        "binding": None if b is None else {"name": b.name, "code": b.code, "kind": b.kind, "measure": b.measure,
                                           "period": b.period, "value": b.limit, "used": round(b.used, 2),
                                           "fraction": round(b.fraction, 4), "text": b.text, "source": b.source or None,
                                           "label": b.label},
        "throttles_per_min": _round(r.throttles_per_min, 2),
        # the window: InvocationThrottles of the last complete minute (its start, epoch seconds), as the account's
        # dashboard lists that minute in its throttle feed
        "throttles_window": "last complete minute", "throttles_minute": r.throttles_minute,
        "throttles_per_min_by_tier": None if r.throttles_by_tier is None else
        {t: round(v, 2) for t, v in r.throttles_by_tier.items()},
        "tiers_note": r.tiers_note or None,
        "reserved": None if r.reserved is None else {
            "reservation_id": r.reserved.reservation_id, "input_fraction": round(r.reserved.input_fraction, 4),
            "output_fraction": round(r.reserved.output_fraction, 4)},
        "overflow_tpm": None if r.reserved is None or r.reserved.overflow_tpm is None else round(r.reserved.overflow_tpm),
        "overflow_source": (r.reserved.overflow_source or None) if r.reserved else None,
        "stale": r.stale, "quota_note": r.quota_note, "source": r.source,
    }


def fleet_document(s: fr.FleetSnapshot) -> dict[str, Any]:
    p = s.pulse
    return {
        "time": s.time, "profile": s.profile, "monitoring_account": s.monitoring_account, "regions": list(s.regions),
        "endpoint": s.endpoint, "alert_threshold": s.threshold, "source": s.source, "calls": dict(s.calls),
        "pulse": {"text": p.text(), "accounts": p.accounts, "regions": p.regions,
                  "over_accounts": list(p.over_accounts), "throttling_accounts": list(p.throttling_accounts),
                  "stale_accounts": list(p.stale_accounts)},
        "region_stale": dict(s.region_stale),
        "accounts": [{"account_id": a.account_id, "name": a.name, "name_source": a.name_source,
                      "regions": list(a.regions), "stale": dict(a.stale), "access": a.access or None,
                      "quota_note": a.quota_note, "traffic": a.traffic} for a in s.accounts],
        "rows": [row_document(r) for r in s.rows],
    }


@dataclass(frozen=True)
class Verdict:
    code: int
    over: tuple[fr.FleetRow, ...]  # rows at or over the line
    unknown: tuple[tuple[str, str], ...]  # (who, why) that could not be judged
    nothing: str = ""  # why nothing at all was measured (0 rows): never "all clear"


def verdict(s: fr.FleetSnapshot, fail_over: float | None) -> Verdict:
    """For cron: 3 when a row's use is at or over ``fail_over``; else 1 when an account × region (or a region)
    could not be read, or its quota use is unknown (no access rule, access denied); else 0. Without
    ``fail_over`` the code never depends on use."""
    over = tuple(r for r in s.rows if fail_over is not None and r.use is not None and r.use >= fail_over)
    unknown = [(f"region {region}", why) for region, why in sorted(s.region_stale.items())]
    unknown += [(f"{a.name} ({a.account_id}) {region}", why) for a in s.accounts for region, why in sorted(a.stale.items())
                if region not in s.region_stale]
    judged = {(r.account_id, r.region) for r in s.rows if r.use is not None}
    notes = sorted({(r.account_id, r.region, r.quota_note) for r in s.rows
                    if r.use is None and r.quota_note and not r.stale and (r.account_id, r.region) not in judged})
    names = {a.account_id: a.name for a in s.accounts}
    unknown += [(f"{names.get(a, a)} ({a}) {region} quota use", note) for a, region, note in notes]
    nothing = "" if s.rows else nothing_measured(s)
    code = EXIT_OVER if over else EXIT_FAIL if unknown or nothing else EXIT_OK
    return Verdict(code, over, tuple(unknown), nothing)


def nothing_measured(s: fr.FleetSnapshot) -> str:
    """Why a fleet refresh has no row (F6: a cron check must not read that as all clear)."""
    where = ", ".join(s.regions)
    if s.region_stale and set(s.region_stale) >= set(s.regions):
        why = "no region could be read"
    elif not s.accounts:
        why = "no source account is linked to the monitoring account (oam:ListAttachedLinks)"
    else:
        n = len(s.accounts)
        why = f"no Bedrock traffic in the last 3 hours in any of its {n} linked account{'s' if n != 1 else ''}"
    return f"nothing was measured across the fleet: {why} ({where})"


def drill_profile(monitoring: "Profile", rule: "AccessRule", row: fr.FleetRow, *, read_only: bool = False,
                  console: "Profile | None" = None) -> "Profile":
    """The profile a drill-in into ``row``'s account and region runs as: the access rule's credentials (its AWS
    profile, or the role assumed from the monitoring account), that region, the account's reservations (its
    ``console_profile``'s, else the fleet's ``reservations:``), read-only when the rule, the fleet or
    ``--read-only`` says so; named ``prod-fleet/payments@us-east-1``."""
    from ..aws.fleet_access import account_profile  # noqa: PLC0415

    spec = monitoring.fleet
    base = account_profile(monitoring, rule, row.account_id, row.account_name, row.region)
    reservations = console.reservations if console is not None else (spec.reservations.get(row.account_id, ())
                                                                     if spec else ())
    extra: dict[str, Any] = {}
    if console is not None:
        extra = {"prices": console.prices, "models": console.models}
        if console.s3_input_prefix and console.s3_output_prefix and console.batch_role_arn:  # the account's own
            extra |= {"s3_input_prefix": console.s3_input_prefix, "s3_output_prefix": console.s3_output_prefix,
                      "batch_role_arn": console.batch_role_arn}
    return replace(base, reservations=tuple(reservations), read_only=base.read_only or read_only,
                   refresh_seconds=min(monitoring.refresh_seconds, 5.0), **extra)


class DrillRefused(Exception):
    """A drill-in that must not happen: no access rule for the account, or credentials acting elsewhere."""


def _console_profile(rule: "AccessRule") -> "Profile | None":
    """The console profile a rule names for its accounts (``console_profile``: their reservations, models, prices,
    batch destination), loaded by name as ``--profile`` loads one; a name no profile has refuses the drill-in."""
    if not rule.console_profile:
        return None
    from ..config.profiles import load_profile  # noqa: PLC0415

    try:
        return load_profile(rule.console_profile)
    except ConfigError as err:
        raise DrillRefused(f"fleet.access[{rule.index}].console_profile: {err}") from None


def drill_source(fleet: "LiveSource", row: fr.FleetRow, calls: "CallCounter | None" = None) -> "LiveSource":
    """The (unstarted) live source of a drill-in into ``row``: the profile :func:`drill_profile` derives, aimed at
    the fleet's own endpoint, its clients acting as the account (the rule's AWS profile, or the role assumed with
    the monitoring account's credentials). Raises :class:`DrillRefused` naming the missing ``access`` entry."""
    from ..aws.fleet_access import AssumedRoleContext  # noqa: PLC0415
    from ..aws.listing import CallCounter  # noqa: PLC0415
    from ..source import LiveSource  # noqa: PLC0415

    monitoring = fleet.ctx
    spec = fleet.profile.fleet
    if monitoring is None or spec is None:
        raise DrillRefused(f"profile {fleet.profile.name!r} is not a started fleet")
    rule = spec.access_for(row.account_id, row.account_name or None)
    if rule is None:
        raise DrillRefused(f"no access configured for {row.account_name} ({row.account_id}): add a fleet.access "
                           f"rule matching it to {fleet.profile.source}")
    profile = drill_profile(fleet.profile, rule, row, read_only=fleet.forced_read_only,
                            console=_console_profile(rule))
    role = rule.role_for(row.account_id)
    counter = calls or CallCounter()

    def make(target: "Target") -> "AwsContext":
        if role is None:
            from ..aws.session import AwsContext  # noqa: PLC0415

            return AwsContext(target)
        return AssumedRoleContext(target, monitoring, role, rule.external_id, row.region, counter)

    return LiveSource(profile, endpoint_url=monitoring.target.endpoint_url, read_only=fleet.forced_read_only,
                      sandbox="attach", make_context=make)


async def check_drill(session: "OperatorSession", account_id: str) -> None:
    """A drilled session acts in ``account_id`` or not at all (its credentials' ``GetCallerIdentity``)."""
    import asyncio  # noqa: PLC0415

    from ..aws.session import describe_error  # noqa: PLC0415

    try:
        sts = await (await session.context()).client("sts", session.profile.region)
        acting = (await sts.get_caller_identity())["Account"]
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - said to the operator; nothing is opened
        raise DrillRefused(f"cannot act in {account_id}: {describe_error(exc)} ({session.profile.name})") from None
    session.account_id = session.guard.account_id = acting
    if acting != account_id:
        raise DrillRefused(f"credentials for {account_id} act in {acting or 'an account that could not be read'}: "
                           f"refused ({session.profile.name})")
