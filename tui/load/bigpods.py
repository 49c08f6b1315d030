"""The Pods of a big dump, the quick way: checked, slimmed and shared with the pod before them of the same owner.

A 5,000-node dump holds 150,000 Pods, the bulk of it. :class:`PodReader` takes each as the C JSON decoder made
it and either keeps what the simulation reads of it (names, labels, owners, containers' names and ports,
scheduling, addresses, readiness, DNS settings), with equal parts (labels, owners, containers, tolerations)
shared with the last pod of the same owner, or declines it: then :mod:`.bigjson` reads it again the located
way, so that whatever is wrong with it is said as a small file's reader says it.
"""

from __future__ import annotations

from ..model.source import Mark
from ..model.topology import KubeObject
from .shapes import fits
from .values import dns1123_label, dns1123_subdomain


class PodReader:
    """The Pods of one dump, one after the other; what it learnt of earlier ones (valid labels and namespaces,
    the parts of each owner's last pod) makes the next ones cheaper."""

    def __init__(self) -> None:
        self.shared: dict = {}  # (namespace, owner) -> the parts the last pod of that owner had
        self.labels_ok: set = set()  # (key, value) pairs already found valid
        self.names_ok: set = set()  # namespaces already found valid
        self.fits_memo: dict = {}  # the fields' types: the last lists found right (shapes.fits)

    def read(self, v: dict) -> dict | None:
        """The body kept of the Pod ``v`` (``apiVersion: v1``, ``kind: Pod``), or None when anything may be wrong
        with it (a conservative check: None sends it the long way)."""
        if not self._ok(v):
            return None
        body, owner, same_spec = self._slim(v)
        if self._fits(body, same_spec):
            return body
        self.shared.pop(owner, None)  # (nothing of it shared with the next pod of its owner, which is checked whole)
        return None

    def _ok(self, v: dict) -> bool:
        """Nothing read_object would say about this Pod's top and metadata."""
        top, known = _fields()
        if not top.issuperset(v):
            return False
        meta = v.get("metadata")
        if type(meta) is not dict or not known.issuperset(meta):
            return False
        name = meta.get("name")
        if type(name) is not str or dns1123_subdomain(name):
            return False
        ns = meta.get("namespace")
        if ns is not None and ns not in self.names_ok:
            if type(ns) is not str or dns1123_label(ns):
                return False
            self.names_ok.add(ns)
        labels = meta.get("labels")
        if labels is not None:
            if type(labels) is not dict:
                return False
            if labels:
                pairs = labels.items()
                if not self.labels_ok.issuperset(pairs):
                    for kv in pairs:
                        if kv not in self.labels_ok:
                            if not _label_ok(*kv):
                                return False
                            self.labels_ok.add(kv)
        ann = meta.get("annotations")
        if ann is not None and (type(ann) is not dict or not all(type(x) is str for x in ann.values())):
            return False
        spec, status = v.get("spec"), v.get("status")
        return (spec is None or type(spec) is dict) and (status is None or type(status) is dict)  # (the rest: on what is kept)

    def _slim(self, v: dict) -> tuple[dict, tuple, bool]:
        """What the simulation reads of a Pod, equal parts shared with the last pod of the same owner; its owner; and
        whether its spec but nodeName is that pod's."""
        meta = v["metadata"]
        spec = v.get("spec") if type(v.get("spec")) is dict else {}
        status = v.get("status") if type(v.get("status")) is dict else {}
        m = {k: meta[k] for k in _POD_META if k in meta}
        s = {k: spec[k] for k in _POD_SPEC_SHARED if k in spec}  # (nodeName apart: all else is the same for an owner's pods)
        st = {k: status[k] for k in _POD_STATUS if k in status}
        owner = (meta.get("namespace"), meta.get("generateName") or meta.get("name"))
        last = self.shared.get(owner)
        raw = s.get("containers")
        if last is not None and raw == last["raw"]:  # (a deep comparison, in C)
            s["containers"] = last["containers"]
        elif type(raw) is list:
            s["containers"] = [{k: c[k] for k in ("name", "ports") if k in c} if type(c) is dict else c for c in raw]
        conds = st.get("conditions")
        if type(conds) is list:
            ready = []
            for c in conds:
                if type(c) is not dict or type(t := c.get("type")) is not str or type(x := c.get("status")) is not str:
                    break  # (kept whole, for its types to be checked)
                if t == "Ready":
                    ready.append(x)
            else:
                st["conditions"] = _READY.get(tuple(ready)) or [{"type": "Ready", "status": x} for x in ready]
        if last is not None:
            for d, key in ((m, "labels"), (m, "ownerReferences"), (s, "tolerations")):
                if key in d and d[key] == last[key]:
                    d[key] = last[key]
        same_spec = last is not None and s == last["spec"]  # (its containers and tolerations the very same lists: quick)
        self.shared[owner] = {"raw": raw, "containers": s.get("containers"), "labels": m.get("labels"),
                              "ownerReferences": m.get("ownerReferences"), "tolerations": s.get("tolerations"), "spec": s}
        out = {"apiVersion": "v1", "kind": "Pod", "metadata": m}
        if spec:
            out["spec"] = {**s, "nodeName": spec["nodeName"]} if "nodeName" in spec else s
        if status:
            out["status"] = st
        return out, owner, same_spec

    def _fits(self, body: dict, same_spec: bool) -> bool:
        """The types of what is kept of a Pod (:func:`.shapes.fits`); of its spec only nodeName when the rest is the
        spec of the last pod of its owner, found right already."""
        if not same_spec:
            return fits("Pod", body, self.fits_memo)
        node = body["spec"].get("nodeName")
        return (node is None or type(node) is str) and fits("Pod.rest", body, self.fits_memo)


