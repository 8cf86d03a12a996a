"""Every audit line carries the profile and the account as resolved (newcomer-5 F11): a prompt refused under
--read-only and a prompt that failed name the account like batch refusals do; where the account truly cannot be
known, the line says why (``account_unknown``) instead of a bare null."""
from __future__ import annotations

import json

from tests.conftest import NOVA
from tests.e2e.test_headless import cli, env  # noqa: F401 - fixtures


def audit_lines(tmp_path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "state" / "tierconsole" / "audit.jsonl").read_text().splitlines()]


def test_a_read_only_refused_prompt_is_audited_with_its_account(cli, sandbox, tmp_path):  # noqa: F811
    out = cli("--read-only", "prompt", "hi", "--model", NOVA)
    assert out.returncode == 1 and "--read-only was given" in out.stderr, out.stderr
    [entry] = audit_lines(tmp_path)
    assert (entry["action"], entry["outcome"]) == ("prompt", "refused: read-only")
    assert entry["profile"] == "sandbox" and entry["account"] == sandbox.sandbox.config.account_id
    assert "account_unknown" not in entry


def test_a_prompt_whose_account_cannot_be_read_says_why(cli, tmp_path):  # noqa: F811
    out = cli("prompt", "hi", "--model", NOVA, "--region", "us-fake-9")
    assert out.returncode == 1, out.stderr
    [entry] = audit_lines(tmp_path)
    assert entry["action"] == "prompt" and entry["profile"] == "sandbox"
    assert entry["account"] is None and "GetCallerIdentity" in entry["account_unknown"], entry
