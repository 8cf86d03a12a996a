"""The background sandbox: ``tierconsole sandbox start|stop|status``, one per user.

``start`` runs ``tierconsole sandbox`` (the foreground command, unchanged) as a detached process —
its own session, standard input closed, output to a log file — waits until its endpoint answers, and
records its pid and endpoint in a state file (0600, in a 0700 directory):
``$XDG_RUNTIME_DIR/tierconsole/sandbox.json`` when ``XDG_RUNTIME_DIR`` is set, else
``$XDG_STATE_HOME/tierconsole/sandbox.json`` (default ``~/.local/state``). A lock file beside it makes
two concurrent starts start one sandbox. ``stop`` sends SIGTERM and waits for the process to exit
(SIGKILL after :data:`STOP_WAIT_S`).

**The right target, or none.** Each background sandbox gets a random instance id (:mod:`.identity`),
passed to it in its environment and written in the state file. ``start`` returns only once *its own
child* answers at the endpoint with that id (a foreign server on the port — an ``http.server``, another
user's sandbox — is not an answer; the child, failing to bind, exits 2 with its own message). Whoever
reads the state file checks the same: the pid must be a live process started with that id (its
``/proc/PID/environ``), else the file is stale and removed, and nothing attaches to an endpoint, nor
signals a pid, that does not prove to be the recorded sandbox.

Console profiles with a ``sandbox:`` section *attach* to the background sandbox started from a config
*saying the same* (a digest of the effective sandbox config, :func:`.config.config_digest`; not the file's
path, so ``./profiles/sandbox.yaml`` of a checkout and the built-in file share one): their calls go to its
endpoint, with the access keys of its ``--auth`` file when it has one (:mod:`.attach`). The commands'
output and exit codes are :mod:`.commands`. Only the standard library is imported at module level.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from . import identity

STATE_NAME = "sandbox.json"
LOCK_NAME = "sandbox.lock"
LOG_NAME = "sandbox.log"
DEFAULT_PORT = 4599
START_WAIT_S = 60.0  # a cold start imports moto and the AWS stack: seconds on a slow machine
STOP_WAIT_S = 15.0
PROBE_TIMEOUT_S = 3.0  # an idle sandbox answers in milliseconds; a loaded machine may take a while
EXIT_NOT_RUNNING = 3  # `sandbox status` with nothing running (as `systemctl status`)
EXIT_UNVERIFIED = 1  # `sandbox status`: a sandbox is recorded and alive but does not answer as itself

#: Background sandboxes this process started (the console says on exit that they keep running).
started_here: list["State"] = []


def state_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "tierconsole"
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "tierconsole"


def state_path() -> Path:
    return state_dir() / STATE_NAME


@dataclass(frozen=True)
class State:
    """What the state file holds about the running background sandbox."""

    pid: int
    endpoint: str
    instance: str  # the sandbox's instance id: its identity answer and its environment carry it
    config: str | None  # absolute path of the config file; None: the built-in profiles/sandbox.yaml
    config_digest: str  # what the config makes the sandbox serve (.config.config_digest)
    scenario: str  # the scenario it runs (the config's when none was given)
    speed: float
    auth: str | None  # absolute path of the --auth keys file; None: any credentials are accepted
    faults: str | None
    started: float  # epoch seconds, taken just before the process was started
    log: str

    def describe(self) -> str:
        return f"{self.endpoint} (pid {self.pid})"

    def clock(self) -> Callable[[], float]:
        """The sandbox's timeline as seen from here: the wall clock at speed 1; at another speed, an
        estimate from the start time (off by the start-up seconds times the speed)."""
        if self.speed == 1:
            return time.time
        origin, mono0 = self.started, time.monotonic() - (time.time() - self.started)
        return lambda: origin + (time.monotonic() - mono0) * self.speed

    def credentials(self) -> tuple[str, str] | None:
        """(access key id, secret) from the sandbox's --auth file, or None when it has none.
        Raises ConfigError when the file is gone or broken."""
        if not self.auth:
            return None
        from .auth import load_keys  # noqa: PLC0415

        key_id, secret = next(iter(load_keys(self.auth).items()))
        return key_id, secret


def config_label(config: str | None) -> str:
    return config or "the built-in profiles/sandbox.yaml"


def _pid_is(state: State) -> bool | None:
    """Whether ``state.pid`` is a live (not zombie) process started with ``state.instance`` in its
    environment: True, False, or None where this system cannot tell (no /proc)."""
    try:
        os.kill(state.pid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or another user's: not our sandbox
        return False
    except (OverflowError, ValueError):
        return False
    proc = Path(f"/proc/{state.pid}")
    if not proc.is_dir():
        return None
    try:
        stat = (proc / "stat").read_text()
        if stat[stat.rindex(")") + 2:][:1] in ("Z", "X"):
            return False
        environ = (proc / "environ").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return False
    return f"{identity.ENV}={state.instance}".encode() in environ  # else: the pid was reused


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _ensure_dir() -> Path:
    folder = state_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _remove_state() -> None:
    with contextlib.suppress(OSError):
        state_path().unlink()


def recorded() -> tuple[State | None, bool]:
    """The background sandbox the state file records, and whether it proved to be that sandbox (its
    pid carries its instance id and its endpoint answers with it). A state file that is unreadable, or
    whose pid is not that sandbox's, is stale and removed: (None, False). A recorded sandbox that is
    alive but does not answer as itself is returned with False: never attached to, and left alone
    (``stop`` stops it)."""
    path = state_path()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        state = State(**doc)
        if not (isinstance(state.pid, int) and isinstance(state.endpoint, str) and isinstance(state.instance, str)):
            raise TypeError("bad field types")
    except FileNotFoundError:
        return None, False
    except (OSError, ValueError, TypeError):  # torn, foreign, or written by an older version
        _remove_state()
        return None, False
    pid = _pid_is(state)
    if pid is False:
        _remove_state()
        return None, False
    answer = identity.probe(state.endpoint, PROBE_TIMEOUT_S)
    if answer.is_(state.instance, state.pid):
        return state, True
    if pid is None:  # nothing else vouches for the pid here: a sandbox that is not there is stale
        _remove_state()
        return None, False
    return state, False


def read_state() -> State | None:
    """The running background sandbox, proved to be the one recorded; else None."""
    state, proved = recorded()
    return state if proved else None


@contextlib.contextmanager
def _locked():
    """One start or stop at a time, across processes."""
    import fcntl  # noqa: PLC0415

    folder = _ensure_dir()
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _absolute(path: str | None) -> str | None:
    return str(Path(path).expanduser().resolve()) if path else None


class StartError(Exception):
    """The background sandbox did not start; ``code`` is the exit code to return."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def _not_itself(state: State) -> str:
    return (f"a background sandbox is recorded at {state.describe()}, but it does not answer there as itself; "
            "`tierconsole sandbox stop` stops it")


