"""The description: what a topology file says, as frozen values.

Nothing here does anything. The loader (``tui.load``) builds these from YAML,
checking every field; the simulation (``tui.sim``) compiles them into a
network. Addresses are always :mod:`ipaddress` objects, never strings.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from .source import NOWHERE, Mark

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface

DEFAULT_V4 = ipaddress.IPv4Network("0.0.0.0/0")
DEFAULT_V6 = ipaddress.IPv6Network("::/0")


def _mark() -> Mark:
    return field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Network:
    """An L2 segment: one switch. Every interface on it hears every ARP request."""

    name: str
    cidr: IPNetwork | None = None
    kind: str = "switch"  # switch, or vxlan for an overlay whose frames travel inside UDP (flannel)
    mark: Mark = _mark()


@dataclass(frozen=True)
class Interface:
    """A network device of a namespace.

    ``network`` plugs it into a switch; ``bridge`` (for the interfaces of a
    host's namespaces and containers) makes it one end of a veth pair whose
    other end is a port of that host bridge.
    """

    name: str
    addresses: tuple[IPInterface, ...] = ()
    network: str | None = None
    bridge: str | None = None
    # host-side name of the veth pair: a port of ``bridge``, or, without a bridge, a routed veth
    # (Calico's cali*, Cilium's lxc*) whose host end answers ARP for the pod's gateway (proxy ARP)
    peer: str | None = None
    mac: str | None = None
    mtu: int = 1500
    metric: int = 0  # `ip addr add ... metric N`: the metric of the connected route
    vxlan: tuple[int, int] | None = None  # (VNI, UDP port) for a VXLAN device such as flannel.1
    mark: Mark = _mark()
    ipip: bool = False  # an IP-in-IP tunnel device (Calico's tunl0): packets leave inside IP protocol 4


@dataclass(frozen=True)
class Route:
    """One route of the main table, as ``ip route add`` takes it."""

    to: IPNetwork
    via: IPAddress | None = None
    dev: str | None = None
    metric: int = 0
    type: str = "unicast"  # unicast, blackhole, unreachable, prohibit
    src: IPAddress | None = None
    onlink: bool = False
    mark: Mark = _mark()
    proto: str = "boot"  # who installed it: boot (ip route add), bird (Calico's BGP daemon), ...


@dataclass(frozen=True)
class Rule:
    """One iptables rule, parsed from the command line that would add it."""

    table: str
    chain: str
    target: str
    src: IPNetwork | None = None
    src_neg: bool = False
    dst: IPNetwork | None = None
    dst_neg: bool = False
    in_iface: str | None = None
    in_neg: bool = False
    out_iface: str | None = None
    out_neg: bool = False
    proto: str | None = None
    proto_neg: bool = False
    sport: tuple[int, int] | None = None
    dport: tuple[int, int] | None = None
    ctstate: frozenset[str] | None = None
    to_addr: IPAddress | None = None  # DNAT/SNAT --to
    to_port: int | None = None
    probability: float | None = None
    mark_match: tuple[int, int] | None = None  # -m mark --mark value/mask
    mark_neg: bool = False  # -m mark ! --mark
    set_mark: tuple[int, int] | None = None  # -j MARK --set-xmark value/mask
    dst_type: str | None = None  # -m addrtype --dst-type
    comment: str | None = None
    insert: bool = False  # -I: at the head of the chain
    text: str = ""  # the rule as iptables -S prints it
    src_type: str | None = None  # -m addrtype --src-type (LOCAL: an address of the namespace itself)
    recent_cmd: str | None = None  # -m recent: set, rcheck, update or remove
    recent_name: str | None = None  # -m recent --name (None: the list DEFAULT)
    recent_seconds: int | None = None  # -m recent --seconds: seen within that many seconds
    recent_reap: bool = False  # -m recent --reap: forget entries older than --seconds
    recent_mask: IPAddress | None = None  # -m recent --mask (None: all ones)
    recent_dest: bool = False  # -m recent --rdest: remember the destination (default --rsource: the source)
    mark: Mark = _mark()
    dst_type_neg: bool = False  # -m addrtype ! --dst-type
    family: int | None = None  # 4 for iptables' rules, 6 for ip6tables' (None: written for both, as a topology's own)


@dataclass(frozen=True)
class Policy:
    """A built-in chain's policy (``iptables -P CHAIN TARGET``), or with target ``-`` a user
    chain declared by ``iptables -N CHAIN`` (as iptables-save writes ``:CHAIN - [0:0]``)."""

    table: str
    chain: str
    target: str
    mark: Mark = _mark()


@dataclass(frozen=True)
class Bridge:
    """A Linux bridge inside a host (a switch in software), e.g. ``v-net-0``."""

    name: str
    addresses: tuple[IPInterface, ...] = ()
    mark: Mark = _mark()


@dataclass(frozen=True)
class Namespace:
    """A network namespace inside a host (``ip netns add NAME``)."""

    name: str
    interfaces: tuple[Interface, ...] = ()
    routes: tuple[Route, ...] = ()
    forwarding: bool = False
    kind: str = "netns"  # netns, or pod when Kubernetes put it there
    mark: Mark = _mark()


@dataclass(frozen=True)
class DockerBridge:
    """Docker's default bridge network on a host."""

    bridge: str = "docker0"
    cidr: ipaddress.IPv4Network = ipaddress.IPv4Network("172.17.0.0/16")
    gateway: ipaddress.IPv4Interface = ipaddress.IPv4Interface("172.17.0.1/16")
    mark: Mark = _mark()


@dataclass(frozen=True)
class Container:
    """A Docker container on the default bridge: its own namespace, eth0 on docker0."""

    name: str
    host: str
    address: ipaddress.IPv4Interface
    ports: tuple[tuple[int, int, str], ...] = ()  # published: (host port, container port, protocol)
    mark: Mark = _mark()


@dataclass(frozen=True)
class Host:
    """A machine: a root network namespace, its devices, routes and firewall."""

    name: str
    interfaces: tuple[Interface, ...] = ()
    routes: tuple[Route, ...] = ()
    forwarding: bool = False
    bridges: tuple[Bridge, ...] = ()
    namespaces: tuple[Namespace, ...] = ()
    docker: DockerBridge | None = None
    containers: tuple[Container, ...] = ()
    rules: tuple[Rule, ...] = ()
    policies: tuple[Policy, ...] = ()
    role: str | None = None  # e.g. "node" for a Kubernetes node (later issues)
    mark: Mark = _mark()
    # (table, chain) -> a function giving that chain's rules, made when a packet first walks it: the big
    # chains a generated host (the cloud load balancer) declares among its policies
    generated: tuple = field(default=(), compare=False)


@dataclass(frozen=True)
class ClusterConfig:
    """The ``cluster:`` section; kubeadm's defaults."""

    name: str = "kubernetes"
    domain: str = "cluster.local"
    pod_cidr: ipaddress.IPv4Network = ipaddress.IPv4Network("10.244.0.0/16")
    node_cidr_mask_size: int = 24
    service_cidr: ipaddress.IPv4Network = ipaddress.IPv4Network("10.96.0.0/12")
    dns_cluster_ip: ipaddress.IPv4Address = ipaddress.IPv4Address("10.96.0.10")
    cni: str = "bridge"
    kube_proxy_mode: str = "iptables"
    present: bool = False  # whether the file had a cluster section
    load_balancer_pool: ipaddress.IPv4Network | None = None  # external IPs for LoadBalancer Services
    mark: Mark = _mark()
    ipip_mode: str = "Never"  # Calico's IPPool ipipMode: Always, CrossSubnet or Never
    # dual-stack: the second family's ranges (``podCIDR: 10.244.0.0/16,fd00:10:244::/56``)
    pod_cidr2: ipaddress.IPv6Network | None = None
    service_cidr2: ipaddress.IPv6Network | None = None
    node_cidr_mask_size6: int = 64  # kube-controller-manager --node-cidr-mask-size-ipv6
    # cluster.dns.upstream: what CoreDNS's forward reaches (the simulated internet). Records as
    # (absolute name, ttl, TYPE, rdata as dig prints it); nameservers are the nodes' resolv.conf servers.
    dns_upstream_records: tuple = ()
    dns_upstream_nameservers: tuple = ()
    # cluster.ingress: the Ingress controller the simulator runs (nginx, haproxy, traefik) and the Service type
    # in front of it (LoadBalancer or NodePort; None: LoadBalancer when there is a loadBalancerPool)
    ingress_controller: str | None = None
    ingress_service: str | None = None

    @property
    def pod_cidrs(self) -> tuple:
        return (self.pod_cidr,) + ((self.pod_cidr2,) if self.pod_cidr2 is not None else ())

    @property
    def service_cidrs(self) -> tuple:
        return (self.service_cidr,) + ((self.service_cidr2,) if self.service_cidr2 is not None else ())

    def mask_for(self, net) -> int:
        """The per-node block size for a pod CIDR of ``net``'s family."""
        return self.node_cidr_mask_size6 if net.version == 6 else self.node_cidr_mask_size


@dataclass(frozen=True)
class KubeObject:
    """A standard Kubernetes object, validated in shape and kept whole.

    ``body`` is the object as read (plain dicts and lists) so that fields the
    simulator does not understand survive a round trip.
    """

    api_version: str
    kind: str
    name: str
    namespace: str | None
    body: dict = field(compare=False, hash=False)
    mark: Mark = _mark()
    field_marks: dict = field(default_factory=dict, compare=False, hash=False, repr=False)  # "spec.clusterIP" -> Mark

    def mark_of(self, path: str) -> Mark:
        """Where a field was written (the object's start when not recorded)."""
        return self.field_marks.get(path, self.mark)

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class Topology:
    """Everything a load produced: the Topology document(s) and the objects beside them."""

    name: str
    networks: tuple[Network, ...] = ()
    hosts: tuple[Host, ...] = ()
    cluster: ClusterConfig = ClusterConfig()
    objects: tuple[KubeObject, ...] = ()
    files: tuple[str, ...] = ()
    description: str = ""

    def host(self, name: str) -> Host | None:
        for h in self.hosts:
            if h.name == name:
                return h
        return None
