"""A real terminal for a test: the command on a pty of a fixed size, its output collected as it comes."""
from __future__ import annotations

import fcntl
import os
import signal
import struct
import subprocess
import termios
import threading
import time


class Terminal:
    def __init__(self, cmd: list[str], *, env: dict[str, str], cwd, cols: int = 120, rows: int = 40):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

        def child_setup():  # a session of its own with the pty as controlling terminal, as sshd does it
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        env = {**env, "TERM": "xterm-256color"}
        self.proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=str(cwd),
                                     preexec_fn=child_setup, close_fds=True)
        os.close(slave)
        self._master = master
        self._out = bytearray()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self._out += data

    @property
    def output(self) -> bytes:
        with self._lock:
            return bytes(self._out)

    def wait_for(self, needle: bytes, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.output:
                return True
            if self.proc.poll() is not None:
                time.sleep(0.2)
                return needle in self.output
            time.sleep(0.05)
        return False

    def send(self, data: bytes) -> None:
        os.write(self._master, data)

    def wait(self, timeout: float = 30.0) -> int:
        code = self.proc.wait(timeout)
        self._thread.join(5)
        return code

    def close(self) -> None:
        """Kill the process if it is still there (a test that failed half-way)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self._thread.join(2)
        try:
            os.close(self._master)
        except OSError:
            pass
