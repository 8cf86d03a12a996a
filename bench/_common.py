"""Helpers shared by the benchmarks: a pty terminal, the sandbox subprocess, CPU from /proc, result rows.

Every benchmark script prints its figures and a MET/MISSED line per target, and with
``--rows-json FILE`` also writes its rows for ``bench/run_all.py``'s table.
"""
from __future__ import annotations

import atexit
import fcntl
import json
import os
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


def _use_project_venv() -> None:
    """Run under the project's .venv when started with another Python (``python bench/x.py``)."""
    try:
        import tierconsole  # noqa: F401
    except ImportError:
        venv_py = REPO / ".venv" / "bin" / "python"
        if venv_py.exists() and Path(sys.executable) != venv_py:
            os.execv(str(venv_py), [str(venv_py), *sys.argv])
        raise SystemExit("tierconsole is not importable: pip install -e . (or create .venv) first")


_use_project_venv()
# SIGTERM unwinds like Ctrl-C, so the sandboxes and ptys a benchmark started are stopped on the way out.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
PY = sys.executable
CONSOLE = [PY, "-m", "tierconsole.cli"]
PYCACHE = os.path.join(tempfile.gettempdir(), "tierconsole-bench-pycache")
# The consoles a benchmark launches keep their background sandbox in a directory of this run's own (never
# the user's), and it is stopped when the benchmark ends.
_PRIVATE = tempfile.mkdtemp(prefix="tierconsole-bench-")
PRIVATE_XDG = {"XDG_RUNTIME_DIR": os.path.join(_PRIVATE, "run"), "XDG_STATE_HOME": os.path.join(_PRIVATE, "state")}


@atexit.register
def _stop_background_sandbox() -> None:
    subprocess.run([*CONSOLE, "sandbox", "stop"], env={**os.environ, **PRIVATE_XDG}, capture_output=True,
                   timeout=60, check=False)


# ------------------------------------------------------------------ result rows
@dataclass
class Row:
    bench: str
    figure: str  # what was measured, with its value, e.g. "first frame 1.21x baseline (0.71 s vs 0.59 s)"
    target: str
    met: bool | None  # None: informational, no target

    @property
    def verdict(self) -> str:
        return "-" if self.met is None else ("MET" if self.met else "MISSED")


def emit(rows: list[Row], rows_json: str | None) -> None:
    for r in rows:
        if r.met is not None:
            print(f"target {r.target}: {r.verdict}  ({r.figure})")
    if rows_json:
        Path(rows_json).write_text(json.dumps([asdict(r) for r in rows]))


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# ------------------------------------------------------------------ /proc
def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (its own threads included), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int | None = None) -> float:
    with open(f"/proc/{pid or 'self'}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# ------------------------------------------------------------------ terminal in a pty
def clean_env(**extra: str) -> dict[str, str]:
    """The environment of an SSH session: TERM=xterm-256color, no COLORTERM, no size overrides."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("COLUMNS", "LINES", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "TERM_PROGRAM")
           and not k.startswith("TEXTUAL")}
    env["TERM"] = "xterm-256color"
    # Bytecode as an installed package has it: this workplace sets PYTHONDONTWRITEBYTECODE, which would
    # make every launch recompile tierconsole from source. Cache it outside the work tree instead.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = PYCACHE
    env.setdefault("LANG", "C.UTF-8")
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(PRIVATE_XDG)
    env.update(extra)
    return env


class PtyProcess:
    """A command on the slave side of a pty of a fixed size; a thread drains the master side.

    ``bytes_read`` counts everything the program wrote to its terminal; ``wait_for(marker)``
    returns the monotonic time at which ``marker`` first arrived.
    """

    def __init__(self, cmd: list[str], cols: int = 120, rows: int = 40, env: dict[str, str] | None = None):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

        def child_setup():  # a session of its own with the pty as controlling terminal, like sshd does
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env or clean_env(),
                                     preexec_fn=child_setup, cwd=str(REPO), close_fds=True)
        os.close(slave)
        self.master = master
        self.bytes_read = 0
        self._tail = b""
        self._found: dict[bytes, float] = {}
        self._markers: list[bytes] = []
        self._cond = threading.Condition()
        self._chunks: list[tuple[float, int]] = []
        self.keep_output = False
        self.output = bytearray()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                data = b""
            now = time.monotonic()
            with self._cond:
                if not data:
                    self._markers.clear()
                    self._cond.notify_all()
                    return
                self.bytes_read += len(data)
                if self.keep_output:
                    self.output += data
                if self._markers:
                    hay = self._tail + data
                    for m in list(self._markers):
                        if m in hay:
                            self._found[m] = now
                            self._markers.remove(m)
                    self._tail = hay[-256:]
                    self._cond.notify_all()

    def watch(self, marker: bytes) -> None:
        with self._cond:
            if marker not in self._found and marker not in self._markers:
                self._markers.append(marker)

    def wait_for(self, marker: bytes, timeout: float = 60.0) -> float | None:
        """Monotonic time at which ``marker`` appeared (call :meth:`watch` first for exact timing)."""
        self.watch(marker)
        deadline = time.monotonic() + timeout
        with self._cond:
            while marker not in self._found:
                left = deadline - time.monotonic()
                if left <= 0 or (not self._markers and self.proc.poll() is not None):
                    return None
                self._cond.wait(min(left, 0.5))
            return self._found[marker]

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def stop(self, quit_keys: bytes | None = b"q", timeout: float = 5.0) -> None:
        """Quit politely (``q``), then SIGTERM, then SIGKILL this one process."""
        if self.proc.poll() is None and quit_keys:
            try:
                self.send(quit_keys)
                self.proc.wait(timeout)
            except (OSError, subprocess.TimeoutExpired):
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is not None:
                break
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self._thread.join(2)
        try:
            os.close(self.master)
        except OSError:
            pass


# ------------------------------------------------------------------ the sandbox in its own process
class SandboxProcess:
    """``tierconsole sandbox --port 0 ...`` in its own process; ``endpoint`` once it has printed it."""

    def __init__(self, scenario: str = "steady", speed: float = 1.0, access_log: str | None = None,
                 faults: str | None = None, extra: list[str] | None = None):
        cmd = [*CONSOLE, "sandbox", "--port", "0", "--scenario", scenario, "--speed", repr(speed)]
        if access_log:
            cmd += ["--access-log", access_log]
        if faults:
            cmd += ["--faults", faults]
        cmd += extra or []
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=clean_env(), cwd=str(REPO))
        self.endpoint = ""
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit(f"sandbox exited: {self.proc.stderr.read()}")
            if line.startswith("endpoint: "):
                self.endpoint = line.split(" ", 1)[1].strip()
                break
        if not self.endpoint:
            self.stop()
            raise SystemExit("sandbox did not print its endpoint")
        # keep draining its pipes so a chatty sandbox never blocks on a full pipe
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=lambda s=stream: [None for _ in s], daemon=True).start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self) -> "SandboxProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def add_common_args(ap) -> None:
    ap.add_argument("--rows-json", metavar="FILE", help="also write the result rows as JSON (for run_all.py)")
