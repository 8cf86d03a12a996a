"""Injected faults for drills and tests: `tierconsole sandbox --faults SPEC`.

SPEC is a comma-separated list of rules ``KIND[=ARG][@PROBABILITY][#COUNT][:SERVICE][+account=ID][+region=R]``:

=============  ======================================================================
KIND           effect on a matching request
=============  ======================================================================
``503``        ``ServiceUnavailableException`` (503) where the operation declares it, else ``ServiceUnavailable``
``500``        the operation's internal error (``InternalServerException``, Service Quotas ``ServiceException``,
               CloudWatch ``InternalServiceError``), else ``InternalFailure`` (S3: ``InternalError``)
``throttle``   the service's own throttling error (429/400), e.g. CloudWatch ``Throttling``, S3 ``SlowDown`` 503
``slow=D``     answered D later (e.g. ``slow=15s``): past a client's read timeout
``reset``      the connection is dropped before the request is handled
``lost``       the request IS handled, then the connection is dropped (the answer is lost)
``expired``    ``ExpiredTokenException`` (403; S3: ``ExpiredToken`` 400)
``denied``     ``AccessDeniedException`` (403; ``AccessDenied`` for STS, CloudWatch and S3)
``down=D/P``   the endpoint drops every connection for D out of every P (e.g. ``down=10s/60s``)
``badframe``   a streamed answer's first text frame has a bad checksum (a corrupt event stream)
``cut``        a streamed answer's connection is dropped after its first text frame
``notready``   ``ModelNotReadyException`` (429, like a throttle but not one) on runtime calls
               (``bedrock/model/`` unless a narrower path is given)
=============  ======================================================================

``badframe`` and ``cut`` act on event-stream answers (ConverseStream,
InvokeModelWithResponseStream); other requests they match are answered as usual.

``@P`` applies a rule to a fraction P of matching requests (default 1); ``#N`` to the first N
only (N at most 1,000,000,000); ``:SERVICE`` to one SigV4 service name (``bedrock``,
``monitoring``, ``s3``, ``sts``, ``sns``, ``servicequotas``; default all), and ``:SERVICE/PATH`` to
request paths starting with PATH. Durations (``slow=D``, ``down=D/P``) are at most a day.
``+account=ID`` limits a rule to requests acting in that account (a fleet sandbox tells it from the
access key), ``+region=R`` to requests signed for that region: a drill of one source account denied
(``denied:servicequotas+account=200000000007``) or one region down (``reset+region=eu-west-1``).
Example: ``503@0.3:bedrock,slow=15s@0.2:monitoring,lost#1:bedrock/model-invocation-job``.
Faults can also be changed while the sandbox runs (``sandbox.faults.rules``), for tests.
"""
from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass

from .choices import FAULT_KINDS

KINDS = FAULT_KINDS  # the command line's help lists them from .choices
STREAM_KINDS = ("badframe", "cut")  # act on a streamed answer, not on the request
_RULE = re.compile(r"^(?P<kind>[a-z0-9]+)(?:=(?P<arg>[^@#:+]+))?(?:@(?P<p>[0-9.]+))?(?:#(?P<n>\d+))?(?::(?P<svc>[a-z0-9-]+)(?P<path>/[^,+]*)?)?"
                   r"(?P<quals>(?:\+(?:account=\d{12}|region=[a-z]{2}(?:-[a-z]+)+-\d{1,2}))*)$")


MAX_DELAY_S = 86_400.0  # slow=D, down=D/P: at most a day
MAX_COUNT = 1_000_000_000  # #N


class FaultSpecError(ValueError):
    pass


def _seconds(text: str, rule: str) -> float:
    m = re.fullmatch(r"(\d{1,12}(?:\.\d{1,9})?)(ms|s|m)?", text.strip())
    if not m:
        raise FaultSpecError(f"fault {rule!r}: {text[:40]!r} is not a duration like 500ms, 15s or 2m")
    value = float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[m.group(2)]
    if value > MAX_DELAY_S:
        raise FaultSpecError(f"fault {rule!r}: {text!r} is longer than a day ({MAX_DELAY_S:g}s), the longest "
                             "a fault lasts")
    return value


@dataclass
class Rule:
    kind: str
    probability: float = 1.0
    remaining: int | None = None
    service: str | None = None
    path: str | None = None
    delay_s: float = 0.0
    down_s: float = 0.0
    period_s: float = 0.0
    text: str = ""
    account: str | None = None  # +account=ID
    region: str | None = None  # +region=R


@dataclass(frozen=True)
class Fault:
    kind: str
    delay_s: float = 0.0


