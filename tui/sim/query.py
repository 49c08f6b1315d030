"""Questions a user asks of a compiled network: names, routes, lookups, traces.

These are the functions the CLI and the TUI call; they return plain values
and raise :class:`QueryError` with a message meant for a person.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass

from ..model.topology import IPAddress
from .network import NetNS, Network
from .packet import EPHEMERAL_PORT, Packet
from .routing import REJECT_TYPES, route_n_rows, select_source
from .trace import DnsStep, Trace, Walker


class QueryError(ValueError):
    """A question that cannot be answered as asked (an unknown name, a bad address)."""


class UnknownName(QueryError):
    """No host, container or namespace of that name. The "did you mean" is worked out when the message is
    read: a caller that goes on to try the name as something else (a DNS name) never pays for it."""

    def __init__(self, name: str, names) -> None:
        super().__init__(name)
        self._names = names
        self._text: str | None = None

    def __str__(self) -> str:
        if self._text is None:
            name = self.args[0]
            self._text = f'no host, container or namespace "{name}"{_suggest(name, self._names)}'
        return self._text


def _suggest(word: str, names) -> str:
    names = list(names)
    if len(names) > 2000:  # (a big cluster's pods): only names near in length and sharing a first letter can be close
        names = [n for n in names if n[:1] == word[:1] and abs(len(n) - len(word)) <= max(3, len(word) // 3)][:5000]
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def namespace(net: Network, name: str) -> NetNS:
    """A host, container, namespace or pod (``ns/pod``, or ``pod`` in ``default``) by name, or by one of its addresses."""
    if name in net.namespaces:
        return net.namespaces[name]
    if "/" not in name and f"default/{name}" in net.namespaces:  # kubectl's habit: a bare pod name is in default
        return net.namespaces[f"default/{name}"]
    if net.cluster is not None:  # a hostNetwork pod lives in its node's own namespace
        key = name if "/" in name else f"default/{name}"
        pod = next((p for p in net.cluster.pods if p.host_network and f"{p.namespace}/{p.name}" == key), None)
        if pod is not None and pod.node in net.namespaces:
            return net.namespaces[pod.node]
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        raise UnknownName(name, net.namespaces) from None
    owners = net.owners(ip)
    if not owners:
        raise QueryError(f"no host, container or namespace has the address {ip}")
    if len(owners) > 1:
        raise QueryError(f"{ip} is an address of {', '.join(owners)}: name one of them")
    return net.namespaces[owners[0]]


@dataclass(frozen=True)
class Endpoint:
    ns: str | None
    ip: IPAddress | None
    port: int | None


def split_port(text: str) -> tuple[str, int | None]:
    """``name:80``, ``10.0.0.1:80`` or ``[fd00::1]:80`` into the part and the port."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, _port(rest[1:]) if rest.startswith(":") else None
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, _port(port)
    return text, None


def _port(text: str) -> int:
    try:
        p = int(text)
    except ValueError:
        raise QueryError(f'"{text}" is not a port number') from None
    if not 1 <= p <= 65535:
        raise QueryError(f"port {p} is out of range 1-65535")
    return p


def source(net: Network, text: str) -> Endpoint:
    """Where a trace starts: a name (its kernel picks the address) or an address it owns."""
    ns = namespace(net, text)
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        ip = None
    return Endpoint(ns.name, ip, None)


def destination(net: Network, text: str) -> Endpoint:
    """Where a trace goes: an address (anywhere) or a name (its first address), with an optional port."""
    host, port = split_port(text)
    try:
        return Endpoint(None, ipaddress.ip_address(host), port)
    except ValueError:
        pass
    if host.startswith(("svc/", "service/")):
        return _service(net, host.split("/", 1)[1], port)
    ns = namespace(net, host)
    ip = ns.primary_address(4) or ns.primary_address(6)
    if ip is None:
        raise QueryError(f"{ns.name} has no address to send to")
    return Endpoint(ns.name, ip, port)


def _service(net: Network, name: str, port: int | None) -> Endpoint:
    """``svc/NAME[.NAMESPACE]`` or ``svc/NAMESPACE/NAME``: the Service's cluster IP, and its port when it has only one."""
    if "/" in name:
        ns, _, svc_name = name.partition("/")
    else:
        svc_name, _, ns = name.partition(".")
    ns = ns or "default"
    services = net.cluster.services if net.cluster is not None else []
    svc = next((s for s in services if s.name == svc_name and s.namespace == ns), None)
    if svc is None:
        close = _suggest(f"svc/{svc_name}.{ns}", [f"svc/{s.name}.{s.namespace}" for s in services])
        raise QueryError(f'no Service "{ns}/{svc_name}"{close}')
    if svc.cluster_ip is None:
        raise QueryError(f"Service {svc.key} has no cluster IP ({'headless' if svc.type != 'ExternalName' else 'ExternalName'}): "
                         "trace to one of its pods instead")
    if port is None and len(svc.ports) == 1:
        port = svc.ports[0].port
    return Endpoint(None, svc.cluster_ip, port)


