"""Edits of a Topology document, as plain-data changes the forms ask for.

Each edit is an :class:`Edit`: a description for the undo history and a
function that changes the document. Values come from forms as text and are
written as the file would hold them; the loader validates the result, so a
wrong value gets the loader's own message. ``Edit.path`` names the item
changed (``hosts[1].routes[0]``) so those messages can be shown beside the
right field.

Kubernetes objects (Node, Pod, Deployment, Service) are documents of their
own: their edits have ``scope = "objects"`` and change the list of every
file's documents, and ``Edit.where`` says which document, so that the
loader's messages about it can be shown beside the form's fields
(``field_paths`` maps the manifest's fields to the form's).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field


class EditRefused(ValueError):
    """An edit that cannot even be attempted (the thing to change is gone)."""


class FieldErrors(EditRefused):
    """Form text that cannot even be written as the manifest's fields: messages by form field."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))


@dataclass
class Edit:
    label: str
    change: Callable[[Edit, object], None]  # gets the Topology document, or for scope "objects" [[file, [documents]], ...]
    path: str = ""
    notes: list[str] = field(default_factory=list)
    scope: str = "topology"  # or "objects"
    where: tuple | None = None  # an object's (file, (document index, List item index, ...)), once changed
    field_paths: dict[str, str] = field(default_factory=dict)  # manifest field path -> form field

    def __call__(self, doc) -> None:
        self.change(self, doc)


def _value(text):
    """A form value as the file holds it: ints stay ints, empty is absent."""
    if isinstance(text, str):
        t = text.strip()
        if t == "":
            return None
        if t.lstrip("-").isdigit():
            return int(t)
        if t.lower() in ("true", "false"):
            return t.lower() == "true"
        return t
    return text


def _clean(fields: dict) -> dict:
    out = {}
    for k, v in fields.items():
        if k == "ports" and isinstance(v, str):  # "8080:80 5353:53/udp", as docker run -p takes them
            v = [p for p in v.replace(",", " ").split()] or None
        else:
            v = _value(v)
        if v is not None and v is not False:
            out[k] = v
    return out


def _list(parent: dict, key: str) -> list:
    if not isinstance(parent.get(key), list):
        parent[key] = []
    return parent[key]


def _index(items: list, name: str, what: str) -> int:
    for i, it in enumerate(items):
        if isinstance(it, dict) and it.get("name") == name:
            return i
    raise EditRefused(f'no {what} "{name}"')


def _host(doc: dict, name: str) -> tuple[int, dict]:
    hosts = _list(doc, "hosts")
    i = _index(hosts, name, "host")
    return i, hosts[i]


def _upsert(items: list, index: int | None, fields: dict, keys: tuple[str, ...]) -> int:
    new = _clean(fields)
    if index is None:
        items.append(new)
        return len(items) - 1
    old = items[index] if isinstance(items[index], dict) else {}
    merged = {k: v for k, v in old.items() if k not in keys}
    items[index] = {**{k: new[k] for k in keys if k in new}, **merged}
    return index


NETWORK_KEYS = ("name", "cidr")
HOST_KEYS = ("name", "forwarding")
IFACE_KEYS = ("name", "network", "address", "metric")
ROUTE_KEYS = ("to", "via", "dev", "metric")
DOCKER_KEYS = ("bridge", "cidr")
CONTAINER_KEYS = ("name", "address", "ports")


def upsert_network(old: str | None, fields: dict) -> Edit:
    def change(e: Edit, doc: dict) -> None:
        nets = _list(doc, "networks")
        i = _upsert(nets, None if old is None else _index(nets, old, "network"), fields, NETWORK_KEYS)
        e.path = f"networks[{i}]"
        new = nets[i].get("name")
        if old is not None and new != old:
            for h in _list(doc, "hosts"):
                for itf in h.get("interfaces") or []:
                    if isinstance(itf, dict) and itf.get("network") == old:
                        itf["network"] = new

    return Edit(f"{'edit' if old else 'add'} network {fields.get('name') or old}", change)


def delete_network(name: str) -> Edit:
    def change(e: Edit, doc: dict) -> None:
        nets = _list(doc, "networks")
        del nets[_index(nets, name, "network")]
        for h in _list(doc, "hosts"):
            for itf in h.get("interfaces") or []:
                if isinstance(itf, dict) and itf.get("network") == name:
                    del itf["network"]
                    e.notes.append(f"{h.get('name')} {itf.get('name')} unplugged")

    return Edit(f"delete network {name}", change)


