"""One HTTP request to the cluster's Ingress controller, end to end: the routing decision (:mod:`.match`) and the
packets, as a trace in steps: the client to the load balancer or NodePort and on to the controller pod; the
controller's proxy step (TLS, the rule, the upstream); the Service's endpoints; the controller to the pod.

Like the real controllers (NGINX, HAProxy, Traefik), the controller proxies straight to a pod of the backend
Service, picked from its endpoints, not to the Service's cluster IP: kube-proxy is not on that path. NGINX's
``service-upstream: "true"`` annotation sends it to the cluster IP instead, and then kube-proxy's DNAT shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from .controllers import ControllerError, controller_for, controller_service, is_ingress
from .match import Decision, annotations_of, parse_request, route

SERVICE_UPSTREAM = "nginx.ingress.kubernetes.io/service-upstream"
INTERNET = "internet"


class RequestError(ValueError):
    """A request that cannot be sent as asked (a bad URL, no Ingress, an unknown class or client)."""


@dataclass
class Leg:
    """One connection of the request: its name and the packet trace (a :class:`tui.sim.trace.Trace`)."""

    name: str
    trace: object


@dataclass
class Exchange:
    """The decision, the client, the steps as JSON-ready dicts, and the legs' traces for the TUI."""

    decision: Decision
    client: str | None
    steps: list = field(default_factory=list)
    legs: list[Leg] = field(default_factory=list)
    proxy: dict | None = None


def parse_headers(headers) -> str | None:
    """The Host header's value from ``NAME: VALUE`` strings (the last one wins); others do not change routing."""
    host = None
    for hd in headers or ():
        name, sep, value = hd.partition(":")
        if not sep or not name.strip():
            raise RequestError(f"-H {hd!r}: a header is 'NAME: VALUE'")
        if name.strip().lower() == "host":
            host = value.strip()
    return host


def default_client(net) -> str | None:
    """The external client: the simulated ``internet`` host, else a host that is no cluster node, else None."""
    if INTERNET in net.namespaces:
        return INTERNET
    cluster_nodes = set(net.cluster.nodes) if net.cluster is not None else set()
    for name, ns in net.namespaces.items():
        if ns.kind == "host" and name not in cluster_nodes and name != "load-balancer":
            return name
    return None


def send(topo, url: str, host_header: str | None = None, client: str | None = None, ingress_class: str | None = None,
         net=None, with_trace: bool = True) -> Exchange:
    """Send ``url`` to the controller of ``ingress_class`` (default: the default class) from ``client`` (default: the
    external client). ``net``: the compiled network when the caller has it. Raises RequestError."""
    try:
        req = parse_request(url, host_header)
    except ValueError as e:
        raise RequestError(str(e)) from None
    try:
        ctl = controller_for(topo.objects, ingress_class, topo.cluster.ingress_controller)
    except ControllerError as e:
        raise RequestError(str(e)) from None
    if not any(is_ingress(o) for o in topo.objects):
        raise RequestError("the topology has no Ingress objects (networking.k8s.io/v1 Ingress)")
    if net is None:
        if with_trace:
            from ..sim.network import compile_topology

            net = compile_topology(topo)
            cluster = net.cluster
        else:
            from ..k8s.cluster import build_cluster

            cluster = build_cluster(topo)
    else:
        cluster = net.cluster
    objects = cluster.topology.objects if cluster is not None else topo.objects
    d = route(ctl, cluster, req, objects)
    ex = Exchange(d, None)
    if not with_trace or net is None:
        return ex
    if client is None:
        client = default_client(net)
        if client is None:
            return ex
    ex.client = client
    _walk(ex, net, client)
    d.trace = ex.steps
    return ex


def _hops(ex: Exchange, name: str, t) -> None:
    for h in t.hops:
        ex.steps.append({"leg": name, "hop": len([s for s in ex.steps if "hop" in s]) + 1, "node": h.node, "kind": h.kind,
                         "in": h.in_, "out": h.out, "decision": h.decision, "packet": h.packet.summary(),
                         "rewrites": list(h.rewrites)})
    ex.steps.append({"leg": name, "verdict": t.verdict, "reason": t.reason, "delivered_to": t.delivered_to})


def _step(ex: Exchange, name: str, node: str, kind: str, decision: str, packet: str) -> dict:
    s = {"leg": name, "hop": len([s for s in ex.steps if "hop" in s]) + 1, "node": node, "kind": kind, "in": None, "out": None,
         "decision": decision, "packet": packet}
    ex.steps.append(s)
    return s


