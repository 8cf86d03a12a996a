"""resolve(): every identifier form the runtime accepts, and the errors it gives for the others (pure)."""
from __future__ import annotations

import pytest

from tierconsole.core.domain.catalog import ConfigError, parse_catalog, parse_profiles
from tierconsole.core.domain.routes import (
    Route, RouteError, RouteKind, application_profile_arn, resolve, resolve_foundation_model, system_profile,
    system_profiles)

ACCOUNT = "123456789012"
REGION = "us-east-1"
NOVA = "amazon.nova-lite-v1:0"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
GPT = "openai.gpt-oss-20b-1:0"


def model(model_id, **extra):
    return {"id": model_id, "name": model_id[:20], "tpm": 1000, "rpm": 10, "max_output_tokens": 100, **extra}


def catalog_of(models, geographies=None):
    return parse_profiles(parse_catalog(models, None, None), geographies)


@pytest.fixture
def catalog():
    return catalog_of([model(NOVA, profiles=["us", "eu", "apac"]),
                       model(SONNET, profiles=["us", "eu", "global"], on_demand=False), model(GPT)])


def go(identifier, catalog, region=REGION, applications=None):
    return resolve(identifier, catalog, region=region, account=ACCOUNT, applications=applications)


def test_a_model_id_is_on_demand_under_its_own_series(catalog):
    assert go(NOVA, catalog) == Route(RouteKind.ON_DEMAND, NOVA, NOVA)


def test_a_foundation_model_arn_of_this_region_is_on_demand(catalog):
    arn = f"arn:aws:bedrock:{REGION}::foundation-model/{NOVA}"
    assert go(arn, catalog) == Route(RouteKind.ON_DEMAND, NOVA, NOVA)


def test_a_foundation_model_arn_of_another_region_is_not_found(catalog):
    with pytest.raises(RouteError) as e:
        go(f"arn:aws:bedrock:eu-west-1::foundation-model/{NOVA}", catalog)
    assert (e.value.code, e.value.status) == ("ResourceNotFoundException", 404)
    assert "eu-west-1" in e.value.message


def test_a_geography_profile_id_is_cross_region(catalog):
    arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/us.{NOVA}"
    assert go(f"us.{NOVA}", catalog) == Route(RouteKind.CROSS_REGION, NOVA, f"us.{NOVA}", "us", arn)


def test_a_system_profile_arn_is_the_same_route_as_its_id(catalog):
    arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/us.{SONNET}"
    assert go(arn, catalog) == go(f"us.{SONNET}", catalog) == Route(RouteKind.CROSS_REGION, SONNET,
                                                                    f"us.{SONNET}", "us", arn)


def test_a_global_profile_is_global_and_callable_from_any_region(catalog):
    for region in ("us-east-1", "eu-central-1", "sa-east-1"):
        r = go(f"global.{SONNET}", catalog, region)
        assert (r.kind, r.model_id, r.geo, r.series) == (RouteKind.GLOBAL, SONNET, "global", f"global.{SONNET}")
        assert r.profile_arn == f"arn:aws:bedrock:{region}:{ACCOUNT}:inference-profile/global.{SONNET}"


def test_a_geography_profile_is_callable_only_from_its_destination_regions(catalog):
    assert go(f"eu.{NOVA}", catalog, "eu-west-1").geo == "eu"
    with pytest.raises(RouteError) as e:
        go(f"eu.{NOVA}", catalog, "us-east-1")
    assert e.value.code == "ResourceNotFoundException" and "us-east-1" in e.value.message


def test_a_profile_the_model_does_not_have_is_not_found(catalog):
    for ident in (f"global.{NOVA}", f"us.{GPT}", f"apac.{SONNET}"):
        with pytest.raises(RouteError) as e:
            go(ident, catalog, "ap-south-1" if ident.startswith("apac") else REGION)
        assert e.value.code == "ResourceNotFoundException", ident


