"""``status``: one collection with the panes' collectors, as one JSON-able document (what is over the alert
threshold: :func:`tierconsole.core.domain.alerts.uses_over`)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from ..domain import metricsplan as mp
from ..domain.quotas import route_label

if TYPE_CHECKING:  # pragma: no cover
    from ..aws.collectors import Collector
    from ..domain.views import DashboardData
    from ..session import OperatorSession


async def collect_status(session: OperatorSession) -> tuple[dict[str, Any], Collector]:
    """Collect once with the panes' collector (an hour of throttle history): the status document and
    the collector (its ``errors`` and ``answers`` say what could not be read)."""
    from ..aws.collectors import Collector  # noqa: PLC0415

    collector = Collector(await session.context(), clock=session.clock, history_minutes=60)
    data = await collector.refresh()
    now = collector.clock()
    models, tiers = collector.throttle_sources()  # the models and their inference profiles
    doc = status_document(data, collector.answers, models, tiers, now)
    doc["application_profiles"] = [app_profile_entry(a) for a in collector.apps]
    return doc, collector


def app_profile_entry(a: Any) -> dict[str, Any]:
    """An application inference profile: what it copies (read from its listed regions; null when the listing
    does not tell) and the route of its model its calls take."""
    return {"name": a.name, "id": a.profile_id, "arn": a.arn, "model_id": a.model_id, "copies": a.copies or None,
            "route": route_label(a.route), "text": a.copies_text}


def status_document(data: DashboardData, answers: mp.Answers | None, models: Sequence[str],
                    tiers: Mapping[str, Iterable[str]], now: float) -> dict[str, Any]:
    """The four panes' data as one JSON-able document (``no_data``: CloudWatch holds nothing in the last hour)."""
    no_data = holds_no_data(answers, now)
    doc: dict[str, Any] = {
        "time": now, "profile": data.profile, "account_id": data.account_id, "region": data.region,
        "endpoint": data.endpoint,
        "reservations": [{"reservation_id": r.reservation_id, "model_id": r.model_id, "region": r.region or None,
                          "input_tpm_used": round(r.input_tpm_used), "input_tpm_reserved": r.input_tpm_reserved,
                          "input_fraction": round(r.input_fraction, 4),
                          "output_tpm_used": round(r.output_tpm_used), "output_tpm_reserved": r.output_tpm_reserved,
                          "output_fraction": round(r.output_fraction, 4),
                          # tokens/min and requests/min that overflowed to Standard: known only from the
                          # sandbox's own metrics (no AWS metric counts overflow); null when not known
                          "overflow_tpm": None if r.overflow_tpm is None else round(r.overflow_tpm),
                          "overflow_requests_per_min": None if r.overflow_rpm is None else round(r.overflow_rpm, 2),
                          "overflow_source": r.overflow_source or None}
                         for r in data.reservations],
        "quotas": [quota_entry(q) for q in data.quotas],
        "throttles": {
            "last_5m": mp.throttle_counts(answers, models, tiers, now, 5) if answers else {},
            "last_60m": mp.throttle_counts(answers, models, tiers, now, 60) if answers else {},
        },
        "batch_jobs": [{"job_name": j.job_name, "job_arn": j.job_arn, "model_id": j.model_id, "status": j.status,
                        "processed": j.processed, "total": j.total_records, "success": j.success,
                        "errors": j.errors} for j in data.batch_jobs],
        "stale": {k: v.reason for k, v in data.status.items() if not v.ok},
        "no_data": no_data,
    }
    if no_data:  # nothing measured: no data is null (— in the text), never a zero
        for row in doc["reservations"]:
            row.update(dict.fromkeys(("input_tpm_used", "input_fraction", "output_tpm_used", "output_fraction",
                                      "overflow_tpm", "overflow_requests_per_min")))
        for row in doc["quotas"]:
            row.update(dict.fromkeys(("tpm_used", "tpm_fraction", "tpm_peak_minute", "rpm_used", "rpm_fraction",
                                      "tpm_estimated", "tpm_measured_over")), tpm_by_tier={},
                       binding=None)
            for quota in row["quotas"]:
                quota.update(used=None, fraction=None, used_derived=None)
    return doc


def _fraction(f: float | None) -> float | None:
    return None if f is None else round(f, 4)


def quota_entry(q: Any) -> dict[str, Any]:
    """A model's route: today's TPM/RPM keys, its route, every quota it draws on (``used``/``fraction`` null
    when nothing publishes the use, ``source`` saying who does) and the binding one."""
    b = q.binding
    return {"model_id": q.model_id, "name": q.name, "route": q.route, "via": list(q.via), "tpm_quota": q.tpm_quota,
            "rpm_quota": q.rpm_quota, "tpm_by_tier": {k: round(v) for k, v in q.tpm_by_tier.items()},
            "tpm_used": round(q.tpm_used), "tpm_fraction": round(q.tpm_fraction, 4),
            # tpm_used spreads the previous minute evenly (an estimate) when tpm_estimated; the highest measured
            # one-minute TPM (the minute in progress, or the last complete one) is tpm_peak_minute (null: unknown)
            "tpm_estimated": q.tpm_estimated,
            "tpm_measured_over": q.tpm_measured_over,  # a measured minute reached the TPM quota (✖)
            "tpm_peak_minute": None if q.tpm_peak_minute is None else round(q.tpm_peak_minute),
            "rpm_used": round(q.rpm_used),
            "rpm_fraction": round(q.rpm_fraction, 4),
            "quotas": [{"code": u.code, "name": u.name, "kind": u.kind, "measure": u.measure, "period": u.period_s,
                        "value": u.value, "used": None if u.used is None else round(u.used, 2),
                        "used_derived": u.used_derived or None,
                        "fraction": _fraction(u.fraction), "source": u.source or None} for u in q.quotas],
            "binding": None if b is None else {"name": b.name, "code": b.code, "kind": b.kind, "measure": b.measure,
                                               "period": b.period_s, "fraction": _fraction(b.fraction),
                                               "text": q.binding_text, "source": b.source or None}}


def holds_no_data(answers: mp.Answers | None, now: float, minutes: int = 60) -> bool:
    """True when CloudWatch answered but holds no data point at all in the last ``minutes`` (a region the
    account has no traffic in); False when it could not be read (that is a stale pane, said apart)."""
    if answers is None:
        return False
    since = now - 60 * minutes
    return not any(t >= since for series in answers.series.values() for t in series)

