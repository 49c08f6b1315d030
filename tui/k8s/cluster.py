"""The Kubernetes objects of a topology, read for their networking meaning.

:func:`build_cluster` turns the validated :class:`KubeObject` bodies into
nodes, pods, Services and their endpoints, the way the control plane sees
them: EndpointSlices (or Endpoints) when the objects carry them, otherwise
endpoints computed from each Service's selector over ready pods, with named
target ports resolved per pod.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ..model.topology import IPAddress, KubeObject, Topology


@dataclass(frozen=True)
class Node:
    name: str
    internal_ip: IPAddress | None
    pod_cidr: ipaddress.IPv4Network | ipaddress.IPv6Network | None


@dataclass(frozen=True)
class ContainerPort:
    port: int
    protocol: str = "TCP"
    name: str | None = None


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    node: str | None
    ip: IPAddress | None
    labels: dict = field(default_factory=dict, compare=False, hash=False)
    ports: tuple[ContainerPort, ...] = ()
    ready: bool = True
    host_network: bool = False


@dataclass(frozen=True)
class ServicePort:
    name: str
    port: int
    protocol: str = "TCP"
    target_port: int | str | None = None
    node_port: int | None = None


@dataclass(frozen=True)
class Service:
    namespace: str
    name: str
    type: str = "ClusterIP"
    cluster_ip: IPAddress | None = None  # None: headless (clusterIP: None) or ExternalName
    ports: tuple[ServicePort, ...] = ()
    selector: dict | None = field(default=None, compare=False, hash=False)
    external_traffic_policy: str = "Cluster"
    session_affinity: str = "None"

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def port_name(self, p: ServicePort) -> str:
        """kube-proxy's ServicePortName string: ``ns/name:port`` (``ns/name`` for an unnamed port)."""
        return f"{self.key}:{p.name}" if p.name else self.key


@dataclass(frozen=True)
class Endpoint:
    ip: IPAddress
    port: int
    ready: bool = True
    node: str | None = None

    def __str__(self) -> str:
        return f"[{self.ip}]:{self.port}" if self.ip.version == 6 else f"{self.ip}:{self.port}"


@dataclass
class Cluster:
    topology: Topology
    nodes: dict[str, Node]
    pods: list[Pod]
    services: list[Service]
    endpoints: dict[tuple[str, str], list[Endpoint]]  # (service key, port name) -> endpoints

    def endpoints_for(self, svc: Service, port: ServicePort) -> list[Endpoint]:
        return self.endpoints.get((svc.key, port.name), [])


def _ip(text) -> IPAddress | None:
    try:
        return ipaddress.ip_address(str(text))
    except ValueError:
        return None


def _node(o: KubeObject) -> Node:
    spec, status = o.body.get("spec") or {}, o.body.get("status") or {}
    cidr = None
    if spec.get("podCIDR"):
        try:
            cidr = ipaddress.ip_network(spec["podCIDR"], strict=False)
        except ValueError:
            cidr = None
    ip = None
    for a in status.get("addresses") or []:
        if isinstance(a, dict) and a.get("type") == "InternalIP":
            ip = _ip(a.get("address"))
            break
    return Node(o.name, ip, cidr)


def _pod(o: KubeObject) -> Pod:
    spec, status = o.body.get("spec") or {}, o.body.get("status") or {}
    ports = []
    for c in spec.get("containers") or []:
        for p in (c or {}).get("ports") or []:
            if isinstance(p, dict) and isinstance(p.get("containerPort"), int):
                ports.append(ContainerPort(p["containerPort"], p.get("protocol", "TCP"), p.get("name")))
    ready = True
    for cond in status.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "Ready":
            ready = str(cond.get("status")) == "True"
    labels = (o.body.get("metadata") or {}).get("labels") or {}
    return Pod(o.namespace or "default", o.name, spec.get("nodeName"), _ip(status.get("podIP")), dict(labels), tuple(ports), ready,
               bool(spec.get("hostNetwork")))


