"""The status document (:mod:`tierconsole.core.ops.status`) for people."""
from __future__ import annotations

from ..core.domain.alerts import (MARKS_LEGEND, is_over, over_text, quota_fractions, quotas_over, reservations_over,
                                   threshold_text, tpm_mark, tpm_peak_fraction)
from ..core.domain.format import tier_label


def _overflow_text(r: dict) -> str:
    if r["overflow_tpm"] is None:
        return "overflow not published by AWS"
    return f"overflow {r['overflow_tpm']:,} TPM ({r['overflow_source']})"


def format_status(doc: dict, alert_threshold: float = 0.8) -> str:
    """The status document for people: tiers by name, and ``▲`` on what is at or over ``alert_threshold``
    (the profile's, the same the dashboard colours by, or ``--fail-over``'s): the header counts exactly
    the rows marked (:mod:`tierconsole.core.domain.alerts`, one definition)."""
    def mark(*fractions: float) -> str:
        return "▲ " if is_over(*fractions, threshold=alert_threshold) else "  "

    quotas = len(quotas_over(doc["quotas"], alert_threshold))
    reservations = len(reservations_over(doc["reservations"], alert_threshold))
    out = [f"profile {doc['profile']}  account {doc['account_id'] or '?'}  region {doc['region']}"
           f"  endpoint {doc['endpoint'] or 'AWS'}",
           f"alert threshold {threshold_text(alert_threshold)}: {_headline(doc, quotas, reservations, alert_threshold)}",
           ""]
    if doc.get("no_data"):
        out.append(f"no data: CloudWatch holds no data point in {doc['region']} for the last 60 minutes (no traffic "
                   "there, or not yet): nothing below is measured (—, never 0)")
        out.append("RESERVED TPM")
        out += _no_reservation(doc)
        out += [f"  {r['reservation_id']:<24} {r['model_id']:<44} —" for r in doc["reservations"]]
        out.append("QUOTAS per model and route")
        out += [f"  {q['model_id']:<44} —  quota {q['tpm_quota']:,.0f} TPM, {q['rpm_quota']:,.0f} RPM"
                for q in doc["quotas"]]
        return "\n".join(out + _tail(doc))
    out.append("RESERVED TPM")
    out += _no_reservation(doc)
    for r in doc["reservations"]:
        out.append(f"{mark(r['input_fraction'], r['output_fraction'])}{r['reservation_id']:<24} {r['model_id']:<44} "
                   f"in {r['input_tpm_used']:>9,}/{r['input_tpm_reserved']:<9,}"
                   f" {r['input_fraction']:>5.0%}  out {r['output_tpm_used']:>8,}/{r['output_tpm_reserved']:<8,}"
                   f" {r['output_fraction']:>5.0%}  {_overflow_text(r)}")
    out.append("QUOTAS per model and route (TPM by tier vs the route's TPM quota, burndown included)")
    marked = False
    for q in doc["quotas"]:
        tiers = "  ".join(f"{tier_label(k)} {v:,}" for k, v in q["tpm_by_tier"].items())
        route = "" if q.get("route", "on-demand") == "on-demand" else f" ({q['route']})"
        # the quota pane's marks: ✖ a measured minute at the quota, ~ an estimate
        _, glyph, pct = tpm_mark(q["tpm_fraction"] if q["tpm_quota"] else None,
                                 estimated=bool(q.get("tpm_estimated")),
                                 measured_over=bool(q.get("tpm_measured_over")), warn=alert_threshold,
                                 peak=tpm_peak_fraction(q))
        glyph = glyph if glyph in "~✖" else ""
        marked = marked or bool(glyph) or "~" in pct
        out.append(f"{mark(*(f for _, f in quota_fractions(q)))}{q['model_id'] + route:<44} "
                   f"{q['tpm_used']:>9,}/{q['tpm_quota']:<9,.0f} {glyph + pct:>6}"
                   f"  RPM {q['rpm_used']}/{q['rpm_quota']:.0f}  [{tiers}]")
        if q.get("via"):
            out.append(f"    via application profile {', '.join(q['via'])}")
        if q.get("binding"):
            source = q["binding"].get("source")
            out.append(f"    binds: {q['binding']['text']}" + (f" ({source})" if source else ""))
    if marked:
        out.append(f"  {MARKS_LEGEND}")
    return "\n".join(out + _tail(doc))


def _no_reservation(doc: dict) -> list[str]:
    """What an empty reservation section means: none there, or not read (never a bare heading)."""
    if doc["reservations"]:
        return []
    unread = doc["stale"].get("reservations")
    return [f"  not read ({unread})" if unread else f"  none in {doc['region']}"]


def _headline(doc: dict, quotas: int, reservations: int, alert_threshold: float) -> str:
    """How many are over the line — never a count of nothing over for figures that could not be read."""
    unread = doc["stale"].get("quota")
    if unread:
        return f"quotas not read ({unread}): nothing below is judged"
    return over_text(quotas, alert_threshold, reservations if doc["reservations"] else None)


def _tail(doc: dict) -> list[str]:
    """The throttle, batch and stale sections."""
    out = ["THROTTLES (5 min / 60 min)"]
    if doc.get("no_data"):
        out.append("  — (no data)")
    # an application profile's series is its ARN: named as the quota pane names it, ``etl (3zcjidm03iv5)``
    names = {p["arn"]: f"{p['name']} ({p['id']})" for p in doc.get("application_profiles") or ()}
    for model, per in ({} if doc.get("no_data") else doc["throttles"]["last_60m"]).items():
        five = doc["throttles"]["last_5m"].get(model, {})
        cells = "  ".join(f"{tier_label(t)} {five.get(t, 0)}/{n}" for t, n in per.items())
        out.append(f"  {names.get(model, model):<44} {cells}")
    if doc.get("application_profiles"):
        out.append("APPLICATION INFERENCE PROFILES")
        out += [f"  {p['name']} ({p['id']})  {p['text']}" + (f"  → {p['model_id']}" if p["model_id"] else "")
                for p in doc["application_profiles"]]
    out.append("BATCH JOBS")
    for j in doc["batch_jobs"]:
        job_id = (j.get("job_arn") or "").rsplit("/", 1)[-1]  # what `batch show` and `batch cancel` take
        out.append(f"  {j['job_name']:<36} {job_id:<12} {j['status']:<19} "
                   f"{j['processed']}/{j['total'] if j['total'] is not None else '?'}"
                   f"  errors {j['errors']}")
    if doc["stale"]:
        out.append("STALE: " + "; ".join(f"{k}: {v}" for k, v in doc["stale"].items()))
    return out
