"""What the lab builds for a compiled network, worked out without touching the kernel.

The simulator's network (:class:`tui.sim.network.Network`) is already Linux-level: namespaces, devices,
segments, routes and iptables rules. The plan turns it into kernel objects, one namespace each:

* a network namespace per host, node, pod, container and named namespace (``<prefix><name>``, a ``/`` in a
  pod's name written ``.``), and one per L2 network (``<prefix>-<network>``) holding that network's bridge
  ``br0``: a host's interface on the network is a veth whose other end is a port of that bridge;
* veth pairs as the simulator has them (a pod's eth0 and its host end, on the node's cni0 or routed),
  bridges (cni0, docker0, a topology's own), VXLAN devices with the FDB and neighbour entries flannel
  or Cilium write, and a device with no network (a /32 such as cilium_host) as a veth whose far end
  waits in ``<prefix>-stub``;
* the MAC addresses, addresses and routes of the simulation, the sysctls (forwarding, proxy ARP,
  bridge-nf-call-iptables) and the iptables tables, as ``iptables-restore`` reads them;
* what serves: an identity listener per pod port (every port a pod declares; a pod that declares none,
  like a host, listens on every port the topology names), and the simulated CoreDNS in the CoreDNS pods.

Nothing is in the root namespace: every device is made inside a lab namespace (a veth pair across two of
them), so the machine's own interfaces and routes are never touched.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

MAX_NAMESPACES = 400  # the lab is for learning topologies; a big cluster stays in the simulator
IDENTITY = "kubenet-lab"  # the first word of every listener's answer
KERNEL_FEATURES = frozenset({"veth", "bridge", "vxlan", "ipip"})


class LabError(Exception):
    """The topology cannot be built as a lab (one sentence that says what to do)."""


@dataclass
class Plan:
    prefix: str
    ops: list[dict] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # lab namespace -> what it stands for
    sim: dict[str, str] = field(default_factory=dict)  # simulated namespace -> lab namespace
    listeners: list[dict] = field(default_factory=list)  # {"ns", "sim", "ports": [[proto, port], ...]}
    dns: list[dict] = field(default_factory=list)  # {"ns", "sim"}: the simulated CoreDNS answers there on port 53
    notes: list[str] = field(default_factory=list)  # where the lab differs from the simulation, and why

    def to_dict(self) -> dict:
        return {"prefix": self.prefix, "names": self.names, "sim": self.sim, "listeners": self.listeners,
                "dns": self.dns, "notes": self.notes, "ops": self.ops}

    @classmethod
    def from_dict(cls, d: dict) -> Plan:
        return cls(d["prefix"], d["ops"], d["names"], d["sim"], d["listeners"], d["dns"], d["notes"])

    def count(self, op: str) -> int:
        return sum(1 for o in self.ops if o["op"] == op)


def prefix_for(key: str) -> str:
    """The prefix of one lab's namespaces: ``kn`` and six hex digits of ``key`` (its state directory)."""
    return "kn" + hashlib.blake2b(key.encode(), digest_size=3).hexdigest() + "-"


_UNSAFE = re.compile(r"[^A-Za-z0-9_.=:+-]")


def ns_name(prefix: str, name: str) -> str:
    return prefix + _UNSAFE.sub("_", name.replace("/", "."))


def _routes(ns) -> list:
    """The routes a namespace's main table holds beyond those its addresses make (proto kernel)."""
    return [r for r in ns.tables.main.routes() if r.proto != "kernel"]


def _families(rule) -> tuple[int, ...]:
    if rule.family is not None:
        return (rule.family,)
    for a in (rule.src, rule.dst, rule.to_addr):
        if a is not None:
            return (a.version,)
    return (4, 6)


BUILTIN_CHAINS = {"filter": ("INPUT", "FORWARD", "OUTPUT"), "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING")}
_TARGETS = {"ACCEPT", "DROP", "REJECT", "RETURN", "MASQUERADE", "SNAT", "DNAT", "LOG", "MARK", "REDIRECT", ""}
_HEAD = re.compile(r"^-[AI]\s+(\S+)(?:\s+\d+(?=\s|$))?\s*")
MARK_MASQ = "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000"


