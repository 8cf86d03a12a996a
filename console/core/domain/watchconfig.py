"""The profile's ``watch:`` and ``alerts:`` sections: the detector's settings, the sinks and the alert rules.

```yaml
alert_threshold: 0.8              # the base threshold (the console's "over")
watch:
  throttles_per_minute: 30        # a throttle storm: a model's throttles per complete minute at or above this
  errors_per_minute: 10           # an error storm (an outage): its server errors (5xx) per complete minute
  storm_minutes: 1                # ... for this many minutes in a row ("for a minute"); it ends after
  clear_minutes: 1                # this many below
  clear_seconds: 30               # a quota back under the threshold this long ends its episode
  stale_after_seconds: 30         # panes failing this long: data stale
  metric_delay_seconds: 5         # CloudWatch publishes a minute late by up to this (docs give no figure)
  overflow_min_tpm: 0             # reservation overflow above this is an episode (the sandbox's figure)
  sinks:
    oncall: {type: webhook, url_env: ONCALL_SLACK_URL, format: slack, retries: 5, timeout: 10}
    pager:  {type: sns, topic_arn: "arn:aws:sns:us-east-1:123456789012:oncall"}
    local:  {type: exec, command: [/usr/local/bin/notify, --json], timeout: 10}
alerts:
  - name: quota-hot
    events: [quota_over]          # which event kinds
    threshold: 0.9                # its own threshold (default: alert_threshold)
    rate: 50                      # its own storm rate (throttles per minute)
    for: 120                      # seconds a quota stays over before the alert
    cooldown: 900                 # seconds after an alerted episode ends during which a new one is not sent
    resolve: true                 # send a resolution when the episode ends
    models: [amazon.nova-lite-v1:0]
    states: [Failed, Expired]     # batch_state: only changes to these statuses
    severity: critical            # info | warning | critical
    sinks: [oncall, pager]        # the command line's sinks get every rule's alerts too
```

Pure: errors are :class:`ConfigError` with the field path; the profile loader adds file and line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

from .checks import ConfigError, _check_keys, _get, _names, show
from .durations import DURATION_HELP, parse_duration
from .events import KINDS, WatchSettings

SINK_TYPES = ("exec", "webhook", "sns")
SEVERITIES = ("info", "warning", "critical")
BATCH_STATES = ("Submitted", "Validating", "Scheduled", "InProgress", "Completed", "PartiallyCompleted", "Failed",
                "Stopping", "Stopped", "Expired")
#: The default rule (no ``alerts:``): every episode, batch jobs that did not complete, quota value changes.
DEFAULT_BATCH_STATES = frozenset({"Failed", "Expired", "Stopped", "PartiallyCompleted"})
MAX_SECONDS = 86_400.0
#: what a fleet watch can see per account × region (no batch jobs or server errors are read per account)
FLEET_KINDS = frozenset({"quota_over", "throttle_storm", "overflow", "stale", "quota_value"})
_WATCH_KEYS = {"throttles_per_minute", "errors_per_minute", "storm_minutes", "clear_minutes", "clear_seconds", "stale_after_seconds",
               "metric_delay_seconds", "overflow_min_tpm", "sinks"}
_RULE_KEYS = {"name", "events", "threshold", "rate", "for", "cooldown", "resolve", "models", "states", "severity",
              "sinks"}
_SINK_KEYS = {"exec": {"type", "command", "timeout", "retries"},
              "webhook": {"type", "url", "url_env", "format", "timeout", "retries"},
              "sns": {"type", "topic_arn", "timeout", "retries"}}
TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z0-9]+)+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


_SECRET_ARG = re.compile(r"(?i)^(-*[a-z0-9_-]*(token|secret|passw|api[_-]?key|auth)[a-z0-9_-]*=).+")
_URL_ARG = re.compile(r"^([a-z][a-z0-9+.-]*://[^/?#]+)[/?#].+", re.I)


def _unsecret(arg: str) -> str:
    """An exec argument as the watch may print it: ``--token=***``, ``https://host/…``."""
    return _URL_ARG.sub(r"\1/…", _SECRET_ARG.sub(r"\1***", arg))


