"""Headless subcommands: the same actions as the TUI, for scripts. Output is a table or --json."""
from __future__ import annotations

import asyncio
import json
import sys
import time
from contextlib import asynccontextmanager

from .core.ops.guard import Guard, ReadOnlyError, append_history, text_fingerprint
from .core.domain.catalog import ConfigError
from .core.domain.pricing import PriceTable
from .core.config.paths import user_data_dir, user_state_dir

EXIT_FAIL = 1
EXIT_USAGE = 2


def err(msg: str) -> None:
    print(f"tierconsole: error: {msg}", file=sys.stderr)


@asynccontextmanager
async def session(args):
    """The profile's AWS context. A sandbox profile attaches to its background sandbox
    (``tierconsole sandbox start``); with none running it gets a quiet throwaway one in-process, and
    says so on stderr (its jobs, objects and metrics are gone when the command exits)."""
    from .core.source import LiveSource  # noqa: PLC0415

    source = LiveSource.from_args(args, scenario="none")
    await asyncio.to_thread(source.start)
    if source.sandbox_thread is not None:
        from .sandbox.daemon import throwaway_note  # noqa: PLC0415

        print(throwaway_note(source.profile), file=sys.stderr)
    try:
        yield source
    finally:
        await source.close()


def guard_for(source) -> Guard:
    return Guard(source.profile, user_state_dir() / "audit.jsonl")


async def _account(source) -> str | None:
    try:
        sts = await source.ctx.client("sts")
        return (await sts.get_caller_identity())["Account"]
    except Exception:  # noqa: BLE001 - the audit entry still goes in, without the account
        return None


def run(coro) -> int:
    try:
        return asyncio.run(coro)
    except ConfigError as e:
        err(str(e))
        return EXIT_USAGE
    except ReadOnlyError as e:
        err(str(e))
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130


# ------------------------------------------------------------------ prompt

def cmd_prompt(args) -> int:
    from .core.ops.prompt import PromptRequest  # noqa: PLC0415

    req = PromptRequest(model_id=args.model, text=args.text, tier=args.tier, system=args.system,
                        max_tokens=args.max_tokens, temperature=args.temperature, stream=args.stream)
    try:
        req.validate()
    except ValueError as e:
        err(str(e))
        return EXIT_USAGE
    return run(_prompt(args, req))


async def _prompt(args, req) -> int:
    from .core.ops.prompt import send_prompt  # noqa: PLC0415

    async with session(args) as source:
        guard = guard_for(source)
        guard.require_prompt()
        guard.account_id = await _account(source)
        client = await source.ctx.client("bedrock-runtime")
        prices = PriceTable.from_profile(source.profile.prices, source.profile.tier_price_multipliers)
        single_stream = req.stream and req.tier not in ("all",) and not args.json

        def on_text(tier: str, chunk: str) -> None:
            if single_stream:
                sys.stdout.write(chunk)
                sys.stdout.flush()

        results = await send_prompt(client, req, prices, on_text=on_text, timeouts=source.profile.timeouts)
        if single_stream:
            sys.stdout.write("\n")
        ok = any(r.ok for r in results)
        guard.audit("prompt", req.model_id, "ok" if ok else "failed",
                    tiers=[r.tier for r in results], served=[r.served_tier for r in results],
                    errors=[r.error for r in results if r.error], prompt=text_fingerprint(req.text))
        append_history(user_data_dir() / "history.jsonl",
                       {"time": round(time.time(), 3), "profile": source.profile.name, "model": req.model_id,
                        "tier": req.tier, "system": req.system, "text": req.text, "max_tokens": req.max_tokens})
    if args.json:
        for r in results:
            print(json.dumps(r.to_json()))
    else:
        if not req.stream and len(results) == 1 and results[0].ok:
            print(results[0].text)
        print(format_results(results), file=sys.stderr if not args.json and len(results) == 1 else sys.stdout)
    return 0 if ok else EXIT_FAIL


