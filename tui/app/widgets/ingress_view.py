"""What the Routes pane shows for an Ingress item of the tree: the Ingress's rules as its controller reads them,
each with the Service it names, that Service's address and ready endpoints (or why it answers 503); its TLS
entries and default backend; who serves it. For an IngressClass: its controller, where that runs, and which
Ingresses it serves or not, with why."""

from __future__ import annotations

from rich.text import Text

from ...edit.ingress import format_backend, rule_paths
from .ingress_tree import effective_class, is_default_class

HINT = "h: an HTTP request through the controller (the rule that wins, why the others lose, the certificate, the endpoint)"


def _objects(net):
    return net.cluster.topology.objects if net.cluster is not None else net.topology.objects


def _front(net, ctl) -> str:
    """Where the controller runs: its Service (generated or in the files) and address."""
    from ...ingress.controllers import controller_service
    from ...k8s.ingress_addon import GENERATED

    found = controller_service(net.cluster, ctl, "http")
    if found is None:
        return "no controller pod runs behind a NodePort or LoadBalancer Service: the decision only, no packets"
    svc, _ = found
    addr = svc.load_balancer_ip or svc.cluster_ip
    ports = ",".join(str(p.port) + (f":{p.node_port}" if p.node_port and svc.type == "NodePort" else "") for p in svc.ports)
    obj = next((o for o in _objects(net) if o.kind == "Service" and o.namespace == svc.namespace and o.name == svc.name), None)
    why = ((obj.body.get("metadata") or {}).get("annotations") or {}).get(GENERATED) if obj is not None else None
    return f"{svc.key}, {svc.type} {addr} ports {ports}" + (f" (added by the simulator: {why})" if why else "")


def _backend_state(net, namespace: str, backend: dict) -> tuple[str, str]:
    """The backend's Service address and its ready endpoints, or why a request gets 503."""
    svc_ref = backend.get("service") if isinstance(backend, dict) else None
    if not isinstance(svc_ref, dict):
        return "", "a resource backend: nothing simulated serves it (503)"
    cluster = net.cluster
    svc = next((s for s in (cluster.services if cluster is not None else ()) if s.namespace == namespace and s.name == svc_ref.get("name")), None)
    if svc is None:
        return "", f"no Service {namespace}/{svc_ref.get('name')}: 503"
    port_ref = svc_ref.get("port") or {}
    sp = next((p for p in svc.ports if ("number" in port_ref and p.port == port_ref["number"]) or
               ("name" in port_ref and p.name == port_ref["name"])), None)
    if sp is None:
        return str(svc.cluster_ip or ""), f"the Service has no port {port_ref.get('number', port_ref.get('name'))}: 503"
    eps = cluster.ready_endpoints(svc, sp)
    where = f"{svc.cluster_ip}:{sp.port}" if svc.cluster_ip is not None else f"{svc.key} (no cluster IP)"
    return where, " ".join(str(e) for e in eps) if eps else "no ready endpoints: 503"


def ingress_text(net, key: str, selected: tuple[str, int | None] | None = None) -> Text:
    """An Ingress ``namespace/name``: served by whom, its rules with their backends' state, TLS, default backend."""
    from ...ingress.controllers import ControllerError, controller_for

    ns, _, name = key.partition("/")
    o = next((x for x in net.topology.objects if x.kind == "Ingress" and x.namespace == ns and x.name == name), None)
    t = Text()
    if o is None:
        return Text(f"No Ingress {key}.", style="grey62")
    cls, how = effective_class(net.topology, o)
    t.append(f"Ingress {key}", style="bold")
    t.append(f"  {how}\n", style="grey62")
    try:
        ctl = controller_for(_objects(net), cls or None)
    except ControllerError as e:
        ctl = None
        t.append(f"{e}\n", style="yellow")
    if ctl is not None and any(i.namespace == ns and i.name == name for i in ctl.ingresses):
        t.append("served by ", style="grey62")
        t.append(f"the {ctl.kind} controller", style="cyan")
        t.append(f" at {_front(net, ctl)}\n", style="grey62")
    elif ctl is not None:
        why = next((w for i, w in ctl.ignored if i.namespace == ns and i.name == name), "")
        t.append(f"no controller serves it{': ' + why if why else ''}\n", style="yellow")
    spec = o.body.get("spec") or {}
    entries = [((rp.host or "(any host)") + rp.path, rp.path_type, rp.backend, ("ingress-rule", k)) for k, rp in enumerate(rule_paths(o.body))]
    if spec.get("defaultBackend"):
        entries.append(("default backend", "what no rule matches", spec["defaultBackend"], ("ingress-default", None)))
    width = max((len(e[0]) for e in entries), default=0)
    for where, how, backend, what in entries:
        mark = selected is not None and selected[0] == what[0] and (what[1] is None or selected[1] == what[1])
        addr, eps = _backend_state(net, ns, backend)
        t.append(f"{where.ljust(width)}  {how} → {format_backend(backend)}\n", style="bold black on green" if mark else "bold")
        t.append(f"↳ {addr + ' → ' if addr else ''}", style="grey62")
        t.append(eps + "\n", style="red" if "503" in eps else "")
    if not entries:
        t.append("(no rules)\n", style="grey62")
    for k, entry in enumerate(spec.get("tls") or []):
        if not isinstance(entry, dict):
            continue
        secret = entry.get("secretName")
        found = any(x.kind == "Secret" and x.namespace == ns and x.name == secret for x in net.topology.objects)
        mark = selected == ("ingress-tls", k)
        hosts = ", ".join(str(h) for h in entry.get("hosts") or []) or "(every host)"
        t.append(f"TLS {hosts} → ", style="bold black on green" if mark else "bold")
        t.append(f"Secret {ns}/{secret}" + ("" if found else " (not in the files: the controller's fake certificate)") if secret else
                 "no secretName: the controller's default certificate", style="yellow")
        t.append("\n")
    t.append(HINT, style="grey62")
    return t


def ingress_class_text(net, name: str) -> Text:
    """An IngressClass: its controller, where that runs, the Ingresses it serves and those it does not, with why."""
    from ...ingress.controllers import controller_for, kind_of

    o = next((x for x in net.topology.objects if x.kind == "IngressClass" and x.name == name), None)
    if o is None:
        return Text(f"No IngressClass {name}.", style="grey62")
    controller = str((o.body.get("spec") or {}).get("controller") or "")
    t = Text()
    t.append(f"IngressClass {name}", style="bold")
    t.append(f"  spec.controller {controller} ({kind_of(controller)})", style="grey62")
    if is_default_class(o):
        t.append("  · the default class: Ingresses without a class are its", style="cyan")
    ctl = controller_for(_objects(net), name)
    t.append(f"\nruns at {_front(net, ctl)}\n", style="grey62")
    t.append("serves: ", style="bold")
    t.append(", ".join(f"{i.namespace}/{i.name}" for i in ctl.ingresses) or "(no Ingress)")
    for i, why in ctl.ignored:
        t.append(f"\nnot {i.namespace}/{i.name}: {why}", style="grey62")
    t.append("\n" + HINT, style="grey62")
    return t
