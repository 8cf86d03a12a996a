"""The operator session: one profile's live source, its guard (read-only refusals, the audit log),
the account it acts in, its prices and prompt history: what every use case of :mod:`.ops` needs.

One concept for both front ends. The TUI makes a new :class:`OperatorSession` for every profile it
watches (the first one and each switch); action screens and workers hold the session they were started
with and check :attr:`OperatorSession.alive` before showing anything, so a call started under one
profile is never shown under, or attributed to, another: switching closes the old session first.
A headless command opens one with :func:`command_session`, started for the command and closed after it.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable

from .domain.events import ChangeEvent, Detector
from .domain.views import DashboardData, ThrottleEvent

if TYPE_CHECKING:  # pragma: no cover
    from .aws.session import AwsContext
    from .ops.guard import Guard
    from .domain.pricing import PriceTable
    from .domain.profile import Profile
    from .source import LiveSource

#: Errors of the console's own calls that go to the throttle pane: the service saying "not now".
#: (Validation and access errors are the caller's problem and stay in the screen that made the call.)
CAPACITY_ERRORS = frozenset({"ThrottlingException", "ServiceUnavailableException", "ModelNotReadyException",
                             "ModelTimeoutException", "InternalServerException", "TooManyRequestsException"})
#: How long a profile switch waits for a batch submit or cancel already sent (never cut in half).
MUTATION_DRAIN_S = 15.0
MAX_EVENTS = 1000  # change events the console keeps for its events screen (the oldest dropped)


class SessionClosed(RuntimeError):
    """The session's profile was switched away from (or the console is closing)."""


class SourceFailed(RuntimeError):
    """The live source could not start (for example the embedded sandbox failed)."""


@dataclass(frozen=True)
class ModelChoice:
    model_id: str
    label: str


