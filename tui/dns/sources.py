"""What CoreDNS watches, read from the cluster: Services, EndpointSlices, Pods and Namespaces.

CoreDNS builds every answer from the API objects, not from kube-proxy's view, so this module keeps what
:mod:`tui.k8s.cluster` leaves out: endpoint hostnames and target pods, slices without ports, and which
addresses are ready. Endpoints come, per Service, from the first of:

1. its EndpointSlices (label ``kubernetes.io/service-name``), as written;
2. its v1 Endpoints object, mirrored into a slice per subset (ready ``addresses`` only) as the
   EndpointSlice mirroring controller does;
3. for a Service with a selector, the slices the EndpointSlice controller would write from the pods: one per
   address family and port set, a pod's ``spec.hostname`` copied as the endpoint hostname when its
   ``spec.subdomain`` names the Service, ``ready`` from the pod's Ready condition (or true with
   ``publishNotReadyAddresses``);
4. the API server's own slice for ``default/kubernetes``.

CoreDNS then drops every endpoint whose ``conditions.ready`` is false (absent counts as ready). The cluster
DNS Service is the one holding the DNS address (``cluster.dns.clusterIP``, the 10th address of the service
CIDR by default), whatever its name; :func:`with_coredns` adds kubeadm's ``kube-dns`` Service and
``coredns`` Deployment when none does.

The EndpointSlice controller and the containers :func:`collect` fills when first read (:class:`SliceList`
and the like) are in :mod:`tui.dns.slices`.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from dataclasses import dataclass, field, replace

from ..model.topology import KubeObject, Topology
from .slices import SliceList, _Controller, _GrowingSet, _LazyList


@dataclass(frozen=True)
class Port:
    name: str
    port: int  # -1: the sentinel CoreDNS adds for a Service or slice without ports
    protocol: str = "TCP"


NO_PORTS = (Port("", -1, ""),)


@dataclass(frozen=True)
class Address:
    """One ready endpoint address of a slice."""

    ip: str  # as the object writes it
    hostname: str = ""
    target: str = ""  # targetRef.name (a pod)
    node: str = ""


@dataclass(frozen=True)
class Slice:
    name: str
    namespace: str
    service: str  # the kubernetes.io/service-name label
    ports: tuple[Port, ...]
    addresses: tuple[Address, ...]  # ready ones only: CoreDNS keeps no other

    @property
    def index(self) -> str:
        """CoreDNS's EndpointsKey: ``<service>.<namespace>``."""
        return f"{self.service}.{self.namespace}"


@dataclass(frozen=True)
class Service:
    namespace: str
    name: str
    type: str
    cluster_ips: tuple[str, ...]  # ("None",) for a headless Service, ("",) for an ExternalName
    ports: tuple[Port, ...]
    external_name: str = ""

    @property
    def headless(self) -> bool:
        return self.cluster_ips[0] == "None"

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class PodRef:
    namespace: str
    name: str
    ip: str  # status.podIP, the address CoreDNS indexes pods by


