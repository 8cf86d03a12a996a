"""Shared fixtures: a real sandbox on a free loopback port and real AWS SDK clients aimed at it."""
from __future__ import annotations

import os

import pytest

# Never let a developer's real AWS configuration leak into tests.
for _var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)
os.environ.setdefault("AWS_ACCESS_KEY_ID", "sandbox")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "sandbox")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

NO_RETRY = {"retries": {"total_max_attempts": 1, "mode": "standard"}}
REGION = "us-east-1"
NOVA = "amazon.nova-lite-v1:0"
GPT = "openai.gpt-oss-20b-1:0"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"


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
