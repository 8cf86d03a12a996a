"""``tierconsole batch submit|list|show|cancel``: batch inference jobs."""
from __future__ import annotations

import json
import sys

from .common import EXIT_FAIL, EXIT_USAGE, err, run, session

JOB_HELP = "job id (from `batch list`), ARN, or a name that exactly one job has"


def job_ref(text: str) -> str:
    """``JOB`` of show and cancel: an id, an ARN or a name (an empty one is a usage error, not a call)."""
    import argparse  # noqa: PLC0415

    from ..core.ops.batch import job_ref_problem  # noqa: PLC0415 - re and dataclasses only at import

    problem = job_ref_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def job_name(text: str) -> str:
    """``--name`` of submit, checked against CreateModelInvocationJob's rule before anything is uploaded."""
    import argparse  # noqa: PLC0415

    from ..core.ops.jobs import job_name_problem  # noqa: PLC0415 - re only at import

    problem = job_name_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def add_parser(sub) -> None:
    bp = sub.add_parser("batch", help="submit, list, show and cancel batch inference jobs",
                        description="Batch inference jobs. Submit validates the JSONL file locally first: "
                                    "a malformed file uploads nothing.")
    bsub = bp.add_subparsers(dest="batch_command", metavar="ACTION", required=True)
    b = bsub.add_parser("submit", help="validate, upload and create a job",
                        description="Validate, upload and create a job. Submitting the same file, model and name "
                                    "again is the same job (said so, never a second one); when that job is "
                                    "Stopping, Stopped, Failed or Expired nothing runs: exit 1, give a new --name.")
    b.add_argument("file", help="local JSONL file of {recordId, modelInput} lines, or an s3:// URI already in S3")
    b.add_argument("--model", required=True, metavar="ID")
    b.add_argument("--name", metavar="NAME", type=job_name,
                   help="job name: 1 to 63 letters, digits, '+', '-', '.', starting with a letter or digit (default: the file's name and a hash of its content and the model, so a retry is the same job)")
    b.add_argument("--json", action="store_true")
    b = bsub.add_parser("list", help="list jobs, newest first")
    b.add_argument("--status", choices=("Submitted", "InProgress", "Completed", "Failed", "Stopping", "Stopped",
                                        "PartiallyCompleted", "Expired", "Validating", "Scheduled"))
    b.add_argument("--json", action="store_true")
    b = bsub.add_parser("show", help="show one job")
    b.add_argument("job", type=job_ref, help=JOB_HELP)
    b.add_argument("--json", action="store_true")
    b = bsub.add_parser("cancel", help="stop a job (asks for confirmation unless --yes); a job already "
                                       "Stopping or Stopped is reported so, exit 0")
    b.add_argument("job", type=job_ref, help=JOB_HELP)
    b.add_argument("--yes", action="store_true", help="do not ask for confirmation")


class _NeedsYes(Exception):
    """``batch cancel`` without ``--yes`` and with no terminal to ask on."""


def cmd_batch(args) -> int:
    return run(_batch(args))


async def _batch(args) -> int:
    import botocore.exceptions as bx  # noqa: PLC0415

    from ..core.ops import batch as actions  # noqa: PLC0415
    from ..present.batch import format_job, format_jobs, job_json, json_default  # noqa: PLC0415

    async with session(args) as operator:
        source = operator.source
        try:
            if args.batch_command == "submit":
                job = await actions.submit(operator, args.file, args.model, args.name)
                text, ran = actions.submit_text(job)
                if args.json:
                    print(json.dumps({**job_json(job), "existingJob": job.existing}, default=json_default, indent=2))
                    if not ran:
                        err(text)
                else:
                    print(text)
                return 0 if ran else EXIT_FAIL
            elif args.batch_command == "list":
                print(format_jobs(await actions.list_batches(source.ctx, args.status), args.json))
            elif args.batch_command == "show":
                job = await actions.show_batch(source.ctx, args.job)
                if args.json:
                    print(json.dumps(job_json(job), default=json_default, indent=2))
                else:
                    print(format_job(job))
            elif args.batch_command == "cancel":
                async def confirm(account: str | None) -> str | None:
                    if args.yes:
                        return args.job
                    if not sys.stdin.isatty():
                        raise _NeedsYes
                    current = await actions.show_batch(source.ctx, args.job)
                    if current.get("status") not in actions.STOPPED:
                        answer = input(f"Cancel batch job {current.get('jobName')} "
                                       f"({actions.job_id_of(current['jobArn'])}, {current.get('status')}) in account "
                                       f"{account or '?'} ({source.profile.name}, {source.profile.region})? [y/N] ")
                        if answer.strip().lower() not in ("y", "yes"):
                            return None
                    return str(current["jobArn"])  # the job confirmed, whatever is created meanwhile

                try:
                    job = await actions.cancel_confirmed(operator, args.job, confirm)
                except _NeedsYes:
                    err("batch cancel: confirmation needed; pass --yes to cancel without a prompt")
                    return EXIT_USAGE
                if job is None:
                    print("not cancelled")
                    return EXIT_FAIL
                print(actions.cancel_text(job))
        except actions.AmbiguousJob as e:
            err(str(e))
            return EXIT_USAGE
        except actions.JobNotFound as e:
            err(str(e))
            return EXIT_FAIL
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
