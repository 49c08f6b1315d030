"""The whole topology compiled and checked as the kernel would take it: routes it would refuse, addresses used twice
on one segment or in one namespace, iptables jumps to chains that do not exist, a load balancer's address off the
nodes' network; each problem located in the files, or, for what the simulator writes itself (a node's routes to
other nodes' pods), said in terms of what to change in them."""

from __future__ import annotations

from ..model.source import NOWHERE, Mark
from ..model.topology import Topology
from .errors import Problems


def _far_external_ip(topo: Topology, cluster, ip, seg, problems: Problems) -> None:
    """A LoadBalancer Service's external IP off the nodes' network: the simulated load balancer holds it there, where
    only that network reaches it. Said where the address comes from: the pool, or the Service's status."""
    pool = topo.cluster.load_balancer_pool
    svc = next((s for s in cluster.services if s.load_balancer_ip == ip), None)
    obj = next((o for o in topo.objects if svc is not None and o.kind == "Service" and o.name == svc.name
                and (o.namespace or "default") == svc.namespace), None)
    why = (f"is not on the nodes' network {seg.name} ({seg.cidr}), where the load balancer holds it: nothing routes it there "
           "from outside, so clients outside cannot reach it")
    if pool is not None and ip in pool:
        problems.warn(topo.cluster.mark, "cluster.loadBalancerPool", f"{ip} (of {pool}) {why}")
    elif obj is not None:
        problems.warn(obj.mark, "status.loadBalancer.ingress", f"{ip} {why}")


def check_network(topo: Topology, paths: dict, fields: dict, problems: Problems):
    """Compile, then report what the kernel would refuse and addresses used twice; the network."""
    from ..sim.network import compile_topology

    net = compile_topology(topo)
    # What the simulator made itself (a pod's eth0, the routes the CNI writes on the nodes) is located nowhere in the
    # files: its problems wait until the located ones are known. A route via another node's address is that node's
    # (an address off the network); the rest follows from a problem reported already (two pods with one podIP give
    # the same address twice on cni0) and says nothing more.
    later: list[tuple[Mark, str, str]] = []

    def error(mark: Mark, path: str, message: str) -> None:
        if mark.file == NOWHERE.file:
            later.append((mark, path, message))
        else:
            problems.error(mark, path, message)

    if net.cluster is not None:
        cfg = topo.cluster
        for name, cidr in net.cluster.pod_cidrs.items():
            if cidr is None:  # kube-controller-manager's "CIDR allocation failed": the node's pods stay Pending
                node = next((o for o in topo.objects if o.kind == "Node" and o.name == name), None)
                problems.warn(node.mark if node is not None else cfg.mark, "cluster.podCIDR",
                              f"node {name} gets no pod CIDR: {cfg.pod_cidr} has no /{cfg.node_cidr_mask_size} left for it, "
                              "so its pods get no address (widen podCIDR or make nodeCIDRMaskSize longer)")
        from ..netpol.policy import is_policy

        if any(is_policy(o) for o in topo.objects):  # policies that load but do not do what they seem to
            from ..netpol.lint import lint

            for item in lint(net.cluster):
                if item.severity != "error":  # policies the API server refuses are the loader's own errors
                    problems.warn(item.problem.mark, item.path, item.message)
    for ns, rp in net.route_problems:
        r = rp.route
        mark = fields.get(r.mark, {}).get(rp.field, r.mark)
        here = topo.host(ns) if mark.file == NOWHERE.file and rp.field == "via" else None
        if here is not None:  # a route the simulator writes on a host of the files (a node's), via a gateway it cannot reach
            at = f"{paths.get(here.mark, ns)}.interfaces"
            if not any(p.path == at for p in problems.errors):
                problems.error(here.interfaces[0].mark if here.interfaces else here.mark, at, _written_route(topo, ns, rp))
            continue
        error(mark, f"{paths.get(r.mark, 'routes')}.{rp.field}", f"{rp.message} (in {ns})")
    built = net.namespaces.built()  # (cluster nodes are compiled when asked for: what they generate is valid by construction)
    for seg in net.segments.values():
        owner: dict = {ip: who for ip, who in net.lazy.arp.get(seg.name, {}).items() if who[0] not in built}
        for ns_name, dev in seg.members:
            d = built[ns_name].devices[dev]
            for a in d.addresses:
                if a.ip in owner and owner[a.ip] != (ns_name, dev):
                    o = owner[a.ip]
                    error(d.mark, f"{paths.get(d.mark, ns_name)}.address", f"duplicate address {a.ip} on {seg.name}: {o[0]} {o[1]} has it too")
                owner.setdefault(a.ip, (ns_name, dev))
            if seg.cidr is not None:
                for a in d.addresses:
                    if a.ip.version == seg.cidr.version and a.ip not in seg.cidr:  # a network's cidr is of one family
                        if d.mark.file != NOWHERE.file:
                            problems.warn(d.mark, f"{paths.get(d.mark, ns_name)}.address", f"{a} is outside {seg.name}'s {seg.cidr}")
                        elif net.cluster is not None:  # the simulator's load balancer, given an external IP off the nodes' network
                            _far_external_ip(topo, net.cluster, a.ip, seg, problems)
    for seg_name, ip, first, _second, mark in net.lazy.duplicates:
        error(mark, f"{paths.get(mark, first[0])}.address", f"duplicate address {ip} on {seg_name}: {first[0]} {first[1]} has it too")
    for ns in built.values():
        for r in ns.netfilter.missing_targets():
            problems.error(r.mark, paths.get(r.mark, "iptables"),
                           f"Couldn't load target `{r.target}': no chain {r.target} in table {r.table} (create it with -N, or add rules to it)")
        seen: dict = {}
        for d in ns.devices.values():
            for a in d.addresses:
                if a.ip in seen and seen[a.ip] != d.name:
                    error(d.mark, f"{paths.get(d.mark, ns.name)}.address", f"duplicate address {a.ip} in {ns.name}: {seen[a.ip]} has it too")
                seen.setdefault(a.ip, d.name)
    if not problems.errors:  # (none to follow from: the simulator's own failure, said as it is)
        for mark, path, message in later:
            problems.error(mark, path, message)
    return net


def _written_route(topo: Topology, ns: str, rp) -> str:
    """Why a route the simulator writes on the host ``ns`` of a cluster (to another node's pods, or its default route
    via the implicit edge router) is refused, its gateway out of reach, and what to change in the files."""
    r = rp.route
    other = _node_with(topo, r.via) if r.via is not None else None
    if other is not None:
        return (f"{ns} reaches the pods of {other} ({r.to}) through {other}'s address {r.via}, on none of its networks (the "
                f"{topo.cluster.cni} CNI routes them directly): put the nodes on one subnet")
    if r.to.prefixlen == 0 and r.via is not None:
        return (f"{ns} has no default route, and the one the simulator gives a node, via its edge router {r.via} (on the first "
                f"node's subnet), is refused: {rp.message}: give {ns} a default route")
    return f"the route the simulator writes on {ns}, {r.ip_route()}, is refused: {rp.message}: give {ns} an address on that subnet"


def _node_with(topo: Topology, ip) -> str | None:
    """The node host whose address is ``ip``."""
    return next((h.name for h in topo.hosts if h.role == "node" for i in h.interfaces if any(a.ip == ip for a in i.addresses)), None)
