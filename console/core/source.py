"""A live data source for one profile: the embedded sandbox when the profile asks for it, the AWS
context and the collector. The app polls :meth:`LiveSource.refresh` from a worker and shows the result.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from typing import TYPE_CHECKING, Any, Callable

from .domain.profile import Profile
from .domain.views import DashboardData

if TYPE_CHECKING:  # pragma: no cover
    from ..sandbox.app import Sandbox, SandboxThread
    from ..sandbox.daemon import State
    from .aws.collectors import Collector
    from .aws.regions import RegionsCollector
    from .aws.session import AwsContext, Target

log = logging.getLogger("tierconsole.live")


#: What a sandbox profile does with no endpoint given: ``attach`` to the background sandbox started from
#: its file, else run a throwaway one in-process; ``keep``: attach, else start a background one and leave
#: it running (the console); ``embedded``: always in-process (a scenario or speed of its own).
SANDBOX_MODES = ("attach", "keep", "embedded")
READ_ONLY_FLAG = "--read-only was given"  # the cause a refusal names


class LiveSource:
    def __init__(self, profile: Profile, *, endpoint_url: str | None = None, region: str | None = None,
                 read_only: bool = False, scenario: str | None = None, speed: float = 1.0, sandbox: str = "attach",
                 make_context: "Callable[[Target], AwsContext] | None" = None):
        if sandbox not in SANDBOX_MODES:
            raise ValueError(f"sandbox: {sandbox!r} is not one of {', '.join(SANDBOX_MODES)}")
        if region:
            profile = replace(profile, regions=(region,) + tuple(r for r in profile.regions if r != region))
        if read_only:
            profile = replace(profile, read_only=True, read_only_by=READ_ONLY_FLAG)
        self.profile = profile
        self.forced_read_only = read_only  # --read-only: carried over to every profile switched to
        self._endpoint_url = endpoint_url or profile.endpoint_url
        # None: the scenario the profile's sandbox section names (the fleet sandbox's monitoring account has none to
        # run: its accounts have their own), else ``steady``
        section = profile.sandbox if isinstance(profile.sandbox, dict) else {}
        named = section.get("scenario") if isinstance(section.get("scenario"), str) else None
        self._scenario: str = scenario if scenario is not None else named or "steady"
        self._speed = speed
        self.sandbox_mode = sandbox
        self.sandbox_thread: SandboxThread[Sandbox] | None = None  # the throwaway in-process sandbox, when one runs
        self.background: State | None = None  # the background sandbox attached to
        self.notice: str | None = None  # why a background sandbox could not be started
        self.ctx: AwsContext | None = None  # set by start()
        self.collector: Collector | RegionsCollector | None = None  # set by start()
        #: how the AWS context is made from the target (a fleet drill-in: clients acting as a source account)
        self._make_context = make_context

    @classmethod
    def from_args(cls, args: Any, **kwargs: Any) -> "LiveSource":
        """The source for a parsed command line: its --profile, --endpoint-url, --region and --read-only
        (the shared options, which mean the same wherever they were typed). Raises ConfigError."""
        from .config.profiles import load_profile  # noqa: PLC0415

        return cls(load_profile(args.profile), endpoint_url=args.endpoint_url, region=args.region,
                   read_only=args.read_only, **kwargs)

    @property
    def scenario(self) -> str:
        return self._scenario

    @property
    def speed(self) -> float:
        return self._speed

    def for_profile(self, profile: Profile) -> "LiveSource":
        """A new (unstarted) source for another profile, keeping this one's --read-only, scenario, speed and
        sandbox mode."""
        return LiveSource(profile, read_only=self.forced_read_only, scenario=self._scenario, speed=self._speed,
                          sandbox=self.sandbox_mode)

    @property
    def refresh_seconds(self) -> float:
        return self.profile.refresh_seconds

    def start(self) -> None:
        """Start the embedded sandbox if needed and build the clients (heavy imports happen here)."""
        import os  # noqa: PLC0415
        import time  # noqa: PLC0415

        from .aws.collectors import Collector  # noqa: PLC0415
        from .aws.session import AwsContext, Target  # noqa: PLC0415

        sandbox = False
        clock = time.time
        credentials = None
        # --endpoint-url, then the profile's endpoint_url, then AWS_ENDPOINT_URL as the SDKs honour it
        # (named here so the header shows it; a sandbox profile then watches that endpoint).
        endpoint = self._endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        if self.profile.is_sandbox:
            from ..sandbox import attach, daemon  # noqa: PLC0415

            sandbox = True  # dummy (or the sandbox's --auth) credentials, sandbox badge
            if endpoint is None:
                self.background = None if self.sandbox_mode == "embedded" else attach.for_profile(self.profile)
                if self.background is None and self.sandbox_mode == "keep":
                    try:
                        self.background = attach.start_for(self.profile, scenario=self._scenario)
                    except daemon.StartError as e:
                        self.notice = f"could not start a background sandbox ({e}); running one in-process"
                        log.warning("%s", self.notice)
            else:
                self.background = attach.for_endpoint(endpoint)  # a URL of the background sandbox: its keys
            if self.background is not None:
                endpoint, clock = self.background.endpoint, self.background.clock()
                credentials = self.background.credentials()
            elif endpoint is None:
                from ..sandbox.app import Sandbox, SandboxThread  # noqa: PLC0415
                from ..sandbox.config import parse_sandbox_config  # noqa: PLC0415

                config = parse_sandbox_config(self.profile.raw, self.profile.source)
                thread = self.sandbox_thread = SandboxThread(Sandbox(config, scenario=self._scenario,
                                                                     speed=self._speed))
                endpoint = thread.start()
                clock = thread.sandbox.clock.now  # metrics are stamped on the sandbox's timeline
        ctx = self.ctx = (self._make_context or AwsContext)(Target(self.profile, endpoint, sandbox=sandbox,
                                                                   credentials=credentials))
        if len(self.profile.regions) > 1:
            from .aws.regions import RegionsCollector  # noqa: PLC0415

            self.collector = RegionsCollector(ctx, clock=clock)  # one GetMetricData per region per refresh
        else:
            self.collector = Collector(ctx, clock=clock)

    async def refresh(self) -> DashboardData:
        if self.collector is None:
            raise RuntimeError("the live source has not started")
        return await self.collector.refresh()

    async def close(self) -> None:
        if self.ctx is not None:
            await self.ctx.close()
        if self.sandbox_thread is not None:
            thread, self.sandbox_thread = self.sandbox_thread, None
            await asyncio.to_thread(thread.stop)  # joins the sandbox's thread: not on the caller's loop
