"""CloudWatch cross-account observability (OAM, rest-json, signing name ``oam``) on the sandbox endpoint.

A monitoring account creates a **sink** per region (at most one, as AWS), lets source accounts link to it
with a sink policy, and each source account creates a **link** to the sink (``CreateLink``: resource types,
optional metric filter, a label from ``LabelTemplate``: ``$AccountName``, ``$AccountEmail``,
``$AccountEmailNoDomain``). From then on the monitoring account reads the source account's metrics in that
region: ``GetMetricData`` with ``AccountId`` and ``ListMetrics`` with ``IncludeLinkedAccounts`` /
``OwningAccount`` (:class:`LinkView`, used by :mod:`.metrics_index`).

Every operation of botocore's ``oam`` model is served; requests are conformed to the model's input shapes
(unknown members dropped), errors are the ones the model declares. State is bounded by the config: only the
sandbox's accounts can call (:mod:`..cells`), each has at most one sink per region (and the sandbox at most
:data:`MAX_SINKS`: a single-account sandbox takes any region name), a source account at most
:data:`MAX_LINKS_PER_SOURCE` links per region, 50 tags per resource and policies of at most
:data:`MAX_POLICY_CHARS`.

Sandbox choices where AWS documents nothing (settings would add nothing a drill needs):
- a source account without a sink policy admitting it gets ``InvalidParameterException`` at ``CreateLink``;
- an account cannot link to its own sink (``InvalidParameterException``);
- ``$AccountEmail`` is ``<name>@sandbox.invalid``: the sandbox knows no e-mail addresses;
- a metric filter must be ``Namespace IN (...)``, ``Namespace NOT IN (...)``, ``Namespace = '...'`` or
  ``Namespace != '...'`` (the forms AWS's examples use); anything else is refused at ``CreateLink`` rather
  than silently ignored.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote

from ..http import AwsError, BadJson, Call, Response, parse_json
from ..shapes import conform

if TYPE_CHECKING:  # pragma: no cover
    from ..host import SandboxHost

METRIC = "AWS::CloudWatch::Metric"
MAX_LINKS_PER_SOURCE = 5  # monitoring accounts a source account links to, per region (ListLinks pages at 5)
MAX_POLICY_CHARS = 20_480
MAX_TAGS = 50
MAX_SINKS = 1000  # in all: a single-account sandbox takes any region a client signs for
_NS = re.compile(r"\s*Namespace\s+(NOT\s+)?IN\s*\(\s*('[^']*'(?:\s*,\s*'[^']*')*)\s*\)\s*$"
                 r"|\s*Namespace\s*(=|!=)\s*'([^']*)'\s*$", re.IGNORECASE)
_OPS = ("CreateLink", "CreateSink", "DeleteLink", "DeleteSink", "GetLink", "GetSink", "GetSinkPolicy",
        "ListAttachedLinks", "ListLinks", "ListSinks", "PutSinkPolicy", "UpdateLink")


@dataclass
class Sink:
    arn: str
    id: str
    name: str
    account: str
    region: str
    policy: str | None = None
    admits: frozenset[str] | None = frozenset()  # accounts the policy admits (None: any sandbox account)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Link:
    arn: str
    id: str
    account: str  # the source account
    region: str
    sink_arn: str
    label: str
    label_template: str
    resource_types: list[str]
    config: dict
    tags: dict[str, str] = field(default_factory=dict)
    namespaces: tuple[bool, frozenset[str]] | None = None  # (exclude?, names) of the metric filter; None: all

    def admits(self, namespace: str | None) -> bool:
        if METRIC not in self.resource_types:
            return False
        if self.namespaces is None or namespace is None:
            return True
        exclude, names = self.namespaces
        return (namespace in names) != exclude


def metric_filter(text: str) -> tuple[bool, frozenset[str]]:
    m = _NS.fullmatch(text)
    if not m:
        raise AwsError("InvalidParameterException", "The sandbox reads metric filters of the forms Namespace IN "
                       "('A', 'B'), Namespace NOT IN (...), Namespace = 'A' and Namespace != 'A'; got "
                       f"{text[:200]!r}", 400)
    if m.group(2) is not None:
        names = frozenset(n.strip()[1:-1] for n in m.group(2).split(","))
        return bool(m.group(1)), names
    return m.group(3) == "!=", frozenset([m.group(4)])


def _token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def _page(items: list, params: dict, size: int) -> tuple[list, str | None]:
    token = params.get("NextToken")
    start = 0
    if token:
        try:
            start = parse_json(base64.b64decode(token[:200].encode(), validate=True))["offset"]
        except (BadJson, KeyError, TypeError, ValueError, binascii.Error):
            start = None
        if not isinstance(start, int) or isinstance(start, bool) or not 0 <= start <= len(items):
            raise AwsError("InvalidParameterException", "The NextToken is not valid.", 400)
    more = start + size < len(items)
    return items[start:start + size], (_token(start + size) if more else None)


class Oam:
    """The OAM state of one sandbox (every account and region of it) and its rest-json handler."""

    def __init__(self, host: "SandboxHost"):
        self.host = host
        self.sinks: dict[str, Sink] = {}
        self.links: dict[str, Link] = {}
        fleet = host.config.fleet
        self.names = {host.config.account_id: fleet.default_name if fleet else "sandbox"}
        if fleet:
            self.names.update({a.account_id: a.name for a in fleet.accounts})

    # ------------------------------------------------------------------ HTTP
    async def handle(self, call: Call) -> Response:
        from ..shapes import input_shape  # noqa: PLC0415

        req = call.request
        path = req.path
        if path.startswith("/tags/"):
            op = {"GET": "ListTagsForResource", "PUT": "TagResource", "DELETE": "UntagResource"}.get(req.method)
            raw = call.json() if req.method == "PUT" else {}
            raw["ResourceArn"] = unquote(req.raw_path.split("?", 1)[0][len("/tags/"):])
            if op == "UntagResource":
                raw["TagKeys"] = req.query.getall("tagKeys", [])
        else:
            op = path.strip("/") if req.method == "POST" and path.strip("/") in _OPS else None
            raw = call.json() if op else {}
        if op is None:
            raise AwsError("InvalidParameterException", f"The sandbox's OAM has no operation {req.method} "
                           f"{path[:100]!r}", 400)
        call.operation = op
        code = "ValidationException" if op.endswith(("Resource", "ResourceTags")) else "InvalidParameterException"
        shape = input_shape("oam", op)
        params = conform(shape, raw, code=code, names=list(shape.members) if path.startswith("/tags/") else None,
                         missing_code=None if code == "ValidationException" else "MissingRequiredParameterException")
        body = getattr(self, "_" + re.sub(r"(?<!^)(?=[A-Z])", "_", op).lower())(params, call.account, call.region)
        return Response(text=json.dumps(body), content_type="application/json",
                        headers={"x-amzn-RequestId": call.request_id})

    # ------------------------------------------------------------------ lookups
    def _sink(self, ident: str, account: str, region: str, missing: str = "ResourceNotFoundException") -> Sink:
        sink = self.sinks.get(ident) or next((s for s in self.sinks.values() if s.id == ident), None)
        if sink is None or sink.account != account or sink.region != region:
            raise AwsError(missing, f"Sink {ident[:200]!r} not found in account {account} in {region}.",
                           404 if missing == "ResourceNotFoundException" else 400)
        return sink

    def _link(self, ident: str, account: str, region: str) -> Link:
        link = self.links.get(ident) or next((k for k in self.links.values() if k.id == ident), None)
        if link is None or link.account != account or link.region != region:
            raise AwsError("ResourceNotFoundException", f"Link {ident[:200]!r} not found in account {account} in "
                           f"{region}.", 404)
        return link

    @staticmethod
    def _link_shape(link: Link, tags: bool = True) -> dict:
        out = {"Arn": link.arn, "Id": link.id, "Label": link.label, "LabelTemplate": link.label_template,
               "LinkConfiguration": link.config, "ResourceTypes": link.resource_types, "SinkArn": link.sink_arn}
        if tags:
            out["Tags"] = link.tags
        return out

    @staticmethod
    def _sink_shape(sink: Sink, tags: bool = True) -> dict:
        out = {"Arn": sink.arn, "Id": sink.id, "Name": sink.name}
        if tags:
            out["Tags"] = sink.tags
        return out

    # ------------------------------------------------------------------ sinks
    def create_sink(self, account: str, region: str, name: str, tags: dict | None = None,
                    ident: str | None = None) -> Sink:
        if any(s.account == account and s.region == region for s in self.sinks.values()):
            raise AwsError("ServiceQuotaExceededException", f"Account {account} already has a sink in {region}: "
                           "a monitoring account has one sink per Region.", 429)
        if len(self.sinks) >= MAX_SINKS:
            raise AwsError("ServiceQuotaExceededException", f"The sandbox holds at most {MAX_SINKS} sinks.", 429)
        ident = ident or str(uuid.uuid4())
        sink = Sink(arn=f"arn:aws:oam:{region}:{account}:sink/{ident}", id=ident, name=name, account=account,
                    region=region, tags=dict(tags or {}))
        self.sinks[sink.arn] = sink
        return sink

    def _create_sink(self, p: dict, account: str, region: str) -> dict:
        return self._sink_shape(self.create_sink(account, region, p["Name"], p.get("Tags")))

    def _get_sink(self, p: dict, account: str, region: str) -> dict:
        return self._sink_shape(self._sink(p["Identifier"], account, region), p.get("IncludeTags", False))

    def _delete_sink(self, p: dict, account: str, region: str) -> dict:
        sink = self._sink(p["Identifier"], account, region)
        if any(k.sink_arn == sink.arn for k in self.links.values()):
            raise AwsError("ConflictException", "The sink has links attached: delete them first.", 409)
        del self.sinks[sink.arn]
        return {}

    def _list_sinks(self, p: dict, account: str, region: str) -> dict:
        mine = [s for s in self.sinks.values() if s.account == account and s.region == region]
        page, token = _page(mine, p, p.get("MaxResults", 100))
        return {"Items": [self._sink_shape(s, tags=False) for s in page], **({"NextToken": token} if token else {})}

    def put_sink_policy(self, sink: Sink, policy: str) -> None:
        if len(policy) > MAX_POLICY_CHARS:
            raise AwsError("InvalidParameterException", f"The policy is longer than the sandbox's limit of "
                           f"{MAX_POLICY_CHARS} characters.", 400)
        sink.admits = _admitted(policy)
        sink.policy = policy

    def _put_sink_policy(self, p: dict, account: str, region: str) -> dict:
        sink = self._sink(p["SinkIdentifier"], account, region)
        self.put_sink_policy(sink, p["Policy"])
        return {"Policy": sink.policy, "SinkArn": sink.arn, "SinkId": sink.id}

    def _get_sink_policy(self, p: dict, account: str, region: str) -> dict:
        sink = self._sink(p["SinkIdentifier"], account, region)
        return {"SinkArn": sink.arn, "SinkId": sink.id, **({"Policy": sink.policy} if sink.policy else {})}

    # ------------------------------------------------------------------ links
    def create_link(self, account: str, region: str, sink_arn: str, template: str, types: list[str],
                    config: dict | None = None, tags: dict | None = None, ident: str | None = None) -> Link:
        config = config or {}
        filt = config.get("MetricConfiguration", {}).get("Filter")
        namespaces = metric_filter(filt) if filt else None
        sink = self.sinks.get(sink_arn)
        if sink is None or sink.region != region:
            raise AwsError("InvalidParameterException", f"Sink {sink_arn[:200]!r} does not exist in {region}.", 400)
        if sink.account == account:
            raise AwsError("InvalidParameterException", "An account cannot link to a sink of its own.", 400)
        if sink.admits is not None and account not in sink.admits:
            raise AwsError("InvalidParameterException", f"The sink's policy does not allow account {account} to "
                           "create a link (PutSinkPolicy in the monitoring account).", 400)
        mine = [k for k in self.links.values() if k.account == account and k.region == region]
        if any(k.sink_arn == sink_arn for k in mine):
            raise AwsError("ConflictException", f"Account {account} already has a link to {sink_arn}.", 409)
        if len(mine) >= MAX_LINKS_PER_SOURCE:
            raise AwsError("ServiceQuotaExceededException", f"A source account links to at most "
                           f"{MAX_LINKS_PER_SOURCE} monitoring accounts per Region.", 429)
        ident = ident or str(uuid.uuid4())
        name = self.names.get(account, account)
        label = (template.replace("$AccountEmailNoDomain", name).replace("$AccountEmail", f"{name}@sandbox.invalid")
                 .replace("$AccountName", name))
        link = Link(arn=f"arn:aws:oam:{region}:{account}:link/{ident}", id=ident, account=account, region=region,
                    sink_arn=sink_arn, label=label[:64], label_template=template, resource_types=sorted(set(types)),
                    config=config, tags=dict(tags or {}), namespaces=namespaces)
        self.links[link.arn] = link
        return link

    def _create_link(self, p: dict, account: str, region: str) -> dict:
        return self._link_shape(self.create_link(account, region, p["SinkIdentifier"], p["LabelTemplate"],
                                                 p["ResourceTypes"], p.get("LinkConfiguration"), p.get("Tags")))

    def _get_link(self, p: dict, account: str, region: str) -> dict:
        return self._link_shape(self._link(p["Identifier"], account, region), p.get("IncludeTags", False))

    def _update_link(self, p: dict, account: str, region: str) -> dict:
        link = self._link(p["Identifier"], account, region)
        if "LinkConfiguration" in p:
            filt = p["LinkConfiguration"].get("MetricConfiguration", {}).get("Filter")
            link.namespaces = metric_filter(filt) if filt else None
            link.config = p["LinkConfiguration"]
        link.resource_types = sorted(set(p["ResourceTypes"]))
        return self._link_shape(link, p.get("IncludeTags", False))

    def _delete_link(self, p: dict, account: str, region: str) -> dict:
        del self.links[self._link(p["Identifier"], account, region).arn]
        return {}

    def _list_links(self, p: dict, account: str, region: str) -> dict:
        mine = [k for k in self.links.values() if k.account == account and k.region == region]
        page, token = _page(mine, p, p.get("MaxResults", 5))
        items = [{"Arn": k.arn, "Id": k.id, "Label": k.label, "ResourceTypes": k.resource_types,
                  "SinkArn": k.sink_arn} for k in page]
        return {"Items": items, **({"NextToken": token} if token else {})}

    def _list_attached_links(self, p: dict, account: str, region: str) -> dict:
        sink = self._sink(p["SinkIdentifier"], account, region)
        attached = sorted((k for k in self.links.values() if k.sink_arn == sink.arn), key=lambda k: k.account)
        page, token = _page(attached, p, p.get("MaxResults", 1000))
        items = [{"Label": k.label, "LinkArn": k.arn, "ResourceTypes": k.resource_types} for k in page]
        return {"Items": items, **({"NextToken": token} if token else {})}

    # ------------------------------------------------------------------ tags
    def _tagged(self, arn: str, account: str, region: str) -> Sink | Link:
        found = self.sinks.get(arn) or self.links.get(arn)
        if found is None or found.account != account or found.region != region:
            raise AwsError("ResourceNotFoundException", f"Resource {arn[:200]!r} not found.", 404)
        return found

    def _list_tags_for_resource(self, p: dict, account: str, region: str) -> dict:
        return {"Tags": self._tagged(p["ResourceArn"], account, region).tags}

    def _tag_resource(self, p: dict, account: str, region: str) -> dict:
        found = self._tagged(p["ResourceArn"], account, region)
        if len({**found.tags, **p["Tags"]}) > MAX_TAGS:
            raise AwsError("TooManyTagsException", f"A resource has at most {MAX_TAGS} tags.", 400)
        found.tags.update(p["Tags"])
        return {}

    def _untag_resource(self, p: dict, account: str, region: str) -> dict:
        found = self._tagged(p["ResourceArn"], account, region)
        for key in p["TagKeys"]:
            found.tags.pop(key, None)
        return {}

    # ------------------------------------------------------------------ what CloudWatch reads
    def sources(self, monitoring: str, region: str) -> dict[str, Link]:
        """Source account -> its link to ``monitoring``'s sink in ``region`` (metrics links only)."""
        sinks = {s.arn for s in list(self.sinks.values()) if s.account == monitoring and s.region == region}
        return {k.account: k for k in list(self.links.values()) if k.sink_arn in sinks and METRIC in k.resource_types}

    def auto(self) -> None:
        """``oam: auto``: a sink per region in the default account, a policy admitting the fleet's accounts, and
        a link from each account with ``link: true`` in each of its regions (ids fixed by account and region)."""
        fleet = self.host.config.fleet
        monitoring = self.host.config.account_id
        linked = [a for a in fleet.accounts if a.link]
        policy = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": sorted(a.account_id for a in linked)},
            "Action": ["oam:CreateLink", "oam:UpdateLink"], "Resource": "*",
            "Condition": {"ForAllValues:StringEquals": {"oam:ResourceTypes": [METRIC]}}}]})
        for region in fleet.regions:
            ident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"tierconsole-sandbox/sink/{monitoring}/{region}"))
            sink = self.create_sink(monitoring, region, "tierconsole-fleet", ident=ident)
            self.put_sink_policy(sink, policy)
            for spec in linked:
                if region in spec.regions:
                    link_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"tierconsole-sandbox/link/{spec.account_id}/{region}"))
                    self.create_link(spec.account_id, region, sink.arn, "$AccountName", [METRIC], ident=link_id)


def _admitted(policy: str) -> frozenset[str] | None:
    """The accounts a sink policy lets create links: account ids and ARNs named as principals of an Allow
    statement (None: ``*`` or an organization condition, which admit every account of the sandbox)."""
    try:
        doc = parse_json(policy)
    except BadJson as exc:
        raise AwsError("InvalidParameterException", f"The policy is not valid JSON: {exc}", 400) from None
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise AwsError("InvalidParameterException", "The policy has no Statement.", 400)
    out: set[str] = set()
    for st in statements:
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        names = principal.get("AWS") if isinstance(principal, dict) else principal
        names = names if isinstance(names, list) else [names]
        for name in names:
            if name == "*":
                return None
            if isinstance(name, str):
                m = re.fullmatch(r"(?:arn:[^:]+:iam::)?(\d{12})(?::root)?", name)
                if m:
                    out.add(m.group(1))
    return frozenset(out)