def format_results(results) -> str:
    """The human table of a prompt's results: tiers by name (Standard, not ``default``), costs as
    :func:`~tierconsole.domain.format.usd` says them (``unknown``, ``in reservation``, never 0.000000)."""
    from .core.domain.format import tier_label, usd  # noqa: PLC0415

    head = f"{'tier':<9} {'served':<9} {'status':<22} {'ttft ms':>8} {'latency ms':>10} {'out tok/s':>9} " \
           f"{'in':>6} {'out':>6} {'cost $':>14}"
    lines = [head]
    for r in results:
        status = "ok" if r.ok else (r.error or "error")
        fmt = lambda v, spec: format(v, spec) if v is not None else "-"  # noqa: E731
        served = tier_label(r.served_tier) if r.served_tier else "-"
        cost = usd(r.cost_usd, r.served_tier, sign="") if r.ok else "-"
        lines.append(f"{tier_label(r.tier):<9} {served:<9} {status:<22} {fmt(r.ttft_ms, '8.0f'):>8} "
                     f"{fmt(r.latency_ms, '10.0f'):>10} {fmt(r.output_tps, '9.1f'):>9} {r.input_tokens:>6} "
                     f"{r.output_tokens:>6} {cost:>14}")
        if not r.ok and r.message:
            lines.append(f"          {r.message}")
    return "\n".join(lines)


# ------------------------------------------------------------------ batch

def _json_default(v):
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


def _job_json(job: dict) -> dict:
    return {k: v for k, v in job.items() if k != "ResponseMetadata"}


def _job_line(j: dict) -> str:
    total = j.get("totalRecordCount")
    done = j.get("processedRecordCount", 0) or 0
    progress = f"{done}/{total}" if total else f"{done}/?"
    submitted = j.get("submitTime")
    when = submitted.strftime("%Y-%m-%d %H:%M:%S") if hasattr(submitted, "strftime") else str(submitted or "")
    return (f"{j.get('jobName', ''):<36} {j.get('status', ''):<19} {progress:>13} "
            f"{j.get('errorRecordCount', 0) or 0:>6} {j.get('modelId', ''):<44} {when}")


def _print_jobs(jobs: list[dict], as_json: bool) -> None:
    if as_json:
        print(json.dumps([_job_json(j) for j in jobs], default=_json_default, indent=2))
        return
    print(f"{'name':<36} {'status':<19} {'records':>13} {'errors':>6} {'model':<44} submitted (UTC)")
    for j in jobs:
        print(_job_line(j))


_JOB_ROWS = (  # (label, GetModelInvocationJob field path), in the order an operator reads them
    ("name", "jobName"), ("job", "jobArn"), ("status", "status"), ("message", "message"), ("model", "modelId"),
    ("input", "inputDataConfig.s3InputDataConfig.s3Uri"), ("output", "outputDataConfig.s3OutputDataConfig.s3Uri"),
    ("submitted", "submitTime"), ("last change", "lastModifiedTime"), ("ended", "endTime"),
    ("expires", "jobExpirationTime"), ("timeout", "timeoutDurationInHours"), ("role", "roleArn"),
    ("request token", "clientRequestToken"),
)
_RECORD_FIELDS = ("totalRecordCount", "processedRecordCount", "successRecordCount", "errorRecordCount")


def _utc(value) -> str:
    from datetime import datetime, timezone  # noqa: PLC0415

    if isinstance(value, datetime):
        return (value.astimezone(timezone.utc) if value.tzinfo else value).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


def _flat(prefix: str, value) -> list[tuple[str, str]]:
    """Nested fields as ``a.b`` rows; lists joined with commas."""
    if isinstance(value, dict):
        return [row for k, v in value.items() for row in _flat(f"{prefix}.{k}" if prefix else k, v)]
    if isinstance(value, (list, tuple)):
        return [(prefix, ", ".join(str(v) for v in value))]
    return [(prefix, _utc(value))]


def format_job(job: dict) -> str:
    """One batch job as a two-column table (``batch show`` without ``--json``)."""
    from .core.domain.format import grouped, plural  # noqa: PLC0415

    fields = dict(_flat("", _job_json(job)))
    rows: list[tuple[str, str]] = []
    for label, path in _JOB_ROWS:
        value = fields.pop(path, None)
        if value not in (None, ""):
            rows.append((label, f"{value} h" if label == "timeout" else value))
        if label == "model":
            total, done, ok, bad = (job.get(k) for k in _RECORD_FIELDS)
            if any(v is not None for v in (total, done, ok, bad)):
                head = f"{grouped(done or 0)} of {grouped(total)} processed" if total else \
                    f"{grouped(done or 0)} processed (total not known yet)"
                rows.append(("records", f"{head} · {grouped(ok or 0)} ok · {plural(bad or 0, 'error')}"))
    for key in _RECORD_FIELDS:
        fields.pop(key, None)
    rows += [(k, v) for k, v in fields.items() if v not in (None, "")]  # anything else the service returned
    width = max(len(label) for label, _ in rows) + 2
    return "\n".join(f"{label:<{width}}{value}" for label, value in rows)


