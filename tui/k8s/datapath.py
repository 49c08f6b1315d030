"""The cluster's data path, written as the Linux model: what kubelet, the CNI plugin and
kube-proxy leave on each node.

:func:`augment` returns the description with the cluster compiled in: every
node is a host (an implicit one, on an implicit node network, for a Node
object with no host of its own), with the bridge ``cni0`` holding the first
address of the node's pod CIDR, a network namespace per pod plugged into
``cni0`` by a veth pair, routes to the other nodes' pod CIDRs via their node
IPs (the ``bridge``/host-gw data path), forwarding on, and kube-proxy's
iptables rules. The simulator then compiles it like any other topology.
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
    return replace(topo, networks=tuple(networks), hosts=tuple(out_hosts))
