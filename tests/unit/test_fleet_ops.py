"""The fleet's use cases shared by `tierconsole fleet`, `status --fleet` and the TUI: the JSON document, the
verdict for cron (3 naming what is over, 1 naming what could not be read), the text, and the drill-in profile."""
from __future__ import annotations

import asyncio
import json

from tests.unit.test_fleet_collector import FLEET, NOVA, collector, world

from tierconsole.core.domain.profile import parse_profile
from tierconsole.core.ops.fleet import drill_profile, fleet_document, verdict
from tierconsole.present.fleet import format_fleet, over_lines


def snapshot(w=None):
    return asyncio.run(collector(w or world()).refresh(wait_quotas=True))


def test_the_json_document_has_accounts_rows_worst_first_and_calls():
    doc = json.loads(json.dumps(fleet_document(snapshot())))
    assert doc["monitoring_account"] == "100000000000" and doc["regions"] == ["us-east-1", "us-west-2"]
    assert doc["calls"]["GetMetricData"] == 2 and doc["source"] == "AWS"
    assert [r["account_id"] for r in doc["rows"][:2]] == ["200000000002", "200000000001"]
    top = doc["rows"][1]
    assert top["binding"]["code"] == "L-1" and top["use"] == 0.9 and top["binding"]["label"] == "on-demand TPM"
    assert doc["rows"][0]["throttles_per_min_by_tier"] == {"priority": 3.0, "default": 0.0}  # the split adds up to the total
    assert {a["account_id"]: a["name_source"] for a in doc["accounts"]}["200000000001"] == "link label"
    assert doc["pulse"]["over_accounts"] == ["200000000001"]


def test_verdict_3_names_the_rows_over_the_line_and_never_depends_on_use_without_it():
    s = snapshot()
    v = verdict(s, 0.5)
    assert v.code == 3 and [(r.account_id, r.region) for r in v.over] == [("200000000001", "us-east-1")]
    assert over_lines(v.over, 0.5) == [f"payments-prod (200000000001): us-east-1 {NOVA} on-demand TPM 90%"]
    assert verdict(s, None).code == 0 and verdict(s, 0.95).code == 0


def test_verdict_1_names_an_account_or_region_that_could_not_be_read():
    w = world()
    w.forbidden.add(("200000000003", "us-east-1"))
    w.down.add("us-west-2")
    v = verdict(snapshot(w), 0.95)
    assert v.code == 1
    assert [who for who, _ in v.unknown] == ["region us-west-2", "200000000003 (200000000003) us-east-1"]


def test_the_text_marks_what_is_over_or_throttling_and_says_the_calls():
    text = format_fleet(snapshot())
    lines = text.splitlines()
    assert lines[0].startswith("fleet  profile prod-fleet  monitoring account ")  # F3: never "fleet fleet"
    assert "1 account over 80% · 1 throttling" in lines[1] and "GetMetricData 2" in lines[1]
    marked = [ln for ln in lines if ln.startswith("▲ ")]
    assert len(marked) == 2 and "200000000002" in marked[0] and "3 (P 3)" in marked[0]
    assert "payments-p… 200000000001" in marked[1] and "90%" in marked[1]  # a long name is cut, never the id


def test_a_drill_in_runs_as_the_account_in_that_region_read_only_where_the_rule_says():
    doc = {**FLEET, "fleet": {**FLEET["fleet"], "reservations": {
        "200000000001": [{"id": "r1", "model": NOVA, "input_tpm": 100000, "output_tpm": 10000}]}}}
    doc["fleet"]["access"] = [*FLEET["fleet"]["access"][:1],
                              {"match": "2000000000*", "role_arn": "arn:aws:iam::{account}:role/Read", "read_only": True}]
    mon = parse_profile(doc, default_name="prod-fleet")
    row = next(r for r in snapshot().rows if r.account_id == "200000000001" and r.region == "us-east-1")
    rule = mon.fleet.access_for(row.account_id, row.account_name)
    p = drill_profile(mon, rule, row)
    assert p.name == "prod-fleet/payments-prod@us-east-1" and p.regions == ("us-east-1",)
    assert p.read_only and p.fleet is None and [r.reservation_id for r in p.reservations] == ["r1"]


