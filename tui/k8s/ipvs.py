"""kube-proxy in IPVS mode: the virtual servers it creates on a node, as ``ipvsadm -Ln`` lists them.

What pkg/proxy/ipvs's syncProxyRules makes of each Service port (headless and
ExternalName Services are skipped):

- a virtual server on the cluster IP and port, whose address is bound to the
  dummy interface ``kube-ipvs0``;
- one on each load-balancer IP (bound to ``kube-ipvs0`` too, unless the node
  already owns the address);
- for a NodePort (or LoadBalancer) Service, one on every address of the node
  but those of ``kube-ipvs0`` and loopback (eth0, but also cni0, flannel.1 ...),
  not bound anywhere.

Each has the configured scheduler (``rr`` by default) and, under
``sessionAffinity: ClientIP``, the persistent flag with the affinity timeout.
Its real servers are the ready endpoints, masqueraded (``Masq``), weight 1:
for a Local traffic policy (internalTrafficPolicy for the cluster IP,
externalTrafficPolicy for the others) this node's endpoints, or all of them
when the node has none (kube-proxy's fallback, kubernetes#97081). A Service
without endpoints still gets its virtual servers, with no real server.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..model.topology import IPAddress
from .cluster import Cluster, Endpoint
from .kubeproxy import PortPlan, port_plans

DUMMY_DEVICE = "kube-ipvs0"
SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq")
PROTOCOL_NUMBERS = {"TCP": 6, "UDP": 17, "SCTP": 132}  # ipvsadm sorts services by protocol number, then address, then port
HEADER = ("IP Virtual Server version 1.2.1 (size=4096)\n"
          "Prot LocalAddress:Port Scheduler Flags\n"
          "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn")


@dataclass(frozen=True)
class RealServer:
    """One destination of a virtual server (``ipvsadm -a -r ADDR:PORT -m -w 1``)."""

    address: IPAddress
    port: int
    forward: str = "Masq"
    weight: int = 1
    active: int = 0
    inactive: int = 0


@dataclass(frozen=True)
class VirtualServer:
    """One IPVS service (``ipvsadm -A -t|-u|--sctp-service ADDR:PORT -s SCHED [-p TIMEOUT]``)."""

    protocol: str  # TCP, UDP or SCTP
    address: IPAddress
    port: int
    scheduler: str
    service: str  # kube-proxy's ServicePortName, ns/svc:port
    kind: str  # ClusterIP, LoadBalancer or NodePort: which address of the Service this is
    persistent: int | None  # seconds, under sessionAffinity ClientIP
    real_servers: tuple[RealServer, ...]

    def sort_key(self) -> tuple:
        return (self.address.version, PROTOCOL_NUMBERS.get(self.protocol, 255), int(self.address), self.port)


@dataclass(frozen=True)
class IPVSView:
    """A node's IPVS table and the addresses kube-proxy bound to ``kube-ipvs0``."""

    node: str
    scheduler: str
    virtual_servers: tuple[VirtualServer, ...]
    dummy_addresses: tuple[IPAddress, ...]


def _endpoint(address: IPAddress, port: int) -> str:
    return f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"


def node_addresses(cluster: Cluster, node: str) -> list[IPAddress]:
    """Every address of the node's root namespace as the data path builds it (interfaces, cni0, flannel.1,
    docker0), without loopback or IPv6 link-local: where IPVS mode opens NodePorts."""
    from .datapath import augment_lazy

    host = augment_lazy(cluster.topology, cluster)[0].host(node)  # (its interfaces and bridges: no need for the whole node)
    if host is None:
        ip = cluster.nodes[node].internal_ip
        return [ip] if ip is not None else []
    found = [a.ip for i in host.interfaces for a in i.addresses] + [a.ip for b in host.bridges for a in b.addresses]
    if host.docker is not None:
        found.append(host.docker.gateway.ip)
    keep = {ip for ip in found if not ip.is_loopback and not (ip.version == 6 and ip.is_link_local)}
    return sorted(keep, key=lambda ip: (ip.version, int(ip)))