def _walk(ex: Exchange, net, client: str) -> None:
    from ..sim.query import QueryError, trace

    d = ex.decision
    req = d.request
    cluster = net.cluster
    front = controller_service(cluster, d.controller, req.scheme)
    ctl_pod = None
    if front is not None:
        svc, port = front
        ctl_ep = cluster.ready_endpoints(svc, port)[0]
        if svc.load_balancer_ip is not None:
            dst, via = f"{svc.load_balancer_ip}:{port.port}", "load balancer"
        else:
            node = next((n for n in cluster.nodes.values() if n.internal_ip is not None), None)
            dst, via = ((f"{node.internal_ip}:{port.node_port}", f"NodePort {port.node_port} on {node.name}")
                        if node is not None and port.node_port else (f"{svc.cluster_ip}:{port.port}", "cluster IP"))
        name = f"client {client} -> {via} {dst} -> controller {svc.namespace}/{svc.name}"
        try:
            t = trace(net, client, dst, "tcp", None, 64, None)
        except QueryError as e:
            raise RequestError(f"--from {client}: {e}") from None
        ex.legs.append(Leg(name, t))
        _hops(ex, name, t)
        if not t.delivered:
            return
        ctl_pod = t.delivered_to or str(ctl_ep.ip)
    ex.proxy = _proxy(ex, ctl_pod)
    if d.endpoint_obj is None or d.status != 200:  # a 404, 503 or redirect is the controller's own answer
        return
    upstream_svc = str(annotations_of(_winner_ingress(d, cluster)).get(SERVICE_UPSTREAM, "")).lower() == "true"
    if upstream_svc and d.service_obj.cluster_ip is not None:
        dst = f"{d.service_obj.cluster_ip}:{d.port_obj.port}"
        how = (f"{SERVICE_UPSTREAM}: the controller connects to the cluster IP {dst}; kube-proxy's DNAT picks "
               f"the endpoint ({d.endpoint} here)")
    else:
        dst = d.endpoint
        others = [str(e) for e in cluster.ready_endpoints(d.service_obj, d.port_obj)]
        how = (f"the {d.controller.kind} controller reads the endpoints ({', '.join(others)}) and balances over them "
               f"itself (round robin): this request goes to {d.endpoint}, straight to the pod; kube-proxy's rules for "
               f"the cluster IP {d.service_obj.cluster_ip} are not on this path")
    sp = d.port_obj
    _step(ex, "controller -> backend", f"svc/{d.service_obj.namespace}/{d.service_obj.name}", "service",
          f"Service {d.service_obj.namespace}/{d.service_obj.name} port {sp.port}"
          f"{' (' + sp.name + ')' if sp.name else ''} -> targetPort {sp.target_port}: {how}", f"upstream {dst}")
    src = ctl_pod or client
    name = f"{'controller' if ctl_pod else 'client (no controller pod)'} {src} -> {dst}"
    try:
        t = trace(net, src, dst, "tcp", None, 64, d.endpoint if upstream_svc else None)
    except QueryError as e:
        raise RequestError(str(e)) from None
    ex.legs.append(Leg(name, t))
    _hops(ex, name, t)


def _winner_ingress(d: Decision, cluster):
    if d.rule is None:
        return None
    ns, _, name = d.rule["ingress"].partition("/")
    return next((o for o in cluster.topology.objects if is_ingress(o) and o.namespace == ns and o.name == name), None)


def _proxy(ex: Exchange, ctl_pod: str | None) -> dict:
    """The controller's own step: TLS termination, the rule it matched, what it answers or where it proxies."""
    d = ex.decision
    req = d.request
    parts = []
    if d.tls is not None:
        parts.append(f"TLS terminated, SNI {d.tls['sni'] or '(none)'}: {d.tls['certificate']}")
    won = next((t for t in d.tried if t["result"] == "won"), None)
    if won is not None and won["path"] is not None:
        parts.append(f"Host {req.host or '(none)'} path {req.path}: rule {won['ingress']} "
                     f"{won['host'] or '(any host)'}{won['path']} {won['pathType']} won over {len(d.tried) - 1} other rule(s)")
    elif won is not None:
        parts.append(f"no rule matches: defaultBackend of {won['ingress']}")
    else:
        parts.append(f"no rule matches Host {req.host or '(none)'} path {req.path}")
    if d.upstream_path is not None and d.upstream_path != req.path:
        parts.append(f"rewrite-target: the upstream request is GET {d.upstream_path}")
    if d.status in (301, 302, 307, 308):
        parts.append(f"answers {d.status} Location: {d.location}")
    elif d.status != 200:
        parts.append(f"answers {d.status}: {d.reason}")
    else:
        parts.append(f"proxies to {d.backend['namespace']}/{d.backend['service']}:{d.backend['port']}")
    node = ctl_pod or f"{d.controller.kind} controller"
    summary = f"{req.scheme.upper()} GET {req.path} Host: {req.host or '(none)'}"
    step = _step(ex, "controller", node, "proxy", "; ".join(parts), summary)
    return step

