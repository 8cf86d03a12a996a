"""The header is stable: where the console looks (profile, account, region, endpoint) is always in the same
place, the endpoint is always shown at 120 columns and more (shortened, never dropped, at 80), and PAUSED
(pressing ``p``) or READ-ONLY are badges that move nothing else."""
from __future__ import annotations

import dataclasses
import re

import pytest

from tierconsole.core.domain.sample import sample_dashboard
from tierconsole.tui.app import TierConsoleApp
from tierconsole.tui.widgets.header import HeaderBar

LONG_URL = "https://bedrock-runtime.us-east-1.amazonaws.com"  # an --endpoint-url naming AWS's own endpoint
LONG_HOST = LONG_URL.split("//")[1]
SANDBOX_HOST = "127.0.0.1:48213"
KINDS = ["sandbox", "aws", "endpoint-url"]


def header_text(app) -> str:
    return app.screen.query_one(HeaderBar).render_line(0).text


def data_for(kind: str, read_only: bool):
    data = dataclasses.replace(sample_dashboard(sandbox=kind == "sandbox"), read_only=read_only)
    return dataclasses.replace(data, endpoint=LONG_URL) if kind == "endpoint-url" else data


async def headers(data, size) -> tuple[str, str]:
    """(live, paused) header lines of the dashboard showing ``data``."""
    app = TierConsoleApp(data=data)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        live = header_text(app)
        await pilot.press("p")
        await pilot.pause()
        paused = header_text(app)
        assert app.paused
    return live, paused


def shows_endpoint(kind: str, line: str, whole: bool) -> bool:
    if kind == "sandbox":  # whole, or (read-only at 80 columns) cut keeping the port
        return SANDBOX_HOST in line if whole else re.search(r"\b1\S*…:48213", line) is not None
    if kind == "aws":  # no endpoint given: the SDK's own, for the region
        return re.search(r"│ AWS\b|endpoint AWS\b", line) is not None
    if whole:
        return LONG_HOST in line
    # shortened sensibly: the start of the host, an ellipsis, its domain (an address: its port)
    return re.search(r"\bbedr\S*…\S*amazonaws\.com", line) is not None


@pytest.mark.parametrize("read_only", [False, True], ids=["rw", "read-only"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("width", [120, 160])
async def test_the_endpoint_is_always_shown_from_120_columns(kind, read_only, width):
    live, paused = await headers(data_for(kind, read_only), (width, 40))
    for line in (live, paused):
        assert shows_endpoint(kind, line, whole=width >= 160 or kind != "endpoint-url" or not read_only), line
        for shown in ("123456789012", "us-east-1", "sandbox" if kind == "sandbox" else "prod-ops", "age 14s"):
            assert shown in line, line
        assert ("SANDBOX" in line) is (kind == "sandbox") and ("READ-ONLY" in line) is read_only
    assert "PAUSED" in paused and "PAUSED" not in live


@pytest.mark.parametrize("read_only", [False, True], ids=["rw", "read-only"])
@pytest.mark.parametrize("kind", KINDS)
async def test_at_80_columns_the_endpoint_is_shortened_not_dropped(kind, read_only):
    live, paused = await headers(data_for(kind, read_only), (80, 24))
    for line in (live, paused):
        assert shows_endpoint(kind, line, whole=kind == "aws" or (kind == "sandbox" and not read_only)), line
        assert ("READ-ONLY" in line) is read_only and "prod-ops" in line or "sandbox" in line
        assert "age 14s" in line, line


@pytest.mark.parametrize("read_only", [False, True], ids=["rw", "read-only"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 40)], ids=lambda s: f"{s[0]}")
async def test_pausing_moves_nothing_but_adds_its_badge(kind, read_only, size):
    live, paused = await headers(data_for(kind, read_only), size)
    assert len(live) == len(paused) == size[0]
    differ = [i for i, (a, b) in enumerate(zip(live, paused)) if a != b]
    assert differ, "the paused header shows PAUSED"
    start, end = differ[0], differ[-1] + 1
    # Every column that changed is the badge's: what was there is blank, what is there says PAUSED.
    assert live[start:end].strip() == "", (live, paused)
    assert paused[start:end].strip().startswith("PAUSED"), (live, paused)


@pytest.mark.parametrize("width", [80, 200])
async def test_credentials_in_an_endpoint_url_are_never_shown(width):
    data = dataclasses.replace(sample_dashboard(), endpoint="https://AKIDEXAMPLE:s3cret@gw.example.com:8443/")
    live, _ = await headers(data, (width, 30))
    assert "gw.example.com:8443" in live or "…" in live, live
    assert "AKIDEXAMPLE" not in live and "s3cret" not in live, live


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize("pulse", ["", "2 throttling · 12 accounts"])
async def test_an_action_screen_s_context_line_never_gives_up_its_target(width, pulse):
    """An action screen (prompt lab, batch submit) acts on its profile, account and region: each is shown at any
    width, with both badges and the fleet's pulse (inside a drilled fleet account), on a second line where one has
    no room — never dropped."""
    from textual.screen import Screen

    from tierconsole.tui.widgets.header import ContextBar, ContextInfo
    from tierconsole.tui.widgets.render import PaletteHost

    class Action(Screen):
        def compose(self):
            yield PaletteHost()
            yield ContextBar()

    app = TierConsoleApp(data=sample_dashboard())
    async with app.run_test(size=(width, 24)) as pilot:
        await app.push_screen(Action())
        await pilot.pause()
        bar = app.screen.query_one(ContextBar)
        bar.set_data(ContextInfo("PROMPT LAB", "fleet/eu-retail@eu-west-1", "200000000008", "eu-west-1",
                                 is_sandbox=True, read_only=True, pulse=pulse))
        await pilot.pause()
        lines = [bar.render_line(y).text.rstrip() for y in range(bar.size.height)]
        text = "\n".join(lines)
        for shown in ("PROMPT LAB", "SANDBOX", "READ-ONLY", "fleet/eu-retail@eu-west-1", "200000000008",
                      "eu-west-1", pulse):
            assert shown in text, (shown, text)
        assert all(len(line) <= width for line in lines), text
        if width == 120 and not pulse:
            assert len(lines) == 1, text  # one line where everything fits
