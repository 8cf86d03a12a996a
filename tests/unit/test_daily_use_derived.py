"""A daily quota's use is published nowhere as a count: only the utilization report's ``Utilization`` percentage
(GetQuotaUtilizationReport's ``QuotaUtilizationInfo`` has no usage figure). ``status --json`` said ``"used":
86400.0`` (0.05% of 172,800,000) as if counted (newcomer-3 F-m); it now says the figure is derived and from what."""
from __future__ import annotations

import json

from tests.unit.test_quota_use import NOVA, NOW, PROFILES, _answers, listed
from tierconsole.core.domain import metricsplan as mp
from tierconsole.core.domain import quota_use as qu
from tierconsole.core.domain.views import DashboardData
from tierconsole.core.ops.status import status_document

DAY = "Model invocation max tokens per day for Amazon Nova Lite"


def status_quotas(report):
    a = {("EstimatedTPMQuotaUsage", NOVA): 30_000.0, ("Invocations", NOVA): 90.0}
    base = mp.quota_views(_answers(a), [NOVA], {NOVA: "Nova Lite"}, {NOVA: 100_000.0}, {NOVA: 100.0}, {}, NOW)
    rows = qu.quota_views(_answers(a), base, listed(), qu.profile_series(PROFILES), report, NOW,
                          region="us-east-1", sandbox=False)
    doc = status_document(DashboardData(time=NOW, quotas=rows), None, [], {}, NOW)
    return {u["name"]: u for u in json.loads(json.dumps(doc))["quotas"][0]["quotas"]}


def test_a_daily_use_from_the_reports_percentage_says_it_is_derived():
    day = status_quotas({DAY: 0.05})[DAY]
    assert day["fraction"] == 0.0005 and day["source"] == "AWS utilization report"
    assert day["used"] == 72_000  # 0.05% of 144,000,000: as precise as the percentage
    assert day["used_derived"] == "Utilization 0.05% × value 144,000,000 (the report gives a percentage, no count)"


def test_a_counted_use_is_not_marked_and_an_unreported_one_stays_null():
    quotas = status_quotas({})
    tpm = quotas["On-demand model inference tokens per minute for Amazon Nova Lite"]
    assert tpm["used"] == 30_000 and tpm["used_derived"] is None
    assert quotas[DAY]["used"] is None and quotas[DAY]["used_derived"] is None
