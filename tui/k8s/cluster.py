"""The Kubernetes objects of a topology, read for their networking meaning.

:func:`build_cluster` turns the validated :class:`KubeObject` bodies into
nodes, pods, Services and their endpoints, the way the control plane sees
them: EndpointSlices (or Endpoints) when the objects carry them, otherwise
endpoints computed from each Service's selector over ready pods, with named
target ports resolved per pod.

The endpoints mapping (:class:`tui.k8s.endpoints.Endpoints`) and the endpoints
controller it runs are in :mod:`tui.k8s.endpoints`.
"""

from __future__ import annotations

import ipaddress
import itertools
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ..model.topology import IPAddress, KubeObject, Topology


@dataclass(frozen=True)
class Node:
    name: str
    internal_ip: IPAddress | None
    pod_cidr: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    taints: tuple = field(default=(), compare=False, hash=False)  # spec.taints (dicts), for scheduling
    internal_ip6: IPAddress | None = None  # dual-stack: its IPv6 InternalIP
    pod_cidr6: ipaddress.IPv6Network | None = None  # dual-stack: spec.podCIDRs[1]


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
    tolerations: tuple = field(default=(), compare=False, hash=False)
    ip6: IPAddress | None = None  # dual-stack: status.podIPs' IPv6 address

    @property
    def ips(self) -> tuple:
        return tuple(ip for ip in (self.ip, self.ip6) if ip is not None)


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
    headless: bool = False  # spec.clusterIP: None
    load_balancer_ip: IPAddress | None = None  # status.loadBalancer.ingress[0].ip, or from the topology's pool
    ip_family_policy: str = "SingleStack"  # SingleStack, PreferDualStack, RequireDualStack
    cluster_ip6: IPAddress | None = None  # dual-stack: spec.clusterIPs' second (IPv6) address

    @property
    def cluster_ips(self) -> tuple:
        """spec.clusterIPs: the primary family's address first."""
        return tuple(ip for ip in (self.cluster_ip, self.cluster_ip6) if ip is not None)

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

    def __str__(self) -> str:  # (kept: kube-proxy sorts and names chains by it, hundreds of thousands of times)
        text = self.__dict__.get("_text")
        if text is None:
            ip = self.ip
            text = self.__dict__["_text"] = f"[{ip}]:{self.port}" if ip.version == 6 else \
                f"{socket.inet_ntoa(int(ip).to_bytes(4, 'big'))}:{self.port}"  # (= str(ip), a fifth of the time)
        return text


@dataclass
class Cluster:
    topology: Topology
    nodes: dict[str, Node]
    pods: list[Pod]
    services: list[Service]
    endpoints: Mapping[tuple[str, str], list[Endpoint]]  # (service key, port name) -> endpoints (an Endpoints, or a dict)
    pod_cidrs: dict = field(default_factory=dict)  # node -> its pod CIDR
    pod_cidrs6: dict = field(default_factory=dict)  # node -> its IPv6 pod CIDR (dual-stack)
    namespaces: dict = field(default_factory=dict)  # name -> labels (with kubernetes.io/metadata.name, as the API server sets it)
    # what the data path derives from the cluster once and reuses for every node (kube-proxy's port plans and
    # rules, parsed rules): the cluster is not changed after build_cluster, so it stays valid
    memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def objects_of(self, kind: str) -> list[KubeObject]:
        """The topology's objects of ``kind``, in order (all kinds sorted in one pass, once)."""
        by_kind = self.memo.get("objects-by-kind")
        if by_kind is None:
            by_kind = self.memo["objects-by-kind"] = {}
            for o in self.topology.objects:
                found = by_kind.get(o.kind)
                if found is None:
                    by_kind[o.kind] = [o]
                else:
                    found.append(o)
        return by_kind.get(kind, [])

    def endpoints_for(self, svc: Service, port: ServicePort) -> list[Endpoint]:
        return self.endpoints.get((svc.key, port.name), [])

    def ready_endpoints(self, svc: Service, port: ServicePort) -> list[Endpoint]:
        """The ready endpoints of a Service port, once each, in the order proxies list them."""
        out: dict[str, Endpoint] = {}
        for e in sorted(self.endpoints_for(svc, port), key=str):
            if e.ready:
                out.setdefault(str(e), e)
        return list(out.values())


