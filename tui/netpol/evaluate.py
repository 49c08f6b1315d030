"""Which connections the NetworkPolicies of a cluster allow, as networking.k8s.io/v1 defines it.

A pod is non-isolated for a direction until a policy whose ``policyTypes`` holds that direction
selects it; an isolated pod accepts (ingress) or opens (egress) only what the union of the rules of
the policies isolating it allows, so the order of policies never matters. A connection needs both
the source's egress and the destination's ingress; the replies of an allowed connection are allowed
(implementations track connections), so a verdict is for the connection as a whole.

Choices where Kubernetes leaves the plugin free, stated in every verdict's ``why``:

- loopback: a pod can always reach itself (no policy can block it, as the documentation says).
- node traffic: the documentation says traffic to and from the node where a pod runs is always
  allowed, whatever the addresses; this follows it for the pod's *own* node (its InternalIPs and
  the hostNetwork pods on it), as most CNIs do (kubelet probes come from there). Another node's
  traffic is matched like any address: by ``ipBlock`` (or a rule with no ``from``/``to``); pod and
  namespace selectors never match it.
- hostNetwork pods are never selected by a policy (the plugin cannot tell their traffic from the
  node's): their traffic is node traffic, as above, whichever side they are on.
- ``ipBlock`` matches by address, pods' addresses included, as the upstream e2e tests expect
  ("should allow egress access to server in CIDR block").
- named ports resolve against the destination pod's container ports (name, protocol and number),
  for ingress and egress rules alike; a destination that is no pod has no named ports.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..k8s.cluster import Cluster, Pod
from .policy import NetworkPolicy, Peer, PolicyError, Rule, parse_policies

DIRECTIONS = ("egress", "ingress")


class NetpolError(ValueError):
    """A question that cannot be asked as given (an unknown pod, a bad address, port or protocol)."""


@dataclass(frozen=True)
class End:
    """One side of a connection: a pod policies may select, a node (or hostNetwork pod), or an address."""

    label: str
    pod: Pod | None = None  # a pod (not hostNetwork): policies may select it and selectors match it
    ips: tuple = ()
    node: str | None = None  # the node it runs on (pod, node address or hostNetwork pod)
    host: bool = False  # node traffic: a node address or a hostNetwork pod

    def addr(self, family: int):
        return next((ip for ip in self.ips if ip.version == family), None)


class Verdict:
    """The decision for one connection (its replies follow it). ``egress`` and ``ingress`` list dicts
    ``{"policy": "ns/name" or None, "rule": index or None, "effect": "allowed" | "isolated", "why": ...}``:
    the policies and rules that allowed the direction, or the policies that isolated it without allowing.
    The booleans are decided at once; the explanations when first asked for (a large truth table needs none)."""

    def __init__(self, ix: NetpolIndex, s: End, d: End, port: int, protocol: str, family: int):
        self._ix, self._s, self._d, self._family = ix, s, d, family
        self.src, self.dst, self.port, self.protocol = s.label, d.label, port, protocol
        self.loopback = s.pod is not None and d.pod is not None and s.label == d.label
        self.egress_allowed = self.loopback or ix._allows("egress", s, d, port, protocol, family)
        self.ingress_allowed = self.loopback or ix._allows("ingress", d, s, port, protocol, family)
        self._details: dict | None = None

    def _explain(self) -> dict:
        if self._details is None:
            if self.loopback:
                why = "loopback: a pod can always reach itself, whatever the policies"
                item = [{"policy": None, "rule": None, "effect": "allowed", "why": why}]
                self._details = {"egress": (item, f"egress of {self.src}: {why}"), "ingress": (item, f"ingress of {self.dst}: {why}")}
            else:
                a = (self._s, self._d, self.port, self.protocol, self._family)
                e_ok, e_items, e_sum = self._ix._side("egress", a[0], a[1], *a[2:])
                i_ok, i_items, i_sum = self._ix._side("ingress", a[1], a[0], *a[2:])
                assert (e_ok, i_ok) == (self.egress_allowed, self.ingress_allowed)
                self._details = {"egress": (e_items, e_sum), "ingress": (i_items, i_sum)}
        return self._details

    @property
    def allowed(self) -> bool:
        return self.egress_allowed and self.ingress_allowed

    @property
    def egress(self) -> list:
        return self._explain()["egress"][0]

    @property
    def ingress(self) -> list:
        return self._explain()["ingress"][0]

    @property
    def egress_summary(self) -> str:
        return self._explain()["egress"][1]

    @property
    def ingress_summary(self) -> str:
        return self._explain()["ingress"][1]

    @property
    def reason(self) -> str:
        if self.allowed:
            return f"allowed: {self.egress_summary}; {self.ingress_summary}"
        return "; ".join(s for ok, s in ((self.egress_allowed, self.egress_summary), (self.ingress_allowed, self.ingress_summary)) if not ok)

    def to_dict(self) -> dict:
        return {"from": self.src, "to": self.dst, "port": self.port, "protocol": self.protocol, "allowed": self.allowed,
                "egress": self.egress, "ingress": self.ingress, "reason": self.reason}

    def __repr__(self) -> str:
        return f"Verdict({self.src} -> {self.dst} {self.protocol}/{self.port}: {'allowed' if self.allowed else 'denied'})"


def _key(pod: Pod) -> str:
    return f"{pod.namespace}/{pod.name}"


class NetpolIndex:
    """The policies of a cluster parsed once, indexed by namespace, with each pod's isolating policies and
    each peer's matching pods computed once: build it once and ask it many questions."""

    def __init__(self, cluster: Cluster, strict: bool = True):
        self.cluster = cluster
        self.policies, self.errors = parse_policies(cluster.topology.objects, strict)
        self.by_namespace: dict[str, list[NetworkPolicy]] = {}
        for p in self.policies:
            self.by_namespace.setdefault(p.namespace, []).append(p)
        self.pods: dict[str, Pod] = {_key(p): p for p in sorted(cluster.pods, key=lambda p: (p.namespace, p.name))}
        self.by_ip = {ip: p for p in self.pods.values() if not p.host_network for ip in p.ips}
        self.node_by_ip = {ip: n.name for n in cluster.nodes.values() for ip in (n.internal_ip, n.internal_ip6) if ip is not None}
        self.selected: dict[str, list[str]] = {}  # policy key -> pod keys it selects
        self.isolating: dict[str, dict[str, list[NetworkPolicy]]] = {d: {} for d in DIRECTIONS}  # direction -> pod key -> policies
        self.pods_by_namespace: dict[str, list[str]] = {}
        for k, pod in self.pods.items():
            self.pods_by_namespace.setdefault(pod.namespace, []).append(k)
        self._labels: dict[str, tuple] = {}  # namespace -> its label indexes, made when a selector there is first matched
        for pol in self.policies:
            keys = [k for k in self.candidates(pol.namespace, pol.pod_selector)
                    if not self.pods[k].host_network and pol.pod_selector.matches(self.pods[k].labels)]
            self.selected[pol.key] = keys
            for d in DIRECTIONS:
                if pol.applies(d):
                    for k in keys:
                        self.isolating[d].setdefault(k, []).append(pol)
        self._peer_pods: dict[tuple[str, Peer], frozenset[str]] = {}
        self._named: dict[str, dict] = {}
        self._classes: dict[tuple[str, str], tuple] = {}
        self._memo: dict[tuple, bool] = {}

    # -- lookups --------------------------------------------------------------------------------

    def policy(self, key: str) -> NetworkPolicy:
        for p in self.policies:
            if p.key == key:
                return p
        raise NetpolError(f'no NetworkPolicy "{key}"')

    def namespaces_matching(self, peer: Peer, policy_namespace: str) -> list[str]:
        if peer.namespace_selector is None:
            return [policy_namespace]
        return [n for n, labels in self.cluster.namespaces.items() if peer.namespace_selector.matches(labels)]

    def peer_pods(self, peer: Peer, policy_namespace: str) -> frozenset[str]:
        """The pods a selector peer matches (hostNetwork pods never: their traffic is node traffic)."""
        k = (policy_namespace, peer)
        if k not in self._peer_pods:
            sel = peer.pod_selector
            found = set()
            for ns in self.namespaces_matching(peer, policy_namespace):
                found.update(key for key in (self.candidates(ns, sel) if sel is not None else self.pods_by_namespace.get(ns, ()))
                             if not self.pods[key].host_network and (sel is None or sel.matches(self.pods[key].labels)))
            self._peer_pods[k] = frozenset(found)
        return self._peer_pods[k]

    def candidates(self, namespace: str, sel) -> list[str]:
        """The pods of ``namespace`` that ``sel`` can match: those holding its rarest required label (a
        matchLabels pair, an In requirement's values, an Exists key), else every pod of the namespace."""
        if sel.empty:
            return self.pods_by_namespace.get(namespace, [])
        by_label, by_key, order = self._index(namespace)
        options = [by_label.get((key, value), []) for key, value in sel.match_labels if isinstance(value, str)]
        for r in sel.match_expressions:
            if r.operator == "In":  # (the pods of each value, back in pod order)
                options.append(sorted((k for v in set(r.values) for k in by_label.get((r.key, v), [])), key=order.__getitem__))
            elif r.operator == "Exists":
                options.append(by_key.get(r.key, []))
        return min(options, key=len) if options else self.pods_by_namespace.get(namespace, [])

    def _index(self, namespace: str) -> tuple:
        """A namespace's pods by (label, value) and by label, and their order."""
        got = self._labels.get(namespace)
        if got is None:
            by_label: dict[tuple, list[str]] = {}
            by_key: dict[str, list[str]] = {}
            keys = self.pods_by_namespace.get(namespace, [])
            for k in keys:
                for lk, lv in self.pods[k].labels.items():
                    if isinstance(lv, str):
                        by_label.setdefault((lk, lv), []).append(k)
                    by_key.setdefault(lk, []).append(k)
            got = self._labels[namespace] = (by_label, by_key, {k: i for i, k in enumerate(keys)})
        return got

    def named_ports(self, pod: Pod) -> dict:
        k = _key(pod)
        if k not in self._named:
            named: dict = {}
            for c in pod.ports:
                if c.name:
                    named.setdefault((c.name, c.protocol), set()).add(c.port)
            self._named[k] = named
        return self._named[k]

    def end(self, what) -> End:
        """A Pod, "NS/POD" (a bare POD: namespace default), or an IP address (a pod's, a node's or any)."""
        if isinstance(what, End):
            return what
        if isinstance(what, Pod):
            return self._pod_end(what)
        text = str(what).strip()
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            ip = None
        if ip is not None:
            if ip in self.by_ip:
                return self._pod_end(self.by_ip[ip])
            if ip in self.node_by_ip:
                node = self.node_by_ip[ip]
                return End(f"node {node} ({ip})", None, (ip,), node, True)
            svc = next((sv for sv in self.cluster.services if ip in sv.cluster_ips or ip == sv.load_balancer_ip), None)
            if svc is not None:
                pods = sorted({_key(self.by_ip[e.ip]) for sp in svc.ports for e in self.cluster.endpoints_for(svc, sp) if e.ip in self.by_ip})
                raise NetpolError(f"{ip} is an address of Service {svc.key}: policies see the connection after kube-proxy's DNAT, "
                                  f"to an endpoint pod; ask for one of them ({', '.join(pods) or 'it has none'})")
            return End(str(ip), None, (ip,))
        key = text if "/" in text else f"default/{text}"
        if key not in self.pods:
            import difflib

            close = difflib.get_close_matches(key, list(self.pods), n=1, cutoff=0.6)
            raise NetpolError(f'no pod "{key}"' + (f' (did you mean "{close[0]}"?)' if close else "")
                              + ("" if self.pods else ": the topology has no pods"))
        return self._pod_end(self.pods[key])

    def _pod_end(self, pod: Pod) -> End:
        if pod.host_network:
            return End(_key(pod), None, pod.ips, pod.node, True)
        return End(_key(pod), pod, pod.ips, pod.node)

    # -- decisions ------------------------------------------------------------------------------

    def evaluate(self, src, dst, port: int, protocol: str = "TCP") -> Verdict:
        s, d = self.end(src), self.end(dst)
        protocol = check_protocol(protocol)
        check_port(port)
        return Verdict(self, s, d, port, protocol, _family(s, d))

    def _allows(self, direction: str, me: End, other: End, port: int, protocol: str, family: int) -> bool:
        """The decision of :meth:`_side`, without the explanation. Pods isolated alike (the same policies, node and,
        for ingress, named ports) decide alike: the decision is kept per such class and peer, so that a truth table
        over many replicas costs little more than one over their distinct kinds."""
        if me.pod is None:
            return True
        mk = _key(me.pod)
        pols = self.isolating[direction].get(mk)
        if not pols or (other.host and other.node is not None and other.node == me.node):
            return True
        cls = self._classes.get((direction, mk))
        if cls is None:
            named_key = frozenset((k, frozenset(v)) for k, v in self.named_ports(me.pod).items()) if direction == "ingress" else None
            cls = self._classes[(direction, mk)] = (tuple(id(p) for p in pols), me.node, named_key)
        memo = (direction, cls, other.label, port, protocol, family)
        if memo not in self._memo:
            self._memo[memo] = self._decide(direction, me, other, pols, port, protocol, family)
        return self._memo[memo]

    def _decide(self, direction: str, me: End, other: End, pols, port: int, protocol: str, family: int) -> bool:
        dest = other if direction == "egress" else me
        named = self.named_ports(dest.pod) if dest.pod is not None else None
        other_ip = other.addr(family)
        return any(self._rule_ok(rule, pol, other, other_ip, port, protocol, named) for pol in pols for rule in pol.rules(direction))

    def _rule_ok(self, rule: Rule, pol: NetworkPolicy, other: End, other_ip, port: int, protocol: str, named) -> bool:
        return ((not rule.ports or any(pp.matches(port, protocol, named) for pp in rule.ports))
                and (not rule.peers or any(self._peer_matches(p, pol.namespace, other, other_ip) for p in rule.peers)))

    def _side(self, direction: str, me: End, other: End, port: int, protocol: str, family: int) -> tuple[bool, list, str]:
        """``me``'s ``direction`` (egress: me is the source; ingress: me is the destination) against ``other``."""
        head = f"{direction} of {me.label}"
        if me.pod is None:
            why = (f"{me.label} is node traffic (a node address or a hostNetwork pod): NetworkPolicy never selects it" if me.host
                   else f"{me.label} is no pod of the cluster: no NetworkPolicy selects it")
            return True, [{"policy": None, "rule": None, "effect": "allowed", "why": why}], f"{head}: not subject to NetworkPolicy"
        pols = self.isolating[direction].get(_key(me.pod), [])
        if not pols:
            why = f"{me.label} is not isolated for {direction}: no NetworkPolicy with policyType {direction.capitalize()} selects it"
            return True, [{"policy": None, "rule": None, "effect": "allowed", "why": why}], f"{head}: not isolated"
        if other.host and other.node is not None and other.node == me.node:
            why = (f"{other.label} is {me.label}'s own node ({me.node}): traffic between a pod and its node is always allowed "
                   "(Kubernetes documentation; policies cannot block it)")
            return True, [{"policy": None, "rule": None, "effect": "allowed", "why": why}], f"{head}: its own node, always allowed"
        dest = other if direction == "egress" else me  # named ports are the destination pod's
        named = self.named_ports(dest.pod) if dest.pod is not None else None
        other_ip = other.addr(family)
        what = f"{other.label} on {protocol}/{port}"
        allowed, refused = [], []
        for pol in pols:
            misses = []
            for i, rule in enumerate(pol.rules(direction)):
                miss = self._rule_miss(rule, pol, other, other_ip, port, protocol, named)
                desc = rule.describe(direction, pol.namespace)
                if miss is None:
                    allowed.append({"policy": pol.key, "rule": i, "effect": "allowed", "why": f"rule {i} ({desc}) allows {what}"})
                else:
                    misses.append(f"rule {i} ({desc}): {miss}")
            if not any(a["policy"] == pol.key for a in allowed):
                if not misses:
                    detail = f"it has no {direction} rule, so it allows nothing"
                elif len(misses) == 1:
                    detail = f"its rule does not allow {what}: {misses[0]}"
                else:
                    detail = f"none of its {len(misses)} rules allows {what}: " + "; ".join(misses)
                refused.append({"policy": pol.key, "rule": None, "effect": "isolated", "why": f"selects {me.label} for {direction}; {detail}"})
        if allowed:
            who = ", ".join(f"{a['policy']} rule {a['rule']}" for a in allowed)
            return True, allowed, f"{head}: allowed by {who}"
        short = f"{other.label}:{port}" + ("" if protocol == "TCP" else f"/{protocol}")  # y/b:80, y/b:53/UDP
        return False, refused, f"{head}: isolated by {', '.join(p.key for p in pols)}, no rule allows {short}"

    def _rule_miss(self, rule: Rule, pol: NetworkPolicy, other: End, other_ip, port: int, protocol: str, named) -> str | None:
        """None when the rule allows ``other`` on port/protocol, else why not."""
        if self._rule_ok(rule, pol, other, other_ip, port, protocol, named):
            return None
        if rule.peers and not any(self._peer_matches(p, pol.namespace, other, other_ip) for p in rule.peers):
            why = f"{other.label} matches none of its peers"
            if other.pod is None and any(p.ip_block is None for p in rule.peers):
                why += " (pod and namespace selectors match pods only, not " + ("node traffic)" if other.host else "outside addresses)")
            return why
        if rule.ports and not any(pp.matches(port, protocol, named) for pp in rule.ports):
            if any(isinstance(pp.port, str) and pp.protocol == protocol for pp in rule.ports):
                return f"{protocol}/{port} is none of its ports (named ports resolve against the destination pod's container ports)"
            return f"{protocol}/{port} is none of its ports"
        return None

    def _peer_matches(self, peer: Peer, policy_namespace: str, other: End, other_ip) -> bool:
        if peer.ip_block is not None:
            return peer.ip_block.contains(other_ip)
        return other.pod is not None and _key(other.pod) in self.peer_pods(peer, policy_namespace)


