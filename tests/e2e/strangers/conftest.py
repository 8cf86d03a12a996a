"""Client stacks other than boto3/aiobotocore ("strangers"), installed on demand and aimed at a sandbox.

- ``langchain-aws`` comes with the ``[test]`` extra (it uses our boto3).
- The AWS CLI (``awscli`` v1, pinned below) gets a venv of its own: the first test that needs it makes
  ``.cache/strangers/awscli-<version>/`` and pip-installs it there from PyPI (about 15 s; later runs reuse
  it). It stays out of the project's venv so that its pins (docutils, rsa, colorama, PyYAML, its own
  botocore) never meet ours.
- The AWS SDK for JavaScript v3 comes from the npm registry: the first test that needs it runs ``npm ci`` with
  the versions pinned in ``js/package-lock.json`` into ``.cache/strangers/node-<hash of the lock>/`` (about
  5 s; later runs reuse it). Node.js 20 or later and npm must be on the PATH (the machine's own).

A failed install fails the tests that need it, naming the step; only a tool the machine does not have at all
(no Node.js) skips them, with the reason. The seconds each install took are printed at the end of the run.

Every stranger is run as a user runs it: a subprocess whose environment holds only the endpoint, region and
credentials (``AWS_ENDPOINT_URL`` …), with the client's default settings.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CACHE = ROOT / ".cache" / "strangers"
JS_DIR = Path(__file__).resolve().parent / "js"
ROLE_ARN = "arn:aws:iam::123456789012:role/StrangerBatchRole"
MIN_NODE = 20
AWSCLI_VERSION = "1.46.3"
INSTALLED: dict[str, float] = {}  # stranger -> seconds its install took in this run (0: reused from the cache)


def stranger_env(endpoint: str) -> dict[str, str]:
    """The environment a user exports to aim any AWS client at the sandbox, and nothing of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LANGCHAIN_", "LANGSMITH_"))}
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
               AWS_ACCESS_KEY_ID="sandbox", AWS_SECRET_ACCESS_KEY="sandbox",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_EC2_METADATA_DISABLED="true", NODE_NO_WARNINGS="1")
    return env