def _ip(text) -> IPAddress | None:
    if text is None:
        return None
    if type(text) is str:  # the common case, dotted quads, without ipaddress's slower parse (inet_pton is as strict)
        try:
            return _V4(int.from_bytes(_pton(_AF_INET, text), "big"))
        except OSError:
            pass
    try:
        return ipaddress.ip_address(str(text))
    except ValueError:
        return None


_V4 = ipaddress.IPv4Address
_pton, _AF_INET = socket.inet_pton, socket.AF_INET


def _node(o: KubeObject) -> Node:
    spec, status = o.body.get("spec") or {}, o.body.get("status") or {}
    cidr = None
    if spec.get("podCIDR"):
        try:
            cidr = ipaddress.ip_network(spec["podCIDR"], strict=False)
        except ValueError:
            cidr = None
    cidr6 = None
    for text in spec.get("podCIDRs") or []:
        try:
            net = ipaddress.ip_network(str(text), strict=False)
        except ValueError:
            continue
        if cidr is None or net.version != cidr.version:
            cidr6 = net if net.version == 6 and (cidr is None or cidr.version == 4) else cidr6
    ip = ip6 = None
    for a in status.get("addresses") or []:
        if isinstance(a, dict) and a.get("type") == "InternalIP" and (addr := _ip(a.get("address"))) is not None:
            if addr.version == 4 and ip is None:
                ip = addr
            elif addr.version == 6 and ip6 is None:
                ip6 = addr
    taints = tuple(t for t in spec.get("taints") or [] if isinstance(t, dict))
    if spec.get("unschedulable"):  # kubectl cordon: the node controller's taint
        taints += ({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},)
    return Node(o.name, ip, cidr if cidr is None or cidr.version == 4 else None, taints, ip6,
                cidr6 if cidr6 is not None else (cidr if cidr is not None and cidr.version == 6 else None))


def _pod(o: KubeObject, memo: dict | None = None) -> Pod:
    """A Pod object as the cluster sees it; ``memo`` shares the parts made from the same list or mapping
    (the pods of one owner, read from a big dump, share their containers, labels and tolerations)."""
    spec, status = o.body.get("spec") or {}, o.body.get("status") or {}
    containers = spec.get("containers") or []
    got = memo.get(id(containers)) if memo is not None else None
    if got is not None and got[0] is containers:
        ports = got[1]
    else:
        out = []
        for c in containers:
            for p in (c or {}).get("ports") or []:
                if isinstance(p, dict) and isinstance(p.get("containerPort"), int):
                    out.append(ContainerPort(p["containerPort"], p.get("protocol") or "TCP", p.get("name")))
        ports = tuple(out)
        if memo is not None and containers:
            memo[id(containers)] = (containers, ports)
    ready = True
    for cond in status.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "Ready":
            ready = str(cond.get("status")) == "True"
    raw = (o.body.get("metadata") or {}).get("labels") or {}
    got = memo.get(id(raw)) if memo is not None else None
    if got is not None and got[0] is raw:
        labels = got[1]
    else:
        labels = dict(raw)
        if memo is not None:
            memo[id(raw)] = (raw, labels)
    raw_tolerations = spec.get("tolerations") or []
    got = memo.get(id(raw_tolerations)) if memo is not None else None
    if got is not None and got[0] is raw_tolerations:
        tolerations = got[1]
    else:
        tolerations = tuple(t for t in raw_tolerations if isinstance(t, dict))
        if memo is not None and raw_tolerations:
            memo[id(raw_tolerations)] = (raw_tolerations, tolerations)
    first = status.get("podIP")
    ips = [ip for ip in [_ip(first)] + [_ip(x.get("ip")) for x in status.get("podIPs") or [] if isinstance(x, dict) and x.get("ip") != first]
           if ip is not None]  # (podIPs[0] is podIP: read once)
    ip4 = next((ip for ip in ips if ip.version == 4), None)
    ip6 = next((ip for ip in ips if ip.version == 6), None)
    return Pod(o.namespace or "default", o.name, spec.get("nodeName"), ip4 if ip4 is not None else None, labels, ports, ready,
               bool(spec.get("hostNetwork")), tolerations, ip6)


