"""``status`` says what the quota pane says (newcomer-3 F-m): a TPM figure that blends the previous minute in is an
estimate (``~117%``), ``✖`` marks only a measured minute at the quota, and ``--json`` and ``--fail-over``'s list
say which figures are estimates. Built through the real status document (``quota_entry``) from the pane's view."""
from __future__ import annotations

import dataclasses

from tierconsole.core.domain.alerts import tpm_mark, uses_over
from tierconsole.core.domain.sample import NOVA_LITE
from tierconsole.core.domain.views import DashboardData, ModelQuotaView
from tierconsole.core.ops.status import status_document
from tierconsole.present.status import format_status

ESTIMATE = ModelQuotaView(NOVA_LITE, "Amazon Nova Lite", 100_000, 100, {"default": 117_000}, rpm_used=10,
                          tpm_peak_minute=95_000, tpm_estimated=True)


def status_of(row: ModelQuotaView) -> dict:
    return status_document(DashboardData(time=1_000.0, profile="p", region="us-east-1", quotas=[row]),
                           None, [], {}, 1_000.0)


def row_line(row: ModelQuotaView, threshold: float = 0.8) -> str:
    text = format_status(status_of(row), threshold)
    return next(line for line in text.splitlines() if NOVA_LITE in line)


def test_an_estimated_tpm_reads_approximate_in_status_text_as_in_the_pane():
    line = row_line(ESTIMATE)
    assert "~117%" in line and "✖" not in line, line
    assert "▲" in line  # still over the alert threshold


def test_a_measured_minute_at_the_quota_is_crossed_in_status_text():
    line = row_line(dataclasses.replace(ESTIMATE, tpm_peak_minute=104_000))
    assert "✖117%" in line and "~" not in line, line


def test_an_estimate_under_the_quota_is_approximate_and_a_plain_measure_is_not():
    assert "~85%" in row_line(dataclasses.replace(ESTIMATE, tpm_by_tier={"default": 85_000}))
    exact = row_line(dataclasses.replace(ESTIMATE, tpm_by_tier={"default": 85_000}, tpm_estimated=False,
                                         tpm_peak_minute=85_000))
    assert " 85%" in exact and "~" not in exact and "✖" not in exact, exact


def test_status_text_explains_the_marks_it_uses():
    text = format_status(status_of(ESTIMATE), 0.8)
    assert "~ estimate" in text, text


def test_json_says_which_figures_are_estimates_and_which_minute_was_measured_over():
    q = status_of(ESTIMATE)["quotas"][0]
    assert q["tpm_estimated"] is True and q["tpm_measured_over"] is False
    q = status_of(dataclasses.replace(ESTIMATE, tpm_peak_minute=104_000))["quotas"][0]
    assert q["tpm_measured_over"] is True


def test_fail_over_names_an_estimate_as_one():
    over = uses_over(status_of(ESTIMATE)["quotas"], [], 0.8)
    assert [o.estimated for o in over] == [True]
    assert over[0].describe() == f"{NOVA_LITE} TPM ~117.0% of quota (estimate)"
    assert over[0].as_json()["estimated"] is True
    exact = dataclasses.replace(ESTIMATE, tpm_estimated=False, tpm_peak_minute=117_000)
    assert uses_over(status_of(exact)["quotas"], [], 0.8)[0].describe() == f"{NOVA_LITE} TPM 117.0% of quota"


def test_one_definition_of_the_tpm_mark():
    assert tpm_mark(1.17, estimated=True, measured_over=False, warn=0.8) == ("warn", "~", "117%")
    assert tpm_mark(0.85, estimated=True, measured_over=False, warn=0.8) == ("warn", "▲", "~85%")
    assert tpm_mark(1.17, estimated=True, measured_over=True, warn=0.8) == ("crit", "✖", "117%")
    assert tpm_mark(0.5, estimated=False, measured_over=False, warn=0.8) == ("ok", " ", "50%")
    assert tpm_mark(None, estimated=True, measured_over=False, warn=0.8) == ("ok", " ", "—")