@dataclass
class Sources:
    services: dict[tuple[str, str], Service]
    slices: list[Slice]
    pods: list[PodRef]
    namespaces: set[str]
    dns_service: Service | None = None
    by_index: dict[str, list[Slice]] = field(default_factory=dict)
    pod_names: set = field(default_factory=set)  # (namespace, name) of every pod
    _by_ip: dict | None = field(default=None, repr=False)
    _svc_by_ip: dict | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        eager = self.slices.eager() if isinstance(self.slices, SliceList) else self.slices
        for s in eager:
            self.by_index.setdefault(s.index, []).append(s)

    def slices_with(self, ip: str) -> list[Slice]:
        """The slices with an address ``ip`` (as ip_text writes it), in the order of ``slices``."""
        from .records import ip_text

        if isinstance(self.slices, SliceList) and not self.slices.filled:
            if len(self.slices.made) < len(self.slices.pending):  # (once every Service's are made, an index of all)
                return self.slices.with_ip(ip)
            self.slices._fill()
        if self._by_ip is None:
            self._by_ip = {}
            for sl in self.slices:
                for a in sl.addresses:
                    found = self._by_ip.setdefault(ip_text(a.ip), [])
                    if not found or found[-1] is not sl:
                        found.append(sl)
        return self._by_ip.get(ip, [])

    def services_with_ip(self, ip: str) -> list[tuple[str, str]]:
        """(namespace, name) of the Services with cluster IP ``ip`` (as ip_text writes it), in name order."""
        from .records import ip_text

        if self._svc_by_ip is None:
            self._svc_by_ip = {}
            for key in sorted(self.services):
                for x in dict.fromkeys(ip_text(x) for x in self.services[key].cluster_ips):
                    self._svc_by_ip.setdefault(x, []).append(key)
        return self._svc_by_ip.get(ip, [])

    def slices_of(self, service: str, namespace: str) -> list[Slice]:
        index = f"{service}.{namespace}"
        if isinstance(self.slices, SliceList) and index in self.slices.pending:
            self.by_index[index] = list(self.slices.computed(index))
        return self.by_index.get(index, [])


def _str(x) -> str:
    return x if isinstance(x, str) else ""


def _ready(cond) -> bool:
    return not isinstance(cond, dict) or cond.get("ready", True) is not False


def _slice_from_object(o: KubeObject) -> Slice | None:
    labels = (o.body.get("metadata") or {}).get("labels") or {}
    svc = labels.get("kubernetes.io/service-name")
    if not isinstance(svc, str) or not svc:
        return None
    ports = tuple(Port(_str(p.get("name")), p["port"] if isinstance(p.get("port"), int) else -1, _str(p.get("protocol")) or "TCP")
                  for p in o.body.get("ports") or [] if isinstance(p, dict)) or NO_PORTS
    addrs = []
    for e in o.body.get("endpoints") or []:
        if not isinstance(e, dict) or not _ready(e.get("conditions")):
            continue
        ref = e.get("targetRef") if isinstance(e.get("targetRef"), dict) else {}
        target = _str(ref.get("name"))
        for a in e.get("addresses") or []:
            if isinstance(a, str):
                addrs.append(Address(a, _str(e.get("hostname")), target if len(target) < 64 else "", _str(e.get("nodeName"))))
    return Slice(o.name, o.namespace or "default", svc, ports, tuple(addrs))


def _mirrored(o: KubeObject) -> list[Slice]:
    out = []
    for i, sub in enumerate(o.body.get("subsets") or []):
        if not isinstance(sub, dict):
            continue
        ports = tuple(Port(_str(p.get("name")), p["port"] if isinstance(p.get("port"), int) else -1, _str(p.get("protocol")) or "TCP")
                      for p in sub.get("ports") or [] if isinstance(p, dict)) or NO_PORTS
        addrs = []
        for a in sub.get("addresses") or []:
            if isinstance(a, dict) and isinstance(a.get("ip"), str):
                ref = a.get("targetRef") if isinstance(a.get("targetRef"), dict) else {}
                addrs.append(Address(a["ip"], _str(a.get("hostname")), _str(ref.get("name")), _str(a.get("nodeName"))))
        out.append(Slice(f"{o.name}-{_suffix(o.key, i)}", o.namespace or "default", o.name, ports, tuple(addrs)))
    return out


def _suffix(owner: str, i: int) -> str:
    from ..k8s.workloads import suffix

    return suffix(owner, i)


