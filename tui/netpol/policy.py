"""networking.k8s.io/v1 NetworkPolicy objects, parsed once into frozen values.

The parser applies the API server's defaulting and refuses what its validation refuses, each problem
as a :class:`PolicyError` naming the object and the field path:

- ``spec.policyTypes`` absent or empty: ``Ingress``, plus ``Egress`` when ``spec.egress`` holds at
  least one rule (``egress: []`` alone does not make a policy an egress policy: the API server's
  defaulting looks at ``len(spec.egress)``).
- a port's ``protocol`` defaults to TCP; ``port`` is a number (1-65535) or an IANA_SVC_NAME, absent
  for every port of the protocol; ``endPort`` needs a numeric ``port`` no greater than it.
- a peer is ``podSelector`` and/or ``namespaceSelector`` (both in one element: AND), or ``ipBlock``
  alone; ``ipBlock.except`` entries are strict subsets of ``cidr``.
- an absent or empty ``from``/``to`` means every peer, an absent or empty ``ports`` every port; a
  direction with no rule at all (``ingress: []``) allows nothing.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..model.topology import KubeObject

PROTOCOLS = ("TCP", "UDP", "SCTP")
POLICY_TYPES = ("Ingress", "Egress")
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class PolicyError(ValueError):
    """A NetworkPolicy the API server would refuse: ``obj`` (when known), the field path and why."""

    def __init__(self, obj: KubeObject | None, path: str, message: str):
        self.obj, self.path, self.message = obj, path, message
        who = f"NetworkPolicy {obj.namespace}/{obj.name}: " if obj is not None else ""
        where = f"{obj.mark}: " if obj is not None and obj.mark.line else ""
        super().__init__(f"{where}{who}{path}: {message}")


@dataclass(frozen=True)
class Requirement:
    """One ``matchExpressions`` entry."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping) -> bool:
        if self.operator == "In":
            return self.key in labels and labels[self.key] in self.values
        if self.operator == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        if self.operator == "Exists":
            return self.key in labels
        return self.key not in labels  # DoesNotExist

    def __str__(self) -> str:
        vals = ",".join(self.values)
        return {"In": f"{self.key} in ({vals})", "NotIn": f"{self.key} notin ({vals})",
                "Exists": self.key, "DoesNotExist": f"!{self.key}"}[self.operator]


@dataclass(frozen=True)
class LabelSelector:
    """A metav1.LabelSelector; the empty selector matches everything."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[Requirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def matches(self, labels: Mapping) -> bool:
        return all(labels.get(k) == v for k, v in self.match_labels) and all(r.matches(labels) for r in self.match_expressions)

    def __str__(self) -> str:  # as kubectl prints selectors: pod=a,role in (x)
        return ",".join([f"{k}={v}" for k, v in self.match_labels] + [str(r) for r in self.match_expressions])


@dataclass(frozen=True)
class IPBlock:
    cidr: Network
    excepts: tuple[Network, ...] = ()

    def contains(self, ip) -> bool:
        return (ip is not None and ip.version == self.cidr.version and ip in self.cidr
                and not any(ip in e for e in self.excepts))

    def __str__(self) -> str:
        return str(self.cidr) + (f" except {', '.join(map(str, self.excepts))}" if self.excepts else "")


@dataclass(frozen=True)
class Peer:
    """One element of ``from``/``to``. Selectors: both set = AND; only ``pod_selector``: pods of the policy's
    own namespace; only ``namespace_selector``: every pod of the matching namespaces."""

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None

    def describe(self, policy_namespace: str) -> str:
        if self.ip_block is not None:
            return f"ipBlock {self.ip_block}"
        pods = "all pods" if self.pod_selector is None or self.pod_selector.empty else f"pods {self.pod_selector}"
        if self.namespace_selector is None:
            return f"{pods} in {policy_namespace}"
        if self.namespace_selector.empty:
            return f"{pods} in every namespace"
        return f"{pods} in namespaces {self.namespace_selector}"


@dataclass(frozen=True)
class PolicyPort:
    protocol: str = "TCP"
    port: int | str | None = None  # None: every port of the protocol; str: a named container port
    end_port: int | None = None

    def matches(self, port: int, protocol: str, named: Mapping | None) -> bool:
        """``named``: the destination pod's container ports as {(name, protocol): {port, ...}} (None: not a pod)."""
        if protocol != self.protocol:
            return False
        if self.port is None:
            return True
        if isinstance(self.port, str):
            return named is not None and port in named.get((self.port, protocol), ())
        return self.port <= port <= (self.end_port if self.end_port is not None else self.port)

    def __str__(self) -> str:
        if self.port is None:
            return f"{self.protocol} (any port)"
        if self.end_port is not None:
            return f"{self.protocol}/{self.port}-{self.end_port}"
        return f"{self.protocol}/{self.port}"


