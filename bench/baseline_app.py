"""The baseline the console is compared with: a bare Textual app, Header + DataTable (+ Sparkline) + Footer.

    python bench/baseline_app.py            # static: first-frame baseline
    python bench/baseline_app.py --update   # one Sparkline and one table cell change every second

The first frame shows the marker text BASELINE-READY (a column label), which the benchmarks wait for.
"""
from __future__ import annotations

import random
import sys

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header, Sparkline

MARKER = "BASELINE-READY"


class Baseline(App[None]):
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, update: bool) -> None:
        super().__init__()
        self.update = update
        self.rng = random.Random(1)
        self.values = [self.rng.randint(0, 100) for _ in range(30)]
        self.ticks = 0

    def compose(self) -> ComposeResult:
        yield Header()
        if self.update:
            yield Sparkline(self.values, summary_function=max)
        yield DataTable()
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(MARKER, "tier", "tpm", "quota")
        for i in range(20):
            table.add_row(f"model-{i}", "standard", f"{self.rng.randint(0, 120_000):,}", "120,000")
        if self.update:
            self.set_interval(1.0, self.tick)

    def tick(self) -> None:
        self.ticks += 1
        self.values = self.values[1:] + [self.rng.randint(0, 100)]
        self.query_one(Sparkline).data = self.values
        self.query_one(DataTable).update_cell_at((0, 2), f"{self.rng.randint(0, 120_000):,}")


if __name__ == "__main__":
    Baseline(update="--update" in sys.argv).run()
