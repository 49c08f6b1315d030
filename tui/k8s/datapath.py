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

The load balancer host and its CLOUD-LB chains are written in
:mod:`tui.k8s.loadbalancer`.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import itertools
import re
import socket
from dataclasses import replace

from ..load.iptables import parse_rule
from ..model.topology import Bridge, Host, Interface, Namespace, Network, Policy, Route, Rule, Topology
from ..sim.netfilter import Run
from .cluster import Cluster, Pod, build_cluster, node_network
from .kubeproxy import families, filter_table
from .kubeproxy_lazy import nat_table_lazy
from .loadbalancer import _RULE_FIELDS, LB_HOST, _load_balancer  # noqa: F401 (LB_HOST: tui.app imports it from here)

NODE_NETWORK = "node-network"


def pod_ns(pod: Pod) -> str:
    """A pod's network namespace, named ``namespace/pod``."""
    return f"{pod.namespace}/{pod.name}"


def _rules(lines: list[str], table: str, family: int, memo: dict | None = None) -> list[Rule]:
    # kube-proxy's own wording kept as the rule's text, as iptables-save shows it on a node; ``memo``
    # (line -> rule) parses a line once however many nodes carry it, unbounded as _rule's cache is not
    if memo is None:
        return [_rule(line, table, family) for line in lines]
    out = []
    for line in lines:
        r = memo.get(line)
        if r is None:
            r = memo[line] = _rule(line, table, family)
        out.append(r)
    return out


@functools.lru_cache(maxsize=8192)
def _rule(line: str, table: str, family: int | None) -> Rule:
    """One generated rule, parsed once: most are the same on every node and in every compile (frozen, so shared).

    kube-proxy's commonest lines (one per Service port: its cluster IP, its NodePort, its REJECT when it
    has no endpoints) are made from the parse of a first line of the same shape, with the parts that differ."""
    for kind, shape in _SHAPES.get(table, ()):
        m = shape.match(line)
        if m is None:
            continue
        key = (kind, m["proto"], family)
        template = _TEMPLATES.get(key)
        if template is None:
            rule = replace(parse_rule(f"-t {table} {line}"), text=line, family=family)
            _TEMPLATES[key] = {f: getattr(rule, f) for f in _RULE_FIELDS}
            return rule
        changes = {"comment": m["comment"], "dport": (int(m["port"]),) * 2, "text": line}
        if kind != "reject":
            changes["target"] = m["target"]
        if kind != "nodeport":
            ip = m["ip"]
            changes["dst"] = ipaddress.IPv4Network((_inet(ip), 32)) if family == 4 else ipaddress.ip_network(ip)
        return _clone(template, **changes)
    return replace(parse_rule(f"-t {table} {line}"), text=line, family=family)


# -A KUBE-SERVICES -m comment --comment "NS/SVC:PORT cluster IP" -m tcp -p tcp -d IP --dport N -j KUBE-SVC-...
_CLUSTER_IP = re.compile(r'-A KUBE-SERVICES -m comment --comment "(?P<comment>[a-z0-9.:/-]+ cluster IP)" -m (?P<proto>tcp|udp|sctp) '
                         r"-p (?P=proto) -d (?P<ip>[0-9a-f.:]+) --dport (?P<port>[1-9][0-9]{0,4}) -j (?P<target>KUBE-S[VL][CL]-[A-Z2-7]{16})\Z")
# -A KUBE-NODEPORTS -m comment --comment NS/SVC:PORT -m tcp -p tcp --dport N -j KUBE-EXT-...
_NODE_PORT = re.compile(r"-A KUBE-NODEPORTS -m comment --comment (?P<comment>[a-z0-9][a-z0-9.:/-]*) -m (?P<proto>tcp|udp|sctp) "
                        r"-p (?P=proto) --dport (?P<port>[1-9][0-9]{0,4}) -j (?P<target>KUBE-EXT-[A-Z2-7]{16})\Z")
