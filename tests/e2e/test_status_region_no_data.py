"""newcomer-2 #14: `status --region` of a region CloudWatch holds no data for says so, and shows no zeros (no data
is —, never 0). Real CLI process against a sandbox on loopback."""
from __future__ import annotations

import json

from tests.e2e.test_headless import cli, env  # noqa: F401 - fixtures


def test_a_region_without_data_says_so_and_shows_no_zeros(cli):  # noqa: F811
    out = cli("status", "--region", "eu-west-1")
    said = out.stdout + out.stderr
    assert "no data" in said and "eu-west-1" in said, said
    rows = [line for line in out.stdout.splitlines() if "/" in line and "%" in line]
    assert not rows, rows  # no "0/120,000 0%" rows: not measured
    doc = json.loads(cli("status", "--region", "eu-west-1", "--json").stdout)
    assert doc["no_data"] is True
    assert all(q["tpm_used"] is None for q in doc["quotas"]), doc["quotas"]
