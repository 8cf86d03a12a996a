#!/usr/bin/env python
"""Regenerate the README screenshots in ``screenshots/`` from the fixed sample data.

    python scripts/screenshots.py            # all of them
    python scripts/screenshots.py --out DIR  # somewhere else

The data and "now" are fixed (``tierconsole.domain.sample``), so the SVGs only change when the
drawing does.
"""
from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from tierconsole.app import TierConsoleApp
from tierconsole.domain.sample import sample_dashboard

#: (file name, theme, terminal size, keys to press first)
SHOTS = [
    ("dashboard-120x40-dark.svg", "dark", (120, 40), ()),
    ("dashboard-80x24-dark.svg", "dark", (80, 24), ("2",)),
    ("dashboard-120x40-light.svg", "light", (120, 40), ()),
    ("dashboard-120x40-high-contrast.svg", "high-contrast", (120, 40), ()),
]


async def shoot(theme: str, size: tuple[int, int], keys: tuple[str, ...]) -> str:
    app = TierConsoleApp(theme=theme, data=sample_dashboard())
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        return app.export_screenshot(title="tierconsole")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "screenshots")
    args = parser.parse_args()
    os.environ.pop("NO_COLOR", None)  # screenshots are in colour
    args.out.mkdir(parents=True, exist_ok=True)
    for name, theme, size, keys in SHOTS:
        svg = asyncio.run(shoot(theme, size, keys))
        (args.out / name).write_text(svg, encoding="utf-8")
        print(f"wrote {args.out / name}")


if __name__ == "__main__":
    main()