def restore_text(nf, family: int) -> str | None:
    """A namespace's iptables (``family`` 4) or ip6tables (6) rules as ``iptables-restore`` reads them;
    None when there is nothing to write for that family."""
    chains = nf.chains
    out: list[str] = []
    for table in ("filter", "nat"):
        builtin = BUILTIN_CHAINS[table]
        user: dict[str, None] = {c: None for t, c in nf.declared if t == table and c not in builtin}
        body: list[str] = []
        for (t, chain), rules in list(chains.items()):
            if t != table:
                continue
            if chain not in builtin:
                user.setdefault(chain)
            for r in rules:
                if family not in _families(r):
                    continue
                body.append(f"-A {chain} " + _HEAD.sub("", r.text, count=1))
                if r.target not in _TARGETS and r.target not in builtin:
                    user.setdefault(r.target)
        policies = {c: nf.policy(table, c) for c in builtin}
        if not body and all(p == "ACCEPT" for p in policies.values()):
            continue
        if "KUBE-MARK-MASQ" in user and not any(line.startswith("-A KUBE-MARK-MASQ ") for line in body):
            body.append(MARK_MASQ)  # the simulator takes kube-proxy's mark chain as given; the kernel needs it written
        out.append(f"*{table}")
        out += [f":{c} {p} [0:0]" for c, p in policies.items()]
        out += [f":{c} - [0:0]" for c in user]
        out += body
        out.append("COMMIT")
    return "\n".join(out) + "\n" if out else None


def topology_ports(net) -> list[tuple[str, int]]:
    """Every (protocol, port) the topology names: Services' ports, target ports and node ports, endpoints',
    containers' and Docker's. A host, or a pod that declares no ports, listens on each of them."""
    ports: set[tuple[str, int]] = set()
    cluster = net.cluster
    if cluster is not None:
        for svc in cluster.services:
            for p in svc.ports:
                proto = p.protocol.lower()
                for n in (p.port, p.target_port if isinstance(p.target_port, int) else None, p.node_port):
                    if n:
                        ports.add((proto, n))
                for e in cluster.endpoints_for(svc, p):
                    ports.add((proto, e.port))
        for pod in cluster.pods:
            ports |= {(c.protocol.lower(), c.port) for c in pod.ports}
    for h in net.topology.hosts:
        for c in h.containers:
            for hport, cport, proto in c.ports:
                ports |= {(proto, hport), (proto, cport)}
    return sorted(p for p in ports if p[0] in ("tcp", "udp"))


def dns_pods(net) -> list[str]:
    """The simulated namespaces of the pods behind the cluster DNS Service (CoreDNS)."""
    cluster = net.cluster
    if cluster is None:
        return []
    dns_ip = net.topology.cluster.dns_cluster_ip
    svc = next((s for s in cluster.services if dns_ip is not None and dns_ip in s.cluster_ips), None)
    if svc is None:
        return []
    ips = {e.ip for p in svc.ports for e in cluster.endpoints_for(svc, p)}
    from ..k8s.datapath import pod_ns

    return [pod_ns(p) for p in cluster.pods if not p.host_network and p.ip in ips]


