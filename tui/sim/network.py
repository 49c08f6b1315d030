"""Compile a description into a network: namespaces, interfaces, links, segments.

The result keeps a :mod:`networkx` graph (``ns:``, ``if:`` and ``seg:`` nodes
joined by ``has``, ``port`` and ``veth`` edges) and the indexes the packet
walker needs: each namespace's routing tables and iptables, and an ARP view
of every L2 segment. Docker's bridge and containers, like every later
Kubernetes object, are expanded here into plain Linux objects.

A big cluster's nodes are compiled when first asked for; the mapping and
indexes that make that possible are in :mod:`tui.sim.lazy`.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ..model.source import NOWHERE, Mark
from ..model.topology import Host, Interface, IPAddress, IPInterface, Policy, Route, Rule, Topology
from .gcpause import paused_gc
from .lazy import Lazy, Namespaces, _defer, _Listeners
from .netfilter import Netfilter
from .routing import RouteProblem, Tables, build_tables


def mac_for(ns: str, dev: str) -> str:
    """A stable, locally administered MAC address for a device."""
    h = hashlib.blake2b(f"{ns}/{dev}".encode(), digest_size=5).digest()
    return "02:" + ":".join(f"{b:02x}" for b in h)


@dataclass
class Device:
    """A compiled network device."""

    ns: str
    name: str
    kind: str  # ethernet, veth, bridge, loopback
    addresses: tuple[IPInterface, ...] = ()
    mac: str = ""
    segment: str | None = None  # the L2 segment it sends into
    peer: tuple[str, str] | None = None  # the other end of a veth pair
    master: str | None = None  # the bridge a port belongs to
    metric: int = 0  # the metric of its connected routes
    vxlan: tuple[int, int] | None = None  # (VNI, UDP port): frames leave inside UDP to the peer's node
    mark: Mark = NOWHERE
    proxy_arp: bool = False  # answers ARP for addresses its namespace routes elsewhere (a routed veth's host end)


@dataclass
class NetNS:
    """A network namespace: a host's root namespace, a container's or a named one."""

    name: str
    kind: str  # host, container, netns
    host: str  # the machine it lives on
    devices: dict[str, Device]
    tables: Tables
    forwarding: bool
    netfilter: Netfilter
    bridge_netfilter: bool = False  # br_netfilter: bridged frames pass iptables FORWARD
    mark: Mark = NOWHERE

    def addresses(self) -> dict[str, tuple[IPInterface, ...]]:
        return {d.name: d.addresses for d in self.devices.values()}

    def primary_address(self, version: int = 4) -> IPAddress | None:
        for d in self.devices.values():
            if d.kind == "loopback":
                continue
            for a in d.addresses:
                if a.version == version:
                    return a.ip
        return None


@dataclass
class Segment:
    """One L2 broadcast domain: a switch (a topology network) or a host bridge."""

    name: str
    kind: str  # switch or bridge
    host: str | None = None  # for a bridge, the machine it is in
    cidr: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    members: list[tuple[str, str]] = field(default_factory=list)  # (ns, dev) that receive frames


class GraphSpec:
    """The nodes and edges of the network graph, kept plain until someone asks for the graph."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict] = {}
        self.edges: list[tuple[str, str, dict]] = []

    def add_node(self, node: str, /, **attrs) -> None:
        self.nodes[node] = attrs

    def add_edge(self, a: str, b: str, /, **attrs) -> None:
        self.edges.append((a, b, attrs))

    def build(self):
        import networkx as nx  # imported only when a graph is wanted: it costs ~80 ms at start-up

        g = nx.Graph()
        g.add_nodes_from(self.nodes.items())
        g.add_edges_from(self.edges)
        return g


