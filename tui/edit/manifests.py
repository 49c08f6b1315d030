"""Kubernetes manifests from the dashboard's form fields (no UI).

Each builder takes the form's text fields and returns a function that turns
the object as it is in the file (or None, for a new one) into the object to
write: a plain dict of the real Kubernetes shape (apiVersion, kind, metadata,
spec, status). Fields the form does not show are kept. Text that cannot be
written at all raises :class:`~tui.edit.edits.FieldErrors`, by form field;
the rest (names, label syntax, Service ports, conflicts) is left to the
loader, whose located messages the ``*_PATHS`` maps place beside the fields.
"""

from __future__ import annotations

from collections.abc import Callable

from ..load.values import dns1123_subdomain, parse_cidr, parse_ip
from . import kube
from .edits import FieldErrors


def _text(fields: dict, key: str) -> str:
    return str(fields.get(key) or "").strip()


def _put(d: dict, key: str, value) -> None:
    """Set ``key``, or remove it when the value is empty."""
    if value is None or value == "" or value == [] or value == {}:
        d.pop(key, None)
    else:
        d[key] = value


def _sub(d: dict, key: str) -> dict:
    if not isinstance(d.get(key), dict):
        d[key] = {}
    return d[key]


def _metadata(body: dict, fields: dict, namespaced: bool = True) -> dict:
    meta = _sub(body, "metadata")
    _put(meta, "name", _text(fields, "name"))
    if namespaced:
        ns = _text(fields, "namespace") or "default"
        if ns != "default" or "namespace" in meta:
            meta["namespace"] = ns
    return meta


def _parse(errors: dict, key: str, parse, text: str):
    try:
        return parse(text)
    except ValueError as e:
        errors[key] = str(e)
        return None


NODE_PATHS = {"metadata.name": "name", "spec.podCIDR": "podCIDR", "status.addresses": "internalIP"}


def node(fields: dict) -> Callable[[dict | None], dict]:
    """A ``v1`` Node: its name, ``status.addresses`` InternalIP and ``spec.podCIDR``."""

    def build(body: dict | None) -> dict:
        errors: dict[str, str] = {}
        ip, cidr = _text(fields, "internalIP"), _text(fields, "podCIDR")
        if ip:
            _parse(errors, "internalIP", parse_ip, ip)
        if cidr:
            _parse(errors, "podCIDR", parse_cidr, cidr)
        if errors:
            raise FieldErrors(errors)
        body = body or {"apiVersion": "v1", "kind": "Node", "metadata": {}}
        _metadata(body, fields, namespaced=False)
        spec = _sub(body, "spec")
        if cidr:
            spec["podCIDR"] = cidr
            if "podCIDRs" in spec:
                spec["podCIDRs"] = [cidr]
        else:
            spec.pop("podCIDR", None)
            spec.pop("podCIDRs", None)
        _put(body, "spec", spec)
        status = _sub(body, "status")
        addresses = [a for a in status.get("addresses") or [] if not (isinstance(a, dict) and a.get("type") == "InternalIP")]
        if ip:
            addresses.insert(0, {"type": "InternalIP", "address": ip})
        _put(status, "addresses", addresses)
        _put(body, "status", status)
        return body

    return build


def _containers(spec: dict, fields: dict, errors: dict, kind: str) -> None:
    """The first container's image, and every container port (they all go on the first container when changed)."""
    ports = _parse(errors, "ports", kube.parse_container_ports, _text(fields, "ports"))
    image = _text(fields, "image")
    containers = spec.get("containers") if isinstance(spec.get("containers"), list) else []
    containers = [c for c in containers if isinstance(c, dict)]
    if not image and not containers:
        errors["image"] = f"required: the image of the {kind}'s container (e.g. nginx)"
    if errors:
        raise FieldErrors(errors)
    if not containers:
        containers = [{"name": kube.container_name(image), "image": image}]
    elif image:
        containers[0]["image"] = image
    before = [p for c in containers for p in c.get("ports") or []]
    if kube.parse_container_ports(kube.format_container_ports(before)) != ports:
        for c in containers[1:]:
            c.pop("ports", None)
        _put(containers[0], "ports", ports)
    spec["containers"] = containers


