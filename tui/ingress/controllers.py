"""Ingress controllers and the Ingresses each serves (ingressClassName, the default IngressClass)."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"

# spec.controller of an IngressClass -> the controller's kind
KNOWN = {
    "k8s.io/ingress-nginx": "nginx",
    "haproxy.org/ingress-controller/haproxy": "haproxy",
    "traefik.io/ingress-controller": "traefik",
}

FAKE_CERT = {
    "nginx": "Kubernetes Ingress Controller Fake Certificate",
    "haproxy": "HAProxy Ingress Controller default certificate",
    "traefik": "TRAEFIK DEFAULT CERT",
}


API_VERSION = "networking.k8s.io/v1"


def is_ingress(o, kind: str = "Ingress") -> bool:
    """A Kubernetes Ingress (or, with ``kind``, IngressClass): not another project's kind of the same name."""
    return o.kind == kind and o.api_version == API_VERSION


def kind_of(controller: str) -> str:
    """nginx, haproxy or traefik from an IngressClass's spec.controller (nginx when unknown)."""
    c = (controller or "").strip().lower()
    if c in KNOWN:
        return KNOWN[c]
    for word in ("haproxy", "traefik", "nginx"):
        if word in c:
            return word
    return "nginx"


@dataclass
class Controller:
    kind: str  # nginx | haproxy | traefik
    class_name: str | None  # the IngressClass it implements (None: no IngressClass in the topology)
    controller: str  # spec.controller
    default: bool = False  # its IngressClass is the cluster's default
    ingresses: list = field(default_factory=list)  # KubeObjects it serves, in load order
    ignored: list = field(default_factory=list)  # (KubeObject, why) it does not serve

    @property
    def fake_cert(self) -> str:
        return FAKE_CERT.get(self.kind, FAKE_CERT["nginx"])

    def describe(self) -> str:
        cls = f"IngressClass {self.class_name}" if self.class_name else "no IngressClass"
        return f"{self.kind} ({self.controller}, {cls}{', default' if self.default else ''})"


def _is_default(o) -> bool:
    ann = (o.body.get("metadata") or {}).get("annotations") or {}
    return str(ann.get(DEFAULT_CLASS_ANNOTATION, "")).lower() == "true"


def _class_of(ing) -> str | None:
    spec = ing.body.get("spec") or {}
    name = spec.get("ingressClassName")
    if name:
        return str(name)
    ann = (ing.body.get("metadata") or {}).get("annotations") or {}
    legacy = ann.get(LEGACY_CLASS_ANNOTATION)
    return str(legacy) if legacy else None


class ControllerError(ValueError):
    pass


def controller_for(objects, class_name: str | None = None, default_kind: str | None = None) -> Controller:
    """The Ingress controller of the cluster (or the one implementing ``class_name``) and what it serves.

    Without ``class_name``: the default IngressClass, else the only IngressClass, else the first one; with
    no IngressClass at all, the controller ``default_kind`` (the topology's cluster.ingress; else NGINX) serving
    every Ingress (--watch-ingress-without-class)."""
    classes = [o for o in objects if is_ingress(o, "IngressClass")]
    ingresses = [o for o in objects if is_ingress(o)]
    stamps = [str((o.body.get("metadata") or {}).get("creationTimestamp") or "") for o in ingresses]
    if ingresses and all(stamps):  # equal paths: the oldest Ingress wins (as NGINX orders them); else load order
        ingresses = [o for _, _, o in sorted(zip(stamps, range(len(ingresses)), ingresses, strict=True))]
    defaults = [c for c in classes if _is_default(c)]
    if class_name is not None:
        chosen = [c for c in classes if c.name == class_name]
        if not chosen and classes:
            raise ControllerError(f'no IngressClass "{class_name}" (there are: {", ".join(c.name for c in classes)})')
        cls = chosen[0] if chosen else None
    else:
        cls = defaults[0] if defaults else (classes[0] if classes else None)
    if cls is None:
        kind = default_kind or "nginx"
        ctl = Controller(kind, class_name, next((c for c, k in KNOWN.items() if k == kind), "k8s.io/ingress-nginx"))
        for ing in ingresses:
            c = _class_of(ing)
            if class_name is None or c in (None, class_name):
                ctl.ingresses.append(ing)
            else:
                ctl.ignored.append((ing, f"class {c}, not {class_name}"))
        return ctl
    spec_controller = str((cls.body.get("spec") or {}).get("controller") or "k8s.io/ingress-nginx")
    is_default = cls in defaults and len(defaults) == 1  # two defaults: the API server refuses class-less Ingresses
    ctl = Controller(kind_of(spec_controller), cls.name, spec_controller, is_default)
    for ing in ingresses:
        c = _class_of(ing)
        if c == cls.name:
            ctl.ingresses.append(ing)
        elif c is None and is_default:
            ctl.ingresses.append(ing)
        elif c is None:
            ctl.ignored.append((ing, f"no ingressClassName and IngressClass {cls.name} is not the default"))
        else:
            ctl.ignored.append((ing, f"ingressClassName {c}, not {cls.name}"))
    return ctl


_NAME_HINTS = {"nginx": ("ingress-nginx", "nginx"), "haproxy": ("haproxy",), "traefik": ("traefik",)}


def controller_service(cluster, ctl: Controller, scheme: str = "http"):
    """The Service exposing the controller's pods (LoadBalancer first, then NodePort) and its port for ``scheme``:
    ``(service, port)`` or None when the topology runs no controller pod behind such a Service."""
    if cluster is None:
        return None
    want = 443 if scheme == "https" else 80
    found = []
    for s in cluster.services:
        if s.type not in ("LoadBalancer", "NodePort"):
            continue
        text = f"{s.namespace}/{s.name}".lower()
        if not any(h in text for h in _NAME_HINTS.get(ctl.kind, ())):
            continue
        port = next((p for p in s.ports if p.port == want or p.name == scheme), None) or (s.ports[0] if s.ports else None)
        if port is not None and cluster.ready_endpoints(s, port):
            found.append((0 if s.type == "LoadBalancer" else 1, s, port))
    found.sort(key=lambda t: t[0])
    return (found[0][1], found[0][2]) if found else None