# -A KUBE-SERVICES -m comment --comment "NS/SVC:PORT has no endpoints" -m tcp -p tcp -d IP --dport N -j REJECT ... (filter)
_NO_ENDPOINTS = re.compile(r'-A KUBE-SERVICES -m comment --comment "(?P<comment>[a-z0-9.:/-]+ has no endpoints)" -m (?P<proto>tcp|udp|sctp) '
                           r"-p (?P=proto) -d (?P<ip>[0-9a-f.:]+) --dport (?P<port>[1-9][0-9]{0,4}) "
                           r"-j REJECT --reject-with icmp6?-port-unreachable\Z")
_SHAPES = {"nat": (("cluster-ip", _CLUSTER_IP), ("nodeport", _NODE_PORT)), "filter": (("reject", _NO_ENDPOINTS),)}
_TEMPLATES: dict = {}


def _inet(text: str) -> int:
    return int.from_bytes(socket.inet_aton(text), "big")


def _clone(template: dict, **changes) -> Rule:
    """A Rule with ``template``'s fields (every field, as one made by the parser has them) but ``changes``:
    written into a new instance's ``__dict__``, as a frozen dataclass's ``__init__`` would leave it, ten
    times faster than calling it (kube-proxy writes one such rule per Service port)."""
    rule = object.__new__(Rule)
    fields = rule.__dict__
    fields.update(template)
    fields.update(changes)
    return rule


def _kube_proxy(cluster: Cluster, node: str) -> tuple[tuple[Rule, ...], tuple[Policy, ...], tuple]:
    """kube-proxy's rules, one proxier per IP family (iptables and, dual-stack, ip6tables): (rules, chains
    declared, ((table, chain), function) for the chains written when first walked).

    kube-proxy's tables come in groups of rules shared by the nodes that have them (its port plans are the
    same on every node but for the local endpoints): each group is parsed once per cluster; a Service
    port's own chains (KUBE-SVC-*, KUBE-SEP-*, ...) are written and parsed when a packet first jumps to one."""
    rules: list[Rule] = []
    policies: list[Policy] = []
    later: list[tuple[tuple[str, ...], list]] = []  # (entry chains, [(function, parse)]) per port, families merged
    by_entry: dict[str, int] = {}
    declared: dict[str, list[list[str]]] = {}  # table -> the chains each earlier family declared in it
    for family in families(cluster):
        for table, build in (("nat", nat_table_lazy), ("filter", filter_table)):
            parse = functools.partial(_parsed, table=table, family=family, memo=cluster.memo.setdefault(("rules", table, family), {}))
            if table == "nat":
                chains, groups, own = build(cluster, node, family, parse, "parsed", Run)
                for entries, write in own:
                    k = next((by_entry[e] for e in entries if e in by_entry), None)  # (dual-stack: the same chains' IPv6 half)
                    if k is None:
                        k = len(later)
                        later.append((entries, []))
                    for e in entries:
                        by_entry.setdefault(e, k)
                    later[k][1].append((write, parse))
            else:
                chains, groups = build(cluster, node, family, parse, "parsed")
            if table in declared:  # ip6tables' table after iptables' (dual-stack): each chain declared once
                seen = set(itertools.chain.from_iterable(declared[table]))
                chains = [c for c in chains if c not in seen]  # (a chain twice in one table is declared twice)
            declared.setdefault(table, []).append(chains)
            made = cluster.memo.setdefault(("policies", table), {})  # chain -> its Policy, made once
            try:
                own_policies = list(map(made.__getitem__, chains))
            except KeyError:
                made.update((c, Policy(table, c, "-")) for c in set(chains).difference(made))
                own_policies = list(map(made.__getitem__, chains))
            policies += own_policies
            rules += itertools.chain.from_iterable(groups)
    generated = []
    for k, (entries, writers) in enumerate(later):
        make = functools.partial(_port_chains, writers)
        generated += [(("nat", e), make) for e in entries if by_entry[e] == k]
    return tuple(rules), tuple(policies), tuple(generated)