def _service(o: KubeObject) -> Service:
    spec = o.body.get("spec") or {}
    stype = spec.get("type") or "ClusterIP"  # (null is the field unset: its default, as the API server has it)
    cip = spec.get("clusterIP")
    ports = tuple(
        ServicePort(p.get("name") or "", p["port"], p.get("protocol") or "TCP", p["port"] if p.get("targetPort") is None else p["targetPort"],
                    p.get("nodePort"))
        for p in spec.get("ports") or [] if isinstance(p, dict) and isinstance(p.get("port"), int)
    )
    selector = spec.get("selector") if isinstance(spec.get("selector"), dict) else None
    ingress = ((o.body.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    lb = _ip(ingress[0].get("ip")) if ingress and isinstance(ingress[0], dict) else None
    ips = [_ip(x) for x in spec.get("clusterIPs") or [] if x not in (None, "None", "")]
    first = None if cip in (None, "None", "") else _ip(cip)
    second = next((ip for ip in ips if ip is not None and first is not None and ip.version != first.version), None)
    policy = spec.get("ipFamilyPolicy") or ("PreferDualStack" if second is not None else "SingleStack")
    if first is not None and first.version == 6:  # an IPv6-first Service: the model keeps IPv4 first
        first, second = second, first
    return Service(o.namespace or "default", o.name, stype, first, ports, selector,
                   spec.get("externalTrafficPolicy") or "Cluster", spec.get("sessionAffinity") or "None", cip == "None", lb,
                   policy, second)


def _allocate(topo: Topology, services: list[Service], nodes: dict[str, Node]) -> tuple[list[Service], dict]:
    """The API server's part: default/kubernetes at the service CIDR's first address, cluster IPs for
    Services that have none (from .11 on: .10 is the DNS service's), NodePorts from 30000 on."""
    cfg = topo.cluster
    extra: dict[tuple[str, str], list[Endpoint]] = {}
    if not any(s.key == "default/kubernetes" for s in services):
        services = [Service("default", "kubernetes", "ClusterIP", cfg.service_cidr.network_address + 1,
                            (ServicePort("https", 443, "TCP", 6443),))] + services
        first = next(iter(nodes.values()), None)
        if first is not None and first.internal_ip is not None:  # the API server on the (first) control-plane node
            extra[("default/kubernetes", "https")] = [Endpoint(first.internal_ip, 6443, True, first.name)]
    used = {s.cluster_ip for s in services if s.cluster_ip is not None} | {cfg.dns_cluster_ip}
    pool = (ip for ip in itertools.islice(cfg.service_cidr.hosts(), 10, None) if ip not in used)
    ports = {p.node_port for s in services for p in s.ports if p.node_port}
    free_ports = (n for n in range(30000, 32768) if n not in ports)
    lb_used = {s.load_balancer_ip for s in services}
    lb_pool = (ip for ip in (cfg.load_balancer_pool.hosts() if cfg.load_balancer_pool else ()) if ip not in lb_used)
    used6 = {s.cluster_ip6 for s in services if s.cluster_ip6 is not None}
    pool6 = (ip for ip in itertools.islice(cfg.service_cidr2.hosts(), 10, None) if ip not in used6) if cfg.service_cidr2 else iter(())
    out = []
    for s in sorted(services, key=lambda s: s.key):
        if s.cluster_ip is None and not s.headless and s.type != "ExternalName":
            s = replace(s, cluster_ip=next(pool, None))
        if (s.cluster_ip6 is None and s.ip_family_policy != "SingleStack" and not s.headless and s.type != "ExternalName"
                and s.cluster_ip is not None):
            s = replace(s, cluster_ip6=next(pool6, None))
        if s.type in ("NodePort", "LoadBalancer"):
            s = replace(s, ports=tuple(p if p.node_port else replace(p, node_port=next(free_ports, None)) for p in s.ports))
        if s.type == "LoadBalancer" and s.load_balancer_ip is None:  # the cloud (or MetalLB) hands one out
            s = replace(s, load_balancer_ip=next(lb_pool, None))
        out.append(s)
    return out, extra


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


def node_network(nodes: list[Node]) -> ipaddress.IPv4Network:
    """The smallest /24-or-wider network holding every node's InternalIP (the implicit underlay)."""
    ips = [n.internal_ip for n in nodes if n.internal_ip is not None and n.internal_ip.version == 4]
    if not ips:
        return ipaddress.IPv4Network("192.168.100.0/24")
    for plen in range(24, 7, -1):
        net = ipaddress.IPv4Network(f"{ips[0]}/{plen}", strict=False)
        if all(ip in net for ip in ips):
            return net
    return ipaddress.IPv4Network(f"{ips[0]}/8", strict=False)


def _node_addresses(nodes: dict[str, Node]) -> dict[str, Node]:
    """Nodes the objects give no InternalIP get the next free address of the node network (.11 on)."""
    net = node_network(list(nodes.values()))
    used = {n.internal_ip for n in nodes.values()}
    pool = (ip for ip in itertools.islice(net.hosts(), 10, None) if ip not in used)
    return {name: n if n.internal_ip is not None else replace(n, internal_ip=next(pool, None)) for name, n in nodes.items()}


def _node_cidrs(nodes: dict[str, Node], pods: list[Pod], cluster_cidr, mask: int, family: int = 4) -> dict:
    """Each node's pod CIDR of one family: its own spec.podCIDR(s); else the block of the cluster's pod CIDR
    that holds its pods' addresses (a dump without podCIDRs); else the next free block."""
    own = {name: (n.pod_cidr if family == 4 else n.pod_cidr6) for name, n in nodes.items()}
    taken = [c for c in own.values() if c is not None]
    out = {}
    for name in nodes:
        if own[name] is not None:
            out[name] = own[name]
            continue
        ip = next((a for p in pods if p.node == name and not p.host_network
                   for a in [p.ip if family == 4 else p.ip6] if a is not None and a in cluster_cidr), None)
        if ip is not None:
            block = ipaddress.ip_network(f"{ip}/{mask}", strict=False)
            if not any(block.overlaps(t) for t in taken):
                out[name] = block
                taken.append(block)
    blocks = (b for b in cluster_cidr.subnets(new_prefix=mask) if not any(b.overlaps(t) for t in taken))
    for name in nodes:
        if name not in out:
            out[name] = next(blocks, None)
    return {name: out[name] for name in nodes}


NODE_NETWORK6 = ipaddress.IPv6Network("fd00:0:0:ffff::/64")  # the implicit node network's IPv6 prefix (dual-stack)


def node_ip6(ip4: IPAddress | None) -> ipaddress.IPv6Address | None:
    """An implicit node's IPv6 InternalIP: the node network's prefix with its IPv4 address as the host part."""
    return None if ip4 is None else ipaddress.IPv6Address(int(NODE_NETWORK6.network_address) + int(ip4))


def _evolve(p: Pod, **changes) -> Pod:
    """``dataclasses.replace`` for a Pod, without its cost (a hundred thousand pods are placed at once)."""
    q = object.__new__(Pod)
    d = q.__dict__
    d.update(p.__dict__)
    d.update(changes)
    return q


def _place(pods: list[Pod], nodes: dict[str, Node], cidrs: dict, cidrs6: dict | None = None) -> list[Pod]:
    """Schedule pods without a node (round robin over the nodes whose taints they tolerate, pods in
    name order) and give pods without status.podIP the next free address of their node's range (the
    bridge has .1)."""
    from .workloads import tolerates

    names = list(nodes)
    out, k = [], 0
    fits: dict[str, list[str]] = {}  # the nodes that tolerations (by their repr: values and types) fit
    for p in sorted(pods, key=lambda p: (p.namespace, p.name)):
        node = p.node
        if node not in nodes and names:
            key = repr(p.tolerations)
            fit = fits.get(key)
            if fit is None:
                fit = fits[key] = [n for n in names if tolerates(list(p.tolerations), list(nodes[n].taints))] or names
            node, k = fit[k % len(fit)], k + 1
        out.append(p if node == p.node else _evolve(p, node=node))
    on_node: dict = {}  # node -> indexes of its pods in out, in order
    for i, p in enumerate(out):
        on_node.setdefault(p.node, []).append(i)
    for attr, blocks in (("ip", cidrs), ("ip6", cidrs6 or {})):  # each family from the node's block of it
        used = {getattr(p, attr) for p in out} - {None}
        for name, cidr in blocks.items():
            if cidr is None:
                continue
            pool = (ip for ip in itertools.islice(cidr.hosts(), 1, None) if ip not in used)
            for i in on_node.get(name, ()):
                p = out[i]
                if getattr(p, attr) is None and not p.host_network:
                    out[i] = _evolve(p, **{attr: next(pool, None)})
    for i, p in enumerate(out):
        if p.host_network and p.node in nodes:
            out[i] = replace(p, ip=nodes[p.node].internal_ip, ip6=nodes[p.node].internal_ip6 if cidrs6 else None)
    return out


def build_cluster(topo: Topology) -> Cluster:
    objs = list(topo.objects)
    nodes = {o.name: _node(o) for o in objs if o.kind == "Node"}
    for h in topo.hosts:
        if h.role == "node":
            ip = next((a.ip for i in h.interfaces for a in i.addresses if a.version == 4), None)
            ip6 = next((a.ip for i in h.interfaces for a in i.addresses if a.version == 6 and not a.ip.is_link_local), None)
            if h.name not in nodes:
                nodes[h.name] = Node(h.name, ip, None, internal_ip6=ip6)
            else:
                if nodes[h.name].internal_ip is None:
                    nodes[h.name] = replace(nodes[h.name], internal_ip=ip)
                if nodes[h.name].internal_ip6 is None:
                    nodes[h.name] = replace(nodes[h.name], internal_ip6=ip6)
    memo: dict = {}
    pod_objects = [o for o in objs if o.kind == "Pod"]
    pods = [_pod(o, memo) for o in pod_objects]
    from .coredns import addon_objects

    implicit = addon_objects(topo, objs, has_nodes=bool(nodes or pods or any(
        o.kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet") for o in objs)))
    if implicit:  # kept on the cluster's topology, so that the data path and the DNS see the same objects
        topo = replace(topo, objects=topo.objects + tuple(implicit))
        objs = list(topo.objects)
    workloads = any(o.kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet") for o in objs)
    if workloads and not nodes and not any(p.node for p in pods):
        nodes["node-1"] = Node("node-1", ipaddress.ip_address("192.168.100.11"), None)
    if workloads:
        from .workloads import expand

        made = expand(objs, list(nodes), {n: list(v.taints) for n, v in nodes.items()})
        pod_objects += made
        pods += [_pod(o, memo) for o in made]
    for p in pods:  # a node a pod names but no object describes still exists
        if p.node and p.node not in nodes:
            nodes[p.node] = Node(p.node, None, None)
    if pods and not nodes:  # a cluster that names no node gets one
        nodes["node-1"] = Node("node-1", ipaddress.ip_address("192.168.100.11"), None)
    nodes = _node_addresses(nodes)
    if topo.cluster.pod_cidr2 is not None:  # dual-stack: implicit nodes get an IPv6 InternalIP too
        hosted = {h.name for h in topo.hosts}
        nodes = {n: v if v.internal_ip6 is not None or n in hosted else replace(v, internal_ip6=node_ip6(v.internal_ip))
                 for n, v in nodes.items()}
    cfg = topo.cluster
    cidrs = _node_cidrs(nodes, pods, cfg.pod_cidr, cfg.node_cidr_mask_size)
    cidrs6 = _node_cidrs(nodes, pods, cfg.pod_cidr2, cfg.node_cidr_mask_size6, 6) if cfg.pod_cidr2 is not None else {}
    pods = _place(pods, nodes, cidrs, cidrs6)
    services, api_endpoints = _allocate(topo, [_service(o) for o in objs if o.kind == "Service"], nodes)
    from .endpoints import Endpoints

    endpoints = Endpoints(services, pods, _slices(objs), _endpoints_objects(objs), api_endpoints)
    cluster = Cluster(topo, nodes, pods, services, endpoints, cidrs, cidrs6, _namespaces(objs, pods, services))
    bodies: dict = {}  # (namespace, name) -> the pod's object body, written or made by a controller (the first of a name)
    for o in pod_objects:
        bodies.setdefault((o.namespace or "default", o.name), o.body)
    cluster.memo["pod-bodies"] = bodies
    return cluster


def _namespaces(objs: list[KubeObject], pods: list[Pod], services: list[Service]) -> dict:
    """Every namespace: the built-in four, those the Namespace objects declare (with their labels) and
    those the other objects imply; each labelled kubernetes.io/metadata.name, as the API server does."""
    out: dict[str, dict] = {n: {} for n in ("default", "kube-node-lease", "kube-public", "kube-system")}
    for o in objs:
        if o.kind == "Namespace":
            out[o.name] = dict((o.body.get("metadata") or {}).get("labels") or {})
        elif o.namespace:
            out.setdefault(o.namespace, {})
    for x in list(pods) + list(services):
        out.setdefault(x.namespace, {})
    return {n: {**labels, "kubernetes.io/metadata.name": n} for n, labels in sorted(out.items())}
