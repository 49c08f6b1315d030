"""Kubernetes objects as the dashboard's forms write them: short text in, real manifests out (no UI).

A form says ``app=web,tier=front`` for labels, ``http:8080/TCP,9090`` for a
container's ports and ``http:80->8080/TCP`` for a Service's; this module turns
that text into the fields of the manifest (and back, to fill a form) with the
API server's own words when the text cannot be read. What the loader checks
(names, label syntax in ``metadata``, Service ports) is left to the loader, so
that the form shows its located message; the rest is checked here.

It also finds objects among a workspace's documents (``kind: List`` items
included) and says where the simulator's generated objects come from: a pod
expanded from a Deployment, the API server's ``default/kubernetes`` Service,
a node no Node object describes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model.topology import KubeObject, Topology

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")  # as the loader checks metadata.labels
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
PROTOCOLS = ("TCP", "UDP", "SCTP")
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "headless", "ExternalName")
WORKLOADS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet")


# -- labels -------------------------------------------------------------------
def parse_labels(text: str) -> dict[str, str]:
    """``app=web, tier=front`` as a mapping; raises ValueError saying what is wrong."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        key, eq, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not eq:
            raise ValueError(f'"{part}" is not key=value (e.g. app=web)')
        prefix, _, base = key.rpartition("/")
        if not base or len(base) > 63 or not _LABEL_NAME.match(base):
            raise ValueError(f'"{key}" is not a valid label key')
        if prefix and not re.match(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", prefix):
            raise ValueError(f'"{key}" is not a valid label key')
        if len(value) > 63 or not _LABEL_VALUE.match(value):
            raise ValueError(f'"{value}" is not a valid label value: at most 63 letters, digits, "-", "_" and ".", '
                             "starting and ending with a letter or digit")
        if key in out:
            raise ValueError(f'label "{key}" given twice')
        out[key] = value
    return out


def format_labels(labels: dict | None) -> str:
    return ",".join(f"{k}={v}" for k, v in (labels or {}).items())


# -- ports ----------------------------------------------------------------------
def _number(text: str, what: str) -> int:
    if not text.isdigit():
        raise ValueError(f'"{text}" is not a {what} (a number 1-65535)')
    return int(text)


def _protocol(text: str) -> str:
    p = text.strip().upper()
    if p not in PROTOCOLS:
        raise ValueError(f'unsupported value "{text}": one of TCP, UDP, SCTP')
    return p


def parse_container_ports(text: str) -> list[dict]:
    """``http:8080/TCP, 9090`` as ``containers[].ports``: ``[NAME:]PORT[/PROTOCOL]``, comma separated."""
    out: list[dict] = []
    for part in (p.strip() for p in text.replace(" ", ",").split(",")):
        if not part:
            continue
        body, slash, proto = part.partition("/")
        name, colon, number = body.rpartition(":")
        port: dict = {}
        if colon:
            if not name or len(name) > 15 or not _IANA_SVC_NAME.match(name) or name.isdigit():
                raise ValueError(f'"{name}" in "{part}" is not a valid port name (IANA_SVC_NAME: at most 15 lower-case letters, digits and "-")')
            port["name"] = name
        port["containerPort"] = _number(number.strip(), "container port")
        if not 1 <= port["containerPort"] <= 65535:
            raise ValueError(f"containerPort {port['containerPort']} must be between 1 and 65535, inclusive")
        if slash:
            p = _protocol(proto)
            if p != "TCP":
                port["protocol"] = p
        out.append(port)
    names = [p["name"] for p in out if "name" in p]
    if len(names) != len(set(names)):
        raise ValueError("port names must be unique")
    return out


def format_container_ports(ports: list) -> str:
    out = []
    for p in ports or []:
        if not isinstance(p, dict) or "containerPort" not in p:
            continue
        text = f"{p['name']}:" if p.get("name") else ""
        text += str(p["containerPort"])
        if p.get("protocol") and p["protocol"] != "TCP":
            text += f"/{p['protocol']}"
        out.append(text)
    return ",".join(out)


def parse_service_ports(text: str) -> list[dict]:
    """``http:80->8080/TCP, dns:53:30053->53/UDP`` as ``spec.ports``.

    One port is ``[NAME:]PORT[:NODEPORT][->TARGET][/PROTOCOL]``: the name starts
    with a letter; ``PORT:NODEPORT`` is how ``kubectl get svc`` shows a NodePort;
    the target is a number or a container port's name. Ranges and the other
    rules are the loader's (its message appears beside the field).
    """
    out: list[dict] = []
    for part in (p.strip() for p in text.replace(" ", ",").split(",")):
        if not part:
            continue
        body, slash, proto = part.partition("/")
        body, arrow, target = body.partition("->")
        pieces = body.split(":")
        port: dict = {}
        if pieces and pieces[0] and not pieces[0].isdigit():
            port["name"] = pieces.pop(0)
        if not pieces or len(pieces) > 2 or not pieces[0]:
            raise ValueError(f'"{part}" is not [NAME:]PORT[:NODEPORT][->TARGET][/PROTOCOL] (e.g. http:80->8080/TCP)')
        port["port"] = _number(pieces[0], "port")
        if len(pieces) == 2:
            port["nodePort"] = _number(pieces[1], "node port")
        if arrow:
            target = target.strip()
            if not target:
                raise ValueError(f'"{part}": nothing after "->" (a target port number or name)')
            port["targetPort"] = int(target) if target.isdigit() else target
        if slash:
            p = _protocol(proto)
            if p != "TCP":
                port["protocol"] = p
        out.append(port)
    return out


def format_service_ports(ports: list) -> str:
    out = []
    for p in ports or []:
        if not isinstance(p, dict) or "port" not in p:
            continue
        text = f"{p['name']}:" if p.get("name") else ""
        text += str(p["port"])
        if p.get("nodePort"):
            text += f":{p['nodePort']}"
        if p.get("targetPort") is not None and p.get("targetPort") != p["port"]:
            text += f"->{p['targetPort']}"
        if p.get("protocol") and p["protocol"] != "TCP":
            text += f"/{p['protocol']}"
        out.append(text)
    return ",".join(out)


def container_name(image: str) -> str:
    """The container name ``kubectl create deployment --image`` picks: the image's base name."""
    base = image.rsplit("/", 1)[-1].split("@")[0].split(":")[0].lower()
    base = re.sub(r"[^a-z0-9-]", "-", base).strip("-")[:63].strip("-")
    return base or "app"


# -- objects among documents ----------------------------------------------------
Where = tuple[str, tuple[int, ...]]  # (file, index of the document, then of the item inside nested Lists)


def walk(files: list) -> Iterator[tuple[list, int, dict, Where]]:
    """Every object of ``files`` (``[[path, [documents]], ...]``) with the list holding it and its place."""

    def inside(items: list, path: str, trail: tuple[int, ...]):
        for i, d in enumerate(items):
            if not isinstance(d, dict):
                continue
            if d.get("kind") == "List" and isinstance(d.get("items"), list):
                yield from inside(d["items"], path, trail + (i,))
            else:
                yield items, i, d, (path, trail + (i,))

    for path, docs in files:
        yield from inside(docs, path, ())


CLUSTER_SCOPED = ("Node", "Namespace", "PersistentVolume", "IngressClass")


def identity(body: dict) -> tuple[str, str | None, str]:
    """``(kind, namespace, name)`` of a manifest; the namespace is None for a cluster-scoped kind."""
    kind = str(body.get("kind"))
    meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    ns = None if kind in CLUSTER_SCOPED else str(meta.get("namespace") or "default")
    return kind, ns, str(meta.get("name"))


def find(files: list, kind: str, namespace: str | None, name: str) -> tuple[list, int, dict, Where] | None:
    for slot in walk(files):
        if identity(slot[2]) == (kind, namespace, name):
            return slot
    return None


def target_file(files: list, kind: str) -> int:
    """Where a new object goes: beside the last of its kind, else beside the Topology, else the first file."""
    last = None
    for k, (_, docs) in enumerate(files):
        for d in docs:
            if isinstance(d, dict) and d.get("kind") == kind:
                last = k
    if last is not None:
        return last
    for k, (_, docs) in enumerate(files):
        if any(isinstance(d, dict) and d.get("kind") == "Topology" for d in docs):
            return k
    return 0


# -- what the simulator generates ----------------------------------------------------
def kube_object(topo: Topology, kind: str, namespace: str | None, name: str) -> KubeObject | None:
    for o in topo.objects:
        if o.kind == kind and o.name == name and o.namespace == namespace:
            return o
    return None


def pod_owner(topo: Topology, node_names: list[str], namespace: str, name: str) -> KubeObject | None:
    """The workload object (Deployment, ReplicaSet, StatefulSet, DaemonSet) that makes the pod ``namespace/name``."""
    from ..k8s.workloads import expand

    for o in topo.objects:
        if o.kind in WORKLOADS and (o.namespace or "default") == namespace:
            if any(p.name == name for p in expand([o], node_names)):
                return o
    return None


def why_node(topo: Topology, name: str) -> str:
    """Why a node with no Node object and no host of its own exists."""
    for o in topo.objects:
        if o.kind == "Pod" and (o.body.get("spec") or {}).get("nodeName") == name:
            return f"pod {o.namespace or 'default'}/{o.name} names it in spec.nodeName"
    return "the simulator adds it: the cluster's pods name no node, and pods need one"
