"""The architecture, enforced: the import contracts of pyproject.toml (layers, what the sandbox and
core may import), no import cycle anywhere in the package, a command line that answers without the
heavy libraries, and a package list a wheel install does not miss anything of. See ARCHITECTURE.md."""
from __future__ import annotations

import ast
import fnmatch
import os
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_import_contracts_hold(capsys):
    from importlinter.cli import lint_imports

    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    out = capsys.readouterr().out
    assert code == 0, out
    contracts = PYPROJECT["tool"]["importlinter"]["contracts"]
    assert out.count(" KEPT") == len(contracts) >= 6, out  # every contract was checked, and kept


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for a, b in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")):
        graph.add_import(importer=a, imported=b)
    assert _cycles(graph) == [["p.a", "p.b", "p.c"]]


def test_no_import_cycle_in_the_package():
    """Counting every import: deferred ones inside functions and ``if TYPE_CHECKING`` ones too."""
    graph = grimp.build_graph("tierconsole", cache_dir=None)
    assert len(graph.modules) > 100
    assert _cycles(graph) == []


HEAVY = ("aiobotocore", "botocore", "boto3", "pandas", "numpy", "moto", "aiohttp", "textual", "rich", "yaml")


def test_the_command_line_answers_without_the_heavy_libraries():
    """``tierconsole --help`` (and each command's) loads none of the AWS SDK, pandas, moto or Textual."""
    code = f"""
import contextlib, io, json, sys
import tierconsole.cli
from tierconsole.cli.main import main
for argv in (["--help"], ["--version"], ["status", "--help"], ["prompt", "--help"], ["batch", "submit", "--help"],
             ["incident", "export", "--help"], ["plan", "--help"], ["record", "--help"], ["replay", "--help"],
             ["sandbox", "start", "--help"], ["profiles", "--help"]):
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main(argv)
        except SystemExit:
            pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []


#: Not needed for the console's first frame (bench/first_frame.py, issue 13): besides the AWS stack and the
#: sandbox, PyYAML (the profiles, config and themes come from the parsed-document cache: core/config/yamldoc.py),
#: the command modules (their options groups are in cli/groups.py), importlib.resources (package data is read
#: from the package's folder: core/config/paths.py), json and hashlib (the audit log's, when it is written) and
#: the metrics plan (a profile needs only its metric forms).
NOT_BEFORE_FIRST_FRAME = ("aiobotocore", "botocore", "boto3", "pandas", "numpy", "moto", "aiohttp", "hypercorn", "h2",
                          "yaml", "importlib.resources", "zipfile", "hashlib", "json",
                          "tierconsole.core.config.yamlparse", "tierconsole.recording.format",
                          "tierconsole.core.domain.metricsplan",
                          "tierconsole.sandbox.app", "tierconsole.sandbox.daemon", "tierconsole.core.aws",
                          *(f"tierconsole.cli.{name}" for name in ("record", "replay", "profiles", "prompt", "batch",
                                                                   "status", "incident", "plan", "sandbox")))


def test_the_console_starts_without_what_its_first_frame_does_not_need(tmp_path):
    """``tierconsole`` up to ``App.run`` (its first frame follows), launched twice: the second launch, whose
    profiles and themes are in the cache, loads none of :data:`NOT_BEFORE_FIRST_FRAME`, and compiles none of
    the methods of the console's dataclasses (core/dataclass_cache.py)."""
    code = f"""
import sys
import textual.app
def run(self, *args, **kwargs):
    from tierconsole.core import dataclass_cache
    print("compiled", dataclass_cache.compiled)
    print(repr(sorted(m for m in sys.modules if any(m == n or m.startswith(n + ".") for n in {NOT_BEFORE_FIRST_FRAME!r}))))
textual.app.App.run = run
from tierconsole.cli.main import main
main([])
"""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    env.pop("TIERCONSOLE_PROFILE", None)
    loaded, compiled = [], []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                             env=env)
        assert out.returncode == 0, out.stderr
        loaded.append(ast.literal_eval(out.stdout.splitlines()[-1]))
        compiled.append(int(out.stdout.splitlines()[-2].split()[-1]))
    assert "yaml" in loaded[0]  # the first launch parsed them: the check sees PyYAML when it is there
    assert compiled[0] > 100 and compiled[1] == 0
    assert loaded[1] == [], " ".join(loaded[1])


