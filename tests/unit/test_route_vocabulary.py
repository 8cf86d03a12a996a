"""One spelling of the route vocabulary in every JSON document (newcomer-3 F-m: ``status --json`` said
``"on-demand"`` in ``quotas[].route`` and ``"on_demand"`` in ``application_profiles[].route``): ``on-demand``,
``cross-region``, ``global`` (or null: not known) wherever a ``route`` is written."""
from __future__ import annotations

import json
from typing import Any, Iterator

from tests.unit.test_app_profiles import LISTING
from tests.unit.test_fleet_ops import snapshot

from tierconsole.core.domain.app_profiles import application_profiles
from tierconsole.core.domain.quota_use import ROUTE_LABEL
from tierconsole.core.domain.sample import sample_dashboard
from tierconsole.core.ops.fleet import fleet_document
from tierconsole.core.ops.status import app_profile_entry, status_document

VOCABULARY = {"on-demand", "cross-region", "global"}


def routes_in(doc: Any) -> Iterator[Any]:
    """Every value of a ``route`` key, however deep."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key == "route":
                yield value
            yield from routes_in(value)
    elif isinstance(doc, list):
        for value in doc:
            yield from routes_in(value)


def test_the_vocabulary_is_the_labels():
    assert set(ROUTE_LABEL.values()) == VOCABULARY


def test_status_json_spells_every_route_one_way():
    data = sample_dashboard()
    doc = status_document(data, None, [], {}, data.time)
    doc["application_profiles"] = [app_profile_entry(a) for a in application_profiles(LISTING, "us-east-1")]
    doc = json.loads(json.dumps(doc))
    routes = list(routes_in(doc))
    assert {"on-demand", "cross-region"} <= set(routes)
    assert {p["name"]: p["route"] for p in doc["application_profiles"]} == {
        "direct": "on-demand", "cross": "cross-region", "glob": "global", "odd": None}
    assert set(routes) <= VOCABULARY | {None}, routes


def test_fleet_json_spells_every_route_one_way():
    doc = json.loads(json.dumps(fleet_document(snapshot())))
    routes = list(routes_in(doc))
    assert "on-demand" in routes and set(routes) <= VOCABULARY | {None}, routes