def cmd_batch(args) -> int:
    return run(_batch(args))


async def _batch(args) -> int:
    import botocore.exceptions as bx  # noqa: PLC0415

    from .core.ops import batch as actions  # noqa: PLC0415

    async with session(args) as source:
        guard = guard_for(source)
        try:
            if args.batch_command == "submit":
                guard.account_id = await _account(source)
                bucket = (source.profile.sandbox or {}).get("bucket") if source.profile.is_sandbox else None
                submit = actions.submit_batch_s3 if args.file.startswith("s3://") else actions.submit_batch
                job = await submit(source.ctx, guard, args.file, args.model, args.name, sandbox_bucket=bucket)
                if args.json:
                    print(json.dumps(_job_json(job), default=_json_default, indent=2))
                else:
                    print(f"submitted {job['jobName']}: {job['jobArn']} ({job['status']})")
            elif args.batch_command == "list":
                _print_jobs(await actions.list_batches(source.ctx, args.status), args.json)
            elif args.batch_command == "show":
                job = await actions.show_batch(source.ctx, args.job)
                if args.json:
                    print(json.dumps(_job_json(job), default=_json_default, indent=2))
                else:
                    print(format_job(job))
            elif args.batch_command == "cancel":
                guard.account_id = await _account(source)
                guard.require_mutation("batch-cancel", args.job)
                if not args.yes:
                    if not sys.stdin.isatty():
                        err("batch cancel: confirmation needed; pass --yes to cancel without a prompt")
                        return EXIT_USAGE
                    answer = input(f"Cancel batch job {args.job} in account {guard.account_id or '?'} "
                                   f"({source.profile.name}, {source.profile.region})? [y/N] ")
                    if answer.strip().lower() not in ("y", "yes"):
                        print("not cancelled")
                        return EXIT_FAIL
                job = await actions.cancel_batch(source.ctx, guard, args.job)
                print(f"{job['jobName']}: {job['status']}")
        except actions.BatchInputError as e:
            err(e.message)
            return EXIT_FAIL
        except ValueError as e:
            err(str(e))
            return EXIT_USAGE
        except bx.ClientError as e:
            error = e.response.get("Error", {})
            err(f"{error.get('Code')}: {error.get('Message')}")
            return EXIT_FAIL
        except bx.BotoCoreError as e:
            err(str(e))
            return EXIT_FAIL
    return 0


# ------------------------------------------------------------------ status

EXIT_OVER = 3


def status_document(data, answers, models, tiers, now) -> dict:
    """The four panes' data as one JSON-able document."""
    from .core.domain import metricsplan as mp  # noqa: PLC0415

    doc = {
        "time": now, "profile": data.profile, "account_id": data.account_id, "region": data.region,
        "endpoint": data.endpoint,
        "reservations": [{"reservation_id": r.reservation_id, "model_id": r.model_id,
                          "input_tpm_used": round(r.input_tpm_used), "input_tpm_reserved": r.input_tpm_reserved,
                          "input_fraction": round(r.input_fraction, 4),
                          "output_tpm_used": round(r.output_tpm_used), "output_tpm_reserved": r.output_tpm_reserved,
                          "output_fraction": round(r.output_fraction, 4),
                          # tokens/min and requests/min that overflowed to Standard: known only from the
                          # sandbox's own metrics (no AWS metric counts overflow); null when not known
                          "overflow_tpm": None if r.overflow_tpm is None else round(r.overflow_tpm),
                          "overflow_requests_per_min": None if r.overflow_rpm is None else round(r.overflow_rpm, 2),
                          "overflow_source": r.overflow_source or None}
                         for r in data.reservations],
        "quotas": [{"model_id": q.model_id, "name": q.name, "tpm_quota": q.tpm_quota, "rpm_quota": q.rpm_quota,
                    "tpm_by_tier": {k: round(v) for k, v in q.tpm_by_tier.items()}, "tpm_used": round(q.tpm_used),
                    "tpm_fraction": round(q.tpm_fraction, 4), "rpm_used": round(q.rpm_used),
                    "rpm_fraction": round(q.rpm_fraction, 4)} for q in data.quotas],
        "throttles": {
            "last_5m": mp.throttle_counts(answers, models, tiers, now, 5) if answers else {},
            "last_60m": mp.throttle_counts(answers, models, tiers, now, 60) if answers else {},
        },
        "batch_jobs": [{"job_name": j.job_name, "job_arn": j.job_arn, "model_id": j.model_id, "status": j.status,
                        "processed": j.processed, "total": j.total_records, "success": j.success,
                        "errors": j.errors} for j in data.batch_jobs],
        "stale": {k: v.reason for k, v in data.status.items() if not v.ok},
    }
    return doc


