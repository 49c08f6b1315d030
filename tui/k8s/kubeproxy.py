"""kube-proxy in iptables mode: the nat rules it writes on a node, as upstream writes them.

Chain names are computed as pkg/proxy/iptables does: the first 16 characters
of the base32 of the SHA-256 of the ServicePortName string and the protocol
(and, for KUBE-SEP, the endpoint). Rules keep kube-proxy's own argument order
and comment quoting, so they read exactly as ``iptables-save`` shows them on a
real node; the packet walker evaluates the same lines.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress

from .cluster import Cluster, Endpoint, Service, ServicePort

MASQ_MARK = "0x4000"
PREFIXES = ("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-")


def port_proto_hash(service_port_name: str, protocol: str) -> str:
    digest = hashlib.sha256((service_port_name + protocol.lower()).encode()).digest()
    return base64.b32encode(digest).decode()[:16]


def svc_chain(service_port_name: str, protocol: str, prefix: str = "KUBE-SVC-") -> str:
    """KUBE-SVC-* (or KUBE-SVL-, KUBE-EXT-, KUBE-FW- with ``prefix``) for a service port."""
    return prefix + port_proto_hash(service_port_name, protocol)


def sep_chain(service_port_name: str, protocol: str, endpoint: str) -> str:
    """KUBE-SEP-* for one endpoint (``ip:port``) of a service port."""
    digest = hashlib.sha256((service_port_name + protocol.lower() + endpoint).encode()).digest()
    return "KUBE-SEP-" + base64.b32encode(digest).decode()[:16]


def _probability(n: int) -> str:
    return f"{1.0 / n:0.10f}"


def _ports(svc: Service, p: ServicePort, cluster: Cluster) -> list[Endpoint]:
    eps = [e for e in cluster.endpoints_for(svc, p) if e.ready]
    seen, out = set(), []
    for e in sorted(eps, key=str):
        if str(e) not in seen:
            seen.add(str(e))
            out.append(e)
    return out


def nat_rules(cluster: Cluster, node: str) -> tuple[list[str], list[str]]:
    """The nat table of ``node``: (chains in declaration order, rules in chain order)."""
    cidr = cluster.topology.cluster.pod_cidr
    chains = ["KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-NODEPORTS", "KUBE-MARK-MASQ"]
    rules = [
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        f"-A KUBE-POSTROUTING -m mark ! --mark {MASQ_MARK}/{MASQ_MARK} -j RETURN",
        f"-A KUBE-POSTROUTING -j MARK --xor-mark {MASQ_MARK}",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
        f"-A KUBE-MARK-MASQ -j MARK --or-mark {MASQ_MARK}",
    ]
    services, per_chain, nodeports = [], {}, []
    for svc in sorted(cluster.services, key=lambda s: s.key):
        if svc.cluster_ip is None or svc.type == "ExternalName":
            continue
        for p in svc.ports:
            spn = svc.port_name(p)
            proto = p.protocol.lower()
            eps = _ports(svc, p, cluster)
            if not eps:
                continue  # kube-proxy REJECTs these in the filter table (filter_rules)
            svc_name = svc_chain(spn, proto)
            chains.append(svc_name)
            dst = f"-d {svc.cluster_ip}" if svc.cluster_ip.version == 4 else f"-d {svc.cluster_ip}"
            services.append(f'-A KUBE-SERVICES -m comment --comment "{spn} cluster IP" -m {proto} -p {proto} {dst} --dport {p.port} -j {svc_name}')
            if svc.type == "LoadBalancer" and svc.load_balancer_ip is not None and p.node_port:
                services.append(f'-A KUBE-SERVICES -m comment --comment "{spn} loadbalancer IP" -m {proto} -p {proto} '
                                f"-d {svc.load_balancer_ip} --dport {p.port} -j {svc_chain(spn, proto, 'KUBE-EXT-')}")
            body = [f'-A {svc_name} -m comment --comment "{spn} cluster IP" -m {proto} -p {proto} {dst} --dport {p.port} ! -s {cidr} -j KUBE-MARK-MASQ']
            for i, e in enumerate(eps):
                sep = sep_chain(spn, proto, str(e))
                stat = f" -m statistic --mode random --probability {_probability(len(eps) - i)}" if i < len(eps) - 1 else ""
                body.append(f'-A {svc_name} -m comment --comment "{spn} -> {e}"{stat} -j {sep}')
                chains.append(sep)
                per_chain[sep] = [
                    f"-A {sep} -m comment --comment {spn} -s {e.ip} -j KUBE-MARK-MASQ",
                    f"-A {sep} -m comment --comment {spn} -m {proto} -p {proto} -j DNAT --to-destination {e}",
                ]
            per_chain[svc_name] = body
            if svc.type in ("NodePort", "LoadBalancer") and p.node_port:
                ext = svc_chain(spn, proto, "KUBE-EXT-")
                chains.append(ext)
                nodeports.append(f"-A KUBE-NODEPORTS -m comment --comment {spn} -m {proto} -p {proto} --dport {p.node_port} -j {ext}")
                per_chain[ext] = [
                    f'-A {ext} -m comment --comment "masquerade traffic for {spn} external destinations" -j KUBE-MARK-MASQ',
                    f"-A {ext} -j {svc_name}",
                ]
    rules += services
    rules.append('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" '
                 "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS")
    rules += nodeports
    for chain in sorted(per_chain):
        rules += per_chain[chain]
    return chains, rules


def filter_rules(cluster: Cluster, node: str) -> tuple[list[str], list[str]]:
    """The filter table's kube-proxy part: REJECT for service ports without endpoints."""
    chains = ["KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS", "KUBE-FORWARD"]
    rules = [
        '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    ]
    for svc in sorted(cluster.services, key=lambda s: s.key):
        if svc.cluster_ip is None or svc.type == "ExternalName":
            continue
        for p in svc.ports:
            if _ports(svc, p, cluster):
                continue
            spn, proto = svc.port_name(p), p.protocol.lower()
            rules.append(f'-A KUBE-SERVICES -m comment --comment "{spn} has no endpoints" -m {proto} -p {proto} -d {svc.cluster_ip} '
                         f"--dport {p.port} -j REJECT --reject-with icmp-port-unreachable")
            if svc.type in ("NodePort", "LoadBalancer") and p.node_port:
                rules.append(f'-A KUBE-EXTERNAL-SERVICES -m comment --comment "{spn} has no endpoints" -m addrtype --dst-type LOCAL '
                             f"-m {proto} -p {proto} --dport {p.node_port} -j REJECT --reject-with icmp-port-unreachable")
    return chains, rules


BUILTIN = {"nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"), "filter": ("INPUT", "FORWARD", "OUTPUT")}


def iptables_save(cluster: Cluster, node: str, tables: tuple[str, ...] = ("filter", "nat")) -> str:
    """What ``iptables-save`` prints on ``node`` for kube-proxy's tables."""
    out = []
    for table in tables:
        chains, rules = (nat_rules if table == "nat" else filter_rules)(cluster, node)
        out.append(f"*{table}")
        out += [f":{c} ACCEPT [0:0]" for c in BUILTIN[table]]
        out += [f":{c} - [0:0]" for c in dict.fromkeys(chains)]
        out += rules
        out.append("COMMIT")
    return "\n".join(out) + "\n"


def is_cluster_ip(cluster: Cluster, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(s.cluster_ip == ip for s in cluster.services)
