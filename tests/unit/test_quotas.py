"""The quota model as data: names read back, routes draw on the right quotas, the binding one, the catalog."""
from __future__ import annotations

import pytest

from tierconsole.core.domain.catalog import ConfigError, parse_catalog
from tierconsole.core.domain.quotas import (
    DAY_S, MINUTE_S, Measure, QuotaKind, QuotaRules, QuotaSpec, QuotaUse, binding, classify, describe,
    match_model, quota_code, route_quotas,
)
from tierconsole.core.domain.routes import Route, RouteKind

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "amazon.nova-lite-v1:0"


# ------------------------------------------------------------------ classify

@pytest.mark.parametrize("name, kind, measure, period, subject", [
    ("On-demand model inference tokens per minute for Amazon Nova Lite", "on_demand", "tokens", 60, "Amazon Nova Lite"),
    ("On-demand InvokeModel tokens per minute for Anthropic Claude 3 Haiku", "on_demand", "tokens", 60,
     "Anthropic Claude 3 Haiku"),
    ("On-demand model inference requests per minute for OpenAI GPT OSS 20B", "on_demand", "requests", 60,
     "OpenAI GPT OSS 20B"),
    ("Cross-region model inference tokens per minute for Amazon Nova Lite", "cross_region", "tokens", 60,
     "Amazon Nova Lite"),
    ("Cross-Region InvokeModel tokens per minute for Claude Sonnet 4.5 V1", "cross_region", "tokens", 60,
     "Claude Sonnet 4.5 V1"),
    ("Cross-Region model inference requests per minute for Anthropic Claude Sonnet 4.5", "cross_region", "requests",
     60, "Anthropic Claude Sonnet 4.5"),
    ("Global cross-Region model inference tokens per minute for Anthropic Claude Sonnet 4.5", "global", "tokens", 60,
     "Anthropic Claude Sonnet 4.5"),
    ("Global cross-region model inference requests per minute for Claude Sonnet 4.5", "global", "requests", 60,
     "Claude Sonnet 4.5"),
    ("On-demand model inference input tokens per minute for OpenAI GPT OSS 120B", "on_demand", "input_tokens", 60,
     "OpenAI GPT OSS 120B"),
    ("On-demand model inference output tokens per minute for OpenAI GPT OSS 120B", "on_demand", "output_tokens", 60,
     "OpenAI GPT OSS 120B"),
    ("Model invocation max tokens per day for Amazon Nova Lite", "model_daily", "tokens", DAY_S, "Amazon Nova Lite"),
    ("Global cross-Region model inference tokens per day for Claude Sonnet 4.5", "global_daily", "tokens", DAY_S,
     "Claude Sonnet 4.5"),
    ("Cross-Model Max Tokens Per Day", "cross_model_daily", "tokens", DAY_S, None),
    ("cross-model max tokens per day", "cross_model_daily", "tokens", DAY_S, None),
])
def test_classify_reads_every_name_variant(name, kind, measure, period, subject):
    c = classify(name)
    assert c is not None
    assert (c.kind.value, c.measure.value, c.period_s, c.subject) == (kind, measure, period, subject)


@pytest.mark.parametrize("name", [
    "Records per batch inference job for Amazon Nova Lite",
    "Minimum number of records per batch inference job for Amazon Nova Lite",
    "On-demand model inference input requests per minute for X",  # no such thing
    "Provisioned model units for Amazon Nova Lite", "", "x" * 10_000,
])
def test_classify_leaves_other_quotas_alone(name):
    assert classify(name) is None


# ------------------------------------------------------------------ match_model

def test_match_model_by_provider_name_name_alone_and_version_suffix():
    candidates = {SONNET: ["Claude Sonnet 4.5", "Anthropic Claude Sonnet 4.5"],
                  NOVA: ["Nova Lite", "Amazon Nova Lite"],
                  "anthropic.claude-sonnet-4-20250514-v1:0": ["Claude Sonnet 4", "Anthropic Claude Sonnet 4"]}
    assert match_model("Anthropic Claude Sonnet 4.5", candidates) == SONNET
    assert match_model("Claude Sonnet 4.5 V1", candidates) == SONNET
    assert match_model("claude-sonnet-4.5", candidates) == SONNET
    assert match_model("AMAZON NOVA LITE", candidates) == NOVA
    assert match_model("Anthropic Claude Sonnet 4", candidates) == "anthropic.claude-sonnet-4-20250514-v1:0"
    assert match_model("Amazon Nova Pro", candidates) is None
    assert match_model("Claude", candidates) is None
    # a provider word not in the names: matched once the leading word is dropped
    assert match_model("Amazon Nova Lite", {NOVA: ["Nova Lite"]}) == NOVA
    # two models answer to the same name: none is picked
    assert match_model("Nova Lite", {NOVA: ["Nova Lite"], "other": ["nova lite"]}) is None


