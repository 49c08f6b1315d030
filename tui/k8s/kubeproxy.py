"""kube-proxy in iptables mode: the nat rules it writes on a node, as upstream writes them.

Chain names are computed as pkg/proxy/iptables does: the first 16 characters
of the base32 of the SHA-256 of the ServicePortName string and the protocol
(and, for KUBE-SEP, the endpoint). Rules keep kube-proxy's own argument order
and comment quoting, so they read exactly as ``iptables-save`` shows them on a
real node; the packet walker evaluates the same lines.

Per Service port (:class:`PortPlan`, what syncProxyRules computes first): the
ready endpoints for Cluster traffic policy (KUBE-SVC-*) and this node's for
Local policy (KUBE-SVL-*); the KUBE-EXT-* chain of NodePorts and load-balancer
IPs, which masquerades under externalTrafficPolicy Cluster and keeps the
client's address under Local (pods and the node itself short-circuit to
KUBE-SVC); ``sessionAffinity: ClientIP`` as ``-m recent`` checks ahead of the
probability split and a ``--set`` on each endpoint's DNAT; and in the filter
table REJECT for a port without endpoints, DROP for a Local policy without
an endpoint on this node.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from dataclasses import dataclass, replace

from ..model.topology import IPAddress
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


DEFAULT_AFFINITY_SECONDS = 10800  # v1.DefaultClientIPServiceAffinitySeconds: 3 hours


def family_ip(svc: Service, family: int):
    """The Service's cluster IP of one family (dual-stack Services have one per family), or None."""
    return next((ip for ip in svc.cluster_ips if ip.version == family), None)


def _ports(svc: Service, p: ServicePort, cluster: Cluster, family: int | None = None) -> list[Endpoint]:
    """The ready endpoints, once each, of one family (a proxier serves one family: iptables or ip6tables)."""
    if family is None:
        family = svc.cluster_ip.version if svc.cluster_ip is not None else 4
    eps = [e for e in cluster.endpoints_for(svc, p) if e.ready and e.ip.version == family]
    seen, out = set(), []
    for e in sorted(eps, key=str):
        if str(e) not in seen:
            seen.add(str(e))
            out.append(e)
    return out


def _spec(cluster: Cluster, svc: Service) -> dict:
    """The Service object's spec as written (fields the cluster model does not keep)."""
    for o in cluster.topology.objects:
        if o.kind == "Service" and o.name == svc.name and (o.namespace or "default") == svc.namespace:
            spec = o.body.get("spec")
            return spec if isinstance(spec, dict) else {}
    return {}


def affinity_seconds(cluster: Cluster, svc: Service) -> int | None:
    """``sessionAffinity: ClientIP``'s timeout (spec.sessionAffinityConfig.clientIP.timeoutSeconds, default
    10800); None without ClientIP affinity."""
    if svc.session_affinity != "ClientIP":
        return None
    cfg = _spec(cluster, svc).get("sessionAffinityConfig")
    client = cfg.get("clientIP") if isinstance(cfg, dict) else None
    timeout = client.get("timeoutSeconds") if isinstance(client, dict) else None
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 0 < timeout <= 86400:
        return DEFAULT_AFFINITY_SECONDS
    return timeout


@dataclass(frozen=True)
class PortPlan:
    """What kube-proxy makes of one Service port on one node: the endpoints of each traffic policy
    (pkg/proxy CategorizeEndpoints, ready endpoints only) and the flags its proxiers read."""

    svc: Service
    port: ServicePort
    name: str  # the ServicePortName string, ns/svc:port
    proto: str  # lower case
    cluster_endpoints: tuple[Endpoint, ...]  # for Cluster policy (empty when no policy uses them)
    local_endpoints: tuple[Endpoint, ...]  # on this node, for Local policy (empty when no policy uses them)
    has_endpoints: bool  # ready endpoints anywhere in the cluster
    internal_local: bool  # internalTrafficPolicy: Local
    external_local: bool  # externalTrafficPolicy: Local, on a Service reachable from outside
    load_balancer_ip: IPAddress | None  # status.loadBalancer.ingress[0].ip of a LoadBalancer Service
    affinity: int | None  # ClientIP affinity timeout in seconds; None without affinity

    @property
    def node_port(self) -> int | None:
        return self.port.node_port if self.svc.type in ("NodePort", "LoadBalancer") else None

    @property
    def externally_accessible(self) -> bool:
        return bool(self.node_port) or self.load_balancer_ip is not None

    @property
    def has_internal_endpoints(self) -> bool:
        return self.has_endpoints and (not self.internal_local or bool(self.local_endpoints))

    @property
    def has_external_endpoints(self) -> bool:
        return self.has_endpoints and (not self.external_local or bool(self.local_endpoints))

    @property
    def reachable(self) -> list[Endpoint]:
        """Every endpoint some policy sends to from this node: the KUBE-SEP chains."""
        return sorted({str(e): e for e in self.cluster_endpoints + self.local_endpoints}.values(), key=str)