#: words a shell would read as operators: with no shell they reach the program as literal arguments
SHELL_WORDS = re.compile(r"^(>>?|<|\||\|\||&&?|;|2>.*|>.*|\|.*|&&.*|;.*|.*;|\$\(.*|`.*)$")


def shell_words(command: tuple[str, ...]) -> list[str]:
    """The arguments of ``command`` that look like shell syntax (``>>``, ``|``, ``&&``, ``;``, ``$(``)."""
    return [w for w in command[1:] if SHELL_WORDS.match(w)]


@dataclass(frozen=True)
class SinkSpec:
    """Where alerts go. ``url`` of a webhook is a secret (never printed: see :meth:`describe`)."""

    name: str
    type: str  # exec | webhook | sns
    command: tuple[str, ...] = ()
    url: str | None = field(default=None, repr=False)
    url_env: str | None = None
    format: str = "slack"  # webhook: slack | json
    topic_arn: str | None = None
    timeout: float = 10.0
    retries: int = 5

    def describe(self) -> str:
        """What the sink is, with no secret: ``exec notify --json '>>' out.txt`` (the whole argv, quoted as a
        shell would need it; a ``--token=…``-like value and a URL's path hidden), ``webhook $ONCALL_SLACK_URL``,
        ``webhook https://hooks.slack.com/… (redacted)``, ``sns arn:aws:sns:…:oncall``."""
        if self.type == "exec":
            import shlex  # noqa: PLC0415 - not on the console's way to its first frame

            return shlex.join(map(_unsecret, self.command)) if self.command else "exec"
        if self.type == "webhook":
            if self.url_env:
                return f"webhook ${self.url_env} ({self.format})"
            host = (self.url or "").split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
            return f"webhook {(self.url or '').split('://', 1)[0]}://{host}/… (redacted, {self.format})"
        return f"sns {self.topic_arn}"


@dataclass(frozen=True)
class AlertRule:
    name: str
    events: frozenset[str]
    threshold: float | None = None
    rate: float | None = None
    hold_s: float = 0.0
    cooldown_s: float = 300.0
    resolve: bool = True
    models: frozenset[str] = frozenset()
    states: frozenset[str] = frozenset()
    severity: str = "warning"
    sinks: tuple[str, ...] = ()

    def matches(self, kind: str, model: str | None, details: Mapping[str, Any]) -> bool:
        if kind not in self.events:
            return False
        if self.models and model not in self.models:
            return False
        return not (kind == "batch_state" and self.states and details.get("to") not in self.states)


DEFAULT_RULE = AlertRule("default", frozenset(KINDS), states=DEFAULT_BATCH_STATES)


@dataclass(frozen=True)
class WatchConfig:
    settings: WatchSettings = WatchSettings()
    rules: tuple[AlertRule, ...] = (DEFAULT_RULE,)
    sinks: Mapping[str, SinkSpec] = field(default_factory=dict)

    def rule_settings(self, rule: AlertRule) -> WatchSettings:
        """The detector parameters a rule's alerts come from: the base ones with the rule's own."""
        s = self.settings
        return replace(s, threshold=s.threshold if rule.threshold is None else rule.threshold,
                       storm_rate=s.storm_rate if rule.rate is None else rule.rate, hold_s=rule.hold_s)

    def condition_of(self, rule: AlertRule) -> str:
        """The detector a rule's alerts come from: ``watch`` (the log's) when its parameters are the same."""
        return "watch" if self.rule_settings(rule) == self.settings else rule.name


def _seconds(d: Mapping[str, Any], key: str, path: str, default: float) -> float:
    """Seconds: a number, or a duration as ``--duration`` takes it (``15m``, ``1h``, ``1m30s``)."""
    value = d.get(key)
    if isinstance(value, str):
        try:
            d = {key: parse_duration(value)}
        except ValueError:
            raise ConfigError(f"{path}.{key}", f"must be seconds, a number or a duration such as 15m or 1h "
                                               f"({DURATION_HELP}), got {show(value)}") from None
    elif value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ConfigError(f"{path}.{key}", f"must be seconds, a number or a duration such as 15m or 1h, got "
                                           f"{show(value)}")
    return float(_get(d, key, path, float, default=default, minimum=0, maximum=MAX_SECONDS))


