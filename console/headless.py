"""Headless subcommands: the same actions as the TUI, for scripts. Output is a table or --json."""
from __future__ import annotations

import asyncio
import json
import sys
import time
from contextlib import asynccontextmanager

from .actions.guard import Guard, ReadOnlyError, append_history, text_fingerprint
from .domain.catalog import ConfigError
from .domain.pricing import PriceTable
from .profile_loader import load_profile, user_data_dir, user_state_dir

EXIT_FAIL = 1
EXIT_USAGE = 2


def err(msg: str) -> None:
    print(f"tierconsole: error: {msg}", file=sys.stderr)


@asynccontextmanager
async def session(args):
    """The profile's AWS context (starting a quiet embedded sandbox when the profile is the sandbox)."""
    from .live import LiveSource  # noqa: PLC0415

    profile = load_profile(args.profile)
    source = LiveSource(profile, endpoint_url=args.endpoint_url, region=args.region, read_only=args.read_only,
                        scenario="none")
    await asyncio.to_thread(source.start)
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
    from .actions.prompt import PromptRequest  # noqa: PLC0415

    req = PromptRequest(model_id=args.model, text=args.text, tier=args.tier, system=args.system,
                        max_tokens=args.max_tokens, temperature=args.temperature, stream=args.stream)
    try:
        req.validate()
    except ValueError as e:
        err(str(e))
        return EXIT_USAGE
    return run(_prompt(args, req))


async def _prompt(args, req) -> int:
    from .actions.prompt import send_prompt  # noqa: PLC0415

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

        results = await send_prompt(client, req, prices, on_text=on_text)
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
    head = f"{'tier':<9} {'served':<9} {'status':<22} {'ttft ms':>8} {'latency ms':>10} {'out tok/s':>9} " \
           f"{'in':>6} {'out':>6} {'cost $':>10}"
    lines = [head]
    for r in results:
        status = "ok" if r.ok else (r.error or "error")
        fmt = lambda v, spec: format(v, spec) if v is not None else "-"  # noqa: E731
        lines.append(f"{r.tier:<9} {r.served_tier or '-':<9} {status:<22} {fmt(r.ttft_ms, '8.0f'):>8} "
                     f"{fmt(r.latency_ms, '10.0f'):>10} {fmt(r.output_tps, '9.1f'):>9} {r.input_tokens:>6} "
                     f"{r.output_tokens:>6} {fmt(r.cost_usd, '10.6f'):>10}")
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


def cmd_batch(args) -> int:
    return run(_batch(args))


async def _batch(args) -> int:
    import botocore.exceptions as bx  # noqa: PLC0415

    from .actions import batch as actions  # noqa: PLC0415

    async with session(args) as source:
        guard = guard_for(source)
        try:
            if args.batch_command == "submit":
                guard.account_id = await _account(source)
                bucket = (source.profile.sandbox or {}).get("bucket") if source.profile.is_sandbox else None
                job = await actions.submit_batch(source.ctx, guard, args.file, args.model, args.name,
                                                 sandbox_bucket=bucket)
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
                    for k, v in _job_json(job).items():
                        print(f"{k:<24} {_json_default(v) if not isinstance(v, (str, int, float)) else v}")
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