# ------------------------------------------------------------------ route_quotas

def _catalog(**extra):
    models = [{"id": SONNET, "name": "Claude Sonnet 4.5", "quota_name": "Anthropic Claude Sonnet 4.5",
               "max_output_tokens": 8192, "burndown": 5,
               "quotas": {"on_demand": {"tpm": 200_000, "rpm": 200}, "cross_region": {"tpm": 400_000, "rpm": 400},
                          "global": {"tpm": 800_000, "rpm": 800}, "tokens_per_day": 100_000_000,
                          "global_tokens_per_day": 300_000_000}},
              {"id": NOVA, "name": "Nova Lite", "quota_name": "Amazon Nova Lite", "tpm": 120_000, "rpm": 300,
               "max_output_tokens": 5000}]
    return parse_catalog(models, None, None, **extra)


def nova_has_profile_pools(cat) -> bool:
    return any(q.kind in (QuotaKind.CROSS_REGION, QuotaKind.GLOBAL) for q in cat.model(NOVA).quotas)


def _kinds(specs):
    return sorted((s.kind.value, s.measure.value, s.model_id) for s in specs)


def test_a_route_draws_on_its_own_pool_the_model_day_and_the_account_day():
    cat = _catalog()
    specs = cat.quota_specs
    on_demand = route_quotas(Route(RouteKind.ON_DEMAND, SONNET, SONNET), specs)
    assert _kinds(on_demand) == [("cross_model_daily", "tokens", None), ("model_daily", "tokens", SONNET),
                                 ("on_demand", "requests", SONNET), ("on_demand", "tokens", SONNET)]
    cross = route_quotas(Route(RouteKind.CROSS_REGION, SONNET, "us." + SONNET, geo="us"), specs)
    assert _kinds(cross) == [("cross_model_daily", "tokens", None), ("cross_region", "requests", SONNET),
                             ("cross_region", "tokens", SONNET), ("model_daily", "tokens", SONNET)]
    glob = route_quotas(Route(RouteKind.GLOBAL, SONNET, "global." + SONNET, geo="global"), specs)
    assert ("global_daily", "tokens", SONNET) in _kinds(glob) and ("global", "tokens", SONNET) in _kinds(glob)
    assert not any(s.kind is QuotaKind.ON_DEMAND for s in cross + glob)
    assert not any(s.model_id == NOVA for s in on_demand + cross + glob)
    # the unconfirmed daily rule is a setting: profile traffic can be left out of the daily quotas
    rules = QuotaRules(daily_counts=frozenset({RouteKind.ON_DEMAND}))
    assert _kinds(route_quotas(Route(RouteKind.CROSS_REGION, SONNET, "us." + SONNET), specs, rules)) == [
        ("cross_region", "requests", SONNET), ("cross_region", "tokens", SONNET)]


# ------------------------------------------------------------------ binding / describe

def _spec(kind, measure, value, period=MINUTE_S, name=None):
    return QuotaSpec(kind, measure, period, value, name or f"{kind} {measure}", SONNET)


def test_binding_is_the_fullest_with_minute_and_tokens_winning_ties():
    tpm = _spec(QuotaKind.CROSS_REGION, Measure.TOKENS, 1000,
                name="Cross-region model inference tokens per minute for Anthropic Claude Sonnet 4.5")
    rpm = _spec(QuotaKind.CROSS_REGION, Measure.REQUESTS, 10)
    day = _spec(QuotaKind.MODEL_DAILY, Measure.TOKENS, 100_000, DAY_S)
    uses = [QuotaUse(tpm, 960, "sandbox"), QuotaUse(rpm, 4, "sandbox"), QuotaUse(day, 12_000, "sandbox")]
    assert binding(uses).spec is tpm
    assert binding([QuotaUse(tpm, 500, "s"), QuotaUse(rpm, 5, "s"), QuotaUse(day, 50_000, "s")]).spec is tpm
    assert binding([QuotaUse(rpm, 5, "s"), QuotaUse(day, 50_000, "s")]).spec is rpm
    assert binding([QuotaUse(rpm, 2, "s"), QuotaUse(day, 90_000, "s")]).spec is day
    assert binding([QuotaUse(tpm, 0, "s"), QuotaUse(day, None, "aws")]) is None
    assert binding([]) is None
    assert describe(uses[0], "us-east-1") == \
        "cross-region TPM quota of Anthropic Claude Sonnet 4.5 (us-east-1), 96% used"
    assert describe(uses[0], "us-east-1", "Claude Sonnet 4.5").startswith("cross-region TPM quota of Claude Sonnet 4.5")
    account = QuotaSpec(QuotaKind.CROSS_MODEL_DAILY, Measure.TOKENS, DAY_S, 1000, "Cross-Model Max Tokens Per Day")
    assert describe(QuotaUse(account, 30, "sandbox"), "eu-west-1") == \
        "cross-model daily tokens quota (eu-west-1), 3% used"
    assert describe(QuotaUse(day, None, "aws"), "us-east-1").endswith("use not published")


