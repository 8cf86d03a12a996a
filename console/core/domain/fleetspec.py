"""The ``fleet:`` section of a console profile (issue 15): which source accounts the monitoring account
watches through CloudWatch cross-account observability, and how each one is reached for what only the
account itself answers (quotas, batch jobs, prompts).

Pure: parsed from the profile's document; errors are :class:`ConfigError` with the field path
(``fleet.access[1].role_arn``), and the profile loader adds file and line.

How a source account is reached (``access:``, first match wins):

* ``match``: a 12-digit account id, a glob over ids (``"1111*"``, ``"*"``), or ``label:<glob>`` over the
  link's label (``label:prod-*``);
* exactly one of ``aws_profile`` (a profile of ``~/.aws/config``) or ``role_arn`` (assumed from the monitoring
  account; ``{account}`` stands for the row's account id). A role ARN naming a fixed account is refused
  unless the rule matches exactly that account: a rule must never reach another account than the row's.
* ``batch_bucket`` and ``batch_role_arn`` (optional): where a batch job submitted from a drill-in into a matched
  account goes — that account's own S3 bucket (``my-batch-{account}``) and service role
  (``arn:aws:iam::{account}:role/NAME``). Without them a drilled batch submit is refused on AWS (never sent to
  the monitoring account's bucket); on the fleet sandbox the account's own bucket ``<sandbox.bucket>-<account>``
  is used.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from .catalog import ReservationSpec, parse_reservation
from .checks import ConfigError, _check_keys, _get, field_name, kind_of, show

_KEYS = {"discovery_seconds", "quota_refresh_seconds", "models", "names", "exclude", "access", "reservations",
         "insights"}
_RULE_KEYS = {"match", "aws_profile", "role_arn", "external_id", "console_profile", "read_only", "batch_bucket",
              "batch_role_arn"}
ACCOUNT_ID = re.compile(r"\d{12}")
_ID_GLOB = re.compile(r"[0-9*?\[\]!-]{1,64}")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\{account\}|\d{12}):role/[\w+=,.@/-]{1,512}")
_BUCKET = re.compile(r"[a-z0-9{}][a-z0-9.{}-]{1,70}[a-z0-9{}]")  # S3's rules, with {account}
LABEL_PREFIX = "label:"


@dataclass(frozen=True)
class AccessRule:
    """How to reach the source accounts a rule matches (one of ``aws_profile`` / ``role_arn``)."""

    match: str
    aws_profile: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    console_profile: str | None = None
    read_only: bool | None = None  # None: the fleet profile's own read_only
    batch_bucket: str | None = None  # a drilled account's own batch bucket ({account}: its id)
    batch_role_arn: str | None = None  # a drilled account's own batch service role ({account}: its id)
    index: int = 0  # its place in ``access:`` (for messages: ``fleet.access[2]``)

    @property
    def by_label(self) -> bool:
        return self.match.startswith(LABEL_PREFIX)

    def matches(self, account_id: str, label: str | None) -> bool:
        if self.by_label:
            return label is not None and fnmatch.fnmatchcase(label, self.match[len(LABEL_PREFIX):])
        return fnmatch.fnmatchcase(account_id, self.match)

    def role_for(self, account_id: str) -> str | None:
        """The role ARN to assume for ``account_id`` (``{account}`` filled in); None for a profile rule."""
        return None if self.role_arn is None else self.role_arn.replace("{account}", account_id)

    def batch_for(self, account_id: str) -> tuple[str | None, str | None]:
        """(bucket, service role ARN) of batch jobs submitted in ``account_id``, ``{account}`` filled in."""
        fill = account_id.join
        return (None if self.batch_bucket is None else fill(self.batch_bucket.split("{account}")),
                None if self.batch_role_arn is None else fill(self.batch_role_arn.split("{account}")))

    @property
    def where(self) -> str:
        return f"fleet.access[{self.index}]"

    def describe(self, account_id: str | None = None) -> str:
        """``role arn:…:role/TierConsoleRead (fleet.access[2])``: how an account is reached (the role for that
        account, ``{account}`` filled in, when it is given), never a secret."""
        role = self.role_for(account_id) if account_id else self.role_arn
        how = f"aws_profile {self.aws_profile}" if self.aws_profile else f"role {role}"
        return f"{how} ({self.where})"


@dataclass(frozen=True)
class FleetSpec:
    discovery_seconds: float = 300.0
    quota_refresh_seconds: float = 3600.0
    models: tuple[str, ...] = ()  # empty: whatever ListMetrics finds
    names: Mapping[str, str] = field(default_factory=dict)  # account id -> name (overrides the link label)
    exclude: frozenset[str] = frozenset()
    access: tuple[AccessRule, ...] = ()
    reservations: Mapping[str, tuple[ReservationSpec, ...]] = field(default_factory=dict)  # account -> its own
    #: throttles by tier from one Metrics Insights query per region: True, False, or None (``auto``: on; the
    #: sandbox serves the subset the console asks since fleet-sbx e9104a0)
    insights: bool | None = None

    def use_insights(self, sandbox: bool) -> bool:
        return True if self.insights is None else self.insights

    def access_for(self, account_id: str, label: str | None) -> AccessRule | None:
        return match_access(self.access, account_id, label)

    def reserved_models(self, account_id: str) -> frozenset[str]:
        return frozenset(r.model_id for r in self.reservations.get(account_id, ()))


def match_access(rules: tuple[AccessRule, ...], account_id: str, label: str | None) -> AccessRule | None:
    """The first rule that matches the account (by id or by its link label), None when none does."""
    return next((r for r in rules if r.matches(account_id, label)), None)


def _of_kind(d: Mapping[str, Any], key: str, path: str, kind: type, words: str) -> Any:
    """``d[key]`` when it is ``kind`` (an empty one when absent), else an error in YAML words."""
    value = d.get(key)
    if value is None:
        return kind()
    if not isinstance(value, kind):
        raise ConfigError(f"{path}.{key}", f"must be {words}, got {kind_of(value)}: {show(value)}")
    return value


def _account_id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not ACCOUNT_ID.fullmatch(value):
        raise ConfigError(where, f"must be a 12-digit AWS account id in quotes, got {show(value)}")
    return value


def parse_rule(d: Any, path: str, index: int) -> AccessRule:
    d = _check_keys(d, _RULE_KEYS, path)
    match = _get(d, "match", path, str)
    if match.startswith(LABEL_PREFIX):
        if not match[len(LABEL_PREFIX):]:
            raise ConfigError(f"{path}.match", "label: needs a pattern after it (label:prod-*)")
    elif not _ID_GLOB.fullmatch(match):
        raise ConfigError(f"{path}.match", f"must be an account id, a glob over ids ('1111*', '*') or "
                                           f"'label:<glob>', got {show(match)}")
    profile = _get(d, "aws_profile", path, str, default=None)
    role = _get(d, "role_arn", path, str, default=None)
    if (profile is None) == (role is None):
        raise ConfigError(path, "give exactly one of aws_profile (a profile of ~/.aws/config) or role_arn "
                                "(a role assumed from the monitoring account)")
    if role is not None:
        _check_role(role, match, f"{path}.role_arn")
    batch_bucket = _get(d, "batch_bucket", path, str, default=None)
    if batch_bucket is not None and not (_BUCKET.fullmatch(batch_bucket) and (
            "{account}" in batch_bucket or ACCOUNT_ID.fullmatch(match))):
        raise ConfigError(f"{path}.batch_bucket", "must be an S3 bucket name with {account} in it (each drilled "
                                                  "account's own bucket: my-batch-{account}; a fixed name only in a "
                                                  f"rule matching one account id), got {show(batch_bucket)}")
    batch_role = _get(d, "batch_role_arn", path, str, default=None)
    if batch_role is not None:
        _check_role(batch_role, match, f"{path}.batch_role_arn")
    if (batch_bucket is None) != (batch_role is None):
        raise ConfigError(path, "give both batch_bucket and batch_role_arn (a drilled account's batch jobs need its "
                                "own bucket and service role), or neither")
    external = _get(d, "external_id", path, str, default=None)
    if external is not None and role is None:
        raise ConfigError(f"{path}.external_id", "applies to role_arn only")
    return AccessRule(match=match, aws_profile=profile, role_arn=role, external_id=external,
                      console_profile=_get(d, "console_profile", path, str, default=None),
                      read_only=_get(d, "read_only", path, bool, default=None), batch_bucket=batch_bucket,
                      batch_role_arn=batch_role, index=index)


def _check_role(role: str, match: str, where: str) -> None:
    m = _ROLE_ARN.fullmatch(role)
    if m is None:
        raise ConfigError(where, f"must be an IAM role ARN (arn:aws:iam::{{account}}:role/NAME), got {show(role)}")
    fixed = m.group(1)
    if fixed != "{account}" and fixed != match:
        raise ConfigError(where, f"names account {fixed} but the rule matches {show(match)}: "
                                 "write {account} in its place, or match that one account")


def parse_fleet(doc: Any, path: str = "fleet") -> FleetSpec:
    d = _check_keys(doc if doc is not None else {}, _KEYS, path)
    models = _of_kind(d, "models", path, list, "a list of model ids")
    for i, m in enumerate(models):
        if not isinstance(m, str) or not m:
            raise ConfigError(f"{path}.models[{i}]", f"must be a model id, got {show(m)}")
    names_doc = _of_kind(d, "names", path, dict, "a mapping of account id to name")
    names = {}
    for key, name in names_doc.items():
        where = f"{path}.names.{field_name(key)}"
        _account_id(key, where)
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(where, f"must be a name, got {show(name)}")
        names[key] = name
    exclude = _of_kind(d, "exclude", path, list, "a list of account ids")
    for i, a in enumerate(exclude):
        _account_id(a, f"{path}.exclude[{i}]")
    rules = _of_kind(d, "access", path, list, "a list of rules (match + aws_profile or role_arn)")
    access = tuple(parse_rule(r, f"{path}.access[{i}]", i) for i, r in enumerate(rules))
    res_doc = _of_kind(d, "reservations", path, dict, "a mapping of account id to its reservations")
    reservations = {}
    for key, items in res_doc.items():
        where = f"{path}.reservations.{field_name(key)}"
        _account_id(key, where)
        if not isinstance(items, list):
            raise ConfigError(where, f"must be a list of reservations, got {kind_of(items)}")
        reservations[key] = tuple(parse_reservation(r, f"{where}[{i}]", i) for i, r in enumerate(items))
    insights = d.get("insights", "auto")
    if insights not in ("auto", True, False):
        raise ConfigError(f"{path}.insights", f"must be auto, true or false, got {show(insights)}")
    return FleetSpec(
        insights=None if insights == "auto" else bool(insights),
        discovery_seconds=_get(d, "discovery_seconds", path, float, default=300.0, minimum=10),
        quota_refresh_seconds=_get(d, "quota_refresh_seconds", path, float, default=3600.0, minimum=60),
        models=tuple(models), names=names, exclude=frozenset(exclude), access=access, reservations=reservations)