def _service(o: KubeObject) -> Service:
    spec = o.body.get("spec") or {}
    stype = spec.get("type", "ClusterIP")
    cip = spec.get("clusterIP")
    ports = tuple(
        ServicePort(p.get("name") or "", p["port"], p.get("protocol", "TCP"), p.get("targetPort", p["port"]), p.get("nodePort"))
        for p in spec.get("ports") or [] if isinstance(p, dict) and isinstance(p.get("port"), int)
    )
    selector = spec.get("selector") if isinstance(spec.get("selector"), dict) else None
    return Service(o.namespace or "default", o.name, stype, None if cip in (None, "None", "") else _ip(cip), ports, selector,
                   spec.get("externalTrafficPolicy", "Cluster"), spec.get("sessionAffinity", "None"))


def _slices(objects: list[KubeObject]) -> dict[tuple[str, str], list[Endpoint]]:
    out: dict[tuple[str, str], list[Endpoint]] = {}
    for o in objects:
        if o.kind != "EndpointSlice":
            continue
        labels = (o.body.get("metadata") or {}).get("labels") or {}
        svc = labels.get("kubernetes.io/service-name")
        if not svc:
            continue
        for p in o.body.get("ports") or []:
            if not isinstance(p, dict) or not isinstance(p.get("port"), int):
                continue
            eps = out.setdefault((f"{o.namespace}/{svc}", p.get("name") or ""), [])
            for e in o.body.get("endpoints") or []:
                ready = (e.get("conditions") or {}).get("ready", True) is not False
                for a in e.get("addresses") or []:
                    if (ip := _ip(a)) is not None:
                        eps.append(Endpoint(ip, p["port"], ready, e.get("nodeName")))
    return out


def _endpoints_objects(objects: list[KubeObject]) -> dict[tuple[str, str], list[Endpoint]]:
    out: dict[tuple[str, str], list[Endpoint]] = {}
    for o in objects:
        if o.kind != "Endpoints":
            continue
        for subset in o.body.get("subsets") or []:
            for p in subset.get("ports") or []:
                if not isinstance(p, dict) or not isinstance(p.get("port"), int):
                    continue
                eps = out.setdefault((f"{o.namespace}/{o.name}", p.get("name") or ""), [])
                for key, ready in (("addresses", True), ("notReadyAddresses", False)):
                    for a in subset.get(key) or []:
                        if (ip := _ip((a or {}).get("ip"))) is not None:
                            eps.append(Endpoint(ip, p["port"], ready, (a or {}).get("nodeName")))
    return out


def _computed(services: list[Service], pods: list[Pod]) -> dict[tuple[str, str], list[Endpoint]]:
    """The endpoints controller: ready pods matching the selector, target ports resolved per pod."""
    out: dict[tuple[str, str], list[Endpoint]] = {}
    for s in services:
        if not s.selector:
            continue
        members = [p for p in pods if p.namespace == s.namespace and p.ip is not None
                   and all(p.labels.get(k) == v for k, v in s.selector.items())]
        for sp in s.ports:
            eps = out.setdefault((s.key, sp.name), [])
            for p in members:
                tp = sp.target_port
                if isinstance(tp, str):
                    named = next((c for c in p.ports if c.name == tp and c.protocol == sp.protocol), None)
                    if named is None:
                        continue  # the pod has no port of that name: not an endpoint of this port
                    port = named.port
                else:
                    port = tp or sp.port
                eps.append(Endpoint(p.ip, port, p.ready, p.node))
    return out


def build_cluster(topo: Topology) -> Cluster:
    objs = list(topo.objects)
    nodes = {o.name: _node(o) for o in objs if o.kind == "Node"}
    for h in topo.hosts:
        if h.role == "node" and h.name not in nodes:
            ip = next((a.ip for i in h.interfaces for a in i.addresses), None)
            nodes[h.name] = Node(h.name, ip, None)
    pods = [_pod(o) for o in objs if o.kind == "Pod"]
    services = [_service(o) for o in objs if o.kind == "Service"]
    given = _slices(objs)
    from_endpoints = _endpoints_objects(objs)
    computed = _computed(services, pods)
    endpoints: dict[tuple[str, str], list[Endpoint]] = {}
    for s in services:
        for sp in s.ports:
            k = (s.key, sp.name)
            if any(key[0] == s.key for key in given):
                endpoints[k] = given.get(k, [])
            elif any(key[0] == s.key for key in from_endpoints):
                endpoints[k] = from_endpoints.get(k, [])
            else:
                endpoints[k] = computed.get(k, [])
    return Cluster(topo, nodes, pods, services, endpoints)
