"""Which sandbox answers at an endpoint: standard library only (the daemon imports it at start-up).

Every sandbox has an instance id (random, or given by its starter in :data:`ENV`). Every response it
sends carries it in :data:`HEADER`, and ``GET`` :data:`PATH` answers ``{"instance": ..., "pid": ...}``
(unauthenticated, never faulted, never in the access log). The console records the id in its 0600 state
file and acts on an endpoint only when it answers with that id: a foreign server on the port (an
``http.server``, another user's sandbox) is never taken for its own.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

HEADER = "x-tierconsole-sandbox"
PATH = "/_tierconsole/sandbox"  # "_" is not allowed in a bucket name: no S3 path-style request looks like it
ENV = "TIERCONSOLE_SANDBOX_INSTANCE"


def new_instance() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Answer:
    """What an endpoint said to the identity probe: ``answered`` False when nothing answered in time."""

    answered: bool
    instance: str | None = None
    pid: int | None = None

    def is_(self, instance: str, pid: int | None = None) -> bool:
        return self.answered and self.instance == instance and (pid is None or self.pid in (None, pid))


def probe(endpoint: str, timeout: float = 3.0) -> Answer:
    """Ask ``endpoint`` which sandbox it is (no proxy: it is our own loopback URL)."""
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{endpoint.rstrip('/')}{PATH}", timeout=timeout) as resp:
            headers, body = resp.headers, resp.read(4096)
    except urllib.error.HTTPError as e:  # an answer, from something that is not a sandbox (or an old one)
        return Answer(True, e.headers.get(HEADER) if e.headers else None)
    except (OSError, ValueError):
        return Answer(False)
    try:
        pid = json.loads(body).get("pid")
    except (ValueError, AttributeError):
        pid = None
    return Answer(True, headers.get(HEADER), pid if isinstance(pid, int) else None)
