"""The packet walker: one packet, hop by hop, as the kernel would move it.

In each namespace the packet takes Linux's path through netfilter and the
routing decision (PREROUTING, routing, INPUT or FORWARD, POSTROUTING; or
routing, OUTPUT, POSTROUTING for what the namespace sends itself), then ARP
and a switch or bridge carry it to the next namespace. Conntrack remembers
every connection so that the reply is recognised and its NAT undone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model.topology import IPAddress
from .netfilter import MatchContext, Verdict, chance, kube_proxy_reason
from .network import NetNS, Network
from .packet import Packet
from .routing import REJECT_TYPES, KernelRoute, select_source

MAX_HOPS = 256


def hash_flow(pkt: Packet) -> int:
    import zlib

    return zlib.crc32(pkt.flow_key().encode())
REPLY_PROTOCOLS = ("tcp", "icmp", "sctp")


@dataclass
class Hop:
    """One place the packet passed: a namespace, or the switch or bridge between two."""

    node: str
    kind: str
    in_: str | None
    out: str | None
    decision: str
    packet: Packet
    rules: list[str] = field(default_factory=list)
    rewrites: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    encapsulated: Packet | None = None  # the inner packet, when this hop carries a VXLAN outer packet

    def to_dict(self) -> dict:
        return {
            "encapsulated": self.encapsulated.to_dict() if self.encapsulated is not None else None,
            "node": self.node,
            "kind": self.kind,
            "in": self.in_,
            "out": self.out,
            "decision": self.decision,
            "rules": list(self.rules),
            "rewrites": list(self.rewrites),
            "notes": list(self.notes),
            "packet": self.packet.to_dict(),
        }


@dataclass
class Trace:
    """A packet's journey and its verdict; ``reply`` is the answer's journey back."""

    verdict: str  # delivered or dropped
    reason: str | None
    hops: list[Hop]
    packet: Packet  # as it was sent
    source: str
    delivered_to: str | None = None
    reply: Trace | None = None
    dns: DnsStep | None = None  # when the destination was a name: how the pod's resolver found the address

    @property
    def delivered(self) -> bool:
        return self.verdict == "delivered"

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "source": self.source,
            "delivered_to": self.delivered_to,
            "packet": self.packet.to_dict(),
            "hops": [h.to_dict() for h in self.hops],
            "reply": self.reply.to_dict() if self.reply is not None else None,
            "dns": self.dns.to_dict() if self.dns is not None else None,
        }


@dataclass
class DnsStep:
    """A name resolved before the connection: the resolver's tries (``tui.dns.resolver.Resolution``) and
    the walk of the query it kept, from the pod to its nameserver and back (``exchange``)."""

    name: str
    qtype: str
    tries: list[tuple[str, str, list[str]]]  # (name asked, rcode, answer records as zone-file lines)
    kept: int | None
    address: IPAddress | None  # what the connection goes to; None: the name did not resolve
    why: str  # when it did not resolve: why, and what would make it resolve
    resolv_conf: str
    exchange: Trace | None = None

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "qtype": self.qtype,
            "tries": [{"qname": q, "rcode": rc, "answer": list(ans)} for q, rc, ans in self.tries],
            "kept": self.kept,
            "address": str(self.address) if self.address is not None else None,
            "why": self.why,
            "resolv_conf": self.resolv_conf,
            "exchange": self.exchange.to_dict() if self.exchange is not None else None,
        }


@dataclass
class _Conn:
    orig: tuple  # the tuple as the connection's first packet entered
    reply: tuple  # the tuple its replies carry
    nat: list[str]


class _Drop(Exception):
    def __init__(self, reason: str):
        self.reason = reason


def _rule_line(table: str, chain: str, v: Verdict) -> list[str]:
    lines = [f"{table} {r.text}" for r in v.matched]
    if v.policy is not None and v.policy != "ACCEPT":
        lines.append(f"{table} -P {chain} {v.policy}")
    return lines


class Walker:
    """Walks packets through a compiled :class:`Network`, keeping conntrack between walks."""

    def __init__(self, net: Network, endpoint: str | None = None) -> None:
        self.net = net
        self.endpoint = endpoint  # a Service endpoint to pick instead of the seeded choice
        self.conntrack: dict[str, list[_Conn]] = {}
        self.recent: dict[str, dict] = {}  # per namespace: iptables -m recent lists (session affinity), kept between walks

    # -- public -----------------------------------------------------------
    def trace(self, source: str, pkt: Packet, reply: bool = True, answered: bool = False) -> Trace:
        """Send ``pkt`` from namespace ``source``; follow the reply back if there is one (for UDP only
        when ``answered``: a request such as a DNS query that the server answers)."""
        fwd = self._walk(source, pkt)
        from .policy import enforce

        enforce(self.net, fwd)  # the cluster's NetworkPolicies, on the connection as the pods see it
        if reply and fwd.delivered and (pkt.proto in REPLY_PROTOCOLS or answered) and fwd.delivered_to:
            final = fwd.hops[-1].packet
            answer = Packet(final.proto, final.dst, final.src, final.dport, final.sport)
            fwd.reply = self._walk(fwd.delivered_to, answer)
        return fwd

    # -- conntrack --------------------------------------------------------
    def _ct_find(self, ns: str, pkt: Packet) -> _Conn | None:
        t = pkt.tuple()
        for c in self.conntrack.get(ns, ()):
            if c.reply == t:
                return c
        return None

    def _ct_add(self, ns: str, orig: Packet, final: Packet, nat: list[str]) -> None:
        entry = _Conn(orig.tuple(), final.reversed().tuple(), nat)
        self.conntrack.setdefault(ns, []).append(entry)

    # -- the walk -----------------------------------------------------------
    def _walk(self, start: str, pkt: Packet) -> Trace:
        hops: list[Hop] = []
        sent = pkt
        ns_name, in_dev = start, None
        try:
            for _ in range(MAX_HOPS):
                ns = self.net.namespaces[ns_name]
                result = self._namespace(ns, in_dev, pkt, hops)
                if result is None:  # delivered here
                    return Trace("delivered", None, hops, sent if sent.src else hops[0].packet, start, ns_name)
                ns_name, in_dev, pkt = result
            raise _Drop("too many hops (a forwarding loop?)")
        except _Drop as d:
            first = hops[0].packet if hops else sent
            return Trace("dropped", d.reason, hops, sent if sent.src else first, start)

    def _ctx(self, ns: NetNS, in_dev, out_dev, state: str) -> MatchContext:
        return MatchContext(in_dev, out_dev, state, ns.tables.is_local, self.net.seed, self.endpoint,
                            recent=self.recent.setdefault(ns.name, {}))

    def _namespace(self, ns: NetNS, in_dev: str | None, pkt: Packet, hops: list[Hop]):
        """Process ``pkt`` in one namespace. None when delivered, else (next ns, its device, packet)."""
        if in_dev is not None and pkt.mark:
            pkt = pkt.with_(mark=0)  # the skb mark is the sending host's; it does not travel on the wire
        hop = Hop(ns.name, ns.kind, in_dev, None, "", pkt)
        hops.append(hop)
        conn = self._ct_find(ns.name, pkt)
        state = "ESTABLISHED" if conn else "NEW"
        nat_notes: list[str] = []
        orig = pkt
        if in_dev is not None:
            # PREROUTING: conntrack undoes SNAT for replies; nat rules DNAT new connections.
            if conn is not None:
                osrc = conn.orig
                if (pkt.dst, pkt.dport) != (osrc[1], osrc[2]):
                    hop.rewrites.append(f"dst {pkt.endpoint('dst')} -> {_ep(pkt.proto, osrc[1], osrc[2])} (conntrack: reply of a NATed connection)")
                    pkt = pkt.with_(dst=osrc[1], dport=osrc[2])
            else:
                if self.net.bpf_lb is not None and ns.name in self._cilium_nodes():
                    pkt = self._bpf_nodeport(ns, in_dev, pkt, hop, nat_notes)
                if ns.netfilter:
                    pkt = self._dnat(ns, "PREROUTING", pkt, self._ctx(ns, in_dev, None, state), hop, nat_notes)
            local = ns.tables.local.lookup(pkt.dst)
            if local is not None and local.type in ("local", "broadcast"):
                self._filter(ns, "INPUT", pkt, self._ctx(ns, in_dev, None, state), hop)
                hop.decision = local.ip_route(with_table=True)
                if conn is not None and (pkt.src, pkt.sport) != (conn.orig[3], conn.orig[4]):
                    o = conn.orig  # the reply of a connection this namespace DNATed itself (OUTPUT, or a socket LB)
                    why = ("Cilium's socket LB: the application sees the Service as the peer" if "socket-lb" in conn.nat
                           else "conntrack at local delivery: reply of a NATed connection")
                    hop.rewrites.append(f"src {pkt.endpoint('src')} -> {_ep(pkt.proto, o[3], o[4])} ({why})")
                    pkt = pkt.with_(src=o[3], sport=o[4])
                hop.packet = pkt
                hop.notes.append(f"{pkt.dst} is an address of {ns.name}: delivered to its own stack")
                self._listening(ns, pkt, conn)
                if conn is None:
                    self._ct_add(ns.name, orig, pkt, nat_notes)
                return None
            if not ns.forwarding:
                hop.decision = f"{pkt.dst} is not an address of {ns.name}"
                raise _Drop(f"forwarding disabled: {ns.name} is not a router (net.ipv4.ip_forward = 0) and {pkt.dst} is not its address")
            route = self._route(ns, ns.tables.main.lookup(pkt.dst), pkt, hop)
            hop.decision = route.ip_route()
            hop.out = route.dev
            if pkt.ttl <= 1:
                raise _Drop(f"TTL exceeded in {ns.name} (ICMP time exceeded sent to {pkt.src})")
            if route.dev == in_dev:
                hop.notes.append(f"hairpin: routed back out {in_dev}, the device it arrived on"
                                 + (" (a pod reaching itself through its Service: kube-proxy masquerades it, KUBE-SEP's -s rule, "
                                    "so that the reply comes back through the node)" if conn is None and pkt.dst == orig.src else ""))
            pkt = pkt.with_(ttl=pkt.ttl - 1)  # ip_forward() decrements before the FORWARD hook
            hop.packet = pkt
            self._filter(ns, "FORWARD", pkt, self._ctx(ns, in_dev, route.dev, state), hop)
        else:
            route = self._route(ns, ns.tables.lookup(pkt.dst), pkt, hop)
            if pkt.src is None:
                src = select_source(ns.tables, route, pkt.dst, ns.addresses())
                if src is None:
                    raise _Drop(f"{ns.name} has no address to send from")
                pkt = pkt.with_(src=src)
                orig = pkt
            before = pkt.dst
            if conn is None and self.net.bpf_lb is not None and ns.host in self._cilium_nodes():
                pkt = self._socket_lb(ns, pkt, hop, nat_notes)
            if conn is None and ns.netfilter:
                pkt = self._dnat(ns, "OUTPUT", pkt, self._ctx(ns, None, route.dev, state), hop, nat_notes)
            if pkt.dst != before:
                route = self._route(ns, ns.tables.lookup(pkt.dst), pkt, hop)
            hop.decision = route.ip_route() if route.type != "local" else route.ip_route(with_table=True)
            hop.out, hop.packet = (route.dev if route.type != "local" else "lo"), pkt
            self._filter(ns, "OUTPUT", pkt, self._ctx(ns, None, route.dev, state), hop)
            if route.type == "local":
                hop.out = "lo"
                hop.packet = pkt
                hop.notes.append(f"{pkt.dst} is an address of {ns.name}: looped back through lo")
                if conn is None:
                    self._ct_add(ns.name, orig, pkt, nat_notes)
                return None
        # POSTROUTING: conntrack undoes DNAT for replies; nat rules SNAT/MASQUERADE new connections.
        out = ns.devices[route.dev]
        if conn is not None:
            o = conn.orig
            if (pkt.src, pkt.sport) != (o[3], o[4]):
                hop.rewrites.append(f"src {pkt.endpoint('src')} -> {_ep(pkt.proto, o[3], o[4])} (conntrack: reply of a NATed connection)")
                pkt = pkt.with_(src=o[3], sport=o[4])
        elif ns.netfilter:
            pkt = self._snat(ns, pkt, self._ctx(ns, in_dev, route.dev, state), route, hop, nat_notes)
        hop.out = route.dev
        if out.segment is None:
            hop.packet = pkt
            raise _Drop(f"{route.dev} of {ns.name} is not connected to any network")
        nexthop = route.via if route.via is not None and route.uses_gateway else pkt.dst
        if out.kind == "ipip":
            hop.packet = pkt
            if conn is None:
                self._ct_add(ns.name, orig, pkt, nat_notes)
            return self._ipip(ns, out, nexthop, pkt, hops)
        owner = self.net.arp(out.segment, nexthop)
        if owner is None:
            hop.packet = pkt.with_(src_mac=out.mac)
            raise _Drop(f"host unreachable: no ARP reply for {nexthop} on {out.segment} (no device there has that address)")
        peer = self.net.device(*owner)
        pkt = pkt.with_(src_mac=out.mac, dst_mac=peer.mac)
        hop.packet = pkt
        proxy = " (proxy ARP: the host end of the veth answers for the gateway)" if peer.proxy_arp and nexthop not in {
            a.ip for a in peer.addresses} else ""
        hop.notes.append(f"{'neighbour entry' if out.vxlan else 'ARP'}: {nexthop} is at {peer.mac} ({owner[0]} {owner[1]}){proxy}")
        if conn is None:
            self._ct_add(ns.name, orig, pkt, nat_notes)
        if out.vxlan is not None:
            self._vxlan(ns, out, owner, pkt, hops)
            return owner[0], owner[1], pkt
        pkt = self._l2(ns, out, owner, pkt, hops, state)
        return owner[0], owner[1], pkt

    def _listening(self, ns: NetNS, pkt: Packet, conn) -> None:
        """A new connection to a port nobody listens on (of a pod whose containers declare their ports)."""
        ports = self.net.listeners.get(ns.name)
        if conn is not None or ports is None or pkt.proto not in ("tcp", "udp", "sctp") or (pkt.proto, pkt.dport) in ports:
            return
        declared = ", ".join(f"{p}/{proto.upper()}" for proto, p in sorted(ports, key=lambda x: (x[1], x[0])))
        answer = "a TCP RST" if pkt.proto == "tcp" else "ICMP port unreachable" if pkt.proto == "udp" else "an SCTP ABORT"
        raise _Drop(f"port closed: nothing listens on {pkt.proto.upper()} port {pkt.dport} in {ns.name} "
                    f"(its containers declare {declared}); the kernel answers with {answer}")

    def _vxlan(self, ns: NetNS, out, owner: tuple[str, str], inner: Packet, hops: list[Hop]) -> None:
        """Carry a frame over a VXLAN device: inside UDP from this node to the peer's, then unwrapped there."""
        vni, port = out.vxlan
        remote = self.net.namespaces[owner[0]]
        local_ip = ns.primary_address(4)
        remote_ip = remote.primary_address(4)
        if local_ip is None or remote_ip is None:
            raise _Drop(f"VXLAN: no underlay address for the tunnel from {ns.name} to {remote.name}")
        sport = 32768 + (hash_flow(inner) % 28232)  # the kernel hashes the inner flow into the source port
        outer = Packet("udp", local_ip, remote_ip, sport, port)
        hops[-1].notes.append(f"VXLAN encapsulation on {out.name} (VNI {vni}): FDB {inner.dst_mac} dst {remote_ip}; "
                              f"outer UDP {local_ip}:{sport} -> {remote_ip}:{port} carries the inner packet")
        self._carry(ns, outer, inner, remote, hops, "VXLAN")
        hops[-1].notes.append(f"VXLAN decapsulation: UDP port {port} on {remote.name} unwraps the inner packet onto {owner[1]}")

    def _ipip(self, ns: NetNS, out, nexthop: IPAddress, inner: Packet, hops: list[Hop]):
        """IP-in-IP (Calico's tunl0): the packet leaves inside an outer IP header (protocol 4) addressed to
        the route's gateway, the far node's underlay address, which unwraps it on its own tunl0."""
        owners = [o for o in self.net.owners(nexthop) if any(d.kind == "ipip" for d in self.net.namespaces[o].devices.values())]
        if not owners:
            raise _Drop(f"IPIP: no node with a tunl0 device owns the tunnel endpoint {nexthop}")
        remote = self.net.namespaces[owners[0]]
        tun = next(d for d in remote.devices.values() if d.kind == "ipip")
        local_ip = ns.primary_address(4)
        if local_ip is None:
            raise _Drop(f"IPIP: {ns.name} has no underlay address")
        outer = Packet("ipip", local_ip, nexthop, ttl=inner.ttl)
        hops[-1].notes.append(f"IPIP encapsulation on {out.name}: outer IP {local_ip} -> {nexthop} (protocol 4) carries the inner packet")
        self._carry(ns, outer, inner, remote, hops, "IPIP")
        hops[-1].notes.append(f"IPIP decapsulation: {remote.name} unwraps the inner packet onto {tun.name}")
        return remote.name, tun.name, inner

    def _carry(self, ns: NetNS, outer: Packet, inner: Packet, remote: NetNS, hops: list[Hop], what: str) -> None:
        """Walk a tunnel's outer packet over the underlay to the far end, marking its hops."""
        sub = Walker(self.net, self.endpoint)
        sub.conntrack = self.conntrack
        sub.recent = self.recent
        carried = sub._walk(ns.name, outer)
        for h in carried.hops:
            h.encapsulated = inner
            if h is carried.hops[0]:
                h.notes.insert(0, f"outer packet ({what} over the underlay)")
        hops += carried.hops
        if not carried.delivered or carried.delivered_to != remote.name:
            raise _Drop(f"{what}: the outer packet to {outer.dst} did not reach {remote.name}: {carried.reason or 'delivered elsewhere'}")

    # -- eBPF service translation (Cilium without kube-proxy) -------------------------
    def _bpf_pick(self, service: str, backends: list, pkt: Packet) -> tuple[int, object]:
        if self.endpoint is not None:
            for i, b in enumerate(backends):
                if str(b) == self.endpoint:
                    return i, b
        i = min(int(chance(self.net.seed, service, pkt) * len(backends)), len(backends) - 1)
        return i, backends[i]

    def _socket_lb(self, ns: NetNS, pkt: Packet, hop: Hop, notes: list[str]) -> Packet:
        """connect() to a Service address is translated in the socket layer: the packet never carries the VIP."""
        entry = self.net.bpf_lb.get("services", {}).get((pkt.proto, pkt.dst, pkt.dport))
        if entry is None:
            return pkt
        service, backends = entry
        if not backends:
            hop.notes.append(f"Cilium socket LB: {pkt.endpoint('dst')} is Service {service}, which has no backend")
            raise _Drop(f"no endpoints: Service {service} has no backend; Cilium's socket LB refuses the connect() (ECONNREFUSED)")
        i, b = self._bpf_pick(service, backends, pkt)
        new = pkt.with_(dst=b.ip, dport=b.port)
        hop.rules.append(f"bpf lb{pkt.dst.version}_services {pkt.endpoint('dst')}/{pkt.proto.upper()} -> {len(backends)} backend"
                         f"{'s' if len(backends) != 1 else ''} (Service {service})")
        hop.notes.append(f"Cilium socket LB (cgroup connect hook, no kube-proxy): backend {i + 1} of {len(backends)} chosen, {b}")
        hop.rewrites.append(f"dst {pkt.endpoint('dst')} -> {new.endpoint('dst')} (eBPF socket LB)")
        notes.append("socket-lb")
        return new

    def _cilium_nodes(self) -> set[str]:
        """Where Cilium's programs run: the cluster's nodes (their pods' sockets and their devices), not
        the hosts around them (the internet, a router)."""
        return set(self.net.cluster.nodes) if self.net.cluster is not None else set()

    def _bpf_nodeport(self, ns: NetNS, in_dev: str, pkt: Packet, hop: Hop, notes: list[str]) -> Packet:
        """A NodePort reaching a node: bpf_host on the device translates it, and SNATs to the node when the
        backend is on another node (Cilium's default SNAT mode) so that the reply comes back through it."""
        if not ns.tables.is_local(pkt.dst):
            return pkt
        entry = self.net.bpf_lb.get("nodeports", {}).get((pkt.proto, pkt.dport))
        if entry is None:
            return pkt
        service, backends, local_only = entry
        backends = [b for b in backends if b.ip.version == pkt.dst.version]  # lb4 or lb6: the family it came in
        if local_only:  # externalTrafficPolicy: Local: only this node's backends, and the client's address kept
            backends = [b for b in backends if b.node == ns.name]
        if not backends:
            why = "no backend on this node (externalTrafficPolicy: Local)" if local_only else "no backend"
            raise _Drop(f"no endpoints: Service {service} has {why}; Cilium's bpf_host drops the NodePort packet (Service backend not found)")
        i, b = self._bpf_pick(service, backends, pkt)
        new = pkt.with_(dst=b.ip, dport=b.port)
        hop.rules.append(f"bpf lb{pkt.dst.version}_services *:{pkt.dport}/{pkt.proto.upper()} NodePort -> {len(backends)} backends "
                         f"(Service {service})")
        hop.notes.append(f"Cilium bpf_host on {in_dev} (no kube-proxy): NodePort backend {i + 1} of {len(backends)} chosen, {b}")
        hop.rewrites.append(f"dst {pkt.endpoint('dst')} -> {new.endpoint('dst')} (eBPF NodePort DNAT)")
        notes.append("DNAT")
        local = self.net.namespaces[ns.name].tables.lookup(b.ip)
        if not local_only and local is not None and local.dev is not None and ns.devices.get(local.dev) is not None \
                and ns.devices[local.dev].peer is None:
            snat = new.with_(src=ns.primary_address(pkt.dst.version))
            hop.rewrites.append(f"src {new.endpoint('src')} -> {snat.endpoint('src')} (eBPF NodePort SNAT: the backend is on another node)")
            notes.append("SNAT")
            return snat
        return new

    def _route(self, ns: NetNS, route: KernelRoute | None, pkt: Packet, hop: Hop) -> KernelRoute:
        if route is None:
            hop.decision = f"no route matches {pkt.dst}"
            raise _Drop(f"no route to {pkt.dst} in {ns.name} (Network is unreachable)")
        if route.type in REJECT_TYPES:
            hop.decision = route.ip_route()
            why = {"blackhole": "silently discarded", "unreachable": "No route to host", "prohibit": "Permission denied"}[route.type]
            raise _Drop(f"{route.type} route in {ns.name}: {why}")
        return route

    def _filter(self, ns: NetNS, chain: str, pkt: Packet, ctx: MatchContext, hop: Hop) -> None:
        if not ns.netfilter:
            return
        v = ns.netfilter.run("filter", chain, pkt, ctx)
        hop.rules += _rule_line("filter", chain, v)
        if v.target in ("DROP", "REJECT"):
            why = kube_proxy_reason(v.rule, ns.name)
            if why is not None:
                raise _Drop(why)
            what = f"rule {v.rule.text}" if v.rule else f"the {chain} chain's policy DROP"
            raise _Drop(f"{'rejected' if v.target == 'REJECT' else 'dropped'} by iptables in {ns.name}: {what}")

    def _dnat(self, ns: NetNS, chain: str, pkt: Packet, ctx: MatchContext, hop: Hop, notes: list[str]) -> Packet:
        v = ns.netfilter.run("nat", chain, pkt, ctx)
        hop.rules += _rule_line("nat", chain, v)
        pkt = pkt.with_(mark=v.packet_mark)
        if v.target == "DNAT" and v.rule is not None:
            new = pkt.with_(dst=v.rule.to_addr or pkt.dst, dport=v.rule.to_port or pkt.dport)
            hop.rewrites.append(f"dst {pkt.endpoint('dst')} -> {new.endpoint('dst')} (DNAT)")
            notes.append("DNAT")
            return new
        return pkt

    def _snat(self, ns: NetNS, pkt: Packet, ctx: MatchContext, route: KernelRoute, hop: Hop, notes: list[str]) -> Packet:
        v = ns.netfilter.run("nat", "POSTROUTING", pkt, ctx)
        hop.rules += _rule_line("nat", "POSTROUTING", v)
        if v.target == "MASQUERADE":
            src = select_source(ns.tables, route, pkt.dst, ns.addresses())
            new = pkt.with_(src=src, sport=v.rule.to_port if v.rule and v.rule.to_port else pkt.sport)
        elif v.target == "SNAT" and v.rule is not None:
            new = pkt.with_(src=v.rule.to_addr or pkt.src, sport=v.rule.to_port or pkt.sport)
        else:
            return pkt
        if (new.src, new.sport) != (pkt.src, pkt.sport):
            hop.rewrites.append(f"src {pkt.endpoint('src')} -> {new.endpoint('src')} ({v.target})")
            notes.append(v.target)
        return new

    def _l2(self, ns: NetNS, out, owner: tuple[str, str], pkt: Packet, hops: list[Hop], state: str) -> Packet:
        """The switch or bridge between two namespaces, as a hop of its own."""
        seg = self.net.segments[out.segment]
        if seg.kind == "veth":  # a routed veth pair: the frame is simply on the other end
            return pkt
        to_dev = self.net.device(*owner)
        in_port = _port(self.net, ns.name, out)
        out_port = _port(self.net, owner[0], to_dev)
        hop = Hop(seg.name, seg.kind, in_port, out_port, f"{pkt.dst_mac} is on port {out_port}", pkt)
        hops.append(hop)
        if seg.kind == "bridge" and seg.host is not None:
            host = self.net.namespaces[seg.host]
            bridged = owner[0] != seg.host and ns.name != seg.host
            if bridged and host.bridge_netfilter and host.netfilter:
                br = seg.name.split("/", 1)[1]
                hop.notes.append("br_netfilter: a bridged IPv4 frame passes the host's iptables FORWARD chain" if pkt.dst.version == 4
                                 else "br_netfilter: a bridged IPv6 frame passes the host's ip6tables FORWARD chain")
                conn = self._ct_find(host.name, pkt)
                self._filter(host, "FORWARD", pkt, self._ctx(host, br, br, "ESTABLISHED" if conn else state), hop)
                if conn is not None:  # the reply of a connection the host NATed: conntrack undoes it on the bridge too
                    o = conn.orig
                    new = pkt.with_(src=o[3], sport=o[4], dst=o[1], dport=o[2])
                    if new.tuple() != pkt.tuple():
                        for side in ("src", "dst"):
                            if pkt.endpoint(side) != new.endpoint(side):
                                hop.rewrites.append(f"{side} {pkt.endpoint(side)} -> {new.endpoint(side)} "
                                                    "(conntrack on the bridge: reply of a NATed connection)")
                        pkt = new
                        hop.packet = pkt
        return pkt


def _port(net: Network, ns: str, dev) -> str:
    """How a switch or bridge names the port a device is plugged into."""
    if dev.peer is not None and dev.kind == "veth":
        return f"{dev.peer[1]} ({ns} {dev.name})"
    return f"{ns} {dev.name}"


def _ep(proto: str, addr: IPAddress, port: int | None) -> str:
    if port is None or proto == "icmp":
        return str(addr)
    return f"[{addr}]:{port}" if addr.version == 6 else f"{addr}:{port}"