def test_a_profile_only_model_refuses_its_bare_id_with_aws_text(catalog):
    with pytest.raises(RouteError) as e:
        go(SONNET, catalog)
    assert (e.value.code, e.value.status) == ("ValidationException", 400)
    assert e.value.message == (f"Invocation of model ID {SONNET} with on-demand throughput isn't supported. Retry "
                               "your request with the ID or ARN of an inference profile that contains this model.")


def test_a_profile_only_model_refuses_its_foundation_model_arn_too(catalog):
    with pytest.raises(RouteError) as e:
        go(f"arn:aws:bedrock:{REGION}::foundation-model/{SONNET}", catalog)
    assert e.value.code == "ValidationException" and "on-demand throughput isn't supported" in e.value.message


def test_an_application_profile_by_arn_or_id(catalog):
    app_arn = application_profile_arn(REGION, ACCOUNT, "abc123def456")
    route = Route(RouteKind.CROSS_REGION, SONNET, app_arn, "us", app_arn)
    apps = {"abc123def456": route}
    assert go(app_arn, catalog, applications=apps) is route
    assert go("abc123def456", catalog, applications=apps) is route


@pytest.mark.parametrize("ident", [
    "amazon.nova-pro-v1:0", "nope", "us.amazon.nova-pro-v1:0", "xx.amazon.nova-lite-v1:0",
    f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/zzzzzzzzzzzz",
    f"arn:aws:bedrock:{REGION}:999999999999:inference-profile/us.{NOVA}",
    f"arn:aws:bedrock:{REGION}:{ACCOUNT}:foundation-model/{NOVA}",
    f"arn:aws:bedrock:{REGION}::inference-profile/us.{NOVA}",
])
def test_anything_else_is_resource_not_found(catalog, ident):
    with pytest.raises(RouteError) as e:
        go(ident, catalog)
    assert (e.value.code, e.value.status) == ("ResourceNotFoundException", 404)


def test_system_profiles_seen_from_a_region(catalog):
    assert [p.profile_id for p in system_profiles(catalog, REGION)] == [f"us.{NOVA}", f"us.{SONNET}",
                                                                        f"global.{SONNET}"]
    assert [p.profile_id for p in system_profiles(catalog, "eu-north-1")] == [f"eu.{NOVA}", f"eu.{SONNET}",
                                                                              f"global.{SONNET}"]
    p = system_profile(catalog, f"us.{NOVA}", REGION)
    assert p.regions == ("us-east-1", "us-east-2", "us-west-2") and p.model.model_id == NOVA


def test_geographies_are_data():
    cat = catalog_of([model(NOVA, profiles=["jp"])], {"jp": ["ap-northeast-1", "ap-northeast-3"]})
    assert go(f"jp.{NOVA}", cat, "ap-northeast-3").geo == "jp"
    with pytest.raises(RouteError):
        go(f"jp.{NOVA}", cat, "us-east-1")


@pytest.mark.parametrize("models, geos, path", [
    ([model(NOVA, profiles=["mars"])], None, "sandbox.models[0].profiles[0]"),
    ([model(NOVA, on_demand=False)], None, "sandbox.models[0].on_demand"),
    ([model(NOVA, profiles=["us", "us"])], None, "sandbox.models[0].profiles[1]"),
    ([model(NOVA, profiles="us")], None, "sandbox.models[0].profiles"),
    ([model(NOVA, on_demand="no")], None, "sandbox.models[0].on_demand"),
    ([model(NOVA)], {"eu": []}, "sandbox.geographies.eu"),
    ([model(NOVA)], {"eu": ["eu-west-1"] * 1 + ["eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1"]},
     "sandbox.geographies.eu"),
    ([model(NOVA)], {"eu": ["Europe"]}, "sandbox.geographies.eu[0]"),
    ([model(NOVA)], {"EU!": ["eu-west-1"]}, "sandbox.geographies.EU!"),
    ([model(NOVA)], ["us"], "sandbox.geographies"),
])
def test_bad_profile_settings_name_the_field(models, geos, path):
    with pytest.raises(ConfigError) as e:
        catalog_of(models, geos)
    assert e.value.path == path