def upsert_host(old: str | None, fields: dict) -> Edit:
    def change(e: Edit, doc: dict) -> None:
        hosts = _list(doc, "hosts")
        i = _upsert(hosts, None if old is None else _index(hosts, old, "host"), fields, HOST_KEYS)
        e.path = f"hosts[{i}]"
        new = hosts[i].get("name")
        if old is not None and new != old:
            for c in doc.get("containers") or []:
                if isinstance(c, dict) and c.get("host") == old:
                    c["host"] = new

    return Edit(f"{'edit' if old else 'add'} host {fields.get('name') or old}", change)


def delete_host(name: str) -> Edit:
    def change(e: Edit, doc: dict) -> None:
        hosts = _list(doc, "hosts")
        del hosts[_index(hosts, name, "host")]
        if isinstance(doc.get("containers"), list):
            doc["containers"] = [c for c in doc["containers"] if not (isinstance(c, dict) and c.get("host") == name)]

    return Edit(f"delete host {name}", change)


def upsert_interface(host: str, old: str | None, fields: dict) -> Edit:
    def change(e: Edit, doc: dict) -> None:
        hi, h = _host(doc, host)
        items = _list(h, "interfaces")
        i = _upsert(items, None if old is None else _index(items, old, "interface"), fields, IFACE_KEYS)
        e.path = f"hosts[{hi}].interfaces[{i}]"
        new = items[i].get("name")
        if old is not None and new != old:
            for r in h.get("routes") or []:
                if isinstance(r, dict) and r.get("dev") == old:
                    r["dev"] = new

    return Edit(f"{'edit' if old else 'add'} interface {fields.get('name') or old} on {host}", change)


def delete_interface(host: str, name: str) -> Edit:
    def change(e: Edit, doc: dict) -> None:
        _, h = _host(doc, host)
        items = _list(h, "interfaces")
        del items[_index(items, name, "interface")]

    return Edit(f"delete interface {name} on {host}", change)


def upsert_route(host: str, index: int | None, fields: dict) -> Edit:
    def change(e: Edit, doc: dict) -> None:
        hi, h = _host(doc, host)
        items = _list(h, "routes")
        if index is not None and not 0 <= index < len(items):
            raise EditRefused(f"{host} has no route #{index}")
        i = _upsert(items, index, fields, ROUTE_KEYS)
        e.path = f"hosts[{hi}].routes[{i}]"

    return Edit(f"{'edit' if index is not None else 'add'} route {fields.get('to', '')} on {host}", change)


def delete_route(host: str, index: int) -> Edit:
    def change(e: Edit, doc: dict) -> None:
        _, h = _host(doc, host)
        items = _list(h, "routes")
        if not 0 <= index < len(items):
            raise EditRefused(f"{host} has no route #{index}")
        del items[index]

    return Edit(f"delete route #{index} on {host}", change)


def set_docker(host: str, fields: dict | None) -> Edit:
    def change(e: Edit, doc: dict) -> None:
        hi, h = _host(doc, host)
        e.path = f"hosts[{hi}].docker"
        if fields is None:
            h.pop("docker", None)
            h.pop("containers", None)
            if isinstance(doc.get("containers"), list):
                doc["containers"] = [c for c in doc["containers"] if not (isinstance(c, dict) and c.get("host") == host)]
        else:
            old = h.get("docker") if isinstance(h.get("docker"), dict) else {}
            h["docker"] = {**{k: v for k, v in old.items() if k not in DOCKER_KEYS}, **_clean(fields)}

    return Edit(f"{'remove' if fields is None else 'set'} Docker bridge on {host}", change)


def _container_slot(doc: dict, name: str) -> tuple[list, int, str]:
    for hi, h in enumerate(_list(doc, "hosts")):
        items = h.get("containers") if isinstance(h, dict) else None
        for i, c in enumerate(items or []):
            if isinstance(c, dict) and c.get("name") == name:
                return items, i, f"hosts[{hi}].containers[{i}]"
    for i, c in enumerate(doc.get("containers") or []):
        if isinstance(c, dict) and c.get("name") == name:
            return doc["containers"], i, f"containers[{i}]"
    raise EditRefused(f'no container "{name}"')


def upsert_container(host: str, old: str | None, fields: dict) -> Edit:
    def change(e: Edit, doc: dict) -> None:
        if old is None:
            hi, h = _host(doc, host)
            items = _list(h, "containers")
            i = _upsert(items, None, fields, CONTAINER_KEYS)
            e.path = f"hosts[{hi}].containers[{i}]"
        else:
            items, i, e.path = _container_slot(doc, old)
            _upsert(items, i, fields, CONTAINER_KEYS)

    return Edit(f"{'edit' if old else 'add'} container {fields.get('name') or old} on {host}", change)