@dataclass
class Network:
    """The compiled network: every namespace, device and segment, and the graph."""

    topology: Topology
    namespaces: Namespaces
    segments: dict[str, Segment]
    spec: GraphSpec
    route_problems: list[tuple[str, RouteProblem]]
    seed: int = 0
    cluster: object = None  # the Kubernetes cluster compiled in (tui.k8s.cluster.Cluster), if any
    bpf_lb: dict | None = None  # Cilium's eBPF service map (tui.k8s.cilium.service_map) when it replaces kube-proxy
    listeners: Mapping = field(default_factory=dict)  # namespace -> {(proto, port)} where that is known (pods' containerPorts)
    lazy: Lazy = field(default_factory=Lazy, repr=False)  # the nodes not compiled yet
    described: object = field(default=None, repr=False)  # the description compiled (``topology`` is it with the cluster added)
    _graph: object = field(default=None, repr=False)
    _zone: object = field(default=None, repr=False)

    def dns_zone(self):
        """The cluster's DNS as CoreDNS serves it (:class:`tui.dns.zone.Zone`), built once, from the same
        cluster as the data path; None without a cluster. Raises DnsConfigError for a Corefile CoreDNS refuses."""
        if self.cluster is None:
            return None
        if self._zone is None:
            from ..dns.zone import build  # only what asks a name pays for the DNS

            with paused_gc():  # (a big cluster's zone: a million long-lived objects, no cyclic garbage)
                self._zone = build(self.cluster.topology, self.cluster)
        return self._zone

    @property
    def graph(self):
        """A :mod:`networkx` graph: ``ns:``, ``if:`` and ``seg:`` nodes; ``has``, ``port``, ``veth`` and ``bridge-port`` edges."""
        if self._graph is None:
            self._graph = self.spec.build()
        return self._graph

    def l2_neighbours(self, ns: str) -> set[str]:
        """Namespaces one L2 segment away from ``ns`` (through a switch or a bridge)."""
        import networkx as nx

        g = self.graph
        out = set()
        for seg in (n for n in nx.descendants_at_distance(g, f"ns:{ns}", 2) if n.startswith("seg:")):
            for dev in g.neighbors(seg):
                for n in g.neighbors(dev):
                    if n.startswith("ns:") and n != f"ns:{ns}":
                        out.add(n[3:])
        return out

    def device(self, ns: str, dev: str) -> Device:
        return self.namespaces[ns].devices[dev]

    def compile_nodes(self, names=None) -> None:
        """Compile the cluster nodes not compiled yet (``names``, or all), then put each shared segment's
        members back in the order of the topology's hosts, as compiling everything at once would have them."""
        for name in [h.name for h in self.topology.hosts if h.name in self.lazy.hosts and (names is None or h.name in names)]:
            self.namespaces[name]
        built = self.namespaces.built()
        position = {h.name: i for i, h in enumerate(self.topology.hosts)}
        for seg in self.segments.values():
            if seg.host is None:
                seg.members.sort(key=lambda m: position.get(built[m[0]].host, len(position)))

    def host(self, name: str) -> Host | None:
        """A host's description as compiled (a cluster node's whole: its pods' namespaces, routes and rules),
        compiling it first if it was not yet."""
        if name in self.lazy.hosts:
            self.namespaces[name]
        full = self.lazy.full.get(name)
        return full if full is not None else self.topology.host(name)

    def _wake_arp(self, segment: str, ip: IPAddress) -> None:
        """Compile the nodes not compiled yet that would answer an ARP request for ``ip`` on ``segment``."""
        lazy = self.lazy
        if not lazy.hosts:
            return
        strong = lazy.arp.get(segment, {}).get(ip)
        if strong is not None and strong[0] in lazy.hosts:
            self.namespaces[strong[0]]
            return
        for node, seg, _dev in lazy.local.get(ip, ()):
            if seg == segment and node in lazy.hosts:
                self.namespaces[node]

    def arp(self, segment: str, ip: IPAddress) -> tuple[str, str] | None:
        """Who answers an ARP request for ``ip`` on ``segment``: ``(ns, dev)`` or None.

        The owner of the address answers; failing that, any namespace on the
        segment that holds the address on another device (Linux answers ARP
        for all its addresses on every interface, ``arp_ignore=0``).
        """
        self._wake_arp(segment, ip)
        seg = self.segments[segment]
        weak = None
        for ns_name, dev in seg.members:
            d = self.namespaces[ns_name].devices[dev]
            if any(a.ip == ip for a in d.addresses):
                return ns_name, dev
            if weak is None and self.namespaces[ns_name].tables.is_local(ip) and not ip.is_loopback:
                weak = (ns_name, dev)
        if weak is None:  # proxy ARP: a device that would route the address out of another device answers
            for ns_name, dev in seg.members:
                d = self.namespaces[ns_name].devices[dev]
                if d.proxy_arp:
                    r = self.namespaces[ns_name].tables.lookup(ip)
                    if r is not None and r.dev is not None and r.dev != dev:
                        return ns_name, dev
        return weak

    def owners(self, ip: IPAddress) -> list[str]:
        """Namespaces that hold ``ip`` on a device."""
        for name in self.lazy.owners.get(ip, ()):
            self.namespaces[name]  # (compiles its node)
        return [n.name for n in self.namespaces.built().values() if ip in n.tables.addresses and not ip.is_loopback]


