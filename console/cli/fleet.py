"""``tierconsole fleet`` and ``status --fleet`` (issue 15): every source account × region × model of a fleet
profile in one view, from the monitoring account (one use case: :mod:`tierconsole.core.ops.fleet`)."""
from __future__ import annotations

import argparse
import json
import sys

from .common import run, session

GROUPS = ("none", "account", "region", "model")


def add_parser(sub) -> None:
    p = sub.add_parser("fleet", help="every account × region × model of a fleet profile, worst first",
                       description="Collect once from the fleet profile's monitoring account (CloudWatch "
                                   "cross-account observability: one GetMetricData per region, plus the splits the "
                                   "500-query limit forces) and each account's quotas (through the account), and "
                                   "print one row per account × region × model, worst first. Exit 1 when an "
                                   "account or region could not be read (named on stderr), or when nothing at all "
                                   "was measured (no row: no Bedrock traffic anywhere); otherwise 0.")
    p.add_argument("--json", action="store_true")
    add_view_options(p)


def add_view_options(p: argparse.ArgumentParser) -> None:
    """``--group`` and ``--filter``: what the fleet screen's ``g`` and ``/`` do, the same on every command."""
    p.add_argument("--group", choices=GROUPS, default="none", help="group rows by account, region or model")
    p.add_argument("--filter", metavar="TEXT", default="",
                   help="only rows whose account id, name, region or model contain every term (case-insensitive); "
                        "!term excludes (the fleet screen's / filter)")


def cmd_fleet(args) -> int:
    return run(_fleet(args, fail_over=None))


async def _fleet(args, fail_over) -> int:
    from ..core.domain.alerts import PROFILE_THRESHOLD  # noqa: PLC0415
    from ..core.domain.fleetrows import filter_rows  # noqa: PLC0415
    from ..core.ops.fleet import collect_fleet, fleet_document, require_fleet, row_document, verdict  # noqa: PLC0415
    from ..core.config.profiles import load_profile  # noqa: PLC0415
    from ..present.fleet import format_fleet, over_lines  # noqa: PLC0415

    require_fleet(load_profile(args.profile))  # before any sandbox or AWS session starts
    async with session(args) as operator:
        snap = await collect_fleet(operator, regions=(args.region,) if args.region else None)
    if fail_over is PROFILE_THRESHOLD:
        fail_over = snap.threshold
    rows = filter_rows(snap.rows, getattr(args, "filter", "") or "")
    if args.json:
        doc = fleet_document(snap)
        doc["rows"] = [row_document(r) for r in rows]
        if fail_over is not None:
            doc["fail_over"] = fail_over
        print(json.dumps(doc, indent=2))
    else:
        print(format_fleet(snap, rows, getattr(args, "group", "none")))
    v = verdict(snap, fail_over)
    for who, why in v.unknown:
        print(f"tierconsole: could not read {who}: {why}", file=sys.stderr)
    if v.nothing:
        print(f"tierconsole: {v.nothing}", file=sys.stderr)
    if v.over:
        print(f"tierconsole: {len(v.over)} over {fail_over:.0%} in "
              f"{len({r.account_id for r in v.over})} accounts: " + "; ".join(over_lines(v.over, fail_over)),
              file=sys.stderr)
    return v.code


def cmd_status_fleet(args) -> int:
    return run(_fleet(args, fail_over=args.fail_over))
