"""``plan --quota-request``'s options walked through the real parser: any order means the same, and each one given
without ``--quota-request`` is named as a usage error (never silently ignored)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tierconsole.cli.main import build_parser
from tierconsole.cli.quota_request import misplaced_option

OPTIONS = {"--submit": [], "--yes": [], "--headroom": ["1.5"], "--desired": ["250000"], "-o": ["req.md"],
           "--json": [], "--days": ["3"], "--read-only": []}
PARSER = build_parser()


@settings(max_examples=150, deadline=None)
@given(st.permutations(list(OPTIONS)), st.integers(0, len(OPTIONS)), st.booleans())
def test_order_does_not_matter_and_a_misplaced_option_is_named(order, n, with_request):
    chosen = order[:n]
    words = [w for flag in chosen for w in (flag, *OPTIONS[flag])]
    base = ["plan", "--model", "amazon.nova-lite-v1:0"] + (["--quota-request"] if with_request else [])
    args = PARSER.parse_args(base + words)
    again = PARSER.parse_args(base + [w for flag in reversed(chosen) for w in (flag, *OPTIONS[flag])])
    assert vars(args) == vars(again)
    problem = misplaced_option(args)
    quota_only = [f for f in chosen if f in ("--submit", "--yes", "--headroom", "--desired", "-o")]
    if not with_request:
        assert (problem is None) == (not quota_only)
        for flag in quota_only:
            assert flag in problem
    elif "--yes" in chosen and "--submit" not in chosen:
        assert problem == "--yes goes with --submit"
    else:
        assert problem is None
