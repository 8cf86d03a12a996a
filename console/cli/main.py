"""Command line: the console (TUI) by default, headless subcommands beside it.

Heavy modules (textual, aiohttp, botocore, moto, pandas) are imported inside the commands that
need them, so ``--help`` and ``--version`` answer at once.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Callable, Iterable, Sequence

from .. import __version__
from . import options
from .common import EXIT_USAGE
from .groups import RECORD_GROUP, SANDBOX_GROUP

#: The commands, in the order ``--help`` lists them: each is the module ``cli/<name>.py`` (imported only
#: when its parser is built or it runs; it imports its heavy modules inside ``cmd_<name>``), its sub-parser
#: added by the function named here. No command: the console (TUI).
COMMAND_PARSERS = {
    "record": "add_record_parser", "replay": "add_replay_parser", "profiles": "add_parser", "prompt": "add_parser",
    "batch": "add_parser", "status": "add_parser", "incident": "add_parser", "plan": "add_plan_parser",
    "sandbox": "add_parser", "watch": "add_parser", "fleet": "add_parser",
}


def _module(name: str):
    return importlib.import_module(f".{name}", __package__)


def command(name: str) -> Callable[[argparse.Namespace], int]:
    """What runs command ``name``: ``cmd_<name>`` of its module."""
    return getattr(_module(name), f"cmd_{name}")


def commands_in(argv: Sequence[str]) -> frozenset[str] | None:
    """The commands whose sub-parsers parsing ``argv`` can need: those named by a token of it (a command is
    chosen only by its exact name). None, meaning all of them, when help is asked for (it lists every command
    with its help text). The console started with no command parses its options with the other sub-parsers
    only named, their modules not imported, in the same order: the same namespace and the same errors."""
    if any(a.startswith("--h") or (a.startswith("-") and not a.startswith("--") and "h" in a) for a in argv):
        return None
    return frozenset(a for a in argv if a in COMMAND_PARSERS)


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line (``commands``: build only these commands' sub-parsers in full; the others
    are named, for the choices an unknown command's error lists, and never chosen). The shared options
    (``--profile``, ``--endpoint-url``, ``--region``, ``--read-only``, ``--theme``) are added last, to every
    parser of the tree (:mod:`.options`)."""
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
    wanted = set(COMMAND_PARSERS if commands is None else commands)
    for name, add in COMMAND_PARSERS.items():
        if name in wanted:
            getattr(_module(name), add)(sub)
        else:
            sub.add_parser(name)  # not on the command line, so never chosen: named for the choices only
    options.attach(parser, options.SHARED)  # last: every parser of the tree, the ones above and any added later
    for command in _NO_TARGET:  # accepted there only to be refused with a reason: not offered in its --help
        for action in options.subparsers_of(parser)[command]._actions:
            if options.dest_name(action.dest) in options.TARGET_OPTIONS:
                action.help = argparse.SUPPRESS
    return parser


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

    if command != "watch":  # watch records as it watches: --record means the same before or after it
        refuse(("record", "record_max_size"), "it records the live console; `tierconsole record FILE` records without a UI")
    if command in _NO_TARGET:
        refuse(options.TARGET_OPTIONS, _NO_TARGET[command])
    if command == "sandbox":
        if action in ("stop", "status"):
            refuse(("endpoint_url", "region", "profile") + tuple(o.name for o in SANDBOX_GROUP.options),
                   f"`sandbox {action}` acts on the one background sandbox, at the endpoint it recorded")
        refuse(("endpoint_url",), "the sandbox serves an endpoint of its own; choose it with --host and --port")
        refuse(("region",), "the sandbox serves the region its config names in sandbox.region")
        if "profile" in given and "config" in given:
            parser.error("sandbox: give either --profile NAME or --config FILE, not both")


EXIT_PIPE = 141  # 128 + SIGPIPE, as a Unix tool whose reader went away


#: Arguments that are file paths: any bytes the file system allows (Python carries the ones that are
#: not UTF-8 as surrogate escapes, and open() gives them back). Every other argument is text.
PATH_ARGUMENTS = frozenset({"file", "output", "record", "config", "access_log", "auth", "scenario", "log", "state"})
_POSITIONALS = frozenset({"text", "job"})


def undecodable_argument(args: argparse.Namespace) -> tuple[str, str] | None:
    """(argument, what is wrong) for the first text argument holding bytes that are not UTF-8 (a
    lone surrogate in ``str``), else None. Such text cannot be sent to AWS, logged or shown."""
    import re  # noqa: PLC0415

    for dest, given in vars(args).items():
        if dest in PATH_ARGUMENTS:
            continue
        value = next((v for v in (given if isinstance(given, list) else [given])  # a repeatable option: a list
                      if isinstance(v, str) and re.search("[\ud800-\udfff]", v)), None)
        if value is None:
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
    argv = sys.argv[1:] if argv is None else list(argv)
    if "replay" in argv:  # `--at -5m` as --help shows it, not an option named -5m
        from .replay import join_negative_at  # noqa: PLC0415 - only for a replay

        argv = join_negative_at(argv)
    parser = build_parser(commands_in(argv))
    args = parser.parse_args(argv)
    bad = undecodable_argument(args)
    if bad is not None:
        print(f"tierconsole: error: argument {bad[0]}: {bad[1]}", file=sys.stderr)
        return EXIT_USAGE
    if args.command is not None:
        return command(args.command)(args)
    from ..tui.run import run_tui  # noqa: PLC0415

    return run_tui(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
