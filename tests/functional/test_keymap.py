"""The operator's keymap (console config ``keymap:``): a remapped key works, the footer, help and command
palette show it, and a bad entry is named with file, line, field and value before anything starts."""
from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import subprocess
import sys

import pytest
from textual.binding import Binding

import tierconsole.tui
from tierconsole.core.domain.catalog import ConfigError
from tierconsole.core.domain.sample import sample_dashboard
from tierconsole.tui.app import TierConsoleApp
from tierconsole.tui.keymap import BINDING_IDS, SCREENS, load_keymap
from tierconsole.tui.screens.dashboard import DashboardScreen
from tierconsole.tui.screens.help import HelpScreen
from tierconsole.tui.widgets.keybar import KeyBar
from tests.functional.test_dashboard_pilot import text_of


def declared_bindings():
    """Every binding with an id that the console's key tables declare (every module of tierconsole.tui)."""
    for info in pkgutil.walk_packages(tierconsole.tui.__path__, "tierconsole.tui."):
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module):
            tables = [value] if isinstance(value, list) else [getattr(value, "BINDINGS", [])] \
                if inspect.isclass(value) else []
            for table in tables:
                yield from (b for b in table if isinstance(b, Binding) and b.id)


def declared_binding_ids() -> set[str]:
    return {b.id for b in declared_bindings()}


def declared_default_keys() -> dict[str, set[str]]:
    """Binding id → the keys the console's key tables give it."""
    keys: dict[str, set[str]] = {}
    for b in declared_bindings():
        keys.setdefault(b.id, set()).add(b.key)
    return keys


def test_the_keymap_knows_every_binding_id_the_key_tables_declare():
    assert declared_binding_ids() == BINDING_IDS


def test_the_keymap_knows_each_binding_default_keys_as_the_key_tables_declare_them():
    declared = declared_default_keys()
    for screen, bindings in SCREENS.items():
        for binding_id, keys in bindings.items():
            assert keys in declared[binding_id], (screen, binding_id, keys, declared[binding_id])


def test_swapping_two_keys_or_remapping_onto_a_key_of_another_screen_is_no_conflict(config_home):
    config_home.write_text("keymap:\n  capacity-plan: a\n  switch-profile: c\n  prompt-send: b\n")
    assert load_keymap() == {"capacity-plan": "a", "switch-profile": "c", "prompt-send": "b"}


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    folder = tmp_path / "tierconsole"
    folder.mkdir()
    return folder / "config.yaml"


async def test_a_remapped_key_works_and_the_footer_help_and_palette_show_it(config_home):
    config_home.write_text("# my keys\nkeymap:\n  pause: f6\n  capacity-plan: \"ctrl+k,f7\"\n")
    app = TierConsoleApp(data=sample_dashboard(), keymap=load_keymap())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        bar = screen.query_one(KeyBar)
        pause = next(item for item in bar.items if item.description == "Pause")
        assert (pause.key, pause.display) == ("f6", "f6")
        assert "f6 Pause" in text_of(bar).replace("  ", " ")
        await pilot.press("p")  # the old key no longer pauses
        await pilot.pause()
        assert screen.paused is False
        await pilot.press("f6")
        await pilot.pause()
        assert screen.paused is True
        commands = {c.title: c.help for c in app.get_system_commands(screen)}
        assert commands["Pause or resume live updates"] == "key: f6"
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = dict((text, keys) for keys, text in app.screen.rows())
        assert rows["Pause or resume live updates"] == "f6"
        assert rows["Capacity plan and cost view of a model (reservation sizing, spend per tier)"] == "ctrl+k / f7"


@pytest.mark.parametrize("text, line, field, words", [
    ("keymap:\n  pause: f6\n  paws: f7\n", 3, "keymap.paws", ["'paws' is not a binding id", "did you mean pause"]),
    ("keymap:\n  pause: ctrll+p\n", 2, "keymap.pause", ["'ctrll+p'", "'ctrll' is not a modifier"]),
    ("keymap:\n  quit: \"q,bogus\"\n", 2, "keymap.quit", ["'q,bogus'", "'bogus' is not a key"]),
    ("keymap:\n  quit: 5\n", 2, "keymap.quit", ["give the key(s) as text", "got 5"]),
    ("keymap: [pause]\n", 1, "keymap", ["must map binding ids to keys"]),
    ("keymaps:\n  pause: f6\n", 1, "keymaps", ["unknown section (known: keymap)"]),
    # a remapped key another binding of the same screen already answers: which one wins is not the operator's guess
    ("keymap:\n  pause: q\n", 2, "keymap.pause", ["'q' is already the key of quit in the dashboard"]),
    ("keymap:\n  refresh: f6\n  pause: f6\n", 3, "keymap.pause", ["'f6' is already the key of refresh"]),
    ("keymap:\n  prompt-send: f2\n", 2, "keymap.prompt-send", ["'f2' is already the key of prompt-dashboard "
                                                               "in the prompt lab"]),
    ("keymap:\n  batch-submit: down\n", 2, "keymap.batch-submit", ["'down' is already the key of batch-next-job"]),
    # however the key is spelled (newcomer-3: `pause: "?"` took help's key, `pause: question_mark` was refused)
    ("keymap:\n  pause: \"?\"\n", 2, "keymap.pause", ["'?' is already the key of help in the dashboard"]),
    ("keymap:\n  pause: \"/\"\n", 2, "keymap.pause", ["'/' is already the key of filter in the dashboard"]),
])
def test_a_bad_keymap_entry_names_file_line_field_and_value(config_home, text, line, field, words):
    config_home.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_keymap()
    message = str(info.value)
    assert message.startswith(f"{config_home}:{line}: {field}: ")
    for word in words:
        assert word in message


def test_the_console_refuses_a_bad_keymap_before_it_starts(config_home, tmp_path):
    config_home.write_text("keymap:\n  prompt-sned: ctrl+j\n")
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    env.pop("TIERCONSOLE_PROFILE", None)
    out = subprocess.run([sys.executable, "-m", "tierconsole.cli"], capture_output=True, text=True, timeout=60,
                         env=env, stdin=subprocess.DEVNULL)
    assert out.returncode == 2
    assert out.stderr.strip() == (f"tierconsole: error: {config_home}:2: keymap.prompt-sned: 'prompt-sned' is not a "
                                  "binding id (did you mean prompt-send?)")
