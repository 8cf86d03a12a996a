"""What the sandbox's S3 keeps is bounded: buckets, objects, stored bytes and multipart uploads.

moto keeps every object in memory (a temporary file past a few MiB) for as long as the process lives, and it
sets no limit: without these checks a client could fill the sandbox's memory and disk with objects. Each write
is measured against the account's S3 as moto holds it (:func:`usage`) and the ``sandbox.s3`` settings
(:class:`~..config.S3Limits`) before moto sees it, under one lock with moto's own handling of it (moto's S3 is
process-wide: two writes at once could otherwise both fit), and refused with the error S3 answers:

=============================== ======================================================================
limit                           answer
=============================== ======================================================================
``max_object_bytes``            ``EntityTooLarge`` (400): a PUT, POST, copy or part, or a completed
                                multipart upload, over it (S3's own limits: 5 GiB, 5 TiB)
``max_buckets``                 ``TooManyBuckets`` (400)
``max_parts_per_upload``        ``InvalidArgument`` (400) for a part number beyond it (S3: 10,000)
``max_total_bytes``             ``EntityTooLarge`` (400): S3 has no such limit; the closest S3 error
``max_objects``                 ``InvalidRequest`` (400): S3 has no such limit (every version, delete
                                marker and uploaded part counts)
``max_multipart_uploads``       ``InvalidRequest`` (400): S3 has no such limit
=============================== ======================================================================

Every message names the sandbox setting that refused the request. An overwrite in a bucket without
versioning counts only what it adds.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, TypeVar
from urllib.parse import unquote

from ..config import S3Limits
from ..http import AwsError, Call

T = TypeVar("T")

#: One S3 write at a time, measured and applied together (moto's S3 state is shared by the whole process).
LOCK = threading.Lock()
#: Query parameters of PUTs to an object key that store no object body (tags, ACL, retention, ...).
_NOT_AN_UPLOAD = frozenset({"tagging", "acl", "retention", "legal-hold", "restore", "torrent", "attributes",
                            "renameObject"})


@dataclass(frozen=True)
class Usage:
    buckets: int
    objects: int  # every stored version, delete marker and uploaded part
    bytes: int  # of those
    uploads: int  # open multipart uploads


def usage(backend: Any) -> Usage:
    """What the account's S3 holds now (a scan of moto's dicts: about 1 ms per 10,000 objects)."""
    for _attempt in range(5):
        try:
            return _scan(backend)
        except RuntimeError:  # the sandbox's own batch runner changed a dict meanwhile (it writes without LOCK)
            continue
    return _scan(backend)


def _scan(backend: Any) -> Usage:
    objects = size = uploads = 0
    buckets = list(backend.buckets.values())
    for bucket in buckets:
        for versions in dict.values(bucket.keys):  # moto's versioned store: a dict of lists of versions
            objects += len(versions)
            for version in versions:
                size += getattr(version, "contentsize", 0)
        for upload in bucket.multiparts.values():
            uploads += 1
            objects += len(upload.parts)
            size += sum(p.contentsize for p in upload.parts.values())
    return Usage(len(buckets), objects, size, uploads)


def guarded(call: Call, backend: Any, limits: S3Limits, apply: Callable[[], T]) -> T:
    """``apply()`` (moto's handling of ``call``) if what it would store fits ``limits``; else S3's error."""
    if call.request.method not in ("PUT", "POST", "DELETE"):
        return apply()
    with LOCK:
        check(call, backend, limits)
        return apply()


def _setting(name: str, limits: S3Limits) -> str:
    return f"the sandbox's setting sandbox.s3.{name}: {getattr(limits, name):,}"


def _too_large(size: int, limits: S3Limits) -> AwsError:
    return AwsError("EntityTooLarge", f"Your proposed upload exceeds the maximum allowed size ({size:,} bytes; "
                                      f"{_setting('max_object_bytes', limits)} bytes).", 400)


def check(call: Call, backend: Any, limits: S3Limits) -> None:
    """Raise S3's error when ``call`` would store more than ``limits`` allow (see the module docstring)."""
    req = call.request
    name, _, key = req.path.lstrip("/").partition("/")
    bucket = backend.buckets.get(name) if name else None
    if not key:
        if req.method == "PUT" and name and bucket is None and len(backend.buckets) >= limits.max_buckets:
            raise AwsError("TooManyBuckets", "You have attempted to create more buckets than allowed "
                                             f"({_setting('max_buckets', limits)}).", 400)
        if req.method == "POST" and bucket is not None and "delete" not in req.query:  # a browser form upload
            _fits(backend, limits, len(call.body), 1)
        elif req.method == "POST" and bucket is not None and bucket.is_versioned:  # DeleteObjects: markers
            body = call.body.decode("utf-8", "replace")
            _fits(backend, limits, 0, max(0, body.count("<Key>") - body.count("<VersionId>")))
        return
    if bucket is None:
        return  # moto answers NoSuchBucket
    if req.method == "DELETE":
        if bucket.is_versioned and "versionId" not in req.query and "uploadId" not in req.query:
            _fits(backend, limits, 0, 1, hint=" (in a versioned bucket a delete adds a delete marker: delete "
                                              "object versions by versionId to free space)")
        return
    if req.method == "POST":
        if "uploads" in req.query and usage(backend).uploads >= limits.max_multipart_uploads:
            raise AwsError("InvalidRequest", "Too many multipart uploads in progress "
                                             f"({_setting('max_multipart_uploads', limits)}); complete or abort "
                                             "one first.", 400)
        if "uploadId" in req.query:
            upload = bucket.multiparts.get(req.query["uploadId"])
            size = sum(p.size for p in upload.parts.values()) if upload is not None else 0
            if size > limits.max_object_bytes:
                raise _too_large(size, limits)
        return
    if req.method != "PUT" or _NOT_AN_UPLOAD.intersection(req.query):
        return
    size = _incoming_size(call, backend)
    if size > limits.max_object_bytes:
        raise _too_large(size, limits)
    if "uploadId" in req.query:
        number = req.query.get("partNumber", "")
        if number.isdigit() and int(number) > limits.max_parts_per_upload:
            raise AwsError("InvalidArgument", f"Part number must be an integer between 1 and "
                                              f"{limits.max_parts_per_upload}, inclusive "
                                              f"({_setting('max_parts_per_upload', limits)}).", 400)
        upload = bucket.multiparts.get(req.query["uploadId"])
        old = upload.parts.get(int(number)) if upload is not None and number.isdigit() else None
    else:
        old = None if bucket.is_versioned else bucket.keys.get(key)
        old = old if hasattr(old, "size") else None
    _fits(backend, limits, size - (old.size if old is not None else 0), 0 if old is not None else 1)


def _fits(backend: Any, limits: S3Limits, more_bytes: int, more_objects: int, hint: str = "") -> None:
    now = usage(backend)
    if more_objects and now.objects + more_objects > limits.max_objects:
        raise AwsError("InvalidRequest", f"The sandbox's S3 holds {now.objects:,} objects and parts, its limit "
                                         f"({_setting('max_objects', limits)}); delete some first{hint}.", 400)
    if more_bytes > 0 and now.bytes + more_bytes > limits.max_total_bytes:
        raise AwsError("EntityTooLarge", f"Your proposed upload of {more_bytes:,} bytes would take the sandbox's "
                                         f"S3 past its stored bytes limit ({now.bytes:,} bytes stored; "
                                         f"{_setting('max_total_bytes', limits)} bytes); delete some first.", 400)


def _incoming_size(call: Call, backend: Any) -> int:
    """The bytes a PUT stores: its body (as decoded from aws-chunked framing), or what it copies."""
    headers = call.request.headers
    source = headers.get("x-amz-copy-source")
    if source is None:
        decoded = headers.get("x-amz-decoded-content-length", "")
        return int(decoded) if decoded.isdigit() else len(call.body)
    path, _, query = unquote(source).lstrip("/").partition("?")
    src_bucket, _, src_key = path.partition("/")
    bucket = backend.buckets.get(src_bucket)
    version = re.search(r"versionId=([^&]+)", query)
    found = None
    if bucket is not None:
        versions = bucket.keys.getlist(src_key, [])
        found = next((v for v in versions if version and getattr(v, "version_id", None) == version.group(1)),
                     None) if version else bucket.keys.get(src_key)
    size = getattr(found, "size", 0) or 0
    span = re.fullmatch(r"bytes=(\d+)-(\d+)", headers.get("x-amz-copy-source-range", ""))
    if span and int(span.group(2)) >= int(span.group(1)):
        size = min(size, int(span.group(2)) - int(span.group(1)) + 1)
    return size