def _family(s: End, d: End) -> int:
    """The address family of the connection: an address given decides, else IPv4 when both sides have one."""
    for e in (s, d):
        if e.pod is None and not e.host and e.ips:
            return e.ips[0].version
    if s.addr(4) is not None and d.addr(4) is not None:
        return 4
    return 6 if s.addr(6) is not None and d.addr(6) is not None else 4


def check_protocol(protocol: str) -> str:
    p = str(protocol).upper()
    if p not in ("TCP", "UDP", "SCTP"):
        raise NetpolError(f"protocol {protocol!r}: NetworkPolicy knows TCP, UDP and SCTP")
    return p


def check_port(port) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise NetpolError(f"port {port!r}: a port is a number from 1 to 65535")
    return port


def index(cluster_or_index, strict: bool = True) -> NetpolIndex:
    return cluster_or_index if isinstance(cluster_or_index, NetpolIndex) else NetpolIndex(cluster_or_index, strict)


def evaluate(cluster, src, dst, port: int, protocol: str = "TCP") -> Verdict:
    """May ``src`` open a ``protocol`` connection to ``dst`` on ``port``? ``cluster``: a Cluster or a NetpolIndex
    (build one to ask many questions); ``src``/``dst``: a Pod, "NS/POD" or an IP address."""
    return index(cluster).evaluate(src, dst, port, protocol)


