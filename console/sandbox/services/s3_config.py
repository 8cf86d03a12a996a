"""S3 request bodies and headers moto would store as given but S3 refuses, answered with S3's own error before
moto sees them (and so never stored): bucket policies (``MalformedPolicy``), a versioning ``Status``/``MFADelete``
outside the model's enums (``MalformedXML``), a lifecycle rule's days S3 does not take (``InvalidArgument``, in
S3's words), a ``LocationConstraint`` that is not one of the model's (``InvalidLocationConstraint``; ``us-east-1``
is not one: a bucket there is made with no constraint), a canned ACL (``x-amz-acl``) the operation does not
have (``InvalidArgument`` with ``ArgumentName``/``ArgumentValue``), a DeleteObjects of more than 1,000 keys
(``MalformedXML``) and a website index suffix that is empty or holds a slash (``InvalidArgument``). The enums come from
botocore's S3 model."""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from ..http import AwsError, BadJson, Call, parse_json
from ..shapes import service_model

_S3_OBJECT_ACTIONS = ("GetObject", "PutObject", "DeleteObject", "HeadObject", "PostObject")
MAX_DELETE_KEYS = 1000  # DeleteObjects: "a list of up to 1,000 keys" (the API reference)
_MALFORMED_XML = "The XML you provided was not well-formed or did not validate against our published schema"
#: lifecycle actions and their day fields: (action, field, the least S3 takes, how S3 words it)
_LIFECYCLE_DAYS = (("Expiration", "Days", 1, "for Expiration action must be a positive integer"),
                   ("Transition", "Days", 0, "in Transition action must be nonnegative"),
                   ("NoncurrentVersionExpiration", "NoncurrentDays", 1,
                    "for NoncurrentVersionExpiration action must be a positive integer"),
                   ("NoncurrentVersionTransition", "NoncurrentDays", 0,
                    "in NoncurrentVersionTransition action must be nonnegative"),
                   ("AbortIncompleteMultipartUpload", "DaysAfterInitiation", 1,
                    "for AbortIncompleteMultipartUpload action must be a positive integer"))


def _s3_error(code: str, message: str, status: int = 400, extra: dict[str, str] | None = None) -> AwsError:
    return AwsError(code, message, status, extra)


@lru_cache(maxsize=None)
def _enum(shape: str) -> frozenset[str]:
    return frozenset(service_model("s3").shape_for(shape).enum)


def check_s3_config(call: Call, key: str) -> None:
    """Refuse (S3's error) a PUT or POST whose configuration or canned ACL S3 would not take."""
    req = call.request
    acl = req.headers.get("x-amz-acl")
    if acl is not None:
        allowed = _enum("ObjectCannedACL" if key else "BucketCannedACL")
        if acl not in allowed:
            raise _s3_error("InvalidArgument", f"{acl[:60]!r} is not a canned ACL of "
                            f"{'an object' if key else 'a bucket'}: {', '.join(sorted(allowed))}",
                            extra={"ArgumentName": "x-amz-acl", "ArgumentValue": acl})
    if req.method == "POST" and not key and "delete" in req.query:
        doc = _xml(call.body).get("Delete")
        if len(_items(doc.get("Object") if isinstance(doc, dict) else None)) > MAX_DELETE_KEYS:
            raise _s3_error("MalformedXML", f"{_MALFORMED_XML} (DeleteObjects takes at most {MAX_DELETE_KEYS:,} "
                            "keys a request).")
    if req.method != "PUT" or key:
        return
    if "website" in req.query:
        doc = _xml(call.body).get("WebsiteConfiguration")
        index = doc.get("IndexDocument") if isinstance(doc, dict) else None
        suffix = index.get("Suffix") if isinstance(index, dict) else None
        if isinstance(index, dict) and (not suffix or "/" in str(suffix)):  # the API reference's rule
            raise _s3_error("InvalidArgument", f"The IndexDocument Suffix is not well formed: it must not be empty "
                            f"and must not include a slash ({str(suffix or '')[:40]!r})",
                            extra={"ArgumentName": "IndexDocument", "ArgumentValue": str(suffix or "")})
    elif "versioning" in req.query:
        doc = _xml(call.body).get("VersioningConfiguration") or {}
        for name, shape in (("Status", "BucketVersioningStatus"), ("MfaDelete", "MFADelete")):
            value = doc.get(name) if isinstance(doc, dict) else None
            if value is not None and value not in _enum(shape):
                raise _s3_error("MalformedXML", f"{_MALFORMED_XML} ({name} {str(value)[:40]!r} is not one of "
                                f"{', '.join(sorted(_enum(shape)))}).")
    elif "lifecycle" in req.query:
        _check_lifecycle(_xml(call.body))
    elif not req.query and call.body.strip():  # CreateBucket with a configuration
        doc = _xml(call.body).get("CreateBucketConfiguration")
        where = doc.get("LocationConstraint") if isinstance(doc, dict) else None
        if where is not None and where not in _enum("BucketLocationConstraint"):
            raise _s3_error("InvalidLocationConstraint", f"The specified location-constraint is not valid "
                            f"({str(where)[:40]!r})", extra={"LocationConstraint": str(where)})