class _Builder:
    def __init__(self, net, prefix: str, features) -> None:
        self.net, self.prefix, self.features = net, prefix, features
        self.plan = Plan(prefix)
        self.stub_ports = 0
        self.up: list[tuple[str, str]] = []

    def op(self, op: str, **kw) -> None:
        self.plan.ops.append({"op": op, **kw})

    def L(self, sim_ns: str) -> str:
        return self.plan.sim[sim_ns]

    def stub(self) -> str:
        name = self.prefix + "-stub"
        if name not in self.plan.names:
            self.plan.names[name] = "the far ends of devices on no network"
            self.op("netns", name=name)
        return name

    def build(self) -> Plan:
        net, plan = self.net, self.plan
        net.compile_nodes()
        namespaces = list(net.namespaces.built().values())
        networks = [s for s in net.segments.values() if s.host is None and s.kind not in ("vxlan", "ipip") and s.members]
        total = len(namespaces) + len(networks)
        if total > MAX_NAMESPACES:
            raise LabError(f"the lab builds at most {MAX_NAMESPACES} namespaces and this topology needs {total}: "
                           "give a smaller topology (fewer nodes or pods)")
        for ns in namespaces:
            name = ns_name(self.prefix, ns.name)
            if name in plan.names:
                raise LabError(f"{ns.name!r} and another namespace both become the lab namespace {name!r}: rename one")
            plan.names[name] = f"{ns.kind} {ns.name}"
            plan.sim[ns.name] = name
            self.op("netns", name=name)
        seg_ns: dict[str, str] = {}
        for s in networks:
            name = ns_name(self.prefix, "-" + s.name)
            plan.names[name] = f"network {s.name} (its switch: bridge br0)"
            seg_ns[s.name] = name
            self.op("netns", name=name)
        for ns in namespaces:  # before any device: no DAD delay for IPv6 addresses
            for key in ("net/ipv6/conf/all/accept_dad", "net/ipv6/conf/default/accept_dad"):
                self.op("sysctl", ns=self.L(ns.name), key=key, value="0")
        for name in seg_ns.values():
            self.op("bridge", ns=name, dev="br0", mac="")
            self.up.append((name, "br0"))
        self.devices(namespaces, seg_ns)
        for ns in namespaces:
            self.sysctls(ns)
        for ns_, dev in self.up:
            self.op("up", ns=ns_, dev=dev)
        for ns in namespaces:  # on devices that are up: a connected route with a metric needs its device up
            for d in ns.devices.values():
                for a in d.addresses:
                    if d.kind != "loopback":
                        self.op("addr", ns=self.L(ns.name), dev=d.name, address=str(a.ip), prefixlen=a.network.prefixlen,
                                metric=d.metric)
        for ns in namespaces:
            for d in ns.devices.values():
                if d.proxy_arp:
                    self.op("sysctl", ns=self.L(ns.name), key=f"net/ipv4/conf/{d.name}/proxy_arp", value="1")
        self.overlay(namespaces)
        for ns in namespaces:
            self.routes(ns)
        for ns in namespaces:
            for family in (4, 6):
                text = restore_text(ns.netfilter, family) if ns.netfilter else None
                if text and (family == 4 or self.has_v6(ns)):
                    self.op("iptables", ns=self.L(ns.name), family=family, text=text)
        self.cilium(namespaces)
        if net.cluster is not None:
            from .netpol import netpol_ops

            ops, notes = netpol_ops(net, plan.sim)
            plan.ops += ops
            plan.notes += notes
        self.serving(namespaces)
        return plan

    @staticmethod
    def has_v6(ns) -> bool:
        return any(a.version == 6 for d in ns.devices.values() if d.kind != "loopback" for a in d.addresses)

    def devices(self, namespaces, seg_ns: dict[str, str]) -> None:
        made: set[tuple[str, str]] = set()
        ports: dict[str, int] = {}
        for ns in namespaces:
            L = self.L(ns.name)
            for d in ns.devices.values():
                if d.kind == "loopback":
                    self.up.append((L, "lo"))
                elif d.kind == "bridge":
                    self.op("bridge", ns=L, dev=d.name, mac=d.mac)
                    self.up.append((L, d.name))
        for ns in namespaces:
            L = self.L(ns.name)
            for d in ns.devices.values():
                if d.kind in ("loopback", "bridge"):
                    continue
                if d.kind == "veth" and d.peer is not None:
                    if (ns.name, d.name) in made:
                        continue
                    peer = self.net.namespaces[d.peer[0]].devices[d.peer[1]]
                    made |= {(ns.name, d.name), d.peer}
                    self.op("veth", ns=L, dev=d.name, mac=d.mac, peer_ns=self.L(d.peer[0]), peer_dev=d.peer[1], peer_mac=peer.mac)
                    self.up += [(L, d.name), (self.L(d.peer[0]), d.peer[1])]
                elif d.kind == "vxlan":
                    local = ns.primary_address(4)
                    self.op("vxlan", ns=L, dev=d.name, mac=d.mac, vni=d.vxlan[0], port=d.vxlan[1], local=str(local) if local else None)
                    self.up.append((L, d.name))
                elif d.kind == "ipip" and "ipip" in self.features:
                    local = ns.primary_address(4)
                    self.op("ipip", ns=L, dev=d.name, local=str(local) if local else None)
                    self.up.append((L, d.name))
                elif d.segment is not None and d.segment in seg_ns:
                    far = seg_ns[d.segment]
                    n = ports[far] = ports.get(far, 0) + 1
                    self.op("veth", ns=L, dev=d.name, mac=d.mac, peer_ns=far, peer_dev=f"p{n}", peer_mac="")
                    self.op("master", ns=far, dev=f"p{n}", bridge="br0")
                    self.up += [(L, d.name), (far, f"p{n}")]
                else:  # on no network (a /32 such as cilium_host), or tunl0 where the kernel has no IPIP
                    stub = self.stub()
                    self.stub_ports += 1
                    self.op("veth", ns=L, dev=d.name, mac=d.mac, peer_ns=stub, peer_dev=f"s{self.stub_ports}", peer_mac="")
                    self.up += [(L, d.name), (stub, f"s{self.stub_ports}")]
                    if d.kind == "ipip":
                        self.plan.notes.append(
                            f"{ns.name}: {d.name} is IP-in-IP, which this kernel lacks (no ipip module): the lab keeps its address "
                            f"on a plain device and sends the routes via {d.name} unencapsulated through the underlay "
                            "(the verdicts are the same; the outer header is missing)")
        for ns in namespaces:  # once every device exists: the bridges' ports
            L = self.L(ns.name)
            for d in ns.devices.values():
                if d.master is not None:  # a pod's port on cni0 hairpins, as the bridge CNI plugin sets it (hairpinMode)
                    pod = d.peer is not None and self.net.namespaces[d.peer[0]].kind == "pod"
                    self.op("master", ns=L, dev=d.name, bridge=d.master, hairpin=pod)

    def sysctls(self, ns) -> None:
        L = self.L(ns.name)
        fwd = "1" if ns.forwarding else "0"
        self.op("sysctl", ns=L, key="net/ipv4/ip_forward", value=fwd)
        self.op("sysctl", ns=L, key="net/ipv6/conf/all/forwarding", value=fwd)
        for key in ("net/ipv4/conf/all/rp_filter", "net/ipv4/conf/default/rp_filter"):
            self.op("sysctl", ns=L, key=key, value="0")
        if ns.bridge_netfilter:
            for key in ("net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables"):
                self.op("sysctl", ns=L, key=key, value="1")

    def overlay(self, namespaces) -> None:
        """VXLAN's forwarding entries, as flannel and Cilium write them: for each other node's VTEP, its MAC
        (FDB: send to that node's underlay address) and its address (a permanent neighbour entry)."""
        vteps = [(ns, d) for ns in namespaces for d in ns.devices.values() if d.kind == "vxlan"]
        for ns, d in vteps:
            for other, od in vteps:
                if other.name == ns.name or od.segment != d.segment:
                    continue
                remote = other.primary_address(4)
                if remote is None:
                    continue
                self.op("fdb", ns=self.L(ns.name), dev=d.name, mac=od.mac, dst=str(remote))
                for a in od.addresses:
                    self.op("neigh", ns=self.L(ns.name), dev=d.name, ip=str(a.ip), mac=od.mac)

    def routes(self, ns) -> None:
        L = self.L(ns.name)
        devs = ns.devices
        for r in sorted(_routes(ns), key=lambda r: r.via is not None):  # direct routes first: gateways must be reachable
            dev, onlink, note = r.dev, r.onlink, None
            if dev is not None and devs.get(dev) is not None and devs[dev].kind == "ipip" and "ipip" not in self.features:
                under = next((rr.dev for rr in ns.tables.main.routes() if rr.proto == "kernel" and r.via is not None
                              and r.via.version == rr.to.version and r.via in rr.to), None)
                if under is None:
                    note = f"{ns.name}: route {r.ip_route()} left out: no underlay device reaches {r.via} without IP-in-IP"
                    self.plan.notes.append(note)
                    continue
                dev, onlink = under, False
            self.op("route", ns=L, to=str(r.to), via=str(r.via) if r.via is not None else None, dev=dev, metric=r.metric,
                    type=r.type, src=str(r.src) if r.src is not None else None, onlink=onlink, scope=r.scope, proto=r.proto,
                    text=r.ip_route())

    def cilium(self, namespaces) -> None:
        """Cilium translates Services in eBPF; the lab has no eBPF programs of its own and writes kube-proxy's
        iptables rules instead, which send each connection to the same endpoints."""
        net = self.net
        if net.cluster is not None and net.topology.cluster.kube_proxy_mode == "ipvs":
            self.plan.notes.append("kubeProxy.mode is ipvs: the lab writes the rules of iptables mode, which the simulator's "
                                   "traces follow (no IPVS virtual servers; the endpoints are the same)")
        if net.cluster is None or net.topology.cluster.cni != "cilium":
            return
        from ..k8s.kubeproxy import iptables_save

        for ns in namespaces:
            if ns.name in net.cluster.nodes and ns.kind == "host":
                self.op("iptables", ns=self.L(ns.name), family=4, text=iptables_save(net.cluster, ns.name, ("nat",)), noflush=True)
        self.plan.notes.append("cilium: Services are translated by kube-proxy's iptables rules in the lab, not by "
                               "Cilium's eBPF programs (the endpoints are the same; the DNAT happens on the node, not at connect())")

    def serving(self, namespaces) -> None:
        net, plan = self.net, self.plan
        everything = topology_ports(net)
        dns = set(dns_pods(net))
        for name in sorted(dns):
            plan.dns.append({"ns": self.L(name), "sim": name})
        listeners = net.listeners
        for ns in namespaces:
            if not any(d.kind != "loopback" and d.addresses for d in ns.devices.values()):
                continue
            declared = listeners.get(ns.name) if ns.kind == "pod" else None
            ports = sorted(p for p in declared if p[0] in ("tcp", "udp")) if declared is not None else everything
            if ns.name in dns:
                ports = [p for p in ports if p[1] != 53]
            if ports:
                plan.listeners.append({"ns": self.L(ns.name), "sim": ns.name, "ports": [list(p) for p in ports]})
        if any(ns.kind == "pod" and any(p[0] == "sctp" for p in (listeners.get(ns.name) or ())) for ns in namespaces):
            plan.notes.append("SCTP container ports have no listener in the lab")


def build_plan(net, prefix: str, features=KERNEL_FEATURES) -> Plan:
    """The plan of ``net`` (compiled whole first) with namespaces named ``prefix...``; ``features`` are the
    device kinds this kernel can make (without ``ipip``, Calico's tunl0 routes go unencapsulated)."""
    return _Builder(net, prefix, frozenset(features)).build()