def selected_pods(cluster, policy) -> list[Pod]:
    """The pods ``policy`` (a NetworkPolicy, its KubeObject or "ns/name") selects (hostNetwork pods never)."""
    ix = index(cluster, strict=False)
    key = policy.key if isinstance(policy, NetworkPolicy) else (f"{policy.namespace}/{policy.name}" if hasattr(policy, "namespace") else policy)
    if key not in ix.selected:
        raise NetpolError(f'no NetworkPolicy "{key}"')
    return [ix.pods[k] for k in ix.selected[key]]


def policies_for(cluster, pod) -> dict[str, list[NetworkPolicy]]:
    """The policies isolating ``pod`` (a Pod or "NS/POD"), per direction: {"ingress": [...], "egress": [...]}."""
    ix = index(cluster, strict=False)
    e = ix.end(pod)
    k = e.label if e.pod is not None else None
    return {d: list(ix.isolating[d].get(k, [])) if k else [] for d in ("ingress", "egress")}


def matrix(cluster, port: int, protocol: str = "TCP", sources=None, destinations=None) -> dict[tuple[str, str], Verdict]:
    """The truth table: {(source, destination): Verdict} for every pair (every pod of the cluster, in namespace
    and name order, unless ``sources``/``destinations`` narrow it), rows in source order."""
    ix = index(cluster)
    srcs = [ix.end(x) for x in (sources if sources is not None else ix.pods.values())]
    dsts = [ix.end(x) for x in (destinations if destinations is not None else ix.pods.values())]
    return {(s.label, d.label): ix.evaluate(s, d, port, protocol) for s in srcs for d in dsts}


__all__ = ["End", "NetpolError", "NetpolIndex", "PolicyError", "Verdict", "evaluate", "index", "matrix", "policies_for", "selected_pods"]
