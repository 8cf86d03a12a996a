"""S3, STS, CloudWatch and SNS on the sandbox endpoint, served by moto.

moto already speaks these protocols (rest-xml S3, query STS, CloudWatch in smithy-rpc-v2-cbor
as current botocore sends it), so the sandbox does not re-implement them: it checks the request
the way the AWS service would (:mod:`.moto_checks`), hands it to moto's WSGI dispatcher on a
worker thread and returns moto's answer as it is — or, if moto raises or answers 5xx, a 4xx
naming the failure, never a 500.
The sandbox's own code (metrics publisher, batch jobs) reaches the same moto backends
in-process through :func:`s3_backend` and :func:`cloudwatch_backend`.

Two stores of moto's would otherwise grow without bound (nothing a client sends, or the sandbox
generates, is kept without bound):

- every instance of a moto model (each CloudWatch datapoint, S3 key, ...) is appended to a class-level
  ``instances_tracked`` list for moto's own dashboard (``/moto-api``, which the sandbox does not serve)
  and is never dropped, so pruned datapoints stayed alive: :func:`untrack_moto_models` makes those
  lists keep nothing (called on every request and by the metrics publisher, as moto imports a service's
  models lazily);
- CloudWatch ``ListMetrics`` keeps the rest of every answer longer than 500 metrics under a new
  ``NextToken`` until it is followed: at most :data:`MAX_LIST_METRICS_PAGES` are kept, the oldest
  dropped first (following a dropped token is ``InvalidParameterValue``, as for any unknown token).
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING
from urllib.parse import quote


from multidict import CIMultiDict

from . import moto_checks, s3_limits
from ..config import S3Limits
from ..http import AwsError, Call, Response

if TYPE_CHECKING:  # pragma: no cover
    from ..host import SandboxHost

log = logging.getLogger("tierconsole.sandbox.moto")

MOTO_SERVICES = ("s3", "sts", "monitoring", "sns")
MAX_SNS_KEPT = 1000  # messages published to a topic that moto keeps (its sent_notifications), newest
ACCOUNT_HEADER = "x-moto-account-id"
MAX_LIST_METRICS_PAGES = 100  # unfollowed ListMetrics NextTokens kept per backend
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


def _with_raw_s3_bodies(create_backend_app):
    """moto's app factory, with S3's web layer reading a PUT body as the object's bytes whatever its
    Content-Type: werkzeug read ``application/x-www-form-urlencoded`` (curl --data-binary's and urllib's
    default) as a form, and moto stored the object empty under a 200. A POST (a browser form upload) is
    still read as a form."""
    def create(service: str):
        app = create_backend_app(service)
        if service == "s3":
            class RawBodyRequest(app.request_class):  # type: ignore[name-defined,misc]
                @property
                def want_form_data_parsed(self) -> bool:
                    return self.method == "POST" and super().want_form_data_parsed

            app.request_class = RawBodyRequest
        return app

    return create


class MotoBridge:
    def __init__(self, account_id: str, s3: S3Limits | None = None):
        # moto takes the account of a request from its x-moto-account-id header (set on every request
        # in handle()), so two sandboxes in one process (a profile switch) keep their own accounts.
        # A MOTO_ACCOUNT_ID environment variable, if the user set one, still wins (moto's precedence).
        self.account_id = account_id
        self.s3_limits = s3 or S3Limits()  # what a client may store in S3 (.s3_limits)
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: PLC0415

        self._app = DomainDispatcherApplication(_with_raw_s3_bodies(create_backend_app))
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sandbox-moto")

    def _wsgi(self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes):
        from werkzeug.test import EnvironBuilder  # noqa: PLC0415

        builder = EnvironBuilder(path=path, method=method, query_string=query, headers=headers, data=body)
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        if not body and any(k.lower() == "content-length" for k, _ in headers):
            # werkzeug drops the Content-Length of an empty body; moto then answers a PUT with a query (a canned
            # ACL's PutBucketAcl) a plain-text 411, though the client sent "Content-Length: 0"
            environ["CONTENT_LENGTH"] = "0"
        captured: dict = {}

        def start_response(status, response_headers, exc_info=None):
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = response_headers

        chunks = self._app(environ, start_response)
        try:
            payload = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()
        return captured["status"], captured["headers"], payload

    async def handle(self, call: Call) -> Response:
        req = call.request
        call.operation = req.headers.get("X-Amz-Target", "").split(".")[-1] or req.path.rsplit("/", 1)[-1] or req.method
        call.operation = moto_checks.check(call)  # raises the AWS error for input moto would choke on
        loop = asyncio.get_running_loop()
        headers = [(k, v) for k, v in req.headers.items() if k.lower() != ACCOUNT_HEADER
                   and not (call.service == "s3" and k.lower() == "host")  # S3: path-style (moto_checks.path_style)
                   and not (call.service != "s3" and k.lower() == "content-encoding")  # the sandbox inflated it
                   and k.lower() != "transfer-encoding"]  # the server de-chunked the body: werkzeug read it as empty
        headers.append((ACCOUNT_HEADER, call.account or self.account_id))  # the call's (a fleet serves several)
        def wsgi():  # werkzeug decodes the path it is given: give it encoded (a key "a%41" stays "a%41")
            return self._wsgi(req.method, quote(req.path, safe="/"), req.query_string, headers, call.body)

        try:
            status, headers, payload = await loop.run_in_executor(self._pool, (lambda: s3_limits.guarded(
                call, s3_backend(call.account or self.account_id), self.s3_limits, wsgi)) if call.service == "s3" else wsgi)
        except AwsError:  # a write the sandbox's S3 limits refuse (.s3_limits)
            raise
        except Exception as exc:  # noqa: BLE001 - moto raised: the request was one it cannot process
            log.warning("moto failed on %s %s: %s: %s", req.method, req.path[:200], type(exc).__name__, exc)
            raise moto_checks.moto_failure(call, call.operation, exc) from None
        if status >= 500:
            log.warning("moto answered %s to %s %s: %s", status, req.method, req.path[:200], payload[:200])
            raise moto_checks.moto_failure(call, call.operation, None, status)
        # moto's own headers, its request id among them (the sandbox adds none beside it); a HEAD keeps the
        # Content-Length moto gives (the object's size: boto3's download_file and `aws s3 cp` read it).
        keep_length = req.method == "HEAD"
        out = CIMultiDict((k, v) for k, v in headers
                          if k.lower() not in _HOP_BY_HOP or keep_length and k.lower() == "content-length")
        bad = next((k for k, v in out.items() if moto_checks.CONTROL_CHARS.search(v)), None)
        if bad is not None:  # an answer no HTTP server may send (the client would see a dropped connection)
            log.warning("moto answered %s to %s %s with a control character in header %s",
                        status, req.method, req.path[:200], bad)
            raise AwsError("InvalidArgument", f"The request would make header {bad} carry a character HTTP "
                                       "headers cannot (a control character, or one beyond Latin-1).", 400)
        untrack_moto_models()
        if call.service == "monitoring":
            bound_list_metrics_pages(cloudwatch_backend(call.account or self.account_id, call.region))
        elif call.service == "sns":
            bound_sns_messages(call.account or self.account_id, call.region)
        return Response(status=status, body=payload, headers=out)

    def has_bucket(self, name: str) -> bool:
        return name in s3_backend(self.account_id).buckets

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class _Untracked(list):
    """An ``instances_tracked`` list that keeps nothing."""

    __slots__ = ()

    def append(self, _instance) -> None:
        pass


def untrack_moto_models() -> None:
    """Stop moto from keeping every model instance it ever made (see the module docstring)."""
    from moto.core.model_instances import model_data  # noqa: PLC0415

    for models in list(model_data.values()):
        for cls in list(models.values()):
            if type(cls.__dict__.get("instances_tracked")) is not _Untracked:
                cls.instances_tracked = _Untracked()


def bound_list_metrics_pages(backend, limit: int = MAX_LIST_METRICS_PAGES) -> None:
    """Keep the newest ``limit`` unfollowed ListMetrics pages of a CloudWatch backend."""
    pages = backend.paged_metric_data
    while len(pages) > limit:
        try:
            del pages[next(iter(pages))]  # dicts keep insertion order: the oldest token first
        except (KeyError, StopIteration, RuntimeError):  # another thread followed or added one meanwhile
            continue


def bound_sns_messages(account_id: str, region: str, limit: int = MAX_SNS_KEPT) -> None:
    """moto keeps every message published to a topic (for its own inspection): keep the newest ``limit``."""
    from moto.sns.models import sns_backends  # noqa: PLC0415

    for topic in list(sns_backends[account_id][region].topics.values()):
        if len(topic.sent_notifications) > limit:
            del topic.sent_notifications[:-limit]


def s3_backend(account_id: str):
    from moto.s3.models import s3_backends  # noqa: PLC0415

    untrack_moto_models()
    return s3_backends[account_id]["aws"]


def cloudwatch_backend(account_id: str, region: str):
    from moto.cloudwatch.models import cloudwatch_backends  # noqa: PLC0415

    untrack_moto_models()
    return cloudwatch_backends[account_id][region]


def install(sandbox: "SandboxHost", shared: MotoBridge | None = None) -> MotoBridge:
    """The bridge for :data:`MOTO_SERVICES` (the sandbox routes them to ``bridge.handle``), closed with the
    sandbox (``shared``: a fleet cell's, its host's), and the default bucket for batch input and output."""
    bridge = shared or MotoBridge(sandbox.config.account_id, sandbox.config.s3)
    if shared is None:
        sandbox.on_close(bridge.close)
    # The default bucket for batch input and output exists from the start.
    backend = s3_backend(sandbox.config.account_id)
    if sandbox.config.bucket not in backend.buckets:
        backend.create_bucket(sandbox.config.bucket, sandbox.config.region)
    return bridge