def _port_chains(writers: list) -> dict:
    """A Service port's own chains: (table, chain) -> rules, each family's in turn."""
    out: dict = {}
    for write, parse in writers:
        for chain, lines in write():
            out.setdefault(("nat", chain), []).extend(parse(lines))
    return out


def _parsed(lines: tuple[str, ...], table: str, family: int, memo: dict) -> tuple[Rule, ...]:
    return tuple(_rules(lines, table, family, memo))


def augment(topo: Topology, cluster: Cluster | None = None) -> Topology:
    """The topology with the cluster's data path added; unchanged when there is no cluster."""
    cluster = cluster or build_cluster(topo)
    if not cluster.nodes:
        return topo
    skeleton, deferred = _augment(topo, cluster)
    return replace(skeleton, hosts=tuple(deferred[h.name]() if h.name in deferred else h for h in skeleton.hosts))


def veth_name(prefix: str, pod: Pod) -> str:
    """The host end of a pod's routed veth, named as the plugin names it: Calico's ``cali`` + 11 hex
    digits of SHA-1 over ``namespace.pod``; Cilium's ``lxc`` + 12 of SHA-256."""
    algo = hashlib.sha1 if prefix == "cali" else hashlib.sha256
    return prefix + algo(f"{pod.namespace}.{pod.name}".encode()).hexdigest()[:15 - len(prefix)]


CALICO_GW = ipaddress.ip_address("169.254.1.1")  # the link-local gateway every Calico pod routes to


def _pod_namespaces(cni: str, pods: list[Pod], cidr, gw, routes: list[Route], cidr6=None, gw6=None) -> tuple[list[Namespace], list[Interface]]:
    """Each pod's namespace and its link to the node: a cni0 port (bridge, flannel) or a routed veth
    with a /32 route on the node (calico's cali*, cilium's lxc*). In a dual-stack cluster the pod's
    eth0 holds its IPv6 address too, with a default route to the node's IPv6 gateway."""
    default = ipaddress.ip_network("0.0.0.0/0")
    default6 = ipaddress.ip_network("::/0")
    namespaces, host_ifaces = [], []
    for p in pods:
        if cni in ("calico", "cilium"):
            peer = veth_name("cali" if cni == "calico" else "lxc", p)
            via = CALICO_GW if cni == "calico" else gw.ip
            iface = Interface("eth0", (ipaddress.ip_interface(f"{p.ip}/32"),), peer=peer)
            proutes = (Route(ipaddress.ip_network(via), dev="eth0"), Route(default, via, "eth0"))
            routes.append(Route(ipaddress.ip_network(p.ip), dev=peer))
        elif p.ip in cidr:
            iface = Interface("eth0", (ipaddress.ip_interface(f"{p.ip}/{cidr.prefixlen}"),), bridge="cni0")
            proutes = (Route(default, gw.ip, "eth0"),)
        else:  # an address outside the node's range (a dump): a /32 reached on-link
            iface = Interface("eth0", (ipaddress.ip_interface(f"{p.ip}/32"),), bridge="cni0")
            proutes = (Route(default, gw.ip, "eth0", onlink=True),)
            routes.append(Route(ipaddress.ip_network(p.ip), dev="cni0"))
        if p.ip6 is not None and gw6 is not None and cni != "calico":
            routed = cni == "cilium"
            plen = 128 if routed else cidr6.prefixlen
            iface = replace(iface, addresses=iface.addresses + (ipaddress.ip_interface(f"{p.ip6}/{plen}"),))
            proutes = proutes + ((Route(ipaddress.ip_network(gw6.ip), dev="eth0"),) if routed else ()) + (Route(default6, gw6.ip, "eth0"),)
            if routed:
                routes.append(Route(ipaddress.ip_network(p.ip6), dev=iface.peer))
        namespaces.append(Namespace(pod_ns(p), (iface,), proutes, kind="pod"))
    return namespaces, host_ifaces


