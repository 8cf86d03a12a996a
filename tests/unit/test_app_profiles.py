"""What an application inference profile copies, read from ListInferenceProfiles (no copyFrom is listed)."""
from __future__ import annotations

from tierconsole.core.domain.app_profiles import application_profiles
from tierconsole.core.domain.quota_use import profile_series, route_series

M = "amazon.nova-lite-v1:0"


def fm(region, model=M):
    return {"modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model}"}


def summary(pid, kind, regions, name=""):
    arn = f"arn:aws:bedrock:us-east-1:1:{'application-' if kind == 'APPLICATION' else ''}inference-profile/{pid}"
    return {"inferenceProfileId": pid, "inferenceProfileArn": arn, "type": kind, "inferenceProfileName": name,
            "models": [fm(r) for r in regions]}


LISTING = [summary(f"us.{M}", "SYSTEM_DEFINED", ["us-east-1", "us-east-2", "us-west-2"]),
           summary(f"global.{M}", "SYSTEM_DEFINED", ["us-east-1", "us-east-2", "us-west-2", "eu-west-1"]),
           summary("aaaaaaaaaaa1", "APPLICATION", ["us-east-1"], "direct"),
           summary("aaaaaaaaaaa2", "APPLICATION", ["us-west-2", "us-east-1", "us-east-2"], "cross"),
           summary("aaaaaaaaaaa3", "APPLICATION", ["eu-west-1", "us-east-1", "us-east-2", "us-west-2"], "glob"),
           summary("aaaaaaaaaaa4", "APPLICATION", ["eu-west-1", "eu-west-3"], "odd")]


def test_each_application_profile_is_tied_to_what_its_regions_say_it_copies():
    apps = {a.name: a for a in application_profiles(LISTING, "us-east-1")}
    assert (apps["direct"].route, apps["direct"].copies) == ("on_demand", M)
    assert (apps["cross"].route, apps["cross"].copies) == ("cross_region", f"us.{M}")
    assert (apps["glob"].route, apps["glob"].copies) == ("global", f"global.{M}")
    # regions matching nothing listed: not guessed
    assert (apps["odd"].route, apps["odd"].copies, apps["odd"].model_id) == (None, "", M)
    assert apps["odd"].copies_text == "copies: not told by the listing"
    # a one-region profile of another region is not an in-region copy of the model
    assert application_profiles(LISTING, "us-west-2")[0].route is None


def test_application_profiles_join_the_series_of_the_route_they_draw_on():
    apps = application_profiles(LISTING, "us-east-1")
    series = route_series(M, profile_series(LISTING, apps))
    arn = {a.name: a.arn for a in apps}
    assert series["on_demand"] == (M, arn["direct"])
    assert series["cross_region"] == (f"us.{M}", arn["cross"])
    assert series["global"] == (f"global.{M}", arn["glob"])
    assert arn["odd"] not in {s for v in series.values() for s in v}