DOCKER_CHAINS = (
    "-t filter -N DOCKER",
    "-t nat -N DOCKER",
    "-t filter -P FORWARD DROP",
    "-t filter -A FORWARD -o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    "-t filter -A FORWARD -o {br} -j DOCKER",
    "-t filter -A FORWARD -i {br} ! -o {br} -j ACCEPT",
    "-t filter -A FORWARD -i {br} -o {br} -j ACCEPT",
    "-t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
    "-t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER",
    "-t nat -A POSTROUTING -s {cidr} ! -o {br} -j MASQUERADE",
    "-t nat -A DOCKER -i {br} -j RETURN",
)
# What `docker run -p HOST:CONTAINER/PROTO` adds for a container at {ip}.
DOCKER_PUBLISH = (
    "-t nat -A POSTROUTING -s {ip}/32 -d {ip}/32 -p {proto} -m {proto} --dport {cport} -j MASQUERADE",
    "-t nat -A DOCKER ! -i {br} -p {proto} -m {proto} --dport {hport} -j DNAT --to-destination {ip}:{cport}",
    "-t filter -A DOCKER -d {ip}/32 ! -i {br} -o {br} -p {proto} -m {proto} --dport {cport} -j ACCEPT",
)


def docker_rules(host: Host) -> tuple[list[Rule], list[Policy]]:
    """The iptables rules Docker installs for its default bridge."""
    from ..load.iptables import parse_rule

    rules: list[Rule] = []
    policies: list[Policy] = []
    assert host.docker is not None
    lines = [(line.format(br=host.docker.bridge, cidr=host.docker.cidr), host.docker.mark) for line in DOCKER_CHAINS]
    for c in host.containers:
        for hport, cport, proto in c.ports:
            lines += [(line.format(br=host.docker.bridge, ip=c.address.ip, proto=proto, hport=hport, cport=cport), c.mark) for line in DOCKER_PUBLISH]
    for line, mark in lines:
        parsed = parse_rule(line, mark)
        if isinstance(parsed, Policy):
            policies.append(parsed)
        elif parsed is not None:
            rules.append(parsed)
    return rules, policies


def veth_name(ns: str, dev: str) -> str:
    """The host end of a veth pair, named as Docker and CNI plugins do: veth + 7 hex digits."""
    return "veth" + hashlib.blake2b(f"{ns}/{dev}".encode(), digest_size=4).hexdigest()[:7]


