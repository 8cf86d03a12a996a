"""Credentials never appear in output, logs, audit entries, errors or the screen; private files are 0600."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import NOVA

AKID = "AKIALEAKCHECK0000001"
SECRET = "LeakCheckSecret/+verysecretvalue0000000"


@pytest.fixture
def aws_env(tmp_path, sandbox):
    """A non-sandbox profile whose credentials come from the environment, aimed at the sandbox endpoint."""
    cfg = tmp_path / "cfg" / "tierconsole" / "profiles"
    cfg.mkdir(parents=True)
    (cfg / "realish.yaml").write_text(f"region: us-east-1\nendpoint_url: {sandbox.endpoint}\n"
                                      "models: [amazon.nova-lite-v1:0]\n")
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_DATA_HOME=str(tmp_path / "data"), AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_SESSION_TOKEN="LeakCheckSessionToken0000")
    return env


def everything_written(tmp_path) -> str:
    text = []
    for root, _dirs, files in os.walk(tmp_path):
        for f in files:
            text.append(open(os.path.join(root, f), "rb").read().decode("utf-8", "replace"))
    return "\n".join(text)


def test_headless_commands_never_show_credentials(aws_env, tmp_path):
    runs = [
        ["prompt", "hello", "--model", NOVA, "--tier", "all", "--json"],
        ["prompt", "hello", "--model", "no.such-model"],
        ["status", "--json"],
        ["incident", "export", "--since", "5m", "--format", "json"],
        ["batch", "list"],
        ["batch", "show", "no-such-job"],
    ]
    seen = []
    for args in runs:
        out = subprocess.run([sys.executable, "-m", "tierconsole.cli", *args, "--profile", "realish"],
                             capture_output=True, text=True, timeout=90, env=aws_env, cwd=tmp_path)
        seen.append(out.stdout + out.stderr)
    blob = "\n".join(seen) + everything_written(tmp_path)
    assert "123456789012" in blob  # the commands did talk to the endpoint
    for secret in (SECRET, "LeakCheckSessionToken0000", AKID):
        assert secret not in blob


async def test_screen_never_shows_credentials(aws_env, monkeypatch, tmp_path):
    for k, v in aws_env.items():
        monkeypatch.setenv(k, v)
    from tierconsole.tui.app import TierConsoleApp
    from tierconsole.core.source import LiveSource
    from tierconsole.core.config.profiles import load_profile
    source = LiveSource(load_profile("realish"))
    app = TierConsoleApp(source=source)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(50):
            await pilot.pause(0.1)
            if app.polls:
                break
        svg = app.export_screenshot()
        await app.close_source()
    assert "realish" in svg
    for secret in (SECRET, AKID, "LeakCheckSessionToken0000"):
        assert secret not in svg
