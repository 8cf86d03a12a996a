"""The geographies of the system-defined inference profiles and their destination regions
(``sandbox.geographies``); :func:`~.catalog.parse_profiles` checks each model's ``profiles`` against them."""
from __future__ import annotations

import re
from typing import Any, Mapping

from .checks import ConfigError, _names, field_name, show

# Destination regions of the system-defined inference profiles, per geography (AWS's docs; a setting,
# ``sandbox.geographies``, since the set changes over time). A profile's ``models`` lists at most 5.
DEFAULT_GEOGRAPHIES: Mapping[str, tuple[str, ...]] = {
    "us": ("us-east-1", "us-east-2", "us-west-2"),
    "eu": ("eu-central-1", "eu-north-1", "eu-west-1", "eu-west-3"),
    "apac": ("ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2"),
    "global": ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "ap-northeast-1"),
}
_GEOGRAPHY = re.compile(r"[a-z][a-z0-9-]{0,15}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")
MAX_PROFILE_REGIONS = 5  # botocore: InferenceProfileModels has at most 5 members


def parse_geographies(d: Any, path: str) -> dict[str, tuple[str, ...]]:
    """``{geography: [destination regions]}``; absent keeps :data:`DEFAULT_GEOGRAPHIES`, entries given
    replace or add to them."""
    out = dict(DEFAULT_GEOGRAPHIES)
    if d is None:
        return out
    if not isinstance(d, Mapping):
        raise ConfigError(path, f"must be a mapping of geography to regions, got {show(d)}")
    for geo in d:
        if not isinstance(geo, str) or not _GEOGRAPHY.fullmatch(geo):
            raise ConfigError(f"{path}.{field_name(geo)}", "a geography is a lower-case word such as us, eu, "
                                                           "apac, us-gov or global (it prefixes profile ids)")
        regions = _names(d, geo, path)
        for i, region in enumerate(regions):
            if not _REGION.fullmatch(region):
                raise ConfigError(f"{path}.{geo}[{i}]", f"{show(region)} is not an AWS region name (e.g. us-east-1)")
        if not 1 <= len(regions) <= MAX_PROFILE_REGIONS:
            raise ConfigError(f"{path}.{geo}", f"must list 1 to {MAX_PROFILE_REGIONS} destination regions "
                                               f"(a profile's models list holds at most {MAX_PROFILE_REGIONS}), "
                                               f"got {len(regions)}")
        out[geo] = regions
    return out
