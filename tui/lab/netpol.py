"""NetworkPolicy in the lab: the cluster's policies written as iptables rules, as a policy plugin does.

Where the simulator decides (:mod:`tui.sim.policy`), the lab enforces, at the same places:

* egress, where the packet leaves the source pod's node, after kube-proxy's DNAT (so towards the endpoint
  and its target port): the node's FORWARD and INPUT chains send each isolated pod's new connections to a
  chain of its own (``KN-E<n>``) that marks what a rule allows and drops the rest;
* ingress, where the packet reaches the destination pod, after any SNAT (so from the address the pod sees):
  the pod's own INPUT chain accepts what a rule allows and drops the rest.

Replies of an allowed connection pass (conntrack ESTABLISHED); a pod and its own node may always talk
(as Calico and Cilium allow the kubelet's probes), and so may a pod and itself; ICMP is left alone, as the simulator leaves it. The
selectors are resolved by the simulator's own index (which pods a peer selects, named ports); the matching
of packets is the kernel's.
"""

from __future__ import annotations

ALLOW = "0x20000"
PROTOS = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}


def _ports(rule, named) -> list[str]:
    """The ``-p ... --dport ...`` of each port of a rule (one empty string: every protocol and port)."""
    if not rule.ports:
        return [""]
    out = []
    for pp in rule.ports:
        proto = PROTOS[pp.protocol]
        if pp.port is None:
            out.append(f"-p {proto}")
        elif isinstance(pp.port, str):  # a named port: the destination pod's container port of that name
            out += [f"-p {proto} -m {proto} --dport {n}" for n in sorted((named or {}).get((pp.port, pp.protocol), ()))]
        else:
            span = f"{pp.port}:{pp.end_port}" if pp.end_port is not None else str(pp.port)
            out.append(f"-p {proto} -m {proto} --dport {span}")
    return out


def _peers(ix, rule, pol, family: int, side: str) -> list[tuple[str, list[str]]]:
    """Each peer of a rule as (``-s``/``-d`` address match, the excepts of an ipBlock); [("", [])] for every peer."""
    if not rule.peers:
        return [("", [])]
    out = []
    for peer in rule.peers:
        if peer.ip_block is not None:
            if peer.ip_block.cidr.version == family:
                out.append((f"{side} {peer.ip_block.cidr}", [str(e) for e in peer.ip_block.excepts]))
            continue
        for key in sorted(ix.peer_pods(peer, pol.namespace)):
            ip = next((a for a in ix.pods[key].ips if a.version == family), None)
            if ip is not None:
                out.append((f"{side} {ip}/{ip.max_prefixlen}", []))
    return out


def _admits(ix, peer, pol, key: str, ip) -> bool:
    """Whether a rule's peer is the pod ``key`` at ``ip``: its ipBlock holds the address (its excepts do not), or
    its selectors pick the pod."""
    if peer.ip_block is not None:
        return peer.ip_block.contains(ip)
    return key in ix.peer_pods(peer, pol.namespace)


class _Chains:
    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = {}

    def add(self, chain: str, line: str) -> None:
        self.lines.setdefault(chain, []).append(f"-A {chain} {line}".rstrip())

    def text(self, head: list[str]) -> str:
        out = ["*filter"] + [f":{c} - [0:0]" for c in self.lines] + head
        for lines in self.lines.values():
            out += lines
        return "\n".join(out + ["COMMIT"]) + "\n"


def _rules(ix, pols, direction: str, family: int, named, chains: _Chains, chain: str, allow: str, n: list[int]) -> None:
    side, except_side = ("-d", "-d") if direction == "egress" else ("-s", "-s")
    for pol in pols:
        for rule in pol.rules(direction):
            for match, excepts in _peers(ix, rule, pol, family, side):
                for ports in _ports(rule, named):
                    target = allow
                    if excepts:  # an ipBlock's except: a chain that returns for the excepted addresses
                        n[0] += 1
                        target = f"KN-X{n[0]}"
                        for e in excepts:
                            chains.add(target, f"{except_side} {e} -j RETURN")
                        chains.add(target, f"-j {allow}" if allow != "MARK" else f"-j MARK --or-mark {ALLOW}")
                    jump = f"-j MARK --or-mark {ALLOW}" if target == "MARK" else f"-j {target}"
                    chains.add(chain, f"{match} {ports} {jump}".replace("  ", " ").strip())