def _xml(body: bytes) -> dict[str, Any]:
    """The body as ``xmltodict`` reads it (entities refused), or S3's ``MalformedXML``."""
    import xmltodict  # noqa: PLC0415 - moto's own XML reader, loaded with the bridge

    try:
        doc = xmltodict.parse(body, disable_entities=True)
    except Exception:  # noqa: BLE001 - any parser failure is a body S3 would call malformed
        raise _s3_error("MalformedXML", f"{_MALFORMED_XML}.") from None
    return doc if isinstance(doc, dict) else {}


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _check_lifecycle(doc: dict[str, Any]) -> None:
    config = doc.get("LifecycleConfiguration") or {}
    for rule in _items(config.get("Rule") if isinstance(config, dict) else None):
        if not isinstance(rule, dict):
            continue
        for action, field, least, words in _LIFECYCLE_DAYS:
            for node in _items(rule.get(action)):
                value = node.get(field) if isinstance(node, dict) else None
                if value is None:
                    continue
                try:
                    days = int(str(value).strip())
                except ValueError:
                    raise _s3_error("MalformedXML", f"{_MALFORMED_XML} ({field} {str(value)[:40]!r} is not an "
                                    "integer).") from None
                if days < least:
                    raise _s3_error("InvalidArgument", f"'{field}' {words} (got {days})")


def check_bucket_policy(body: bytes, bucket: str) -> None:
    """Raise S3's ``MalformedPolicy`` unless moto can store the policy *and* evaluate it later."""
    def malformed(why: str) -> AwsError:
        return _s3_error("MalformedPolicy", why)

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise malformed("Policies must be valid JSON and the first byte must be '{'") from None
    if not text.lstrip().startswith("{"):
        raise malformed("Policies must be valid JSON and the first byte must be '{'")
    try:
        doc = parse_json(text)
    except BadJson as exc:
        raise malformed(f"Policies must be valid JSON and the first byte must be '{{' ({exc})") from None
    if "Statement" not in doc:
        raise malformed("Missing required field Statement")
    from moto.iam.access_control import IAMPolicy  # noqa: PLC0415 - moto is loaded with the bridge anyway
    from moto.iam.exceptions import MalformedPolicyDocument  # noqa: PLC0415
    from moto.iam.policy_validation import IAMPolicyDocumentValidator  # noqa: PLC0415
    from moto.s3.utils import bucket_policy_is_public  # noqa: PLC0415

    # AWS takes bucket policies without a Version (2008-10-17 semantics); moto's validator wants 2012-10-17.
    normalized = dict(doc, Version="2012-10-17") if doc.get("Version") in (None, "2008-10-17") else doc
    try:
        IAMPolicyDocumentValidator(json.dumps(normalized)).validate()
    except MalformedPolicyDocument as exc:
        raise malformed(getattr(exc, "message", None) or str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - the validator's own failure is a malformed policy too
        raise malformed(f"Policy could not be read ({type(exc).__name__})") from None
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    for st in statements:  # moto's validator is for identity policies: a bucket policy names its principal
        if not isinstance(st, dict) or ("Principal" not in st and "NotPrincipal" not in st):
            raise malformed("Missing required field Principal")
        if not all(_principal_ok(st[k]) for k in ("Principal", "NotPrincipal") if k in st):
            raise malformed("Invalid principal in policy")
    # A trial of what moto does with a stored policy on later requests, with every action it names.
    actions = {f"s3:{a}" for a in _S3_OBJECT_ACTIONS}
    for st in statements:
        for key in ("Action", "NotAction"):
            named = st.get(key) if isinstance(st, dict) else None
            actions.update(a for a in (named if isinstance(named, list) else [named]) if isinstance(a, str))
    try:
        policy = IAMPolicy(text)
        for action in sorted(actions):
            policy.is_action_permitted(action, f"arn:aws:s3:::{bucket}/probe")
            policy.is_action_permitted(action, f"arn:aws:s3:::{bucket}")
        bucket_policy_is_public(text)
    except Exception as exc:  # noqa: BLE001 - anything moto cannot evaluate later must not be stored
        raise malformed(f"Policy has an element the sandbox cannot evaluate ({type(exc).__name__})") from None


def _principal_ok(principal: Any) -> bool:
    """``"*"`` or ``{"AWS"|"Service"|"Federated"|"CanonicalUser": name or [names]}``, as the policy grammar has it."""
    if principal == "*":
        return True
    return isinstance(principal, dict) and bool(principal) and all(
        key in ("AWS", "Service", "Federated", "CanonicalUser")
        and (isinstance(v, str) or isinstance(v, list) and v and all(isinstance(x, str) for x in v))
        for key, v in principal.items())
