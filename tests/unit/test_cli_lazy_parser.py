"""The command line builds in full only the sub-parsers the words typed can choose (``commands_in``): the
console started with no command imports no command module. Whatever is typed, that parser must answer
exactly as the whole one does: the same namespace, or the same exit code, output and error."""
from __future__ import annotations

import contextlib
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from tierconsole.cli.main import COMMAND_PARSERS, build_parser, commands_in

WORDS = [*COMMAND_PARSERS, "start", "stop", "list", "show", "export", "submit", "cancel", "bogus", "x.yaml",
         "--profile", "--endpoint-url", "--region", "--read-only", "--theme", "dark", "--record", "--record-max-size",
         "10MB", "--version", "-h", "--help", "--he", "-q", "--json", "--prof", "--", "-x", "--profile=status"]


def _answer(parser, argv):
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return vars(parser.parse_args(argv)), out.getvalue(), err.getvalue()
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()


FULL = build_parser()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS) | st.text(min_size=1, max_size=6), max_size=5))
def test_the_parser_for_the_words_typed_answers_as_the_whole_one(argv):
    assert _answer(build_parser(commands_in(argv)), argv) == _answer(FULL, argv)


def test_no_command_builds_no_command_parser_and_help_builds_them_all():
    assert commands_in([]) == frozenset()
    assert commands_in(["--profile", "prod", "--theme", "dark"]) == frozenset()
    assert commands_in(["--profile", "status"]) == {"status"}  # a value spelled like a command: built, to be safe
    assert commands_in(["--help"]) is None and commands_in(["status", "-h"]) is None


def test_the_help_of_the_console_lists_every_command():
    code, out, _ = _answer(build_parser(commands_in(["--help"])), ["--help"])
    assert code == 0 and all(f"    {name} " in out for name in COMMAND_PARSERS), out