def _lock_hash() -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((JS_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def install_js_sdk() -> tuple[Path, float]:
    """node_modules holding the pinned AWS SDK for JavaScript v3: (its directory, seconds spent installing)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip(f"Node.js {MIN_NODE}+ and npm are not on this machine's PATH: the AWS SDK for JavaScript "
                    "cannot run here (install Node.js to run these tests)")
    major = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(major.lstrip("v").split(".")[0]) < MIN_NODE:
        pytest.fail(f"the JavaScript end-to-end tests need Node.js {MIN_NODE}+, found {major}", pytrace=False)
    target = CACHE / f"node-{_lock_hash()}"
    done = target / ".installed"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:  # two pytest processes at once install once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            INSTALLED.setdefault("AWS SDK for JavaScript v3 (npm ci)", 0.0)
            return target, 0.0
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(JS_DIR / name, target / name)
        t0 = time.monotonic()
        proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                              cwd=target, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            pytest.fail(f"npm ci of the AWS SDK for JavaScript failed ({proc.returncode}):\n{proc.stderr[-3000:]}",
                        pytrace=False)
        done.write_text(json.dumps({"seconds": round(time.monotonic() - t0, 1)}))
        INSTALLED["AWS SDK for JavaScript v3 (npm ci)"] = time.monotonic() - t0
        return target, time.monotonic() - t0


class JsSdk:
    """Runs ``js/stranger.mjs`` with node, the pinned SDK on its module path."""

    def __init__(self, modules: Path):
        self.modules = modules
        # ESM resolves packages from the script's own directory upwards: run a copy that sits beside node_modules.
        self.script = modules / "stranger.mjs"
        shutil.copy2(JS_DIR / "stranger.mjs", self.script)

    def run(self, endpoint: str, action: str, timeout: float = 120, **arg) -> dict:
        proc = subprocess.run(["node", str(self.script), action, json.dumps(arg)], env=stranger_env(endpoint),
                              capture_output=True, text=True, timeout=timeout, cwd=self.modules)
        assert proc.returncode == 0, f"node {action} crashed ({proc.returncode}):\n{proc.stderr[-3000:]}"
        try:
            return json.loads(proc.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            raise AssertionError(f"node {action} printed no JSON:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}") \
                from None


@pytest.fixture(scope="session")
def js_sdk() -> JsSdk:
    modules, _seconds = install_js_sdk()
    return JsSdk(modules)


def install_aws_cli() -> Path:
    """The ``aws`` command of the AWS CLI v1, pip-installed into a venv of its own under .cache/strangers/."""
    target = CACHE / f"awscli-{AWSCLI_VERSION}"
    aws = target / "bin" / "aws"
    done = target / ".installed"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists() and aws.exists():
            INSTALLED.setdefault(f"AWS CLI {AWSCLI_VERSION} (venv + pip)", 0.0)
            return aws
        shutil.rmtree(target, ignore_errors=True)
        t0 = time.monotonic()
        steps = ([sys.executable, "-m", "venv", str(target)],
                 [str(target / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                  f"awscli=={AWSCLI_VERSION}"])
        for step in steps:
            proc = subprocess.run(step, capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                pytest.fail(f"installing the AWS CLI failed at `{' '.join(step)}` ({proc.returncode}):\n"
                            f"{(proc.stderr or proc.stdout)[-3000:]}", pytrace=False)
        done.write_text(json.dumps({"seconds": round(time.monotonic() - t0, 1)}))
        INSTALLED[f"AWS CLI {AWSCLI_VERSION} (venv + pip)"] = time.monotonic() - t0
        return aws


_AWS: list[Path] = []


def aws_cli() -> str:
    if not _AWS:
        _AWS.append(install_aws_cli())
    return str(_AWS[0])


def run_aws(endpoint: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``aws ARGS…`` as a user types it, with the sandbox's endpoint exported and the CLI's defaults otherwise."""
    return subprocess.run([aws_cli(), *args], env=stranger_env(endpoint), capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def stranger_sandbox(module_sandbox):
    """The built-in sandbox (its models and reservation), quiet, at 50x so batch jobs finish in seconds."""
    return module_sandbox


NOVA = "amazon.nova-lite-v1:0"


@pytest.fixture(scope="module")
def tier_cases(stranger_sandbox) -> list[tuple[str, str | None, str]]:
    """(model, tier asked or None, what the sandbox answers): the served tier, or ``!Error`` for the error code.

    Every tier on a model without a reservation, and ``reserved`` on the model that has one."""
    reserved_model = stranger_sandbox.config.catalog.reservations[0].model_id
    return [(NOVA, None, "default"), (NOVA, "priority", "priority"), (NOVA, "default", "default"),
            (NOVA, "flex", "flex"), (NOVA, "reserved", "!ValidationException"),
            (reserved_model, "reserved", "reserved")]


@pytest.fixture(scope="module")
def batch_job(stranger_sandbox) -> dict:
    """What a batch job needs: bucket, JSONL lines (as many records as the model's minimum), role, model."""
    model = stranger_sandbox.config.catalog.model(NOVA)
    lines = [json.dumps({"recordId": f"r{i:04d}",
                         "modelInput": {"messages": [{"role": "user", "content": [{"text": f"Record {i}: hi"}]}],
                                        "inferenceConfig": {"maxTokens": 16}}})
             for i in range(model.batch_min_records)]
    return {"bucket": stranger_sandbox.config.bucket, "modelId": NOVA, "roleArn": ROLE_ARN, "lines": lines}


def check_batch_output(files: dict[str, str], lines: list[str], prefix: str) -> None:
    """The downloaded ``<input>.jsonl.out`` answers every record, and ``manifest.json.out`` counts them."""
    outs = {k: v for k, v in files.items() if k.endswith(".jsonl.out")}
    manifests = {k: v for k, v in files.items() if k.endswith("manifest.json.out")}
    assert len(outs) == 1 and len(manifests) == 1, sorted(files)
    assert all(k.startswith(prefix) for k in files), sorted(files)
    answered = [json.loads(line) for line in next(iter(outs.values())).splitlines()]
    assert sorted(a["recordId"] for a in answered) == sorted(json.loads(line)["recordId"] for line in lines)
    assert all("modelOutput" in a for a in answered), answered[:2]
    manifest = json.loads(next(iter(manifests.values())))
    assert manifest["totalRecordCount"] == manifest["successRecordCount"] == len(lines)


@pytest.fixture
def check_batch():
    return check_batch_output


@pytest.fixture
def aws():
    """``aws(endpoint, *args)``: the AWS CLI (its own venv) as a user runs it."""
    aws_cli()
    return run_aws


def pytest_terminal_summary(terminalreporter):
    if INSTALLED:
        terminalreporter.write_sep("-", "stranger clients")
        for name, seconds in INSTALLED.items():
            how = f"installed in {seconds:.1f} s" if seconds else "reused from .cache/strangers"
            terminalreporter.write_line(f"{name}: {how}")
