"""The cache of the compiled methods of the console's dataclasses (core/dataclass_cache.py): a class whose methods
come from it is the class compiling them gives; classes of other packages never go through it."""
from __future__ import annotations

import dataclasses
import stat
import subprocess
import sys
import textwrap
import types

import pytest

from tierconsole.core import dataclass_cache

SOURCE = textwrap.dedent('''
    from __future__ import annotations
    from dataclasses import dataclass, field

    @dataclass(frozen=True)
    class Point:
        x: int
        y: float = 0.5
        tags: tuple[str, ...] = ()
        extra: dict = field(default_factory=dict, compare=False, repr=False)

    @dataclass(order=True)
    class Box:
        name: str
        size: int = 3
''')


def _module(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(SOURCE, f"<{name}>", "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module


def _behaviour(m: types.ModuleType) -> list:
    p, q = m.Point(1, tags=("a",)), m.Point(1, tags=("a",), extra={"k": 1})
    out = [p == q, hash(p) == hash(q), repr(p), p.extra, q.extra, m.Point(2) == m.Point(2, 0.5)]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 3
    with pytest.raises(TypeError):
        m.Point()
    b = m.Box("b")
    b.size = 4
    out += [repr(b), m.Box("a") < m.Box("b"), [f.name for f in dataclasses.fields(m.Box)], str(m.Point.__init__.__code__.co_filename)]
    return out


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache in a private folder, installed (and the dataclasses module left as it was found)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(dataclass_cache, "_codes", {})
    monkeypatch.setattr(dataclass_cache, "_used", set())
    monkeypatch.setattr(dataclass_cache, "compiled", 0)
    monkeypatch.setattr(dataclass_cache, "_saved", 0)
    monkeypatch.setattr(dataclasses, "exec", dataclass_cache._cached_exec, raising=False)
    return tmp_path / "tierconsole" / "dataclasses"


def test_a_class_from_the_cache_is_the_compiled_class(cache, monkeypatch):
    first = _module("tierconsole.probe_a")
    made = dataclass_cache.compiled
    assert made >= 8  # Point's __init__, __repr__, __eq__, __hash__, __setattr__, __delattr__ and Box's
    dataclass_cache.save()
    (entry,) = cache.iterdir()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600 and stat.S_IMODE(cache.stat().st_mode) == 0o700
    monkeypatch.setattr(dataclass_cache, "_codes", {})  # a new launch: only what the file holds
    monkeypatch.delattr(dataclasses, "exec")
    dataclass_cache.install()
    again = _module("tierconsole.probe_a")
    assert dataclass_cache.compiled == made  # nothing compiled this time
    assert _behaviour(again) == _behaviour(first)
    monkeypatch.delattr(dataclasses, "exec")
    plain = _module("tierconsole.probe_a")  # dataclasses as Python ships it
    assert _behaviour(plain) == _behaviour(first)


def test_classes_of_other_packages_are_compiled_as_before(cache):
    _module("textual.probe_b")
    assert dataclass_cache.compiled == 0 and dataclass_cache._codes == {}
    dataclass_cache.save()
    assert not cache.exists()


@pytest.mark.parametrize("damage", [b"", b"junk", b"\xfb\x00"])
def test_a_damaged_cache_is_no_cache(cache, monkeypatch, damage):
    cache.mkdir(parents=True)
    (cache / f"{dataclass_cache.MAGIC_NUMBER.hex()}.marshal").write_bytes(damage)
    monkeypatch.delattr(dataclasses, "exec")
    dataclass_cache.install()
    assert _behaviour(_module("tierconsole.probe_c"))[0] is True
    assert dataclass_cache.compiled >= 8


def test_the_command_line_installs_it_before_its_dataclasses():
    code = ("import dataclasses, tierconsole.cli.main as m; from tierconsole.core import dataclass_cache as c; "
            "print(dataclasses.exec is c._cached_exec, c.compiled + len(c._used) > 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["True", "True"], out.stderr
