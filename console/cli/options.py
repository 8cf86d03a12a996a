"""The options shared by the console and every subcommand, defined once.

``--profile``, ``--endpoint-url``, ``--region``, ``--read-only`` and ``--theme`` mean the same wherever
they are typed: before the command (``tierconsole --read-only batch cancel JOB``), between a command and
its action (``tierconsole batch --read-only cancel JOB``) or after it (``tierconsole batch cancel JOB
--read-only``). :func:`attach` adds them to every parser of the tree; each level stores into its own
hidden destination with no default (argparse lets a sub-parser's defaults overwrite what was parsed
before the subcommand, which is how ``--read-only`` used to be lost), and :func:`resolve` merges them
once the whole command line is parsed:

- given once, or several times with the same value: that value;
- given in two places with different values: a usage error naming both (never a silent pick of one
  target over the other);
- not given: the default.

The same mechanism serves any other group of options that two levels share (the sandbox's own options
on ``sandbox`` and ``sandbox start``). An option a command cannot honour is a usage error naming the
option and the command, never silently ignored (see :func:`check_applicable`).

Only the standard library is imported here: ``--help`` stays instant.
"""
from __future__ import annotations

import argparse
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

_MARK = "\x1f"  # separates level and name in a hidden destination; never typed by anyone
_GROUP_MARK = "\x1egroup"


@dataclass(frozen=True)
class Option:
    """One option, as ``add_argument`` gets it, with its destination and default."""

    flags: tuple[str, ...]
    name: str  # the attribute on the parsed namespace
    default: Any = None
    kwargs: dict = field(default_factory=dict)

    @property
    def flag(self) -> str:
        return self.flags[0]


@dataclass(frozen=True)
class Group:
    name: str
    options: tuple[Option, ...]


# ------------------------------------------------------------------------------ value types
def endpoint_url(text: str) -> str:
    from ..core.domain.profile import endpoint_problem  # noqa: PLC0415 - pure, light; only when the option is typed

    problem = endpoint_problem(text or "")
    if problem:  # e.g. "http://[::1" or a port out of range, which the SDKs would raise on at the first call
        raise argparse.ArgumentTypeError(f"{problem}, got {text[:200]!r}")
    return text


def region_name(text: str) -> str:
    if not re.fullmatch(r"[a-z]{2}(-[a-z0-9]+)+", text or ""):
        raise argparse.ArgumentTypeError(f"not a region name (e.g. us-east-1): {text!r}")
    return text


def profile_name(text: str) -> str:
    if not text or not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def theme_names() -> list[str]:
    """The built-in themes: ``themes/*.yaml`` (each file's stem is its theme's name), read without Textual."""
    from importlib.resources import files  # noqa: PLC0415

    return sorted(e.name[:-5] for e in files("tierconsole.themes").iterdir() if e.name.endswith(".yaml"))


def theme_name(text: str) -> str:
    names = theme_names()
    if text not in names:
        raise argparse.ArgumentTypeError(f"unknown theme {text!r}; choose from {', '.join(names)}")
    return text


# ------------------------------------------------------------------------------ the shared options
SHARED = Group("shared", (
    Option(("--profile",), "profile", kwargs=dict(
        metavar="NAME", type=profile_name,
        help="console profile (default: $TIERCONSOLE_PROFILE, then the profile marked default, then sandbox)")),
    Option(("--endpoint-url",), "endpoint_url", kwargs=dict(
        metavar="URL", type=endpoint_url,
        help="send every AWS call to this endpoint (e.g. a running `tierconsole sandbox`)")),
    Option(("--region",), "region", kwargs=dict(
        metavar="REGION", type=region_name, help="override the profile's region")),
    Option(("--read-only",), "read_only", default=False, kwargs=dict(
        action="store_true", help="refuse every mutating action (batch submit, cancel) and test prompts (unless the profile sets allow_prompts_in_read_only: true)")),
    Option(("--theme",), "theme", kwargs=dict(
        metavar="NAME", type=theme_name,
        help="colour theme of the console and replay: dark, light, high-contrast (NO_COLOR is respected)")),
))

