"""Fixed, realistic dashboard data for screenshots, snapshot tests and demos.

A busy afternoon: the Sonnet 4.5 reservation runs at about 70% with peaks overflowing to Standard,
Nova Lite's on-demand quota sits near 85% and Standard requests throttle, Sonnet's cross-region route is at 72% of
its cross-region TPM quota (it binds), a few batch jobs run.
Everything is derived from ``now`` and a seed; nothing reads the clock.
"""
from __future__ import annotations

import random

from .quotas import quota_code
from .views import (BatchJobView, DashboardData, ModelQuotaView, PaneStatus, QuotaUseView, ReservationView,
                    ThrottleEvent)

#: 2026-03-02 14:30:00 UTC, a fixed "now" for reproducible renders.
SAMPLE_NOW = 1772461800.0

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"
NOVA_PRO = "amazon.nova-pro-v1:0"
GPT_OSS = "openai.gpt-oss-120b-1:0"

_TOO_MANY_TOKENS = "Too many tokens, please wait before trying again."
_TOO_MANY_REQUESTS = "Too many requests, please wait before trying again."


def _history(rng: random.Random, level: float, spread: float, n: int = 15) -> tuple[float, ...]:
    return tuple(round(max(0.0, level * (1 + rng.uniform(-spread, spread)))) for _ in range(n))


