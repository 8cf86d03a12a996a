"""``tierconsole status``: collect once and print the four panes' data (for cron and health checks)."""
from __future__ import annotations

import json
import sys

from ..core.domain.alerts import PROFILE_THRESHOLD
from .argtypes import number
from .common import EXIT_FAIL, EXIT_USAGE, err, run, session


def add_parser(sub) -> None:
    st = sub.add_parser("status", help="collect once and print the four panes' data (for cron and health checks)",
                        description="Collect once with the same collectors as the panes and print reservations, "
                                    "quota use by tier, throttles over 5 and 60 minutes, and batch jobs. "
                                    "Exit 3 when --fail-over is reached; without --fail-over the exit code "
                                    "never depends on use.")
    st.add_argument("--json", action="store_true")
    st.add_argument("--fail-over", type=number(float, above=0, at_most=10), metavar="FRACTION", nargs="?",
                    const=PROFILE_THRESHOLD,
                    help="exit 3 when any quota or reservation use is at or above FRACTION (e.g. 0.8); "
                         "given alone, FRACTION is the profile's alert_threshold")


EXIT_OVER = 3


def cmd_status(args) -> int:
    if args.fail_over not in (None, PROFILE_THRESHOLD) and not 0 < args.fail_over <= 10:
        err(f"--fail-over: must be a fraction such as 0.8, got {args.fail_over}")
        return EXIT_USAGE
    return run(_status(args))


async def _status(args) -> int:
    from ..core.ops.status import collect_status, highest_use  # noqa: PLC0415
    from ..present.status import format_status  # noqa: PLC0415

    async with session(args) as source:
        doc, collector = await collect_status(source)
    if collector.errors:
        doc["errors"] = collector.errors
    threshold = source.profile.alert_threshold
    doc["alert_threshold"] = threshold
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(format_status(doc, threshold))
    if collector.errors.get("metrics") and collector.answers is None:
        err(f"could not read metrics: {collector.errors['metrics']}")
        return EXIT_FAIL
    if args.fail_over is None:
        return 0  # without --fail-over the exit code never depends on use
    limit, whose = (threshold, f" (profile {source.profile.name!r} alert_threshold)") \
        if args.fail_over is PROFILE_THRESHOLD else (args.fail_over, "")
    level, what = highest_use(doc)
    if level >= limit:
        print(f"tierconsole: over {limit:.0%}{whose}: {what}", file=sys.stderr)
        return EXIT_OVER
    return 0
