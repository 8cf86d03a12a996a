"""The background sandbox: ``tierconsole sandbox start|stop|status``, one per user.

``start`` runs ``tierconsole sandbox`` (the foreground command, unchanged) as a detached process —
its own session, standard input closed, output to a log file — waits until its endpoint answers, and
records its pid and endpoint in a state file (0600, in a 0700 directory):
``$XDG_RUNTIME_DIR/tierconsole/sandbox.json`` when ``XDG_RUNTIME_DIR`` is set, else
``$XDG_STATE_HOME/tierconsole/sandbox.json`` (default ``~/.local/state``). A lock file beside it makes
two concurrent starts start one sandbox. A state file whose pid is gone (or is no longer a tierconsole
process) is stale and removed by whoever reads it. ``stop`` sends SIGTERM and waits for the process to
exit (SIGKILL after :data:`STOP_WAIT_S`).

Console profiles with a ``sandbox:`` section *attach* to the background sandbox started from their own
file (the built-in ``sandbox`` profile to one started without ``--config``): their calls go to its
endpoint, with the access keys of its ``--auth`` file when it has one. Only the standard library is
imported at module level.
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

STATE_NAME = "sandbox.json"
LOCK_NAME = "sandbox.lock"
LOG_NAME = "sandbox.log"
DEFAULT_PORT = 4599
START_WAIT_S = 60.0  # a cold start imports moto and the AWS stack: seconds on a slow machine
STOP_WAIT_S = 15.0
EXIT_NOT_RUNNING = 3  # `sandbox status` with nothing running (as `systemctl status`)

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
    config: str | None  # absolute path of the config file; None: the built-in profiles/sandbox.yaml
    scenario: str | None
    speed: float
    auth: str | None  # absolute path of the --auth keys file; None: any credentials are accepted
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


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) tierconsole process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process: not our sandbox (a reused pid)
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            stat = (proc / "stat").read_text()
            if stat[stat.rindex(")") + 2:][:1] in ("Z", "X"):
                return False
            if b"tierconsole" not in (proc / "cmdline").read_bytes():
                return False  # the pid was reused by something else
        except (OSError, ValueError):
            return False
    return True


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


def read_state() -> State | None:
    """The running background sandbox, or None. A stale or unreadable state file is removed."""
    path = state_path()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        state = State(**doc)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    if not _alive(state.pid):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return state


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


def _answers(endpoint: str, timeout: float = 0.5) -> bool:
    """Whether an HTTP server answers at ``endpoint`` (any status: an error is an answer)."""
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    try:
        with urllib.request.urlopen(f"{endpoint}/", timeout=timeout):  # noqa: S310 - our own loopback URL
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


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


def start(*, host: str = "127.0.0.1", port: int = DEFAULT_PORT, config: str | None = None,
          scenario: str | None = None, speed: float = 1.0, access_log: str | None = None,
          auth: str | None = None, faults: str | None = None, wait: float = START_WAIT_S) -> tuple[State, bool]:
    """Start the background sandbox unless one runs. Returns (state, started): ``started`` is False
    when one was already running. Raises :class:`StartError` (with the sandbox's own message)."""
    with _locked():
        running = read_state()
        if running is not None:
            return running, False
        if port == 0:
            port = _free_port(host)
        scenario_arg = _absolute(scenario) if scenario and os.path.exists(scenario) else scenario
        cmd = [sys.executable, "-m", "tierconsole.cli", "sandbox", "--host", host, "--port", str(port),
               "--speed", repr(float(speed))]
        for flag, value in (("--config", _absolute(config)), ("--scenario", scenario_arg),
                            ("--access-log", _absolute(access_log)), ("--auth", _absolute(auth)),
                            ("--faults", faults)):
            if value is not None:
                cmd += [flag, value]
        log = state_dir() / LOG_NAME
        log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        started = time.time()
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_fd, stderr=log_fd,
                                    start_new_session=True, close_fds=True)
        finally:
            os.close(log_fd)
        endpoint = f"http://{f'[{host}]' if ':' in host else host}:{port}"
        deadline = time.monotonic() + wait
        while True:
            code = proc.poll()
            if code is not None:
                raise StartError(_failure(log, code), code if code == 2 else 1)
            if _answers(endpoint):
                break
            if time.monotonic() > deadline:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(STOP_WAIT_S)
                raise StartError(f"the sandbox did not answer at {endpoint} within {wait:g} s (log: {log})")
            time.sleep(0.1)
        state = State(pid=proc.pid, endpoint=endpoint, config=_absolute(config), scenario=scenario_arg,
                      speed=float(speed), auth=_absolute(auth), started=started, log=str(log))
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
    """Stop the background sandbox: SIGTERM, wait, SIGKILL if it will not go. Returns what was stopped."""
    with _locked():
        state = read_state()
        if state is None:
            return None
        for sig, limit in ((signal.SIGTERM, wait), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.pid, sig)
            deadline = time.monotonic() + limit
            while _alive(state.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not _alive(state.pid):
                break
        with contextlib.suppress(OSError):
            state_path().unlink()
        return state


# ------------------------------------------------------------------ attaching profiles

def _config_of(profile: Any) -> str | None:
    """The config a sandbox profile's background sandbox is started from: None for the built-in one."""
    return None if profile.origin == "built-in" else _absolute(profile.source)


def for_profile(profile: Any) -> State | None:
    """The running background sandbox started from ``profile``'s file, if any."""
    state = read_state()
    if state is None or not profile.is_sandbox or state.config != _config_of(profile):
        return None
    return state


def for_endpoint(endpoint: str | None) -> State | None:
    """The running background sandbox at ``endpoint`` (to use its keys when aimed at it by URL)."""
    state = read_state() if endpoint else None
    return state if state is not None and state.endpoint.rstrip("/") == endpoint.rstrip("/") else None


def start_for(profile: Any, *, scenario: str | None) -> State:
    """Start (or find) the background sandbox for ``profile``: the default port when free, else any."""
    config = _config_of(profile)
    try:
        state, _ = start(config=config, scenario=scenario)
    except StartError as e:
        if e.code != 2:
            raise
        state, _ = start(config=config, scenario=scenario, port=0)  # 4599 taken: any free port
    if state.config != config:
        raise StartError(f"a background sandbox from another config runs at {state.describe()}")
    return state


def start_hint(profile: Any) -> str:
    """How to start a background sandbox this profile attaches to."""
    if profile.origin == "built-in":
        return "`tierconsole sandbox start`"
    return f"`tierconsole --profile {profile.name} sandbox start`"


def throwaway_note(profile: Any) -> str:
    """The one line a headless command prints when it runs on a throwaway in-process sandbox."""
    other = read_state()
    why = (f"the background sandbox at {other.describe()} was started from "
           f"{other.config or 'the built-in config'}, not from profile {profile.name!r}'s file"
           if other is not None else "no background sandbox is running")
    return (f"tierconsole: note: {why}; this command runs on a throwaway in-process sandbox and what it makes "
            f"(jobs, objects, metrics) is gone when it exits. Run {start_hint(profile)} to keep state "
            "between commands.")


# ------------------------------------------------------------------ the commands

def _region(state: State) -> str:
    from ..core.domain.catalog import ConfigError  # noqa: PLC0415
    from .config import DEFAULT_REGION, load_sandbox_config  # noqa: PLC0415

    try:
        return load_sandbox_config(state.config).region
    except (ConfigError, OSError):  # it started from this file a moment ago; changed since?
        return DEFAULT_REGION


def _say_started(state: State, out=sys.stdout) -> None:
    region = _region(state)
    print(f"sandbox started at {state.describe()}; log: {state.log}", file=out)
    print("# the sandbox profile and every later command use it; aim other AWS clients at it with:", file=out)
    print(f"export AWS_ENDPOINT_URL={state.endpoint}", file=out)
    print(f"export AWS_REGION={region} AWS_DEFAULT_REGION={region}", file=out)
    if not state.auth:
        print("export AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox", file=out)
    else:
        print(f"# requests must be signed with a key of {state.auth}", file=out)
    print("# `tierconsole sandbox stop` stops it.", file=out, flush=True)


def cmd_start(args) -> int:
    try:
        state, started = start(host=args.host, port=args.port, config=args.config, scenario=args.scenario,
                               speed=args.speed, access_log=args.access_log, auth=args.auth, faults=args.faults)
    except StartError as e:
        print(f"tierconsole sandbox: error: {e}", file=sys.stderr)
        return e.code
    if not started:
        print(f"sandbox already running at {state.describe()}; `tierconsole sandbox stop` stops it")
        return 0
    _say_started(state)
    return 0


def cmd_stop(args) -> int:
    state = stop()
    if state is None:
        print("no background sandbox is running")
    else:
        print(f"stopped the sandbox at {state.describe()}")
    return 0


def cmd_status(args) -> int:
    state = read_state()
    if args.json:
        print(json.dumps({"running": state is not None, **(asdict(state) if state else {}),
                          "state_file": str(state_path())}, indent=2))
    elif state is None:
        print(f"no background sandbox is running (state file: {state_path()})")
    else:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(state.started))
        print(f"sandbox running at {state.describe()} since {since}")
        print(f"config {state.config or 'built-in profiles/sandbox.yaml'}, scenario "
              f"{state.scenario or 'the config`s'}, speed {state.speed:g}x, auth {state.auth or 'off'}")
        print(f"log {state.log}; state file {state_path()}")
    return 0 if state is not None else EXIT_NOT_RUNNING
