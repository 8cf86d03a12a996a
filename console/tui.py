"""Launch the Textual console (wired to collectors in app.py once the dashboard lands)."""
from __future__ import annotations

import sys


def run_tui(args) -> int:
    print("tierconsole: the live console is not wired yet; run `tierconsole sandbox` for the sandbox.",
          file=sys.stderr)
    return 1
