"""The cluster's data path, written as the Linux model: what kubelet, the CNI plugin and
kube-proxy leave on each node.

:func:`augment` returns the description with the cluster compiled in: every
node is a host (an implicit one, on an implicit node network, for a Node
object with no host of its own), with the bridge ``cni0`` holding the first
address of the node's pod CIDR, a network namespace per pod plugged into
``cni0`` by a veth pair, routes to the other nodes' pod CIDRs (via their node
IPs for ``bridge``/host-gw; via a VXLAN device ``flannel.1`` for flannel),
forwarding on, and kube-proxy's iptables rules; and, for LoadBalancer
Services, a load balancer host in front of the nodes. The simulator then
compiles it like any other topology.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from ..load.iptables import parse_rule
from ..model.topology import Bridge, Host, Interface, Namespace, Network, Policy, Route, Rule, Topology
from .cluster import Cluster, Pod, build_cluster, node_network
from .kubeproxy import filter_rules, nat_rules

NODE_NETWORK = "node-network"


def pod_ns(pod: Pod) -> str:
    """A pod's network namespace, named ``namespace/pod``."""
    return f"{pod.namespace}/{pod.name}"


def _rules(lines: list[str], table: str) -> list[Rule]:
    # kube-proxy's own wording kept as the rule's text, as iptables-save shows it on a node
    return [replace(parse_rule(f"-t {table} {line}"), text=line) for line in lines]


def _kube_proxy(cluster: Cluster, node: str) -> tuple[tuple[Rule, ...], tuple[Policy, ...]]:
    rules: list[Rule] = []
    policies: list[Policy] = []
    for table, build in (("nat", nat_rules), ("filter", filter_rules)):
        chains, lines = build(cluster, node)
        policies += [Policy(table, c, "-") for c in chains]
        rules += _rules(lines, table)
    return tuple(rules), tuple(policies)


def augment(topo: Topology, cluster: Cluster | None = None) -> Topology:
    """The topology with the cluster's data path added; unchanged when there is no cluster."""
    cluster = cluster or build_cluster(topo)
    if not cluster.nodes:
        return topo
    return _augment(topo, cluster)


def _augment(topo: Topology, cluster: Cluster) -> Topology:
    names = list(cluster.nodes)
    cidrs = cluster.pod_cidrs
    hosts = {h.name: h for h in topo.hosts}
    networks = list(topo.networks)
    implicit = [cluster.nodes[n] for n in names if n not in hosts]
    if implicit and not any(n.name == NODE_NETWORK for n in networks):
        networks.append(Network(NODE_NETWORK, node_network(implicit)))
    underlay = node_network(implicit) if implicit else None
    cni = cluster.topology.cluster.cni
    if cni == "flannel" and not any(n.name == "flannel.1" for n in networks):
        networks.append(Network("flannel.1", None, kind="vxlan"))  # flannel's overlay: VNI 1, UDP 8472
    node_ip = {}
    for n in names:
        if n in hosts:
            node_ip[n] = next((a.ip for i in hosts[n].interfaces for a in i.addresses if a.version == 4), None)
        else:
            node_ip[n] = cluster.nodes[n].internal_ip
    out_hosts = [h for h in topo.hosts if h.name not in cluster.nodes]
    for n in names:
        base = hosts.get(n) or Host(n, (Interface("eth0", (ipaddress.ip_interface(f"{node_ip[n]}/{underlay.prefixlen}"),), NODE_NETWORK),),
                                    role="node")
        cidr = cidrs[n]
        gw = ipaddress.ip_interface(f"{next(cidr.hosts())}/{cidr.prefixlen}")
        pods = [p for p in cluster.pods if p.node == n and not p.host_network and p.ip is not None]
        namespaces = []
        routes = list(base.routes)
        default = ipaddress.ip_network("0.0.0.0/0")
        for p in pods:
            if p.ip in cidr:
                iface = Interface("eth0", (ipaddress.ip_interface(f"{p.ip}/{cidr.prefixlen}"),), bridge="cni0")
                proute = Route(default, gw.ip, "eth0")
            else:  # an address outside the node's range (a dump): a /32 reached on-link, as Calico does it
                iface = Interface("eth0", (ipaddress.ip_interface(f"{p.ip}/32"),), bridge="cni0")
                proute = Route(default, gw.ip, "eth0", onlink=True)
                routes.append(Route(ipaddress.ip_network(p.ip), dev="cni0"))
            namespaces.append(Namespace(pod_ns(p), (iface,), (proute,), kind="pod"))
        interfaces = base.interfaces
        for other in names:
            if other == n or node_ip.get(other) is None or cidrs[other] is None or cidrs[other].version != 4:
                continue
            if cni == "flannel":  # via the far node's flannel.1 address, on-link over the VXLAN device
                routes.append(Route(cidrs[other], cidrs[other].network_address, "flannel.1", onlink=True))
            else:  # the bridge (host-gw) plugin: the other nodes' pod CIDRs via their node IPs
                routes.append(Route(cidrs[other], node_ip[other]))
        if cni == "flannel":
            vtep = Interface("flannel.1", (ipaddress.ip_interface(f"{cidr.network_address}/32"),), "flannel.1", mtu=1450, vxlan=(1, 8472))
            interfaces = interfaces + (vtep,)
        rules, policies = _kube_proxy(cluster, n)
        out_hosts.append(replace(
            base, forwarding=True, role="node", interfaces=interfaces, bridges=base.bridges + (Bridge("cni0", (gw,)),),
            namespaces=base.namespaces + tuple(namespaces), routes=tuple(routes),
            rules=base.rules + rules, policies=base.policies + policies,
        ))
    lb = _load_balancer(cluster, [h for h in out_hosts if h.name in cluster.nodes], node_ip)
    if lb is not None:
        out_hosts.append(lb)
    return replace(topo, networks=tuple(networks), hosts=tuple(out_hosts))