def _pod_bodies(topology: Topology, cluster) -> dict[tuple[str, str], dict]:
    """Every pod's object body: those in the file and those the controllers would create."""
    from ..k8s.workloads import expand

    memo = getattr(cluster, "memo", None)
    if memo is not None and "pod-bodies" in memo:  # (kept by build_cluster)
        return memo["pod-bodies"]
    objs = list(topology.objects)
    bodies = {(o.namespace or "default", o.name): o.body for o in objs if o.kind == "Pod"}
    if any(o.kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet") for o in objs):
        for o in expand(objs, list(cluster.nodes), {n: list(v.taints) for n, v in cluster.nodes.items()}):
            bodies.setdefault((o.namespace or "default", o.name), o.body)
    return bodies


def collect(topology: Topology, cluster) -> Sources:
    """Services, ready endpoint slices, pods and namespaces as CoreDNS's informers hold them."""
    kinds = ("Service", "EndpointSlice", "Endpoints")
    if getattr(cluster, "topology", None) is topology and hasattr(cluster, "objects_of"):  # (sorted once for all who ask)
        by_kind = {k: cluster.objects_of(k) for k in kinds}
    else:
        by_kind = {k: [] for k in kinds}
        for o in topology.objects:
            found = by_kind.get(o.kind)
            if found is not None:
                found.append(o)
    by_key = {s.key: s for s in cluster.services}
    svc_objs = {(o.namespace or "default", o.name): o for o in by_kind["Service"]}
    services: dict[tuple[str, str], Service] = {}
    for s in cluster.services:
        o = svc_objs.get((s.namespace, s.name))
        spec = (o.body.get("spec") or {}) if o is not None else {}
        if o is not None:
            ports = tuple(Port(_str(p.get("name")), p["port"], _str(p.get("protocol")) or "TCP")
                          for p in spec.get("ports") or [] if isinstance(p, dict) and isinstance(p.get("port"), int))
        else:
            ports = tuple(Port(p.name, p.port, p.protocol) for p in s.ports)
        if s.type == "ExternalName":
            ips: tuple[str, ...] = (_str(spec.get("clusterIP")),)
        elif s.headless:
            ips = ("None",)
        else:
            ips = _given_ips(spec) or tuple(str(ip) for ip in _ordered(s, spec)) or ("",)
        services[(s.namespace, s.name)] = Service(s.namespace, s.name, s.type, ips, ports or NO_PORTS, _str(spec.get("externalName")))
    given: dict[str, list[Slice]] = {}
    for o in by_kind["EndpointSlice"]:
        if (sl := _slice_from_object(o)) is not None:
            given.setdefault(sl.index, []).append(sl)
    mirrored: dict[str, list[Slice]] = {}
    for o in by_kind["Endpoints"]:
        mirrored.setdefault(f"{o.name}.{o.namespace or 'default'}", []).extend(_mirrored(o))
    slices: list[Slice] = []
    for index in sorted(given):
        slices += sorted(given[index], key=lambda s: s.name)
    for index in sorted(mirrored):
        if index not in given:
            slices += mirrored[index]
    controller = _Controller(topology, cluster)
    pending: dict = {}  # the EndpointSlice controller's slices of each Service with a selector, made when asked for
    for (ns, name), o in sorted(svc_objs.items()):
        index = f"{name}.{ns}"
        if index in given or index in mirrored:
            continue
        pending[index] = functools.partial(controller.slices, o, by_key.get(f"{ns}/{name}"))
    tail: list[Slice] = []
    if "kubernetes.default" not in given and ("default", "kubernetes") not in svc_objs:
        eps = [e for e in cluster.endpoints.get(("default/kubernetes", "https"), []) if e.ready]
        if eps:
            tail.append(Slice("kubernetes", "default", "kubernetes", (Port("https", eps[0].port, "TCP"),),
                              tuple(Address(str(e.ip), node=e.node or "") for e in eps)))
    pods = _LazyList(functools.partial(_pod_refs, cluster))  # (a big cluster's: made when a pod record is asked for)
    # (the pods' namespaces, and their names, are gone through when a lookup needs them)
    namespaces = _GrowingSet(set(getattr(cluster, "namespaces", {}) or ()) | {s.namespace for s in cluster.services},
                             lambda: {p.namespace for p in cluster.pods})
    dns_ip = topology.cluster.dns_cluster_ip
    dns_svc = next((sv for sv in services.values() if str(dns_ip) in sv.cluster_ips), None)
    slice_list = SliceList(slices, pending, tail)
    selectors: dict[str, list] = {}  # namespace -> [(index, selector)] of the Services whose slices are made when asked for
    for (ns, name), o in sorted(svc_objs.items()):
        sel = (o.body.get("spec") or {}).get("selector")
        if f"{name}.{ns}" in pending and isinstance(sel, dict) and sel:
            selectors.setdefault(ns, []).append((f"{name}.{ns}", sel))
    slice_list.finder = functools.partial(controller.selecting, selectors)
    return Sources(services, slice_list, pods, namespaces, dns_svc,
                   pod_names=_GrowingSet((), lambda: {(p.namespace, p.name) for p in cluster.pods}))


def _pod_refs(cluster) -> list[PodRef]:
    pods = []
    for p in cluster.pods:
        ip = p.ip if p.ip is not None else p.ip6
        if ip is not None:
            pods.append(PodRef(p.namespace, p.name, str(ip)))
    return pods


def _given_ips(spec: dict) -> tuple[str, ...]:
    """spec.clusterIPs (else spec.clusterIP) as the object writes them: the API server's own record."""
    texts = [t for t in spec.get("clusterIPs") or [] if isinstance(t, str)] or (
        [spec["clusterIP"]] if isinstance(spec.get("clusterIP"), str) else [])
    out = tuple(ip for t in texts if (ip := _ip_str(t)) is not None)
    return out if len(out) == len(texts) else ()


def _ip_str(text: str) -> str | None:
    """``text`` as Python writes the address, None if it is none."""
    try:  # (the commonest case, quickly: an IPv4 address already written as ipaddress would write it)
        if socket.inet_ntoa(socket.inet_pton(socket.AF_INET, text)) == text:
            return text
    except (OSError, ValueError):
        pass
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _ordered(s, spec: dict) -> list:
    """spec.clusterIPs in the object's order (the model keeps IPv4 first)."""
    ips = list(s.cluster_ips)
    first = spec.get("clusterIP")
    if isinstance(first, str) and ips and len(ips) == 2:
        try:
            if ipaddress.ip_address(first) == ips[1]:
                ips.reverse()
        except ValueError:
            pass
    return ips


# -- the default CoreDNS ---------------------------------------------------------------------------------

COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.11.3"


def is_cluster(topology: Topology) -> bool:
    """Whether the topology describes a Kubernetes cluster (a cluster section, objects, or node hosts)."""
    return topology.cluster.present or bool(topology.objects) or any(h.role == "node" for h in topology.hosts)


def holds_dns_address(topology: Topology) -> bool:
    """Whether one of the topology's Services already has the cluster DNS address."""
    ip = topology.cluster.dns_cluster_ip
    for o in topology.objects:
        if o.kind != "Service":
            continue
        spec = o.body.get("spec") or {}
        texts = [spec.get("clusterIP")] + list(spec.get("clusterIPs") or [])
        for t in texts:
            try:
                if isinstance(t, str) and ipaddress.ip_address(t) == ip:
                    return True
            except ValueError:
                continue
    return False


def coredns_objects(topology: Topology) -> tuple[KubeObject, ...]:
    """What kubeadm installs when no Service holds the cluster DNS address (the cluster model's own
    :func:`tui.k8s.coredns.coredns_objects`, so that the data path and the DNS agree)."""
    from ..k8s.coredns import addon_objects as implicit

    has_nodes = (any(o.kind in ("Node", "Pod") for o in topology.objects) or any(h.role == "node" for h in topology.hosts)
                 or any(o.kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet") for o in topology.objects))
    return tuple(implicit(topology, topology.objects, has_nodes=has_nodes))


def with_coredns(topology: Topology) -> Topology:
    """The topology with kubeadm's CoreDNS added when no Service holds the cluster DNS address."""
    extra = coredns_objects(topology)
    return replace(topology, objects=topology.objects + extra) if extra else topology