SANDBOX_YAML = """sandbox:
  geographies:
    us: [us-east-1]
  max_application_profiles: {limit}
  models:
    - id: amazon.nova-lite-v1:0
      name: Nova Lite
      tpm: 1000
      rpm: 10
      max_output_tokens: 100
      profiles: [{profiles}]
"""


@pytest.mark.parametrize("limit, profiles, where", [
    ("-1", "us", "s.yaml:4: sandbox.max_application_profiles"),
    ("lots", "us", "s.yaml:4: sandbox.max_application_profiles"),
    ("1000", "us, mars", "s.yaml:11: sandbox.models[0].profiles[1]"),
])
def test_a_bad_profile_setting_in_a_file_names_file_line_and_field(limit, profiles, where):
    from tierconsole.core.config.loader import load_yaml
    from tierconsole.sandbox.config import parse_sandbox_config

    with pytest.raises(ConfigError) as e:
        parse_sandbox_config(load_yaml("s.yaml", SANDBOX_YAML.format(limit=limit, profiles=profiles)), "s.yaml")
    assert str(e.value).startswith(where), str(e.value)


def test_the_settings_reach_the_sandbox_config():
    from tierconsole.core.config.loader import load_yaml
    from tierconsole.sandbox.config import load_sandbox_config, parse_sandbox_config

    cfg = parse_sandbox_config(load_yaml("s.yaml", SANDBOX_YAML.format(limit=7, profiles="us")), "s.yaml")
    assert cfg.max_application_profiles == 7 and cfg.catalog.geographies["us"] == ("us-east-1",)
    assert cfg.catalog.geographies["eu"]  # the defaults stay for the geographies not given
    built_in = load_sandbox_config()
    assert {m.model_id: m.profiles for m in built_in.catalog.models} == {
        NOVA: ("us", "eu", "apac"), GPT: (), SONNET: ("us", "eu", "global")}


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = st.sampled_from(["arn:aws:bedrock:", "us-east-1", ":", "123456789012", "::", "foundation-model/",
                           "inference-profile/", "application-inference-profile/", "us.", "global.", "eu.", NOVA,
                           SONNET, "/", ".", "abc123def456", "arn:aws-cn:bedrock:", ""])


@settings(max_examples=300, deadline=None)
@given(ident=st.one_of(st.text(max_size=80), st.lists(_PIECES, max_size=8).map("".join)))
def test_any_identifier_is_a_route_or_an_aws_error(ident):
    cat = catalog_of([model(NOVA, profiles=["us", "eu", "apac"]),
                      model(SONNET, profiles=["us", "eu", "global"], on_demand=False), model(GPT)])
    try:
        route = go(ident, cat)
    except RouteError as e:
        assert e.code in ("ResourceNotFoundException", "ValidationException") and e.status in (400, 404)
    else:
        assert cat.model(route.model_id) is not None and route.series
        assert (route.kind is RouteKind.ON_DEMAND) == (route.geo is None)


def test_an_operation_on_foundation_models_takes_ids_and_arns_not_profiles(catalog):
    """CountTokens names "the foundation model": a profile-only model's id counts (nothing is invoked)."""
    for ident in (NOVA, SONNET, f"arn:aws:bedrock:{REGION}::foundation-model/{SONNET}"):
        route = resolve_foundation_model(ident, catalog, region=REGION)
        assert route.kind is RouteKind.ON_DEMAND and route.model_id in (NOVA, SONNET)
    for ident in (f"us.{SONNET}", f"global.{SONNET}", f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/us.{NOVA}",
                  application_profile_arn(REGION, ACCOUNT, "abc123def456")):
        with pytest.raises(RouteError) as e:
            resolve_foundation_model(ident, catalog, region=REGION)
        assert (e.value.code, e.value.status) == ("ValidationException", 400) and "inference profile" in e.value.message
    for ident in ("amazon.nova-pro-v1:0", f"arn:aws:bedrock:eu-west-1::foundation-model/{NOVA}"):
        with pytest.raises(RouteError) as e:
            resolve_foundation_model(ident, catalog, region=REGION)
        assert e.value.code == "ResourceNotFoundException"