class _Builder:
    def __init__(self, topo: Topology, seed: int) -> None:
        self.topo = topo
        self.seed = seed
        self.g = GraphSpec()
        self.namespaces: dict[str, NetNS] = {}
        self.segments: dict[str, Segment] = {}
        self.problems: list[tuple[str, RouteProblem]] = []

    def segment(self, name: str, kind: str, host: str | None = None, cidr=None) -> Segment:
        if name not in self.segments:
            self.segments[name] = Segment(name, kind, host, cidr)
            self.g.add_node(f"seg:{name}", kind=kind, name=name)
        return self.segments[name]

    def namespace(self, name: str, kind: str, host: str, devices: list[Device], routes: tuple[Route, ...],
                  forwarding: bool, rules=(), policies=(), bridge_nf=False, mark: Mark = NOWHERE, generated=()) -> NetNS:
        devs = {"lo": Device(name, "lo", "loopback", (), "00:00:00:00:00:00")}
        for d in devices:
            devs[d.name] = d
        tables, problems = build_tables([(d.name, d.addresses, d.metric) for d in devices if d.kind != "loopback"], routes)
        self.problems += [(name, p) for p in problems]
        ns = NetNS(name, kind, host, devs, tables, forwarding, Netfilter(tuple(rules), tuple(policies), generated), bridge_nf, mark)
        self.namespaces[name] = ns
        self.g.add_node(f"ns:{name}", kind=kind, name=name, host=host)
        for d in devs.values():
            self.g.add_node(f"if:{name}/{d.name}", kind=d.kind, ns=name, name=d.name)
            self.g.add_edge(f"ns:{name}", f"if:{name}/{d.name}", kind="has")
            if d.segment is not None:
                self.segments[d.segment].members.append((name, d.name))
                self.g.add_edge(f"if:{name}/{d.name}", f"seg:{d.segment}", kind="port")
        return ns

    def interface(self, ns: str, i: Interface, host: str) -> list[Device]:
        """A description interface as devices: itself, and the host end when it is a veth."""
        if i.bridge is not None:
            seg = f"{host}/{i.bridge}"
            peer = i.peer or veth_name(ns, i.name)
            inside = Device(ns, i.name, "veth", i.addresses, i.mac or mac_for(ns, i.name), seg, (host, peer), metric=i.metric, mark=i.mark)
            outside = Device(host, peer, "veth", (), mac_for(host, peer), None, (ns, i.name), master=i.bridge, mark=i.mark)
            return [inside, outside]
        if i.peer is not None and i.network is None:  # a routed veth: a point-to-point link into the host
            seg = f"{host}/{i.peer}"
            self.segment(seg, "veth", host)
            inside = Device(ns, i.name, "veth", i.addresses, i.mac or mac_for(ns, i.name), seg, (host, i.peer), metric=i.metric, mark=i.mark)
            outside = Device(host, i.peer, "veth", (), mac_for(host, i.peer), seg, (ns, i.name), proxy_arp=True, mark=i.mark)
            return [inside, outside]
        kind = "vxlan" if i.vxlan else "ipip" if i.ipip else "ethernet"
        return [Device(ns, i.name, kind, i.addresses, i.mac or mac_for(ns, i.name), i.network, metric=i.metric, vxlan=i.vxlan, mark=i.mark)]

    def host(self, h: Host) -> None:
        for b in h.bridges:
            self.segment(f"{h.name}/{b.name}", "bridge", h.name)
        if h.docker is not None:
            self.segment(f"{h.name}/{h.docker.bridge}", "bridge", h.name, h.docker.cidr)
        host_devices: list[Device] = []
        for i in h.interfaces:
            host_devices += self.interface(h.name, i, h.name)
        for b in h.bridges:
            host_devices.append(Device(h.name, b.name, "bridge", b.addresses, mac_for(h.name, b.name), f"{h.name}/{b.name}", mark=b.mark))
        rules, policies = tuple(h.rules), tuple(h.policies)  # (no copy of a node's thousands of rules)
        forwarding, bridge_nf = h.forwarding, h.role == "node"  # Kubernetes needs bridge-nf-call-iptables=1
        if h.docker is not None:
            d = h.docker
            host_devices.append(Device(h.name, d.bridge, "bridge", (d.gateway,), mac_for(h.name, d.bridge), f"{h.name}/{d.bridge}", mark=d.mark))
            drules, dpols = docker_rules(h)
            rules = tuple(drules) + rules
            policies = tuple(dpols) + policies  # a user's own -P comes after dockerd's, and wins
            forwarding, bridge_nf = True, True  # dockerd sets ip_forward=1 and loads br_netfilter
        inner: list[tuple[str, str, list[Device], tuple[Route, ...], bool, Mark]] = []
        for n in h.namespaces:
            devs: list[Device] = []
            for i in n.interfaces:
                pair = self.interface(n.name, i, h.name)
                devs.append(pair[0])
                host_devices += pair[1:]
            inner.append((n.name, n.kind, devs, n.routes, n.forwarding, n.mark))
        for c in h.containers:
            assert h.docker is not None
            i = Interface("eth0", (c.address,), bridge=h.docker.bridge, mark=c.mark)
            pair = self.interface(c.name, i, h.name)
            host_devices += pair[1:]
            default = Route(ipaddress.IPv4Network("0.0.0.0/0"), h.docker.gateway.ip, "eth0", mark=c.mark)
            inner.append((c.name, "container", [pair[0]], (default,), False, c.mark))
        self.namespace(h.name, "host", h.name, host_devices, h.routes, forwarding, rules, policies, bridge_nf, h.mark, h.generated)
        for name, kind, devs, routes, fwd, mark in inner:
            self.namespace(name, kind, h.name, devs, routes, fwd, mark=mark)
        for ns_name in [h.name] + [x[0] for x in inner]:
            for d in self.namespaces[ns_name].devices.values():
                if d.peer is not None:
                    self.g.add_edge(f"if:{ns_name}/{d.name}", f"if:{d.peer[0]}/{d.peer[1]}", kind="veth")
                if d.master is not None:
                    self.g.add_edge(f"if:{ns_name}/{d.name}", f"seg:{h.name}/{d.master}", kind="bridge-port")


