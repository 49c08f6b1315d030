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

The nat table written lazily (each port's rules when a packet first needs them), which the simulated data
path walks, is in :mod:`tui.k8s.kubeproxy_lazy`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
import itertools
import operator
from dataclasses import dataclass, replace

from ..model.topology import IPAddress
from .cluster import Cluster, Endpoint, Service, ServicePort

MASQ_MARK = "0x4000"
PREFIXES = ("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-")


@functools.lru_cache(maxsize=1 << 16)
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


def _ready(endpoints, family: int) -> list[Endpoint]:
    """The ready ones of ``endpoints`` of ``family``, once each, in string order (kube-proxy's; a proxier
    serves one family: iptables or ip6tables)."""
    eps = sorted(((str(e), e) for e in endpoints if e.ready and e.ip.version == family), key=_FIRST)
    seen, out = set(), []
    for text, e in eps:
        if text not in seen:
            seen.add(text)
            out.append(e)
    return out


def _spec(cluster: Cluster, svc: Service) -> dict:
    """The Service object's spec as written (fields the cluster model does not keep): the first Service
    object of that namespace and name (an index of them made once per cluster)."""
    index = cluster.memo.get("service-objects")
    if index is None:
        index = {}
        for o in cluster.objects_of("Service"):
            index.setdefault(((o.namespace or "default"), o.name), o)
        cluster.memo["service-objects"] = index
    o = index.get((svc.namespace, svc.name))
    if o is None:
        return {}
    spec = o.body.get("spec")
    return spec if isinstance(spec, dict) else {}


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
    listed: object  # the port's endpoints as listed (see cluster_endpoints), or a function giving them; () if no policy uses them
    local_endpoints: tuple[Endpoint, ...]  # on this node, for Local policy (empty when no policy uses them)
    has_endpoints: bool  # ready endpoints anywhere in the cluster
    internal_local: bool  # internalTrafficPolicy: Local
    external_local: bool  # externalTrafficPolicy: Local, on a Service reachable from outside
    load_balancer_ip: IPAddress | None  # status.loadBalancer.ingress[0].ip of a LoadBalancer Service
    affinity: int | None  # ClientIP affinity timeout in seconds; None without affinity
    family: int = 4

    @functools.cached_property
    def cluster_endpoints(self) -> tuple[Endpoint, ...]:
        """The ready endpoints of the family, once each, in string order, for Cluster policy (empty when no
        policy uses them): sorted when first asked, as most plans of a big cluster are never walked."""
        listed = self.listed() if callable(self.listed) else self.listed
        return tuple(_ready(listed, self.family))

    @property
    def has_cluster_endpoints(self) -> bool:
        """Whether :attr:`cluster_endpoints` is not empty, without sorting them."""
        return self.has_endpoints and bool(self.listed)

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


def _plan_bases(cluster: Cluster, family: int) -> list[tuple[PortPlan, dict | None]]:
    """What every node's port plans share, computed once per cluster and family: each plan without its
    local endpoints, and (for a plan that uses local endpoints) its ready endpoints by node, in order."""
    key = ("port-plans", family)
    bases = cluster.memo.get(key)
    if bases is not None:
        return bases
    bases = []
    has_ready = getattr(cluster.endpoints, "has_ready", None)
    for svc in sorted(cluster.services, key=lambda s: s.key):
        cip = family_ip(svc, family)
        if cip is None or svc.type == "ExternalName":
            continue
        spec = _spec(cluster, svc)
        if cip != svc.cluster_ip:  # (the second family of a dual-stack Service)
            svc = replace(svc, cluster_ip=cip)
        lb = svc.load_balancer_ip if svc.type == "LoadBalancer" and svc.load_balancer_ip is not None \
            and svc.load_balancer_ip.version == family else None
        for p in svc.ports:
            if has_ready is not None:  # (whether it has endpoints, without making them: read when its chains are written)
                listed = functools.partial(cluster.endpoints_for, svc, p)
                has_endpoints = has_ready(svc, p, family)
            else:
                listed = tuple(cluster.endpoints_for(svc, p))
                has_endpoints = any(e.ready and e.ip.version == family for e in listed)
            internal_local = spec.get("internalTrafficPolicy") == "Local"
            accessible = bool(p.node_port and svc.type in ("NodePort", "LoadBalancer")) or lb is not None
            external_local = svc.external_traffic_policy == "Local" and svc.type in ("NodePort", "LoadBalancer")
            uses_cluster = not internal_local or accessible  # BaseServicePortInfo.UsesClusterEndpoints
            uses_local = internal_local or (external_local and accessible)  # UsesLocalEndpoints
            by_node: dict | None = None
            if uses_local:
                by_node = {}
                for e in _ready(listed() if callable(listed) else listed, family):
                    by_node.setdefault(e.node, []).append(e)
                by_node = {n: tuple(eps) for n, eps in by_node.items()}
            bases.append((PortPlan(
                svc=svc, port=p, name=svc.port_name(p), proto=p.protocol.lower(),
                listed=listed if uses_cluster else (),
                local_endpoints=(),
                has_endpoints=has_endpoints, internal_local=internal_local, external_local=external_local,
                load_balancer_ip=lb, affinity=affinity_seconds(cluster, svc), family=family,
            ), by_node))
    cluster.memo[key] = bases
    return bases


def _node_locals(cluster: Cluster, family: int) -> dict:
    """node -> [(plan index, that node's ready endpoints)] for the plans that use local endpoints."""
    key = ("node-locals", family)
    out = cluster.memo.get(key)
    if out is None:
        out = {}
        for i, (_, by_node) in enumerate(_plan_bases(cluster, family)):
            for node, eps in (by_node or {}).items():
                out.setdefault(node, []).append((i, eps))
        cluster.memo[key] = out
    return out


def _base_plans(cluster: Cluster, family: int) -> list[PortPlan]:
    """The port plans of a node without local endpoints."""
    plans = cluster.memo.get(("base-plans", family))
    if plans is None:
        plans = cluster.memo[("base-plans", family)] = [plan for plan, _ in _plan_bases(cluster, family)]
    return plans


def _node_plans(cluster: Cluster, node: str, family: int) -> tuple[list[PortPlan], list[int]]:
    """port_plans, and the indexes of the plans with local endpoints on ``node`` (where they differ
    from the plan every node without local endpoints makes)."""
    plans = list(_base_plans(cluster, family))
    own = []
    for i, local in _node_locals(cluster, family).get(node, ()):
        plans[i] = replace(plans[i], local_endpoints=local)
        own.append(i)
    return plans, own


def port_plans(cluster: Cluster, node: str, family: int = 4) -> list[PortPlan]:
    """Every proxied Service port (not headless, not ExternalName) with a cluster IP of ``family``,
    in Service order; ``svc.cluster_ip`` of each plan is that family's address."""
    return _node_plans(cluster, node, family)[0]


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


Lines = tuple[str, ...]


def _nat_plan(plan: PortPlan, cidr) -> tuple[Lines, Lines, tuple[str, ...], tuple[tuple[bool, str, Lines], ...]]:
    """One port plan's part of the nat table: (KUBE-SERVICES rules, KUBE-NODEPORTS rules, chains declared,
    rules of its chains as (replace?, chain, rules) in the order they are written), all tuples, shared by
    the nodes that make the same plan."""
    services, nodeports, chains, per_chain = [], [], [], []
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
        per_chain.append((False, internal_chain, (f"-A {internal_chain} {match} ! -s {cidr} -j KUBE-MARK-MASQ",)))
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
        per_chain.append((True, ext, tuple(body)))
    if plan.cluster_endpoints:
        chains.append(svc_name)
        per_chain.append((False, svc_name, tuple(_endpoint_rules(plan, svc_name, plan.cluster_endpoints))))
    if plan.local_endpoints:
        chains.append(svl)
        per_chain.append((False, svl, tuple(_endpoint_rules(plan, svl, plan.local_endpoints))))
    for e in plan.reachable:
        sep = sep_chain(spn, proto, str(e))
        chains.append(sep)
        recent = f" -m recent --name {sep} --set" if plan.affinity is not None else ""
        per_chain.append((True, sep, (
            f"-A {sep} -m comment --comment {spn} -s {e.ip} -j KUBE-MARK-MASQ",
            f"-A {sep} -m comment --comment {spn}{recent} -m {proto} -p {proto} -j DNAT --to-destination {e}",
        )))
    return tuple(services), tuple(nodeports), tuple(chains), tuple(per_chain)


def _by_chain(ops) -> tuple[tuple[str, Lines], ...]:
    """What a sequence of (replace?, chain, rules) leaves in each chain, chains in first-written order."""
    out: dict[str, Lines] = {}
    for replaces, chain, lines in ops:
        out[chain] = lines if replaces else out.get(chain, ()) + lines
    return tuple(out.items())


NAT_HEAD = (
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    f"-A KUBE-POSTROUTING -m mark ! --mark {MASQ_MARK}/{MASQ_MARK} -j RETURN",
    f"-A KUBE-POSTROUTING -j MARK --xor-mark {MASQ_MARK}",
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    f"-A KUBE-MARK-MASQ -j MARK --or-mark {MASQ_MARK}",
)
NAT_NODEPORTS = ('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" '
                 "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS",)


def _same(lines: Lines) -> Lines:
    return lines


def _nat_fragment(cluster: Cluster, plan: PortPlan, family: int) -> tuple | None:
    """One plan's part of the nat table: (KUBE-SERVICES rules, KUBE-NODEPORTS rules, chains declared,
    ((replace?, chain, rules), ...) as written, ((chain, rules), ...) as they end up); None for a plan
    without endpoints (kube-proxy REJECTs these in the filter table)."""
    if not plan.has_endpoints:
        return None
    services, nodeports, chains, ops = _nat_plan(plan, _pod_cidr(cluster, family))
    return services, nodeports, chains, ops, _by_chain(ops)


def _converted(part: tuple | None, convert) -> tuple | None:
    """A fragment with its groups of rules put through ``convert``."""
    if part is None or convert is _same:
        return part
    services, nodeports, chains, ops, by_chain = part
    return (convert(services), convert(nodeports), chains, tuple((r, c, convert(lines)) for r, c, lines in ops),
            tuple((c, convert(lines)) for c, lines in by_chain))


def _nat_assemble(parts: list[tuple], head, nodeports_rule) -> tuple[list[str], list]:
    """A node's nat table from its plans' fragments (those with endpoints, in order): (chains, groups)."""
    chains = ["KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-NODEPORTS", "KUBE-MARK-MASQ"]
    chains += itertools.chain.from_iterable(map(_CHAINS, parts))
    written = list(itertools.chain.from_iterable(map(_WRITTEN, parts)))  # (chain, rules)
    if len(set(map(_FIRST, written))) == len(written):  # each chain written by one plan: its rules in name order
        written.sort(key=_FIRST)
        own_chains = map(_SECOND, written)
    else:  # chains that several plans write (two ports of one name): as kube-proxy's map of chains leaves them
        per_chain: dict[str, list] = {}
        for part in parts:
            for replaces, chain, lines in part[3]:
                if replaces:
                    per_chain[chain] = [lines]
                else:
                    per_chain.setdefault(chain, []).append(lines)
        own_chains = itertools.chain.from_iterable(per_chain[c] for c in sorted(per_chain))
    return chains, [head, *map(_SERVICES, parts), nodeports_rule, *map(_NODEPORTS, parts), *own_chains]


def nat_table(cluster: Cluster, node: str, family: int = 4, convert=None, tag: str = "") -> tuple[list[str], list[tuple]]:
    """:func:`nat_rules` as (chains, groups of rules in order), each group put through ``convert`` (a function
    of a tuple of lines, the same for one ``tag``) once per cluster, however many nodes have it.

    A port plan's rules depend on the node only through its local endpoints: each plan's part is written
    once for the nodes without local endpoints, and once per node for the few plans that have some there."""
    convert = convert or _same
    memo = cluster.memo.setdefault(("nat-table", family, tag), {})
    plans, own = _node_plans(cluster, node, family)
    base = memo.get("base")
    if base is None:
        lines = [_nat_fragment(cluster, plan, family) for plan in _base_plans(cluster, family)]
        memo["head"] = convert(NAT_HEAD), convert(NAT_NODEPORTS)
        if convert is not _same:  # converted in the order a node lists them (rules walked in turn sit together in memory)
            for group in _nat_assemble(list(filter(None, lines)), NAT_HEAD, NAT_NODEPORTS)[1]:
                convert(group)
        base = memo["base"] = [_converted(part, convert) for part in lines]
    parts = list(base)
    for i in own:
        key = (i, plans[i].local_endpoints)
        part = memo.get(key)
        if part is None:
            part = memo[key] = _converted(_nat_fragment(cluster, plans[i], family), convert)
        parts[i] = part
    return _nat_assemble(list(filter(None, parts)), *memo["head"])


_SERVICES, _NODEPORTS, _CHAINS, _WRITTEN = (operator.itemgetter(k) for k in (0, 1, 2, 4))
_FIRST, _SECOND = operator.itemgetter(0), operator.itemgetter(1)


def nat_rules(cluster: Cluster, node: str, family: int = 4) -> tuple[list[str], list[str]]:
    """The nat table of ``node`` (ip6tables' for ``family`` 6): (chains in declaration order, rules in chain order)."""
    chains, groups = nat_table(cluster, node, family)
    return chains, list(itertools.chain.from_iterable(groups))


def _filter_plan(plan: PortPlan) -> list[str]:
    """One port plan's part of the filter table."""
    rules = []
    spn, proto, p = plan.name, plan.proto, plan.port
    if not plan.has_endpoints:
        target, why = "REJECT --reject-with icmp-port-unreachable", "has no endpoints"
    else:
        target, why = "DROP", "has no local endpoints"
    if not plan.has_internal_endpoints:
        rules.append(f'-A KUBE-SERVICES -m comment --comment "{spn} {why}" -m {proto} -p {proto} -d {plan.svc.cluster_ip} '
                     f"--dport {p.port} -j {target}")
    if plan.has_external_endpoints:
        return rules
    if plan.load_balancer_ip is not None:
        rules.append(f'-A KUBE-EXTERNAL-SERVICES -m comment --comment "{spn} {why}" -m {proto} -p {proto} '
                     f"-d {plan.load_balancer_ip} --dport {p.port} -j {target}")
    if plan.node_port:
        rules.append(f'-A KUBE-EXTERNAL-SERVICES -m comment --comment "{spn} {why}" -m addrtype --dst-type LOCAL '
                     f"-m {proto} -p {proto} --dport {plan.node_port} -j {target}")
    return rules


FILTER_HEAD = (
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
)


def filter_table(cluster: Cluster, node: str, family: int = 4, convert=None, tag: str = "") -> tuple[list[str], list[tuple]]:
    """:func:`filter_rules` as (chains, groups of rules), as :func:`nat_table`."""
    convert = convert or _same
    memo = cluster.memo.setdefault(("filter-table", family, tag), {})
    plans, own = _node_plans(cluster, node, family)
    base = memo.get("base")
    if base is None:
        base = memo["base"] = [convert(tuple(_filter_plan(plan))) for plan in _base_plans(cluster, family)]
    if "head" not in memo:
        memo["head"] = convert(FILTER_HEAD)
    groups = [memo["head"], *base]
    for i in own:
        key = (i, bool(plans[i].local_endpoints))  # the node enters only through whether it has a local endpoint
        part = memo.get(key)
        if part is None:
            part = memo[key] = convert(tuple(_filter_plan(plans[i])))
        groups[i + 1] = part
    chains = ["KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS", "KUBE-FORWARD"]
    return chains, groups


def filter_rules(cluster: Cluster, node: str, family: int = 4) -> tuple[list[str], list[str]]:
    """The filter table's kube-proxy part: REJECT for Service ports without endpoints, DROP for a Local
    traffic policy without an endpoint on this node."""
    chains, groups = filter_table(cluster, node, family)
    return chains, list(itertools.chain.from_iterable(groups))


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
