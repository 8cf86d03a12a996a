"""botocore's service models as the sandbox reads them: which operation a request is for, the errors an
operation declares, and how an error shape names its message member. Imports nothing of the sandbox."""
from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=None)
def service_model(name: str):
    """botocore's model of a service (``bedrock``, ``bedrock-runtime``, ``service-quotas``, ...)."""
    import botocore.session  # noqa: PLC0415 - loaded with the first request that needs it

    return botocore.session.get_session().get_service_model(name)


# ---------------------------------------------------------------------- operations and errors as the models declare them

#: SigV4 signing name -> the botocore models served under it.
MODELS_BY_SIGNING_NAME = {"bedrock": ("bedrock-runtime", "bedrock"), "servicequotas": ("service-quotas",),
                          "monitoring": ("cloudwatch",), "sts": ("sts",), "s3": ("s3",), "oam": ("oam",)}
_LABEL = re.compile(r"\\\{([A-Za-z0-9_]+)(\\\+)?\\\}")


@lru_cache(maxsize=None)
def _rest_routes(model_name: str) -> tuple[tuple[str, re.Pattern, str], ...]:
    """(method, path pattern, operation) for each operation of a rest-json model, literal paths first."""
    model = service_model(model_name)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http.get("requestUri", "/").split("?", 1)[0]
        pattern = _LABEL.sub(lambda m: ".+" if m.group(2) else "[^/]+", re.escape(uri))
        routes.append((http.get("method", "POST"), re.compile(pattern + "/?$"), name, uri.count("{")))
    routes.sort(key=lambda r: r[3])
    return tuple((m, p, n) for m, p, n, _ in routes)


def operation_for(service: str, method: str, raw_path: str, headers, form: dict[str, str]) -> str | None:
    """The operation a request is for, as the service's model names it, or None where it cannot be told
    before the request is handled (S3, or a request matching no operation)."""
    target = headers.get("X-Amz-Target", "")
    if target:
        return target.rsplit(".", 1)[-1] or None
    if "/operation/" in raw_path:  # smithy-rpc-v2-cbor: /service/{service}/operation/{operation}
        return raw_path.rsplit("/", 1)[-1] or None
    if service in ("sts", "monitoring"):
        return form.get("Action")
    if service == "bedrock":
        path = raw_path.split("?", 1)[0]
        for model_name in MODELS_BY_SIGNING_NAME["bedrock"]:
            for verb, pattern, name in _rest_routes(model_name):
                if verb == method and pattern.match(path):
                    return name
    return None


@lru_cache(maxsize=1024)
def declared_errors(service: str, operation: str | None) -> dict[str, tuple[str, int | None]]:
    """The errors ``operation`` of ``service`` (signing name) declares: wire code -> (shape name, HTTP status)."""
    out: dict[str, tuple[str, int | None]] = {}
    if not operation:
        return out
    for model_name in MODELS_BY_SIGNING_NAME.get(service, ()):
        model = service_model(model_name)
        if operation not in model.operation_names:
            continue
        for shape in model.operation_model(operation).error_shapes:
            meta = shape.metadata.get("error", {})
            out[meta.get("code", shape.name)] = (shape.name, meta.get("httpStatusCode"))
    return out


@lru_cache(maxsize=1024)
def error_message_member(service: str | None, code: str) -> str:
    """How the model's shape for error ``code`` names its message member (``message`` or ``Message``);
    for an error no shape declares, as the service's other errors name it."""
    default = "Message" if service == "servicequotas" else "message"
    for model_name in MODELS_BY_SIGNING_NAME.get(service or "", ()):
        model = service_model(model_name)
        for name in model.shape_names:
            shape = model.shape_for(name)
            if not getattr(shape, "metadata", {}).get("exception"):
                continue
            if code in (name, shape.metadata.get("error", {}).get("code")):
                members = set(shape.members)
                if "Message" in members and "message" not in members:
                    return "Message"
                if "message" in members:
                    return "message"
    return default
