"""Incident triage: diagnosis rules on constructed minutes (the export end to end: e2e/test_incident_export.py)."""
from __future__ import annotations

import csv
import io


from tierconsole.core.domain import incident as inc
from tierconsole.core.domain.metricsplan import Answers

M = 1_800_000_000.0


def answers(**series) -> Answers:
    """series keys like 'EstimatedTPMQuotaUsage/default' -> {minute: value}."""
    a = Answers()
    for key, values in series.items():
        metric, tier = key.split("/")
        a.series[(metric, "m", None if tier == "total" else tier)] = values
    return a


def diagnosis(a: Answers, tpm_quota=100_000, rpm_quota=100) -> str:
    return inc.build(a, "m", "Model M", {"priority", "default", "flex"}, tpm_quota, rpm_quota, M - 120, M).diagnosis


def test_saturating_tiers_are_named_and_priority_unaffected():
    a = answers(**{"EstimatedTPMQuotaUsage/default": {M - 60: 60_000}, "EstimatedTPMQuotaUsage/flex": {M - 60: 36_000},
                   "EstimatedTPMQuotaUsage/priority": {M - 60: 2_000},
                   "InvocationThrottles/default": {M - 60: 7}, "InvocationThrottles/flex": {M - 60: 3},
                   "Invocations/priority": {M - 60: 4}})
    line = diagnosis(a)
    assert line.startswith("Standard + Flex drew 98% of the shared TPM quota on Model M at ")
    assert line.endswith("; Priority was unaffected.")


def test_rpm_quota_hit_while_under_tpm():
    a = answers(**{"EstimatedTPMQuotaUsage/default": {M: 20_000}, "Invocations/default": {M: 97},
                   "InvocationThrottles/default": {M: 5}})
    assert "RPM quota hit (97/100 requests per minute)" in diagnosis(a)


def test_holds_not_usage_exhausted_the_quota():
    a = answers(**{"EstimatedTPMQuotaUsage/default": {M: 15_000}, "Invocations/default": {M: 10},
                   "InvocationThrottles/default": {M: 4}})
    assert "maxTokens holds, not real usage, exhausted the quota" in diagnosis(a)


def test_burst_across_a_minute_boundary_is_judged_on_the_window():
    # usage is counted at completion, throttles after the 2 s queue wait: a burst at hh:mm:59 puts its usage in one
    # minute and its throttles in the next, and the sliding window at those throttles still held the first minute
    a = answers(**{"EstimatedTPMQuotaUsage/default": {M - 60: 110_000, M: 4_000},
                   "Invocations/default": {M - 60: 17, M: 1}, "InvocationThrottles/default": {M: 13}})
    line = diagnosis(a, tpm_quota=120_000)
    assert line.startswith(f"Standard drew 92% of the shared TPM quota on Model M at {inc._clock(M - 60)} UTC")
    assert line.endswith(f"(throttled at {inc._clock(M)} UTC).")
    rpm = answers(**{"EstimatedTPMQuotaUsage/default": {M: 3_000}, "Invocations/default": {M - 60: 99, M: 2},
                     "InvocationThrottles/default": {M: 6}})
    assert "RPM quota hit (99/100 requests per minute)" in diagnosis(rpm)


def test_steady_use_below_quota_is_not_summed_across_minutes():
    # 60% in each of two minutes is 60% of a sliding window, not 120%: still holds, not usage
    a = answers(**{"EstimatedTPMQuotaUsage/default": {M - 60: 60_000, M: 60_000},
                   "Invocations/default": {M - 60: 40, M: 40}, "InvocationThrottles/default": {M: 3}})
    line = diagnosis(a)
    assert "with only 60% of TPM and 40% of RPM used: maxTokens holds" in line


