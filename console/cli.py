"""Command line: the console (TUI) by default, headless subcommands beside it.

Heavy modules (textual, aiohttp, botocore, moto, pandas) are imported inside the commands that
need them, so ``--help`` and ``--version`` answer at once.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from . import __version__, options
from .argtypes import number
from .argtypes import positive_int as _positive_int
from .argtypes import sandbox_speed
from .core.domain.alerts import PROFILE_THRESHOLD
from .record_cli import RECORD_GROUP, add_record_parser, add_replay_parser  # stdlib only

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
    """The whole command line. The shared options (``--profile``, ``--endpoint-url``, ``--region``,
    ``--read-only``, ``--theme``) are added last, to every parser of the tree (:mod:`.options`)."""
    parser = options.RootParser(
        prog="tierconsole",
        description="Terminal operations console for Amazon Bedrock service tiers "
                    "(Reserved, Priority, Standard, Flex, Batch). With no command it opens the live "
                    "console; with no profile configured it runs on the embedded sandbox.",
        epilog="--profile, --endpoint-url, --region, --read-only and --theme mean the same before or after "
               "the command; given twice with different values they are a usage error.",
        groups=(options.SHARED, RECORD_GROUP, SANDBOX_GROUP), check=_check_applicable,
    )
    parser.add_argument("--version", action="version", version=f"tierconsole {__version__}")
    options.add_group(parser, RECORD_GROUP, "")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=argparse.ArgumentParser)
    add_record_parser(sub)
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

    bp = sub.add_parser("batch", help="submit, list, show and cancel batch inference jobs",
                        description="Batch inference jobs. Submit validates the JSONL file locally first: "
                                    "a malformed file uploads nothing.")
    bsub = bp.add_subparsers(dest="batch_command", metavar="ACTION", required=True)
    b = bsub.add_parser("submit", help="validate, upload and create a job")
    b.add_argument("file", help="local JSONL file of {recordId, modelInput} lines, or an s3:// URI already in S3")
    b.add_argument("--model", required=True, metavar="ID")
    b.add_argument("--name", metavar="NAME", help="job name (default: the file's name and a hash of its content and the model, so a retry is the same job)")
    b.add_argument("--json", action="store_true")
    b = bsub.add_parser("list", help="list jobs, newest first")
    b.add_argument("--status", choices=("Submitted", "InProgress", "Completed", "Failed", "Stopping", "Stopped",
                                        "PartiallyCompleted", "Expired", "Validating", "Scheduled"))
    b.add_argument("--json", action="store_true")
    b = bsub.add_parser("show", help="show one job")
    b.add_argument("job", help="job ARN or id")
    b.add_argument("--json", action="store_true")
    b = bsub.add_parser("cancel", help="stop a job (asks for confirmation unless --yes)")
    b.add_argument("job", help="job ARN or id")
    b.add_argument("--yes", action="store_true", help="do not ask for confirmation")

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

    ip = sub.add_parser("incident", help="incident triage: export the timeline and diagnosis around throttles")
    isub = ip.add_subparsers(dest="incident_command", metavar="ACTION", required=True)
    ie = isub.add_parser("export", help="write the minute-by-minute timeline and a diagnosis (md, csv or json)",
                         description="Minute-by-minute TPM by tier vs quota, RPM, throttles by tier, reservation use "
                                     "and overflow, with a one-line diagnosis per model.")
    ie.add_argument("--since", default="30m", metavar="DURATION", help="how far back: 90s, 30m, 2h, 1d (default 30m)")
    ie.add_argument("--model", metavar="ID", help="only this model (default: every watched model)")
    ie.add_argument("--format", choices=("md", "csv", "json"), default="md")
    ie.add_argument("--output", "-o", metavar="FILE", help="write to FILE (default: standard output)")

    from .plan_cli import add_plan_parser  # noqa: PLC0415 - light: argparse only

    add_plan_parser(sub)
    _add_sandbox_parser(sub)
    options.attach(parser, options.SHARED)  # last: every parser of the tree, the ones above and any added later
    return parser


SANDBOX_GROUP = options.Group("sandbox", (
    options.Option(("--host",), "host", "127.0.0.1", dict(
        metavar="ADDRESS", help="address to bind (default: 127.0.0.1, loopback only)")),
    options.Option(("--port",), "port", 4599, dict(
        type=_port, metavar="PORT", help="port to bind (default: 4599; 0 picks a free one)")),
    options.Option(("--config",), "config", None, dict(
        metavar="FILE", help="profile YAML with a 'sandbox' section (default: built-in profiles/sandbox.yaml; "
                             "--profile NAME uses that console profile's file)")),
    options.Option(("--scenario",), "scenario", None, dict(
        metavar="NAME", help="background traffic: none, steady, spike, flex-backlog, reserved-overflow, outage, "
                             "or a scenario YAML file (default: the config's, else none)")),
    options.Option(("--speed",), "speed", 1.0, dict(
        type=sandbox_speed, metavar="FACTOR",
        help="run the sandbox clock FACTOR times faster (pacing, quota windows, waits, jobs)")),
    options.Option(("--access-log",), "access_log", None, dict(
        metavar="FILE", help="append one JSON line per request to FILE")),
    options.Option(("--auth",), "auth", None, dict(
        metavar="FILE",
        help="require SigV4-signed requests from the access keys in FILE (YAML: access_keys: {ID: SECRET})")),
    options.Option(("--faults",), "faults", None, dict(
        metavar="SPEC", help="inject faults, e.g. '503@0.3:bedrock,slow=15s@0.2:monitoring,down=10s/60s' "
                             "(kinds: 503, 500, throttle, slow=D, reset, lost, expired, denied, down=D/P, "
                             "badframe, cut)")),
))


def _add_sandbox_parser(sub) -> None:
    sb = sub.add_parser(
        "sandbox",
        help="run the embedded Bedrock sandbox (foreground, or start|stop|status in the background)",
        description="Run the embedded Bedrock sandbox: one loopback endpoint speaking bedrock-runtime, "
                    "bedrock, S3, STS, CloudWatch and Service Quotas with tier semantics. "
                    "Aim any AWS client at it with AWS_ENDPOINT_URL. With no ACTION it runs in the foreground "
                    "until Ctrl-C; `start` runs one in the background (one per user) that the sandbox profile "
                    "and every later command attach to, `stop` stops it, `status` tells whether it runs.",
    )
    options.add_group(sb, SANDBOX_GROUP, "sandbox")
    ssub = sb.add_subparsers(dest="sandbox_command", metavar="ACTION")
    start = ssub.add_parser("start", help="start the background sandbox (returns once it answers)",
                            description="Start the sandbox in the background, detached from this terminal, and "
                                        "return once its endpoint answers. Its endpoint and pid go in a state file "
                                        "(0600) under $XDG_RUNTIME_DIR/tierconsole/ (else $XDG_STATE_HOME/"
                                        "tierconsole/). A second start says where the running one is.")
    options.add_group(start, SANDBOX_GROUP, "sandbox start")
    ssub.add_parser("stop", help="stop the background sandbox", description="Stop the background sandbox "
                    "(SIGTERM, then wait for it to exit).")
    st = ssub.add_parser("status", help="whether the background sandbox runs, and where",
                         description="Print the background sandbox's endpoint and pid; exit 3 when none runs.")
    st.add_argument("--json", action="store_true", help="print JSON")


_NO_TARGET = {
    "profiles": "it lists profiles and calls no AWS endpoint",
    "replay": "a replay shows only the recording and calls no AWS endpoint",
}


def _check_applicable(parser: argparse.ArgumentParser, args: argparse.Namespace, given: options.Given) -> None:
    """Refuse, as a usage error, an option typed where the chosen command cannot honour it."""
    command = args.command
    if command is None:
        return
    action = getattr(args, "sandbox_command", None)
    path = f"{command} {action}" if action else command

    def refuse(names, why: str) -> None:
        options.refuse(parser, given, names, path, why, (options.SHARED, SANDBOX_GROUP, RECORD_GROUP))

    refuse(("record", "record_max_size"), "it records the live console; `tierconsole record FILE` records without a UI")
    if command in _NO_TARGET:
        refuse(options.TARGET_OPTIONS, _NO_TARGET[command])
    if command == "sandbox":
        refuse(("endpoint_url", "region"), "the sandbox serves an endpoint; its region is its config's")
        if action in ("stop", "status"):
            refuse(("profile",) + tuple(o.name for o in SANDBOX_GROUP.options),
                   f"`sandbox {action}` acts on the one background sandbox")
        elif "profile" in given and "config" in given:
            parser.error("sandbox: give either --profile NAME or --config FILE, not both")


EXIT_PIPE = 141  # 128 + SIGPIPE, as a Unix tool whose reader went away


#: Arguments that are file paths: any bytes the file system allows (Python carries the ones that are
#: not UTF-8 as surrogate escapes, and open() gives them back). Every other argument is text.
PATH_ARGUMENTS = frozenset({"file", "output", "record", "config", "access_log", "auth", "scenario"})
_POSITIONALS = frozenset({"text", "job"})


def undecodable_argument(args: argparse.Namespace) -> tuple[str, str] | None:
    """(argument, what is wrong) for the first text argument holding bytes that are not UTF-8 (a
    lone surrogate in ``str``), else None. Such text cannot be sent to AWS, logged or shown."""
    import re  # noqa: PLC0415

    for dest, value in vars(args).items():
        if not isinstance(value, str) or dest in PATH_ARGUMENTS:
            continue
        m = re.search("[\ud800-\udfff]", value)
        if m:
            name = dest if dest in _POSITIONALS else "--" + dest.replace("_", "-")
            ch = ord(m.group())
            what = f"byte 0x{ch - 0xDC00:02x}" if 0xDC80 <= ch <= 0xDCFF else f"U+{ch:04X}"
            return name, f"not UTF-8 text ({what} at character {m.start() + 1}); give text in UTF-8"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, not at exit, so that a reader gone early is noticed here too
        return code
    except BrokenPipeError:  # `tierconsole batch list | head -1`: the reader left, nothing went wrong
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        except (OSError, ValueError):  # no real stdout (an embedding, a test's capture)
            pass
        return EXIT_PIPE


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    bad = undecodable_argument(args)
    if bad is not None:
        print(f"tierconsole: error: argument {bad[0]}: {bad[1]}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "sandbox":
        from .sandbox import daemon  # noqa: PLC0415 - stdlib only

        if args.sandbox_command in ("stop", "status"):
            return daemon.cmd_stop(args) if args.sandbox_command == "stop" else daemon.cmd_status(args)
        failed = _sandbox_profile(args)
        if failed is not None:
            return failed
        if args.sandbox_command == "start":
            return daemon.cmd_start(args)
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


def _sandbox_profile(args) -> int | None:
    """``sandbox --profile NAME``: that console profile's file (its ``sandbox:`` section) is the config.
    Returns an exit code when the profile cannot configure a sandbox, else None."""
    if args.profile is None:
        return None
    from .core.domain.catalog import ConfigError  # noqa: PLC0415
    from .core.config.profiles import load_profile  # noqa: PLC0415

    try:
        profile = load_profile(args.profile)
    except ConfigError as e:
        print(f"tierconsole sandbox: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if not profile.is_sandbox:
        print(f"tierconsole sandbox: error: --profile: profile {profile.name!r} ({profile.source}) has no "
              "'sandbox' section to configure a sandbox with", file=sys.stderr)
        return EXIT_USAGE
    if profile.origin != "built-in":  # the built-in sandbox profile is the sandbox's default config
        args.config = profile.source
    return None


def list_profiles(args) -> int:
    import json  # noqa: PLC0415

    from .core.config.profiles import discover
    from .core.config.paths import user_config_dir  # noqa: PLC0415

    entries = discover()
    if args.json:
        print(json.dumps([{"name": e.name, "origin": e.origin, "source": e.source, "default": e.is_default,
                           "error": str(e.error) if e.error else None} for e in entries.values()], indent=2))
    else:
        width = max((len(e.name) for e in entries.values()), default=4)
        for e in entries.values():
            mark = " (default)" if e.is_default else ""
            status = f"  ERROR: {e.error}" if e.error else ""
            print(f"{e.name:<{width}}  {e.origin:<8}  {e.source}{mark}{status}")
        print(f"# user profiles go in {user_config_dir() / 'profiles'}")
    return 1 if any(e.error for e in entries.values()) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
