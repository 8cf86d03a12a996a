"""One prompt flow (guard → account → send → audit → history) for the CLI and the prompt lab: what the
CLI writes is what the lab writes, so the lab recalls a CLI prompt with all its settings."""
from __future__ import annotations

import json

from tests.conftest import NOVA
from tests.e2e.test_headless import cli, env  # noqa: F401 - fixtures

#: The fields the prompt lab writes to the history (and recalls from it).
LAB_HISTORY_FIELDS = {"time", "profile", "model", "tier", "system", "text", "max_tokens", "temperature", "stream"}


def test_cli_history_keeps_temperature_and_stream_as_the_prompt_lab_does(cli, tmp_path):  # noqa: F811
    out = cli("prompt", "hello there", "--model", NOVA, "--tier", "flex", "--temperature", "0.3", "--stream",
              "--max-tokens", "20", "--system", "be brief", "--json")
    assert out.returncode == 0, out.stderr
    history = tmp_path / "data" / "tierconsole" / "history.jsonl"
    entry = json.loads(history.read_text().splitlines()[-1])
    assert set(entry) == LAB_HISTORY_FIELDS
    assert entry["temperature"] == 0.3 and entry["stream"] is True
    assert (entry["tier"], entry["max_tokens"], entry["system"], entry["text"]) == ("flex", 20, "be brief", "hello there")


def test_cli_prompt_audit_names_the_tier_asked_and_the_front_end(cli, tmp_path):  # noqa: F811
    assert cli("prompt", "hi", "--model", NOVA, "--tier", "escalate", "--json").returncode == 0
    audit = tmp_path / "state" / "tierconsole" / "audit.jsonl"
    entry = json.loads(audit.read_text().splitlines()[-1])
    assert entry["action"] == "prompt" and entry["outcome"] == "ok"
    assert entry["detail"]["tier"] == "escalate" and entry["detail"]["via"] == "cli"
    assert entry["detail"]["tiers"] == ["default"]