def pod_object(name: str, namespace: str, body: dict, mark: Mark, field_marks) -> KubeObject:
    """``KubeObject("v1", "Pod", ...)`` with its fields written into the new instance's ``__dict__``, as the
    frozen dataclass's ``__init__`` would leave it, without its cost (a dump has 150,000 pods)."""
    o = _new(KubeObject)
    d = o.__dict__
    d["api_version"], d["kind"], d["name"], d["namespace"], d["body"], d["mark"], d["field_marks"] = \
        "v1", "Pod", name, namespace, body, mark, field_marks
    return o


_new = object.__new__


def _label_ok(k, v) -> bool:
    from .kube import _LABEL_NAME, _LABEL_VALUE

    if type(k) is not str or type(v) is not str:
        return False
    prefix, _, base = k.rpartition("/")
    if not base or len(base) > 63 or not _LABEL_NAME.match(base) or (prefix and dns1123_subdomain(prefix)):
        return False
    return len(v) <= 63 and bool(_LABEL_VALUE.match(v))


def _fields() -> tuple[frozenset, frozenset]:
    """The top-level and metadata fields read_object knows (imported when a big file is first read)."""
    global _TOP, _META
    if _TOP is None:
        from .kube import METADATA_FIELDS, TOP_FIELDS

        _TOP, _META = frozenset(TOP_FIELDS), frozenset(METADATA_FIELDS)
    return _TOP, _META


_TOP = _META = None
_READY = {(x,): [{"type": "Ready", "status": x}] for x in ("True", "False")}  # the usual conditions, one list for all pods
_POD_META = ("name", "generateName", "namespace", "labels", "annotations", "ownerReferences", "creationTimestamp", "deletionTimestamp", "uid")
_POD_SPEC = ("nodeName", "hostNetwork", "hostname", "subdomain", "setHostnameAsFQDN", "dnsPolicy", "dnsConfig", "containers", "initContainers",
             "tolerations", "nodeSelector", "affinity", "priorityClassName", "serviceAccountName")
_POD_SPEC_SHARED = tuple(k for k in _POD_SPEC if k != "nodeName")
_POD_STATUS = ("phase", "podIP", "podIPs", "hostIP", "hostIPs", "conditions", "reason")
