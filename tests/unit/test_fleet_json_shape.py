"""``fleet --json`` names a row's binding quota as ``status --json`` does (newcomer-5 F12): the same key
(``binding``) and the same field names for the same things — ``value`` the limit (status's quota entries), ``used``,
``fraction``, ``name``, ``code``, ``kind``, ``measure``, ``period``, ``text``, ``source``."""
from __future__ import annotations

from tierconsole.core.domain import fleetrows as fr
from tierconsole.core.domain.sample import sample_dashboard
from tierconsole.core.ops.fleet import row_document
from tierconsole.core.ops.status import status_document
from tests.unit.test_quota_use_rule import LISTED, NOVA, NOW, QUOTA, pinned


def test_a_fleet_row_s_binding_has_status_s_field_names():
    data = sample_dashboard()
    status = status_document(data, None, [], {}, data.time)
    status_binding = next(q["binding"] for q in status["quotas"] if q["binding"])
    (row,) = fr.build_rows("200000000008", "eu-retail", "eu-west-1", [NOVA], pinned(), NOW, listed=LISTED,
                           quota_note=None)
    doc = row_document(row)
    assert "binding_quota" not in doc
    b = doc["binding"]
    assert set(status_binding) <= set(b), set(status_binding) - set(b)
    assert "limit" not in b and b["value"] == QUOTA and b["measure"] == "tokens" and b["period"] == 60
    assert b["used"] == round(row.binding.used, 2) and b["fraction"] == round(row.binding.fraction, 4)
    assert b["text"] == "on-demand TPM quota of Amazon Nova Lite (eu-west-1), 60% used", b["text"]
    assert b["source"] == "AWS CloudWatch"
