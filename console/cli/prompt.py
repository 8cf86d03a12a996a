"""``tierconsole prompt``: a test prompt at one tier, all tiers side by side, or escalating."""
from __future__ import annotations

import json
import sys

from .argtypes import number
from .argtypes import api_count
from .common import EXIT_FAIL, EXIT_USAGE, err, run, session


def add_parser(sub) -> None:
    pp = sub.add_parser("prompt", help="send a test prompt at a tier, at all tiers, or escalating",
                        description="Send a test prompt with Converse at one tier, all tiers side by side, or "
                                    "escalate (Standard first, Priority on a throttle). Exit 1 when every tier failed.")
    pp.add_argument("text", help="the prompt text")
    pp.add_argument("--model", required=True, metavar="ID", help="model id, inference profile id or ARN "
                    "(e.g. amazon.nova-lite-v1:0, us.anthropic.claude-sonnet-4-5-20250929-v1:0)")
    pp.add_argument("--tier", default="default", choices=("reserved", "priority", "standard", "default", "flex",
                                                          "all", "escalate"), help="tier (default: standard)")
    pp.add_argument("--stream", action="store_true", help="use ConverseStream (measures time to first token)")
    pp.add_argument("--max-tokens", type=api_count, metavar="N",
                    help="maxTokens, 1 to 2147483647 (default: the model's maximum)")
    pp.add_argument("--temperature", type=number(float, at_least=0, at_most=1), metavar="T", help="temperature, 0 to 1")
    pp.add_argument("--system", metavar="TEXT", help="system prompt")
    pp.add_argument("--json", action="store_true", help="print one JSON object per tier")


def cmd_prompt(args) -> int:
    from ..core.ops.prompt import PromptRequest  # noqa: PLC0415

    req = PromptRequest(model_id=args.model, text=args.text, tier=args.tier, system=args.system,
                        max_tokens=args.max_tokens, temperature=args.temperature, stream=args.stream)
    try:
        req.validate()
    except ValueError as e:
        err(str(e))
        return EXIT_USAGE
    return run(_prompt(args, req))


async def _prompt(args, req) -> int:
    from ..core.ops.prompt import run_prompt  # noqa: PLC0415
    from ..present.prompt import format_results  # noqa: PLC0415

    single_stream = req.stream and req.tier not in ("all",) and not args.json

    def on_text(tier: str, chunk: str) -> None:
        if single_stream:
            sys.stdout.write(chunk)
            sys.stdout.flush()

    async with session(args) as operator:
        results = await run_prompt(operator, req, via="cli", on_text=on_text)
    if single_stream:
        sys.stdout.write("\n")
    ok = any(r.ok for r in results)
    if args.json:
        for r in results:
            print(json.dumps(r.to_json()))
    else:
        if not req.stream and len(results) == 1 and results[0].ok:
            print(results[0].text)
        print(format_results(results), file=sys.stderr if not args.json and len(results) == 1 else sys.stdout)
    return 0 if ok else EXIT_FAIL
