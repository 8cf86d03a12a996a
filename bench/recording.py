"""Size and speed of a recording: 24 hours of 1-second snapshots of a busy dashboard.

Synthesizes snapshots with realistic change rates -- every quota, reservation and pane time moves
every second, throttle events arrive in bursts (console events appended, CloudWatch per-minute
events whose current minute keeps counting, old ones falling out of the window), batch jobs
progress, finish and are replaced -- writes them with :class:`~tierconsole.recording.recorder.Recorder`,
then reports: file size, write time per snapshot, open time, jump-to-time latency (p50/max over
random jumps, each decoded from its keyframe, as a replay's ``g`` does) and memory.

    python bench/recording.py                       # the full 24 h (86,400 snapshots)
    python bench/recording.py --hours 1 --models 20 --events 2000
    python bench/recording.py --keyframe-every 120  # trade size against jump latency

Targets: under 50 MB for 24 h, under 1 ms per write, under 200 ms per jump.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tierconsole.core.domain.views import (
    BatchJobView, DashboardData, ModelQuotaView, PaneStatus, ReservationView, ThrottleEvent, UsageMinute,
)
from tierconsole.recording.format import DEFAULT_KEYFRAME_EVERY  # noqa: E402
from tierconsole.recording.reader import Recording  # noqa: E402
from tierconsole.recording.recorder import Recorder  # noqa: E402

START = 1772409600.0  # 2026-03-02 00:00:00 UTC
FAMILIES = [("amazon.nova-lite-v1:0", "Amazon Nova Lite"), ("amazon.nova-pro-v1:0", "Amazon Nova Pro"),
            ("amazon.nova-micro-v1:0", "Amazon Nova Micro"),
            ("anthropic.claude-sonnet-4-5-20250929-v1:0", "Claude Sonnet 4.5"),
            ("anthropic.claude-haiku-4-5-20251001-v1:0", "Claude Haiku 4.5"),
            ("openai.gpt-oss-120b-1:0", "GPT OSS 120B"), ("openai.gpt-oss-20b-1:0", "GPT OSS 20B"),
            ("meta.llama4-maverick-17b-instruct-v1:0", "Llama 4 Maverick"),
            ("mistral.mistral-large-2407-v1:0", "Mistral Large"), ("qwen.qwen3-32b-v1:0", "Qwen3 32B")]
MESSAGES = [("ThrottlingException", "Too many tokens, please wait before trying again.", 70),
            ("ThrottlingException", "Too many requests, please wait before trying again.", 20),
            ("ServiceUnavailableException", "Service is temporarily unavailable.", 5),
            ("ModelNotReadyException", "Model is not ready to serve inference requests.", 5)]
TIERS = ("priority", "default", "flex")


def models(n: int) -> list[tuple[str, str]]:
    out = []
    for i in range(n):
        model_id, name = FAMILIES[i % len(FAMILIES)]
        if i >= len(FAMILIES):
            model_id, name = f"{model_id.rsplit(':', 1)[0]}-r{i}:0", f"{name} (r{i})"
        out.append((model_id, name))
    return out


class Dashboard:
    """A dashboard that evolves second by second; :meth:`step` returns the next snapshot."""

    def __init__(self, *, n_models: int = 10, n_reservations: int = 3, max_events: int = 600,
                 n_jobs: int = 30, seed: int = 1, prefill: bool = False) -> None:
        self.rng = random.Random(seed)
        self.t = START
        self.models = models(n_models)
        self.max_events = max_events
        rng = self.rng
        self.quota = {m: (rng.choice([120_000, 400_000, 2_000_000]), rng.choice([300, 1_000, 4_000]))
                      for m, _ in self.models}
        self.level = {(m, tier): rng.uniform(0.05, 0.4) for m, _ in self.models for tier in TIERS}
        self.res = [(f"{self.models[i][0].split('.')[1][:12]}-prod-{i}", self.models[i][0],
                     rng.choice([100_000, 200_000]), rng.choice([10_000, 20_000])) for i in range(n_reservations)]
        self.res_level = [rng.uniform(0.5, 0.9) for _ in self.res]
        self.res_hist = [([0.0] * 15, [0.0] * 15) for _ in self.res]
        self.console: list[ThrottleEvent] = []  # newest first
        self.cw: dict[tuple[float, str, str], int] = {}  # (minute, model, tier) -> count
        self.rates = {tier: [0.0] * 16 for tier in TIERS}
        self.usage: tuple[UsageMinute, ...] = ()  # each model's last complete minute (changes once a minute)
        if prefill:  # start with a full event list (a long-running console)
            self.console = [ThrottleEvent(round(self.t - k * 2.5, 3), self.models[k % len(self.models)][0],
                                          TIERS[k % 3], 1, *MESSAGES[k % 2][:2], "console")
                            for k in range(max_events)]
        self.jobs: list[BatchJobView] = [self._new_job(i, finished=i >= 6) for i in range(n_jobs)]
        self.job_seq = n_jobs

    def _new_job(self, i: int, finished: bool = False) -> BatchJobView:
        rng = self.rng
        model = rng.choice(self.models)[0]
        total = rng.choice([100, 2_500, 10_000, 50_000])
        if finished:
            submit = self.t - rng.uniform(3_600, 86_400)
            return BatchJobView(f"arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/j{i:05d}",
                                f"job-{i:05d}", model, rng.choice(["Completed", "Completed", "Failed", "Stopped"]),
                                submit, submit + rng.uniform(600, 3_000), total, total, total - 3, 3)
        return BatchJobView(f"arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/j{i:05d}",
                            f"job-{i:05d}", model, "InProgress", self.t - rng.uniform(0, 3_600), None, total,
                            rng.randint(0, total // 2))

    def step(self) -> DashboardData:
        rng, t = self.rng, self.t
        minute = float(int(t // 60 * 60))
        new_minute = t % 60 == 0
        # On-demand quotas: every figure moves every second (a random walk around a level).
        quotas = []
        for m, name in self.models:
            tpm_q, rpm_q = self.quota[m]
            by_tier = {}
            for tier in TIERS:
                lv = min(1.2, max(0.0, self.level[(m, tier)] + rng.gauss(0, 0.01)))
                self.level[(m, tier)] = lv
                by_tier[tier] = float(round(tpm_q * lv / 3))
            used = sum(by_tier.values())
            quotas.append(ModelQuotaView(m, name, float(tpm_q), float(rpm_q), by_tier,
                                         rpm_used=float(round(rpm_q * used / tpm_q * 0.8)),
                                         hold_tokens=float(round(used * rng.uniform(0.05, 0.2)))))
        # The incident view's minutes: each model's last complete minute, a new row per model each minute.
        if new_minute:
            reserved = {model: (in_r, out_r) for _, model, in_r, out_r in self.res}
            self.usage = tuple(
                UsageMinute(minute - 60, q.model_id, dict(q.tpm_by_tier), q.tpm_quota, q.rpm_used, q.rpm_quota,
                            {tier: self.cw.get((minute - 60, q.model_id, tier), 0) for tier in TIERS},
                            *((float(round(reserved[q.model_id][0] * 0.7)), float(round(reserved[q.model_id][1] * 0.6)))
                              if q.model_id in reserved else (None, None)))
                for q in quotas)
        # Reservations: used moves every second; the history shifts every minute.
        reservations = []
        for k, (rid, model, in_r, out_r) in enumerate(self.res):
            self.res_level[k] = min(1.3, max(0.1, self.res_level[k] + rng.gauss(0, 0.01)))
            iu, ou = float(round(in_r * self.res_level[k])), float(round(out_r * self.res_level[k] * 0.8))
            ih, oh = self.res_hist[k]
            if new_minute:
                ih, oh = ih[1:] + [iu], oh[1:] + [ou]
                self.res_hist[k] = (ih, oh)
            reservations.append(ReservationView(rid, model, iu, float(in_r), ou, float(out_r),
                                                overflow_tpm=max(0.0, iu - in_r), input_history=tuple(ih),
                                                output_history=tuple(oh)))
        # Throttles: console events in bursts; CloudWatch counts per (minute, model, tier).
        if new_minute:
            for tier in TIERS:
                self.rates[tier] = self.rates[tier][1:] + [0.0]
            horizon = minute - 15 * 60
            self.cw = {key: c for key, c in self.cw.items() if key[0] >= horizon}
        if rng.random() < 0.06:
            burst = rng.randint(3, 40)
            m = rng.choice(self.models)[0]
            tier = rng.choice(TIERS)
            error, message, _ = rng.choices(MESSAGES, [w for *_, w in MESSAGES])[0]
            fresh = [ThrottleEvent(round(t - rng.uniform(0, 1), 3), m, tier, 1, error, message, "console")
                     for _ in range(burst)]
            fresh.sort(key=lambda e: e.time, reverse=True)
            self.console = fresh + self.console[: self.max_events - burst]
            self.cw[(minute, m, tier)] = self.cw.get((minute, m, tier), 0) + burst
            self.rates[tier][-1] += burst
        cw_events = [ThrottleEvent(mt, m, tier, c, "ThrottlingException",
                                   f"{c} throttled in the minute (CloudWatch)", "cloudwatch")
                     for (mt, m, tier), c in self.cw.items()]
        events = sorted(cw_events + self.console, key=lambda e: e.time, reverse=True)
        # Batch: active jobs progress; a finished job is replaced by a new submission now and then.
        jobs = []
        for job in self.jobs:
            if job.active and job.total_records:
                done = min(job.total_records, job.processed + rng.randint(0, 12))
                job = replace(job, processed=done, success=done - job.errors, observed_at=t,
                              progress_since=job.progress_since if job.progress_since is not None else t,
                              processed_since=job.processed if job.progress_since is None else job.processed_since)
                if new_minute:  # AWS/Bedrock/Batch: the model's throughput, a new figure each minute
                    job = replace(job, model_input_tpm=float(rng.randint(0, 12) * 60 * 400),
                                  model_output_tpm=float(rng.randint(0, 12) * 60 * 120))
                if done == job.total_records:
                    job = replace(job, status="Completed", end_time=t)
            jobs.append(job)
        if rng.random() < 0.002:
            finished = [i for i, j in enumerate(jobs) if not j.active]
            if finished:
                del jobs[finished[-1]]
                jobs.insert(0, self._new_job(self.job_seq))
                self.job_seq += 1
        self.jobs = jobs
        status = {pane: PaneStatus(True, t - (rng.random() < 0.001) * 30) for pane in
                  ("reservations", "quota", "throttles", "batch")}
        data = DashboardData(time=t, profile="prod-ops", account_id="123456789012", region="us-east-1",
                             endpoint="https://bedrock-runtime.us-east-1.amazonaws.com", is_sandbox=False,
                             reservations=tuple(reservations), quotas=tuple(quotas), throttle_events=tuple(events),
                             throttle_rates={tier: tuple(v) for tier, v in self.rates.items()},
                             batch_jobs=tuple(jobs), status=status, usage_minutes=self.usage)
        self.t += 1.0
        return data


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, default=24.0, help="hours of 1-second snapshots (default 24)")
    ap.add_argument("--models", type=int, default=10, help="models on the quota pane (default 10)")
    ap.add_argument("--reservations", type=int, default=3)
    ap.add_argument("--events", type=int, default=600, help="console throttle events kept (default 600)")
    ap.add_argument("--jobs", type=int, default=30)
    ap.add_argument("--prefill", action="store_true", help="start with --events console events already listed")
    ap.add_argument("--keyframe-every", type=int, default=DEFAULT_KEYFRAME_EVERY)
    ap.add_argument("--jumps", type=int, default=100)
    ap.add_argument("--out", help="keep the recording at this path (default: a temporary file)")
    args = ap.parse_args(argv)

    n = int(args.hours * 3600)
    path = Path(args.out) if args.out else Path(tempfile.mkdtemp()) / "bench.rec"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    dash = Dashboard(n_models=args.models, n_reservations=args.reservations, max_events=args.events,
                     n_jobs=args.jobs, prefill=args.prefill)
    print(f"{n:,} snapshots ({args.hours:g} h at 1 s), {args.models} models, {args.reservations} reservations, "
          f"up to {args.events} console throttle events, {args.jobs} batch jobs, keyframe every "
          f"{args.keyframe_every}")
    write_s: list[float] = []
    synth_s = 0.0
    t_all = time.perf_counter()
    events_seen = 0
    clock = lambda: dash.t  # the recorder commits every 2 s of (simulated) time, as it would live
    with Recorder(path, "prod-ops", max_bytes=1 << 40, keyframe_every=args.keyframe_every, clock=clock) as rec:
        for i in range(n):
            t0 = time.perf_counter()
            data = dash.step()
            t1 = time.perf_counter()
            rec.write(data)
            write_s.append(time.perf_counter() - t1)
            synth_s += t1 - t0
            events_seen = max(events_seen, len(data.throttle_events))
            if i and i % 21600 == 0:
                print(f"  … {i:,} written, {os.path.getsize(path) / 1e6:.1f} MB", flush=True)
    total = time.perf_counter() - t_all
    size = os.path.getsize(path)
    write_ms = sorted(s * 1e3 for s in write_s)
    print(f"file size:        {size / 1e6:.2f} MB ({size / n:.0f} bytes/snapshot)"
          f"{'' if args.hours == 24 else f'; 24 h extrapolated {size / n * 86400 / 1e6:.1f} MB'}")
    print(f"write:            mean {statistics.fmean(write_ms):.3f} ms, p50 {write_ms[len(write_ms) // 2]:.3f} ms, "
          f"p99 {write_ms[int(len(write_ms) * 0.99)]:.3f} ms, max {write_ms[-1]:.1f} ms per snapshot")
    print(f"                  (snapshots held up to {events_seen} throttle events; synthesis took {synth_s:.1f} s, "
          f"total {total:.1f} s)")

    t0 = time.perf_counter()
    recording = Recording(path)
    open_ms = (time.perf_counter() - t0) * 1e3
    rng = random.Random(2)
    lat = []
    for _ in range(args.jumps):
        t = rng.uniform(recording.start, recording.end)
        recording._cursor = None  # a cold jump: decode from the keyframe, as a random `g` does
        t0 = time.perf_counter()
        data = recording.at(t)
        lat.append((time.perf_counter() - t0) * 1e3)
        assert data.time <= t
    lat.sort()
    t0 = time.perf_counter()
    steps = min(600, len(recording) - 1)
    base = len(recording) // 3
    for k in range(steps):
        recording.frame(base + k)
    step_ms = (time.perf_counter() - t0) * 1e3 / steps
    print(f"open:             {open_ms:.0f} ms ({len(recording):,} frames indexed)")
    print(f"jump-to-time:     p50 {statistics.median(lat):.1f} ms, max {lat[-1]:.1f} ms over {len(lat)} random jumps")
    print(f"step forward:     {step_ms:.2f} ms per frame (playback)")
    print(f"memory:           peak RSS {rss_mb():.0f} MB")
    recording.close()
    if not args.out:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
