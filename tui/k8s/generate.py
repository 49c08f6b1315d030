"""Realistic clusters made up for demos and benchmarks: ``kubenet-tui generate``.

:func:`plan` decides a whole cluster from :class:`Params` (nodes, pods per node, Services, seed) with one
seeded :class:`random.Random` and no clock, so that the same parameters always give the same bytes.
:func:`chunks` (and :func:`write`) then render it, streaming, in one of two shapes:

``dump``
    what ``kubectl get -A -o json|yaml`` prints: a ``kind: List`` of Namespaces, Nodes (each with its
    ``spec.podCIDR`` and InternalIP), Services (cluster IPs, NodePorts and load-balancer addresses
    allocated) and running Pods (owned by ReplicaSets, scheduled, with their addresses). Pods are
    rendered from one text template per Deployment, so 150,000 of them take about a second.
``deployments``
    the same cluster as the manifests one would apply: Namespaces, Nodes, Services and Deployments,
    the scheduling and the pod addresses left to the simulator. The plan mirrors the simulator's own
    controllers (:mod:`tui.k8s.workloads`: ReplicaSet and pod names, round-robin scheduling in name
    order, addresses in order from each node's block), so both shapes give the very same pods, nodes
    and addresses once loaded.

Every pod count is exact: ``nodes * pods_per_node`` pods in all, CoreDNS's two included, and each node
runs ``pods_per_node`` of them. Services are ``services`` application Services (mostly ClusterIP, some
headless, NodePort and LoadBalancer) plus ``kube-system/kube-dns``; the simulator adds
``default/kubernetes`` as it does for every cluster.

The catalogue of applications the plan draws from is in :mod:`tui.k8s.generate_catalogue`; the objects
written, and their YAML and JSON text, in :mod:`tui.k8s.generate_objects`.
"""

from __future__ import annotations

import ipaddress
import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .generate_catalogue import _NAMESPACES, _QUALIFIERS, ARCHETYPES, COMPANIONS, COREDNS_LABELS, PRIMARY_TYPES, WORKER, Archetype
from .generate_objects import _pod_format, _to_json, deployment_object, namespace_object, node_object, service_object, to_yaml
from .workloads import ALPHABET, suffix, template_hash

SHAPES = ("dump", "deployments")
FORMATS = ("json", "yaml")
DEFAULT_OUTPUT = {"dump": "json", "deployments": "yaml"}

SERVICE_CIDR = ipaddress.IPv4Network("10.96.0.0/12")  # kubeadm's default; .1 is default/kubernetes, .10 kube-dns
DNS_IP = SERVICE_CIDR.network_address + 10
NODE_BASE = ipaddress.IPv4Address("172.18.0.0")  # kind's docker network: the gateway .1, nodes from .2
NODE_PORTS = range(30000, 32768)
EPOCH = datetime(2025, 3, 3, 8, 0, 0, tzinfo=UTC)  # every timestamp is an offset from it: no clock
K8S_VERSION = "v1.31.2"
ZONES = ("zone-a", "zone-b", "zone-c")
MAX_AVERAGE_REPLICAS = 40  # more pods than this per app on average: more apps (workers), not giant Deployments


class GenerateError(ValueError):
    """Parameters no cluster can satisfy (too many nodes for the pod network, services without pods)."""


@dataclass(frozen=True)
class Params:
    nodes: int = 3
    pods_per_node: int = 10
    services: int = 8
    seed: int = 0


# ---------------------------------------------------------------------------------------------- the plan


@dataclass
class NodePlan:
    name: str
    ip: str
    cidr: ipaddress.IPv4Network
    zone: str
    created: str


@dataclass
class App:
    """A Deployment: its ReplicaSet (``rs``, the pod-template-hash) and the names of its pods, as the
    simulator's controllers name them."""

    namespace: str
    name: str
    archetype: Archetype
    replicas: int
    labels: dict
    template: dict
    created: str
    hash: str = ""
    rs: str = ""
    pod_names: list = field(default_factory=list)
    rs_uid: str = ""


@dataclass
class Svc:
    namespace: str
    name: str
    app: App
    type: str  # ClusterIP, NodePort, LoadBalancer
    headless: bool
    ports: list  # dicts: name, port, targetPort, protocol (and nodePort)
    selector: dict
    cluster_ip: str | None = None
    lb_ip: str | None = None
    external_traffic_policy: str = "Cluster"
    uid: str = ""
    created: str = ""