def netpol_ops(net, sim_to_lab: dict) -> tuple[list[dict], list[str]]:
    """The iptables-restore steps (``--noflush``) that enforce the cluster's policies, and notes."""
    from ..k8s.datapath import pod_ns
    from ..sim.policy import ENFORCING, index

    ix = index(net)
    if ix is None:
        return [], []
    ops: list[dict] = []
    families = sorted({a.version for p in ix.pods.values() for a in p.ips})
    n = [0]
    nodes: dict[str, dict[int, _Chains]] = {}
    for key, pod in ix.pods.items():
        if pod.host_network or pod_ns(pod) not in sim_to_lab:
            continue
        named = ix.named_ports(pod)
        for family in families:
            if not any(a.version == family for a in pod.ips):
                continue
            ip = next(a for a in pod.ips if a.version == family)
            ingress = ix.isolating["ingress"].get(key)
            if ingress:
                chains = _Chains()
                chains.add("KN-INGRESS", "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
                chains.add("KN-INGRESS", "-i lo -j ACCEPT")
                chains.add("KN-INGRESS", f"-p {'icmp' if family == 4 else 'ipv6-icmp'} -j ACCEPT")
                node_ns = net.namespaces.get(pod.node) if pod.node else None
                for a in sorted({str(x.ip) for d in (node_ns.devices.values() if node_ns else ()) for x in d.addresses
                                 if x.version == family and not x.ip.is_loopback}):
                    chains.add("KN-INGRESS", f"-s {a} -j ACCEPT")  # its own node (the kubelet's probes)
                _rules(ix, ingress, "ingress", family, named, chains, "KN-INGRESS", "ACCEPT", n)
                chains.add("KN-INGRESS", "-j DROP")
                ops.append({"op": "iptables", "ns": sim_to_lab[pod_ns(pod)], "family": family, "noflush": True,
                            "text": chains.text(["-I INPUT 1 -j KN-INGRESS"])})
            egress = ix.isolating["egress"].get(key)
            if egress and pod.node in sim_to_lab:
                chains = nodes.setdefault(pod.node, {}).setdefault(family, _Chains())
                chains.lines.setdefault("KN-EGRESS", [])
                n[0] += 1
                own = f"KN-E{n[0]}"
                chains.add("KN-EGRESS", f"-s {ip}/{ip.max_prefixlen} -j {own}")
                chains.add(own, "-m addrtype --dst-type LOCAL -j RETURN")  # its own node
                chains.add(own, f"-d {ip}/{ip.max_prefixlen} -j RETURN")  # itself (through its Service): no policy blocks that
                _rules(ix, egress, "egress", family, None, chains, own, "MARK", n)
                # (named ports of egress rules resolve against the destination pod: one rule per pod it names)
                # (named ports of egress rules resolve against each destination pod: a rule per pod it admits)
                for pol in egress:
                    for rule in pol.egress:
                        named_ports = [pp for pp in rule.ports if isinstance(pp.port, str)]
                        if not named_ports:
                            continue
                        for dkey, dpod in ix.pods.items():
                            dip = next((a for a in dpod.ips if a.version == family), None)
                            if dip is None or dpod.host_network:
                                continue
                            if rule.peers and not any(_admits(ix, peer, pol, dkey, dip) for peer in rule.peers):
                                continue
                            for pp in named_ports:
                                proto = PROTOS[pp.protocol]
                                for n_ in sorted(ix.named_ports(dpod).get((pp.port, pp.protocol), ())):
                                    chains.add(own, f"-d {dip}/{dip.max_prefixlen} -p {proto} -m {proto} --dport {n_} "
                                                    f"-j MARK --or-mark {ALLOW}")
                chains.add(own, f"-m mark ! --mark {ALLOW}/{ALLOW} -j DROP")
                chains.add(own, f"-j MARK --and-mark 0x{~int(ALLOW, 16) & 0xFFFFFFFF:x}")
    for node, per_family in nodes.items():
        for family, chains in per_family.items():
            head = ["-I FORWARD 1 -j KN-EGRESS", "-I INPUT 1 -j KN-EGRESS"]
            lines = chains.lines["KN-EGRESS"]
            lines[:0] = ["-A KN-EGRESS -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
                         f"-A KN-EGRESS -p {'icmp' if family == 4 else 'ipv6-icmp'} -j RETURN"]
            ops.append({"op": "iptables", "ns": sim_to_lab[node], "family": family, "noflush": True, "text": chains.text(head)})
    cni = net.topology.cluster.cni
    notes = [] if cni in ENFORCING else [
        f"NetworkPolicy: the {cni} CNI plugin does not enforce it; the lab enforces it in iptables as the simulator does "
        "(as Calico would), so that policies can be tried on any topology"]
    return ops, notes
