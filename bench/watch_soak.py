"""Soak of `tierconsole watch`: 24 hours of sandbox time at speed, with an exec and a webhook sink.

Runs ``tierconsole watch --scenario spike --speed S`` (an embedded sandbox: a throttling storm every five
sandbox minutes, so hundreds of episodes) with ``--log`` rotated small, an ``--exec`` sink appending to a file
and a ``--webhook`` to a receiver on loopback, and samples the watch process's RSS (the embedded sandbox
included). Targets: memory flat once the sandbox's 3-hour metric retention is reached (second half's peak at
most 5% above the first half's), the log on disk within ``max_size × (backups + 1)`` plus a line, and no
alert delivered twice to any sink.

    python bench/watch_soak.py [--hours 24] [--speed 240] [--every 10] [--rows-json FILE]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _common import Row, clean_env, cpu_seconds, emit, rss_mb

RETENTION_H = 3.0
LOG_MAX = 256 * 1024
LOG_BACKUPS = 2


class Hook(BaseHTTPRequestHandler):
    received: list[str] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        context = body["blocks"][1]["elements"][0]["text"]
        Hook.received.append(context.split("alert ")[1].split(" ")[0])
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, default=24.0, help="sandbox hours to watch")
    ap.add_argument("--speed", type=float, default=240.0)
    ap.add_argument("--interval", type=float, default=1.0, help="real seconds between refreshes")
    ap.add_argument("--every", type=float, default=10.0, help="real seconds between RSS samples")
    ap.add_argument("--rows-json")
    args = ap.parse_args()
    seconds = args.hours * 3600 / args.speed
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    work = Path(tempfile.mkdtemp(prefix="watch-soak-"))
    out, log, state = work / "exec.jsonl", work / "watch.log", work / "state.json"
    env = clean_env(XDG_CONFIG_HOME=str(work / "cfg"), XDG_STATE_HOME=str(work / "state"))
    cmd = [sys.executable, "-m", "tierconsole.cli", "watch", "--scenario", "spike", "--speed", f"{args.speed:g}",
           "--interval", f"{args.interval:g}", "--duration", f"{seconds:.0f}", "--quiet", "--log", str(log),
           "--log-max-size", str(LOG_MAX), "--log-backups", str(LOG_BACKUPS), "--state", str(state),
           "--exec", f"sh -c 'cat >> {out}'", "--webhook", f"http://127.0.0.1:{server.server_port}/hook",
           "--drain-timeout", "30"]
    print(f"watch --scenario spike --speed {args.speed:g}: {args.hours:g} sandbox h in {seconds:.0f} s; "
          f"RSS every {args.every:g} s")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    samples: list[tuple[float, float]] = []
    cpu = 0.0
    while proc.poll() is None:
        elapsed = time.monotonic() - t0
        try:
            samples.append((elapsed * args.speed / 3600, rss_mb(proc.pid)))
            cpu = cpu_seconds(proc.pid)
        except (FileNotFoundError, ProcessLookupError):
            break
        print(f"  {samples[-1][0]:6.2f} sandbox h  {samples[-1][1]:7.1f} MB", flush=True)
        time.sleep(args.every)
    err = proc.communicate(timeout=120)[1]
    wall = time.monotonic() - t0
    server.shutdown()
    if proc.returncode != 0:
        print(f"watch exited {proc.returncode}: {err[-2000:]}")
        return 1
    delivered = [json.loads(line)["alert_id"] for line in out.read_text().splitlines()] if out.exists() else []
    logs = sorted(work.glob("watch.log*"))
    log_bytes = sum(p.stat().st_size for p in logs)
    last = [json.loads(line) for line in log.read_text().splitlines()]
    stop = next(d for d in reversed(last) if d.get("event") == "stop")
    duplicates = (len(delivered) - len(set(delivered))) + (len(Hook.received) - len(set(Hook.received)))
    after = [mb for h, mb in samples if h >= RETENTION_H + 0.5]
    half = len(after) // 2
    growth = (max(after[half:]) / max(after[:half]) - 1) if half >= 2 else float("nan")
    bound = LOG_MAX * (LOG_BACKUPS + 1) + 64 * 1024
    print(f"sandbox hours {samples[-1][0] if samples else 0:.1f} · refreshes {stop['refreshes']:,} · "
          f"alerts delivered: exec {len(delivered):,}, webhook {len(Hook.received):,} · duplicates {duplicates} · "
          f"undelivered at stop {stop['undelivered']} · log {len(logs)} files {log_bytes / 1024:.0f} KiB · "
          f"state {state.stat().st_size / 1024:.1f} KiB · wall {wall:.0f} s · CPU {cpu:.0f} s")
    rows = [
        Row("watch_soak", f"RSS {next((mb for h, mb in samples if h >= 0.5), 0):.0f} MB at 0.5 sandbox h, {max(after[:half]) if half else 0:.0f} MB peak "
                          f"after retention, {max(after[half:]) if half else 0:.0f} MB peak at "
                          f"{samples[-1][0]:.1f} sandbox h ({growth:+.1%})", "flat (second half ≤ +5%)",
            growth <= 0.05 if growth == growth else None),
        Row("watch_soak", f"log on disk {log_bytes / 1024:.0f} KiB in {len(logs)} files", f"≤ {bound // 1024} KiB",
            log_bytes <= bound),
        Row("watch_soak", f"{len(delivered):,} alerts to exec, {len(Hook.received):,} to the webhook, "
                          f"{duplicates} duplicates", "no duplicate alert, both sinks the same",
            duplicates == 0 and sorted(delivered) == sorted(Hook.received) and len(delivered) > 0),
    ]
    emit(rows, args.rows_json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
