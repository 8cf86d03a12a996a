"""`tierconsole fleet` and `status --fleet` as a process (issue 15). Against the multi-account sandbox once it
lands (fleet-sbx); until then against today's single-account sandbox, which serves no OAM: every region's
discovery fails, and the command says so, region by region, with exit 1 — never a traceback, never a figure."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.e2e.test_headless import env  # noqa: F401 - the fixture

CLI = [sys.executable, "-m", "tierconsole.cli"]


def run(cwd, env, *args):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


def test_a_profile_without_a_fleet_section_is_a_usage_error_naming_it(tmp_path, env):  # noqa: F811
    for argv in (["fleet"], ["status", "--fleet", "--fail-over", "0.5"]):
        r = run(tmp_path, env, *argv)
        assert r.returncode == 2, r.stderr
        assert "profile 'sandbox' has no fleet: section" in r.stderr and "Traceback" not in r.stderr
        assert r.stdout == ""


def test_a_monitoring_endpoint_without_oam_marks_every_region_stale_and_exits_1(tmp_path, env, sandbox):  # noqa: F811
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "fx.yaml").write_text(
        f"name: fx\nendpoint_url: {sandbox.endpoint}\nsandbox: {{}}\nregions: [us-east-1, us-west-2]\n"
        "fleet:\n  access:\n    - match: '*'\n      role_arn: 'arn:aws:iam::{account}:role/Read'\n")
    r = run(tmp_path, env, "--profile", "fx", "status", "--fleet", "--json", "--fail-over", "0.5")
    assert r.returncode == 1, (r.stdout, r.stderr)
    doc = json.loads(r.stdout)
    assert doc["rows"] == [] and set(doc["region_stale"]) == {"us-east-1", "us-west-2"}
    assert all(why.startswith("discovery: ") for why in doc["region_stale"].values())
    assert "could not read region us-east-1: discovery:" in r.stderr and "Traceback" not in r.stderr
    r = run(tmp_path, env, "--profile", "fx", "fleet", "--region", "us-west-2")
    assert r.returncode == 1 and "region us-west-2 STALE: discovery:" in r.stdout
    assert "us-east-1" not in r.stdout.split("\n", 1)[0]  # --region: only that region of the fleet