def test_quiet_window_and_overflow_finding_from_the_sandbox():
    a = answers(**{"ReservedOverflowInvocations/total": {M: 6}, "ReservedOverflowInputTokenCount/total": {M: 30_000},
                   "ReservedOverflowOutputTokenCount/total": {M: 1_200}})
    a.sandbox = True
    i = inc.build(a, "m", "Model M", {"default"}, 1, 1, M - 60, M, has_reservation=True)
    assert i.diagnosis == "No throttles on Model M in this window."
    assert i.findings == ["the reservation on Model M overflowed to Standard: 6 requests, 31,200 tokens "
                          "(sandbox figures; AWS publishes no overflow metric)"]
    assert [m.time for m in i.minutes] == [M - 60, M]
    assert [m.overflow_tokens for m in i.minutes] == [None, 31_200]  # M - 60: no data point at all, not 0
    assert "31,200" in inc.to_markdown([i]) and "overflow tokens (sandbox)" in inc.to_markdown([i])


def test_overflow_on_aws_is_said_to_be_unknown_never_zero():
    a = answers(**{"ReservedOverflowInvocations/total": {M: 6}})  # (whatever a namespace might hold: not asked)
    i = inc.build(a, "m", "Model M", {"default"}, 1, 1, M - 60, M, has_reservation=True)
    assert i.findings == ["reservation overflow is not published by AWS: not shown"]
    assert [m.overflow_tokens for m in i.minutes] == [None, None]
    rows = list(csv.DictReader(io.StringIO(inc.to_csv([i]))))
    assert [r["overflow_tokens"] for r in rows] == ["", ""]
    assert "| — |" in inc.to_markdown([i])


def two_incidents() -> Answers:
    """Ten minutes apart: a small RPM-bound throttle, then a big TPM saturation (the window's worst minute)."""
    return answers(**{"EstimatedTPMQuotaUsage/default": {M - 600: 10_000, M: 98_000},
                      "Invocations/default": {M - 600: 97, M: 30},
                      "InvocationThrottles/default": {M - 600: 2, M: 40}})


def test_the_diagnosis_is_about_the_selected_event_and_its_window():
    a = two_incidents()
    tiers = {"priority", "default", "flex"}
    event = M - 600 + 20  # the earlier, smaller event is the one selected
    start, end = inc.event_window(event, M - 900, M + 30)
    assert (start, end) == (M - 900, M - 600 + 4 * 60)  # 10 minutes before (as far as the data go), 4 after
    i = inc.build(a, "m", "Model M", tiers, 100_000, 100, start, end, focus=event)
    assert i.focus == event
    assert i.diagnosis.startswith(f"Standard throttled on Model M at {inc._clock(M - 600)} UTC while under TPM")
    assert "RPM quota hit (97/100" in i.diagnosis and "drew" not in i.diagnosis
    assert [m.time for m in i.minutes][0] == M - 900 and i.minutes[-1].time == M - 360
    # the later minute is another event: outside this window, never in this diagnosis
    assert all(m.time < M for m in i.minutes)
    # without a selected event (the export), the window's worst minute is diagnosed, as before
    worst = inc.build(a, "m", "Model M", tiers, 100_000, 100, M - 900, M)
    assert worst.diagnosis.startswith("Standard drew 98% of the shared TPM quota on Model M")


def test_a_selected_minute_without_counted_throttles_says_so():
    a = two_incidents()
    event = M - 300  # a console event in a minute CloudWatch counted no throttle in (nor next to it)
    i = inc.build(a, "m", "Model M", {"default"}, 100_000, 100, *inc.event_window(event, M - 900, M), focus=event)
    assert i.diagnosis == f"CloudWatch counted no throttles on Model M at {inc._clock(event)} UTC (±1 minute)."
    assert any(f.startswith("2 throttles in 1 minute;") for f in i.findings), i.findings  # the later burst is outside


TPM_NAME = "Cross-region model inference tokens per minute for Model M"
RPM_NAME = "Cross-region model inference requests per minute for Model M"


def route_incident(a: Answers, **kw):
    rows = inc.timeline(a, "m", {"priority", "default", "flex"}, 100_000, 100, M - 120, M, route="cross-region",
                        quota_name=TPM_NAME, rpm_quota_name=RPM_NAME, region="us-east-1")
    return inc.from_minutes("m", "Model M", rows, M - 120, M, **kw)