def _masquerade(cni: str, cluster_cidr, node_cidr, extra: tuple = ()) -> tuple[tuple[Rule, ...], tuple[Policy, ...]]:
    """What SNATs pods' traffic leaving the cluster to the node's address, as each plugin writes it: the
    ip-masq-agent's chain (bridge, host-gw), flanneld's FLANNEL-POSTRTG, Calico's cali-nat-outgoing (its
    ipsets of IP pools written as the pool's CIDR), Cilium's iptables masquerading (CILIUM_POST_nat)."""
    c, n = cluster_cidr, node_cidr
    if cni == "flannel":
        chain, masq = "FLANNEL-POSTRTG", '-m comment --comment "flanneld masq"'
        lines = [f"-A POSTROUTING {masq} -j {chain}",
                 f"-A {chain} -m mark --mark 0x4000/0x4000 {masq} -j RETURN",
                 f"-A {chain} -s {n} -d {c} {masq} -j RETURN",
                 f"-A {chain} -s {c} -d {n} {masq} -j RETURN",
                 f"-A {chain} ! -s {c} -d {n} {masq} -j RETURN",
                 f"-A {chain} -s {c} ! -d 224.0.0.0/4 {masq} -j MASQUERADE --random-fully",
                 f"-A {chain} ! -s {c} -d {c} {masq} -j MASQUERADE --random-fully"]
    elif cni == "calico":
        chain = "cali-nat-outgoing"
        lines = ['-A POSTROUTING -m comment --comment "cali:O3lYWMrLQYEMJtB5" -j cali-POSTROUTING',
                 '-A cali-POSTROUTING -m comment --comment "cali:Z-c7XtVd2Bq7s_hA" -j cali-nat-outgoing',
                 f'-A {chain} -m comment --comment "cali:flqWnvo8yq4ULQLa (natOutgoing: from the IP pool, to outside every pool)" '
                 f"-s {c} ! -d {c} -j MASQUERADE --random-fully"]
        return tuple(_rule(x, "nat", None) for x in lines), (Policy("nat", "cali-POSTROUTING", "-"), Policy("nat", chain, "-"))
    elif cni == "cilium":
        chain = "CILIUM_POST_nat"
        lines = [f'-A POSTROUTING -m comment --comment "cilium-feeder: CILIUM_POST_nat" -j {chain}',
                 f'-A {chain} -s {n} ! -d {c} ! -o cilium_+ -m comment --comment "cilium masquerade non-cluster" -j MASQUERADE']
    else:
        chain = "IP-MASQ-AGENT"
        lines = ['-A POSTROUTING -m comment --comment "ip-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic '
                 'to our custom IP-MASQ-AGENT chain" -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT']
        lines += [f'-A {chain} -d {cidr} -m comment --comment "ip-masq-agent: local traffic is not subject to MASQUERADE" -j RETURN'
                  for cidr in (c, *extra)]
        lines.append(f'-A {chain} -m comment --comment "ip-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)" '
                     "-j MASQUERADE")
    return tuple(_rule(x, "nat", None) for x in lines), (Policy("nat", chain, "-"),)


def _ipip(mode: str, here, there) -> bool:
    """Calico's IPPool ipipMode: Always, CrossSubnet (only to a node on another subnet), or Never."""
    if mode == "Always":
        return True
    return mode == "CrossSubnet" and here is not None and there is not None and there not in here.network


def augment_lazy(topo: Topology, cluster: Cluster) -> tuple[Topology, dict]:
    """The topology with the cluster compiled in, each node's costly part left for later.

    The node hosts in the returned topology are skeletons: their interfaces, bridges and own routes
    (what the load balancer, the implicit edge router and the address indexes need), without their pods'
    namespaces, the routes to the other nodes and kube-proxy's rules. The dict maps a node to a function
    giving its full host, exactly as :func:`augment` has it."""
    if not cluster.nodes:
        return topo, {}
    return _augment(topo, cluster)


