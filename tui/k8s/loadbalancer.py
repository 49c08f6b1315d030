"""The cloud's load balancer in front of a cluster's nodes, for its LoadBalancer Services.

:func:`tui.k8s.datapath.augment` adds one host, ``load-balancer`` (:data:`LB_HOST`), on the nodes' network:
it owns the Services' external IPs and, in a CLOUD-LB-* chain per Service port, DNATs each to a node's
NodePort (spread as kube-proxy spreads endpoints), masquerading the client in a CLOUD-LBM-* chain so that
the reply comes back through it. The chains are written when a packet first walks them; a port's rules
after the first are made from the first's parse, as :func:`tui.load.iptables.parse_rule` would make them.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
from types import SimpleNamespace

from ..load.iptables import _net, _to, format_rule, parse_rule
from ..model.topology import Host, Interface, Policy, Rule
from .cluster import Cluster
from .kubeproxy import port_proto_hash

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
    rules: list[Rule] = []
    policies: list[Policy] = []
    generated: list = []
    for s in sorted(lbs, key=lambda s: s.key):
        for p in s.ports:
            if not p.node_port or not targets:
                continue
            proto = p.protocol.lower()
            h = port_proto_hash(s.port_name(p), p.protocol)
            fwd, masq = f"CLOUD-LB-{h}", f"CLOUD-LBM-{h}"  # one chain of per-node rules for each, made when first walked
            rules.append(parse_rule(f'-t nat -A PREROUTING -d {s.load_balancer_ip}/32 -p {proto} --dport {p.port} -m comment '
                                    f'--comment "{_quoted(s.port_name(p))} load balancer" -j {fwd}'))
            rules.append(parse_rule(f"-t nat -A POSTROUTING -p {proto} --dport {p.node_port} -j {masq}"))
            policies += [Policy("nat", fwd, "-"), Policy("nat", masq, "-")]
            generated += [(("nat", fwd), functools.partial(_chain, ("nat", fwd), _lb_forward, s.port_name(p), fwd, s.load_balancer_ip, proto,
                                                           p.port, p.node_port, targets)),
                          (("nat", masq), functools.partial(_chain, ("nat", masq), _lb_masq, masq, proto, p.node_port, targets))]
    return Host(LB_HOST, (Interface("eth0", addrs, first.network),), forwarding=True, rules=tuple(rules), policies=tuple(policies),
                role="load-balancer", generated=tuple(generated))


def _chain(key: tuple, make, *args) -> dict:
    return {key: make(*args)}


def _quoted(text: str) -> str:
    return text.replace("\\", "").replace('"', "").replace("'", "")


def _lb_forward(port_name: str, chain: str, lb_ip, proto: str, port: int, node_port: int, targets: list) -> list[Rule]:
    """A Service port's DNAT rules on the load balancer, one per node, spread as kube-proxy spreads endpoints."""
    dnat, values = [], []
    for i, (name, ip) in enumerate(targets):
        probability = f"{1.0 / (len(targets) - i):0.10f}" if i < len(targets) - 1 else None
        stat = f" -m statistic --mode random --probability {probability}" if probability is not None else ""
        values.append((f"{port_name} load balancer -> {name}", probability, f"{ip}:{node_port}"))
        dnat.append(f'-t nat -A {chain} -p {proto} -m comment --comment "{port_name} load balancer -> {name}"{stat} '
                    f"-j DNAT --to-destination {ip}:{node_port}")  # (a port in --to-destination needs -p: iptables refuses it without)
    if all(_plain(x) for x in [port_name] + [name for name, _ in targets]):
        return _lb_dnat(dnat, values)
    return list(map(parse_rule, dnat))


def _lb_masq(chain: str, proto: str, node_port: int, targets: list) -> list[Rule]:
    """Masquerade what the load balancer sends to a node's NodePort: the reply comes back through it."""
    masq = [f"-t nat -A {chain} -d {ip}/32 -p {proto} --dport {node_port} -j MASQUERADE" for _, ip in targets]
    return _lb_masquerade(masq, [f"{ip}/32" for _, ip in targets])


# The load balancer's rules are one per Service port and node: for each port, the first is parsed and the others,
# which differ from it only in the values below (words the shell splits alike), made from it as parse_rule would.

def _plain(text: str) -> bool:
    """Text that, inside double quotes, is one word to the shell and to parse_rule's splitting."""
    return not any(c in text for c in ("\\", '"', "'"))


def _lb_dnat(lines: list[str], values: list[tuple[str, str | None, str]]) -> list[Rule]:
    """The DNAT rules of one port, one per node: the (comment, --probability or None, --to-destination) of each."""
    head = parse_rule(lines[0])
    out = [head]
    for comment, probability, to in values[1:]:
        to_addr, to_port = _to(to)
        out.append(_like(head, comment=comment, probability=None if probability is None else float(probability), to_addr=to_addr, to_port=to_port))
    return out


def _lb_masquerade(lines: list[str], dsts: list[str]) -> list[Rule]:
    """The MASQUERADE rules of one port, one per node's -d."""
    head = parse_rule(lines[0])
    out = [head]
    for dst in dsts[1:]:
        out.append(_like(head, dst=_net(dst)))
    return out


_RULE_FIELDS = tuple(f.name for f in dataclasses.fields(Rule) if f.init)


def _like(rule: Rule, **changes) -> Rule:
    """``rule`` with ``changes`` and its text written again (as parse_rule writes it), in one construction."""
    fields = {name: getattr(rule, name) for name in _RULE_FIELDS}
    fields.update(changes)
    fields["text"] = format_rule(SimpleNamespace(**fields))
    return Rule(**fields)