@dataclass(frozen=True)
class Rule:
    peers: tuple[Peer, ...] = ()  # empty: every peer (in or out of the cluster)
    ports: tuple[PolicyPort, ...] = ()  # empty: every port and protocol

    def describe(self, direction: str, policy_namespace: str) -> str:
        word = "from" if direction == "ingress" else "to"
        peers = " or ".join(p.describe(policy_namespace) for p in self.peers) if self.peers else "anywhere"
        ports = ", ".join(map(str, self.ports)) if self.ports else "any port"
        return f"{word} {peers}; on {ports}"


@dataclass(frozen=True)
class NetworkPolicy:
    namespace: str
    name: str
    pod_selector: LabelSelector
    policy_types: tuple[str, ...]
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    obj: KubeObject | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def applies(self, direction: str) -> bool:
        """Whether the policy isolates the pods it selects for ``direction`` (ingress or egress)."""
        return direction.capitalize() in self.policy_types

    def rules(self, direction: str) -> tuple[Rule, ...]:
        return self.ingress if direction == "ingress" else self.egress


def _req(obj, path, message):
    raise PolicyError(obj, path, message)


def parse_selector(value, obj: KubeObject | None, path: str) -> LabelSelector:
    if value is None:
        return LabelSelector()
    if not isinstance(value, dict):
        _req(obj, path, "a label selector is a mapping (matchLabels, matchExpressions)")
    labels = value.get("matchLabels") or {}
    if not isinstance(labels, dict):
        _req(obj, f"{path}.matchLabels", "expected a mapping of label keys to values")
    for k, v in labels.items():
        if not isinstance(v, str):
            _req(obj, f"{path}.matchLabels.{k}", "a label value is a string (quote it)")
    exprs = []
    for i, e in enumerate(value.get("matchExpressions") or []):
        at = f"{path}.matchExpressions[{i}]"
        if not isinstance(e, dict) or not isinstance(e.get("key"), str):
            _req(obj, at, "expected {key, operator, values}")
        op = e.get("operator")
        if op not in OPERATORS:
            _req(obj, f"{at}.operator", f"unsupported value {op!r}: one of {', '.join(OPERATORS)}")
        values = e.get("values") or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            _req(obj, f"{at}.values", "expected a list of strings")
        if op in ("In", "NotIn") and not values:
            _req(obj, f"{at}.values", f"must be specified when `operator` is '{op}'")
        if op in ("Exists", "DoesNotExist") and values:
            _req(obj, f"{at}.values", f"may not be specified when `operator` is '{op}'")
        exprs.append(Requirement(e["key"], op, tuple(values)))
    return LabelSelector(tuple(sorted(labels.items())), tuple(exprs))


def _network(text, obj, path) -> Network:
    """An ipBlock CIDR read as the API server reads it (the loader's parser: host bits, leading zeros), as Go sees
    it (an IPv4-mapped network is IPv4)."""
    from ..load.netpol import _go_network, parse_ipblock_cidr

    try:
        return _go_network(parse_ipblock_cidr(str(text))[0])
    except ValueError as e:
        _req(obj, path, f"{text!r} is not a CIDR (e.g. 10.0.0.0/16): {e}")


def parse_peer(value, obj, path) -> Peer:
    if not isinstance(value, dict):
        _req(obj, path, "expected a mapping (podSelector, namespaceSelector or ipBlock)")
    # null is absent, as for the API server's pointers
    has_pod, has_ns, has_ip = (value.get(k) is not None for k in ("podSelector", "namespaceSelector", "ipBlock"))
    if not (has_pod or has_ns or has_ip):
        _req(obj, path, "must specify a peer (podSelector, namespaceSelector or ipBlock)")
    if has_ip and (has_pod or has_ns):
        _req(obj, path, "may not specify more than 1 peer type: ipBlock stands alone")
    if has_ip:
        b = value["ipBlock"]
        if not isinstance(b, dict) or "cidr" not in b:
            _req(obj, f"{path}.ipBlock.cidr", "required field is missing")
        cidr = _network(b["cidr"], obj, f"{path}.ipBlock.cidr")
        excepts = []
        for i, e in enumerate(b.get("except") or []):
            net = _network(e, obj, f"{path}.ipBlock.except[{i}]")
            if net.version != cidr.version or not net.subnet_of(cidr) or net.prefixlen <= cidr.prefixlen:
                _req(obj, f"{path}.ipBlock.except[{i}]", f"{e} must be a strict subset of `cidr` ({cidr})")
            excepts.append(net)
        return Peer(ip_block=IPBlock(cidr, tuple(excepts)))
    pod = parse_selector(value["podSelector"], obj, f"{path}.podSelector") if has_pod else None
    ns = parse_selector(value["namespaceSelector"], obj, f"{path}.namespaceSelector") if has_ns else None
    return Peer(pod, ns)


