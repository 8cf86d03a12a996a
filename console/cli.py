"""Command line: the console (TUI) by default, headless subcommands beside it.

Heavy modules (textual, aiohttp, botocore, moto, pandas) are imported inside the commands that
need them, so ``--help`` and ``--version`` answer at once.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from . import __version__
from .argtypes import number
from .argtypes import positive_float as _positive_float
from .argtypes import positive_int as _positive_int
from .argtypes import sandbox_speed

EXIT_USAGE = 2


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tierconsole",
        description="Terminal operations console for Amazon Bedrock service tiers "
                    "(Reserved, Priority, Standard, Flex, Batch). With no command it opens the live "
                    "console; with no profile configured it runs on the embedded sandbox.",
    )
    parser.add_argument("--version", action="version", version=f"tierconsole {__version__}")
    _add_profile_options(parser)
    parser.add_argument("--theme", metavar="NAME", help="colour theme: dark, light, high-contrast (NO_COLOR is respected)")
    from .record_cli import add_record_args, add_record_parser, add_replay_parser  # noqa: PLC0415 - stdlib only

    add_record_args(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_record_parser(sub, _add_profile_options)
    add_replay_parser(sub)

    pr = sub.add_parser("profiles", help="list the console profiles and where each comes from",
                        description="List console profiles: built-in, ./profiles/ and "
                                    "$XDG_CONFIG_HOME/tierconsole/profiles/, later ones overriding earlier ones.")
    pr.add_argument("--json", action="store_true", help="print JSON")

    pp = sub.add_parser("prompt", help="send a test prompt at a tier, at all tiers, or escalating",
                        description="Send a test prompt with Converse at one tier, all tiers side by side, or "
                                    "escalate (Standard first, Priority on a throttle). Exit 1 when every tier failed.")
    pp.add_argument("text", help="the prompt text")
    pp.add_argument("--model", required=True, metavar="ID", help="model id, e.g. amazon.nova-lite-v1:0")
    pp.add_argument("--tier", default="default", choices=("reserved", "priority", "standard", "default", "flex",
                                                          "all", "escalate"), help="tier (default: standard)")
    pp.add_argument("--stream", action="store_true", help="use ConverseStream (measures time to first token)")
    pp.add_argument("--max-tokens", type=_positive_int, metavar="N", help="maxTokens (default: the model's maximum)")
    pp.add_argument("--temperature", type=number(float, at_least=0, at_most=1), metavar="T", help="temperature, 0 to 1")
    pp.add_argument("--system", metavar="TEXT", help="system prompt")
    pp.add_argument("--json", action="store_true", help="print one JSON object per tier")
    _add_profile_options(pp)

    bp = sub.add_parser("batch", help="submit, list, show and cancel batch inference jobs",
                        description="Batch inference jobs. Submit validates the JSONL file locally first: "
                                    "a malformed file uploads nothing.")
    bsub = bp.add_subparsers(dest="batch_command", metavar="ACTION", required=True)
    b = bsub.add_parser("submit", help="validate, upload and create a job")
    b.add_argument("file", help="local JSONL file of {recordId, modelInput} lines, or an s3:// URI already in S3")
    b.add_argument("--model", required=True, metavar="ID")
    b.add_argument("--name", metavar="NAME", help="job name (default: file name and time)")
    b.add_argument("--json", action="store_true")
    _add_profile_options(b)
    b = bsub.add_parser("list", help="list jobs, newest first")
    b.add_argument("--status", choices=("Submitted", "InProgress", "Completed", "Failed", "Stopping", "Stopped",
                                        "PartiallyCompleted", "Expired", "Validating", "Scheduled"))
    b.add_argument("--json", action="store_true")
    _add_profile_options(b)
    b = bsub.add_parser("show", help="show one job")
    b.add_argument("job", help="job ARN or id")
    b.add_argument("--json", action="store_true")
    _add_profile_options(b)
    b = bsub.add_parser("cancel", help="stop a job (asks for confirmation unless --yes)")
    b.add_argument("job", help="job ARN or id")
    b.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _add_profile_options(b)

    st = sub.add_parser("status", help="collect once and print the four panes' data (for cron and health checks)",
                        description="Collect once with the same collectors as the panes and print reservations, "
                                    "quota use by tier, throttles over 5 and 60 minutes, and batch jobs. "
                                    "Exit 3 when --fail-over is reached.")
    st.add_argument("--json", action="store_true")
    st.add_argument("--fail-over", type=number(float, above=0, at_most=10), metavar="FRACTION",
                    help="exit 3 when any quota or reservation use is at or above FRACTION (e.g. 0.8)")
    _add_profile_options(st)

    ip = sub.add_parser("incident", help="incident triage: export the timeline and diagnosis around throttles")
    isub = ip.add_subparsers(dest="incident_command", metavar="ACTION", required=True)
    ie = isub.add_parser("export", help="write the minute-by-minute timeline and a diagnosis (md, csv or json)",
                         description="Minute-by-minute TPM by tier vs quota, RPM, throttles by tier, reservation use "
                                     "and overflow, with a one-line diagnosis per model.")
    ie.add_argument("--since", default="30m", metavar="DURATION", help="how far back: 90s, 30m, 2h, 1d (default 30m)")
    ie.add_argument("--model", metavar="ID", help="only this model (default: every watched model)")
    ie.add_argument("--format", choices=("md", "csv", "json"), default="md")
    ie.add_argument("--output", "-o", metavar="FILE", help="write to FILE (default: standard output)")
    _add_profile_options(ie)

    from .plan_cli import add_plan_parser  # noqa: PLC0415 - light: argparse only

    add_plan_parser(sub)

    sb = sub.add_parser(
        "sandbox",
        help="run the embedded Bedrock sandbox in the foreground",
        description="Run the embedded Bedrock sandbox: one loopback endpoint speaking bedrock-runtime, "
                    "bedrock, S3, STS, CloudWatch and Service Quotas with tier semantics. "
                    "Aim any AWS client at it with AWS_ENDPOINT_URL.",
    )
    sb.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)")
    sb.add_argument("--port", type=_port, default=4599, help="port to bind (default: 4599; 0 picks a free one)")
    sb.add_argument("--config", metavar="FILE", help="profile YAML with a 'sandbox' section (default: built-in profiles/sandbox.yaml)")
    sb.add_argument("--scenario", metavar="NAME", default=None,
                    help="background traffic: none, steady, spike, flex-backlog, reserved-overflow, outage, "
                         "or a scenario YAML file (default: the config's, else none)")
    sb.add_argument("--speed", type=sandbox_speed, default=1.0, metavar="FACTOR",
                    help="run the sandbox clock FACTOR times faster (pacing, quota windows, waits, jobs)")
    sb.add_argument("--access-log", metavar="FILE", help="append one JSON line per request to FILE")
    sb.add_argument("--auth", metavar="FILE",
                    help="require SigV4-signed requests from the access keys in FILE (YAML: access_keys: {ID: SECRET})")
    sb.add_argument("--faults", metavar="SPEC",
                    help="inject faults, e.g. '503@0.3:bedrock,slow=15s@0.2:monitoring,down=10s/60s' "
                         "(kinds: 503, 500, throttle, slow=D, reset, lost, expired, denied, down=D/P, badframe, cut)")
    return parser


def _add_profile_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", metavar="NAME",
                   help="console profile (default: $TIERCONSOLE_PROFILE, then the profile marked default, then sandbox)")
    p.add_argument("--endpoint-url", metavar="URL",
                   help="send every AWS call to this endpoint (e.g. a running `tierconsole sandbox`)")
    p.add_argument("--region", metavar="REGION", help="override the profile's region")
    p.add_argument("--read-only", action="store_true", help="refuse every mutating action (batch submit, cancel)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "sandbox":
        from .sandbox.serve import serve  # noqa: PLC0415

        return serve(args)
    if args.command == "prompt":
        from .headless import cmd_prompt  # noqa: PLC0415

        return cmd_prompt(args)
    if args.command == "batch":
        from .headless import cmd_batch  # noqa: PLC0415

        return cmd_batch(args)
    if args.command == "status":
        from .headless import cmd_status  # noqa: PLC0415

        return cmd_status(args)
    if args.command == "incident":
        from .headless import cmd_incident  # noqa: PLC0415

        return cmd_incident(args)
    if args.command in ("record", "replay"):
        from .record_cli import cmd_record, cmd_replay  # noqa: PLC0415

        return cmd_record(args) if args.command == "record" else cmd_replay(args)
    if args.command == "plan":
        from .plan_cli import cmd_plan  # noqa: PLC0415

        return cmd_plan(args)
    if args.command == "profiles":
        return list_profiles(args)
    from .tui import run_tui  # noqa: PLC0415

    return run_tui(args)


def list_profiles(args) -> int:
    import json  # noqa: PLC0415

    from .profile_loader import discover, user_config_dir  # noqa: PLC0415

    entries = discover()
    if args.json:
        print(json.dumps([{"name": e.name, "origin": e.origin, "source": e.source, "default": e.is_default,
                           "error": str(e.error) if e.error else None} for e in entries.values()], indent=2))
    else:
        width = max((len(n) for n in entries), default=4)
        for e in entries.values():
            mark = " (default)" if e.is_default else ""
            status = f"  ERROR: {e.error}" if e.error else ""
            print(f"{e.name:<{width}}  {e.origin:<8}  {e.source}{mark}{status}")
        print(f"# user profiles go in {user_config_dir() / 'profiles'}")
    return 1 if any(e.error for e in entries.values()) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
