"""The embedded Bedrock: one loopback HTTP endpoint serving every service the console uses.

The endpoint speaks HTTP/1.1 and HTTP/2 over cleartext on one port (:mod:`.server`, hypercorn); every
request comes to :meth:`Sandbox.asgi` and then :meth:`Sandbox.dispatch`, and every response leaves
with the headers of :meth:`Sandbox.common_headers`.

Requests are routed the way LocalStack's edge port does it: by the service name in the SigV4
credential scope (``.../us-east-1/bedrock/aws4_request``), then by path. So
``AWS_ENDPOINT_URL=http://127.0.0.1:4599`` alone aims any AWS SDK or the AWS CLI at it.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from pathlib import Path
from typing import Awaitable, Callable

from ..core.domain.catalog import ConfigError
from . import identity
from .accesslog import AccessLogFile
from .clock import SandboxClock
from .config import SandboxConfig, load_sandbox_config, log_path_problem
from .engine import EngineError, TierEngine
from .http import AwsError, Call, Request, Response, clean_text, error_response, inflate, parse_scope
from .outcomes import OutcomeLog
from .services.profiles import ProfileStore
from .services.runtime import Runtime, runtime_target

log = logging.getLogger("tierconsole.sandbox")

Handler = Callable[[Call], Awaitable[Response]]

MAX_BODY = 64 * 1024 * 1024  # a request body beyond this is refused (read and dropped, never kept)
STOP_GRACE_S = 1.0  # on stop, how long an answer under way may take to finish before its connection closes
LOGGED_CHARS = 256  # the longest string an access-log field keeps
_TARGET_PREFIXES = {"ServiceQuotasV20190624": "servicequotas", "GraniteServiceVersion20100801": "monitoring",
                    "AWSSecurityTokenServiceV20110615": "sts"}


class Sandbox:
    """A sandbox region: tier engine, runtime, control plane and the AWS services beside it."""

    def __init__(self, config: SandboxConfig | None = None, *, speed: float = 1.0, scenario: str | None = None,
                 clock: SandboxClock | None = None, access_log: str | Path | None = None,
                 faults: str | None = None, auth_keys: dict[str, str] | None = None, instance: str | None = None,
                 parent: "Sandbox | None" = None):
        self.config = config or load_sandbox_config()
        self.parent = parent  # a cell (see .cells) has the sandbox hosting it
        self.instance = instance or identity.new_instance()  # who answers: see .identity
        self.clock = clock or SandboxClock(speed)
        self.outcomes = OutcomeLog()
        self.engine = TierEngine(self.config.catalog)
        self.runtime = Runtime(self.engine, self.clock, self.outcomes, seed=self.config.catalog.settings.seed,
                               profiles=ProfileStore(self.config.catalog, self.config.account_id,
                                                     self.config.max_application_profiles))
        self.scenario_name = scenario if scenario is not None else "none"
        self.scenario_run = None
        # Load (and so validate) the scenario now: a bad one fails before any port is bound.
        from .scenarios import load_scenario  # noqa: PLC0415

        self._scenario = None if self.scenario_name in ("", "none") else load_scenario(self.scenario_name,
                                                                                         self.config.catalog)
        from .faults import Faults, parse_faults  # noqa: PLC0415

        self.faults = Faults(parse_faults(faults))
        self.verifier = None
        if auth_keys:
            from .auth import Verifier  # noqa: PLC0415

            self.verifier = Verifier(auth_keys)
        if access_log:  # the flag (the config's own is checked when it is parsed, naming file and line)
            problem = log_path_problem(access_log)
            if problem:
                raise ConfigError("--access-log", problem)
        access_log = access_log or self.config.access_log
        self._access_log_path = Path(access_log).expanduser() if access_log else None
        self._access_log: AccessLogFile | None = None
        self._server = None  # .server.Server once started
        self._inflight: set[asyncio.Task] = set()  # the requests being handled
        self._background: list[asyncio.Task] = []
        self._stopping = False
        self._closers: list[Callable[[], Awaitable[None] | None]] = []
        self.host = "127.0.0.1"
        self.port = 0
        # The services beside the runtime, each given this sandbox as its host (.host.SandboxHost) and kept
        # here; in this order, so that they close in the reverse one (metrics flushed before moto closes).
        from .services import batch, control, metrics, moto_bridge, servicequotas  # noqa: PLC0415 - heavier (moto)

        from .services import oam, xaccount  # noqa: PLC0415

        self.moto: moto_bridge.MotoBridge = moto_bridge.install(self, parent.moto if parent else None)  # S3, STS, CloudWatch
        self.services: dict[str, Handler] = {name: self.moto.handle for name in moto_bridge.MOTO_SERVICES}
        self.batch = batch.BatchJobs(self)  # batch inference jobs
        self.bedrock_control: Handler = control.BedrockControl(self, self.batch).handle  # the bedrock control plane
        self.metrics: metrics.MetricsPublisher = metrics.install(self)  # AWS/Bedrock and the sandbox's own namespace
        self.services["servicequotas"] = servicequotas.ServiceQuotas(self).handle
        # CloudWatch cross-account observability: one OAM state for every account and region of the endpoint.
        self.oam: oam.Oam = parent.oam if parent else oam.Oam(self)
        self.services["oam"] = self.oam.handle
        self.cells = None  # the (account, region) cells this sandbox hosts (see .cells); a cell hosts none
        if parent is None:
            from .cells import Cells  # noqa: PLC0415

            self.cells = Cells(self, lambda config, scenario: Sandbox(
                config, scenario=scenario, clock=self.clock, instance=self.instance, parent=self))
            self.on_close(self.cells.stop)
        if parent is None and self.config.fleet is not None:
            if self.verifier is not None:
                self.verifier.issued = self.cells.issued_secret
            if self.config.fleet.oam_auto:
                self.oam.auto()
        xaccount.wire(self.oam, self)  # its CloudWatch answers for the accounts linked to it

    def start_cell(self) -> None:
        """A fleet cell starts with its host: its scenario's traffic (its endpoint is its host's)."""
        self.host, self.port = self.parent.host, self.parent.port
        if self._scenario is not None and self.scenario_run is None:
            from .scenarios.runner import ScenarioRun  # noqa: PLC0415

            self.scenario_run = ScenarioRun(self, self._scenario).start()

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def background(self, coro) -> asyncio.Task:
        """Run a coroutine for the sandbox's lifetime (scenarios, metric publishing, batch jobs)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.append(task)
        task.add_done_callback(self._forget)  # a finished task is not kept (one per batch job, for ever)
        if self._stopping:
            task.cancel()
        return task

    def _forget(self, task: asyncio.Task) -> None:
        try:
            self._background.remove(task)
        except ValueError:  # already taken by _cancel_background
            pass

    def on_close(self, fn: Callable[[], Awaitable[None] | None]) -> None:
        self._closers.append(fn)

    # ------------------------------------------------------------------ HTTP
    def common_headers(self, call: Call | None, response: Response) -> None:
        """The headers every answer of the sandbox carries, whatever served it: the one place to add one.
        One request id per answer (a service's own, e.g. moto's, is kept; none is added beside it)."""
        response.headers[identity.HEADER] = self.instance  # which sandbox answers (see .identity)
        if call is not None and "x-amzn-RequestId" not in response.headers:
            response.headers["x-amzn-RequestId"] = call.request_id

    def _identity(self) -> Response:
        """Which sandbox this is (for the console's check that an endpoint is the sandbox it recorded):
        unauthenticated, never faulted, never in the access log."""
        return Response(text=json.dumps({"instance": self.instance, "pid": os.getpid()}),
                        content_type="application/json")

    async def asgi(self, scope: dict, receive, send) -> None:
        """The ASGI application hypercorn runs: reads the body (bounded), dispatches, and cancels the handler
        when the client goes away before its answer (a queued request leaves the queue)."""
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        holder: dict = {}
        request = Request(scope, send, abort=lambda: self._server.abort(scope.get("client")),
                          decorate=lambda response: self.common_headers(holder.get("call"), response))
        body, too_big = await self._read_body(request, receive)
        if request.method == "GET" and request.path == identity.PATH:
            await self._identity().send(request)
            return
        handler = asyncio.current_task()
        gone = asyncio.get_running_loop().create_future()

        async def watch() -> None:  # the client hangs up before the answer is complete
            while (await receive())["type"] != "http.disconnect":
                pass
            if not gone.done() and not request.finished:
                gone.set_result(None)
                handler.cancel()

        watcher = asyncio.get_running_loop().create_task(watch())
        self._inflight.add(handler)
        try:
            response = await self.dispatch(request, body, too_big, holder)
            if response is not None and not response.prepared:
                await response.send(request)
        except asyncio.CancelledError:
            if not gone.done():  # the sandbox stops: the connection is dropped, as any server's going away
                request.abort()
        except OSError:  # the connection broke while the answer was sent
            pass
        finally:
            self._inflight.discard(handler)
            watcher.cancel()

    @staticmethod
    async def _read_body(request: Request, receive) -> tuple[bytes, bool]:
        """The request body, or (b"", True) past :data:`MAX_BODY` (the rest is read and dropped)."""
        declared = request.headers.get("Content-Length", "")
        too_big = declared.isdigit() and int(declared) > MAX_BODY
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            data = message.get("body", b"")
            size += len(data)
            if size > MAX_BODY:
                too_big, chunks = True, []
            elif not too_big and data:
                chunks.append(data)
            if not message.get("more_body", False):
                break
        return (b"", True) if too_big else (b"".join(chunks), False)

    async def dispatch(self, request: Request, body: bytes, too_big: bool, holder: dict) -> Response | None:
        t0 = time.perf_counter()
        akid, region, service = parse_scope(request.headers.get("Authorization"))
        service = service or self._guess_service(request)
        call = Call(request=request, body=body, service=service, region=region or self.config.region, access_key=akid,
                    account=self.cells.account_of(akid) if self.cells is not None else self.config.account_id)
        holder["call"] = call
        cbor = request.headers.get("smithy-protocol") == "rpc-v2-cbor"
        query = request.content_type == "application/x-www-form-urlencoded"
        fault = self.faults.pick(service, request.path, call.account, call.region) if self.faults.rules else None
        try:
            if too_big:
                raise AwsError("EntityTooLarge" if service == "s3" else call.validation_error,
                               f"Request body exceeds the sandbox's limit of {MAX_BODY // (1024 * 1024)} MiB", 400)
            if self.verifier is not None:
                self.verifier.verify(request.method, request.raw_path, request.headers, call.body)
            if service != "s3" and "gzip" in request.headers.get("Content-Encoding", "").lower():
                call.body = inflate(call.body, call.validation_error, MAX_BODY)  # S3 keeps it as the object's
            if fault is not None:
                if fault.kind == "reset":  # dropped before it is handled
                    request.abort()
                    self._log(call, 499, t0, "InjectedConnectionReset")
                    return None
                await self._inject(fault, call)
            handler = (self.cells.route(call) if self.cells is not None else self)._route(call)
            response = await handler(call)
            if fault is not None and fault.kind == "lost":
                self._log(call, 499, t0, "InjectedConnectionLost")
                request.abort()
                return None
        except AwsError as e:
            response = error_response(e.code, e.message, e.status, service=service, request_id=call.request_id,
                                      cbor=cbor, query=query, extra=e.extra)
            call.served_tier = None
            self._log(call, response.status, t0, e.code)
            return response
        except EngineError as e:
            response = error_response(e.code, e.message, e.status, service=service, request_id=call.request_id,
                                      cbor=cbor, query=query)
            self._log(call, response.status, t0, e.code)
            return response
        except (asyncio.CancelledError, ConnectionResetError):
            status, error = call.ended or (499, "ClientClosedRequest")
            self._log(call, status, t0, error)
            raise
        except Exception:  # never a traceback to the client: log it, answer AWS-shaped
            log.exception("sandbox handler failed: %s %s", request.method, request.path)
            response = error_response("InternalServerException", "The sandbox hit an internal error; see its log.",
                                      500, service=service, request_id=call.request_id, cbor=cbor, query=query)
            self._log(call, 500, t0, "InternalServerException")
            return response
        if call.ended is not None:  # a stream cut after its 200: logged as the outcome (and metrics) have it
            self._log(call, call.ended[0], t0, call.ended[1])
            return response
        injected = {"badframe": "InjectedBadFrame", "cut": "InjectedStreamCut"}.get(call.stream_fault or "")
        self._log(call, response.status, t0, injected if response.prepared else None)
        return response

    async def _inject(self, fault, call: Call) -> None:
        from .faults import error_for  # noqa: PLC0415

        if fault.kind == "slow":
            await asyncio.sleep(fault.delay_s)
        elif fault.kind in ("badframe", "cut"):
            call.stream_fault = fault.kind  # the streaming handler acts on it
        elif fault.kind != "lost":
            code, message, status = error_for(fault.kind, call.service, self._operation_hint(call))
            raise AwsError(code, message, status)

    @staticmethod
    def _operation_hint(call: Call) -> str | None:
        """The operation a request is for, told from its path, target or Action before it is handled."""
        from urllib.parse import parse_qsl  # noqa: PLC0415

        from .botomodel import operation_for  # noqa: PLC0415

        form: dict[str, str] = dict(call.request.query)
        if call.request.content_type == "application/x-www-form-urlencoded":
            form.update(parse_qsl(call.body.decode("utf-8", "replace")[:65536]))
        return operation_for(call.service, call.request.method, call.request.raw_path, call.request.headers, form)

    def _guess_service(self, request: Request) -> str:
        target = request.headers.get("X-Amz-Target", "")
        prefix = target.split(".")[0]
        if prefix in _TARGET_PREFIXES:
            return _TARGET_PREFIXES[prefix]
        if request.path.startswith("/service/GraniteServiceVersion20100801"):
            return "monitoring"
        if request.path.startswith(("/model/", "/model-invocation-job", "/foundation-model", "/inference-profile",
                                    "/tagResource", "/untagResource", "/listTagsForResource")):
            return "bedrock"
        bucket = request.path.lstrip("/").split("/", 1)[0]
        if bucket and self.moto.has_bucket(bucket):  # an unsigned (anonymous) S3 request, as S3 takes them
            return "s3"
        return "unknown"

    def _route(self, call: Call) -> Handler:
        if call.service == "bedrock":
            # On the raw path: an ARN's "/" arrives as %2F (decoded, it would split the label).
            if runtime_target(call.request.raw_path)[0] is not None:
                return self.runtime.handle
            return self.bedrock_control
        handler = self.services.get(call.service)
        if handler is None:
            served = ", ".join(sorted({"bedrock", "bedrock-runtime", *self.services}))
            raise AwsError("UnknownServiceException",
                           f"The sandbox does not serve service {call.service!r} "
                           f"({call.request.method} {call.request.path}); it serves: {served}", 400)
        return handler

    def _log(self, call: Call, status: int, t0: float, error: str | None) -> None:
        if self._access_log is None:
            return
        entry = {"time": round(time.time(), 3), "service": call.service, "operation": call.operation or None,
                 "method": call.request.method, "path": call.request.path, "model": call.model_id,
                 "identifier": call.identifier,  # the model identifier as called (profile id or ARN, ...)
                 "route": call.route.kind.value if call.route is not None else None,  # on_demand, cross_region, global
                 "tier_asked": call.asked_tier, "tier_served": call.served_tier, "status": status,
                 "error": error, "quota": call.quota, "latency_ms": round((time.perf_counter() - t0) * 1000, 2),
                 "request_id": call.request_id, **({"account": call.account} if self.config.fleet is not None else {})}
        for key, value in entry.items():  # what a client sent is logged clipped: a line never grows with it
            if isinstance(value, str):
                entry[key] = clean_text(value, LOGGED_CHARS)
        self._access_log.write(json.dumps(entry))

    # ------------------------------------------------------------------ lifecycle
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._access_log_path:
            try:
                # 0600 when created (it names the account's models, buckets and job ARNs), rotated by size.
                self._access_log = AccessLogFile(self._access_log_path, self.config.access_log_max_bytes,
                                                 self.config.access_log_backups)
            except OSError as exc:  # removed or made read-only since it was checked
                raise ConfigError("access log", f"{self._access_log_path}: {exc.strerror or exc}") from None
        from .server import Server  # noqa: PLC0415 - hypercorn, loaded when a sandbox starts

        self._server = Server(self.asgi, backlog=1024)
        self.host, self.port = await self._server.start(host, port)
        if self.cells is not None:
            self.cells.start()
        if self._scenario is not None:
            from .scenarios.runner import ScenarioRun  # noqa: PLC0415

            self.scenario_run = ScenarioRun(self, self._scenario).start()
        return self.endpoint

    async def _cancel_background(self) -> None:
        # Until none is left: a task ending (or a request cancelled by the cleanup) may start another one.
        while self._background:
            tasks, self._background = self._background, []
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def stop(self) -> None:
        self._stopping = True  # background work started from now on is cancelled at once
        await self._cancel_background()
        for fn in reversed(self._closers):
            result = fn()
            if asyncio.iscoroutine(result):
                await result
        for task in list(self._inflight):  # e.g. a Flex request queued for an hour: it records its outcome
            task.cancel()
        if self._server is not None:
            # Requests in flight (a Flex request queued for an hour) are cancelled and record their outcomes;
            # an answer already under way gets STOP_GRACE_S to finish, then its connection closes.
            await self._server.stop(STOP_GRACE_S)
            self._server = None
        await self._cancel_background()  # e.g. the metrics flusher, woken by those outcomes
        if self._access_log is not None:
            self._access_log.close()
            self._access_log = None


from .thread import SandboxThread  # noqa: E402, F401  (its home before the split; thread.py names Sandbox only for types)