LAZY_NODES = 32  # a cluster with more implicit nodes (Node objects without a host) compiles each when first asked for


def compile_topology(topo: Topology, seed: int = 0) -> Network:
    """Build the simulated network of a description (a cluster's data path included)."""
    with paused_gc():
        return _compile(topo, seed)


def _compile(topo: Topology, seed: int) -> Network:
    source = topo
    cluster = None
    deferred: dict = {}
    if topo.objects or any(h.role == "node" for h in topo.hosts):
        from ..k8s.cluster import build_cluster
        from ..k8s.datapath import augment_lazy  # Kubernetes compiles down to the same Linux model

        cluster = build_cluster(topo)
        described = {h.name for h in topo.hosts}  # the nodes a topology describes are compiled at once (their routes checked)
        topo, deferred = augment_lazy(topo, cluster)
        if len(deferred) <= LAZY_NODES:  # a small cluster is compiled whole: its topology lists every host as compiled
            described = set(deferred)
        topo = replace(topo, hosts=tuple(deferred.pop(h.name)() if h.name in described and h.name in deferred else h for h in topo.hosts))
    b = _Builder(topo, seed)
    for n in topo.networks:
        b.segment(n.name, n.kind, None, n.cidr)
    lazy = Lazy()
    owner: dict = {}
    pods_on = {}
    if deferred:
        from ..k8s.datapath import pods_by_node

        pods_on = pods_by_node(cluster)
    for h in topo.hosts:
        if h.name in deferred:
            _defer(lazy, owner, h, deferred[h.name], pods_on.get(h.name, ()))
        else:
            b.host(h)

    def build(node: str) -> None:
        full = lazy.hosts.pop(node, None)
        if full is None:
            return
        with paused_gc():
            host = full()
            lazy.full[node] = host
            b.host(host)

    bpf_lb = None
    if cluster is not None and topo.cluster.cni == "cilium":
        from ..k8s.cilium import service_map

        bpf_lb = service_map(cluster)
    listeners = _Listeners(cluster) if cluster is not None else {}  # a pod declaring its ports listens on those only
    return Network(topo, Namespaces(b.namespaces, owner, build), b.segments, b.g, b.problems, seed, cluster, bpf_lb,
                   listeners=listeners, lazy=lazy, described=source)