def test_the_heavy_check_sees_a_heavy_import():
    code = "import sys, tierconsole.tui.app; print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')[:1])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.stdout.strip() == "['textual']", out.stderr


def _packages() -> tuple[list[str], dict[str, str]]:
    setuptools = PYPROJECT["tool"]["setuptools"]
    return setuptools["packages"], setuptools["package-dir"]


def _folder(package: str, package_dir: dict[str, str]) -> Path:
    """The source folder of an installed package name, as setuptools maps it."""
    parts = package.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in package_dir:
            return ROOT / package_dir[prefix] / Path(*parts[n:])
    return ROOT / Path(*parts)


def test_every_package_of_the_source_tree_is_listed_for_the_wheel():
    """The package list is explicit: a folder with an ``__init__.py`` that is not in it would be left out of a
    plain ``pip install .`` (the editable install would not notice)."""
    packages, package_dir = _packages()
    listed = {_folder(p, package_dir).resolve() for p in packages}
    on_disk = {init.parent.resolve() for folder in set(package_dir.values())
               for init in (ROOT / folder).rglob("__init__.py") if "__pycache__" not in init.parts}
    assert sorted(map(str, on_disk - listed)) == []
    assert sorted(map(str, listed - on_disk)) == []


def test_every_data_file_is_package_data():
    """Every file beside the code (.tcss, .yaml) is matched by a package-data pattern of its package."""
    packages, package_dir = _packages()
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]
    folders = sorted(((_folder(p, package_dir).resolve(), p) for p in packages), key=lambda fp: -len(fp[0].parts))
    missing = []
    for folder in set(package_dir.values()):
        for path in (ROOT / folder).rglob("*"):
            if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            owner, package = next((f, p) for f, p in folders if path.resolve().is_relative_to(f))
            relative = path.resolve().relative_to(owner).as_posix()
            if not any(fnmatch.fnmatch(relative, pattern) for pattern in patterns.get(package, ())):
                missing.append(f"{path.relative_to(ROOT)} ({package})")
    assert missing == []
    assert any(p.endswith(".tcss") for ps in patterns.values() for p in ps)


@pytest.mark.parametrize("package, name", [("tierconsole.tui", "styles/dashboard.tcss"), ("tierconsole.themes", "dark.yaml"),
                                           ("tierconsole.profiles", "sandbox.yaml"),
                                           ("tierconsole.sandbox.scenarios", "steady.yaml")])
def test_the_data_the_console_reads_is_found_through_its_package(package, name):
    from importlib.resources import files

    assert files(package).joinpath(name).is_file()


MAX_LINES = 400  # issue 13: a module a newcomer can read whole; split along a seam before passing it


def _long_modules(root: Path, limit: int) -> list[tuple[str, int]]:
    found = []
    for path in sorted(root.rglob("*.py")):
        with path.open("rb") as f:
            n = sum(1 for _ in f)
        if n > limit:
            found.append((str(path.relative_to(root.parent)), n))
    return found


def test_the_length_check_sees_a_long_module(tmp_path):
    pkg = tmp_path / "console"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "sub" / "big.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (pkg / "small.py").write_text("x = 1\n" * MAX_LINES)
    assert _long_modules(pkg, MAX_LINES) == [("console/sub/big.py", MAX_LINES + 1)]


def test_no_module_is_over_400_lines():
    assert _long_modules(ROOT / "console", MAX_LINES) == []
