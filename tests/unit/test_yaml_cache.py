"""The cache of parsed YAML documents (core/config/yamldoc.py): the files read on the way to the first frame
(profiles, the console's config, themes) are parsed once per version of their text, and a launch that finds
them there imports no PyYAML. It must never give another document than parsing would, nor another error."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tierconsole.core.config import yamldoc
from tierconsole.core.config.loader import line_of, load_yaml
from tierconsole.core.config.profiles import load_profile
from tierconsole.core.domain.catalog import ConfigError

ROOT = Path(__file__).resolve().parents[2]

DOC = """\
region: us-east-1
models:
  - id: amazon.nova-lite-v1:0
    tiers: [priority, default]
  - id: "x"
    price: 1.5e-3
anchors:
  base: &b {a: 1, b: [true, null, ~, 0x1f]}
  copy: *b
"über": "ünï"
"""


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "tierconsole" / "yaml"


def _lines(doc):
    """Every value with the line of every key and item, as line_of and the errors see them."""
    if isinstance(doc, dict):
        return ("d", doc.line, [(k, doc.lines[k], _lines(v)) for k, v in doc.items()])
    if isinstance(doc, list):
        return ("l", doc.line, [(n, _lines(v)) for n, v in zip(doc.lines, doc)])
    return (type(doc).__name__, doc)


def test_a_document_from_the_cache_is_the_parsed_one_lines_included(cache_dir):
    parsed = load_yaml("p.yaml", DOC)
    first = load_yaml("p.yaml", DOC, cache=True)  # parsed, then kept
    assert len(list(cache_dir.glob("*.marshal"))) == 1
    again = load_yaml("p.yaml", DOC, cache=True)  # from the cache
    assert again == parsed == first
    assert _lines(again) == _lines(parsed)
    assert line_of(again, "models[1].price") == 6 and line_of(again, "anchors.copy") == 9


def test_a_profile_from_the_cache_imports_no_pyyaml_and_says_the_same_error(tmp_path):
    """A profile with a bad field: the same message (file, line, field) and exit code on every launch, the
    later ones served from the cache without PyYAML."""
    profiles = tmp_path / "cfg" / "tierconsole" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "bad.yaml").write_text("region: us-east-1\n\nrefresh_seconds: soon\n")
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    code = ("import sys\nfrom tierconsole.cli.main import main\ncode = main(['status', '--profile', 'bad'])\n"
            "print('yaml imported:', 'yaml' in sys.modules, file=sys.stderr)\nsys.exit(code)")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                           timeout=60) for _ in range(2)]
    first, second = runs
    assert first.returncode == second.returncode != 0
    assert "bad.yaml:3" in first.stderr and "refresh_seconds" in first.stderr
    assert first.stderr.replace("yaml imported: True", "") == second.stderr.replace("yaml imported: False", "")
    assert "yaml imported: True" in first.stderr and "yaml imported: False" in second.stderr


def test_a_syntax_error_is_never_kept(cache_dir):
    for _ in range(2):
        with pytest.raises(ConfigError) as err:
            load_yaml("broken.yaml", "a: 1\nb: [1, 2\n", cache=True)
        assert err.value.source == "broken.yaml" and err.value.line is not None
    assert not cache_dir.exists() or not list(cache_dir.glob("*.marshal"))


def test_an_entry_is_used_only_for_the_very_text_it_holds(cache_dir):
    """An entry found under another text's name (a checksum collision, a renamed file) is a miss."""
    load_yaml("a.yaml", "value: 1\n", cache=True)
    (entry,) = cache_dir.glob("*.marshal")
    other = "value: 2\n"
    entry.rename(yamldoc._entry_path(other))
    assert load_yaml("a.yaml", other, cache=True) == {"value": 2}


@pytest.mark.parametrize("damage", [b"", b"\x00garbage", b"\xe3\x00\x00\x00\x00"])
def test_a_damaged_entry_is_parsed_again(cache_dir, damage):
    load_yaml("a.yaml", DOC, cache=True)
    (entry,) = cache_dir.glob("*.marshal")
    entry.write_bytes(damage)
    assert _lines(load_yaml("a.yaml", DOC, cache=True)) == _lines(load_yaml("a.yaml", DOC))


def test_an_entry_of_another_version_is_a_miss(cache_dir, monkeypatch):
    load_yaml("a.yaml", "value: 1\n", cache=True)
    (entry,) = cache_dir.glob("*.marshal")
    before = entry.stat().st_mtime_ns
    monkeypatch.setattr(yamldoc, "_salt", "another console")
    assert load_yaml("a.yaml", "value: 1\n", cache=True) == {"value": 1}
    assert entry.stat().st_mtime_ns >= before and entry.read_bytes().count(b"another console") == 1


def test_values_it_does_not_keep_are_parsed_each_time(cache_dir):
    text = "when: 2026-11-30\nbag: !!set {a, b}\n"
    for _ in range(2):
        doc = load_yaml("d.yaml", text, cache=True)
        assert str(doc["when"]) == "2026-11-30" and doc["bag"] == {"a", "b"}
    assert not cache_dir.exists() or not list(cache_dir.glob("*.marshal"))


def test_entries_are_private_and_bounded(cache_dir):
    for n in range(yamldoc.MAX_ENTRIES + 5):
        load_yaml("n.yaml", f"n: {n}\n", cache=True)
    entries = list(cache_dir.glob("*.marshal"))
    assert len(entries) == yamldoc.MAX_ENTRIES
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    assert {stat.S_IMODE(e.stat().st_mode) for e in entries} == {0o600}
    assert load_yaml("n.yaml", f"n: {yamldoc.MAX_ENTRIES + 4}\n", cache=True) == {"n": yamldoc.MAX_ENTRIES + 4}


def test_an_unwritable_cache_changes_nothing(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert load_yaml("a.yaml", DOC, cache=True) == load_yaml("a.yaml", DOC)


def test_profiles_read_through_the_cache_are_the_same(tmp_path, monkeypatch, cache_dir):
    monkeypatch.chdir(ROOT)  # the project's ./profiles too
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv("TIERCONSOLE_PROFILE", raising=False)
    first = load_profile()
    assert list(cache_dir.glob("*.marshal"))
    assert load_profile() == first