def parse_watch(watch: Any, alerts: Any, *, threshold: float = 0.8, sandbox: bool = False,
                models: Sequence[str] = (), fleet: bool = False) -> WatchConfig:
    """``models``: the profile's model ids, which a rule's ``models`` must name (empty: not known, not checked).
    ``fleet``: the profile is a fleet's, so a rule none of whose events a fleet watch fires on is an error."""
    w = _check_keys(watch if watch is not None else {}, _WATCH_KEYS, "watch")
    settings = WatchSettings(
        threshold=threshold,
        storm_rate=_get(w, "throttles_per_minute", "watch", float, default=30.0, minimum=1, maximum=1e9),
        error_rate=_get(w, "errors_per_minute", "watch", float, default=10.0, minimum=1, maximum=1e9),
        storm_minutes=_get(w, "storm_minutes", "watch", int, default=1, minimum=1, maximum=60),
        clear_minutes=_get(w, "clear_minutes", "watch", int, default=1, minimum=1, maximum=60),
        clear_s=_seconds(w, "clear_seconds", "watch", 30.0),
        stale_after_s=_seconds(w, "stale_after_seconds", "watch", 30.0),
        metric_delay_s=float(_get(w, "metric_delay_seconds", "watch", float, default=5.0 if sandbox else 60.0,
                                  minimum=0, maximum=600)),
        overflow_min_tpm=_get(w, "overflow_min_tpm", "watch", float, default=0.0, minimum=0))
    sinks = _parse_sinks(w.get("sinks"))
    if alerts is None:
        return WatchConfig(settings, (DEFAULT_RULE,), sinks)
    if not isinstance(alerts, list):
        raise ConfigError("alerts", f"must be a list of alert rules, got {show(alerts)}")
    rules: list[AlertRule] = []
    for i, doc in enumerate(alerts):
        rule = _parse_rule(doc, f"alerts[{i}]", sinks, tuple(models))
        if any(r.name == rule.name for r in rules):
            raise ConfigError(f"alerts[{i}].name", f"{show(rule.name)} names two rules; give each its own name")
        if fleet and not rule.events & FLEET_KINDS:
            raise ConfigError(f"alerts[{i}].events", f"rule {show(rule.name)} can never fire on a fleet: "
                                                     f"{', '.join(sorted(rule.events))} are not read per account "
                                                     f"(a fleet watch fires on {', '.join(sorted(FLEET_KINDS))})")
        rules.append(rule)
    return WatchConfig(settings, tuple(rules), sinks)


def _parse_rule(doc: Any, path: str, sinks: Mapping[str, SinkSpec], known: tuple[str, ...] = ()) -> AlertRule:
    d = _check_keys(doc, _RULE_KEYS, path)
    name = _get(d, "name", path, str)
    if not name.strip() or "|" in name:
        raise ConfigError(f"{path}.name", f"must be a name without '|', got {show(name)}")
    events = _names(d, "events", path)
    if not events:
        raise ConfigError(f"{path}.events", f"is required: a list of event kinds ({', '.join(KINDS)})")
    for j, kind in enumerate(events):
        if kind not in KINDS:
            raise ConfigError(f"{path}.events[{j}]", f"{show(kind)} is not an event kind ({', '.join(KINDS)})")
    states = _names(d, "states", path)
    for j, state in enumerate(states):
        if state not in BATCH_STATES:
            raise ConfigError(f"{path}.states[{j}]", f"{show(state)} is not a batch job status "
                                                     f"({', '.join(BATCH_STATES)})")
    names = _names(d, "sinks", path)
    for j, sink in enumerate(names):
        if sink not in sinks:
            listed = ", ".join(sinks) or "none: define them under watch.sinks"
            raise ConfigError(f"{path}.sinks[{j}]", f"no sink named {show(sink)} (sinks: {listed})")
    for j, model in enumerate(_names(d, "models", path)):
        if known and model not in known:
            raise ConfigError(f"{path}.models[{j}]", f"{show(model)} is not a model of this profile "
                                                     f"(models: {', '.join(known)})")
    severity = _get(d, "severity", path, str, default="warning")
    if severity not in SEVERITIES:
        raise ConfigError(f"{path}.severity", f"must be one of {', '.join(SEVERITIES)}, got {show(severity)}")
    threshold = _get(d, "threshold", path, float, default=None, minimum=0, maximum=1)
    for key, kind, what in (("threshold", "quota_over", "a quota's use"), ("rate", "throttle_storm",
                            "throttles per minute"), ("states", "batch_state", "batch job statuses")):
        if d.get(key) is not None and kind not in events:
            raise ConfigError(f"{path}.{key}", f"applies to {kind} only ({what}); this rule's events "
                                               f"({', '.join(events)}) cannot use it")
    return AlertRule(name=name, events=frozenset(events), threshold=threshold,
                     rate=_get(d, "rate", path, float, default=None, minimum=1, maximum=1e9),
                     hold_s=_seconds(d, "for", path, 0.0), cooldown_s=_seconds(d, "cooldown", path, 300.0),
                     resolve=_get(d, "resolve", path, bool, default=True), models=frozenset(_names(d, "models", path)),
                     states=frozenset(states), severity=severity, sinks=names)


