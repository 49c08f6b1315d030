"""Questions the simulator answers, as plain facts: what a goal expects and what a lesson asks.

A query is one of five kinds, each a mapping as a goal file writes it:

* ``trace: {from, to, proto?, port?}``: ``verdict`` (delivered or dropped), ``delivered_to``, ``reason``,
  ``hops`` (how many), ``path`` (the namespaces passed, in order), ``vxlan_device`` and ``ipip_device`` (the
  device that wraps the packet in an overlay header, "" without one), ``dnat`` (the address and port a
  Service's DNAT chose), ``snat`` (the source the destination sees);
* ``route: {host, to}``: ``dev``, ``via`` ("" for a connected route), ``route`` (the line ip route prints);
* ``dns: {from?, name, type?}``: ``rcode``, ``answers`` (the records' data), ``address`` (the first),
  ``tries`` (how many names the pod's resolver asked), ``name`` (the name that answered);
* ``http: {url, host?, client?}``: ``status``, ``backend`` (namespace/service:port), ``endpoint``;
* ``reach: {from, to, port, protocol?}``: ``allowed`` (true or false) and ``why``.

:func:`facts` answers a query; a question the simulator refuses (an unknown host, say) raises
:class:`FactError` with the simulator's words.
"""

from __future__ import annotations

import ipaddress

KINDS = ("trace", "route", "dns", "http", "reach")
FIELDS = {
    "trace": ("from", "to", "proto", "port"),
    "route": ("host", "to"),
    "dns": ("from", "name", "type"),
    "http": ("url", "host", "client"),
    "reach": ("from", "to", "port", "protocol"),
}
REQUIRED = {"trace": ("from", "to"), "route": ("host", "to"), "dns": ("name",), "http": ("url",), "reach": ("from", "to", "port")}
FACTS = {
    "trace": ("verdict", "delivered_to", "reason", "hops", "path", "vxlan_device", "ipip_device", "dnat", "snat"),
    "route": ("dev", "via", "route"),
    "dns": ("rcode", "answers", "address", "tries", "name"),
    "http": ("status", "backend", "endpoint"),
    "reach": ("allowed", "why"),
}


PROTOCOLS = ("tcp", "udp", "sctp", "icmp")
ORDERED = ("path",)  # facts whose order matters; other lists (a DNS answer's records) are compared as sets
DNAT_MARKS = ("(DNAT)", "(eBPF socket LB)", "(eBPF NodePort DNAT)")  # how a trace names a Service's translation


class FactError(Exception):
    """The simulator cannot answer the question (its own words)."""


def _trace(net, q: dict) -> dict:
    from ..sim.query import QueryError, trace

    try:
        t = trace(net, str(q["from"]), str(q["to"]), str(q.get("proto") or "tcp").lower(), q.get("port"))
    except QueryError as e:
        raise FactError(str(e)) from None
    path: list[str] = []
    for h in t.hops:
        if h.kind != "segment" and (not path or path[-1] != h.node) and h.node in net.namespaces:
            path.append(h.node)
    vxlan = ipip = ""
    dnat = ""
    for h in t.hops:
        for n in h.notes:
            if n.startswith("VXLAN encapsulation on ") and not vxlan:
                vxlan = n.split(" on ", 1)[1].split(" ", 1)[0]
            if n.startswith("IPIP encapsulation on ") and not ipip:
                ipip = n.split(" on ", 1)[1].split(":", 1)[0]
        for rw in h.rewrites:
            if rw.startswith("dst ") and rw.endswith(DNAT_MARKS) and not dnat:
                dnat = rw.split(" -> ", 1)[1].split(" ", 1)[0]
    last = t.hops[-1].packet if t.hops else t.packet
    return {"verdict": t.verdict, "delivered_to": t.delivered_to or "", "reason": t.reason or "", "hops": len(t.hops),
            "path": path, "vxlan_device": vxlan, "ipip_device": ipip, "dnat": dnat,
            "snat": str(last.src) if t.delivered and last.src is not None else ""}


