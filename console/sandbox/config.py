"""The sandbox's configuration: catalog, reservations and engine settings from a profile file."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..core.config.loader import load_yaml, locate
from ..core.domain.catalog import (Catalog, ConfigError, _check_keys, _get, in_region, parse_catalog, parse_profiles,
                                   show)
from ..core.domain.metricforms import MetricsSettings, parse_metrics_settings
from .fleet_config import Fleet, parse_fleet, parse_regions

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_BUCKET = "tierconsole-sandbox"
# Application inference profiles an account may hold (AWS: a Service Quotas quota; the sandbox's default is
# a setting). Beyond it CreateInferenceProfile answers ServiceQuotaExceededException.
DEFAULT_MAX_APPLICATION_PROFILES = 1000
MAX_APPLICATION_PROFILES = 10_000  # the setting's ceiling: with 200 tags each, what clients send stays bounded
MIB = 1024 * 1024
DEFAULT_ACCESS_LOG_MAX_BYTES = 64 * MIB
DEFAULT_ACCESS_LOG_BACKUPS = 5


@dataclass(frozen=True)
class S3Limits:
    """What the sandbox's S3 (moto, in memory and temporary files) keeps for one account: ``sandbox.s3``.

    S3's own limits answer with S3's errors: an object (or part) over ``max_object_bytes`` is
    ``EntityTooLarge``, a bucket beyond ``max_buckets`` ``TooManyBuckets``, a part number beyond
    ``max_parts_per_upload`` ``InvalidArgument``. S3 has no limit on stored bytes, objects or open multipart
    uploads: beyond ``max_total_bytes`` an upload is ``EntityTooLarge``, beyond ``max_objects`` (every version
    and every uploaded part counts) or ``max_multipart_uploads`` a request is ``InvalidRequest``; each message
    names the setting."""
    max_buckets: int = 100
    max_object_bytes: int = 64 * MIB  # also the sandbox's request body limit: no larger single PUT arrives
    max_total_bytes: int = 256 * MIB  # moto holds objects under 5 MiB in memory: about 1.2x this in RSS
    max_objects: int = 10_000
    max_multipart_uploads: int = 100
    max_parts_per_upload: int = 10_000  # S3's own (part numbers 1 to 10,000)


#: Each setting's ceiling (what the setting itself may not exceed).
S3_LIMIT_CEILINGS = {"max_buckets": 10_000, "max_object_bytes": 64 * MIB, "max_total_bytes": 64 * 1024 * MIB,
                     "max_objects": 100_000, "max_multipart_uploads": 10_000, "max_parts_per_upload": 10_000}


def parse_s3_limits(raw: Any, path: str) -> S3Limits:
    """The ``sandbox.s3`` section (every key optional, each a whole number from 1 to its ceiling)."""
    if raw is None:
        return S3Limits()
    _check_keys(raw, set(S3_LIMIT_CEILINGS), path)
    defaults = S3Limits()
    return S3Limits(**{key: _get(raw, key, path, int, default=getattr(defaults, key), minimum=1, maximum=ceiling)
                       for key, ceiling in S3_LIMIT_CEILINGS.items()})


_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why S3 would refuse ``name`` for a new general purpose bucket (its naming rules), or None."""
    if not _BUCKET_NAME.fullmatch(name):
        return ("bucket names are 3 to 63 characters of lowercase letters, digits, dots and hyphens, beginning "
                "and ending with a letter or digit")
    if ".." in name:
        return "bucket names must not contain two adjacent periods"
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        return "bucket names must not be formatted as an IP address"
    if name.startswith(_BUCKET_RESERVED_PREFIXES) or name.endswith(_BUCKET_RESERVED_SUFFIXES):
        return "bucket names must not use a prefix or suffix S3 reserves (xn--, sthree-, -s3alias, --ol-s3, ...)"
    return None


#: what the sandbox does with a quota-increase request (AWS decides case by case: a setting)
QUOTA_DECISIONS = ("APPROVED", "DENIED", "NOT_APPROVED", "none")
MAX_QUOTA_REQUESTS = 10_000  # the setting's ceiling


@dataclass(frozen=True)
class QuotaRequestSettings:
    """``sandbox.quota_requests``: a request is PENDING, CASE_OPENED after ``case_after_s`` sandbox seconds, and
    ``decision`` (``none``: it stays CASE_OPENED) after ``decide_after_s``; APPROVED applies the value to the quota
    and the engine. At most ``max_requests`` are kept (the oldest closed one is forgotten)."""

    case_after_s: float = 60.0
    decide_after_s: float = 600.0
    decision: str = "APPROVED"
    max_requests: int = 1000