@dataclass
class Plan:
    params: Params
    namespaces: list  # (name, created) of the application namespaces
    nodes: list[NodePlan]
    apps: list[App]  # CoreDNS first
    services: list[Svc]  # kube-dns first
    pod_cidr: ipaddress.IPv4Network
    node_mask: int
    node_network: ipaddress.IPv4Network

    @property
    def pod_count(self) -> int:
        return sum(a.replicas for a in self.apps)


def _ts(seconds: float) -> str:
    return (EPOCH + timedelta(seconds=int(seconds))).strftime("%Y-%m-%dT%H:%M:%SZ")


def _uid(rng: random.Random) -> str:
    n = rng.getrandbits(128)
    n = (n & ~(0xF000 << 64) | (0x4000 << 64)) & ~(0xC000 << 48) | (0x8000 << 48)  # a version-4 UUID, as the API server gives
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _pod_network(nodes: int, mask: int) -> ipaddress.IPv4Network:
    """The cluster's pod CIDR: kubeadm's 10.244.0.0/16 when the nodes' blocks fit, else a wider range that
    stays clear of the service CIDR 10.96.0.0/12 (what tui.k8s.infer reads back off the nodes' podCIDRs)."""
    prefix = mask - max(0, math.ceil(math.log2(nodes)))
    if prefix >= 16:
        return ipaddress.IPv4Network("10.244.0.0/16")
    if prefix >= 14:
        return ipaddress.IPv4Network(f"10.244.0.0/{prefix}")
    if prefix >= 9:
        return ipaddress.IPv4Network(f"10.128.0.0/{prefix}")
    raise GenerateError(f"{nodes} nodes with a /{mask} each do not fit in 10.128.0.0/9 (at most {2 ** (mask - 9)} nodes): give fewer nodes")


def _cover(first: int, last: int) -> ipaddress.IPv4Network:
    """The smallest /24-or-wider network holding two addresses (tui.k8s.cluster.node_network's rule)."""
    for plen in range(24, 7, -1):
        net = ipaddress.IPv4Network((first, plen), strict=False)
        if last in range(int(net.network_address), int(net.broadcast_address) + 1):
            return net
    return ipaddress.IPv4Network((first, 8), strict=False)


def _name(rng: random.Random, pool: tuple, used: set) -> str:
    base = rng.choice(pool)
    if base not in used:
        return base
    for q in rng.sample(_QUALIFIERS, 4):
        name = f"{q}-{base}" if rng.random() < 0.5 else f"{base}-{q}"
        if name not in used:
            return name
    n = 2
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


def _replicas(rng: random.Random, apps: int, pods: int) -> list[int]:
    """``pods`` spread over ``apps`` (each at least one): a few big Deployments, many small ones."""
    if apps == 0:
        return []
    weights = [rng.choices((1, 2, 4, 10, 30), (45, 25, 15, 11, 4))[0] for _ in range(apps)]
    extra = pods - apps
    total = sum(weights)
    shares = [extra * w / total for w in weights]
    out = [1 + int(s) for s in shares]
    left = pods - sum(out)
    for i in sorted(range(apps), key=lambda i: (-(shares[i] - int(shares[i])), i))[:left]:
        out[i] += 1
    return out


def _template(app: App, rng: random.Random) -> dict:
    a = app.archetype
    version = f"{rng.randint(1, 4)}.{rng.randint(0, 19)}.{rng.randint(0, 9)}"
    container = {"name": app.name if "{app}" in a.image else a.key, "image": a.image.format(ns=app.namespace, app=app.name, version=version),
                 "ports": [{"name": n, "containerPort": p, "protocol": proto} for n, p, proto in a.ports],
                 "resources": {"requests": {"cpu": a.cpu, "memory": a.memory}}}
    return {"metadata": {"labels": dict(app.labels)}, "spec": {"containers": [container]}}


