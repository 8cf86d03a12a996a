#!/usr/bin/env python
"""Regenerate the README screenshots in ``screenshots/`` from the fixed sample data.

    python scripts/screenshots.py            # all of them
    python scripts/screenshots.py --out DIR  # somewhere else

The data and "now" are fixed (``tierconsole.core.domain.sample``), so the SVGs only change when the
drawing does.
"""
from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from tierconsole.tui.app import TierConsoleApp
from tierconsole.core.domain.sample import sample_dashboard


async def prompt_lab(pilot) -> None:
    """The prompt lab (``t``) showing a fixed all-tiers run."""
    from textual.widgets import Input

    from tierconsole.tui.screens.prompt_lab import PromptArea, sample_run

    await pilot.press("t")
    lab = pilot.app.screen
    await lab.show_run(*sample_run())
    lab.query_one(PromptArea).cursor_blink = False
    for field in lab.query(Input):
        field.cursor_blink = False


async def cancel_confirmation(pilot) -> None:
    """The confirmation ``x`` asks before cancelling a batch job."""
    from tierconsole.tui.screens.batch_submit import ConfirmCancelScreen

    job = next(j for j in sample_dashboard().batch_jobs if j.job_name == "rag-eval-sonnet-v3")
    await pilot.app.push_screen(ConfirmCancelScreen(job, "123456789012", "prod-ops", "us-east-1"))


#: (file name, theme, terminal size, keys to press first, then an optional setup step)
SHOTS = [
    ("dashboard-120x40-dark.svg", "dark", (120, 40), (), None),
    ("dashboard-80x24-dark.svg", "dark", (80, 24), ("2",), None),
    ("dashboard-120x40-light.svg", "light", (120, 40), (), None),
    ("dashboard-120x40-high-contrast.svg", "high-contrast", (120, 40), (), None),
    ("prompt-lab-120x40-dark.svg", "dark", (120, 40), (), prompt_lab),
    ("prompt-lab-120x40-light.svg", "light", (120, 40), (), prompt_lab),
    ("prompt-lab-80x24-dark.svg", "dark", (80, 24), (), prompt_lab),
    ("cancel-confirm-120x40-dark.svg", "dark", (120, 40), (), cancel_confirmation),
]


async def shoot(theme: str, size: tuple[int, int], keys: tuple[str, ...], setup=None) -> str:
    app = TierConsoleApp(theme=theme, data=sample_dashboard())
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
        if setup is not None:
            await setup(pilot)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        return app.export_screenshot(title="tierconsole")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "screenshots")
    args = parser.parse_args()
    os.environ.pop("NO_COLOR", None)  # screenshots are in colour
    args.out.mkdir(parents=True, exist_ok=True)
    for name, theme, size, keys, setup in SHOTS:
        svg = asyncio.run(shoot(theme, size, keys, setup))
        (args.out / name).write_text(svg, encoding="utf-8")
        print(f"wrote {args.out / name}")


if __name__ == "__main__":
    main()
