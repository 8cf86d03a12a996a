"""``tierconsole status``: collect once and print the four panes' data (for cron and health checks)."""
from __future__ import annotations

import argparse
import json
import sys

from ..core.domain.alerts import PROFILE_THRESHOLD
from .argtypes import number
from .common import EXIT_FAIL, err, run, session


def fraction(text: str) -> float:
    """``--fail-over``'s value: a fraction above 0 and at most 1 (use can never pass 100%: 1.5 would never fire)."""
    value = number(float)(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction above 0 and at most 1 (0.8 means 80%), got {text}")
    return value


def add_parser(sub) -> None:
    st = sub.add_parser("status", help="collect once and print the four panes' data (for cron and health checks)",
                        description="Collect once with the same collectors as the panes and print reservations, "
                                    "quota use by tier, throttles over 5 and 60 minutes, and batch jobs. "
                                    "Exit 3 when --fail-over is reached; without --fail-over the exit code "
                                    "never depends on use.")
    st.add_argument("--json", action="store_true")
    st.add_argument("--fail-over", type=fraction, metavar="FRACTION", nargs="?", const=PROFILE_THRESHOLD,
                    help="exit 3 when any quota (TPM or RPM) or reservation (input or output TPM) use is at or "
                         "above FRACTION, 0 < FRACTION <= 1 (e.g. 0.8); given alone, FRACTION is the profile's "
                         "alert_threshold. The ▲ marks and the header count use the same threshold")
    st.add_argument("--fleet", action="store_true",
                    help="the fleet profile's every account × region × model (as `tierconsole fleet`); with "
                         "--fail-over, exit 3 naming the accounts at or over the line, else 1 naming any account "
                         "or region that could not be read, or when nothing at all was measured (no Bedrock "
                         "traffic anywhere in the fleet)")


EXIT_OVER = 3


def cmd_status(args) -> int:
    if args.fleet:
        from .fleet import cmd_status_fleet  # noqa: PLC0415

        return cmd_status_fleet(args)
    return run(_status(args))


async def _status(args) -> int:
    from ..core.domain.alerts import threshold_text, uses_over  # noqa: PLC0415
    from ..core.ops.status import collect_status  # noqa: PLC0415
    from ..present.status import format_status  # noqa: PLC0415

    async with session(args) as operator:
        source = operator.source
        doc, collector = await collect_status(operator)
    if collector.errors:
        doc["errors"] = collector.errors
    doc["alert_threshold"] = source.profile.alert_threshold
    # One threshold for the marks, the header count and the exit code: --fail-over's when given.
    threshold, whose = (source.profile.alert_threshold, f" (profile {source.profile.name!r} alert_threshold)") \
        if args.fail_over in (None, PROFILE_THRESHOLD) else (args.fail_over, " (--fail-over)")
    over = uses_over(doc["quotas"], doc["reservations"], threshold)
    doc["over"] = {"threshold": threshold,
                   "items": [o.as_json() for o in over]}
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(format_status(doc, threshold))
    if collector.errors.get("metrics") and collector.answers is None:
        err(f"could not read metrics: {collector.errors['metrics']}")
        return EXIT_FAIL
    if args.fail_over is None:
        return 0  # without --fail-over the exit code never depends on use
    if over:
        print(f"tierconsole: {len(over)} over {threshold_text(threshold)}{whose}: "
              + "; ".join(o.describe() for o in over), file=sys.stderr)
        return EXIT_OVER
    return 0
