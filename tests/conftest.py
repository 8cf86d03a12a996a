"""Shared fixtures: a real sandbox on a free loopback port and real AWS SDK clients aimed at it."""
from __future__ import annotations

import os
import tempfile

import pytest

# Never let a developer's real AWS configuration leak into tests.
for _var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)
os.environ.setdefault("AWS_ACCESS_KEY_ID", "sandbox")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "sandbox")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
# Nor the developer's own state: no test may attach to (or stop) their background sandbox, or write their
# audit log. Tests that need their own directories set them per test.
_PRIVATE = tempfile.mkdtemp(prefix="tierconsole-tests-")
os.environ["XDG_RUNTIME_DIR"] = os.path.join(_PRIVATE, "run")
os.environ["XDG_STATE_HOME"] = os.path.join(_PRIVATE, "state")
os.environ["XDG_CACHE_HOME"] = os.path.join(_PRIVATE, "cache")  # parsed profiles (core/config/yamldoc.py)

NO_RETRY = {"retries": {"total_max_attempts": 1, "mode": "standard"}}
REGION = "us-east-1"
NOVA = "amazon.nova-lite-v1:0"
GPT = "openai.gpt-oss-20b-1:0"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"


@pytest.fixture
def xdg_env(tmp_path):
    """The environment of a user with private XDG directories under ``tmp_path`` (no profile chosen, no
    endpoint exported). At the end, the background sandbox started there, if any, is stopped (killed if it
    will not stop): no test leaves a process behind or touches the developer's own state."""
    import json
    import signal
    import subprocess
    import sys

    env = dict(os.environ)
    env.update(XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_DATA_HOME=str(tmp_path / "data"), XDG_RUNTIME_DIR=str(tmp_path / "run"))
    for var in ("TIERCONSOLE_PROFILE", "AWS_ENDPOINT_URL"):
        env.pop(var, None)
    yield env
    state = tmp_path / "run" / "tierconsole" / "sandbox.json"
    pid = json.loads(state.read_text()).get("pid") if state.exists() else None
    subprocess.run([sys.executable, "-m", "tierconsole.cli", "sandbox", "stop"], env=env, capture_output=True,
                   timeout=60)
    if isinstance(pid, int):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@pytest.fixture
def make_sandbox():
    """Start sandboxes in their own threads; all are stopped at the end of the test."""
    from tierconsole.sandbox.app import Sandbox, SandboxThread

    started: list[SandboxThread] = []

    def start(config=None, **kwargs) -> SandboxThread:
        thread = SandboxThread(Sandbox(config, **kwargs))
        thread.start()
        started.append(thread)
        return thread

    yield start
    for thread in started:
        thread.stop()


@pytest.fixture(scope="module")
def module_sandbox():
    """One quiet sandbox (speed 50) shared by the tests of a module (hypothesis tests send thousands of requests)."""
    from tierconsole.sandbox.app import Sandbox, SandboxThread

    thread = SandboxThread(Sandbox(speed=50.0))
    thread.start()
    yield thread.sandbox
    thread.stop()


@pytest.fixture
def sandbox(make_sandbox):
    """A quiet sandbox (no background traffic) running 50x faster than real time."""
    return make_sandbox(speed=50.0)


def boto3_client(service: str, endpoint: str, **config):
    import boto3
    from botocore.config import Config

    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="sandbox",
                        aws_secret_access_key="sandbox", config=Config(**{**NO_RETRY, **config}))


def aio_client(service: str, endpoint: str, **config):
    """An aiobotocore client context manager: ``async with aio_client(...) as c``."""
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    return get_session().create_client(service, endpoint_url=endpoint, region_name=REGION,
                                       aws_access_key_id="sandbox", aws_secret_access_key="sandbox",
                                       config=AioConfig(**{**NO_RETRY, **config}))


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": [{"text": text}]}]


def clear_of_minute_end(margin: float = 12.0) -> None:
    """Sleep into the next wall-clock minute if fewer than ``margin`` seconds are left of this one.

    Tests that read per-minute CloudWatch sums a few seconds after a burst call this first, so the
    burst and the read fall in one minute (the trailing-minute estimate is exact only then)."""
    import time
    left = 60.0 - time.time() % 60.0
    if left < margin:
        time.sleep(left + 0.2)