# ------------------------------------------------------------------ catalog

def test_catalog_quotas_from_data_with_aws_names_and_stable_codes():
    cat = _catalog()
    sonnet = cat.model(SONNET)
    names = {(q.kind.value, q.measure.value): (q.name, q.value) for q in sonnet.quotas}
    assert names[("on_demand", "tokens")] == (
        "On-demand model inference tokens per minute for Anthropic Claude Sonnet 4.5", 200_000)
    assert names[("cross_region", "requests")] == (
        "Cross-region model inference requests per minute for Anthropic Claude Sonnet 4.5", 400)
    assert names[("global", "tokens")] == (
        "Global cross-Region model inference tokens per minute for Anthropic Claude Sonnet 4.5", 800_000)
    assert names[("model_daily", "tokens")][1] == 100_000_000
    for q in cat.quota_specs:  # every name the catalog makes reads back as what it is
        c = classify(q.name)
        assert c is not None and (c.kind, c.measure, c.period_s) == (q.kind, q.measure, q.period_s)
        assert q.code == quota_code(q.name)
    (account,) = cat.account_quotas
    assert account.name == "Cross-Model Max Tokens Per Day"
    assert account.value == 100_000_000 + 120_000 * 1440  # default: the models' daily quotas added up
    assert not nova_has_profile_pools(cat)
    assert (sonnet.tpm, sonnet.rpm) == (200_000, 200)


def test_old_flat_tpm_rpm_still_load_and_profile_pools_copy_them():
    nova = _catalog().model(NOVA)  # no inference profiles: no profile pools
    got = {(q.kind.value, q.measure.value): q.value for q in nova.quotas}
    assert got == {("on_demand", "tokens"): 120_000, ("on_demand", "requests"): 300,
                   ("model_daily", "tokens"): 120_000 * 1440}
    assert nova.quota_name == "Amazon Nova Lite" and nova.not_ready_rate == 0
    with_profiles = parse_catalog([{"id": NOVA, "name": "Nova Lite", "tpm": 120_000, "rpm": 300,
                                    "max_output_tokens": 5000, "profiles": ["us", "global"]}], None, None)
    got = {(q.kind.value, q.measure.value): q.value for q in with_profiles.models[0].quotas}
    assert got == {("on_demand", "tokens"): 120_000, ("on_demand", "requests"): 300,
                   ("cross_region", "tokens"): 120_000, ("cross_region", "requests"): 300,
                   ("global", "tokens"): 120_000, ("global", "requests"): 300,
                   ("model_daily", "tokens"): 120_000 * 1440}


def test_a_profile_pool_exists_where_the_model_has_that_profile_or_the_data_gives_it():
    def kinds(**extra):
        model = {"id": NOVA, "name": "Nova Lite", "tpm": 1000, "rpm": 10, "max_output_tokens": 100, **extra}
        return {q.kind.value for q in parse_catalog([model], None, None).models[0].quotas}

    assert kinds(profiles=["eu", "apac"]) == {"on_demand", "cross_region", "model_daily"}
    assert kinds(profiles=["global"]) == {"on_demand", "global", "model_daily"}
    assert kinds(quotas={"global": {"tpm": 5, "rpm": 1}}) == {"on_demand", "global", "model_daily"}
    with pytest.raises(ConfigError) as err:  # an override for a quota the model does not have
        parse_catalog([{"id": NOVA, "name": "Nova Lite", "tpm": 1000, "rpm": 10, "max_output_tokens": 100,
                        "quota_names": {"global_tpm": "Global cross-region model inference tokens per minute for N"}}],
                      None, None)
    assert err.value.path == "sandbox.models[0].quota_names.global_tpm"


def test_split_input_output_shape_has_no_rpm():
    cat = parse_catalog([{"id": "openai.gpt-oss-120b-1:0", "name": "gpt-oss-120b", "quota_name": "OpenAI GPT OSS 120B",
                          "max_output_tokens": 4000,
                          "quotas": {"on_demand": {"input_tpm": 500_000, "output_tpm": 50_000}}}], None, None)
    m = cat.models[0]
    od = {q.measure.value: q for q in m.quotas_of(QuotaKind.ON_DEMAND)}
    assert set(od) == {"input_tokens", "output_tokens"}
    assert od["input_tokens"].name == "On-demand model inference input tokens per minute for OpenAI GPT OSS 120B"
    assert m.tokens_per_day == 550_000 * 1440


