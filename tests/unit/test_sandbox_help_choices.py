"""``sandbox --help`` lists every fault kind and every built-in scenario the sandbox accepts (newcomer-3 F-m: the
``--faults`` kinds omitted ``notready``), taken from the sandbox's own lists so the help cannot drift from them:
the test walks the real lists through the real command line's help, and checks the lists against what the sandbox
really accepts (each kind parses, each scenario is a file beside the scenarios module, or ``none``)."""
from __future__ import annotations

import re
import subprocess
import sys
from importlib import resources

import pytest

from tierconsole.sandbox import choices
from tierconsole.sandbox.faults import KINDS, parse_faults
from tierconsole.sandbox.scenarios import BUILT_IN

CLI = [sys.executable, "-m", "tierconsole.cli"]
EXAMPLE_ARG = {"slow": "=5s", "down": "=10s/60s"}


def help_of(*argv: str) -> str:
    out = subprocess.run([*CLI, *argv, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    # argparse wraps at spaces and after hyphens: join the lines back
    return " ".join(re.sub(r"-\n\s*", "-", out.stdout).split())


def option_help(text: str, option: str) -> str:
    """The help of one option: from its name to the next option's."""
    start = text.index(f" {option} ")
    following = re.search(r" --[a-z-]+ [A-Z]", text[start + len(option) + 2:])
    return text[start:start + len(option) + 2 + (following.start() if following else len(text))]


@pytest.mark.parametrize("argv", [("sandbox",), ("sandbox", "start")])
def test_help_lists_every_fault_kind_and_scenario(argv):
    text = help_of(*argv)
    faults, scenario = option_help(text, "--faults"), option_help(text, "--scenario")
    for kind in KINDS:
        assert re.search(rf"[ (]{re.escape(kind)}(=[A-Z/]+)?[,)]", faults), (kind, faults)
    for name in BUILT_IN:
        assert re.search(rf"[ :]{re.escape(name)}[,. ]", scenario), (name, scenario)


def test_the_lists_are_what_the_sandbox_accepts():
    assert KINDS == choices.FAULT_KINDS and BUILT_IN == choices.SCENARIOS
    for kind in KINDS:
        spec = f"{kind}{EXAMPLE_ARG.get(kind, '')}" + (":bedrock/model/" if kind == "notready" else "")
        assert parse_faults(spec), spec
    files = {p.name[:-5] for p in resources.files("tierconsole.sandbox.scenarios").iterdir()
             if p.name.endswith(".yaml")}
    assert set(BUILT_IN) == files | {"none"}