def test_the_diagnosis_names_the_binding_quota_and_exports_carry_its_name():
    a = answers(**{"EstimatedTPMQuotaUsage/default": {M - 60: 96_000}, "InvocationThrottles/default": {M - 60: 5},
                   "Invocations/priority": {M - 60: 4}, "EstimatedTPMQuotaUsage/priority": {M - 60: 1}})
    i = route_incident(a)
    assert i.diagnosis.startswith(f"Throttled by the cross-region TPM quota of Model M (us-east-1), 96% used at "
                                  f"{inc._clock(M - 60)} UTC: Standard drew it"), i.diagnosis
    assert i.diagnosis.endswith("; Priority was unaffected.")
    assert i.quota_name == TPM_NAME and i.route == "cross-region"
    rows = list(csv.DictReader(io.StringIO(inc.to_csv([i]))))
    assert {r["quota_name"] for r in rows} == {TPM_NAME} and {r["route"] for r in rows} == {"cross-region"}
    assert f"**Quota:** {TPM_NAME}" in inc.to_markdown([i])
    assert '"quota_name": "Cross-region model inference tokens per minute for Model M"' in inc.to_json([i])


def test_an_rpm_throttle_names_the_rpm_quota():
    a = answers(**{"EstimatedTPMQuotaUsage/default": {M - 60: 10_000}, "InvocationThrottles/default": {M - 60: 5},
                   "Invocations/default": {M - 60: 97}})
    i = route_incident(a)
    assert i.diagnosis.startswith("Standard throttled by the cross-region RPM quota of Model M (us-east-1), 97% used at ")
    assert "RPM quota hit (97/100 requests per minute)" in i.diagnosis


# ------------------------------------------------------------------ no data is not zero; where figures come from

def quiet_start() -> inc.Incident:
    """Data from the last two minutes only (the metrics began then: a sandbox or recording just started)."""
    a = answers(**{"EstimatedTPMQuotaUsage/default": {M - 60: 40_000, M: 97_000},
                   "Invocations/default": {M - 60: 10, M: 30}, "InvocationThrottles/default": {M: 4}})
    return inc.build(a, "m", "Model M", {"priority", "default", "flex"}, 100_000, 100, M - 240, M)


def test_minutes_without_a_data_point_are_no_data_not_zero():
    incident = quiet_start()
    assert [r.has_data for r in incident.minutes] == [False, False, False, True, True]
    md_rows = [line for line in inc.to_markdown([incident]).splitlines() if line.startswith("| ") and ":" in line[:8]]
    assert len(md_rows) == 5
    for line in md_rows[:3]:
        cells = [c.strip() for c in line.strip("|").split("|")][1:]
        assert cells and all(c == "—" for c in cells), line
    assert "97,000" in md_rows[4] and "0/4/0" in md_rows[4]
    rows = list(csv.DictReader(io.StringIO(inc.to_csv([incident]))))
    assert [r["tpm"] for r in rows] == ["", "", "", "40000", "97000"]
    assert rows[0]["throttles"] == "" and rows[0]["has_data"] == "false" and rows[4]["has_data"] == "true"
    timeline = __import__("json").loads(inc.to_json([incident]))["incidents"][0]["timeline"]
    assert timeline[0]["tpm"] is None and timeline[0]["throttles"] is None and timeline[0]["has_data"] is False
    assert timeline[4]["tpm"] == 97_000
    assert "no data" in inc.to_markdown([incident])  # the dash is explained