def _config(config: str | None) -> tuple[str, str]:
    """(digest, the scenario it names) of a config file, or of the built-in one. Raises StartError."""
    from ..core.domain.catalog import ConfigError  # noqa: PLC0415
    from .config import config_digest, config_document  # noqa: PLC0415

    try:
        doc = config_document(config)
    except ConfigError as e:
        raise StartError(str(e), 2) from None
    sb = doc.get("sandbox") if isinstance(doc, dict) else None
    scenario = sb.get("scenario") if isinstance(sb, dict) else None
    return config_digest(doc), scenario if isinstance(scenario, str) and scenario else "none"


def _differences(running: State, asked: dict[str, Any]) -> list[str]:
    """What a start asked that the running sandbox is not: its config (always compared, by content) and
    each option given a value other than its default."""
    said = []
    if asked["config_digest"] != running.config_digest:
        said.append(f"config {config_label(running.config)} (asked: {config_label(asked['config'])}, which "
                    "says something else)")
    if asked["scenario"] is not None and asked["scenario"] != running.scenario:
        said.append(f"scenario {running.scenario} (asked: {asked['scenario']})")
    if asked["speed"] != 1.0 and asked["speed"] != running.speed:
        said.append(f"speed {running.speed:g}x (asked: {asked['speed']:g}x)")
    if asked["auth"] is not None and asked["auth"] != running.auth:
        said.append(f"--auth {running.auth or 'off'} (asked: {asked['auth']})")
    if asked["faults"] is not None and asked["faults"] != running.faults:
        said.append(f"--faults {running.faults or 'none'} (asked: {asked['faults']})")
    port = running.endpoint.rsplit(":", 1)[-1]
    if asked["port"] not in (0, DEFAULT_PORT) and str(asked["port"]) != port:
        said.append(f"port {port} (asked: {asked['port']})")
    return said


