"""``status`` never reads all-clear over what it could not read (newcomer-5 F4): when the quota pane is stale (its
metrics could not be read: an unserved region, denied credentials), the headline says so instead of "0 quotas over
80%", and an empty reservation section says there are none rather than printing a bare heading. Built through the
real status document from a dashboard whose quota pane failed."""
from __future__ import annotations

from tierconsole.core.domain.sample import NOVA_LITE
from tierconsole.core.domain.views import DashboardData, ModelQuotaView, PaneStatus
from tierconsole.core.ops.status import status_document
from tierconsole.present.status import format_status

ROW = ModelQuotaView(NOVA_LITE, "Amazon Nova Lite", 100_000, 100, {"default": 1_000}, rpm_used=1)
WHY = "UnrecognizedClientException (GetMetricData): The sandbox does not serve region 'us-fake-9'"


def text_of(status: dict[str, PaneStatus], quotas=(ROW,)) -> str:
    data = DashboardData(time=1_000.0, profile="p", region="us-fake-9", quotas=list(quotas), status=status)
    return format_status(status_document(data, None, [], {}, 1_000.0), 0.8)


def test_a_quota_pane_not_read_is_not_reported_as_nothing_over():
    text = text_of({"quota": PaneStatus(ok=False, reason=WHY)})
    headline = text.splitlines()[1]
    assert "0 quotas over" not in headline and "not read" in headline and "UnrecognizedClientException" in headline, \
        headline


def test_a_read_quota_pane_keeps_its_count():
    headline = text_of({}).splitlines()[1]
    assert "0 quotas over 80%" in headline, headline


def test_no_reservation_is_said_not_left_as_a_bare_heading():
    lines = text_of({}).splitlines()
    at = lines.index("RESERVED TPM")
    assert "none" in lines[at + 1], lines[at:at + 2]


def test_reservations_not_read_are_not_said_to_be_none():
    lines = text_of({"quota": PaneStatus(ok=False, reason=WHY), "reservations": PaneStatus(ok=False, reason=WHY)}) \
        .splitlines()
    at = lines.index("RESERVED TPM")
    assert "not read" in lines[at + 1] and "none" not in lines[at + 1], lines[at:at + 2]