def port_plans(cluster: Cluster, node: str, family: int = 4) -> list[PortPlan]:
    """Every proxied Service port (not headless, not ExternalName) with a cluster IP of ``family``,
    in Service order; ``svc.cluster_ip`` of each plan is that family's address."""
    out = []
    for svc in sorted(cluster.services, key=lambda s: s.key):
        cip = family_ip(svc, family)
        if cip is None or svc.type == "ExternalName":
            continue
        spec = _spec(cluster, svc)
        svc = replace(svc, cluster_ip=cip)
        lb = svc.load_balancer_ip if svc.type == "LoadBalancer" and svc.load_balancer_ip is not None \
            and svc.load_balancer_ip.version == family else None
        for p in svc.ports:
            ready = _ports(svc, p, cluster, family)
            internal_local = spec.get("internalTrafficPolicy") == "Local"
            accessible = bool(p.node_port and svc.type in ("NodePort", "LoadBalancer")) or lb is not None
            external_local = svc.external_traffic_policy == "Local" and svc.type in ("NodePort", "LoadBalancer")
            uses_cluster = not internal_local or accessible  # BaseServicePortInfo.UsesClusterEndpoints
            uses_local = internal_local or (external_local and accessible)  # UsesLocalEndpoints
            out.append(PortPlan(
                svc=svc, port=p, name=svc.port_name(p), proto=p.protocol.lower(),
                cluster_endpoints=tuple(ready) if uses_cluster else (),
                local_endpoints=tuple(e for e in ready if e.node == node) if uses_local else (),
                has_endpoints=bool(ready), internal_local=internal_local, external_local=external_local,
                load_balancer_ip=lb, affinity=affinity_seconds(cluster, svc),
            ))
    return out


def _endpoint_rules(plan: PortPlan, chain: str, endpoints: list[Endpoint] | tuple[Endpoint, ...]) -> list[str]:
    """writeServiceToEndpointRules: the affinity checks first, then the probability split."""
    spn, proto = plan.name, plan.proto
    out = []
    if plan.affinity is not None:
        for e in endpoints:
            sep = sep_chain(spn, proto, str(e))
            out.append(f'-A {chain} -m comment --comment "{spn} -> {e}" -m recent --name {sep} '
                       f"--rcheck --seconds {plan.affinity} --reap -j {sep}")
    for i, e in enumerate(endpoints):
        sep = sep_chain(spn, proto, str(e))
        stat = f" -m statistic --mode random --probability {_probability(len(endpoints) - i)}" if i < len(endpoints) - 1 else ""
        out.append(f'-A {chain} -m comment --comment "{spn} -> {e}"{stat} -j {sep}')
    return out


def _pod_cidr(cluster: Cluster, family: int):
    return next((c for c in cluster.topology.cluster.pod_cidrs if c.version == family), cluster.topology.cluster.pod_cidr)