def parse_quota_requests(raw: Any) -> QuotaRequestSettings:
    if raw is None:
        return QuotaRequestSettings()
    where = "sandbox.quota_requests"
    if not isinstance(raw, dict):
        raise ConfigError(where, f"must be a mapping, got {show(raw)}")
    _check_keys(raw, {"case_after_s", "decide_after_s", "decision", "max_requests"}, where)
    decision = raw.get("decision", "APPROVED")
    if decision not in QUOTA_DECISIONS:
        raise ConfigError(f"{where}.decision", f"must be one of {', '.join(QUOTA_DECISIONS)}, got {show(decision)}")
    case_after = _get(raw, "case_after_s", where, float, default=60.0, minimum=0, maximum=90 * 86_400)
    decide_after = _get(raw, "decide_after_s", where, float, default=600.0, minimum=0, maximum=90 * 86_400)
    if decide_after < case_after:
        raise ConfigError(f"{where}.decide_after_s", f"must be at least case_after_s ({case_after:g}), "
                                                      f"got {decide_after:g}")
    return QuotaRequestSettings(case_after, decide_after, decision,
                                _get(raw, "max_requests", where, int, default=1000, minimum=1,
                                     maximum=MAX_QUOTA_REQUESTS))


@dataclass(frozen=True)
class SandboxConfig:
    catalog: Catalog
    account_id: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    bucket: str = DEFAULT_BUCKET
    scenario: str = "none"
    source: str = "<built-in>"
    access_log: str | None = None  # one JSON line per request, also for the console's in-process sandbox
    access_log_max_bytes: int = DEFAULT_ACCESS_LOG_MAX_BYTES  # past it the log is rotated (FILE.1, FILE.2, ...)
    access_log_backups: int = DEFAULT_ACCESS_LOG_BACKUPS  # rotated files kept
    max_application_profiles: int = DEFAULT_MAX_APPLICATION_PROFILES  # CreateInferenceProfile beyond it: refused
    metrics: MetricsSettings = MetricsSettings()  # how per-tier CloudWatch series are named (see services/metrics.py)
    quota_requests: QuotaRequestSettings = QuotaRequestSettings()  # how quota-increase requests are decided
    s3: S3Limits = S3Limits()  # what the sandbox's S3 keeps (see services/s3_limits.py)
    fleet: "Fleet | None" = None  # several accounts and regions (see fleet_config.py); None: one account, as ever
    # The regions served (sandbox.regions; a fleet's too). (): every region botocore lists for Bedrock (see cells.py)
    regions: tuple[str, ...] = ()


_SANDBOX_KEYS = {"account_id", "scenario", "bucket", "engine", "models", "region", "access_log", "geographies",
                 "max_application_profiles", "account_quotas", "quota_rules", "metrics", "quota_requests", "s3",
                 "access_log_max_bytes", "access_log_backups", "accounts", "regions", "oam", "account_name"}


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
        if "bucket" in sb and bucket_name_problem(sb["bucket"]):
            raise ConfigError("sandbox.bucket", f"{bucket_name_problem(sb['bucket'])}, got {show(sb['bucket'])}")
        if sb.get("access_log"):
            problem = log_path_problem(sb["access_log"])
            if problem:
                raise ConfigError("sandbox.access_log", problem)
        catalog = parse_profiles(catalog, sb.get("geographies"))
        region = sb.get("region") or doc.get("region") or DEFAULT_REGION
        catalog = replace(catalog, reservations=in_region(catalog.reservations, region))  # default: this region
        max_profiles = _get(sb, "max_application_profiles", "sandbox", int,
                            default=DEFAULT_MAX_APPLICATION_PROFILES, minimum=0, maximum=MAX_APPLICATION_PROFILES)
        fleet = parse_fleet(sb, doc, account, region)
        return SandboxConfig(catalog=catalog, account_id=account, region=region, fleet=fleet,
                             regions=fleet.regions if fleet is not None else parse_regions(sb, region),
                             bucket=sb.get("bucket", DEFAULT_BUCKET), scenario=sb.get("scenario", "none"),
                             source=source, access_log=sb.get("access_log"),
                             max_application_profiles=max_profiles, s3=parse_s3_limits(sb.get("s3"), "sandbox.s3"),
                             access_log_max_bytes=_get(sb, "access_log_max_bytes", "sandbox", int,
                                                       default=DEFAULT_ACCESS_LOG_MAX_BYTES, minimum=1024,
                                                       maximum=1024 * 1024 * MIB),
                             access_log_backups=_get(sb, "access_log_backups", "sandbox", int,
                                                     default=DEFAULT_ACCESS_LOG_BACKUPS, minimum=1, maximum=1000),
                             metrics=parse_metrics_settings(sb.get("metrics"), "sandbox.metrics", console=False),
                             quota_requests=parse_quota_requests(sb.get("quota_requests")))
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
        from importlib import resources  # noqa: PLC0415 - not on the console's way to its first frame

        ref = resources.files("tierconsole.profiles").joinpath("sandbox.yaml")
        return load_yaml("profiles/sandbox.yaml", ref.read_text())
    return load_yaml(path)