def _augment(topo: Topology, cluster: Cluster) -> tuple[Topology, dict]:
    names = list(cluster.nodes)
    cidrs = cluster.pod_cidrs
    hosts = {h.name: h for h in topo.hosts}
    networks = list(topo.networks)
    implicit = [cluster.nodes[n] for n in names if n not in hosts]
    if implicit and not any(n.name == NODE_NETWORK for n in networks):
        networks.append(Network(NODE_NETWORK, node_network(implicit)))
    underlay = node_network(implicit) if implicit else None
    cfg = cluster.topology.cluster
    cni = cfg.cni
    overlay = {"flannel": "flannel.1", "cilium": "cilium_vxlan"}.get(cni)
    if overlay and not any(n.name == overlay for n in networks):
        networks.append(Network(overlay, None, kind="vxlan"))  # VNI 1, UDP 8472 (flannel's and Cilium's port)
    ipip = cni == "calico" and cfg.ipip_mode != "Never"
    if ipip and not any(n.name == "tunl0" for n in networks):
        networks.append(Network("tunl0", None, kind="ipip"))
    node_ip, node_if = {}, {}
    for n in names:
        if n in hosts:
            node_if[n] = next((a for i in hosts[n].interfaces for a in i.addresses if a.version == 4), None)
        else:
            node_if[n] = ipaddress.ip_interface(f"{cluster.nodes[n].internal_ip}/{underlay.prefixlen}")
        node_ip[n] = node_if[n].ip if node_if[n] is not None else None
    out_hosts = [h for h in topo.hosts if h.name not in cluster.nodes]
    cidrs6 = cluster.pod_cidrs6
    pods_on = pods_by_node(cluster)
    plans: dict[str, tuple] = {}
    for n in names:
        own = [node_if[n]]
        if n not in hosts and cluster.nodes[n].internal_ip6 is not None:  # dual-stack: the implicit node's IPv6 address
            own.append(ipaddress.ip_interface(f"{cluster.nodes[n].internal_ip6}/64"))
        base = hosts.get(n) or Host(n, (Interface("eth0", tuple(own), NODE_NETWORK),), role="node")
        cidr = cidrs[n]
        if cidr is None:  # the pod CIDR has no block left for it (kube-controller-manager: "CIDR allocation failed"):
            out_hosts.append(replace(base, role="node"))  # its pods get no address and stay Pending
            continue
        gw = ipaddress.ip_interface(f"{next(iter(cidr.hosts()))}/{cidr.prefixlen}")  # (a /31's or /32's hosts() is a list)
        cidr6 = cidrs6.get(n)
        gw6 = ipaddress.ip_interface(f"{next(iter(cidr6.hosts()))}/{cidr6.prefixlen}") if cidr6 is not None else None
        interfaces, bridges = base.interfaces, base.bridges
        if cni in ("bridge", "host-gw", "flannel"):
            bridges = bridges + (Bridge("cni0", (gw,) + ((gw6,) if gw6 is not None else ())),)
        elif cni == "cilium":  # the router IP lives on cilium_host; pods route to it
            addrs = (ipaddress.ip_interface(f"{gw.ip}/32"),) + ((ipaddress.ip_interface(f"{gw6.ip}/128"),) if gw6 is not None else ())
            interfaces = interfaces + (Interface("cilium_host", addrs),)
        if overlay:
            vaddrs = (ipaddress.ip_interface(f"{cidr.network_address}/32"),)
            if cidr6 is not None:
                vaddrs += (ipaddress.ip_interface(f"{cidr6.network_address}/128"),)
            vtep = Interface(overlay, vaddrs, overlay, mtu=1450, vxlan=(1, 8472))
            interfaces = interfaces + (vtep,)
        if ipip:
            interfaces = interfaces + (Interface("tunl0", (ipaddress.ip_interface(f"{cidr.network_address}/32"),), "tunl0", mtu=1480, ipip=True),)
        out_hosts.append(replace(base, forwarding=True, role="node", interfaces=interfaces, bridges=bridges))
        plans[n] = (base, cidr, gw, cidr6, gw6)
    lb = _load_balancer(cluster, [h for h in out_hosts if h.name in cluster.nodes], node_ip)
    if lb is not None:
        out_hosts.append(lb)
    out_hosts, networks = _internet(out_hosts, networks, set(cluster.nodes), _far_addresses(cluster))
    ctx = (cluster, names, cidrs, cidrs6, node_ip, node_if, overlay, ipip, pods_on)
    deferred = {h.name: functools.partial(_full_node, ctx, h, *plans[h.name]) for h in out_hosts if h.name in plans}
    return replace(topo, networks=tuple(networks), hosts=tuple(out_hosts)), deferred


