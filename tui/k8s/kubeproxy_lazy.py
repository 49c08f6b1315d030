"""kube-proxy's nat table written lazily: each Service port's rules when a packet first needs them.

:func:`nat_table_lazy` gives the same rules, in the same order, as :func:`tui.k8s.kubeproxy.nat_table`,
but a Service port's KUBE-SERVICES and KUBE-NODEPORTS rules are written only for the packets that can
match them (found by address, protocol and port), and its own chains (KUBE-SVC-*, KUBE-SVL-*, KUBE-EXT-*
and their KUBE-SEP-*) when a packet first jumps to one of them. The simulated data path
(:mod:`tui.k8s.datapath`) uses it so that a big cluster's nodes are not written out in full.
"""

from __future__ import annotations

import functools

from .cluster import Cluster
from .kubeproxy import NAT_HEAD, NAT_NODEPORTS, Lines, PortPlan, _base_plans, _by_chain, _nat_plan, _node_plans, _pod_cidr, port_proto_hash


def nat_table_lazy(cluster: Cluster, node: str, family: int, convert, tag: str, run) -> tuple[list[str], list[tuple], list[tuple]]:
    """:func:`nat_table` with each Service port's rules written when first needed: (the chains every node
    declares, groups of converted rules, [(entry chains, function giving ((chain, lines), ...))] per port
    plan with endpoints).

    The Service ports' rules in KUBE-SERVICES and KUBE-NODEPORTS come as one ``run(table, chain, count,
    keys, make)`` each (a :class:`tui.sim.netfilter.Run`): a packet's walk writes only the rules its
    destination can match, found by (address, protocol, port). A port's own chains (KUBE-SVC-*, KUBE-SVL-*,
    KUBE-EXT-*, and the KUBE-SEP-* they jump to) are written by its function when a packet first jumps to
    one of its entry chains. Same rules, same order as :func:`nat_table`."""
    memo = cluster.memo.setdefault(("nat-table-lazy", family, tag), {})
    cidr = _pod_cidr(cluster, family)
    plans, own = _node_plans(cluster, node, family)
    base = memo.get("base")
    if base is None:
        memo["head"] = convert(NAT_HEAD), convert(NAT_NODEPORTS)
        base = memo["base"] = [_lazy_entries(plan, cidr) for plan in _base_plans(cluster, family)]
    parts = list(base)
    for i in own:
        key = (i, plans[i].local_endpoints)
        part = memo.get(key)
        if part is None:
            part = memo[key] = _lazy_entries(plans[i], cidr)
        parts[i] = part
    head, nodeports_rule = memo["head"]
    services_keys, nodeports_keys = _run_keys(cluster, family)
    make = functools.partial(_entry_rules, plans, frozenset(own), memo, convert)
    groups = [head, (run("nat", "KUBE-SERVICES", len(plans), services_keys, functools.partial(make, 0)),), nodeports_rule,
              (run("nat", "KUBE-NODEPORTS", len(plans), nodeports_keys, functools.partial(make, 1)),)]
    return ["KUBE-SERVICES", "KUBE-POSTROUTING", "KUBE-NODEPORTS", "KUBE-MARK-MASQ"], groups, [p for p in parts if p is not None]


def _run_keys(cluster: Cluster, family: int) -> tuple[dict, dict]:
    """Which port plans' KUBE-SERVICES rules can match a packet to (address, protocol, port), and which
    plans' KUBE-NODEPORTS rules one to (None, protocol, port): the same on every node (made once)."""
    key = ("run-keys", family)
    found = cluster.memo.get(key)
    if found is None:
        services: dict = {}
        nodeports: dict = {}
        for i, plan in enumerate(_base_plans(cluster, family)):
            port = plan.port.port
            services.setdefault((plan.svc.cluster_ip, plan.proto, port), []).append(i)
            if plan.load_balancer_ip is not None:
                services.setdefault((plan.load_balancer_ip, plan.proto, port), []).append(i)
            if plan.node_port:
                nodeports.setdefault((None, plan.proto, plan.node_port), []).append(i)
        found = cluster.memo[key] = (services, nodeports)
    return found


def _entry_rules(plans: list[PortPlan], own: frozenset, memo: dict, convert, which: int, i: int) -> Lines:
    """Plan ``i``'s KUBE-SERVICES (``which`` 0) or KUBE-NODEPORTS (1) rules on a node, converted; written once
    for the nodes without local endpoints of that plan."""
    plan = plans[i]
    key = ("rules", i, plan.local_endpoints) if i in own else ("rules", i)
    found = memo.get(key)
    if found is None:
        if not plan.has_endpoints:
            found = ((), ())
        else:
            digest = port_proto_hash(plan.name, plan.proto)
            services, nodeports = _nat_entries(plan, "KUBE-SVC-" + digest, "KUBE-SVL-" + digest, "KUBE-EXT-" + digest)
            found = (convert(services), convert(nodeports))
        memo[key] = found
    return found[which]


def _lazy_entries(plan: PortPlan, cidr) -> tuple | None:
    """A plan's entry chains (those its KUBE-SERVICES and KUBE-NODEPORTS rules jump to) and a function
    writing its own chains; None for a plan without endpoints."""
    if not plan.has_endpoints:
        return None
    digest = port_proto_hash(plan.name, plan.proto)
    svc_name, svl, ext = "KUBE-SVC-" + digest, "KUBE-SVL-" + digest, "KUBE-EXT-" + digest  # (svc_chain's names)
    entries = []
    if plan.has_internal_endpoints:
        entries.append(svl if plan.internal_local else svc_name)
    if plan.externally_accessible:
        entries.append(ext)
    if plan.has_cluster_endpoints:
        entries.append(svc_name)
    if plan.local_endpoints:
        entries.append(svl)
    return tuple(dict.fromkeys(entries)), functools.partial(_plan_chains, plan, cidr)


def _plan_chains(plan: PortPlan, cidr) -> tuple[tuple[str, Lines], ...]:
    return _by_chain(_nat_plan(plan, cidr)[3])


def _nat_entries(plan: PortPlan, svc_name: str, svl: str, ext: str) -> tuple[Lines, Lines]:
    """A plan's KUBE-SERVICES and KUBE-NODEPORTS rules (as _nat_plan writes them), given its chains' names."""
    services, nodeports = [], []
    spn, proto, p, svc = plan.name, plan.proto, plan.port, plan.svc
    internal_chain = svl if plan.internal_local else svc_name
    if plan.has_internal_endpoints:
        services.append(f'-A KUBE-SERVICES -m comment --comment "{spn} cluster IP" -m {proto} -p {proto} -d {svc.cluster_ip} '
                        f"--dport {p.port} -j {internal_chain}")
    if plan.load_balancer_ip is not None:
        services.append(f'-A KUBE-SERVICES -m comment --comment "{spn} loadbalancer IP" -m {proto} -p {proto} '
                        f"-d {plan.load_balancer_ip} --dport {p.port} -j {ext}")
    if plan.node_port:
        nodeports.append(f"-A KUBE-NODEPORTS -m comment --comment {spn} -m {proto} -p {proto} --dport {plan.node_port} -j {ext}")
    return tuple(services), tuple(nodeports)
