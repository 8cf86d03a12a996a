"""CloudWatch Metrics Insights queries (``GetMetricData`` ``Expression: SELECT ...``) over the sandbox's series.

moto's own answer to a ``SELECT`` is a stub (the sum of every datapoint stored): the sandbox answers the subset
of the query language the console uses, and refuses the rest by name rather than answer wrongly::

    SELECT AVG|SUM|MIN|MAX|COUNT(metric)
    FROM "namespace" | SCHEMA("namespace"[, key, ...])
    [WHERE key = 'value' | key != 'value' [AND ...]]
    [GROUP BY key[, key ...]]            -- keys: dimension names, and AWS.AccountId
    [ORDER BY AVG|SUM|MIN|MAX|COUNT() [ASC|DESC]]
    [LIMIT n]                            -- at most 500 series (AWS's limit); ORDER BY picks which

As AWS: ``SCHEMA`` keeps series with exactly those dimensions (``FROM "ns"`` any); one Insights query per call;
in a monitoring account the linked source accounts' series are included (``AWS.AccountId`` is the owner);
periods are the query's ``Period``. A series lacking a GROUP BY key is left out (AWS groups it under
"Other": not modelled). Each group is one result with the query's ``Id``; its ``Label`` is the group's values
separated by spaces (in GROUP BY order; AWS's exact label form is not documented for every case).
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

MAX_SERIES = 500
_TOKEN = re.compile(r"\s*(?:(?P<q>\"[^\"]{0,255}\")|(?P<s>'[^']{0,1024}')|(?P<n>\d{1,6}(?![\w.]))"
                    r"|(?P<op>!=|[(),=])|(?P<w>[A-Za-z_][A-Za-z0-9_.:/+-]{0,254}))")
_FUNCS = {"SUM": "Sum", "AVG": "Average", "MIN": "Minimum", "MAX": "Maximum", "COUNT": "SampleCount"}
_ACCOUNT = "AWS.ACCOUNTID"


def _bad(message: str) -> Exception:
    from moto.cloudwatch.exceptions import InvalidParameterValue  # noqa: PLC0415

    return InvalidParameterValue(f"Metrics Insights query: {message[:300]}")


class _Parser:
    def __init__(self, text: str):
        self.tokens: list[tuple[str, str]] = []
        pos, text = 0, text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise _bad(f"the sandbox cannot read {text[pos:pos + 30]!r} (at character {pos + 1})")
            kind = m.lastgroup
            value = m.group(kind)
            self.tokens.append((kind, value[1:-1] if kind in ("q", "s") else value))
            pos = m.end()
        self.i = 0

    def peek(self, *words: str) -> bool:
        if self.i >= len(self.tokens):
            return False
        kind, value = self.tokens[self.i]
        return kind == "w" and value.upper() in words or kind == "op" and value in words

    def take(self, *words: str) -> str:
        if not self.peek(*words):
            got = self.tokens[self.i][1] if self.i < len(self.tokens) else "the end"
            raise _bad(f"expected {' or '.join(words)}, got {got!r}")
        self.i += 1
        return self.tokens[self.i - 1][1]

    def name(self, what: str) -> str:
        if self.i >= len(self.tokens) or self.tokens[self.i][0] not in ("w", "q"):
            raise _bad(f"expected {what}")
        self.i += 1
        return self.tokens[self.i - 1][1]

    def func(self) -> str:
        return _FUNCS[self.take(*_FUNCS).upper()]


def parse(text: str) -> dict[str, Any]:
    """The query as a plan: stat, metric, namespace, schema keys (or None), filters, group keys, order, limit."""
    p = _Parser(text)
    p.take("SELECT")
    stat = p.func()
    p.take("(")
    metric = p.name("a metric name")
    p.take(")")
    p.take("FROM")
    schema = None
    if p.peek("SCHEMA"):
        p.take("SCHEMA")
        p.take("(")
        namespace, schema = p.name("a namespace"), []
        while p.peek(","):
            p.take(",")
            schema.append(p.name("a dimension name"))
        p.take(")")
    else:
        namespace = p.name("a namespace")
    where: list[tuple[str, bool, str]] = []
    if p.peek("WHERE"):
        p.take("WHERE")
        while True:
            key = p.name("a dimension name")
            negate = p.take("=", "!=") == "!="
            if p.i >= len(p.tokens) or p.tokens[p.i][0] != "s":
                raise _bad(f"expected a 'quoted value' after {key}")
            p.i += 1
            where.append((key, negate, p.tokens[p.i - 1][1]))
            if not p.peek("AND"):
                break
            p.take("AND")
    group: list[str] = []
    if p.peek("GROUP"):
        p.take("GROUP")
        p.take("BY")
        group.append(p.name("a key"))
        while p.peek(","):
            p.take(",")
            group.append(p.name("a key"))
    order = None
    if p.peek("ORDER"):
        p.take("ORDER")
        p.take("BY")
        order_stat = p.func()
        p.take("(")
        p.take(")")
        descending = p.take("ASC", "DESC").upper() == "DESC" if p.peek("ASC", "DESC") else False
        order = (order_stat, descending)
    limit = MAX_SERIES
    if p.peek("LIMIT"):
        p.take("LIMIT")
        if p.i >= len(p.tokens) or p.tokens[p.i][0] != "n" or not 1 <= int(p.tokens[p.i][1]) <= MAX_SERIES:
            raise _bad(f"LIMIT takes a whole number from 1 to {MAX_SERIES}")
        limit = int(p.tokens[p.i][1])
        p.i += 1
    if p.i != len(p.tokens):
        raise _bad(f"the sandbox does not read {p.tokens[p.i][1]!r} here")
    return {"stat": stat, "metric": metric, "namespace": namespace, "schema": schema, "where": where,
            "group": group, "order": order, "limit": limit}


def run(query: dict, sources_of, start: datetime, end: datetime, scan_by: str) -> list[dict[str, Any]]:
    """One Insights query over ``sources_of(namespace)`` ((account, series index) pairs): one result per group."""
    if not query.get("Period"):
        raise _bad("a Metrics Insights query needs a Period")
    plan = parse(query["Expression"])
    period = int(query["Period"])
    sources = sources_of(plan["namespace"])
    groups: dict[tuple[str, ...], list[tuple[Any, dict]]] = {}
    for account, index in sources:
        for dims, metric in index.series_of(plan["namespace"], plan["metric"]):
            values = {**dims, _ACCOUNT: account}
            if plan["schema"] is not None and set(dims) != set(plan["schema"]):
                continue
            if any((values.get(k.upper() if k.upper() == _ACCOUNT else k) == v) == neg
                   for k, neg, v in plan["where"]):
                continue
            keys = [k.upper() if k.upper() == _ACCOUNT else k for k in plan["group"]]
            if any(k not in values for k in keys):
                continue
            groups.setdefault(tuple(values[k] for k in keys), []).append((index, metric))
    stats = ("Sum", "SampleCount", "Minimum", "Maximum")
    results = []
    for key, members in groups.items():
        per: dict[datetime, list[float]] = {}
        for index, metric in members:
            for n, stat in enumerate(stats):
                vals, stamps = index.stat_of(metric, period, stat, start, end)
                for v, t in zip(vals, stamps):
                    per.setdefault(t, [0.0, 0.0, float("inf"), float("-inf")])
                    agg = per[t]
                    agg[n] = agg[n] + v if n < 2 else (min if n == 2 else max)(agg[n], v)
        points = sorted(per.items(), reverse=scan_by == "TimestampDescending")
        values = [_pick(plan["stat"], a) for _, a in points]
        whole = _pick(plan["order"][0] if plan["order"] else plan["stat"], _total(a for _, a in points))
        results.append((whole, key, {"id": query["Id"], "label": " ".join(key) or query.get("Label") or query["Id"],
                                     "values": values, "timestamps": [t for t, _ in points],
                                     "status_code": "Complete"}))
    if plan["order"] is not None:
        results.sort(key=lambda r: (-r[0] if plan["order"][1] else r[0], r[1]))
    else:
        results.sort(key=lambda r: r[1])
    return [r for _, _, r in results[:plan["limit"]]]


def _total(aggs) -> list[float]:
    out = [0.0, 0.0, float("inf"), float("-inf")]
    for a in aggs:
        out = [out[0] + a[0], out[1] + a[1], min(out[2], a[2]), max(out[3], a[3])]
    return out


def _pick(stat: str, agg: list[float]) -> float:
    total, count, low, high = agg
    return {"Sum": total, "SampleCount": count, "Minimum": low, "Maximum": high,
            "Average": total / count if count else 0.0}[stat]