def delete_container(name: str) -> Edit:
    def change(e: Edit, doc: dict) -> None:
        items, i, _ = _container_slot(doc, name)
        del items[i]

    return Edit(f"delete container {name}", change)


# -- Kubernetes objects -----------------------------------------------------------
def _upsert_object(kind: str, old: tuple[str | None, str] | None, label: str, build, field_paths: dict, follow=None) -> Edit:
    """Add (``old`` None) or change the object ``(namespace, name)`` of ``kind``; ``build(copy of the body or None)``
    returns the new body; ``follow(files, old_body, new_body)`` updates what refers to it."""
    from . import kube

    def change(e: Edit, files: list) -> None:
        slot = None
        if old is not None:
            slot = kube.find(files, kind, old[0], old[1])
            if slot is None:
                raise EditRefused(f'no {kind} "{old[1]}"')
        before = slot[2] if slot else None
        new = build(copy.deepcopy(before) if before else None)
        if slot:
            items, i, _, e.where = slot
            items[i] = new
        else:
            k = kube.target_file(files, kind)
            files[k][1].append(new)
            e.where = (files[k][0], (len(files[k][1]) - 1,))
        if follow is not None:
            follow(e, files, before, new)

    return Edit(label, change, scope="objects", field_paths=field_paths)


def delete_object(kind: str, namespace: str | None, name: str) -> Edit:
    from . import kube

    def change(e: Edit, files: list) -> None:
        slot = kube.find(files, kind, namespace, name)
        if slot is None:
            raise EditRefused(f'no {kind} "{name}"')
        items, i, _, _ = slot
        del items[i]
        if kind == "Node":
            users = [f"{ns}/{n}" for _, _, d, _ in kube.walk(files) for k, ns, n in [kube.identity(d)]
                     if k == "Pod" and (d.get("spec") or {}).get("nodeName") == name]
            if users:
                e.notes.append(f"{', '.join(users)} still name{'s' if len(users) == 1 else ''} {name}: it stays, as an implicit node")

    what = f"{namespace}/{name}" if namespace else name
    return Edit(f"delete {kind} {what}", change, scope="objects")


def upsert_node(old: str | None, fields: dict) -> Edit:
    """A ``v1`` Node: its name, ``status.addresses`` InternalIP and ``spec.podCIDR``; pods follow a rename."""
    from . import kube, manifests

    def follow(e: Edit, files: list, before: dict | None, new: dict) -> None:
        name = (new.get("metadata") or {}).get("name")
        if old is None or name == old:
            return
        for _, _, d, _ in kube.walk(files):
            spec = d.get("spec") if d.get("kind") == "Pod" else None
            if isinstance(spec, dict) and spec.get("nodeName") == old:
                spec["nodeName"] = name
                e.notes.append(f"pod {kube.identity(d)[2]} follows to {name}")

    return _upsert_object("Node", None if old is None else (None, old), f"{'edit' if old else 'add'} Node {fields.get('name') or old}",
                          manifests.node(fields), manifests.NODE_PATHS, follow)


def _label(verb_old, kind: str, fields: dict) -> str:
    ns = str(fields.get("namespace") or "").strip() or "default"
    return f"{'edit' if verb_old else 'add'} {kind} {ns}/{str(fields.get('name') or '').strip()}"


def upsert_pod(old: tuple[str, str] | None, fields: dict) -> Edit:
    """A ``v1`` Pod: namespace, name, labels, node (``spec.nodeName``), image and container ports."""
    from . import manifests

    return _upsert_object("Pod", old, _label(old, "Pod", fields), manifests.pod(fields), manifests.POD_PATHS)


def upsert_deployment(old: tuple[str, str] | None, fields: dict) -> Edit:
    """An ``apps/v1`` Deployment: replicas of one pod template, selected by its labels."""
    from . import manifests

    return _upsert_object("Deployment", old, _label(old, "Deployment", fields), manifests.deployment(fields), manifests.DEPLOYMENT_PATHS)


def upsert_service(old: tuple[str, str] | None, fields: dict) -> Edit:
    """A ``v1`` Service of any type; ``headless`` is a ClusterIP Service with ``clusterIP: None``."""
    from . import manifests

    return _upsert_object("Service", old, _label(old, "Service", fields), manifests.service(fields), manifests.SERVICE_PATHS)