def nat_rules(cluster: Cluster, node: str, family: int = 4) -> tuple[list[str], list[str]]:
    """The nat table of ``node`` (ip6tables' for ``family`` 6): (chains in declaration order, rules in chain order)."""
    cidr = _pod_cidr(cluster, family)
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
    for plan in port_plans(cluster, node, family):
        if not plan.has_endpoints:
            continue  # kube-proxy REJECTs these in the filter table (filter_rules)
        spn, proto, p, svc = plan.name, plan.proto, plan.port, plan.svc
        svc_name, svl, ext = svc_chain(spn, proto), svc_chain(spn, proto, "KUBE-SVL-"), svc_chain(spn, proto, "KUBE-EXT-")
        internal_chain = svl if plan.internal_local else svc_name
        external_policy_chain = svl if plan.external_local else svc_name
        match = f'-m comment --comment "{spn} cluster IP" -m {proto} -p {proto} -d {svc.cluster_ip} --dport {p.port}'
        if plan.has_internal_endpoints:
            services.append(f"-A KUBE-SERVICES {match} -j {internal_chain}")
        if plan.load_balancer_ip is not None:
            services.append(f'-A KUBE-SERVICES -m comment --comment "{spn} loadbalancer IP" -m {proto} -p {proto} '
                            f"-d {plan.load_balancer_ip} --dport {p.port} -j {ext}")
        if plan.node_port:
            nodeports.append(f"-A KUBE-NODEPORTS -m comment --comment {spn} -m {proto} -p {proto} --dport {plan.node_port} -j {ext}")
        if plan.has_internal_endpoints:
            per_chain.setdefault(internal_chain, []).append(f"-A {internal_chain} {match} ! -s {cidr} -j KUBE-MARK-MASQ")
        if plan.externally_accessible:
            chains.append(ext)
            if not plan.external_local:  # the endpoint may be on another node: masquerade
                body = [f'-A {ext} -m comment --comment "masquerade traffic for {spn} external destinations" -j KUBE-MARK-MASQ']
            else:  # only this node's endpoints: the client's address is kept, except for pods and the node itself
                body = [
                    f'-A {ext} -m comment --comment "pod traffic for {spn} external destinations" -s {cidr} -j {svc_name}',
                    f'-A {ext} -m comment --comment "masquerade LOCAL traffic for {spn} external destinations" '
                    "-m addrtype --src-type LOCAL -j KUBE-MARK-MASQ",
                    f'-A {ext} -m comment --comment "route LOCAL traffic for {spn} external destinations" '
                    f"-m addrtype --src-type LOCAL -j {svc_name}",
                ]
            if plan.has_external_endpoints:
                body.append(f"-A {ext} -j {external_policy_chain}")
            per_chain[ext] = body
        if plan.cluster_endpoints:
            chains.append(svc_name)
            per_chain.setdefault(svc_name, []).extend(_endpoint_rules(plan, svc_name, plan.cluster_endpoints))
        if plan.local_endpoints:
            chains.append(svl)
            per_chain.setdefault(svl, []).extend(_endpoint_rules(plan, svl, plan.local_endpoints))
        for e in plan.reachable:
            sep = sep_chain(spn, proto, str(e))
            chains.append(sep)
            recent = f" -m recent --name {sep} --set" if plan.affinity is not None else ""
            per_chain[sep] = [
                f"-A {sep} -m comment --comment {spn} -s {e.ip} -j KUBE-MARK-MASQ",
                f"-A {sep} -m comment --comment {spn}{recent} -m {proto} -p {proto} -j DNAT --to-destination {e}",
            ]
    rules += services
    rules.append('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" '
                 "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS")
    rules += nodeports
    for chain in sorted(per_chain):
        rules += per_chain[chain]
    return chains, rules


def filter_rules(cluster: Cluster, node: str, family: int = 4) -> tuple[list[str], list[str]]:
    """The filter table's kube-proxy part: REJECT for Service ports without endpoints, DROP for a Local
    traffic policy without an endpoint on this node."""
    chains = ["KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS", "KUBE-FORWARD"]
    rules = [
        '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    ]
    for plan in port_plans(cluster, node, family):
        spn, proto, p = plan.name, plan.proto, plan.port
        if not plan.has_endpoints:
            target, why = "REJECT --reject-with icmp-port-unreachable", "has no endpoints"
        else:
            target, why = "DROP", "has no local endpoints"
        if not plan.has_internal_endpoints:
            rules.append(f'-A KUBE-SERVICES -m comment --comment "{spn} {why}" -m {proto} -p {proto} -d {plan.svc.cluster_ip} '
                         f"--dport {p.port} -j {target}")
        if plan.has_external_endpoints:
            continue
        if plan.load_balancer_ip is not None:
            rules.append(f'-A KUBE-EXTERNAL-SERVICES -m comment --comment "{spn} {why}" -m {proto} -p {proto} '
                         f"-d {plan.load_balancer_ip} --dport {p.port} -j {target}")
        if plan.node_port:
            rules.append(f'-A KUBE-EXTERNAL-SERVICES -m comment --comment "{spn} {why}" -m addrtype --dst-type LOCAL '
                         f"-m {proto} -p {proto} --dport {plan.node_port} -j {target}")
    return chains, rules


BUILTIN = {"nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"), "filter": ("INPUT", "FORWARD", "OUTPUT")}


def families(cluster: Cluster) -> tuple[int, ...]:
    """The IP families kube-proxy serves: one proxier per family of the service CIDRs (4, and 6 when dual-stack)."""
    return tuple(sorted({c.version for c in cluster.topology.cluster.service_cidrs}))


def iptables_save(cluster: Cluster, node: str, tables: tuple[str, ...] = ("filter", "nat"), family: int = 4) -> str:
    """What ``iptables-save`` (``ip6tables-save`` for ``family`` 6) prints on ``node`` for kube-proxy's tables."""
    out = []
    for table in tables:
        chains, rules = (nat_rules if table == "nat" else filter_rules)(cluster, node, family)
        out.append(f"*{table}")
        out += [f":{c} ACCEPT [0:0]" for c in BUILTIN[table]]
        out += [f":{c} - [0:0]" for c in dict.fromkeys(chains)]
        out += rules
        out.append("COMMIT")
    return "\n".join(out) + "\n"


def is_cluster_ip(cluster: Cluster, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(ip in s.cluster_ips for s in cluster.services)
