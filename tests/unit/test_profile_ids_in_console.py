"""Profile ids in the console's own traffic (prompts, throttle feed): priced and named as the model they run on."""
from __future__ import annotations

import pytest

from tierconsole.core.domain import format as fmt
from tierconsole.core.domain.pricing import PriceTable

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"


@pytest.mark.parametrize("geo", ["us", "eu", "apac", "global", "jp", "au", "us-gov"])
def test_a_system_profile_id_is_priced_as_its_model(geo):
    table = PriceTable.from_profile()
    assert table.base(f"{geo}.{SONNET}") == table.base(SONNET) == (0.003, 0.015)
    # cached reads are discounted by the model's provider (Anthropic: 90%), not by the "provider" "us"
    assert table.cost(f"{geo}.{SONNET}", "default", 0, 0, cache_read_tokens=1000) == \
        pytest.approx(table.cost(SONNET, "default", 0, 0, cache_read_tokens=1000)) == pytest.approx(0.0003)


def test_an_application_profile_is_unpriced_not_guessed():
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123def456"
    assert PriceTable.from_profile().cost(arn, "default", 100, 100) is None


def test_short_names_keep_the_geography():
    assert fmt.short_model(f"global.{SONNET}") == "global.claude-sonnet-4-5"
    assert fmt.short_model(f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.{SONNET}") == \
        "eu.claude-sonnet-4-5"
