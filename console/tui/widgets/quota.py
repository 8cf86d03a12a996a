"""Quotas per model and route: a stacked bar of Priority / Standard / Flex TPM against the route's TPM quota, and a
line of every quota the route draws on with the binding one marked (a glyph, so it shows without colour)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.reactive import reactive

from ...core.domain import format as fmt
from ...core.domain.alerts import TPM_GLYPH, quota_key, quotas_over, tpm_mark
from ...core.domain.quota_requests import QuotaRequestView
from ...core.domain.views import QUOTA_TIERS, ModelQuotaView, PaneStatus
from .pane import Body, Pane, ScrollBody
from .render import Palette, fit, join, stacked_bar

LEVEL_GLYPH = TPM_GLYPH
BINDING_GLYPH = "◆"  # the quota closest to its limit: the one that throttles first
REQUEST_GLYPH = "↑"  # an open quota-increase request (ListRequestedServiceQuotaChangeHistory)
_TIER_LETTER = {"priority": "P", "default": "S", "flex": "F"}


class QuotaBody(Body):
    warn_at: reactive[float] = reactive(0.8)

    def build(self, width: int, palette: Palette) -> list[Text]:
        """Two lines per model and route, and a third with every quota it draws on when they are known::

            Amazon Nova Lite   ━━━━━━━━━━━━━━━━━━┊━━━━━━  ▲ 85%  341k/400k
             RPM 642/1.0k 64%  P 61.3k S 249k F 30.9k        hold 52.4k
             on-demand  ◆TPM 85% · RPM 64% · day 12% · account day —
        """
        quotas: Sequence[ModelQuotaView] = self.data
        if not quotas:
            return [Text("No on-demand quotas found.", style=palette["muted"])]
        names = [q.name or fmt.short_model(q.model_id) for q in quotas]
        name_w = max(8, min(18, width // 3))  # also holds "RPM 1.2k/1.5k  80%" on the second line
        right_w = 1 + 1 + 4 + 12  # gap, level glyph, percent, used/quota
        tail_w = 12  # the used/quota column; on the second line it holds the hold
        bar_w = max(4, width - name_w - 1 - right_w)
        legend = Text("TPM by tier  ", style=palette["muted"])
        for tier in QUOTA_TIERS:
            legend.append(f"{palette.fill(tier)} ", palette[tier])
            legend.append(f"{fmt.tier_label(tier)}  ", palette["muted"])
        legend.append("┊ ", palette["warn"])
        legend.append(f"{fmt.percent(self.warn_at)}", palette["muted"])
        lines = [legend]
        for q, name in zip(quotas, names):
            known = q.tpm_quota > 0
            tpm_level, glyph, pct = self._tpm_mark(q)
            rpm_level = palette.level(q.rpm_fraction, self.warn_at)
            segments = [(q.tpm_by_tier.get(t, 0.0), palette[t], palette.fill(t)) for t in QUOTA_TIERS]
            lines.append(join(
                fit(name, name_w, palette["strong"] if tpm_level == "ok" else palette[tpm_level]), " ",
                stacked_bar(segments, q.tpm_quota, bar_w, palette, mark=self.warn_at), " ",
                (glyph, palette[tpm_level]),
                fit(pct, 4,
                    palette["strong"] if tpm_level == "ok" else palette[tpm_level], "right"),
                fit(f"{fmt.human_count(q.tpm_used)}/{fmt.human_count(q.tpm_quota) if known else '?'}", 12,
                    align="right"),
            ))
            rpm = join(
                fit("RPM ", 4, palette["muted"]),
                fit(f"{fmt.human_count(q.rpm_used)}/{fmt.human_count(q.rpm_quota) if q.rpm_quota else '?'}",
                    name_w - 4 - 5, align="right"),
                fit(f"{LEVEL_GLYPH[rpm_level].strip()}{fmt.percent(q.rpm_fraction)}", 5,
                    palette["strong"] if rpm_level == "ok" else palette[rpm_level], "right"),
            )
            hold = Text()
            if q.hold_tokens is not None:
                hold = Text.assemble(("hold ", palette["muted"]), fmt.human_count(q.hold_tokens))
            breakdown_w = bar_w + right_w - tail_w  # under the bar and the percentage
            lines.append(join(
                fit(rpm, name_w), " ",
                fit(self._breakdown(q, breakdown_w - 1, palette), breakdown_w),
                fit(hold, tail_w, align="right"),
            ))
            if q.quotas:
                lines.append(fit(self._quota_line(q, palette, width), width))
            if q.via:  # the application inference profiles whose traffic the row holds
                lines.append(fit(Text.assemble((" via application profile ", palette["muted"]), ", ".join(q.via)),
                                 width))
            lines += [fit(self._request_line(q, r, palette), width) for r in q.requests]
        return lines

    def _tpm_mark(self, q: ModelQuotaView) -> tuple[str, str, str]:
        """(level, glyph, percent) of a row's TPM, as ``status`` says it (:func:`~...core.domain.alerts.tpm_mark`):
        ✖ only when a measured minute is over the quota, ``~`` an estimate."""
        return tpm_mark(q.tpm_fraction if q.tpm_quota > 0 else None, estimated=q.tpm_estimated,
                        measured_over=q.tpm_measured_over, warn=self.warn_at, peak=q.tpm_peak_fraction)

    @staticmethod
    def _request_line(q: ModelQuotaView, r: QuotaRequestView, palette: Palette) -> Text:
        """`` ↑ TPM 245k requested · CASE_OPENED · since 04:12 UTC``: an open quota-increase request."""
        short = next((u.short for u in q.quotas if u.name == r.quota_name), r.quota_code)
        since = f" · since {datetime.fromtimestamp(r.created, timezone.utc):%m-%d %H:%M} UTC" if r.created else ""
        return Text.assemble((f" {REQUEST_GLYPH} ", palette["warn"]), (f"{short} ", palette["muted"]),
                             (fmt.human_count(r.desired), palette["strong"]), (" requested · ", palette["muted"]),
                             (r.status, palette["strong"]), (since, palette["muted"]))

    def _quota_line(self, q: ModelQuotaView, palette: Palette, width: int) -> Text:
        """`` on-demand  ◆TPM 96% · RPM 40% · day 12% · account day —``: ``—`` where nothing publishes the use;
        tightened (``·`` without spaces, then ``acct day``) when short of room."""
        for sep, lead in ((" · ", "  "), ("·", " "), ("·", "")):
            text = self._quota_text(q, palette, sep, lead, "account day" if lead else "acct day")
            if text.cell_len <= width:
                break
        return text

    def _quota_text(self, q: ModelQuotaView, palette: Palette, sep: str, lead: str, account: str) -> Text:
        text = Text.assemble((f" {q.route}{lead or ' '}", palette["muted"]))
        for i, u in enumerate(q.quotas):
            if i:
                text.append(sep, palette["muted"])
            level = palette.level(u.fraction or 0.0, self.warn_at)
            style = palette["strong"] if level == "ok" else palette[level]
            bound = q.binding is not None and u.name == q.binding.name
            text.append(BINDING_GLYPH if bound else "", style)
            text.append(f"{account if u.short == 'account day' else u.short} ", palette["muted"])
            text.append("—" if u.fraction is None else fmt.percent(u.fraction), style)
        return text

    @staticmethod
    def _breakdown(q: ModelQuotaView, width: int, palette: Palette) -> Text:
        """``P 61.3k  S 249k  F 30.9k``, tightened to ``P61.3k S249k F30.9k`` when short of room."""
        for gap, sep in (("  ", " "), (" ", " "), (" ", "")):
            text = Text()
            for i, tier in enumerate(QUOTA_TIERS):
                if i:
                    text.append(gap)
                text.append(_TIER_LETTER[tier], palette[tier])
                text.append(f"{sep}{fmt.human_count(q.tpm_by_tier.get(tier, 0.0))}")
            if text.cell_len <= width:
                break
        return text


class QuotaPane(Pane):
    PANE = "quota"
    TITLE = "Quotas"
    KEY = "2"

    def compose_body(self) -> ComposeResult:
        with ScrollBody(classes="pane-focus"):
            yield QuotaBody()

    @property
    def body(self) -> QuotaBody:
        return self.query_one(QuotaBody)

    @property
    def warn_at(self) -> float:
        """Fraction of a quota at which usage shows in the warning colour (default 0.8)."""
        return self.body.warn_at

    @warn_at.setter
    def warn_at(self, value: float) -> None:
        self.body.warn_at = value
        self._update_subtitle()

    def _update_subtitle(self) -> None:
        quotas = self.body.data or ()
        over = quotas_over(quotas, self.warn_at)
        hot = [q for q in quotas if quota_key(q) in over]
        count = fmt.plural(len({q.model_id for q in quotas}), "model")
        if not hot:
            self.set_subtitle(count)
            return
        top = max(hot, key=lambda q: (q.binding.fraction or 0.0) if q.binding else 0.0)
        binds = f" · binds: {quota_label_of(top)}" if top.binding is not None else ""
        self.set_subtitle(f"{count} · {len(hot)} over {fmt.percent(self.warn_at)}{binds}")

    def update_data(self, quotas: Sequence[ModelQuotaView], status: PaneStatus | None = None,
                    now: float = 0.0) -> bool:
        quotas = tuple(quotas)
        self.set_status(status, now)
        changed = self.body.set_data(quotas)
        if changed:
            self._update_subtitle()
        return changed


def quota_label_of(q: ModelQuotaView) -> str:
    """The binding quota of a row, short: ``Amazon Nova Lite TPM``, ``Claude Sonnet 4.5 cross-region TPM``."""
    b = q.binding
    route = {"cross_region": "cross-region ", "global": "global "}.get(b.kind, "")
    return f"{q.name} {route}{b.short}"