def parse_faults(spec: str | None) -> list[Rule]:
    rules: list[Rule] = []
    for raw in (spec or "").split(","):
        text = raw.strip()
        if not text:
            continue
        m = _RULE.match(text)
        if not m or m.group("kind") not in KINDS:
            raise FaultSpecError(f"fault {text!r}: expected KIND[=ARG][@P][#N][:SERVICE][+account=ID][+region=R] "
                                 f"with KIND one of {', '.join(KINDS)}")
        kind, arg = m.group("kind"), m.group("arg")
        quals = dict(q.split("=", 1) for q in m.group("quals").split("+")[1:])
        rule = Rule(kind=kind, service=m.group("svc"), path=m.group("path"), text=text,
                    account=quals.get("account"), region=quals.get("region"))
        if m.group("p") is not None:
            p = m.group("p")
            rule.probability = float(p) if re.fullmatch(r"\d{1,3}(?:\.\d{1,12})?|\.\d{1,12}", p) else -1.0
            if not 0 < rule.probability <= 1:
                raise FaultSpecError(f"fault {text!r}: probability must be a number in (0, 1], got {p[:40]!r}")
        if m.group("n") is not None:
            n = m.group("n")
            if len(n) > len(str(MAX_COUNT)) or int(n) > MAX_COUNT:
                raise FaultSpecError(f"fault {text!r}: #N counts at most {MAX_COUNT:,} requests, got {n[:40]}")
            rule.remaining = int(n)
        if kind == "slow":
            if not arg:
                raise FaultSpecError(f"fault {text!r}: slow needs a delay, e.g. slow=15s")
            rule.delay_s = _seconds(arg, text)
        elif kind == "down":
            if not arg or "/" not in arg:
                raise FaultSpecError(f"fault {text!r}: down needs DOWN/PERIOD, e.g. down=10s/60s")
            d, p = arg.split("/", 1)
            rule.down_s, rule.period_s = _seconds(d, text), _seconds(p, text)
            if not 0 < rule.down_s < rule.period_s:
                raise FaultSpecError(f"fault {text!r}: DOWN must be shorter than PERIOD")
        elif arg:
            raise FaultSpecError(f"fault {text!r}: {kind} takes no argument")
        if kind == "notready":  # a bedrock-runtime error: no other operation declares it
            if rule.service not in (None, "bedrock") or rule.path and not rule.path.startswith("/model/"):
                raise FaultSpecError(f"fault {text!r}: notready applies to runtime calls only (:bedrock/model/)")
            rule.service, rule.path = "bedrock", rule.path or "/model/"
        rules.append(rule)
    return rules


class Faults:
    def __init__(self, rules: list[Rule] | None = None, seed: int = 0):
        self.rules = list(rules or [])
        self._rng = random.Random(seed)
        self._t0 = time.monotonic()
        self.injected: dict[str, int] = {}

    def pick(self, service: str, path: str = "/", account: str | None = None,
             region: str | None = None) -> Fault | None:
        """The fault for one request to ``service`` at ``path`` acting in ``account`` and ``region``, or None."""
        for rule in self.rules:
            if rule.service and rule.service != service or rule.path and not path.startswith(rule.path):
                continue
            if rule.account and rule.account != account or rule.region and rule.region != region:
                continue
            if rule.kind == "down":
                if (time.monotonic() - self._t0) % rule.period_s < rule.down_s:
                    return self._hit(rule)
                continue
            if rule.remaining is not None and rule.remaining <= 0:
                continue
            if rule.probability < 1 and self._rng.random() >= rule.probability:
                continue
            if rule.remaining is not None:
                rule.remaining -= 1
            return self._hit(rule)
        return None

    def _hit(self, rule: Rule) -> Fault:
        self.injected[rule.kind] = self.injected.get(rule.kind, 0) + 1
        return Fault("reset" if rule.kind == "down" else rule.kind, rule.delay_s)


# The codes each kind answers with: the first of ``DECLARED`` that the operation's botocore model declares
# (with the status the model gives it), else AWS's common error of the service's protocol family (``COMMON``).
DECLARED = {
    "503": ("ServiceUnavailableException",),
    "500": ("InternalServerException", "ServiceException", "InternalServiceError"),
    "throttle": ("ThrottlingException", "TooManyRequestsException", "Throttling"),
    "denied": ("AccessDeniedException", "AccessDenied"),
    "expired": ("ExpiredTokenException",),
    "notready": ("ModelNotReadyException",),  # runtime operations only (checked when the rule is parsed)
}
COMMON = {  # family -> kind -> (code, status), from AWS's common errors (S3: its own error codes)
    "json": {"503": ("ServiceUnavailable", 503), "500": ("InternalFailure", 500),
             "throttle": ("ThrottlingException", 400), "denied": ("AccessDeniedException", 400),
             "expired": ("ExpiredTokenException", 403), "notready": ("ModelNotReadyException", 429)},
    "query": {"503": ("ServiceUnavailable", 503), "500": ("InternalFailure", 500), "throttle": ("Throttling", 400),
              "denied": ("AccessDenied", 403), "expired": ("ExpiredTokenException", 403)},
    "s3": {"503": ("ServiceUnavailable", 503), "500": ("InternalError", 500), "throttle": ("SlowDown", 503),
           "denied": ("AccessDenied", 403), "expired": ("ExpiredToken", 400)},
}
FAMILY = {"s3": "s3", "sts": "query", "monitoring": "query", "sns": "query"}  # others (bedrock, servicequotas) speak JSON
MESSAGES = {"503": "Service unavailable (sandbox fault injection).",
            "500": "Internal error (sandbox fault injection).",
            "throttle": "Rate exceeded (sandbox fault injection).",
            "denied": "User is not authorized to perform this action (sandbox fault injection).",
            "expired": "The security token included in the request is expired (sandbox fault injection).",
            "notready": "Model is not ready to serve inference requests (sandbox fault injection)."}


def error_for(kind: str, service: str, operation: str | None = None) -> tuple[str, str, int]:
    """(code, message, status) of an injected error ``kind`` for ``operation`` of ``service`` (signing name)."""
    from .botomodel import declared_errors  # noqa: PLC0415 - botocore's models, loaded with the first fault

    declared = declared_errors(service, operation)
    family = FAMILY.get(service, "json")
    for code in DECLARED[kind]:
        if code in declared:
            status = declared[code][1] or COMMON[family][kind][1]
            if kind == "500" and status < 500:
                status = 500
            return code, MESSAGES[kind], status
    code, status = COMMON[family][kind]
    return code, MESSAGES[kind], status