def test_the_markdown_names_profile_account_region_endpoint_and_source_never_credentials():
    incident = quiet_start()
    incident.context = inc.ReportContext(profile="prod-ops", account_id="123456789012", region="eu-west-1",
                                         endpoint="https://AKIDEXAMPLE:s3cret@vpce-1.example.com:8443/",
                                         sandbox=False, source="CloudWatch GetMetricData (AWS/Bedrock)")
    md = inc.to_markdown([incident])
    head = md.split("## ")[0]
    for expected in ("prod-ops", "123456789012", "eu-west-1", "https://vpce-1.example.com:8443",
                     "CloudWatch GetMetricData (AWS/Bedrock)"):
        assert expected in head, head
    assert "AKIDEXAMPLE" not in md and "s3cret" not in md
    incident.context = inc.ReportContext(profile="p", account_id=None, region="us-east-1", endpoint=None,
                                         sandbox=False, source="CloudWatch")
    head = inc.to_markdown([incident]).split("## ")[0]
    assert "AWS" in head and "unknown" in head  # the SDK's endpoint; the account not read
    assert __import__("json").loads(inc.to_json([incident]))["context"]["profile"] == "p"


def test_a_profile_route_splits_by_tier_when_its_tiers_were_asked_and_keeps_no_data_apart():
    a = Answers()
    a.series[("EstimatedTPMQuotaUsage", "us.m", None)] = {M - 60: 96_000}
    a.series[("EstimatedTPMQuotaUsage", "us.m", "default")] = {M - 60: 90_000}
    a.series[("EstimatedTPMQuotaUsage", "us.m", "priority")] = {M - 60: 6_000}
    a.series[("InvocationThrottles", "us.m", "default")] = {M - 60: 5}
    a.series[("InvocationThrottles", "us.m", None)] = {M - 60: 5}
    rows = inc.timeline(a, "m", (), 100_000, 100, M - 120, M, route="cross-region", quota_name=TPM_NAME,
                        series=["us.m"])
    assert [r.has_data for r in rows] == [False, True, False]
    assert rows[0].route == "cross-region" and rows[0].quota_name == TPM_NAME  # a no-data minute keeps its route
    assert rows[1].tpm_by_tier["default"] == 90_000 and rows[1].tpm_by_tier["priority"] == 6_000
    assert rows[1].throttles_by_tier["default"] == 5 and rows[1].tpm == 96_000
    i = inc.from_minutes("m", "Model M", rows, M - 120, M, route="cross-region")
    assert "Standard drew it; Priority was unaffected." in i.diagnosis, i.diagnosis


def test_a_throttle_through_a_profile_whose_input_did_not_fit_is_not_blamed_on_max_tokens():
    # 83% of the cross-region TPM quota used: 17k tokens left, and a request's input there averaged 25k tokens, so
    # no maxTokens would have let it in: the quota (real use), not holds, throttled it
    us = "us.m"
    a = Answers()
    a.series.update({("EstimatedTPMQuotaUsage", us, None): {M: 83_000}, ("Invocations", us, None): {M: 3},
                     ("InputTokenCount", us, None): {M: 75_000}, ("InvocationThrottles", us, None): {M: 2}})
    i = inc.build(a, "m", "Model M", (), 100_000, 100, M - 120, M, route="cross-region", series=(us,),
                  quota_name="Cross-region model inference tokens per minute for Model M", region="us-east-1")
    assert "maxTokens holds" not in i.diagnosis, i.diagnosis
    assert i.diagnosis.startswith(f"Throttled by the cross-region TPM quota of Model M (us-east-1), 83% used at "
                                  f"{inc._clock(M)} UTC: the 17,000 tokens left were fewer than a request's input "
                                  "(25,000 on average)"), i.diagnosis
    # the same minute with small inputs: the holds (input + maxTokens) are what did not fit
    a.series[("InputTokenCount", us, None)] = {M: 3_000}
    small = inc.build(a, "m", "Model M", (), 100_000, 100, M - 120, M, route="cross-region", series=(us,))
    assert "maxTokens holds, not real usage, exhausted the quota" in small.diagnosis, small.diagnosis
    # input not asked (an old recording): the rule cannot be judged on input, and says so rather than guess
    del a.series[("InputTokenCount", us, None)]
    unknown = inc.build(a, "m", "Model M", (), 100_000, 100, M - 120, M, route="cross-region", series=(us,))
    assert "maxTokens holds" in unknown.diagnosis and "input per request not known" in unknown.diagnosis
