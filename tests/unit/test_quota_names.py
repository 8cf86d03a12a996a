"""Service Quotas names a model with its provider first ("Amazon Nova Lite"), ListFoundationModels briefly
("Nova Lite", at most 20 characters): the collector matches the two through the quota model's own matcher
(:func:`~tierconsole.core.domain.quotas.match_model` over :func:`~tierconsole.core.domain.quota_use.model_candidates`;
tests/functional/test_live_pilot.py shows the quotas reach the pane against the sandbox)."""
from __future__ import annotations

import pytest

from tierconsole.core.domain.quota_use import model_candidates
from tierconsole.core.domain.quotas import match_model

MODELS = {"amazon.nova-lite-v1:0": "Nova Lite", "openai.gpt-oss-20b-1:0": "gpt-oss-20b",
          "anthropic.claude-sonnet-4-5-20250929-v1:0": "Claude Sonnet 4.5", "amazon.nova-pro-v1:0": "Nova Pro"}
# ListFoundationModels summaries without providerName: the provider word must be dropped from the quota's name
CANDIDATES = model_candidates([{"modelId": k, "modelName": v} for k, v in MODELS.items()])


@pytest.mark.parametrize(("quota_model", "model_id"), [
    ("Amazon Nova Lite", "amazon.nova-lite-v1:0"), ("Nova Lite", "amazon.nova-lite-v1:0"),
    ("OpenAI GPT OSS 20B", "openai.gpt-oss-20b-1:0"),
    ("Anthropic Claude Sonnet 4.5", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("Amazon Nova Pro", "amazon.nova-pro-v1:0"),
    ("Mistral AI Nova Pro", "amazon.nova-pro-v1:0"),  # a provider of two words
    ("Amazon Nova Lite V2", None), ("Meta Llama 3 70B", None), ("Lite", None),
])
def test_a_quota_names_its_model_with_or_without_the_provider(quota_model, model_id):
    assert match_model(quota_model, CANDIDATES) == model_id
