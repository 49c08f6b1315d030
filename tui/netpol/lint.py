"""Warnings about NetworkPolicies that load fine but do not do what their author likely meant.

- egress isolation that blocks DNS: a pod selected for egress that no egress rule lets reach every
  kube-dns pod (the endpoints of the Service at the cluster DNS address) on UDP 53 and TCP 53;
- a policy that selects no pod (or only hostNetwork pods, which policies never select);
- a namespaceSelector that matches no namespace;
- a named port that no pod it could apply to has (ingress: the selected pods; egress: the pods its
  peers match), for the port's protocol.

Each item names the policy object and the field path; :attr:`LintItem.problem` is the loader's
located :class:`~tui.load.errors.Problem` (``FILE:LINE:COL: warning: path: message``, at the object).
Policies the API server would refuse come out as items of severity ``error``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..k8s.cluster import Cluster, Pod
from ..load.errors import Problem
from ..model.topology import KubeObject
from .evaluate import NetpolIndex, _key
from .policy import NetworkPolicy, Rule, is_policy

DNS_PORT = 53


@dataclass(frozen=True)
class LintItem:
    obj: KubeObject | None
    path: str
    message: str
    severity: str = "warning"

    @property
    def problem(self) -> Problem:
        from ..model.source import NOWHERE

        if self.obj is None:
            return Problem(NOWHERE, self.path, self.message, self.severity)
        path = self.path  # the field itself, else the nearest enclosing one that was written
        while path and path not in self.obj.field_marks:
            path = path.rsplit(".", 1)[0] if "." in path else ""
        return Problem(self.obj.mark_of(path) if path else self.obj.mark, self.path, self.message, self.severity)

    def to_dict(self) -> dict:
        return {**self.problem.to_dict(), "object": f"{self.obj.namespace}/{self.obj.name}" if self.obj is not None else None}

    def __str__(self) -> str:
        return str(self.problem)


def lint(cluster: Cluster | NetpolIndex, objects=None) -> list[LintItem]:
    """Warnings (and errors) for the NetworkPolicies among ``objects`` (default: every one of the cluster)."""
    ix = cluster if isinstance(cluster, NetpolIndex) else NetpolIndex(cluster, strict=False)
    wanted = None if objects is None else {(o.namespace, o.name) for o in objects if is_policy(o)}
    out = [LintItem(e.obj, e.path, f"NetworkPolicy {e.obj.namespace}/{e.obj.name}: {e.message}", "error")
           for e in ix.errors if wanted is None or (e.obj.namespace, e.obj.name) in wanted]
    dns = _dns_pods(ix)
    dns_blocked: dict[str, list[str]] = {}
    for pol in ix.policies:
        if wanted is not None and (pol.namespace, pol.name) not in wanted:
            continue
        out += _selects_nothing(ix, pol)
        out += _namespace_selectors(ix, pol)
        out += _named_ports(ix, pol)
        out += _dns(ix, pol, dns, dns_blocked)
    return out


def _item(pol: NetworkPolicy, path: str, message: str) -> LintItem:
    return LintItem(pol.obj, path, f"NetworkPolicy {pol.key}: {message}")


def _selects_nothing(ix: NetpolIndex, pol: NetworkPolicy) -> list[LintItem]:
    if ix.selected[pol.key]:
        return []
    in_ns = [p for p in ix.pods.values() if p.namespace == pol.namespace]
    host = [p for p in in_ns if p.host_network and pol.pod_selector.matches(p.labels)]
    sel = f"podSelector {pol.pod_selector}" if not pol.pod_selector.empty else "its empty podSelector"
    if host:
        why = (f"{sel} matches only hostNetwork pods ({', '.join(_key(p) for p in host)}), which NetworkPolicy never selects: "
               "it has no effect")
    elif not in_ns:
        why = f"namespace {pol.namespace} has no pods: the policy selects none and has no effect"
    else:
        why = f"{sel} selects no pod of namespace {pol.namespace}: the policy has no effect"
    return [_item(pol, "spec.podSelector", why)]


def _peers(pol: NetworkPolicy):
    for d in ("ingress", "egress"):
        key = "from" if d == "ingress" else "to"
        for i, rule in enumerate(pol.rules(d)):
            for j, peer in enumerate(rule.peers):
                yield d, i, rule, f"spec.{d}[{i}].{key}[{j}]", peer


def _namespace_selectors(ix: NetpolIndex, pol: NetworkPolicy) -> list[LintItem]:
    out = []
    for _, _, _, path, peer in _peers(pol):
        if peer.namespace_selector is not None and not ix.namespaces_matching(peer, pol.namespace):
            out.append(_item(pol, f"{path}.namespaceSelector",
                             f"namespaceSelector {peer.namespace_selector} matches no namespace (namespaces: "
                             f"{', '.join(ix.cluster.namespaces)}): this peer matches nothing"))
    return out


def _rule_destinations(ix: NetpolIndex, pol: NetworkPolicy, rule: Rule) -> list[Pod]:
    """The pods an egress rule could send to."""
    if not rule.peers:
        return [p for p in ix.pods.values() if not p.host_network]
    keys = set()
    for peer in rule.peers:
        if peer.ip_block is not None:
            keys |= {_key(p) for p in ix.pods.values() if not p.host_network and any(peer.ip_block.contains(ip) for ip in p.ips)}
        else:
            keys |= ix.peer_pods(peer, pol.namespace)
    return [ix.pods[k] for k in sorted(keys)]


def _named_ports(ix: NetpolIndex, pol: NetworkPolicy) -> list[LintItem]:
    out = []
    for d in ("ingress", "egress"):
        if not pol.applies(d):
            continue
        for i, rule in enumerate(pol.rules(d)):
            pods = [ix.pods[k] for k in ix.selected[pol.key]] if d == "ingress" else _rule_destinations(ix, pol, rule)
            if d == "ingress" and not pods:
                continue  # already said: the policy selects no pod
            for k, pp in enumerate(rule.ports):
                if not isinstance(pp.port, str):
                    continue
                if any(c.name == pp.port and c.protocol == pp.protocol for p in pods for c in p.ports):
                    continue
                other = sorted({c.protocol for p in pods for c in p.ports if c.name == pp.port})
                who = "pod it selects" if d == "ingress" else "pod its peers match"
                hint = f" (they name it for {'/'.join(other)}: set protocol: {other[0]})" if other else ""
                out.append(_item(pol, f"spec.{d}[{i}].ports[{k}].port",
                                 f'named port "{pp.port}" ({pp.protocol}): no {who} has a container port of that name and '
                                 f"protocol, so this port allows nothing{hint}"))
    return out


def _dns_pods(ix: NetpolIndex) -> list[Pod]:
    """The cluster DNS's pods: the endpoints of the Service at the DNS address, else kube-system's k8s-app=kube-dns pods."""
    dns_ip = ix.cluster.topology.cluster.dns_cluster_ip
    svc = next((s for s in ix.cluster.services if dns_ip in s.cluster_ips), None)
    pods: dict[str, Pod] = {}
    if svc is not None:
        for sp in svc.ports:
            for e in ix.cluster.endpoints_for(svc, sp):
                if e.ip in ix.by_ip:
                    pods.setdefault(_key(ix.by_ip[e.ip]), ix.by_ip[e.ip])
    if not pods:
        pods = {k: p for k, p in ix.pods.items() if p.namespace == "kube-system" and p.labels.get("k8s-app") == "kube-dns"
                and not p.host_network}
    return list(pods.values())


def _dns(ix: NetpolIndex, pol: NetworkPolicy, dns: list[Pod], cache: dict) -> list[LintItem]:
    if not pol.applies("egress") or not dns:
        return []
    dns_keys = {_key(p) for p in dns}
    blocked: dict[tuple[str, ...], list[str]] = {}
    for k in ix.selected[pol.key]:
        if k in dns_keys:
            continue  # CoreDNS itself asks upstream, not kube-dns
        if k not in cache:
            cache[k] = [proto for proto in ("UDP", "TCP")
                        if not all(ix.evaluate(k, d, DNS_PORT, proto).egress_allowed for d in dns)]
        if cache[k]:
            blocked.setdefault(tuple(cache[k]), []).append(k)
    out = []
    path = "spec.policyTypes" if "policyTypes" in (pol.obj.body.get("spec") or {} if pol.obj is not None else {}) else "spec.egress"
    dns_names = ", ".join(_key(p) for p in dns)
    for protos, pods in blocked.items():
        if protos == ("UDP", "TCP"):
            what = "no egress rule allows DNS (UDP 53 and TCP 53)"
        else:
            what = f"no egress rule allows {protos[0]} 53 (DNS answers too long for UDP retry over TCP)" if protos == ("TCP",) \
                else "no egress rule allows UDP 53 (DNS queries go over UDP first)"
        out.append(_item(pol, path,
                         f"isolates {', '.join(pods)} for egress and {what} to every kube-dns pod ({dns_names}): name "
                         "lookups fail; allow egress to namespaceSelector kubernetes.io/metadata.name=kube-system with "
                         "podSelector k8s-app=kube-dns on UDP 53 and TCP 53"))
    return out