def start(*, host: str = "127.0.0.1", port: int | None = None, config: str | None = None,
          scenario: str | None = None, speed: float = 1.0, access_log: str | None = None,
          auth: str | None = None, faults: str | None = None, wait: float = START_WAIT_S) -> tuple[State, bool]:
    """Start the background sandbox unless one runs. Returns (state, started): ``started`` is False
    when the one already running is what was asked (same config content; the options given, the same).
    Raises :class:`StartError`: with the sandbox's own message when it fails (exit 2 for a port in use),
    or naming what differs when another sandbox runs."""
    port = DEFAULT_PORT if port is None else port
    config = _absolute(config)
    digest, config_scenario = _config(config)
    scenario_arg = _absolute(scenario) if scenario and os.path.exists(scenario) else scenario
    asked = dict(config=config, config_digest=digest, scenario=scenario_arg, speed=float(speed),
                 auth=_absolute(auth), faults=faults, port=port)
    with _locked():
        running, proved = recorded()
        if running is not None:
            if not proved:
                raise StartError(_not_itself(running))
            differs = _differences(running, asked)
            if differs:
                raise StartError(f"a background sandbox already runs at {running.describe()} with "
                                 f"{'; '.join(differs)}. `tierconsole sandbox stop` stops it; then start again")
            return running, False
        if port == 0:
            port = _free_port(host)
        cmd = [sys.executable, "-m", "tierconsole.cli", "sandbox", "--host", host, "--port", str(port),
               "--speed", repr(float(speed))]
        for flag, value in (("--config", config), ("--scenario", scenario_arg),
                            ("--access-log", _absolute(access_log)), ("--auth", asked["auth"]),
                            ("--faults", faults)):
            if value is not None:
                cmd += [flag, value]
        log = state_dir() / LOG_NAME
        log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        instance = identity.new_instance()
        started = time.time()
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_fd, stderr=log_fd,
                                    start_new_session=True, close_fds=True,
                                    env={**os.environ, identity.ENV: instance})
        finally:
            os.close(log_fd)
        endpoint = f"http://{f'[{host}]' if ':' in host else host}:{port}"
        deadline = time.monotonic() + wait
        while True:
            code = proc.poll()
            if code is not None:  # e.g. the port is someone else's: the child says so and exits 2
                raise StartError(_failure(log, code), code if code == 2 else 1)
            # Only our own child, answering with its instance id, is an answer: not whatever holds the port.
            if identity.probe(endpoint, 0.5).is_(instance, proc.pid) and proc.poll() is None:
                break
            if time.monotonic() > deadline:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(STOP_WAIT_S)
                raise StartError(f"the sandbox did not answer at {endpoint} within {wait:g} s (log: {log})")
            time.sleep(0.1)
        state = State(pid=proc.pid, endpoint=endpoint, instance=instance, config=config, config_digest=digest,
                      scenario=scenario_arg or config_scenario, speed=float(speed), auth=asked["auth"],
                      faults=faults, started=started, log=str(log))
        _write_private(state_path(), json.dumps(asdict(state), indent=2) + "\n")
        started_here.append(state)
        return state, True


def _failure(log: Path, code: int) -> str:
    """The sandbox's own error lines (it names the problem: port in use, bad config…)."""
    try:
        lines = [ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    except OSError:
        lines = []
    errors = [ln.split("error: ", 1)[1] for ln in lines if "error: " in ln]
    return "; ".join(errors) or (lines[-1] if lines else f"the sandbox exited with code {code} (log: {log})")


def stop(wait: float = STOP_WAIT_S) -> State | None:
    """Stop the background sandbox: SIGTERM, wait, SIGKILL if it will not go. Returns what was stopped.
    Only a process proved to be the recorded sandbox is signalled (its pid carries its instance id, or,
    where that cannot be told, its endpoint answers with it)."""
    with _locked():
        state, _proved = recorded()  # a stale file is removed here; a pid that is not ours, never signalled
        if state is None:
            return None
        for sig, limit in ((signal.SIGTERM, wait), (signal.SIGKILL, 5.0)):
            if _pid_is(state) is False:
                break
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.pid, sig)
            deadline = time.monotonic() + limit
            while _pid_is(state) is not False and time.monotonic() < deadline:
                time.sleep(0.05)
        _remove_state()
        return state
