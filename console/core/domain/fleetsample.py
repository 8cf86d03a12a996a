"""A fleet of fixed, made-up figures (issue 15) for snapshots, Pilot tests and the bench: built through the real
row code (:func:`~.fleetrows.build_rows`) from synthetic answers, so what is drawn is what a refresh makes.
Never shown as AWS's: the source is ``sample``."""
from __future__ import annotations

import math
from dataclasses import replace

from .fleetrows import AccountInfo, FleetRow, FleetSnapshot, build_rows, worst_first
from .metricsplan import Answers
from .quota_use import model_candidates, parse_quotas

SAMPLE_NOW = 1_767_225_630.0  # 2026-01-01 00:00:30 UTC
NAMES = ("payments", "search", "ml-platform", "support-bot", "ads", "risk", "catalog", "mobile", "data", "growth")
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1")


def sample_models(n: int) -> list[tuple[str, str]]:
    """(model id, name) of ``n`` made-up models."""
    return [(f"vendor.model-{i:02d}-v1:0", f"Model {i:02d}") for i in range(n)]


def sample_fleet(accounts: int = 12, regions: int = 3, models: int = 3, *, now: float = SAMPLE_NOW,
                 threshold: float = 0.8, seed: int = 0) -> FleetSnapshot:
    """``accounts`` × ``regions`` × ``models`` rows: mostly calm, every 7th account hot (80–95 %), every 11th
    throttling, one stale account × region."""
    minute = float(math.floor(now / 60) * 60)
    catalog = sample_models(models)
    listed = parse_quotas(
        [{"QuotaName": f"On-demand model inference tokens per minute for {name}", "QuotaCode": f"L-{i:04d}",
          "Value": 1_000_000.0} for i, (_, name) in enumerate(catalog)],
        model_candidates([{"modelId": m, "modelName": name} for m, name in catalog]))
    rows: list[FleetRow] = []
    infos = []
    for a in range(accounts):
        account = f"{200000000000 + a + seed:012d}"
        name = f"{NAMES[a % len(NAMES)]}-{'prod' if a % 2 else 'dev'}-{a:03d}"
        hot, throttling = a % 7 == 3, a % 11 == 5
        used = REGIONS[:regions]
        stale = {used[0]: "access denied (GetMetricData)"} if a == accounts - 1 and accounts > 2 else {}
        for region in used:
            answers = Answers()
            for j, (model, _) in enumerate(catalog):
                share = (0.80 + 0.15 * ((a + j) % 3) / 2) if hot and j == 0 else 0.02 + 0.05 * ((a * 7 + j * 3) % 10) / 10
                answers.series[("EstimatedTPMQuotaUsage", model, None)] = {minute: share * 1_000_000}
                answers.series[("Invocations", model, None)] = {minute: 10.0 + j}
                # throttles/min are the last complete minute's
                answers.series[("InvocationThrottles", model, None)] = {minute - 60: 4.0 if throttling and j == 0 else 0.0}
            by_tier = {catalog[0][0]: {"priority": {minute - 60: 1.0}, "default": {minute - 60: 3.0}}} if throttling else {}
            made = build_rows(account, name, region, [m for m, _ in catalog], answers, now, listed=listed,
                              quota_note=None, by_tier=by_tier)
            made = [replace(r, stale=stale.get(region), source="sample") for r in made]  # never shown as AWS's
            rows += made
        infos.append(AccountInfo(account, name, "link label", used, stale, "role arn:aws:iam::{account}:role/Read "
                                 "(fleet.access[0])"))
    return FleetSnapshot(time=now, profile="sample-fleet", monitoring_account="100000000000",
                         regions=REGIONS[:regions], threshold=threshold, rows=tuple(worst_first(rows, threshold)),
                         accounts=tuple(infos), calls={"GetMetricData": regions}, source="sample",
                         endpoint="http://127.0.0.1:4599")