#: Options that choose what a command talks to. A command that talks to nothing refuses them.
TARGET_OPTIONS = ("profile", "endpoint_url", "region")


def add_group(parser: argparse.ArgumentParser, group: Group, where: str) -> None:
    """Add ``group``'s options to ``parser`` (the level ``where``: "" for the console, else the command
    path such as ``"batch cancel"``). Nothing is written to the namespace unless an option is typed."""
    for opt in group.options:
        parser.add_argument(*opt.flags, dest=f"{_MARK}{where}{_MARK}{opt.name}", default=argparse.SUPPRESS,
                            **opt.kwargs)
    parser.set_defaults(**{f"{_GROUP_MARK}{_MARK}{group.name}": True})


def dest_name(dest: str) -> str:
    """The namespace attribute an argparse destination ends up in (a shared option's hidden one included)."""
    return dest.rsplit(_MARK, 1)[-1]


def subparsers_of(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser of the tree with its command path: ``()`` (the console), ``("batch",)``,
    ``("batch", "cancel")``…"""
    yield path, parser
    for name, sub in subparsers_of(parser).items():
        yield from walk(sub, path + (name,))


def attach(root: argparse.ArgumentParser, group: Group = SHARED) -> None:
    """Add ``group`` to every parser of the tree, so that each option is accepted at every level."""
    for path, parser in walk(root):
        add_group(parser, group, " ".join(path))


def _where(level: str) -> str:
    return "before the command" if not level else f"after `{level}`"


@dataclass
class Given:
    """What was typed, for :func:`check_applicable`: option name -> [(level, value)]."""

    values: dict[str, list[tuple[str, Any]]]

    def __contains__(self, name: str) -> bool:
        return name in self.values


def resolve(parser: argparse.ArgumentParser, ns: argparse.Namespace, groups: Sequence[Group]) -> Given:
    """Merge every level's value of each option of ``groups`` into ``ns.<name>``; a usage error when two
    places disagree. Only the groups present on the parsed path get their defaults."""
    typed: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    present = set()
    for key in list(vars(ns)):
        if key.startswith(_GROUP_MARK + _MARK):
            present.add(key.split(_MARK, 1)[1])
            delattr(ns, key)
        elif key.startswith(_MARK):
            _, level, name = key.split(_MARK, 2)
            typed[name].append((level, getattr(ns, key)))
            delattr(ns, key)
    by_name = {opt.name: opt for g in groups for opt in g.options}
    for g in groups:
        if g.name not in present:
            continue
        for opt in g.options:
            values = typed.get(opt.name, [])
            if len({repr(v) for _, v in values}) > 1:
                shown = " and ".join(f"{v!r} ({_where(level)})" for level, v in values)
                parser.error(f"{opt.flag} given twice with different values: {shown}; give it once")
            setattr(ns, opt.name, values[0][1] if values else opt.default)
    return Given({k: v for k, v in typed.items() if k in by_name})


class RootParser(argparse.ArgumentParser):
    """The console's parser: after parsing, the shared options of every level are merged and checked.

    ``groups`` are the option groups :func:`resolve` merges; ``check`` (``(parser, ns, given)``) then
    refuses options the chosen command cannot honour."""

    def __init__(self, *args, groups: Sequence[Group] = (SHARED,), check=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._groups = tuple(groups)
        self._check = check

    def parse_known_args(self, args=None, namespace=None):
        ns, extras = super().parse_known_args(args, namespace)
        given = resolve(self, ns, self._groups)
        if self._check is not None:
            self._check(self, ns, given)
        return ns, extras


def refuse(parser: argparse.ArgumentParser, given: Given, names: Iterable[str], command: str, why: str,
           groups: Sequence[Group] = (SHARED,)) -> None:
    """A usage error if any of ``names`` was typed: ``--endpoint-url does not apply to `tierconsole
    replay` (why)``."""
    flags = {opt.name: opt.flag for g in groups for opt in g.options}
    for name in names:
        if name in given:
            parser.error(f"{flags.get(name, name)} does not apply to `tierconsole {command}` ({why})")