def _real_servers(endpoints: tuple[Endpoint, ...] | list[Endpoint]) -> tuple[RealServer, ...]:
    return tuple(sorted((RealServer(e.ip, e.port) for e in endpoints), key=lambda r: (int(r.address), r.port)))


def _destinations(plan: PortPlan, only_local: bool) -> tuple[RealServer, ...]:
    """syncEndpoint: the node's own endpoints under a Local policy (all of them when it has none)."""
    if only_local and plan.local_endpoints:
        return _real_servers(plan.local_endpoints)
    return _real_servers(plan.cluster_endpoints)


def _virtual_server(plan: PortPlan, address: IPAddress, port: int, kind: str, scheduler: str) -> VirtualServer:
    only_local = plan.internal_local if kind == "ClusterIP" else plan.external_local
    return VirtualServer(plan.port.protocol.upper(), address, port, scheduler, plan.name, kind, plan.affinity,
                         _destinations(plan, only_local))


def ipvs_view(cluster: Cluster, node: str, scheduler: str = "rr") -> IPVSView:
    """The virtual servers kube-proxy (``--proxy-mode=ipvs``) keeps on ``node``."""
    if scheduler not in SCHEDULERS:
        raise ValueError(f'unknown IPVS scheduler "{scheduler}": one of {", ".join(SCHEDULERS)}')
    own = node_addresses(cluster, node)
    servers: list[VirtualServer] = []
    bound: set[IPAddress] = set()
    for plan in port_plans(cluster, node):
        ip = plan.svc.cluster_ip
        servers.append(_virtual_server(plan, ip, plan.port.port, "ClusterIP", scheduler))
        bound.add(ip)
        lb = plan.load_balancer_ip
        if lb is not None and lb.version == ip.version:
            servers.append(_virtual_server(plan, lb, plan.port.port, "LoadBalancer", scheduler))
            if lb not in own:
                bound.add(lb)
        if plan.node_port:
            servers += [_virtual_server(plan, a, plan.node_port, "NodePort", scheduler) for a in own if a.version == ip.version]
    unique = {(s.protocol, s.address, s.port): s for s in servers}  # one IPVS service per address, port and protocol
    ordered = tuple(sorted(unique.values(), key=VirtualServer.sort_key))
    return IPVSView(node, scheduler, ordered, tuple(sorted(bound, key=lambda a: (a.version, int(a)))))


def ipvsadm_ln(view: IPVSView) -> str:
    """``ipvsadm -Ln``: the header, then each service and its destinations, columns as ipvsadm pads them."""
    lines = [HEADER]
    for s in view.virtual_servers:
        head = f"{s.protocol}  {_endpoint(s.address, s.port)} {s.scheduler}"
        if s.persistent is not None:
            head += f" persistent {s.persistent}"
        lines.append(head)
        for r in s.real_servers:
            lines.append(f"  -> {_endpoint(r.address, r.port):<28} {r.forward:<7} {r.weight:<6} {r.active:<10} {r.inactive:<10}")
    return "\n".join(lines) + "\n"


def dummy_interface(view: IPVSView) -> str:
    """``ip -br addr show kube-ipvs0``: the dummy device (never up) and the service addresses bound to it."""
    return f"{DUMMY_DEVICE:<16} {'DOWN':<14} " + "".join(f"{a}/{a.max_prefixlen} " for a in view.dummy_addresses) + "\n"


def to_dict(view: IPVSView) -> dict:
    return {
        "node": view.node,
        "scheduler": view.scheduler,
        "dummy_interface": {"name": DUMMY_DEVICE, "addresses": [str(ipaddress.ip_interface(f"{a}/{a.max_prefixlen}")) for a in view.dummy_addresses]},
        "virtual_servers": [
            {
                "protocol": s.protocol,
                "address": str(s.address),
                "port": s.port,
                "scheduler": s.scheduler,
                "persistent": s.persistent,
                "service": s.service,
                "kind": s.kind,
                "real_servers": [{"address": str(r.address), "port": r.port, "forward": r.forward, "weight": r.weight,
                                  "active_conn": r.active, "inact_conn": r.inactive} for r in s.real_servers],
            }
            for s in view.virtual_servers
        ],
    }
