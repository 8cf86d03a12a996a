"""``tierconsole incident export``: the minute-by-minute timeline and diagnosis around throttles."""
from __future__ import annotations

import sys

from ..core.domain.format import plural
from ..core.units import parse_since
from .common import EXIT_FAIL, EXIT_USAGE, err, run, session


def add_parser(sub) -> None:
    ip = sub.add_parser("incident", help="incident triage: export the timeline and diagnosis around throttles")
    isub = ip.add_subparsers(dest="incident_command", metavar="ACTION", required=True)
    ie = isub.add_parser("export", help="write the minute-by-minute timeline and a diagnosis (md, csv or json)",
                         description="Minute-by-minute TPM by tier vs quota, RPM, throttles by tier, reservation use "
                                     "and overflow, with a one-line diagnosis per model.")
    ie.add_argument("--since", default="30m", metavar="DURATION", help="how far back: 90s, 30m, 2h, 1d (default 30m)")
    ie.add_argument("--model", metavar="ID", help="only this model (default: every watched model)")
    ie.add_argument("--format", choices=("md", "csv", "json"), default="md")
    ie.add_argument("--output", "-o", metavar="FILE", help="write to FILE (default: standard output)")


def cmd_incident(args) -> int:
    try:
        since = parse_since(args.since)
    except ValueError as e:
        err(f"--since: {e}")
        return EXIT_USAGE
    if since > 15 * 86400:
        err("--since: at most 15d (CloudWatch keeps 1-minute data for 15 days)")
        return EXIT_USAGE
    if args.output:
        from ..core.files import output_path_problem  # noqa: PLC0415

        problem = output_path_problem(args.output)
        if problem:  # before anything is collected
            err(f"argument --output: {args.output}: {problem}")
            return EXIT_USAGE
    return run(_incident(args, since))


async def _incident(args, since: float) -> int:
    from ..core.domain import incident as inc  # noqa: PLC0415
    from ..core.ops.incident import MetricsUnavailable, UnknownModel, build_incidents  # noqa: PLC0415

    async with session(args) as operator:
        try:
            incidents = await build_incidents(operator, since, args.model)
        except MetricsUnavailable as e:
            err(f"could not read metrics: {e}")
            return EXIT_FAIL
        except UnknownModel as e:
            err(f"--model: {e.model!r} is not a model of this account/region "
                f"(known: {', '.join(sorted(e.known)) or 'none'})")
            return EXIT_USAGE
    text = {"md": inc.to_markdown, "csv": inc.to_csv, "json": inc.to_json}[args.format](incidents)
    if args.output:
        from ..core.files import write_private  # noqa: PLC0415

        try:
            write_private(args.output, text)  # 0600 (it names the account's models and figures), never half-written
        except OSError as e:
            err(f"argument --output: {args.output}: cannot write: {e.strerror or e}")
            return EXIT_FAIL
        print(f"wrote {args.output} ({plural(len(incidents), 'model')}): " + " | ".join(i.diagnosis for i in incidents))
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
