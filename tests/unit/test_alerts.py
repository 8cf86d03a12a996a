"""One definition of "over the alert threshold" (newcomer defect 14): the status header's count, the ▲
marks and ``status --fail-over`` agree, reservations included, and every one over is named."""
from __future__ import annotations

from tierconsole.core.domain.alerts import over_text, uses_over
from tierconsole.present.status import format_status

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def quota(model, tpm, rpm=0.0) -> dict:
    return {"model_id": model, "name": model, "tpm_quota": 100_000.0, "rpm_quota": 100.0,
            "tpm_by_tier": {"default": round(tpm * 100_000)}, "tpm_used": round(tpm * 100_000),
            "tpm_fraction": tpm, "rpm_used": round(rpm * 100), "rpm_fraction": rpm}


def reservation(rid, model, inp, out) -> dict:
    return {"reservation_id": rid, "model_id": model, "input_tpm_used": round(inp * 100_000),
            "input_tpm_reserved": 100_000, "input_fraction": inp, "output_tpm_used": round(out * 10_000),
            "output_tpm_reserved": 10_000, "output_fraction": out, "overflow_tpm": None,
            "overflow_requests_per_min": None, "overflow_source": None}


def doc() -> dict:
    return {"profile": "p", "account_id": "1", "region": "us-east-1", "endpoint": None,
            "quotas": [quota("a", 0.45), quota("b", 0.1, rpm=0.3), quota("c", 0.31), quota("d", 0.29)],
            "reservations": [reservation("res-1", SONNET, 0.05, 0.6), reservation("res-2", SONNET, 0.1, 0.1)],
            "throttles": {"last_5m": {}, "last_60m": {}}, "batch_jobs": [], "stale": {}}


def test_the_header_counts_exactly_the_rows_marked_and_says_what_they_are():
    text = format_status(doc(), alert_threshold=0.3)
    marked = [line for line in text.splitlines() if line.startswith("▲")]
    assert len(marked) == 4  # a (TPM), b (RPM at exactly 30%), c, and the reservation res-1 (output)
    assert "3 quotas and 1 reservation over 30%" in text.splitlines()[1], text
    assert any("res-1" in line for line in marked) and not any("res-2" in line for line in marked)


def test_uses_over_lists_every_one_over_worst_first():
    over = uses_over(doc()["quotas"], doc()["reservations"], 0.3)
    assert [(o.kind, o.name) for o in over] == [("reservation", "res-1"), ("quota", "a"), ("quota", "c"),
                                                 ("quota", "b")]
    assert over[0].describe() == "reservation res-1 output TPM 60.0%"
    assert over[3].describe() == "b RPM 30.0% of quota"
    assert uses_over(doc()["quotas"], doc()["reservations"], 0.9) == []


def test_over_text_plurals():
    assert over_text(1, 0.8) == "1 quota over 80%"
    assert over_text(0, 0.8) == "0 quotas over 80%"
    assert over_text(2, 0.8, reservations=1) == "2 quotas and 1 reservation over 80%"
    assert over_text(0, 0.5, reservations=2) == "0 quotas and 2 reservations over 50%"


def test_status_text_shows_each_batch_jobs_id():
    d = doc()
    d["batch_jobs"] = [{"job_name": "nightly", "job_arn": "arn:aws:bedrock:us-east-1:123456789012:"
                        "model-invocation-job/abcdef123456", "model_id": "m", "status": "InProgress",
                        "processed": 5, "total": 10, "success": 5, "errors": 0}]
    line = next(x for x in format_status(d, 0.8).splitlines() if "nightly" in x)
    assert line.split()[:3] == ["nightly", "abcdef123456", "InProgress"], line


def test_every_applicable_quota_counts_daily_and_profile_routes_included_and_agree():
    """A route's daily quota over the threshold is "over" although its TPM and RPM are not; a profile route is
    its own row (key), and header count, ▲ marks and --fail-over's list agree."""
    day = {"code": "L-1", "name": "Model invocation max tokens per day for A", "kind": "model_daily",
           "measure": "tokens", "period": 86_400, "value": 1e9, "used": 9.5e8, "fraction": 0.95,
           "source": "AWS utilization report"}
    unknown = dict(day, name="Cross-Model Max Tokens Per Day", kind="cross_model_daily", used=None, fraction=None,
                   source=None)
    on_demand = {**quota("a", 0.1), "route": "on-demand", "quotas": [day, unknown],
                 "binding": {"name": day["name"], "code": "L-1", "kind": "model_daily", "measure": "tokens",
                             "period": 86_400, "fraction": 0.95, "text": "daily tokens quota of A (us-east-1), 95% used"}}
    cross = {**quota("a", 0.2), "route": "cross-region", "quotas": [], "binding": None}
    d = dict(doc(), quotas=[on_demand, cross], reservations=[])
    over = uses_over(d["quotas"], [], 0.9)
    assert [(o.name, o.measure) for o in over] == [("a", "day")]
    text = format_status(d, 0.9)
    assert "1 quota over 90%" in text and text.count("▲") == 1
    assert "binds: daily tokens quota of A (us-east-1), 95% used" in text
    assert "a (cross-region)" in text
    assert uses_over(d["quotas"], [], 0.99) == []  # an unknown use (None) is never "over"