def _coredns_template() -> dict:
    ports = [{"name": "dns", "containerPort": 53, "protocol": "UDP"}, {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
             {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}]
    return {"metadata": {"labels": dict(COREDNS_LABELS)},
            "spec": {"dnsPolicy": "Default", "priorityClassName": "system-cluster-critical", "serviceAccountName": "coredns",
                     "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"},
                                     {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
                     "containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.3",
                                     "args": ["-conf", "/etc/coredns/Corefile"], "ports": ports,
                                     "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}}}]}}


_FAST = 27 ** 4  # below it suffix() rehashes part-way: take the slow path


def _fnv(data: bytes, h: int = 0x811C9DC5) -> int:
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def _pod_names(rs: str, replicas: int) -> list[str]:
    """``suffix(rs, i)`` for every replica, the FNV of ``rs/`` computed once."""
    prefix = _fnv(f"{rs}/".encode())
    out = []
    for i in range(replicas):
        h = _fnv(str(i).encode(), prefix)
        if h < _FAST:
            out.append(f"{rs}-{suffix(rs, i)}")
            continue
        s = []
        for _ in range(5):
            h, r = divmod(h, 27)
            s.append(ALPHABET[r])
        out.append(f"{rs}-{''.join(s)}")
    return out


def _name_pods(app: App) -> None:
    """The ReplicaSet and pod names the Deployment controller would give (tui.k8s.workloads.expand). Two pods
    of one ReplicaSet whose random-looking suffixes collide would make one pod: the Deployment is then
    "restarted" (kubectl rollout restart's annotation), which changes its template hash, until they do not."""
    attempt = 0
    while True:
        app.hash = template_hash(app.template)
        app.rs = f"{app.name}-{app.hash}"
        app.pod_names = _pod_names(app.rs, app.replicas)
        if len(set(app.pod_names)) == app.replicas:
            return
        attempt += 1
        annotations = app.template["metadata"].setdefault("annotations", {})
        annotations["kubectl.kubernetes.io/restartedAt"] = _ts(86400 * 30 + attempt * 60)


def plan(params: Params) -> Plan:
    """Decide the whole cluster (everything but the pods' uids, drawn while rendering)."""
    n, m, s = params.nodes, params.pods_per_node, params.services
    if n < 1:
        raise GenerateError("a cluster needs at least one node (--nodes 1 or more)")
    if m < 0 or s < 0:
        raise GenerateError("--pods-per-node and --services cannot be negative")
    total = n * m
    if s and total == 0:
        raise GenerateError("Services need pods to select: give --pods-per-node 1 or more")
    rng = random.Random(f"kubenet-tui generate {params.seed}")

    # Nodes: one block of the pod CIDR each (a /24 unless the pods need more), InternalIPs from 172.18.0.2.
    mask = min(24, 32 - math.ceil(math.log2(m + 3)))  # the bridge takes .1; every pod one address
    if mask < 16:
        raise GenerateError(f"{m} pods per node is more than a node's pod range can hold (at most {2 ** 16 - 3})")
    pod_cidr = _pod_network(n, mask)
    blocks = pod_cidr.subnets(new_prefix=mask)
    if n > 60000:
        raise GenerateError(f"{n} nodes: at most 60000 (their InternalIPs are in 172.18.0.0/16)")
    width = len(str(n))
    nodes = [NodePlan(f"node-{i + 1:0{width}d}", str(NODE_BASE + 2 + i), next(blocks), ZONES[i % len(ZONES)], _ts(i * 7))
             for i in range(n)]
    node_network = _cover(int(NODE_BASE) + 2, int(NODE_BASE) + 1 + n)

    # Namespaces and applications.
    coredns_replicas = max(0, min(2, total - (1 if s else 0)))
    app_pods = total - coredns_replicas
    with_service = min(s - s * 15 // 100, app_pods) if s else 0  # about 15% of the Services are an app's second Service
    apps_total = min(app_pods, max(with_service + round(with_service * 0.12), math.ceil(app_pods / MAX_AVERAGE_REPLICAS)))
    k = max(1, min(len(_NAMESPACES), round(math.sqrt(apps_total) / 2)))
    spaces = ["default"] + sorted(rng.sample(_NAMESPACES, k))
    sizes = [1 / (i + 1) ** 0.7 for i in range(k)]  # a few big namespaces, a tail of small ones
    rng.shuffle(sizes)
    ns_weights = [0.4] + sizes
    helm_style = {ns: rng.random() < 0.4 for ns in spaces}
    used: dict[str, set] = {ns: set() for ns in spaces}
    replicas = _replicas(rng, apps_total, app_pods)
    apps: list[App] = []
    kinds = [a.weight for a in ARCHETYPES]
    for i in range(apps_total):
        ns = rng.choices(spaces, ns_weights)[0]
        archetype = rng.choices(ARCHETYPES, kinds)[0] if i < with_service else WORKER
        name = _name(rng, archetype.names, used[ns])
        used[ns].add(name)
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name} if helm_style[ns] else {"app": name}
        app = App(ns, name, archetype, replicas[i], labels, {}, _ts(86400 + rng.randrange(86400 * 28)))
        app.template = _template(app, rng)
        apps.append(app)
    coredns = App("kube-system", "coredns", WORKER, coredns_replicas, dict(COREDNS_LABELS), _coredns_template(), _ts(60))
    apps.insert(0, coredns)
    for app in apps:
        _name_pods(app)
        app.rs_uid = _uid(rng)

    # Services: each app with one has its main Service; the rest are companions (headless, metrics, public, nodeport).
    services = [Svc("kube-system", "kube-dns", coredns, "ClusterIP", False,
                    [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                     {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                     {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}],
                    dict(COREDNS_LABELS), str(DNS_IP), created=_ts(60))]
    svc_names: dict[str, set] = {ns: set(used[ns]) for ns in spaces}
    serving = apps[1:1 + with_service]
    types, weights = zip(*PRIMARY_TYPES, strict=True)
    for app in serving:
        kind = rng.choices(types, weights)[0]
        if app.archetype.stateful and kind == "ClusterIP" and rng.random() < 0.25:
            kind = "headless"
        services.append(_service(app, app.name, kind, _ports(app.archetype.service_ports)))
    taken: dict[int, set] = {}
    for _ in range(s - with_service):
        app = rng.choice(serving)
        have = taken.setdefault(id(app), set())
        options = [c for c in COMPANIONS if c not in have and (c != "metrics" or any(p[0] == "metrics" for p in app.archetype.ports))]
        if options:
            pick = rng.choices(options, [4 if app.archetype.stateful and c == "headless" else 2 if c == "metrics" else 1 for c in options])[0]
            have.add(pick)
            kind = COMPANIONS[pick]
            ports = [("metrics", 9090 if ("metrics", 9090, "TCP") in app.archetype.ports else 9102, "metrics", "TCP")] \
                if pick == "metrics" else app.archetype.service_ports
            name = f"{app.name}-{pick}"
        else:  # more Services than apps can tell apart: plain ClusterIP aliases
            kind, ports, name = "ClusterIP", app.archetype.service_ports, f"{app.name}-svc"
        base, k2 = name, 2
        while name in svc_names[app.namespace]:
            name, k2 = f"{base}-{k2}", k2 + 1
        svc_names[app.namespace].add(name)
        services.append(_service(app, name, kind, _ports(ports)))

    # Addresses: cluster IPs at random in the service CIDR (as the API server picks them), NodePorts at random
    # in 30000-32767 (a Service that finds none left stays ClusterIP), load-balancer IPs from the top of the
    # nodes' network (a LoadBalancer stays pending once that is full, as with a cloud out of addresses).
    plain = [sv for sv in services[1:] if not sv.headless]
    reserved = {0, 1, 10, SERVICE_CIDR.num_addresses - 1}
    offsets = [o for o in rng.sample(range(SERVICE_CIDR.num_addresses), len(plain) + len(reserved)) if o not in reserved][:len(plain)]
    for sv, o in zip(plain, offsets, strict=True):
        sv.cluster_ip = str(SERVICE_CIDR.network_address + o)
    ports_left = rng.sample(NODE_PORTS, len(NODE_PORTS))
    for sv in services:
        if sv.type in ("NodePort", "LoadBalancer"):
            if len(sv.ports) > len(ports_left):
                sv.type = "ClusterIP"
                continue
            for port in sv.ports:
                port["nodePort"] = ports_left.pop()
    free = int(node_network.broadcast_address) - 1
    floor = int(NODE_BASE) + 2 + n + 2  # keep two addresses for the simulator's edge router and load balancer host
    for sv in services:
        if sv.type == "LoadBalancer" and free >= floor:
            sv.lb_ip = str(ipaddress.IPv4Address(free))
            free -= 1
    for sv in services:
        sv.uid = _uid(rng)
        sv.created = sv.created or sv.app.created
        if sv.type != "ClusterIP" and rng.random() < 0.3:
            sv.external_traffic_policy = "Local"
    services = services[:1] + sorted(services[1:], key=lambda sv: (sv.namespace, sv.name))
    namespaces = [(ns, _ts(3600 + i * 600)) for i, ns in enumerate(spaces) if ns != "default"]
    return Plan(params, namespaces, nodes, apps, services, pod_cidr, mask, node_network)


def _ports(spec: Iterable) -> list[dict]:
    return [{"name": name, "port": port, "protocol": proto, "targetPort": target} for name, port, target, proto in spec]


def _service(app: App, name: str, kind: str, ports: list[dict]) -> Svc:
    headless = kind == "headless"
    return Svc(app.namespace, name, app, "ClusterIP" if headless else kind, headless, ports, dict(app.labels))


# ---------------------------------------------------------------------------------------------- text


def _dotted(n: int) -> str:
    return f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def scheduled_pods(p: Plan) -> Iterator[tuple[int, str, int, int]]:
    """Every pod as ``(app index, name, node index, pod IP as an int)``, in (namespace, name) order: the
    simulator's scheduling (round robin over the nodes, in that order) and addressing (each node's pods
    in that order from the second address of its block)."""
    pods = [(app.namespace, name, i) for i, app in enumerate(p.apps) for name in app.pod_names]
    pods.sort()
    bases = [int(nd.cidr.network_address) + 2 for nd in p.nodes]
    n = len(p.nodes)
    for k, (_, name, i) in enumerate(pods):
        node, j = k % n, k // n
        yield i, name, node, bases[node] + j


def _items(p: Plan, shape: str, render, render_pod_format) -> Iterator[str]:
    rng = random.Random(f"kubenet-tui generate {p.params.seed} uids")
    dump = shape == "dump"
    builtin = [("default", _ts(0)), ("kube-node-lease", _ts(0)), ("kube-public", _ts(0)), ("kube-system", _ts(0))]
    spaces = sorted(builtin + p.namespaces) if dump else p.namespaces
    for name, created in spaces:
        yield render(namespace_object(name, created, _uid(rng) if dump else None))
    for node in p.nodes:
        yield render(node_object(node, p, _uid(rng) if dump else None))
    for sv in p.services:
        yield render(service_object(sv, manifest=not dump))
    if not dump:
        for app in p.apps:
            yield render(deployment_object(app))
        return
    formats = [render_pod_format(app) for app in p.apps]
    nodes = [(nd.name, nd.ip) for nd in p.nodes]
    for i, name, node, ip in scheduled_pods(p):
        nname, host = nodes[node]
        yield formats[i].format(name=name, uid=_uid(rng), node=nname, host=host, ip=_dotted(ip))


def header(p: Plan, shape: str) -> str:
    q = p.params
    return (f"# kubenet-tui generate --nodes {q.nodes} --pods-per-node {q.pods_per_node} --services {q.services} --seed {q.seed} "
            f"--as {shape}\n# {len(p.nodes)} nodes, {p.pod_count} pods, {len(p.services)} Services (kube-dns included); "
            f"pod CIDR {p.pod_cidr} (a /{p.node_mask} per node), service CIDR {SERVICE_CIDR}\n")


def chunks(params: Params | Plan, shape: str = "dump", output: str | None = None) -> Iterator[str]:
    """The cluster as text, in pieces (one object each) to write as they come."""
    if shape not in SHAPES:
        raise GenerateError(f'unknown shape "{shape}": one of {", ".join(SHAPES)}')
    output = output or DEFAULT_OUTPUT[shape]
    if output not in FORMATS:
        raise GenerateError(f'unknown output "{output}": one of {", ".join(FORMATS)}')
    p = params if isinstance(params, Plan) else plan(params)
    if output == "json":
        yield '{"apiVersion":"v1","items":[\n'
        first = True
        for text in _items(p, shape, _to_json, lambda app: _pod_format(app, "json")):
            yield text if first else ",\n" + text
            first = False
        yield '\n],"kind":"List","metadata":{"resourceVersion":""}}\n'
    elif shape == "dump":
        yield header(p, shape) + "apiVersion: v1\nitems:\n"
        yield from _items(p, shape, lambda o: to_yaml(o, item=True), lambda app: _pod_format(app, "yaml"))
        yield 'kind: List\nmetadata:\n  resourceVersion: ""\n'
    else:
        yield header(p, shape)
        for text in _items(p, shape, to_yaml, None):
            yield "---\n" + text


def write(params: Params | Plan, out, shape: str = "dump", output: str | None = None, batch: int = 1 << 20) -> None:
    """Write :func:`chunks` to ``out`` (a text stream) in writes of about ``batch`` characters."""
    buf: list[str] = []
    size = 0
    for text in chunks(params, shape, output):
        buf.append(text)
        size += len(text)
        if size >= batch:
            out.write("".join(buf))
            buf, size = [], 0
    if buf:
        out.write("".join(buf))
