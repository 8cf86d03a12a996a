"""A prompt's results as a table for people (``tierconsole prompt`` without ``--json``)."""
from __future__ import annotations

from ..core.domain.format import tier_label, usd


def format_results(results) -> str:
    """The human table of a prompt's results: tiers by name (Standard, not ``default``), costs as
    :func:`~tierconsole.core.domain.format.usd` says them (``unknown``, ``in reservation``, never 0.000000)."""
    head = f"{'tier':<9} {'served':<9} {'status':<22} {'ttft ms':>8} {'latency ms':>10} {'out tok/s':>9} " \
           f"{'in':>6} {'out':>6} {'cost $':>14}"
    lines = [head]
    for r in results:
        status = "ok" if r.ok else (r.error or "error")
        fmt = lambda v, spec: format(v, spec) if v is not None else "-"  # noqa: E731
        served = tier_label(r.served_tier) if r.served_tier else "-"
        cost = usd(r.cost_usd, r.served_tier, sign="") if r.ok else "-"
        lines.append(f"{tier_label(r.tier):<9} {served:<9} {status:<22} {fmt(r.ttft_ms, '8.0f'):>8} "
                     f"{fmt(r.latency_ms, '10.0f'):>10} {fmt(r.output_tps, '9.1f'):>9} {r.input_tokens:>6} "
                     f"{r.output_tokens:>6} {cost:>14}")
        if not r.ok and r.message:
            lines.append(f"          {r.message}")
        if r.note:
            lines.append(f"          {r.note}")
    regions = sorted({r.region for r in results if r.region})
    if regions:  # quotas and jobs are per region: say whose quota a test prompt spent
        lines.append(f"region {', '.join(regions)}")
    return "\n".join(lines)