def sample_throttle_events(n: int, now: float = SAMPLE_NOW, seed: int = 7) -> tuple[ThrottleEvent, ...]:
    """``n`` throttle events, newest first, mostly Standard on Nova Lite, a few Flex and others."""
    rng = random.Random(seed)
    kinds = [
        (NOVA_LITE, "default", "ThrottlingException", _TOO_MANY_TOKENS, 60),
        (NOVA_LITE, "flex", "ThrottlingException", _TOO_MANY_TOKENS, 12),
        (NOVA_LITE, "default", "ThrottlingException", _TOO_MANY_REQUESTS, 10),
        (SONNET, "default", "ThrottlingException", _TOO_MANY_TOKENS, 8),
        (SONNET, "default", "ServiceUnavailableException", "Service is temporarily unavailable.", 2),
        (GPT_OSS, "flex", "ModelNotReadyException", "Model is not ready to serve inference requests.", 2),
        (HAIKU, "priority", "ThrottlingException", _TOO_MANY_TOKENS, 1),
    ]
    weights = [k[-1] for k in kinds]
    t = now - 3.0
    events = []
    for _ in range(n):
        model, tier, error, message, _w = rng.choices(kinds, weights)[0]
        cloudwatch = rng.random() < 0.25
        events.append(
            ThrottleEvent(
                time=float(int(t // 60 * 60)) if cloudwatch else round(t, 3),
                model_id=model,
                tier="" if cloudwatch else tier,  # CloudWatch has no per-tier split
                count=rng.randint(2, 14) if cloudwatch else 1,
                error=error,
                message=message,
                source="cloudwatch" if cloudwatch else "console",
            )
        )
        t -= rng.expovariate(1 / 9.0)
    return tuple(events)


def sample_dashboard(now: float = SAMPLE_NOW, *, sandbox: bool = False, seed: int = 7) -> DashboardData:
    rng = random.Random(seed)
    reservations = (
        ReservationView(
            reservation_id="sonnet-prod-1",
            model_id=SONNET,
            input_tpm_used=70_420,
            input_tpm_reserved=100_000,
            output_tpm_used=6_830,
            output_tpm_reserved=10_000,
            overflow_tpm=8_240 if sandbox else None,  # no AWS metric counts overflow: a sandbox figure
            overflow_rpm=3 if sandbox else None,
            overflow_source="sandbox" if sandbox else "",
            input_history=_history(rng, 68_000, 0.25)[:-1] + (70_420.0,),
            output_history=_history(rng, 6_500, 0.3)[:-1] + (6_830.0,),
        ),
        ReservationView(
            reservation_id="haiku-support-1",
            model_id=HAIKU,
            input_tpm_used=183_900,
            input_tpm_reserved=200_000,
            output_tpm_used=11_200,
            output_tpm_reserved=20_000,
            overflow_tpm=0 if sandbox else None,
            overflow_rpm=0 if sandbox else None,
            overflow_source="sandbox" if sandbox else "",
            input_history=_history(rng, 160_000, 0.15)[:-1] + (183_900.0,),
            output_history=_history(rng, 10_000, 0.2)[:-1] + (11_200.0,),
        ),
    )
    origin = "sandbox" if sandbox else "AWS"
    cw, report = f"{origin} CloudWatch", f"{origin} utilization report"
    account_day = _use("Cross-Model Max Tokens Per Day", "cross_model_daily", "tokens", 86_400, 2_000_000_000,
                       62_000_000, report)

    def day(subject: str, value: float, used: float | None) -> QuotaUseView:
        return _use(f"Model invocation max tokens per day for {subject}", "model_daily", "tokens", 86_400, value,
                    used, report if used is not None else "")

    def minute(kind: str, subject: str, measure: str, value: float, used: float) -> QuotaUseView:
        prefix = {"on_demand": "On-demand", "cross_region": "Cross-region"}[kind]
        what = "tokens" if measure == "tokens" else "requests"
        return _use(f"{prefix} model inference {what} per minute for {subject}", kind, measure, 60, value, used, cw)

    nova = (minute("on_demand", "Amazon Nova Lite", "tokens", 400_000, 340_900),
            minute("on_demand", "Amazon Nova Lite", "requests", 1_000, 642),
            day("Amazon Nova Lite", 576_000_000, 69_100_000), account_day)
    sonnet_direct = (minute("on_demand", "Anthropic Claude Sonnet 4.5", "tokens", 200_000, 63_300),
                     minute("on_demand", "Anthropic Claude Sonnet 4.5", "requests", 200, 71),
                     day("Anthropic Claude Sonnet 4.5", 288_000_000, None), account_day)
    sonnet_cross = (minute("cross_region", "Anthropic Claude Sonnet 4.5", "tokens", 400_000, 288_000),
                    minute("cross_region", "Anthropic Claude Sonnet 4.5", "requests", 400, 180),
                    day("Anthropic Claude Sonnet 4.5", 288_000_000, None), account_day)
    quotas = (
        ModelQuotaView(NOVA_LITE, "Amazon Nova Lite", 400_000, 1_000,
                       {"priority": 61_300, "default": 248_700, "flex": 30_900}, rpm_used=642, hold_tokens=52_400,
                       quotas=nova, binding=nova[0],
                       binding_text="on-demand TPM quota of Amazon Nova Lite (us-east-1), 85% used"),
        ModelQuotaView(SONNET, "Claude Sonnet 4.5", 200_000, 200,
                       {"priority": 22_000, "default": 41_300, "flex": 0}, rpm_used=71, hold_tokens=38_800,
                       quotas=sonnet_direct, binding=sonnet_direct[1],
                       binding_text="on-demand RPM quota of Anthropic Claude Sonnet 4.5 (us-east-1), 36% used"),
        ModelQuotaView(SONNET, "Claude Sonnet 4.5", 400_000, 400, {"default": 288_000}, rpm_used=180,
                       route="cross-region", quotas=sonnet_cross, binding=sonnet_cross[0],
                       binding_text="cross-region TPM quota of Anthropic Claude Sonnet 4.5 (us-east-1), 72% used"),
        ModelQuotaView(NOVA_PRO, "Amazon Nova Pro", 300_000, 500,
                       {"priority": 0, "default": 58_200, "flex": 34_000}, rpm_used=88),
        ModelQuotaView(GPT_OSS, "GPT OSS 120B", 250_000, 400,
                       {"priority": 0, "default": 12_600, "flex": 17_900}, rpm_used=24, hold_tokens=None),
        ModelQuotaView(HAIKU, "Claude Haiku 4.5", 400_000, 800,
                       {"priority": 14_500, "default": 0, "flex": 0}, rpm_used=19),
    )
    throttle_rates = {
        "priority": (0,) * 14 + (1,),
        "default": (0, 0, 1, 2, 4, 3, 6, 9, 12, 15, 11, 14, 18, 16, 21),
        "flex": (0, 0, 0, 0, 1, 0, 0, 2, 1, 0, 3, 2, 1, 4, 3),
    }
    batch_jobs = (
        BatchJobView("arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/k2x9", "nightly-ticket-summaries",
                     NOVA_LITE, "InProgress", submit_time=now - 42 * 60, total_records=10_000, processed=6_420,
                     success=6_401, errors=19, model_input_tpm=76_400, model_output_tpm=25_300,
                     model_pending_records=3_580, model_tpm_minute=now - now % 60 - 60,
                     progress_since=now - 31 * 60, processed_since=180, observed_at=now),
        BatchJobView("arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/p7q1", "rag-eval-sonnet-v3",
                     SONNET, "Scheduled", submit_time=now - 6 * 60 - 12, total_records=2_500),
        BatchJobView("arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/a0b3", "catalog-enrichment",
                     GPT_OSS, "Validating", submit_time=now - 75),
        BatchJobView("arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/z8y2", "weekly-churn-notes",
                     HAIKU, "Completed", submit_time=now - 5 * 3600, end_time=now - 3 * 3600 - 48 * 60,
                     total_records=5_000, processed=5_000, success=4_998, errors=2),
        BatchJobView("arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/m4n5", "pii-redaction-backfill",
                     NOVA_PRO, "PartiallyCompleted", submit_time=now - 9 * 3600, end_time=now - 6 * 3600,
                     total_records=20_000, processed=20_000, success=19_640, errors=360),
        BatchJobView("arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/f1f1", "smoke-test-batch",
                     NOVA_LITE, "Failed", submit_time=now - 26 * 3600, end_time=now - 26 * 3600 + 95,
                     total_records=100, processed=0),
    )
    status = {
        "reservations": PaneStatus(True, now - 2),
        "quota": PaneStatus(True, now - 2),
        "throttles": PaneStatus(True, now - 1),
        "batch": PaneStatus(True, now - 14),
    }
    return DashboardData(
        time=now,
        profile="sandbox" if sandbox else "prod-ops",
        account_id="123456789012",
        region="us-east-1",
        endpoint="http://127.0.0.1:48213" if sandbox else None,  # None on AWS: the SDK picks the endpoint
        is_sandbox=sandbox,
        reservations=reservations,
        quotas=quotas,
        throttle_events=sample_throttle_events(60, now, seed),
        throttle_rates=throttle_rates,
        batch_jobs=batch_jobs,
        status=status,
    )


def _use(name: str, kind: str, measure: str, period_s: int, value: float, used: float | None,
         source: str) -> QuotaUseView:
    return QuotaUseView(quota_code(name), name, kind, measure, period_s, value, used,
                        None if used is None else used / value, source)