def _route(net, q: dict) -> dict:
    from ..sim.query import QueryError, namespace, route_get, route_get_line

    try:
        ns = namespace(net, str(q["host"]))
        ip = ipaddress.ip_address(str(q["to"]))
    except (QueryError, ValueError) as e:
        raise FactError(str(e)) from None
    got = route_get(net, ns, ip)
    r = got.get("route") or {}
    return {"dev": r.get("dev") or "", "via": r.get("via") or "", "route": route_get_line(got)}


def _dns(net, q: dict) -> dict:
    from ..dns.resolver import ResolverError, resolve
    from ..dns.zone import DnsConfigError

    if net.cluster is None:
        raise FactError("the topology has no Kubernetes cluster, so no cluster DNS")
    try:
        res = resolve(net.dns_zone(), net.cluster, q.get("from"), str(q["name"]), str(q.get("type") or "A"))
    except (ResolverError, DnsConfigError) as e:
        raise FactError(str(e)) from None
    answers = [r.data for r in res.final.answer] if res.kept is not None else []
    return {"rcode": res.final.rcode, "answers": answers, "address": next((a for a in answers if _is_ip(a)), ""),
            "tries": len(res.tries), "name": res.qname.rstrip(".") if res.kept is not None else ""}


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _http(loaded, net, q: dict) -> dict:
    from ..ingress.request import RequestError, send

    try:
        ex = send(loaded.topology, str(q["url"]), q.get("host"), q.get("client"), net=net)
    except RequestError as e:
        raise FactError(str(e)) from None
    d = ex.decision
    b = d.backend
    return {"status": d.status, "backend": f"{b['namespace']}/{b['service']}:{b['port']}" if b else "", "endpoint": d.endpoint or ""}


def _reach(net, q: dict) -> dict:
    from ..netpol.evaluate import NetpolError, index

    if net.cluster is None:
        raise FactError("the topology has no Kubernetes cluster, so no NetworkPolicy")
    try:
        v = index(net.cluster, strict=False).evaluate(str(q["from"]), str(q["to"]), int(q["port"]), str(q.get("protocol") or "TCP"))
    except (NetpolError, ValueError) as e:
        raise FactError(str(e)) from None
    return {"allowed": v.egress_allowed and v.ingress_allowed, "why": v.reason}


def facts(loaded, net, kind: str, query: dict) -> dict:
    """The facts of one query (``kind`` one of :data:`KINDS`) on a loaded topology and its network."""
    if kind == "trace":
        return _trace(net, query)
    if kind == "route":
        return _route(net, query)
    if kind == "dns":
        return _dns(net, query)
    if kind == "http":
        return _http(loaded, net, query)
    return _reach(net, query)


YES, NO = ("true", "yes", "y", "allowed", "delivered"), ("false", "no", "n", "denied", "dropped")


def same(expected, got, ordered: bool = False) -> bool:
    """Whether a fact is what was expected: text without regard to case or surrounding blanks; a list in order
    when ``ordered`` (a path), else in any order (a DNS answer's records); a boolean as true/false or yes/no."""
    if isinstance(expected, bool) or isinstance(got, bool):
        words = {str(x).strip().lower() for x in (expected, got)}
        return words <= set(YES) or words <= set(NO)
    if isinstance(expected, list) or isinstance(got, list):
        exp = expected if isinstance(expected, list) else [expected]
        g = got if isinstance(got, list) else [got]
        norm_e, norm_g = [_norm(x) for x in exp], [_norm(x) for x in g]
        return norm_e == norm_g if ordered else sorted(norm_e) == sorted(norm_g)
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        return expected == got
    return _norm(expected) == _norm(got)


def _norm(value) -> str:
    """Text as compared: no surrounding blanks, no case, no final dot (web.default.svc.cluster.local. as dig writes it)."""
    text = str(value).strip().lower()
    return text[:-1] if text.endswith(".") and len(text) > 1 else text


def shown(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "(none)"
    return str(value) if value != "" else "(none)"
