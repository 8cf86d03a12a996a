"""A sink's queue: bounded (the oldest alert dropped and reported), delivered by its own task with retries, and
what is left at a stop kept for the next run (the state's outbox). Real exec deliveries, no stand-ins."""
from __future__ import annotations

import json

from tierconsole.core.domain.watchconfig import SinkSpec
from tierconsole.core.watch.eventlog import Redactor
from tierconsole.core.watch.sinks import ExecDelivery, SinkWorker


def alert(i):
    return {"type": "alert", "alert_id": f"id-{i}", "rule": "r", "severity": "warning",
            "event": {"kind": "quota_over", "phase": "start", "episode": f"ep-{i}", "summary": "s", "source": "x"}}


async def test_a_full_queue_drops_the_oldest_and_says_so(tmp_path):
    out = tmp_path / "got.jsonl"
    reports = []
    spec = SinkSpec("run", "exec", command=("sh", "-c", f"cat >> {out}"), retries=0)
    worker = SinkWorker(spec, ExecDelivery(spec), reports.append, queue=2)
    for i in range(5):
        worker.offer(alert(i))
    assert [r["alert_id"] for r in reports if r["outcome"] == "dropped"] == ["id-0", "id-1", "id-2"]
    worker.start()
    await worker.drain(10)
    assert [json.loads(line)["alert_id"] for line in out.read_text().splitlines()] == ["id-3", "id-4"]
    assert [r["outcome"] for r in reports[3:]] == ["sent", "sent"] and worker.pending() == []


async def test_a_failing_command_is_retried_then_reported_and_a_slow_one_is_left_for_the_next_run(tmp_path):
    reports = []
    spec = SinkSpec("bad", "exec", command=("sh", "-c", "echo no >&2; exit 3"), retries=2)
    worker = SinkWorker(spec, ExecDelivery(spec), reports.append, first_wait=0.01, max_wait=0.02)
    worker.start()
    worker.offer(alert(1))
    await worker.drain(10)
    assert reports == [{"type": "sink", "sink": "bad", "outcome": "failed", "alert_id": "id-1", "attempts": 3,
                        "error": "exit 3: no"}]
    slow = SinkSpec("slow", "exec", command=("sleep", "5"), timeout=30)
    worker = SinkWorker(slow, ExecDelivery(slow), reports.append)
    worker.start()
    worker.offer(alert(2))
    worker.offer(alert(3))
    await worker.drain(0.3)
    assert [a["alert_id"] for a in worker.pending()] == ["id-2", "id-3"]  # kept: the outbox of the next run


def test_the_redactor_hides_a_url_its_path_and_query():
    r = Redactor(["https://hooks.slack.com/services/T0/B0/SECRET?token=abcdef123"])
    line = "POST https://hooks.slack.com/services/T0/B0/SECRET?token=abcdef123 failed; path /services/T0/B0/SECRET"
    assert "SECRET" not in r(line) and "abcdef123" not in r(line) and "hooks.slack.com" not in r(line)


async def test_a_command_under_way_when_the_watch_stops_does_not_outlive_it(tmp_path):
    import os

    marker = tmp_path / "pid"
    spec = SinkSpec("slow", "exec", command=("sh", "-c", f"echo $$ > {marker}; exec sleep 30"), timeout=60)
    worker = SinkWorker(spec, ExecDelivery(spec), lambda r: None)
    worker.start()
    worker.offer(alert(1))
    for _ in range(100):
        if marker.exists() and marker.read_text().strip():
            break
        await __import__("asyncio").sleep(0.05)
    await worker.drain(0.1)
    pid = int(marker.read_text())
    await __import__("asyncio").sleep(0.2)
    try:
        os.kill(pid, 0)
        alive = open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] != "Z"
    except ProcessLookupError:
        alive = False
    assert not alive
