"""``tierconsole plan``: capacity and cost planning for one model from its CloudWatch history.

Prints per-tier TPM percentiles, a reservation recommendation, the monthly cost of the same
traffic on each tier and every assumption behind the figures; ``--json`` prints one document.
Exit 0 on success, 1 on an AWS error or when the model has no traffic in the window (said so, no zero
report), 2 on bad arguments (an unknown profile, an unknown model: the known ones are named).
``cli.main.build_parser`` adds the subcommand with :func:`add_plan_parser` (and the shared --profile,
--endpoint-url, --region, --read-only and --theme, as to every subcommand).
"""
from __future__ import annotations

import argparse
import json
import sys

from .argtypes import number
from .common import EXIT_FAIL, EXIT_USAGE, err, run, session
from ..core.domain.format import plural

_percentile = number(float, above=0, at_most=100)
_price = number(float, above=0)
MAX_DAYS = 14  # = aws.history.MAX_DAYS, repeated so that parsing imports nothing heavy


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}") from None
    if not 1 <= value <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_DAYS} (CloudWatch keeps 1-minute data for 15 days), "
                                         f"got {value}")
    return value


def add_plan_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "plan", help="size a reservation and compare monthly costs from a model's CloudWatch history",
        description="Fetch one model's 1-minute CloudWatch history, show per-tier P50/P90/P99/max input TPM "
                    "(input + cache write) and output TPM, recommend a reservation (sized at a percentile, "
                    "never below 100,000 input / 10,000 output TPM) and compare the monthly cost of the same "
                    "traffic on Reserved (+ overflow at Standard), Standard, Priority, Flex and Batch. "
                    "Every assumption is printed next to the figures.")
    p.add_argument("--model", required=True, metavar="ID", help="model id, e.g. amazon.nova-lite-v1:0")
    p.add_argument("--days", type=_days, default=14, metavar="N",
                   help=f"days of 1-minute history, 1-{MAX_DAYS} (default: 14)")
    p.add_argument("--percentile", type=_percentile, default=90.0, metavar="P",
                   help="size the reservation at this percentile of per-minute TPM (default: 90)")
    p.add_argument("--reservation-price", type=_price, metavar="USD",
                   help="your contract's price per 1K TPM per month (default: the profile's reservation of the "
                        "model; without one the Reserved cost is shown as unknown)")
    p.add_argument("--month", choices=("730h", "30d"), default="730h",
                   help="month length for monthly figures: 730h = 43,800 minutes (default), 30d = 43,200")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    from .quota_request import add_quota_request_options  # noqa: PLC0415 - argparse only

    add_quota_request_options(p)
    return p


def cmd_plan(args) -> int:
    if not args.model.strip():
        err("plan: --model must not be empty")
        return EXIT_USAGE
    from .quota_request import cmd_quota_request, misplaced_option  # noqa: PLC0415

    if problem := misplaced_option(args):
        err(f"plan: {problem}")
        return EXIT_USAGE
    if args.quota_request:
        return cmd_quota_request(args)
    return run(_plan(args))


async def _plan(args) -> int:
    from ..core.ops.plan import PlanError, UnknownModel, load_history, plan_and_spend, plan_document  # noqa: PLC0415

    async with session(args) as operator:
        try:
            history = await load_history(operator, args.model, args.days)
        except UnknownModel as e:
            err(f"plan: {e}")
            return EXIT_USAGE
        except PlanError as e:
            err(f"plan: {e}" if not str(e).startswith("CloudWatch") else str(e))
            return EXIT_FAIL
        profile = operator.profile
    plan, now = plan_and_spend(history, profile, args.model, percentile=args.percentile, month=args.month,
                               reservation_price=args.reservation_price)
    if args.json:
        print(json.dumps(plan_document(plan, now, history, profile), indent=2))
    else:
        from rich.text import Text  # noqa: PLC0415

        from ..present.plan import StdoutConsole, cost_view_renderables, plan_renderables  # noqa: PLC0415

        console = StdoutConsole(width=None if sys.stdout.isatty() else 160)
        console.print(plan_renderables(plan))
        console.print(Text(""), cost_view_renderables(now))
        console.print(f"history: {history.to_json()['source']}, {plural(history.calls, 'GetMetricData call')}; "
                      f"profile {profile.name} ({profile.region})", style="dim")
    return 0
