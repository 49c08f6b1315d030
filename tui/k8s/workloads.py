"""Controllers, run once: Deployments, ReplicaSets, StatefulSets and DaemonSets expanded into pods.

Names follow the controllers' patterns: a Deployment ``web`` owns the
ReplicaSet ``web-<pod-template-hash>`` whose pods are ``web-<hash>-<suffix>``;
a StatefulSet's pods are ``db-0``, ``db-1``, ...; a DaemonSet puts one pod
``<name>-<suffix>`` on every node. Hashes and suffixes use the alphabet of
apimachinery's ``rand.SafeEncodeString`` and are derived from the object
(FNV-32a of its pod template, as ``ComputeHash`` does over Go's dump of it),
so the same file always gives the same pods.
"""

from __future__ import annotations

import functools
import json

from ..model.topology import KubeObject

ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery/pkg/util/rand: no vowels, no look-alikes


def fnv32a(data: bytes, h: int = 0x811C9DC5) -> int:
    """FNV-1a, 32 bits; ``h``: the state after a prefix (FNV-1a reads byte by byte)."""
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


@functools.lru_cache(maxsize=4096)
def _prefix_state(owner: str) -> int:
    return fnv32a(owner.encode())


def safe_encode(text: str) -> str:
    return "".join(ALPHABET[ord(c) % len(ALPHABET)] for c in text)


def template_hash(template: dict) -> str:
    """The pod-template-hash label a Deployment gives its ReplicaSet."""
    return safe_encode(str(fnv32a(json.dumps(template, sort_keys=True).encode())))


def suffix(owner: str, index: int, length: int = 5) -> str:
    """The random-looking suffix of a generated pod name, fixed by its owner and position."""
    h = fnv32a(f"/{index}".encode(), _prefix_state(owner))  # = fnv32a(f"{owner}/{index}".encode())
    out = []
    for _ in range(length):
        out.append(ALPHABET[h % len(ALPHABET)])
        h //= len(ALPHABET)
        if h == 0:
            h = fnv32a(f"{owner}/{index}/{len(out)}".encode())
    return "".join(out)


def _pod(name: str, namespace: str, template: dict, node: str | None, owner: str) -> dict:
    meta = dict(template.get("metadata") or {})
    spec = dict(template.get("spec") or {})
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": _shared_labels(meta),
                         "ownerReferences": [{"kind": owner.split("/")[0], "name": owner.split("/")[1]}]},
            "spec": spec}


def _shared_labels(meta: dict) -> dict:
    """The template's labels, the same mapping for every pod made from it (nothing changes them)."""
    labels = meta.get("labels")
    return labels if isinstance(labels, dict) else {}


def _owners(objects: list[KubeObject]) -> set[tuple[str | None, str, str]]:
    """``(namespace, kind, name)`` of every controller that owns a Pod or ReplicaSet among the objects."""
    out = set()
    for o in objects:
        if o.kind in ("Pod", "ReplicaSet"):
            for ref in (o.body.get("metadata") or {}).get("ownerReferences") or []:
                if isinstance(ref, dict):
                    out.add((o.namespace, str(ref.get("kind")), str(ref.get("name"))))
    return out


def tolerates(tolerations: list, taints: list) -> bool:
    """Whether a pod's tolerations cover every NoSchedule/NoExecute taint of a node (the scheduler's filter)."""
    for taint in taints:
        if not isinstance(taint, dict) or taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not any(_tolerates(t, taint) for t in tolerations if isinstance(t, dict)):
            return False
    return True


def _tolerates(t: dict, taint: dict) -> bool:
    if t.get("effect") and t["effect"] != taint.get("effect"):
        return False
    if t.get("operator") == "Exists":
        return not t.get("key") or t["key"] == taint.get("key")
    return t.get("key") == taint.get("key") and str(t.get("value") or "") == str(taint.get("value") or "")


def expand(objects: list[KubeObject], node_names: list[str], taints: dict | None = None) -> list[KubeObject]:
    """Pods the workload objects would create: not those already present as Pod objects, and nothing
    for a controller whose pods (or, for a Deployment, ReplicaSets) the objects already carry, as a
    dump of a real cluster does."""
    existing = {(o.namespace, o.name) for o in objects if o.kind == "Pod"}
    owners = _owners(objects)
    taints = taints or {}
    out: list[KubeObject] = []

    def add(body: dict, owner: KubeObject) -> None:
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        if key not in existing:
            existing.add(key)
            out.append(KubeObject("v1", "Pod", key[1], key[0], body, owner.mark))

    for o in objects:
        if o.kind not in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet") or (o.namespace, o.kind, o.name) in owners:
            continue
        spec = o.body.get("spec") or {}
        template = spec.get("template") or {}
        ns = o.namespace or "default"
        replicas = spec.get("replicas", 1)
        replicas = replicas if isinstance(replicas, int) and replicas >= 0 else 1
        if o.kind == "Deployment":
            rs = f"{o.name}-{template_hash(template)}"
            for i in range(replicas):
                add(_pod(f"{rs}-{suffix(rs, i)}", ns, template, None, f"ReplicaSet/{rs}"), o)
        elif o.kind == "ReplicaSet":
            for i in range(replicas):
                add(_pod(f"{o.name}-{suffix(o.name, i)}", ns, template, None, f"ReplicaSet/{o.name}"), o)
        elif o.kind == "StatefulSet":
            for i in range(replicas):
                pod = _pod(f"{o.name}-{i}", ns, template, None, f"StatefulSet/{o.name}")
                pod["spec"].setdefault("hostname", f"{o.name}-{i}")
                if spec.get("serviceName"):
                    pod["spec"].setdefault("subdomain", spec["serviceName"])
                add(pod, o)
        elif o.kind == "DaemonSet":
            tolerations = (template.get("spec") or {}).get("tolerations") or []
            for node in node_names:
                if not tolerates(tolerations, taints.get(node, [])):
                    continue  # the node's taint keeps the DaemonSet's pod off, as the scheduler would
                add(_pod(f"{o.name}-{suffix(o.name + '@' + node, 0)}", ns, template, node, f"DaemonSet/{o.name}"), o)
    return out