def test_verdict_1_names_an_account_whose_quota_use_is_unknown():
    w = world()
    w.denied.add("200000000003")
    v = verdict(snapshot(w), 0.95)
    assert v.code == 1
    assert [who for who, _ in v.unknown] == ["200000000003 (200000000003) us-east-1 quota use"]
    assert "access denied" in v.unknown[0][1]


def test_the_console_runs_the_scenario_its_sandbox_section_names():
    """The shipped fleet profile's sandbox runs no scenario in its monitoring account (it has no reservation for
    steady's reserved tenant: the console failed to start on `tierconsole --profile fleet`); the built-in sandbox
    profile keeps its steady traffic; an explicit scenario (a command's quiet "none") wins."""
    from tierconsole.core.config.profiles import load_profile
    from tierconsole.core.source import LiveSource

    assert LiveSource(load_profile("fleet")).scenario == "none"
    assert LiveSource(load_profile("sandbox")).scenario == "steady"
    assert LiveSource(load_profile("fleet"), scenario="spike").scenario == "spike"


def test_nothing_measured_across_the_fleet_is_not_all_clear():
    """F6 (newcomer-4): 0 rows (linked accounts, no Bedrock traffic yet) exited 0 as "all clear" for cron."""
    from dataclasses import replace

    from tierconsole.core.domain.fleetrows import AccountInfo, FleetSnapshot

    quiet = (AccountInfo("200000000001", "payments-prod", "link label", ("us-east-1",), traffic=False),)
    empty = FleetSnapshot(time=0.0, profile="fx", monitoring_account="100000000000", regions=("us-east-1",),
                          threshold=0.8, rows=(), accounts=quiet)
    for fail_over in (0.8, None):
        v = verdict(empty, fail_over)
        assert v.code == 1 and v.nothing == ("nothing was measured across the fleet: no Bedrock traffic in the last "
                                             "3 hours in any of its 1 linked account (us-east-1)")
    unlinked = verdict(replace(empty, accounts=()), 0.8)
    assert unlinked.code == 1 and "no source account is linked to the monitoring account" in unlinked.nothing
    assert verdict(snapshot(), 0.99).nothing == ""  # rows were measured: judged as before


def test_the_fail_over_lines_mark_an_estimate_as_the_table_does():
    """``status --fleet --fail-over``'s stderr line shows the use as the fleet table and the dashboard do: a blended
    estimate with its ``~`` (newcomer-5 F3 note: it printed a bare ``90%``)."""
    import dataclasses

    v = verdict(snapshot(), 0.5)
    estimated = [dataclasses.replace(r, tpm_estimated=True) for r in v.over]
    line = over_lines(estimated, 0.5)[0]
    assert line.endswith("on-demand TPM ~90%"), line
    assert over_lines(v.over, 0.5)[0].endswith("on-demand TPM 90%")  # a measured figure stays plain


def test_a_row_over_the_line_by_its_measured_minute_says_so():
    """Over by :func:`tpm_judged` (a measured minute at 95%) while the blend shown reads 50%: the line says why."""
    import dataclasses

    v = verdict(snapshot(), 0.5)
    r = v.over[0]
    quota = r.binding.limit
    row = dataclasses.replace(r, tpm_estimated=True, binding=dataclasses.replace(r.binding, fraction=0.5),
                              tpm_used=0.5 * quota, tpm_quota=quota, tpm_peak_minute=0.95 * quota)
    assert over_lines([row], 0.8)[0].endswith("on-demand TPM ~50% (measured minute 95%)"), over_lines([row], 0.8)
