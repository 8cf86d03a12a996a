"""``tierconsole watch``: watch a profile with no screen; change events as lines, alerts to sinks.

Only the standard library is imported here: the heavy modules load inside the command.
"""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from typing import Any

from ..core.units import SIZE_HELP
from . import options
from .argtypes import number, positive_float, sandbox_speed
from .common import EXIT_FAIL, EXIT_OK, EXIT_USAGE, err
from .groups import RECORD_GROUP, duration_arg, size_at_least
from .record import polling_source


log_size = size_at_least(4096, "4k")  # --log-max-size


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "watch", help="watch a profile with no screen: change events, alerts to a command, a webhook or SNS",
        description="Poll the profile as the console does (the same collectors: one GetMetricData per region per "
                    "refresh) and write one line per change event: a quota crossing alert_threshold and back, a "
                    "throttle storm starting and ending, reservation overflow (served by Standard, not Reserved; "
                    "sandbox only: AWS publishes no overflow metric), data stale and recovered, a batch job "
                    "changing state, a quota value changing. A fleet profile (fleet:) is watched per account, region and "
                    "model with the fleet's collector: quota crossings, throttle storms, overflow, stale (an account or region "
                    "unreadable, or its quota use unknown) and recovered, quota values changing. Human lines on a terminal, JSON lines with --json or "
                    "when stdout is not a terminal. The profile's alerts: rules send each alert once per episode to "
                    "its sinks (watch.sinks) and to those given here; a resolution when the episode ends. "
                    "SIGTERM or Ctrl-C stops it cleanly (exit 0; exit 3 when alerts were lost: a sink gave up, or "
                    "queued alerts could not be kept, as with --no-state); a bad profile, rule or sink exits 2 before "
                    "anything is collected. The state (open episodes, alerts sent) is kept in "
                    "$XDG_STATE_HOME/tierconsole/watch/PROFILE.json, so a restart does not alert again.")
    p.add_argument("--json", action="store_true", help="JSON lines on stdout even on a terminal")
    p.add_argument("--log", metavar="FILE", help="also append JSON lines to FILE (created 0600, rotated by size)")
    p.add_argument("--log-max-size", type=log_size, default=10 * 2**20, metavar="SIZE",
                   help=f"rotate --log FILE at SIZE ({SIZE_HELP}; default 10M)")
    p.add_argument("--log-backups", type=number(int, at_least=0, at_most=100), default=3, metavar="N",
                   help="rotated log files kept (FILE.1 … FILE.N; default 3)")
    options.add_group(p, RECORD_GROUP, "watch")  # --record FILE: the same option as the console's
    p.add_argument("--exec", action="append", default=[], metavar="CMD",
                   help="run CMD for every alert with its JSON on stdin (repeatable). CMD is split into words as a "
                        "shell would, but run with no shell: use sh -c '…' for redirections and pipes")
    p.add_argument("--webhook-env", action="append", default=[], metavar="NAME",
                   help="POST every alert (Slack-compatible JSON) to the URL in environment variable NAME")
    p.add_argument("--webhook", action="append", default=[], metavar="URL",
                   help="the same with the URL itself (visible to other users in ps: prefer --webhook-env)")
    p.add_argument("--sns", action="append", default=[], metavar="TOPIC_ARN",
                   help="publish every alert to this Amazon SNS topic")
    p.add_argument("--state", metavar="FILE", help="state file (default $XDG_STATE_HOME/tierconsole/watch/PROFILE.json)")
    p.add_argument("--no-state", action="store_true", help="keep no state (a restart alerts again; alerts still queued at the stop are dropped)")
    p.add_argument("--interval", type=positive_float, metavar="SECONDS",
                   help="seconds between refreshes (default: the profile's refresh_seconds)")
    p.add_argument("--duration", type=duration_arg, metavar="D", help="stop after D (wall-clock); default: never")
    p.add_argument("--drain-timeout", type=number(float, at_least=0, at_most=600), default=10.0, metavar="SECONDS",
                   help="on stop, how long sinks may take to deliver what is queued (default 10)")
    p.add_argument("--scenario", metavar="NAME",
                   help="embedded sandbox only: background traffic (none, steady, spike, flex-backlog, "
                        "reserved-overflow, outage or a scenario YAML file)")
    p.add_argument("--speed", type=sandbox_speed, default=1.0, metavar="FACTOR",
                   help="embedded sandbox only: run its clock FACTOR times faster")
    p.add_argument("--quiet", "-q", action="store_true", help="write nothing to stdout (--log and sinks only)")
    return p


class Usage(Exception):
    pass