def _parse_sinks(doc: Any) -> dict[str, SinkSpec]:
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        raise ConfigError("watch.sinks", f"must be a mapping of sink name to sink, got {show(doc)}")
    out: dict[str, SinkSpec] = {}
    for name, spec in doc.items():
        path = f"watch.sinks.{name}"
        if not isinstance(name, str) or not name or "|" in name:
            raise ConfigError("watch.sinks", f"a sink name must be a non-empty string, got {show(name)}")
        kind = spec.get("type") if isinstance(spec, Mapping) else None
        if kind not in SINK_TYPES:
            raise ConfigError(f"{path}.type", f"must be one of {', '.join(SINK_TYPES)}, got {show(kind)}")
        d = _check_keys(spec, _SINK_KEYS[kind], path)
        common: dict[str, Any] = dict(name=name, type=kind, timeout=_get(d, "timeout", path, float, default=10.0,
                                                                          minimum=0.1, maximum=600),
                                      retries=_get(d, "retries", path, int, default=5, minimum=0, maximum=20))
        out[name] = _sink(kind, d, path, common)
    return out


def _sink(kind: str, d: Mapping[str, Any], path: str, common: dict[str, Any]) -> SinkSpec:
    if kind == "exec":
        command = d.get("command")
        if isinstance(command, str):
            import shlex  # noqa: PLC0415 - standard library, only for a command given as one string

            command = shlex.split(command)
        if not isinstance(command, list) or not command or not all(isinstance(a, str) and a for a in command):
            raise ConfigError(f"{path}.command", f"must be a command line (a list of words), got {show(command)}")
        return SinkSpec(command=tuple(command), **common)
    if kind == "webhook":
        if ("url" in d) == ("url_env" in d):
            raise ConfigError(path, "give either url or url_env (the name of an environment variable holding it)")
        url, env = d.get("url"), d.get("url_env")
        if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
            raise ConfigError(f"{path}.url", "must be an http:// or https:// URL")  # the value is a secret: not shown
        if env is not None and (not isinstance(env, str) or not _ENV_NAME.fullmatch(env)):
            raise ConfigError(f"{path}.url_env", f"must be an environment variable name, got {show(env)}")
        fmt = _get(d, "format", path, str, default="slack")
        if fmt not in ("slack", "json"):
            raise ConfigError(f"{path}.format", f"must be slack or json, got {show(fmt)}")
        return SinkSpec(url=url, url_env=env, format=fmt, **common)
    arn = _get(d, "topic_arn", path, str)
    if not TOPIC_ARN.fullmatch(arn):
        raise ConfigError(f"{path}.topic_arn", f"must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME), "
                                               f"got {show(arn)}")
    return SinkSpec(topic_arn=arn, **common)
