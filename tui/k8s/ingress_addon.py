"""The Ingress controller the simulator runs: pods and a NodePort or LoadBalancer Service, as the controllers'
own install manifests make them, when the topology names a controller (``cluster.ingress``) or an IngressClass's
``spec.controller`` does, and the files run no controller of that kind themselves."""

from __future__ import annotations

from ..model.topology import KubeObject, Topology

# kind -> (namespace, name, pod labels, image, [(port name, service port, container port)]) from each project's
# install manifest or Helm chart
INSTALLS = {
    "nginx": ("ingress-nginx", "ingress-nginx-controller",
              {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
              "registry.k8s.io/ingress-nginx/controller:v1.11.2", [("http", 80, 80), ("https", 443, 443)]),
    "haproxy": ("haproxy-controller", "haproxy-kubernetes-ingress",
                {"app.kubernetes.io/name": "kubernetes-ingress", "app.kubernetes.io/instance": "haproxy-kubernetes-ingress"},
                "haproxytech/kubernetes-ingress:3.0.1", [("http", 80, 8080), ("https", 443, 8443)]),
    "traefik": ("traefik", "traefik", {"app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik"},
                "docker.io/traefik:v3.1.4", [("web", 80, 8000), ("websecure", 443, 8443)]),
}
HINTS = {"nginx": ("ingress-nginx", "nginx"), "haproxy": ("haproxy",), "traefik": ("traefik",)}
GENERATED = "kubenet.dev/generated"  # an annotation on what the simulator adds: why it is there


def wanted(topo: Topology, objs) -> list[tuple[str, str]]:
    """The controller kinds the topology asks for, each with why: ``cluster.ingress``, then each IngressClass's
    ``spec.controller``; with Ingress objects and neither, NGINX (the controller serving class-less Ingresses)."""
    from ..ingress.controllers import is_ingress, kind_of

    out: list[tuple[str, str]] = []
    if topo.cluster.ingress_controller:
        out.append((topo.cluster.ingress_controller, "cluster.ingress names it"))
    for o in objs:
        if is_ingress(o, "IngressClass"):
            ctl = str((o.body.get("spec") or {}).get("controller") or "")
            k = kind_of(ctl)
            if all(k != w for w, _ in out):
                out.append((k, f"IngressClass {o.name} names spec.controller {ctl}"))
    if not out and any(is_ingress(o) for o in objs):
        out.append(("nginx", "the Ingresses name no controller: the simulator runs ingress-nginx"))
    return out


def runs_own(kind: str, objs) -> bool:
    """Whether the files already run a controller of ``kind``: a workload or a NodePort/LoadBalancer Service named for it."""
    for o in objs:
        text = f"{o.namespace}/{o.name}".lower()
        if not any(h in text for h in HINTS[kind]):
            continue
        if o.kind in ("Deployment", "DaemonSet", "StatefulSet", "Pod"):
            return True
        if o.kind == "Service" and str((o.body.get("spec") or {}).get("type")) in ("LoadBalancer", "NodePort"):
            return True
    return False


def controller_objects(topo: Topology, objs, mark) -> list[KubeObject]:
    """Namespace, Deployment and Service of each controller the topology asks for and does not run itself."""
    out: list[KubeObject] = []
    declared = {o.name for o in objs if o.kind == "Namespace"}
    for kind, why in wanted(topo, objs):
        if runs_own(kind, objs):
            continue
        ns, name, labels, image, ports = INSTALLS[kind]
        svc_type = topo.cluster.ingress_service or ("LoadBalancer" if topo.cluster.load_balancer_pool is not None else "NodePort")
        note = {GENERATED: f"the {kind} Ingress controller the simulator runs ({why}), behind a {svc_type} Service"}
        if ns not in declared:
            body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "annotations": dict(note)}}
            out.append(KubeObject("v1", "Namespace", ns, None, body, mark))
        container = {"name": "controller", "image": image,
                     "ports": [{"name": pn, "containerPort": cp, "protocol": "TCP"} for pn, _sp, cp in ports]}
        deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                      "metadata": {"name": name, "namespace": ns, "labels": dict(labels), "annotations": dict(note)},
                      "spec": {"replicas": 1, "selector": {"matchLabels": dict(labels)},
                               "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": [container]}}}}
        service = {"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": name, "namespace": ns, "labels": dict(labels), "annotations": dict(note)},
                   "spec": {"type": svc_type, "selector": dict(labels), "externalTrafficPolicy": "Cluster",
                            "ports": [{"name": pn, "port": sp, "targetPort": pn, "protocol": "TCP"} for pn, sp, _cp in ports]}}
        out.append(KubeObject("apps/v1", "Deployment", name, ns, deployment, mark))
        out.append(KubeObject("v1", "Service", name, ns, service, mark))
    return out
