"""AWS sessions and clients for one console profile (aiobotocore; long-lived clients).

The console's own calls never retry: a throttle must be seen, not hidden
(``total_max_attempts: 1``). Read timeouts come from the profile (``timeouts:``): every call is
short (``calls``, 10 s) except a prompt's answer, whose read timeout is its tier's (``prompt``: Flex may
wait an hour), set per request from the request's own ``serviceTier``. Endpoint precedence: ``--endpoint-url`` > the profile's
``endpoint_url`` > the embedded sandbox > ``AWS_ENDPOINT_URL[_<SERVICE>]`` (honoured by botocore
itself) > AWS.
"""
from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass
from typing import Any

from ..domain.profile import Profile
from ..domain.sandboxkeys import account_credentials

NO_RETRY = {"total_max_attempts": 1, "mode": "standard"}
SANDBOX_CREDENTIALS = account_credentials()  # the sandbox's default account; account_credentials(id): another


@dataclass
class Target:
    """Where one profile's calls go."""

    profile: Profile
    endpoint_url: str | None = None  # None: botocore decides (env vars, then AWS)
    sandbox: bool = False
    credentials: tuple[str, str] | None = None  # a sandbox's --auth key; None: SANDBOX_CREDENTIALS

    def __repr__(self) -> str:  # never the secret
        key = self.credentials[0] if self.credentials else None
        return f"Target(profile={self.profile.name!r}, endpoint_url={self.endpoint_url!r}, sandbox={self.sandbox}, " \
               f"access_key_id={key!r})"

    @property
    def label(self) -> str:
        return self.endpoint_url or "AWS"


class AwsContext:
    """Clients for one profile, created on first use and closed together.

    Every call made through a context is attributed to its profile; switching profiles closes the
    context, so nothing started under one profile can finish under another.
    """

    def __init__(self, target: Target, *, connect_timeout: float | None = None, read_timeout: float | None = None):
        self.target = target
        timeouts = target.profile.timeouts
        self._timeouts = (connect_timeout or timeouts.connect, read_timeout or timeouts.calls)
        self._stack = contextlib.AsyncExitStack()
        self._clients: dict[tuple[str, str], Any] = {}
        self._session = None
        self.closed = False

    @property
    def profile(self) -> Profile:
        return self.target.profile

    def _get_session(self) -> Any:
        if self._session is None:
            from aiobotocore.session import AioSession  # noqa: PLC0415 - heavy; after the first frame

            prof = self.target.profile
            self._session = AioSession(profile=None if self.target.sandbox else prof.aws_profile)
        return self._session

    async def client(self, service: str, region: str | None = None) -> Any:
        """The aiobotocore client of ``service`` in ``region`` (the profile's first by default), made once."""
        if self.closed:
            raise RuntimeError(f"the AWS context of profile {self.profile.name!r} is closed")
        region = region or self.profile.region
        key = (service, region)
        if key not in self._clients:
            from aiobotocore.config import AioConfig  # noqa: PLC0415

            cfg = AioConfig(retries=dict(NO_RETRY), connect_timeout=self._timeouts[0],
                            read_timeout=self._timeouts[1], max_pool_connections=20)
            kwargs: dict[str, Any] = {"region_name": region, "config": cfg}
            if self.target.endpoint_url:
                kwargs["endpoint_url"] = self.target.endpoint_url
            static = self._static_credentials()
            if static is not None:
                kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"] = static
            try:
                creator = self._get_session().create_client(service, **kwargs)
                client = await self._stack.enter_async_context(creator)
            except Exception as e:  # noqa: BLE001 - re-raised; only a missing AWS profile is reworded
                raise _reworded(e, self.profile) from None
            if service == "bedrock-runtime":
                client.meta.events.register("before-parameter-build.bedrock-runtime", self._prompt_read_timeout)
            self._clients[key] = client
        return self._clients[key]

    def _static_credentials(self) -> tuple[str, str] | None:
        """The key pair every client of this context signs with, or None for the session's credential chain
        (a sandbox: its dummy or ``--auth`` key; a context with credentials of its own overrides this)."""
        return (self.target.credentials or SANDBOX_CREDENTIALS) if self.target.sandbox else None

    def _prompt_read_timeout(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        """A prompt waits for its answer as long as its tier may (botocore reads ``read_timeout`` from the
        request context): Converse's ``serviceTier: {type}``, InvokeModel's ``serviceTier`` header."""
        tier = params.get("serviceTier")
        tier = tier.get("type") if isinstance(tier, dict) else tier
        context["read_timeout"] = self.profile.timeouts.for_prompt(tier)

    async def close(self) -> None:
        self.closed = True
        self._clients.clear()
        await self._stack.aclose()


def _reworded(exc: Exception, profile: Profile) -> Exception:
    """A missing AWS profile, said once for every command: which AWS profile, of which console profile, and
    the files it was looked for in (botocore's own message names neither file nor console profile)."""
    import botocore.exceptions as bx  # noqa: PLC0415

    reworded = _aws_profile_not_found()
    if not isinstance(exc, bx.ProfileNotFound) or isinstance(exc, reworded):
        return exc
    new: Exception = reworded(profile=exc.kwargs.get("profile", profile.aws_profile), console=profile.name,
                              config=_aws_file("AWS_CONFIG_FILE", "config"),
                              credentials=_aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials"))
    return new


def _aws_file(variable: str, name: str) -> str:
    return os.path.expanduser(os.environ.get(variable) or f"~/.aws/{name}")


@functools.cache
def _aws_profile_not_found() -> type:
    """botocore's ProfileNotFound (every handler of it still catches it) with a message an operator can act on."""
    import botocore.exceptions as bx  # noqa: PLC0415

    class _AwsProfileNotFound(bx.ProfileNotFound):  # type: ignore[misc]
        fmt = ("AWS profile {profile!r} (aws_profile of console profile {console!r}) not found in {config} "
               "nor {credentials}: add it (aws configure --profile {profile}) or change aws_profile")

    _AwsProfileNotFound.__name__ = _AwsProfileNotFound.__qualname__ = "ProfileNotFound"
    return _AwsProfileNotFound


def describe_error(exc: BaseException) -> str:
    """A short, credential-free reason for a failed call, for a stale pane."""
    try:
        import botocore.exceptions as bx  # noqa: PLC0415
    except ImportError:  # pragma: no cover
        return type(exc).__name__
    if isinstance(exc, bx.ClientError):
        code = exc.response.get("Error", {}).get("Code", "Error")
        if code in ("ExpiredToken", "ExpiredTokenException", "RequestExpired"):
            return "expired token: refresh your credentials (aws sso login)"
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            return f"access denied ({exc.operation_name})"
        if code in ("Throttling", "ThrottlingException", "TooManyRequestsException"):
            return f"throttled ({exc.operation_name})"
        return f"{code} ({exc.operation_name})"
    if isinstance(exc, bx.EndpointConnectionError):
        return "endpoint down: cannot connect"
    if isinstance(exc, bx.ConnectionClosedError):
        return "connection reset by the endpoint"
    if isinstance(exc, (bx.ReadTimeoutError, bx.ConnectTimeoutError, TimeoutError)):
        return "timed out"
    if isinstance(exc, bx.NoCredentialsError):
        return "no AWS credentials found"
    if isinstance(exc, bx.ProfileNotFound):
        return str(exc)
    if isinstance(exc, bx.TokenRetrievalError) or isinstance(exc, bx.SSOError):
        return "SSO token expired: run aws sso login"
    if isinstance(exc, OSError):
        return f"network error: {exc.strerror or type(exc).__name__}"
    return type(exc).__name__
