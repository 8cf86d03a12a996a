"""Where a batch job's input and output go, and the role it runs as: the profile's settings (on the sandbox, its
bucket), or, in a fleet drill-in, the drilled account's own (:attr:`Profile.fleet_account`: its access rule's
``batch_bucket`` / ``batch_role_arn``, on the fleet sandbox ``<bucket>-<account>``) — never another account's."""
from __future__ import annotations

from dataclasses import dataclass

from .guard import Guard


@dataclass(frozen=True)
class Destination:
    input_prefix: str
    output_prefix: str
    role_arn: str


class NoBatchDestination(ValueError):
    """A drilled fleet account has no batch bucket and role of its own: nothing is submitted (never to another
    account's bucket)."""


def destination(guard: Guard, sandbox_bucket: str | None) -> Destination:
    p = guard.profile
    account = guard.account_id or "123456789012"
    if p.fleet_account is not None:  # a fleet drill-in: that account's own bucket and role, or nothing
        if p.s3_input_prefix is None or p.s3_output_prefix is None or p.batch_role_arn is None:
            raise NoBatchDestination(
                f"batch submit refused: no batch bucket for account {p.fleet_account} — set {p.fleet_access}.batch_bucket "
                f"(its own bucket, e.g. my-batch-{{account}}) and {p.fleet_access}.batch_role_arn in {p.source}; "
                "nothing was uploaded (the monitoring account's bucket is never used for another account)")
        return Destination(p.s3_input_prefix, p.s3_output_prefix, p.batch_role_arn)
    if p.is_sandbox:
        bucket = sandbox_bucket or "tierconsole-sandbox"
        return Destination(p.s3_input_prefix or f"s3://{bucket}/input/",
                           p.s3_output_prefix or f"s3://{bucket}/output/",
                           p.batch_role_arn or f"arn:aws:iam::{account}:role/tierconsole-sandbox-batch")
    missing = [k for k in ("s3_input_prefix", "s3_output_prefix", "batch_role_arn") if not getattr(p, k)]
    if missing or p.s3_input_prefix is None or p.s3_output_prefix is None or p.batch_role_arn is None:
        raise ValueError(f"profile {p.name!r} ({p.source}) needs {', '.join(missing)} to submit batch jobs")
    return Destination(p.s3_input_prefix, p.s3_output_prefix, p.batch_role_arn)


def _destination(guard: Guard, sandbox_bucket: str | None, target: str) -> Destination:
    """:func:`destination`, a drilled account's missing one audited as the refusal it is."""
    try:
        return destination(guard, sandbox_bucket)
    except NoBatchDestination:
        guard.audit("batch-submit", target, f"refused: no batch bucket ({guard.profile.fleet_access}.batch_bucket)")
        raise


def split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key
