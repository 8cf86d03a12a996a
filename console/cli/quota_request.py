"""``tierconsole plan --quota-request --model ID``: what an AWS quota-increase case asks for, from the model's
CloudWatch history and the quotas Service Quotas lists (Markdown, or ``--json``; stdout or ``-o FILE``, 0600);
``--submit`` files ``RequestServiceQuotaIncrease`` for the binding quota (asks unless ``--yes``; refused
read-only; an open request for the quota is reported, never filed twice). Exit 0 written / requested / exists,
1 too little history, an AWS error or a refusal, 2 bad arguments."""
from __future__ import annotations

import argparse
import json
import sys

from .argtypes import number
from .common import EXIT_FAIL, EXIT_USAGE, err, run, session

_headroom = number(float, at_least=1, at_most=100)
_desired = number(int, above=0, at_most=10_000_000_000)
_OPTIONS = {"submit": "--submit", "yes": "--yes", "headroom": "--headroom", "desired": "--desired",
            "output": "-o/--output", "from_recording": "--from-recording"}


def add_quota_request_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("quota-increase request")
    g.add_argument("--quota-request", action="store_true",
                   help="write what an AWS quota-increase case asks for (steady and peak TPM/RPM, tokens per "
                        "request, burndown, the binding quota, justification), each figure with its source")
    g.add_argument("--from-recording", metavar="FILE",
                   help="the history from a recording (tierconsole record) instead of CloudWatch; nothing is "
                        "called, and the request cannot be --submit-ted (a recording keeps no quota codes)")
    g.add_argument("--headroom", type=_headroom, metavar="X",
                   help="desired value = peak demand × X, 3 significant figures (default: 1.25)")
    g.add_argument("--desired", type=_desired, metavar="N", help="ask for this value instead")
    g.add_argument("-o", "--output", metavar="FILE", help="write the request to FILE (created 0600)")
    g.add_argument("--submit", action="store_true",
                   help="file RequestServiceQuotaIncrease for the binding quota (asks unless --yes)")
    g.add_argument("--yes", action="store_true", help="with --submit: do not ask for confirmation")


def misplaced_option(args) -> str | None:
    """An option of the quota request given without ``--quota-request`` (a usage error, never ignored)."""
    if args.quota_request:
        if args.yes and not args.submit:
            return "--yes goes with --submit"
        if args.submit and args.from_recording:
            return "--submit needs the quota's code from Service Quotas: run it without --from-recording"
        return None
    given = [flag for dest, flag in _OPTIONS.items() if getattr(args, dest, None) not in (None, False)]
    return f"{', '.join(given)} only with --quota-request" if given else None


def cmd_quota_request(args) -> int:
    from ..core.files import output_path_problem  # noqa: PLC0415

    if args.output and (problem := output_path_problem(args.output)):
        err(f"plan: -o {args.output}: {problem}")
        return EXIT_USAGE
    if args.from_recording:
        return _from_recording(args)
    if args.submit and not args.yes and not sys.stdin.isatty():
        err("plan --submit: confirmation needed; pass --yes to submit without a prompt")
        return EXIT_USAGE
    return run(_quota_request(args))


def _from_recording(args) -> int:
    from ..core.domain.quotarequest import DEFAULT_HEADROOM, DesiredNotAbove, TooLittleHistory  # noqa: PLC0415
    from ..recording.format import RecordingError  # noqa: PLC0415
    from ..recording.quota_request import request_from_recording  # noqa: PLC0415

    try:
        request = request_from_recording(args.from_recording, args.model, headroom=args.headroom or DEFAULT_HEADROOM,
                                         desired=args.desired)
    except RecordingError as e:
        err(str(e))
        return EXIT_USAGE
    except DesiredNotAbove as e:
        err(f"plan --quota-request: {e}; nothing was written")
        return EXIT_USAGE
    except TooLittleHistory as e:
        err(f"plan --quota-request: too little history for {args.model}: {e}; nothing was written")
        return EXIT_FAIL
    _write(args, request)
    return 0


def _write(args, request) -> None:
    from ..core.files import write_private  # noqa: PLC0415

    text = json.dumps(request.to_json(), indent=2) + "\n" if args.json else request.to_markdown()
    if args.output:
        write_private(args.output, text)
        print(f"quota-increase request for {request.model_id} written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


async def _quota_request(args) -> int:
    from ..core.domain.quotarequest import DEFAULT_HEADROOM, DesiredNotAbove, TooLittleHistory  # noqa: PLC0415
    from ..core.ops.plan import PlanError, UnknownModel  # noqa: PLC0415
    from ..core.ops.quota_request import QuotaRequestError, build, require_submit, submit  # noqa: PLC0415

    async with session(args) as operator:
        if args.submit:  # read-only refuses first (ReadOnlyError: exit 1, as batch submit and cancel)
            await require_submit(operator, args.model)
        try:
            request = await build(operator, args.model, args.days, headroom=args.headroom or DEFAULT_HEADROOM,
                                  desired=args.desired)
        except UnknownModel as e:
            err(f"plan: {e}")
            return EXIT_USAGE
        except DesiredNotAbove as e:
            err(f"plan --quota-request: {e}; nothing was written")
            return EXIT_USAGE
        except TooLittleHistory as e:
            err(f"plan --quota-request: too little history for {args.model}: {e} (widen --days, or wait for "
                "more traffic); nothing was written")
            return EXIT_FAIL
        except PlanError as e:
            err(f"plan --quota-request: {e}")
            return EXIT_FAIL
        _write(args, request)
        if not args.submit:
            return 0

        async def confirm(account: str | None) -> bool:
            if args.yes:
                return True
            b = request.binding
            answer = input(f"Request {b.name if b else '?'} ({request.binding_code}) "
                           f"{b.spec.value if b else 0:,} → {request.desired_value:,} in account {account or '?'} "
                           f"({operator.profile.name}, {operator.profile.region})? [y/N] ")
            return answer.strip().lower() in ("y", "yes")

        try:
            result = await submit(operator, request, confirm)
        except QuotaRequestError as e:
            err(f"plan --submit: {e}")
            return EXIT_FAIL
        print(result.message, file=sys.stderr)
        return EXIT_FAIL if result.outcome == "declined" else 0