LB_HOST = "load-balancer"


def _load_balancer(cluster: Cluster, nodes: list[Host], node_ip: dict) -> Host | None:
    """The cloud's load balancer for LoadBalancer Services: a host on the nodes' network that owns the
    external IPs and forwards each Service port to a node's NodePort (spread like kube-proxy spreads
    endpoints), masquerading the client so that the reply comes back through it."""
    lbs = [s for s in cluster.services if s.type == "LoadBalancer" and s.load_balancer_ip is not None]
    if not lbs or not nodes or any(h.name == LB_HOST for h in cluster.topology.hosts):
        return None
    first = next((i for i in nodes[0].interfaces if i.network and i.addresses and i.addresses[0].version == 4), None)
    if first is None:
        return None
    net = first.addresses[0].network
    taken = {a.ip for h in cluster.topology.hosts for i in h.interfaces for a in i.addresses} | set(node_ip.values())
    taken |= {s.load_balancer_ip for s in lbs}
    own = next((ip for ip in reversed(list(net.hosts())) if ip not in taken), None)
    if own is None:
        return None
    addrs = (ipaddress.ip_interface(f"{own}/{net.prefixlen}"),) + tuple(ipaddress.ip_interface(f"{s.load_balancer_ip}/32") for s in lbs)
    targets = [(h.name, node_ip[h.name]) for h in nodes if node_ip.get(h.name) is not None]
    lines = []
    for s in sorted(lbs, key=lambda s: s.key):
        for p in s.ports:
            if not p.node_port:
                continue
            proto = p.protocol.lower()
            for i, (name, ip) in enumerate(targets):
                stat = f" -m statistic --mode random --probability {1.0 / (len(targets) - i):0.10f}" if i < len(targets) - 1 else ""
                lines.append(f'-t nat -A PREROUTING -d {s.load_balancer_ip}/32 -p {proto} --dport {p.port} -m comment '
                             f'--comment "{s.port_name(p)} load balancer -> {name}"{stat} -j DNAT --to-destination {ip}:{p.node_port}')
            for _, ip in targets:
                lines.append(f"-t nat -A POSTROUTING -d {ip}/32 -p {proto} --dport {p.node_port} -j MASQUERADE")
    rules = tuple(parse_rule(line) for line in lines)
    return Host(LB_HOST, (Interface("eth0", addrs, first.network),), forwarding=True, rules=rules, role="load-balancer")
