"""Region-scoped answers name their region (newcomer-5 F9): a job not found names the region looked in and says
jobs are per region (``--region``); ``prompt`` says which region served it, in text and in ``--json``."""
from __future__ import annotations

import json

from tests.conftest import NOVA
from tests.e2e.test_headless import cli, env  # noqa: F401 - fixtures


def test_a_job_not_found_names_the_region_it_looked_in(cli):  # noqa: F811
    for extra, region in (((), "us-east-1"), (("--region", "us-west-2"), "us-west-2")):
        out = cli("batch", "show", "w2job", *extra)
        assert out.returncode == 1, out.stderr
        assert f"no batch job named or with id 'w2job' in {region}" in out.stderr, out.stderr
        assert "jobs are per region" in out.stderr and "--region" in out.stderr


def test_prompt_says_which_region_served_it(cli):  # noqa: F811
    out = cli("prompt", "hi", "--model", NOVA, "--max-tokens", "8", "--region", "us-west-2", "--json")
    assert out.returncode == 0, out.stderr
    [row] = [json.loads(line) for line in out.stdout.splitlines()]
    assert row["region"] == "us-west-2"
    text = cli("prompt", "hi", "--model", NOVA, "--max-tokens", "8", "--region", "us-west-2")
    assert text.returncode == 0, text.stderr
    assert "region us-west-2" in text.stderr, text.stderr
