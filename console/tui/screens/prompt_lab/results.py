"""The prompt lab's results: one row per tier tried (filled in as each tier finishes), each failed
tier's whole error, each tier's streamed text; and a fixed sample run."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual.containers import Horizontal
from textual.widgets import Static

from ....core.domain import format as fmt
from ...widgets.render import Palette
from .tiers import ALL_TIERS_ORDER, first_tiers
from .widgets import ResultsTable, TierOutput

if TYPE_CHECKING:  # pragma: no cover
    from ....core.ops.prompt import PromptRequest, PromptResult


#: Cost and latency come right after the status, so that they are on screen at 80 columns.
COLUMNS = (("tier", "Tier"), ("served", "Served"), ("status", "Status"), ("cost", "Cost"),
           ("latency", "Latency"), ("ttft", "TTFT"), ("tps", "Out tok/s"), ("in", "In tok"), ("out", "Out tok"),
           ("detail", "Detail"))


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms"


class ResultsView:
    """The results part of :class:`~.form.PromptLabScreen` (a mixin until the lab's parts are
    widgets of their own that react to messages)."""

    async def begin_run(self, req: "PromptRequest") -> None:
        """Reset the table and the output areas for a new request (rows show as waiting)."""
        self.request = req
        self.results, self.pending, self.texts = {}, {}, {}
        self.started = time.monotonic()
        table = self.query_one(ResultsTable)
        table.clear()
        self._show_details()
        outputs = self.query_one("#lab-outputs", Horizontal)
        await outputs.remove_children()
        self.outputs = {}
        for tier in first_tiers(req.tier):
            self._add_tier(tier, "waiting…")

    def _add_tier(self, tier: str, status: str) -> None:
        self.pending[tier] = status
        self.texts.setdefault(tier, [])
        self.query_one(ResultsTable).add_row(*self._cells(tier), key=tier)
        output = TierOutput(tier)
        self.outputs[tier] = output
        self.query_one("#lab-outputs", Horizontal).mount(output)
        self._show_text(tier)

    def _cells(self, tier: str) -> tuple:
        palette = Palette(self.query_one(ResultsTable))
        tier_style = palette[tier] if tier in ("priority", "default", "flex", "reserved") else palette["strong"]
        r = self.results.get(tier)
        label = Text(fmt.tier_label(tier), style=tier_style)
        if r is None:
            status = self.pending.get(tier, "")
            style = palette["muted"] if status == "cancelled" else palette["accent"]
            detail = ""
            if status == "cancelled":
                detail = f"cancelled after {time.monotonic() - self.started:.1f} s"
            return (label, "—", Text(status, style=style), "—", "—", "—", "—", "—", "—", detail)  # as COLUMNS
        if r.escalated_from:
            label.append(" ↑", palette["warn"])
        served = Text(fmt.tier_label(r.served_tier), style=palette[r.served_tier]) if r.served_tier in (
            "priority", "default", "flex", "reserved") else Text(r.served_tier or "—")
        if r.ok:
            status = Text("ok", style=palette["ok"])
            detail = r.stop_reason or ""
        else:
            status = Text(r.error or "error", style=palette["warn"] if r.error == "ThrottlingException" else palette["crit"])
            detail = r.message or ""
        if r.escalated_from:
            detail = f"escalated from {fmt.tier_label(r.escalated_from)} after a throttle" + (f"; {detail}" if detail else "")
        tps = "—" if r.output_tps is None else f"{r.output_tps:,.1f}"
        cost = fmt.usd(r.cost_usd, r.served_tier) if r.ok else "—"  # a failed call is not charged
        return (label, served, status, cost, _ms(r.latency_ms), _ms(r.ttft_ms), tps,
                fmt.grouped(r.input_tokens) if r.ok else "—", fmt.grouped(r.output_tokens) if r.ok else "—",
                detail)

    def _update_row(self, tier: str) -> None:
        table = self.query_one(ResultsTable)
        if tier not in table.rows:
            return
        for (key, _), value in zip(COLUMNS, self._cells(tier)):
            table.update_cell(tier, key, value, update_width=True)
        self._show_details()

    def _show_details(self) -> None:
        """Each failed tier's whole error under the table (the Detail column is cut at the screen's edge)."""
        palette = Palette(self.query_one(ResultsTable))
        text = Text()
        for tier in self.query_one(ResultsTable).rows:
            r = self.results.get(tier.value)
            if r is None or r.ok:
                continue
            if text:
                text.append("\n")
            text.append(fmt.tier_label(r.tier), palette[r.tier] if r.tier in ALL_TIERS_ORDER else palette["strong"])
            text.append(" · ")
            text.append(r.message or r.error or "error",
                        palette["warn"] if r.error == "ThrottlingException" else palette["crit"])
        detail = self.query_one("#lab-detail", Static)
        detail.update(text)
        detail.display = bool(text)

    def _show_text(self, tier: str) -> None:
        output = self.outputs.get(tier)
        if output is None:
            return
        r = self.results.get(tier)
        text = Text("".join(self.texts.get(tier, ())))
        if r is not None and not r.ok:
            palette = Palette(output)
            err = Text(f"{r.error}: {r.message or ''}".rstrip(": "),
                       style=palette["warn"] if r.error == "ThrottlingException" else palette["crit"])
            text = err if not text else Text.assemble(text, "\n\n", err)
        elif r is None and self.pending.get(tier) == "cancelled":
            text = Text.assemble(text, ("\n\n" if text else "", ""), ("cancelled", Palette(output)["muted"]))
        output.show(text, follow=r is None)

    def append_text(self, run: int, tier: str, chunk: str) -> None:
        if run != self.run_id or (self.session is not None and not self.session.alive):
            return
        self.texts.setdefault(tier, []).append(chunk)
        if tier in self.pending and self.pending[tier] != "streaming…" and self.request and self.request.stream:
            self.pending[tier] = "streaming…"
            self._update_row(tier)
        self._show_text(tier)

    def fill_result(self, run: int, result: "PromptResult") -> None:
        if run != self.run_id or (self.session is not None and not self.session.alive):
            return
        tier = result.tier
        if tier not in self.pending and tier not in self.results:
            self._add_tier(tier, "waiting…")
        self.pending.pop(tier, None)
        self.results[tier] = result
        if result.ok and not self.texts.get(tier) and result.text:
            self.texts[tier] = [result.text]
        self._update_row(tier)
        self._show_text(tier)
        if (self.request is not None and self.request.tier == "escalate" and tier == "default"
                and result.error == "ThrottlingException"):
            self._add_tier("priority", "waiting… (escalated)")

    async def show_run(self, req: "PromptRequest", results: list["PromptResult"]) -> None:
        """Show a finished run (its request in the form, its results below) as if it had just been sent."""
        self.apply_history({"model": req.model_id, "tier": req.tier, "text": req.text, "system": req.system,
                            "max_tokens": req.max_tokens, "temperature": req.temperature, "stream": req.stream})
        self.run_id += 1
        await self.begin_run(req)
        for r in results:
            self.fill_result(self.run_id, r)
        self.say(self._summary(results), "ok" if any(r.ok for r in results) else "crit")

    def _mark_cancelled(self, run: int) -> None:
        if run != self.run_id:
            return
        elapsed = time.monotonic() - self.started
        for tier in list(self.pending):
            self.pending[tier] = "cancelled"
            self._update_row(tier)
            self._show_text(tier)
        self.in_flight = False
        answered = len(self.results)
        kept = (f"; the {answered} tiers that had answered keep their results" if answered > 1 else
                "; the tier that had answered keeps its result" if answered else "")
        self.say(f"Cancelled after {elapsed:.1f} s{kept}.", "warn")

    @staticmethod
    def _summary(results: list["PromptResult"]) -> str:
        parts = []
        for r in results:
            if r.ok:
                parts.append(f"{fmt.tier_label(r.tier)} → served {fmt.tier_label(r.served_tier)}"
                             + (f" ({r.note})" if r.note else ""))
            else:
                parts.append(f"{fmt.tier_label(r.tier)}: {r.error}")
        return " · ".join(parts)

    def _fail_pending(self, message: str) -> None:
        for tier in list(self.pending):
            self.pending[tier] = "error"
            self._update_row(tier)
        self.in_flight = False
        self.say(message, "crit")


def sample_run() -> tuple["PromptRequest", list["PromptResult"]]:
    """A fixed all-tiers run on Claude Sonnet 4.5 (for snapshots, screenshots and demos): Reserved
    and Priority answer, Standard throttles, Flex answers slowly and cheaply. Nothing reads a clock."""
    from ....core.domain.pricing import PriceTable  # noqa: PLC0415
    from ....core.domain.sample import SONNET  # noqa: PLC0415
    from ....core.ops.prompt import PromptRequest, PromptResult  # noqa: PLC0415

    req = PromptRequest(model_id=SONNET, tier="all", stream=True, max_tokens=400, system="Answer in two sentences.",
                        text="Why is Flex cheaper than Standard, and when is Priority worth its premium?")
    prices = PriceTable.from_profile()
    answers = {
        "reserved": "Flex trades queue position for price: it waits behind every other tier and is billed at "
                    "about half the Standard rate. Priority is worth it when a person is waiting on the answer "
                    "and a throttle or a slow first token costs more than the premium.",
        "priority": "Flex is cheaper because it gives up its place in the queue: it runs when capacity is "
                    "spare. Priority earns its premium on interactive paths where latency and throttles hurt.",
        "flex": "Flex is discounted because Bedrock may hold it back for minutes; it suits offline work. "
                "Pay for Priority only where a user waits and Standard throttles under load.",
    }
    timing = {"reserved": (412.0, 2134.0, 118), "priority": (356.0, 1688.0, 104), "flex": (2903.0, 5377.0, 96)}
    results = []
    for tier in ALL_TIERS_ORDER:
        if tier == "default":
            results.append(PromptResult(tier="default", error="ThrottlingException",
                                        message="Too many tokens, please wait before trying again.",
                                        latency_ms=2011.0))
            continue
        ttft, latency, out = timing[tier]
        results.append(PromptResult(tier=tier, served_tier=tier, ok=True, latency_ms=latency, ttft_ms=ttft,
                                    output_tps=out / ((latency - ttft) / 1000), input_tokens=31, output_tokens=out,
                                    cost_usd=prices.cost(SONNET, tier, 31, out), text=answers[tier],
                                    stop_reason="end_turn"))
    return req, results
