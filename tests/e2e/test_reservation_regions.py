"""Reserved capacity belongs to a region (a reservation is made in one; AWS's docs do not say it can span
regions, so each reservation names its region, by default the profile's): `status --region X` lists the
reservations of X only, and the sandbox serves a reservation in its own region only."""
from __future__ import annotations

import dataclasses
import json

import boto3
import botocore.exceptions
import pytest

from tests.conftest import SONNET, boto3_client, user
from tests.e2e.test_headless import cli, env  # noqa: F401 - fixtures
from tierconsole.core.domain.catalog import ConfigError
from tierconsole.core.domain.profile import parse_profile
from tierconsole.sandbox.config import load_sandbox_config


def test_status_lists_the_reservations_of_the_region_asked(cli):  # noqa: F811
    home = json.loads(cli("status", "--json").stdout)
    assert [(r["reservation_id"], r["region"]) for r in home["reservations"]] == [("sonnet-reserved-1", "us-east-1")]
    away = cli("status", "--region", "eu-west-1", "--json")
    assert away.returncode == 0, away.stderr
    assert json.loads(away.stdout)["reservations"] == []  # not a row of — : it is not there
    text = cli("status", "--region", "eu-west-1").stdout
    assert "sonnet-reserved-1" not in text, text


def test_a_reservation_names_its_region_and_defaults_to_the_profile_s():
    base = {"name": "p", "region": "us-west-2", "models": [SONNET],
            "reservations": [{"id": "a", "model": SONNET, "input_tpm": 100000, "output_tpm": 10000},
                             {"id": "b", "model": SONNET, "input_tpm": 100000, "output_tpm": 10000,
                              "region": "eu-central-1"}]}
    p = parse_profile(base, default_name="p", source="p.yaml")
    assert [(r.reservation_id, r.region) for r in p.reservations] == [("a", "us-west-2"), ("b", "eu-central-1")]
    base["reservations"][1]["region"] = "Europe"
    with pytest.raises(ConfigError) as e:
        parse_profile(base, default_name="p", source="p.yaml")
    assert "reservations[1].region" in str(e.value) and "Europe" in str(e.value)


def test_the_sandbox_serves_a_reservation_in_its_region_only(make_sandbox):
    sb = make_sandbox(speed=50.0)
    assert [r.region for r in load_sandbox_config().catalog.reservations] == ["us-east-1"]
    home = boto3_client("bedrock-runtime", sb.endpoint)
    r = home.converse(modelId=SONNET, messages=user("hi"), inferenceConfig={"maxTokens": 20},
                      serviceTier={"type": "reserved"})
    assert r["serviceTier"]["type"] == "reserved"
    away = boto3.client("bedrock-runtime", endpoint_url=sb.endpoint, region_name="us-west-2",
                        aws_access_key_id="sandbox", aws_secret_access_key="sandbox")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        away.converse(modelId=SONNET, messages=user("hi"), inferenceConfig={"maxTokens": 20},
                      serviceTier={"type": "reserved"})
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert e.value.response["Error"]["Message"] == "Reservation not found."


async def test_a_multi_region_profile_shows_each_reservation_once_in_its_region(sandbox):
    from tierconsole.core.aws.regions import RegionsCollector
    from tierconsole.core.aws.session import AwsContext, Target
    from tierconsole.core.config.profiles import load_profile

    base = load_profile("sandbox")
    [home] = base.reservations
    west = dataclasses.replace(home, reservation_id="west-1", region="us-west-2")
    profile = dataclasses.replace(base, regions=("us-east-1", "us-west-2"), reservations=(home, west))
    ctx = AwsContext(Target(profile, sandbox.endpoint, sandbox=True))
    try:
        data = await RegionsCollector(ctx).refresh()
    finally:
        await ctx.close()
    assert [(r.reservation_id, r.region) for r in data.reservations] == [("sonnet-reserved-1", "us-east-1"),
                                                                         ("west-1", "us-west-2")]