POD_PATHS = {"metadata.name": "name", "metadata.namespace": "namespace", "metadata.labels": "labels", "spec.nodeName": "node",
             "spec.containers[0].image": "image", "spec.containers": "ports"}


def pod(fields: dict) -> Callable[[dict | None], dict]:
    """A ``v1`` Pod: namespace, name, labels, node (``spec.nodeName``), image and container ports."""

    def build(body: dict | None) -> dict:
        errors: dict[str, str] = {}
        labels = _parse(errors, "labels", kube.parse_labels, _text(fields, "labels"))
        body = body or {"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {}}
        meta = _metadata(body, fields)
        spec = _sub(body, "spec")
        _put(spec, "nodeName", _text(fields, "node"))
        _containers(spec, fields, errors, "pod")
        _put(meta, "labels", labels)
        return body

    return build


DEPLOYMENT_PATHS = {"metadata.name": "name", "metadata.namespace": "namespace", "metadata.labels": "labels", "spec.replicas": "replicas",
                    "spec.selector": "labels", "spec.template.metadata.labels": "labels",
                    "spec.template.spec.containers[0].image": "image", "spec.template.spec.containers": "ports"}
MAX_REPLICAS = 100  # each replica is a simulated network namespace


def _replicas(text: str) -> int:
    if not text.isdigit():
        raise ValueError(f'"{text}" is not a number of replicas (0 or more)')
    if int(text) > MAX_REPLICAS:
        raise ValueError(f"at most {MAX_REPLICAS} here: each replica is a pod, simulated as a network namespace")
    return int(text)


def deployment(fields: dict) -> Callable[[dict | None], dict]:
    """An ``apps/v1`` Deployment: replicas of one pod template, selected by its labels."""

    def build(body: dict | None) -> dict:
        errors: dict[str, str] = {}
        replicas = _parse(errors, "replicas", _replicas, _text(fields, "replicas") or "1")
        labels = _parse(errors, "labels", kube.parse_labels, _text(fields, "labels"))
        if labels == {} and body is None:
            labels = {"app": _text(fields, "name")} if _text(fields, "name") else {}
        if labels == {}:
            errors["labels"] = "required: a Deployment finds its pods by their labels (spec.selector), e.g. app=web"
        adding = body is None
        body = body or {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {}, "spec": {}}
        meta = _metadata(body, fields)
        spec = _sub(body, "spec")
        template = _sub(spec, "template")
        tmeta = _sub(template, "metadata")
        pod_spec = _sub(template, "spec")
        _containers(pod_spec, fields, errors, "pod template")
        if adding or "labels" in meta:
            meta["labels"] = dict(labels)
        spec["replicas"] = replicas
        if tmeta.get("labels") != labels:
            tmeta["labels"] = dict(labels)
            _sub(spec, "selector")["matchLabels"] = dict(labels)
        spec.setdefault("selector", {"matchLabels": dict(labels)})
        spec["template"] = spec.pop("template")  # selector before template, as kubectl writes them
        return body

    return build


SERVICE_PATHS = {"metadata.name": "name", "metadata.namespace": "namespace", "spec.type": "type", "spec.selector": "selector",
                 "spec.ports": "ports", "spec.clusterIP": "clusterIP", "spec.externalName": "externalName",
                 "spec.sessionAffinity": "sessionAffinity", "spec.externalTrafficPolicy": "externalTrafficPolicy"}


def service_type(body: dict) -> str:
    """The form's type: ClusterIP, NodePort, LoadBalancer, ExternalName, or headless (ClusterIP with ``clusterIP: None``)."""
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    stype = spec.get("type") or "ClusterIP"
    return "headless" if stype == "ClusterIP" and spec.get("clusterIP") == "None" else stype


def _keep_port_extras(before, ports: list[dict]) -> list[dict]:
    """The form's ports, with the fields it does not show (appProtocol, ...) kept from the port of the same name or place."""
    before = [p for p in before or [] if isinstance(p, dict)]
    out = []
    for i, p in enumerate(ports):
        was = next((b for b in before if p.get("name") and b.get("name") == p.get("name")), None)
        if was is None and not p.get("name") and i < len(before) and not before[i].get("name"):
            was = before[i]
        extra = {k: v for k, v in (was or {}).items() if k not in ("name", "port", "targetPort", "nodePort", "protocol")}
        out.append({**p, **extra})
    return out


def service(fields: dict) -> Callable[[dict | None], dict]:
    """A ``v1`` Service of any type; ``headless`` is a ClusterIP Service with ``clusterIP: None``."""

    def build(body: dict | None) -> dict:
        errors: dict[str, str] = {}
        stype = _text(fields, "type") or "ClusterIP"
        known = {t.lower(): t for t in kube.SERVICE_TYPES}
        if stype.lower() not in known:
            errors["type"] = f'unsupported value "{stype}": one of {", ".join(kube.SERVICE_TYPES)}'
        stype = known.get(stype.lower(), stype)
        selector = _parse(errors, "selector", kube.parse_labels, _text(fields, "selector"))
        ports = _parse(errors, "ports", kube.parse_service_ports, _text(fields, "ports"))
        if ports == [] and stype in ("ClusterIP", "NodePort", "LoadBalancer"):
            errors["ports"] = f"required: a {stype} Service needs at least one port (e.g. http:80->8080)"
        cip = _text(fields, "clusterIP")
        if stype == "headless" and cip not in ("", "None"):
            errors["clusterIP"] = "a headless Service has no cluster IP (clusterIP: None): leave this empty"
        elif stype == "ExternalName" and cip:
            errors["clusterIP"] = "an ExternalName Service has no cluster IP: leave this empty"
        elif cip and cip != "None":
            _parse(errors, "clusterIP", parse_ip, cip)
        ext = _text(fields, "externalName")
        if stype == "ExternalName" and not ext:
            errors["externalName"] = "required for type ExternalName: the DNS name the Service stands for (e.g. db.example.com)"
        elif ext and stype != "ExternalName":
            errors["externalName"] = "only for type ExternalName"
        elif ext and (why := dns1123_subdomain(ext.lower().rstrip("."))):
            errors["externalName"] = why
        affinity = _text(fields, "sessionAffinity")
        if affinity and affinity not in ("None", "ClientIP"):
            errors["sessionAffinity"] = f'unsupported value "{affinity}": one of None, ClientIP'
        policy = _text(fields, "externalTrafficPolicy")
        if policy and policy not in ("Cluster", "Local"):
            errors["externalTrafficPolicy"] = f'unsupported value "{policy}": one of Cluster, Local'
        elif policy and stype not in ("NodePort", "LoadBalancer"):
            errors["externalTrafficPolicy"] = "may only be set for a NodePort or LoadBalancer Service (externally-accessible)"
        if errors:
            raise FieldErrors(errors)
        body = body or {"apiVersion": "v1", "kind": "Service", "metadata": {}, "spec": {}}
        _metadata(body, fields)
        spec = _sub(body, "spec")
        if stype in ("ClusterIP", "headless"):
            if "type" in spec:
                spec["type"] = "ClusterIP"
        else:
            spec["type"] = stype
        if stype == "headless":
            spec["clusterIP"] = "None"
        elif stype == "ExternalName":
            spec.pop("clusterIP", None)
        else:
            _put(spec, "clusterIP", cip if cip != "None" else "")
        if "clusterIPs" in spec:
            _put(spec, "clusterIPs", [spec["clusterIP"]] if spec.get("clusterIP") else [])
        _put(spec, "selector", selector)
        _put(spec, "ports", _keep_port_extras(spec.get("ports"), ports))
        _put(spec, "externalName", ext)
        _put(spec, "sessionAffinity", affinity)
        _put(spec, "externalTrafficPolicy", policy)
        return body

    return build