def test_quota_rules_and_account_quota_parse():
    cat = _catalog(account_quotas={"cross_model_tokens_per_day": 5_000_000},
                   quota_rules={"daily_counts": ["on_demand"], "daily_window": "utc_day",
                                "daily_applies_burndown": False})
    assert cat.account_quotas[0].value == 5_000_000
    assert cat.rules == QuotaRules(frozenset({RouteKind.ON_DEMAND}), "utc_day", False)


@pytest.mark.parametrize("model_extra, quota_kw, path, words", [
    ({"quotas": {"on_demand": {"tpm": 10, "rpm": 1}}}, {}, "sandbox.models[0].tpm", "not both"),
    ({"quotas": {"cross_region": {"tpm": 0, "rpm": 1}}}, {}, "sandbox.models[0].quotas.cross_region.tpm",
     "at least 1"),
    ({"quotas": {"global": {"tpm": 10, "input_tpm": 5}}}, {}, "sandbox.models[0].quotas.global.tpm", "split"),
    ({"quotas": {"cross_region": {"tpm": 10}}}, {}, "sandbox.models[0].quotas.cross_region.rpm", "required"),
    ({"quotas": {"hourly": 5}}, {}, "sandbox.models[0].quotas.hourly", "unknown key"),
    ({"quotas": {"tokens_per_day": 5}, "tokens_per_day": 6}, {}, "sandbox.models[0].tokens_per_day", "once"),
    ({"profiles": ["us"], "quota_names": {"cross_region_tpm": "Tokens per minute for Nova"}}, {},
     "sandbox.models[0].quota_names.cross_region_tpm", "does not read as"),
    ({"quota_names": {"on_demand_input_tpm": "x"}}, {}, "sandbox.models[0].quota_names.on_demand_input_tpm",
     "not a quota of this model"),
    ({"not_ready_rate": 1.5}, {}, "sandbox.models[0].not_ready_rate", "at most 1"),
    ({}, {"account_quotas": {"cross_model_tokens_per_day": -1}},
     "sandbox.account_quotas.cross_model_tokens_per_day", "at least 1"),
    ({}, {"quota_rules": {"daily_counts": ["on_demand", "batch"]}}, "sandbox.quota_rules.daily_counts[1]",
     "must be one of"),
    ({}, {"quota_rules": {"daily_window": "weekly"}}, "sandbox.quota_rules.daily_window", "rolling"),
])
def test_bad_quota_data_names_the_field(model_extra, quota_kw, path, words):
    model = {"id": NOVA, "name": "Nova Lite", "tpm": 1000, "rpm": 10, "max_output_tokens": 100, **model_extra}
    with pytest.raises(ConfigError) as err:
        parse_catalog([model], None, None, **quota_kw)
    assert err.value.path == path
    assert words in err.value.message


def test_override_names_read_back_and_shared_quota_names_are_refused():
    model = {"id": SONNET, "name": "Claude Sonnet 4.5", "tpm": 1000, "rpm": 10, "max_output_tokens": 100,
             "profiles": ["global"], "quota_names": {"global_tpm": "Global cross-region model inference tokens per minute for "
                                           "Claude Sonnet 4.5 V1"}}
    m = parse_catalog([model], None, None).models[0]
    assert [q.name for q in m.quotas_of(QuotaKind.GLOBAL) if q.measure is Measure.TOKENS] == [
        "Global cross-region model inference tokens per minute for Claude Sonnet 4.5 V1"]
    twin = {"id": "other", "name": "Other", "quota_name": "Claude Sonnet 4.5", "tpm": 1000, "rpm": 10,
            "max_output_tokens": 100}
    with pytest.raises(ConfigError) as err:
        parse_catalog([model, twin], None, None)
    assert err.value.path == "sandbox.models[1].quota_name"


def test_two_models_with_one_name_are_refused_at_the_field():
    """Their batch quota names ("... for <name>") would collide in Service Quotas."""
    twins = [{"id": NOVA, "name": "Nova", "quota_name": "Amazon Nova Lite", "tpm": 10, "rpm": 1,
              "max_output_tokens": 10},
             {"id": "amazon.nova-micro-v1:0", "name": "Nova", "quota_name": "Amazon Nova Micro", "tpm": 10, "rpm": 1,
              "max_output_tokens": 10}]
    with pytest.raises(ConfigError) as err:
        parse_catalog(twins, None, None)
    assert err.value.path == "sandbox.models[1].name" and "Nova" in err.value.message
