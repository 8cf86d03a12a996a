"""The sandbox's configuration: catalog, reservations and engine settings from a profile file."""
from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..core.config.loader import load_yaml, locate
from ..core.domain.catalog import Catalog, ConfigError, _check_keys, parse_catalog, show

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_BUCKET = "tierconsole-sandbox"


@dataclass(frozen=True)
class SandboxConfig:
    catalog: Catalog
    account_id: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    bucket: str = DEFAULT_BUCKET
    scenario: str = "none"
    source: str = "<built-in>"
    access_log: str | None = None  # one JSON line per request, also for the console's in-process sandbox


_SANDBOX_KEYS = {"account_id", "scenario", "bucket", "engine", "models", "region", "access_log"}


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
        catalog = parse_catalog(sb.get("models"), doc.get("reservations"), sb.get("engine"))
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
        return SandboxConfig(catalog=catalog, account_id=account,
                             region=sb.get("region") or doc.get("region") or DEFAULT_REGION,
                             bucket=sb.get("bucket", DEFAULT_BUCKET), scenario=sb.get("scenario", "none"),
                             source=source, access_log=sb.get("access_log"))
    except ConfigError as err:
        raise locate(err, doc, source) from None


def load_sandbox_config(path: str | Path | None = None) -> SandboxConfig:
    """From a file, or the built-in ``profiles/sandbox.yaml`` shipped with the package."""
    if path is None:
        ref = resources.files("tierconsole.profiles").joinpath("sandbox.yaml")
        return parse_sandbox_config(load_yaml("profiles/sandbox.yaml", ref.read_text()), "profiles/sandbox.yaml")
    return parse_sandbox_config(load_yaml(path), str(path))