_DNS_NAME = re.compile(r"^(?=.{1,253}\.?$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?$")


def resolvable(net: Network, src: str, dst: str) -> bool:
    """Whether a trace from ``src`` to ``dst`` would resolve ``dst`` as a DNS name: a pod's resolver, a
    cluster, a name that is no host, container or pod of the simulation."""
    try:
        ns = namespace(net, src)
        host, _ = split_port(dst)
    except QueryError:  # no such source, or a port that is no port: nothing to resolve (the caller says what is wrong)
        return False
    return ns.kind == "pod" and net.cluster is not None and bool(_DNS_NAME.match(host))


def _by_name(net: Network, src_ns: str, text: str, qtype: str = "A") -> tuple[DnsStep, Endpoint | None]:
    """A destination that is a DNS name, resolved as the source pod's resolver does it (its resolv.conf:
    nameserver, search list, ndots), and the walk of the query it kept to the nameserver and back."""
    from ..dns.resolver import ResolverError, resolve
    from ..dns.zone import DnsConfigError

    host, port = split_port(text)
    try:
        zone = net.dns_zone()
        res = resolve(zone, net.cluster, src_ns, host, qtype)
    except (ResolverError, DnsConfigError) as e:  # a pod whose DNS settings kubelet would refuse, a Corefile CoreDNS would
        raise QueryError(f"{host} cannot be resolved from {src_ns}: {e}") from None
    tries = [(t.qname, t.answer.rcode, [r.text() for r in t.answer.answer]) for t in res.tries]
    final = res.final
    address = next((ipaddress.ip_address(r.data) for r in final.answer if r.type == qtype), None) if res.kept is not None else None
    why = "" if address is not None else _why_not(res)
    step = DnsStep(host, qtype, tries, res.kept, address, why, res.conf.text() if res.conf else "")
    last = res.tries[res.kept if res.kept is not None else -1]
    try:
        server = ipaddress.ip_address(last.server)
    except ValueError:
        server = None
    if server is not None:  # the query on the wire: UDP to the nameserver's port 53, and its answer back
        step.exchange = Walker(net).trace(src_ns, Packet("udp", None, server, EPHEMERAL_PORT + 1, 53), answered=True)
    return step, (Endpoint(None, address, port) if address is not None else None)


def _why_not(res) -> str:
    """Why a name did not resolve: the note of the first try that says most (the pod's own namespace first)."""
    notes = [t.answer.note for t in res.tries if t.answer.note]
    if not notes:
        return f"{res.final.rcode} for every name tried"
    return next((n for n in notes if "pod" in n and "Service" in n), notes[0])