def pods_by_node(cluster: Cluster) -> dict[str, list[Pod]]:
    """Each node's pods with a network namespace of their own, in cluster order (made once per cluster)."""
    out = cluster.memo.get("pods-by-node")
    if out is None:
        out = cluster.memo["pods-by-node"] = {}
        for p in cluster.pods:
            if not p.host_network and p.ip is not None:
                out.setdefault(p.node, []).append(p)
    return out


def _full_node(ctx: tuple, skeleton: Host, base: Host, cidr, gw, cidr6, gw6) -> Host:
    """A node's whole host: the skeleton with its pods' namespaces, its routes and its iptables rules."""
    cluster, names, cidrs, cidrs6, node_ip, node_if, overlay, ipip, pods_on = ctx
    n = skeleton.name
    cfg = cluster.topology.cluster
    cni = cfg.cni
    extra = skeleton.routes[len(base.routes):]  # what the implicit edge router gave it (a default route)
    routes = list(base.routes)
    namespaces, _ = _pod_namespaces(cni, pods_on.get(n, []), cidr, gw, routes, cidr6, gw6)
    if cni == "calico":  # the node's own block is a blackhole route, so that unallocated addresses go nowhere
        routes.append(Route(cidr, type="blackhole", proto="bird"))
    for other in names:
        if other == n or node_ip.get(other) is None or cidrs[other] is None or cidrs[other].version != 4:
            continue
        if overlay:  # via the far node's VTEP address, on-link over the VXLAN device
            routes.append(Route(cidrs[other], cidrs[other].network_address, overlay, onlink=True))
            if cidrs6.get(other) is not None and cidrs6.get(n) is not None:  # dual-stack: IPv6 pods inside the same tunnel
                routes.append(Route(cidrs6[other], cidrs6[other].network_address, overlay, onlink=True))
        elif cni == "calico":  # learned from the other node over BGP (BIRD)
            if ipip and _ipip(cfg.ipip_mode, node_if[n], node_ip[other]):
                routes.append(Route(cidrs[other], node_ip[other], "tunl0", onlink=True, proto="bird"))
            else:
                routes.append(Route(cidrs[other], node_ip[other], proto="bird"))
        else:  # the bridge (host-gw) plugin: the other nodes' pod CIDRs via their node IPs
            routes.append(Route(cidrs[other], node_ip[other]))
            far6 = cidrs6.get(other)
            ip6 = cluster.nodes[other].internal_ip6
            if far6 is not None and ip6 is not None and cidrs6.get(n) is not None:  # dual-stack: the same, per family
                routes.append(Route(far6, ip6))
    rules, policies, generated = _kube_proxy(cluster, n) if cni != "cilium" else ((), (), ())
    masq, masq_chains = _masquerade(cni, cfg.pod_cidr, cidr, cfg.pod_cidrs[1:])  # dual-stack: the IPv6 pod CIDR is local too
    rules, policies = rules + masq, policies + masq_chains
    return replace(skeleton, namespaces=base.namespaces + tuple(namespaces), routes=tuple(routes) + extra,
                   rules=base.rules + rules, policies=base.policies + policies, generated=skeleton.generated + generated)