def highest_use(doc: dict) -> tuple[float, str]:
    best = (0.0, "")
    for q in doc["quotas"]:
        for key in ("tpm_fraction", "rpm_fraction"):
            if q[key] > best[0]:
                best = (q[key], f"{q['model_id']} {key.split('_')[0].upper()} {q[key]:.1%} of quota")
    for r in doc["reservations"]:
        for key in ("input_fraction", "output_fraction"):
            if r[key] > best[0]:
                best = (r[key], f"reservation {r['reservation_id']} {key.split('_')[0]} TPM {r[key]:.1%}")
    return best


def cmd_status(args) -> int:
    from .core.domain.alerts import PROFILE_THRESHOLD  # noqa: PLC0415

    if args.fail_over not in (None, PROFILE_THRESHOLD) and not 0 < args.fail_over <= 10:
        err(f"--fail-over: must be a fraction such as 0.8, got {args.fail_over}")
        return EXIT_USAGE
    return run(_status(args))


async def _status(args) -> int:
    from .core.aws.collectors import Collector  # noqa: PLC0415

    async with session(args) as source:
        collector = Collector(source.ctx, clock=source.collector.clock, history_minutes=60)
        data = await collector.refresh()
        now = collector.clock()
        doc = status_document(data, collector.answers, collector.models, collector.tiers, now)
    if collector.errors:
        doc["errors"] = collector.errors
    threshold = source.profile.alert_threshold
    doc["alert_threshold"] = threshold
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(format_status(doc, threshold))
    if collector.errors.get("metrics") and collector.answers is None:
        err(f"could not read metrics: {collector.errors['metrics']}")
        return EXIT_FAIL
    from .core.domain.alerts import PROFILE_THRESHOLD  # noqa: PLC0415

    if args.fail_over is None:
        return 0  # without --fail-over the exit code never depends on use
    limit, whose = (threshold, f" (profile {source.profile.name!r} alert_threshold)") \
        if args.fail_over is PROFILE_THRESHOLD else (args.fail_over, "")
    level, what = highest_use(doc)
    if level >= limit:
        print(f"tierconsole: over {limit:.0%}{whose}: {what}", file=sys.stderr)
        return EXIT_OVER
    return 0


def _overflow_text(r: dict) -> str:
    if r["overflow_tpm"] is None:
        return "overflow not published by AWS"
    return f"overflow {r['overflow_tpm']:,} TPM ({r['overflow_source']})"


