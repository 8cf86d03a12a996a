"""Incident triage: ``tierconsole incident export`` end to end against a sandbox (the diagnosis rules:
unit/test_incident.py)."""
from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import NOVA, clear_of_minute_end
from tests.e2e.test_status import burst


@pytest.fixture
def spiked(make_sandbox):
    sb = make_sandbox(speed=1.0)
    clear_of_minute_end()  # a burst across a minute boundary is diagnosed too: see the test above
    results = asyncio.run(burst(sb.endpoint))
    assert "ThrottlingException" in results
    asyncio.run(asyncio.sleep(1.5))
    return sb, results.count("ThrottlingException")


def test_export_formats_parse_and_agree(spiked, tmp_path):
    sb, throttled = spiked
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "c"), XDG_STATE_HOME=str(tmp_path / "s"))
    docs = {}
    for fmt in ("md", "csv", "json"):
        out_file = tmp_path / f"incident.{fmt}"
        out = subprocess.run([sys.executable, "-m", "tierconsole.cli", "incident", "export", "--since", "5m",
                              "--model", NOVA, "--format", fmt, "-o", str(out_file), "--endpoint-url", sb.endpoint],
                             capture_output=True, text=True, timeout=90, env=env, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        docs[fmt] = out_file.read_text()
    data = json.loads(docs["json"])["incidents"][0]
    assert data["model_id"] == NOVA
    assert "drew" in data["diagnosis"] and "Amazon Nova Lite" in data["diagnosis"] and "Standard" in data["diagnosis"]
    assert sum(m["throttles"] or 0 for m in data["timeline"]) == throttled  # null: a minute with no data
    rows = list(csv.DictReader(io.StringIO(docs["csv"])))
    assert sum(int(r["throttles_standard"] or 0) for r in rows) == throttled  # blank: no data
    assert {r["diagnosis"] for r in rows} == {data["diagnosis"]}
    assert f"**Diagnosis:** {data['diagnosis']}" in docs["md"]
    assert docs["md"].count("\n| ") == len(data["timeline"]) + 1  # header + one row per minute


@pytest.mark.parametrize("args, needle", [
    (("--since", "soon"), "not a duration"),
    (("--since", "30d"), "at most 15d"),
    (("--format", "pdf"), "invalid choice"),
])
def test_export_bad_arguments(args, needle, tmp_path):
    out = subprocess.run([sys.executable, "-m", "tierconsole.cli", "incident", "export", *args],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 2 and needle in out.stderr


def test_export_says_no_data_before_the_sandbox_existed_and_names_where_it_looked(make_sandbox, tmp_path):
    """A sandbox started a moment ago has no metrics for the ten minutes before: those minutes are "—" (no data),
    never 0; the report names the profile, account, region, endpoint and data source, and no credentials."""
    from tests.conftest import boto3_client

    sb = make_sandbox(speed=1.0)
    account = boto3_client("sts", sb.endpoint).get_caller_identity()["Account"]
    asyncio.run(asyncio.sleep(1.5))
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "c"), XDG_STATE_HOME=str(tmp_path / "s"),
               AWS_ACCESS_KEY_ID="AKIDNEVERPRINTED", AWS_SECRET_ACCESS_KEY="secret-never-printed")
    docs = {}
    for fmt in ("md", "json"):
        out = subprocess.run([sys.executable, "-m", "tierconsole.cli", "incident", "export", "--since", "10m",
                              "--model", NOVA, "--format", fmt, "--endpoint-url", sb.endpoint],
                             capture_output=True, text=True, timeout=90, env=env, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        assert "NEVERPRINTED" not in out.stdout + out.stderr and "secret-never" not in out.stdout + out.stderr
        docs[fmt] = out.stdout
    timeline = json.loads(docs["json"])["incidents"][0]["timeline"]
    before = [m for m in timeline if not m["has_data"]]
    assert len(before) >= 8 and all(m["tpm"] is None and m["throttles"] is None for m in before)
    md = docs["md"]
    head = md.split("## ")[0]
    for expected in ("sandbox", account, "us-east-1", sb.endpoint, "CloudWatch"):
        assert expected in head, head
    rows = [line for line in md.splitlines() if line.startswith("| ") and line[2:4].isdigit()]
    quiet = [line for line in rows if set(c.strip() for c in line.strip("|").split("|")[1:]) == {"—"}]
    assert len(quiet) == len(before), md
