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
    assert [(r["outcome"], r.get("attempt")) for r in reports] == [("retrying", 1), ("retrying", 2), ("failed", None)]
    assert reports[-1] == {"type": "sink", "sink": "bad", "outcome": "failed", "alert_id": "id-1", "attempts": 3,
                           "error": "exit 3: no"}
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


async def test_each_failed_attempt_is_said_at_once_and_a_retried_alert_holds_no_later_one_back(tmp_path):
    """F2: a failing attempt is a `retrying` line at once (error, attempt n/N, next try in s); while an alert
    waits for its next try the sink delivers the alerts after it; retries are not cut short."""
    import asyncio
    import time

    out = tmp_path / "got.jsonl"
    script = f'd=$(cat); case "$d" in *id-1*) echo down >&2; exit 3;; esac; printf "%s\\n" "$d" >> {out}'
    spec = SinkSpec("flaky", "exec", command=("sh", "-c", script), retries=3)
    reports, at = [], {}
    t0 = time.monotonic()

    def report(r):
        reports.append(r)
        at.setdefault((r["alert_id"], r["outcome"]), time.monotonic() - t0)

    worker = SinkWorker(spec, ExecDelivery(spec), report, first_wait=1.0, max_wait=2.0)
    worker.start()
    worker.offer(alert(1))
    worker.offer(alert(2))
    for _ in range(100):
        if ("id-1", "failed") in at:
            break
        await asyncio.sleep(0.1)
    await worker.drain(1)
    retrying = [r for r in reports if r["outcome"] == "retrying"]
    assert [r["attempt"] for r in retrying] == [1, 2, 3] and all(r["max_attempts"] == 4 for r in retrying), reports
    assert all(r["error"] == "exit 3: down" and 0 < r["retry_in_s"] <= 3 for r in retrying), retrying
    assert at[("id-1", "retrying")] < 1.0  # the first failure is said at once, not after the retries
    assert at[("id-2", "sent")] < at[("id-1", "failed")] and at[("id-2", "sent")] < 1.5, at  # not behind it
    failed = next(r for r in reports if r["outcome"] == "failed")
    assert failed["attempts"] == 4 and failed["alert_id"] == "id-1" and worker.failed == 1 and worker.sent == 1


async def test_an_alert_waiting_for_its_retry_keeps_its_resolution_behind_it(tmp_path):
    """The retried alert's episode is delivered in order: its resolution never overtakes it."""
    out = tmp_path / "got.jsonl"
    flag = tmp_path / "failed-once"
    script = (f'd=$(cat); if [ ! -e {flag} ]; then touch {flag}; exit 1; fi; printf "%s\\n" "$d" >> {out}')
    spec = SinkSpec("once", "exec", command=("sh", "-c", script), retries=2)
    worker = SinkWorker(spec, ExecDelivery(spec), lambda r: None, first_wait=0.3, max_wait=0.5)
    worker.start()
    fired, resolved, other = alert(1), {**alert(1), "type": "resolved", "alert_id": "id-1r"}, alert(2)
    for doc in (fired, resolved, other):
        worker.offer(doc)
    await worker.drain(10)
    got = [json.loads(line)["alert_id"] for line in out.read_text().splitlines()]
    assert got.index("id-1") < got.index("id-1r") and sorted(got) == ["id-1", "id-1r", "id-2"], got


def test_a_retrying_line_reads_as_attempt_n_of_n_with_the_next_try():
    from tierconsole.core.watch.eventlog import human

    line = human({"type": "sink", "sink": "exec", "outcome": "retrying", "alert_id": "a1", "attempt": 2,
                  "max_attempts": 6, "retry_in_s": 2.4, "error": "exit 1", "data_time": "2026-11-30T03:00:00Z"})
    assert line == "2026-11-30T03:00:00Z ✉ exec: retrying a1 (attempt 2/6 failed, next try in 2.4 s): exit 1"


async def test_a_dead_sink_does_not_delay_another_sink(tmp_path):
    """Each sink has its own worker: one retrying every alert leaves the other's deliveries on time."""
    import asyncio
    import time

    out = tmp_path / "good.jsonl"
    dead = SinkSpec("dead", "exec", command=("false",), retries=5)
    good = SinkSpec("good", "exec", command=("sh", "-c", f"cat >> {out}"))
    sent = {}
    t0 = time.monotonic()
    workers = [SinkWorker(dead, ExecDelivery(dead), lambda r: None),
               SinkWorker(good, ExecDelivery(good), lambda r: sent.setdefault(r["alert_id"], time.monotonic() - t0))]
    for w in workers:
        w.start()
    for i in range(3):
        for w in workers:
            w.offer(alert(i))
    await workers[1].drain(10)
    await workers[0].stop()
    assert sorted(sent) == ["id-0", "id-1", "id-2"] and max(sent.values()) < 3, sent
    assert [a["alert_id"] for a in workers[0].pending()] == ["id-0", "id-1", "id-2"]  # still being retried