def parse_port(value, obj, path) -> PolicyPort:
    if not isinstance(value, dict):
        _req(obj, path, "expected a mapping (protocol, port, endPort)")
    proto = value.get("protocol") or "TCP"
    if proto not in PROTOCOLS:
        _req(obj, f"{path}.protocol", f"unsupported value {proto!r}: one of TCP, UDP, SCTP")
    port, end = value.get("port"), value.get("endPort")
    if isinstance(port, bool) or not isinstance(port, (int, str, type(None))):
        _req(obj, f"{path}.port", "expected a port number or name")
    if isinstance(port, int) and not 1 <= port <= 65535:
        _req(obj, f"{path}.port", f"port {port} must be between 1 and 65535, inclusive")
    if isinstance(port, str) and (len(port) > 15 or not _IANA_SVC_NAME.match(port) or not re.search("[a-z]", port)):
        _req(obj, f"{path}.port", f'"{port}" is not a valid port name (IANA_SVC_NAME: at most 15 lower-case letters, digits and "-")')
    if end is not None:
        if isinstance(end, bool) or not isinstance(end, int):
            _req(obj, f"{path}.endPort", "expected a port number")
        if not isinstance(port, int):
            _req(obj, f"{path}.endPort", "may not be specified when `port` is not a number")
        if not port <= end <= 65535:
            _req(obj, f"{path}.endPort", f"must be greater than or equal to `port` ({port}) and at most 65535")
    return PolicyPort(proto, port, end)


def _list(value, obj, path) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        _req(obj, path, "expected a list")
    return value


def parse_rule(value, obj, path, direction: str) -> Rule:
    if value is None:
        return Rule()
    if not isinstance(value, dict):
        _req(obj, path, "expected a mapping (from/to, ports)")
    key = "from" if direction == "ingress" else "to"
    peers = tuple(parse_peer(p, obj, f"{path}.{key}[{i}]") for i, p in enumerate(_list(value.get(key), obj, f"{path}.{key}")))
    ports = tuple(parse_port(p, obj, f"{path}.ports[{i}]") for i, p in enumerate(_list(value.get("ports"), obj, f"{path}.ports")))
    return Rule(peers, ports)


def parse_policy(obj: KubeObject) -> NetworkPolicy:
    """One NetworkPolicy object, defaulted as the API server defaults it; PolicyError when it would refuse it."""
    spec = obj.body.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        _req(obj, "spec", "expected a mapping")
    selector = parse_selector(spec.get("podSelector"), obj, "spec.podSelector")
    ingress = tuple(parse_rule(r, obj, f"spec.ingress[{i}]", "ingress") for i, r in enumerate(_list(spec.get("ingress"), obj, "spec.ingress")))
    egress = tuple(parse_rule(r, obj, f"spec.egress[{i}]", "egress") for i, r in enumerate(_list(spec.get("egress"), obj, "spec.egress")))
    types = _list(spec.get("policyTypes"), obj, "spec.policyTypes")
    for i, t in enumerate(types):
        if t not in POLICY_TYPES:
            _req(obj, f"spec.policyTypes[{i}]", f"unsupported value {t!r}: Ingress or Egress")
    if not types:  # the API server's defaulting
        types = ["Ingress"] + (["Egress"] if egress else [])
    return NetworkPolicy(obj.namespace or "default", obj.name, selector, tuple(t for t in POLICY_TYPES if t in types),
                         ingress, egress, obj)


API_VERSION = "networking.k8s.io/v1"


def is_policy(o) -> bool:
    """A Kubernetes NetworkPolicy (not Calico's or another project's kind of the same name)."""
    return o.kind == "NetworkPolicy" and o.api_version == API_VERSION


def parse_policies(objects, strict: bool = True) -> tuple[list[NetworkPolicy], list[PolicyError]]:
    """Every NetworkPolicy among ``objects``; ``strict``: raise the first PolicyError, else collect them."""
    out, errors = [], []
    for o in objects:
        if not is_policy(o):
            continue
        try:
            out.append(parse_policy(o))
        except PolicyError as e:
            if strict:
                raise
            errors.append(e)
    return out, errors