def _command_sinks(args: argparse.Namespace) -> list[Any]:
    from ..core.domain.watchconfig import TOPIC_ARN, SinkSpec  # noqa: PLC0415

    out = []
    for i, command in enumerate(args.exec):
        out.append(SinkSpec(f"exec-{i + 1}" if i else "exec", "exec", command=tuple(shlex.split(command))))
    for name in args.webhook_env:
        out.append(SinkSpec(f"webhook-{name}", "webhook", url_env=name))
    for i, url in enumerate(args.webhook):
        if not url.startswith(("http://", "https://")):
            raise Usage("argument --webhook: must be an http:// or https:// URL (value not shown: it is a secret)")
        out.append(SinkSpec(f"webhook-{i + 1}" if i else "webhook", "webhook", url=url))
    for i, arn in enumerate(args.sns):
        if not TOPIC_ARN.fullmatch(arn):
            raise Usage(f"argument --sns: not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME): {arn[:200]!r}")
        out.append(SinkSpec(f"sns-{i + 1}" if i else "sns", "sns", topic_arn=arn))
    return out


def _resolve(spec: Any, where: str) -> Any:
    """A sink ready to run: a webhook's URL from its environment variable, an exec's program found."""
    from dataclasses import replace  # noqa: PLC0415

    if spec.type == "webhook" and spec.url_env:
        url = os.environ.get(spec.url_env)
        if not url:
            raise Usage(f"{where}: environment variable {spec.url_env} is not set (it holds the webhook URL)")
        if not url.startswith(("http://", "https://")):
            raise Usage(f"{where}: {spec.url_env} does not hold an http:// or https:// URL (value not shown)")
        return replace(spec, url=url)
    if spec.type == "exec":
        program = spec.command[0] if spec.command else ""
        found = shutil.which(program) if "/" not in program else (program if os.access(program, os.X_OK) else None)
        if not found:
            raise Usage(f"{where}: program {program!r} not found or not executable")
    return spec


def cmd_watch(args: argparse.Namespace) -> int:
    """``tierconsole watch``. Exit 0 when stopped (signal or --duration), 3 when stopped but alerts were lost
    (neither delivered nor kept for the next run), 2 for a bad profile, rule, sink or file, 1 when the state file
    cannot be written."""
    from ..core.domain.catalog import ConfigError  # noqa: PLC0415
    from ..core.domain.watchconfig import shell_words  # noqa: PLC0415
    from ..core.files import output_path_problem  # noqa: PLC0415

    try:
        source = polling_source(args)  # as `record`: --scenario/--speed run a sandbox of its own
    except ConfigError as e:
        err(str(e))
        return EXIT_USAGE
    profile = source.profile
    if args.state and args.no_state:
        err("give either --state FILE or --no-state, not both")
        return EXIT_USAGE
    try:
        sinks = [_resolve(s, f"{profile.source}: watch.sinks.{s.name}") for s in profile.watch.sinks.values()]
        given = [_resolve(s, f"argument --{s.type if s.type != 'exec' else 'exec'}") for s in _command_sinks(args)]
        for path, what in ((args.log, "--log"), (args.state, "--state"), (args.record, "--record")):
            problem = output_path_problem(path) if path else None
            if problem:
                raise Usage(f"argument {what}: {path}: {problem}")
        if args.record and profile.fleet is not None:
            raise Usage(f"argument --record: profile {profile.name!r} is a fleet: a recording holds one account's "
                        "dashboard (record an account with its own profile)")
    except Usage as e:
        err(str(e))
        return EXIT_USAGE
    for spec, where in [*((s, f"watch.sinks.{s.name}") for s in sinks), *((s, "--exec") for s in given)]:
        odd = shell_words(spec.command) if spec.type == "exec" else []
        if odd:  # not fatal: the program may mean them; but a shell user does not
            print(f"tierconsole: warning: {where} {spec.describe()}: runs with no shell, so "
                  f"{', '.join(shlex.quote(w) for w in odd)} reach{'es' if len(odd) == 1 else ''} "
                  f"{shlex.quote(spec.command[0])} as {'literal arguments' if len(odd) > 1 else 'a literal argument'}; "
                  "for redirections and pipes use sh -c '…'", file=sys.stderr)
    if args.webhook:
        print("tierconsole: warning: --webhook URL is visible to other users of this machine (ps); prefer "
              "--webhook-env NAME", file=sys.stderr)
    from .watch_run import run_watch  # noqa: PLC0415

    try:
        return run_watch(args, source, sinks, given)
    except KeyboardInterrupt:
        return EXIT_OK
    except OSError as e:
        err(f"{getattr(e, 'filename', '') or ''}: {e.strerror or e}")
        return EXIT_FAIL

