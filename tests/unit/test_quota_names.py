"""Service Quotas names a model with its provider first ("Amazon Nova Lite"), ListFoundationModels briefly
("Nova Lite", at most 20 characters): the collector matches the two (tests/functional/test_live_pilot.py
shows the quotas reach the pane against the sandbox)."""
from __future__ import annotations

import pytest

from tierconsole.core.aws.collectors import _name_key, _quota_model

MODELS = {"amazon.nova-lite-v1:0": "Nova Lite", "openai.gpt-oss-20b-1:0": "gpt-oss-20b",
          "anthropic.claude-sonnet-4-5-20250929-v1:0": "Claude Sonnet 4.5", "amazon.nova-pro-v1:0": "Nova Pro"}
BY_NAME = {_name_key(name): model_id for model_id, name in MODELS.items()}


@pytest.mark.parametrize(("quota_model", "model_id"), [
    ("Amazon Nova Lite", "amazon.nova-lite-v1:0"), ("Nova Lite", "amazon.nova-lite-v1:0"),
    ("OpenAI GPT OSS 20B", "openai.gpt-oss-20b-1:0"),
    ("Anthropic Claude Sonnet 4.5", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("Amazon Nova Pro", "amazon.nova-pro-v1:0"),
    ("Amazon Nova Lite V2", None), ("Meta Llama 3 70B", None), ("Lite", None),
])
def test_a_quota_names_its_model_with_or_without_the_provider(quota_model, model_id):
    assert _quota_model(quota_model, BY_NAME) == model_id