def trace(net: Network, src: str, dst: str, proto: str = "tcp", port: int | None = None, ttl: int = 64,
          endpoint: str | None = None) -> Trace:
    """Trace a packet from ``src`` to ``dst``; the reply follows for TCP, SCTP and ICMP.

    ``dst`` may be a DNS name when ``src`` is a pod: the trace then starts with the pod's resolver
    (``Trace.dns``: every name tried, the query's walk to CoreDNS and back) and goes to the answer.
    ``endpoint`` (``ip:port``) makes kube-proxy's random choice pick that Service endpoint."""
    s = source(net, src)
    dns = None
    try:
        d = destination(net, dst)
    except QueryError as e:
        host, _ = split_port(dst)
        pod = net.namespaces[s.ns].kind == "pod"
        if not (net.cluster is not None and _DNS_NAME.match(host)):
            raise
        if not pod:
            raise QueryError(f"{e}; as a DNS name it is resolved only from a pod, whose resolv.conf points at the cluster DNS "
                             f"({s.ns} is not one): trace from a pod, or give an address or svc/NAME") from None
        dns, d = _by_name(net, s.ns, dst, "AAAA" if s.ip is not None and s.ip.version == 6 else "A")
        if d is None:
            first = dns.exchange.packet if dns.exchange is not None else Packet("udp", None, net.topology.cluster.dns_cluster_ip,
                                                                                   EPHEMERAL_PORT + 1, 53)
            reason = f"DNS: {host} does not resolve ({dns.tries[-1][1]} after {len(dns.tries)} tr{'y' if len(dns.tries) == 1 else 'ies'})"
            t = Trace("dropped", f"{reason}: {dns.why}" if dns.why else reason, [], first, s.ns)
            t.dns = dns
            return t
        if dns.exchange is not None and not dns.exchange.delivered:
            t = Trace("dropped", f"DNS: the query for {host} did not reach its nameserver: {dns.exchange.reason}", [],
                      dns.exchange.packet, s.ns)
            t.dns = dns
            return t
    if port is not None and d.port is not None and port != d.port:
        raise QueryError(f"two ports given: {d.port} in the destination and {port} in --port")
    dport = d.port or port
    if proto == "icmp":
        if dport is not None:
            raise QueryError("ICMP has no ports")
        pkt = Packet("icmp", s.ip, d.ip, 1, 1, ttl)
    else:
        pkt = Packet(proto, s.ip, d.ip, EPHEMERAL_PORT, dport or 80, ttl)
    if s.ip is not None and d.ip.version != s.ip.version:
        raise QueryError(f"{s.ip} and {d.ip} are of different address families")
    result = Walker(net, endpoint).trace(s.ns, pkt)
    result.dns = dns
    if endpoint is not None:
        dnat = [rw.split(" -> ")[1].split(" ")[0] for h in result.hops for rw in h.rewrites
                if rw.startswith("dst ") and rw.endswith(("(DNAT)", "(eBPF socket LB)", "(eBPF NodePort DNAT)"))]
        if not dnat:
            raise QueryError(f"--endpoint {endpoint}: the packet met no Service (no DNAT on its way)")
        if dnat[0] != endpoint:
            raise QueryError(f"--endpoint {endpoint} is not an endpoint of that Service port (kube-proxy chose among others, e.g. {dnat[0]})")
    return result


def route_get(net: Network, ns: NetNS, ip: IPAddress) -> dict:
    """``ip route get IP`` in ``ns``: the chosen route, device and source address."""
    r = ns.tables.lookup(ip)
    if r is None:
        return {"ip": str(ip), "route": None, "error": "Network is unreachable"}
    out = r.to_dict()
    if r.type == "local":
        out["dev"] = "lo"
    if not r.uses_gateway:
        out["via"] = None  # the gateway is our own address: the kernel sends straight to ip
    out["src"] = str(select_source(ns.tables, r, ip, ns.addresses())) if r.type not in REJECT_TYPES else None
    err = {"blackhole": "Invalid argument", "unreachable": "No route to host", "prohibit": "Permission denied"}.get(r.type)
    return {"ip": str(ip), "route": out, "error": err}


def route_get_line(lookup: dict) -> str:
    """A lookup as ``ip route get`` prints it."""
    r = lookup["route"]
    if r is None or lookup.get("error"):
        return f"RTNETLINK answers: {lookup['error']}"
    parts = [lookup["ip"]] if r["type"] == "unicast" else [r["type"], lookup["ip"]]
    if r["via"]:
        parts += ["via", r["via"]]
    parts += ["dev", r["dev"]]
    if r["table"] != "main":
        parts += ["table", r["table"]]
    if lookup["route"].get("src"):
        parts += ["src", r["src"]]
    return " ".join(parts)


def routes(net: Network, target: str, lookups: list[str] = (), fmt: str = "ip") -> dict:
    """The main table of ``target`` and a lookup for each address asked."""
    ns = namespace(net, target)
    ips = []
    for text in lookups:
        try:
            ips.append(ipaddress.ip_address(text))
        except ValueError:
            raise QueryError(f'--lookup: "{text}" is not an IP address') from None
    main = ns.tables.main.routes()
    result = {
        "target": ns.name,
        "routes": [r.to_dict() for r in main],
        "lookups": [route_get(net, ns, ip) for ip in ips],
    }
    if fmt == "ip":
        result["lines"] = [r.ip_route() for r in main]
    else:
        gateways = frozenset(r.via for r in main if r.to.prefixlen == 0 and r.via is not None)
        result["lines"] = route_n_rows(ns.tables.main, names=(fmt == "route-names"), gateways=gateways)
    for lk in result["lookups"]:
        lk["line"] = route_get_line(lk)
        r = ns.tables.lookup(ipaddress.ip_address(lk["ip"]))
        lk["matched"] = r.ip_route(with_table=True) if r is not None else None
    return result