INTERNET = "internet"
INTERNET_NET = ipaddress.ip_network("203.0.113.0/24")  # TEST-NET-3 (RFC 5737): an address on no real network


def _far_addresses(cluster: Cluster) -> list:
    """Addresses out on the internet the cluster may reach: the upstream's A records and nameservers."""
    cfg = cluster.topology.cluster
    out = [ipaddress.ip_address(data) for _, _, rtype, data in cfg.dns_upstream_records if rtype == "A"]  # (name, ttl, type, rdata)
    out += list(cfg.dns_upstream_nameservers) or [ipaddress.ip_address("8.8.8.8")]  # a node's usual resolver
    return list(dict.fromkeys(out))


def _internet(hosts: list[Host], networks: list[Network], nodes: set[str], far: list | None = None) -> tuple[list[Host], list[Network]]:
    """An external client, ``internet`` (203.0.113.10), behind the nodes' default gateway: the
    topology's own gateway host gets a second interface towards it; nodes without a default route get
    one via an implicit ``edge`` router on their network. ``internet`` also stands for the servers out
    there (``far``: the upstream DNS records' addresses and nameservers, when no host of the topology
    has them), and the gateway routes what it does not know to it. Nothing is added when the topology has
    its own ``internet`` host or network, or when 203.0.113.0/24 is already in use."""
    names = {h.name for h in hosts} | {x.name for h in hosts for x in (*h.namespaces, *h.containers)}
    taken = {a.ip for h in hosts for i in h.interfaces for a in i.addresses}
    if INTERNET in names or any(n.name == INTERNET for n in networks) or any(ip in INTERNET_NET for ip in taken):
        return hosts, networks
    node_hosts = [h for h in hosts if h.name in nodes]
    first = next((i for h in node_hosts for i in h.interfaces if i.network and i.addresses and i.addresses[0].version == 4), None)
    if first is None:
        return hosts, networks
    wan = Interface("wan0", (ipaddress.ip_interface("203.0.113.1/24"),), INTERNET)
    default = ipaddress.ip_network("0.0.0.0/0")
    gateways = {r.via for h in node_hosts for r in h.routes if r.to == default and r.via is not None}
    owner = next((h for h in hosts if h.name not in nodes and any(a.ip in gateways for i in h.interfaces for a in i.addresses)), None)
    out = list(hosts)
    to_internet = Route(default, ipaddress.ip_address("203.0.113.10"))
    if owner is not None:
        routes = owner.routes if any(r.to == default for r in owner.routes) else owner.routes + (to_internet,)
        out[out.index(owner)] = replace(owner, interfaces=owner.interfaces + (wan,), forwarding=True, routes=routes)
    else:
        net = first.addresses[0].network  # (the network as declared, when the node's prefix is not the network's)
        net = next((n.cidr for n in networks if n.name == first.network and n.cidr is not None and first.addresses[0].ip in n.cidr), net)
        free = next((ip for ip in net.hosts() if ip not in taken), None)
        if free is None or "edge" in names:
            return hosts, networks
        edge = Host("edge", (Interface("eth0", (ipaddress.ip_interface(f"{free}/{net.prefixlen}"),), first.network), wan),
                    routes=(to_internet,), forwarding=True, role="router")
        out = [replace(h, routes=h.routes + (Route(default, free),))
               if h.name in nodes and not any(r.to == default for r in h.routes) else h for h in out]
        out.append(edge)
    far = [ip for ip in far or () if ip.version == 4 and ip not in taken and not ip.is_private]
    ifaces = (Interface("eth0", (ipaddress.ip_interface("203.0.113.10/24"),), INTERNET),)
    if far:  # the servers out there: addresses of the internet host's own, behind it
        ifaces += (Interface("far0", tuple(ipaddress.ip_interface(f"{ip}/32") for ip in far)),)
    out.append(Host(INTERNET, ifaces, routes=(Route(default, ipaddress.ip_address("203.0.113.1")),), role="external"))
    return out, networks + [Network(INTERNET, INTERNET_NET)]
