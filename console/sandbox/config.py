"""The sandbox's configuration: catalog, reservations and engine settings from a profile file."""
from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..core.config.loader import load_yaml, locate
from ..core.domain.catalog import Catalog, ConfigError, _check_keys, _get, parse_catalog, parse_profiles, show
from ..core.domain.metricsplan import MetricsSettings, parse_metrics_settings
from .fleet_config import Fleet, parse_fleet

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_BUCKET = "tierconsole-sandbox"
# Application inference profiles an account may hold (AWS: a Service Quotas quota; the sandbox's default is
# a setting). Beyond it CreateInferenceProfile answers ServiceQuotaExceededException.
DEFAULT_MAX_APPLICATION_PROFILES = 1000
MAX_APPLICATION_PROFILES = 10_000  # the setting's ceiling: with 200 tags each, what clients send stays bounded


@dataclass(frozen=True)
class SandboxConfig:
    catalog: Catalog
    account_id: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    bucket: str = DEFAULT_BUCKET
    scenario: str = "none"
    source: str = "<built-in>"
    access_log: str | None = None  # one JSON line per request, also for the console's in-process sandbox
    max_application_profiles: int = DEFAULT_MAX_APPLICATION_PROFILES  # CreateInferenceProfile beyond it: refused
    metrics: MetricsSettings = MetricsSettings()  # how per-tier CloudWatch series are named (see services/metrics.py)
    fleet: "Fleet | None" = None  # several accounts and regions (see fleet_config.py); None: one account, as ever


_SANDBOX_KEYS = {"account_id", "scenario", "bucket", "engine", "models", "region", "access_log", "geographies",
                 "max_application_profiles", "account_quotas", "quota_rules", "metrics",
                 "accounts", "regions", "oam", "account_name"}


def log_path_problem(path: str | Path) -> str | None:
    """Why a file cannot be appended to as a log (a directory, a missing or read-only directory), or None."""
    target = Path(path).expanduser()
    if target.is_dir():
        return f"{target} is a directory; give a file name"
    parent = target.parent
    if not parent.is_dir():
        return f"the directory {parent} does not exist (create it, or choose another file)"
    if target.exists() and not os.access(target, os.W_OK) or not target.exists() and not os.access(parent, os.W_OK):
        return f"{target} cannot be written"
    return None


def parse_sandbox_config(doc: Any, source: str) -> SandboxConfig:
    try:
        if not isinstance(doc, dict):
            raise ConfigError("", "must be a YAML mapping with a 'sandbox' section")
        sb = doc.get("sandbox")
        if not isinstance(sb, dict):
            raise ConfigError("sandbox", "section is required (with 'models')")
        _check_keys(sb, _SANDBOX_KEYS, "sandbox")
        catalog = parse_catalog(sb.get("models"), doc.get("reservations"), sb.get("engine"),
                                account_quotas=sb.get("account_quotas"), quota_rules=sb.get("quota_rules"))
        raw_account = sb.get("account_id", DEFAULT_ACCOUNT)
        account = str(raw_account) if type(raw_account) in (str, int) else ""
        if not (account.isdigit() and len(account) == 12):
            raise ConfigError("sandbox.account_id", f"must be 12 digits, got {show(raw_account)}")
        for key in ("bucket", "scenario", "region", "access_log"):
            if key in sb and not isinstance(sb[key], str):
                raise ConfigError(f"sandbox.{key}", f"must be a string, got {show(sb[key])}")
        if sb.get("access_log"):
            problem = log_path_problem(sb["access_log"])
            if problem:
                raise ConfigError("sandbox.access_log", problem)
        catalog = parse_profiles(catalog, sb.get("geographies"))
        max_profiles = _get(sb, "max_application_profiles", "sandbox", int,
                            default=DEFAULT_MAX_APPLICATION_PROFILES, minimum=0, maximum=MAX_APPLICATION_PROFILES)
        region = sb.get("region") or doc.get("region") or DEFAULT_REGION
        return SandboxConfig(catalog=catalog, account_id=account, region=region,
                             fleet=parse_fleet(sb, doc, account, region),
                             bucket=sb.get("bucket", DEFAULT_BUCKET), scenario=sb.get("scenario", "none"),
                             source=source, access_log=sb.get("access_log"),
                             max_application_profiles=max_profiles,
                             metrics=parse_metrics_settings(sb.get("metrics"), "sandbox.metrics", console=False))
    except ConfigError as err:
        raise locate(err, doc, source) from None


def load_sandbox_config(path: str | Path | None = None) -> SandboxConfig:
    """From a file, or the built-in ``profiles/sandbox.yaml`` shipped with the package."""
    return parse_sandbox_config(config_document(path), "profiles/sandbox.yaml" if path is None else str(path))


def config_digest(doc: Any) -> str:
    """A digest of what a config document makes a sandbox serve: its ``sandbox`` section, the
    reservations and the effective region (not the console's own settings, not the file's path or name).
    Two files saying the same have the same digest, so a profile attaches to a sandbox started from
    another copy of its file (the project's ``./profiles/sandbox.yaml`` and the built-in one)."""
    import hashlib  # noqa: PLC0415
    import json  # noqa: PLC0415

    doc = doc if isinstance(doc, dict) else {}
    sb = doc.get("sandbox") if isinstance(doc.get("sandbox"), dict) else {}
    effective = {"sandbox": sb, "reservations": doc.get("reservations"),
                 "region": sb.get("region") or doc.get("region") or DEFAULT_REGION}
    text = json.dumps(effective, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def config_document(path: str | Path | None = None) -> Any:
    """The parsed document of a config file, or of the built-in ``profiles/sandbox.yaml``."""
    if path is None:
        ref = resources.files("tierconsole.profiles").joinpath("sandbox.yaml")
        return load_yaml("profiles/sandbox.yaml", ref.read_text())
    return load_yaml(path)
