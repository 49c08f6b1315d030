"""NetworkPolicy in the packet walk: a connection the cluster's policies refuse is dropped where the CNI drops it,
and the trace names the direction, the policy and the rule (:mod:`tui.netpol` decides).

Policies apply to connections between the addresses the pods see: after kube-proxy's (or Cilium's) DNAT, so to the
endpoint pod and its targetPort, and after any SNAT, so an ingress rule sees a masqueraded client as the node's
address. Egress is refused where the packet leaves the source pod's node (Calico's ``cali-from-wl`` chain, Cilium's
program on the pod's ``lxc`` device); ingress where it is handed to the destination pod. Replies of an allowed
connection are allowed (conntrack). ICMP is left to the plugin: policies name TCP, UDP and SCTP ports.

Only Calico and Cilium enforce NetworkPolicy; the bridge, host-gw and flannel plugins do not (flannel needs Calico
beside it: Canal). The simulator enforces the policies on every CNI, so that they can be learnt on any topology,
and says on the trace when the configured plugin would not."""

from __future__ import annotations

import operator

ENFORCING = ("calico", "cilium")
PROTOCOLS = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP"}


def index(net):
    """The cluster's policies indexed once per compiled network (None without policies)."""
    cached = getattr(net, "_netpol_index", False)
    if cached is not False:
        return cached
    ix = None
    cluster = net.cluster
    from ..netpol.policy import is_policy

    objects = cluster.topology.objects if cluster is not None else ()
    # (a kind looked for at C speed first: a big cluster's 165,000 objects, most of them pods)
    if "NetworkPolicy" in map(operator.attrgetter("kind"), objects) and any(is_policy(o) for o in objects):
        from ..netpol.evaluate import NetpolIndex

        ix = NetpolIndex(cluster, strict=False)
    object.__setattr__(net, "_netpol_index", ix)
    return ix


def _end(net, ix, ns_name: str | None, ip):
    """What policies see: a pod (by its namespace), a cluster node (its own addresses, cni0's included), or an address."""
    from ..netpol.evaluate import End

    ns = net.namespaces.get(ns_name) if ns_name else None
    if ns is not None and ns.kind == "pod" and ns_name in ix.pods:
        return ns_name
    owner = ns if ns is not None else next((net.namespaces[o] for o in net.owners(ip)), None) if ip is not None else None
    if owner is not None and owner.kind == "pod" and owner.name in ix.pods:
        return owner.name
    if owner is not None and net.cluster is not None and owner.name in net.cluster.nodes and ip is not None:
        return End(f"node {owner.name} ({ip})", None, (ip,), owner.name, True)
    return str(ip) if ip is not None else None


def _node_hop(net, hops, node: str | None, first: bool) -> int | None:
    idx = [i for i, h in enumerate(hops) if h.node == node]
    if not idx:
        return None
    return idx[0] if first else idx[-1]


def enforce(net, t) -> None:
    """Apply the cluster's NetworkPolicies to the delivered walk ``t`` (a :class:`tui.sim.trace.Trace`), in place:
    a refused connection becomes DROPPED at the hop where the CNI refuses it; an allowed one gets notes naming the
    rules that allowed it. Nothing changes without policies, for ICMP, or for a walk dropped before it reached its
    destination (a walk refused there, by a closed port, is dropped by the policy first when the policy refuses it)."""
    if not t.hops or net.cluster is None:
        return
    dst_ns = t.delivered_to
    if not t.delivered:  # reached its destination but refused there (a closed port): the policy decides first
        last = t.hops[-1]
        ns = net.namespaces.get(last.node)
        if ns is None or last.packet.dst not in ns.tables.addresses:
            return
        dst_ns = last.node
    proto = PROTOCOLS.get(t.packet.proto)
    ix = index(net)
    if ix is None or proto is None:
        return
    from ..netpol.evaluate import NetpolError

    first, last = t.hops[0].packet, t.hops[-1].packet
    src = _end(net, ix, t.source, first.src)
    dst = _end(net, ix, dst_ns, last.dst)
    seen = _end(net, ix, None, last.src)  # the client as the destination sees it (after SNAT)
    if src is None or dst is None or seen is None or last.dport is None:
        return
    try:
        out_v = ix.evaluate(src, dst, last.dport, proto)
        in_v = out_v if seen == src else ix.evaluate(seen, dst, last.dport, proto)
    except NetpolError:
        return
    cni = net.topology.cluster.cni
    caveat = (f" (the {cni} CNI plugin does not enforce NetworkPolicy: a real cluster would deliver this; "
              "the simulator enforces it as Calico or Cilium would)") if cni not in ENFORCING else ""
    src_node = getattr(ix.end(src), "node", None)
    dst_node = getattr(ix.end(dst), "node", None)
    for direction, v, ok in (("egress", out_v, out_v.egress_allowed), ("ingress", in_v, in_v.ingress_allowed)):
        items = v.egress if direction == "egress" else v.ingress
        summary = v.egress_summary if direction == "egress" else v.ingress_summary
        if direction == "egress":
            at = _node_hop(net, t.hops, src_node, first=True)
            at = at if at is not None else min(1, len(t.hops) - 1)
        else:
            at = _node_hop(net, t.hops, dst_node, first=False)
            at = at if at is not None else max(0, len(t.hops) - 2)
        hop = t.hops[at]
        if not ok:
            hop.notes += [f"policy: {i['policy']}: {i['why']}" for i in items if i.get("policy")]
            hop.notes.append(f"policy: DROPPED: {summary}{caveat}")
            del t.hops[at + 1:]
            t.verdict, t.reason, t.delivered_to, t.reply = "dropped", f"policy ({summary}){caveat}", None, None
            return
        allowed = [i for i in items if i.get("policy") and i.get("effect") == "allowed"]
        if allowed:
            hop.notes.append(f"policy: {direction} allowed by " + "; ".join(
                f"{i['policy']} rule {i['rule']}: {i['why']}" if i.get("rule") is not None else f"{i['policy']}: {i['why']}"
                for i in allowed))