class OperatorSession:
    def __init__(self, source: "LiveSource", generation: int = 0):
        from .ops.guard import Guard  # noqa: PLC0415
        from .config.paths import user_data_dir, user_state_dir  # noqa: PLC0415

        self.source = source
        self.generation = generation
        self.closed = False
        self.start_error: str | None = None
        self.account_id: str | None = None
        self.latest: DashboardData | None = None  # the newest data polled under this session
        self.guard: "Guard" = Guard(source.profile, user_state_dir() / "audit.jsonl")
        self.history_path = user_data_dir() / "history.jsonl"
        self._ready = asyncio.Event()
        self._start: asyncio.Future[None] | None = None
        self._mutations: set[asyncio.Future[Any]] = set()
        self._prices: "PriceTable | None" = None
        # Remembered between openings of the batch form (per profile, so never carried across a switch).
        self.last_batch: dict[str, str] = {}
        # Change events of this profile as `tierconsole watch` sees them (its `watch:` settings), newest last.
        self.detector = Detector(replace(source.profile.watch.settings, threshold=source.profile.alert_threshold))
        self.events: deque[ChangeEvent] = deque(maxlen=MAX_EVENTS)
        #: the fleet's pulse line while this session is a drill-in of a fleet ("" otherwise): every screen of the
        #: session shows it
        self.pulse: Callable[[], str] = lambda: ""

    # ------------------------------------------------------------------ identity
    @property
    def profile(self) -> "Profile":
        return self.source.profile

    @property
    def alive(self) -> bool:
        return not self.closed

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<OperatorSession {self.profile.name!r} gen={self.generation} {'closed' if self.closed else 'open'}>"

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start the source off the UI thread (shielded: a cancelled poll never leaves it half-started)."""
        if self._start is None:
            self._start = asyncio.ensure_future(asyncio.to_thread(self.source.start))
        try:
            await asyncio.shield(self._start)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.start_error = f"{type(exc).__name__}: {exc}"
            self._ready.set()
            raise SourceFailed(self.start_error) from exc
        self._ready.set()

    async def context(self) -> "AwsContext":
        """The AWS context, once the source has started. Raises if the session closed or the source failed."""
        if self.closed:
            raise SessionClosed(f"profile {self.profile.name!r} is no longer the active profile")
        await self._ready.wait()
        if self.start_error is not None:
            raise SourceFailed(f"the live source of profile {self.profile.name!r} failed to start: {self.start_error}")
        if self.closed or self.source.ctx is None:
            raise SessionClosed(f"profile {self.profile.name!r} is no longer the active profile")
        return self.source.ctx

    async def close(self) -> None:
        """Stop showing anything from this session, let mutations already sent finish, close the source."""
        self.closed = True
        if self._mutations:
            await asyncio.wait(set(self._mutations), timeout=MUTATION_DRAIN_S)
        if self._start is not None:
            await asyncio.wait({self._start})  # a source still starting is closed once it has started
        await self.source.close()

    def mutation(self, coro: Awaitable[Any]) -> Awaitable[Any]:
        """Run a mutating call so that cancelling the caller does not cut it in half.

        The call finishes (and writes its audit entry) even if the screen that started it goes away or
        the profile is switched; a switch waits for it before closing the source. The caller awaits
        the shielded result and checks :attr:`alive` before showing it.
        """
        task = asyncio.ensure_future(coro)
        self._mutations.add(task)
        task.add_done_callback(self._mutations.discard)
        return asyncio.shield(task)

    # ------------------------------------------------------------------ shared facts
    def observe(self, data: DashboardData) -> None:
        self.latest = data
        self.events.extend(self.detector.observe(data))
        if data.account_id:
            self.account_id = data.account_id
            self.guard.account_id = data.account_id

    async def ensure_account(self) -> str | None:
        """The account id (from the collector's identity call, else one STS call). None if unknown."""
        if self.account_id is None:
            try:
                sts = await (await self.context()).client("sts")
                self.account_id = (await sts.get_caller_identity())["Account"]
                self.guard.account_id = self.account_id
            except (SessionClosed, SourceFailed, asyncio.CancelledError):
                raise
            except Exception as e:  # noqa: BLE001 - audit entries still go in, saying why the account is unknown
                from .aws.session import describe_error  # noqa: PLC0415

                self.guard.account_unknown = f"GetCallerIdentity failed: {describe_error(e)}"
                return None
        return self.account_id

    async def lookup_account(self) -> str | None:
        """:meth:`ensure_account` for an audit line that must be written whatever happens (a refusal): never raises
        but for cancellation; why the account is unknown goes in the guard (``account_unknown`` of the line)."""
        try:
            await self.context()
            return await self.ensure_account()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - the refusal goes on; its audit line says why
            from .aws.session import describe_error  # noqa: PLC0415

            self.guard.account_unknown = f"the session could not start: {str(e) or describe_error(e)}"
            return None

    @property
    def clock(self) -> Callable[[], float]:
        """Now on the source's timeline: a sandbox's own clock (it may run faster), else the wall clock."""
        collector = self.source.collector
        return collector.clock if collector is not None else time.time

    @property
    def prices(self) -> "PriceTable":
        if self._prices is None:
            from .domain.pricing import PriceTable  # noqa: PLC0415

            self._prices = PriceTable.from_profile(self.profile.prices, self.profile.tier_price_multipliers)
        return self._prices

    @property
    def sandbox_bucket(self) -> str | None:
        return (self.profile.sandbox or {}).get("bucket") if self.profile.is_sandbox else None

    def models(self) -> list[ModelChoice]:
        return model_choices(self.profile, self.latest)

    def note_console_error(self, model_id: str, tier: str, error: str | None, message: str | None) -> bool:
        """Put a throttle (or other capacity error) of the console's own call in the throttle pane."""
        if not self.alive or not error or error not in CAPACITY_ERRORS:
            return False
        collector = self.source.collector
        if collector is None:
            return False
        collector.note_console_throttle(ThrottleEvent(time=collector.clock(), model_id=model_id, tier=tier,
                                                      error=error, message=message or "", source="console"))
        return True


def model_choices(profile: "Profile | None", data: DashboardData | None) -> list[ModelChoice]:
    """Models to offer: the profile's watched models, else the dashboard's quota models, else the
    sandbox catalog; reservation models are always offered. Labelled with their names where known."""
    names: dict[str, str] = {}
    ids: list[str] = []
    if data is not None:
        for q in data.quotas:
            names[q.model_id] = q.name
    sandbox_models = list(((profile.sandbox or {}).get("models") or [])) if profile is not None else []
    for m in sandbox_models:
        if isinstance(m, dict) and m.get("id"):
            names.setdefault(m["id"], m.get("name") or m["id"])
    if profile is not None and profile.models:
        ids = list(profile.models)
    elif data is not None and data.quotas:
        ids = [q.model_id for q in data.quotas]
    else:
        ids = [m["id"] for m in sandbox_models if isinstance(m, dict) and m.get("id")]
    if profile is not None:
        ids += [r.model_id for r in profile.reservations]
    seen: set[str] = set()
    out = []
    for model_id in ids:
        if model_id in seen:
            continue
        seen.add(model_id)
        name = names.get(model_id)
        label = f"{name}  ({model_id})" if name and name != model_id else model_id
        out.append(ModelChoice(model_id, label))
    return out


def stamp() -> float:
    return round(time.time(), 3)


@asynccontextmanager
async def command_session(args: Any, *, on_throwaway: Callable[[str], None] | None = None
                          ) -> AsyncIterator[OperatorSession]:
    """The started session of a command's profile (its --profile, --endpoint-url, --region, --read-only),
    closed when the command is done. A sandbox profile attaches to its background sandbox
    (``tierconsole sandbox start``); with none running it gets a quiet throwaway one in-process, and
    ``on_throwaway`` is told so (its jobs, objects and metrics are gone when the command exits)."""
    from .source import LiveSource  # noqa: PLC0415

    session = OperatorSession(LiveSource.from_args(args, scenario="none"))
    try:
        await session.start()
    except SourceFailed as exc:  # a command reports the cause itself (a bad sandbox config is a usage error)
        await session.close()
        raise (exc.__cause__ or exc) from None
    if session.source.sandbox_thread is not None and on_throwaway is not None:
        from ..sandbox.attach import throwaway_note  # noqa: PLC0415

        on_throwaway(throwaway_note(session.profile))
    try:
        yield session
    finally:
        await session.close()