def format_status(doc: dict, alert_threshold: float = 0.8) -> str:
    """The status document for people: tiers by name, and ``▲`` on what is at or over the profile's
    ``alert_threshold`` (the same threshold the dashboard colours by)."""
    from .core.domain.alerts import is_over, over_text  # noqa: PLC0415
    from .core.domain.format import tier_label  # noqa: PLC0415

    def mark(*fractions: float) -> str:
        return "▲ " if max(fractions) >= alert_threshold else "  "

    over = sum(1 for q in doc["quotas"] if is_over(q["tpm_fraction"], q["rpm_fraction"], alert_threshold))
    out = [f"profile {doc['profile']}  account {doc['account_id'] or '?'}  region {doc['region']}"
           f"  endpoint {doc['endpoint'] or 'AWS'}",
           f"alert threshold {alert_threshold:.0%}: {over_text(over, alert_threshold)}", ""]
    out.append("RESERVED TPM")
    for r in doc["reservations"]:
        out.append(f"{mark(r['input_fraction'], r['output_fraction'])}{r['reservation_id']:<24} {r['model_id']:<44} "
                   f"in {r['input_tpm_used']:>9,}/{r['input_tpm_reserved']:<9,}"
                   f" {r['input_fraction']:>5.0%}  out {r['output_tpm_used']:>8,}/{r['output_tpm_reserved']:<8,}"
                   f" {r['output_fraction']:>5.0%}  {_overflow_text(r)}")
    out.append("ON-DEMAND QUOTA (TPM by tier vs quota, burndown included)")
    for q in doc["quotas"]:
        tiers = "  ".join(f"{tier_label(k)} {v:,}" for k, v in q["tpm_by_tier"].items())
        out.append(f"{mark(q['tpm_fraction'], q['rpm_fraction'])}{q['model_id']:<44} "
                   f"{q['tpm_used']:>9,}/{q['tpm_quota']:<9,.0f} {q['tpm_fraction']:>5.0%}"
                   f"  RPM {q['rpm_used']}/{q['rpm_quota']:.0f}  [{tiers}]")
    out.append("THROTTLES (5 min / 60 min)")
    for model, per in doc["throttles"]["last_60m"].items():
        five = doc["throttles"]["last_5m"].get(model, {})
        cells = "  ".join(f"{tier_label(t)} {five.get(t, 0)}/{n}" for t, n in per.items())
        out.append(f"  {model:<44} {cells}")
    out.append("BATCH JOBS")
    for j in doc["batch_jobs"]:
        out.append(f"  {j['job_name']:<36} {j['status']:<19} {j['processed']}/{j['total'] if j['total'] is not None else '?'}"
                   f"  errors {j['errors']}")
    if doc["stale"]:
        out.append("STALE: " + "; ".join(f"{k}: {v}" for k, v in doc["stale"].items()))
    return "\n".join(out)


# ------------------------------------------------------------------ incident export

def parse_duration(text: str) -> float:
    """Seconds from '90s', '30m', '2h', '1d' (a bare number is minutes)."""
    import re  # noqa: PLC0415

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text or "")
    if not m:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 30m, 2h, 1d)")
    value = float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "": 60}[m.group(2)]
    if value <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    return value


def cmd_incident(args) -> int:
    try:
        since = parse_duration(args.since)
    except ValueError as e:
        err(f"--since: {e}")
        return EXIT_USAGE
    if since > 15 * 86400:
        err("--since: at most 15d (CloudWatch keeps 1-minute data for 15 days)")
        return EXIT_USAGE
    if args.output:
        from .core.files import output_path_problem  # noqa: PLC0415

        problem = output_path_problem(args.output)
        if problem:  # before anything is collected
            err(f"argument --output: {args.output}: {problem}")
            return EXIT_USAGE
    return run(_incident(args, since))


async def _incident(args, since: float) -> int:
    import math  # noqa: PLC0415

    from .core.aws.collectors import Collector  # noqa: PLC0415
    from .core.domain import incident as inc  # noqa: PLC0415

    async with session(args) as source:
        minutes = max(1, math.ceil(since / 60))
        collector = Collector(source.ctx, clock=source.collector.clock, history_minutes=minutes)
        await collector.refresh()
        if collector.answers is None:
            err(f"could not read metrics: {collector.errors.get('metrics', 'unknown error')}")
            return EXIT_FAIL
        now = collector.clock()
        models = [args.model] if args.model else collector.models
        unknown = [m for m in models if args.model and m not in collector.names and m not in collector.models]
        if unknown:
            err(f"--model: {unknown[0]!r} is not a model of this account/region "
                f"(known: {', '.join(sorted(collector.names)) or 'none'})")
            return EXIT_USAGE
        reserved = {r.model_id for r in source.profile.reservations}
        incidents = []
        for model in models:
            tpm_q, rpm_q = collector.quota(model)
            incidents.append(inc.build(collector.answers, model, collector.names.get(model, model),
                                       collector.tiers.get(model, ()), tpm_q, rpm_q, now - since, now,
                                       model in reserved))
    text = {"md": inc.to_markdown, "csv": inc.to_csv, "json": inc.to_json}[args.format](incidents)
    if args.output:
        from .core.files import write_private  # noqa: PLC0415

        try:
            write_private(args.output, text)  # 0600 (it names the account's models and figures), never half-written
        except OSError as e:
            err(f"argument --output: {args.output}: cannot write: {e.strerror or e}")
            return EXIT_FAIL
        print(f"wrote {args.output} ({len(incidents)} model(s)): " + " | ".join(i.diagnosis for i in incidents))
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0
