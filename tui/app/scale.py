"""How the dashboard copes with a huge cluster: the thresholds, and what it asks of a network once.

A network is *big* when its tree would hold more rows than :data:`BIG_ROWS` (every namespace, Service and
object counted). A big network's tree loads a node's pods when the node is opened, lists long groups in
chunks, builds no routing table until the cursor rests on it, and computes its DNS zone in a worker; a small
one is drawn as it always was, in full and at once.

:class:`Facts` holds the answers the screen and its panes ask on every key (is there an Ingress, a policy,
which pod has this address, is this item a pod): computed once per compiled network, never by walking
150,000 pods again.
"""

from __future__ import annotations

import os
import weakref

BIG_ROWS = 1500
"""More tree rows than this: the big network's ways (lazy tree, chunks, deferred compiles, DNS in a worker)."""

CHUNK = 100
"""The most children a tree node gets at once; longer lists are cut into groups of this many (or 100x more)."""

BACKGROUND_LOAD_BYTES = 4 * 1024 * 1024
"""Inputs larger than this (all files together) load in a worker behind the dashboard's empty shell."""


def background_load_bytes() -> int:
    """:data:`BACKGROUND_LOAD_BYTES`, or ``KUBENET_TUI_BACKGROUND_BYTES`` from the environment."""
    value = os.environ.get("KUBENET_TUI_BACKGROUND_BYTES", "")
    return int(value) if value.strip().isdigit() else BACKGROUND_LOAD_BYTES


def input_size(paths: list[str]) -> int:
    """The total size in bytes of the files ``paths`` expand to (directories: their YAML and JSON files)."""
    from ..load import expand

    total = 0
    for path in expand(paths):
        try:
            total += os.path.getsize(path)
        except OSError:
            pass  # the loader says what is wrong with it
    return total


def megabytes(size: int) -> str:
    mb = size / (1024 * 1024)
    return f"{mb:.0f} MB" if mb >= 10 else f"{mb:.1f} MB"


class Facts:
    """What the dashboard asks about one compiled network, computed once (see :func:`facts_of`)."""

    def __init__(self, net) -> None:
        topo = net.topology
        cluster = net.cluster
        kinds = {o.kind for o in topo.objects}
        self.has_ingress = "Ingress" in kinds
        self.has_ingress_objects = bool(kinds & {"Ingress", "IngressClass"})
        self.has_policies = cluster is not None and "NetworkPolicy" in kinds and _has_policies(topo)
        self.nodes = frozenset(cluster.nodes) if cluster is not None else frozenset()
        services = len(cluster.services) if cluster is not None else 0
        self.rows = len(net.namespaces) + services + len(topo.objects)
        self.big = self.rows > BIG_ROWS
        self._cluster = cluster
        self._pod_keys: frozenset[str] | None = None
        self._pod_by_ip: dict | None = None
        self._pods_on: dict | None = None
        self._namespaces: list[str] | None = None
        self.dns: tuple | None = None  # (zone, RecordIndex or None) once the DNS pane's worker or the loader made them

    def warm(self) -> Facts:
        """Make now (in a worker) what the keys would otherwise make on first asking: the pods by name, address
        and node (a second or so for 150,000 pods)."""
        _ = self.pod_keys, self.kube_namespaces
        self.pod_at(None)
        self.pods_on("")
        return self

    @property
    def pod_keys(self) -> frozenset[str]:
        """Every pod as ``namespace/name``."""
        if self._pod_keys is None:
            pods = self._cluster.pods if self._cluster is not None else ()
            self._pod_keys = frozenset(f"{p.namespace}/{p.name}" for p in pods)
        return self._pod_keys

    def pod_at(self, ip):
        """The first pod (in cluster order) holding ``ip``, or None."""
        if self._pod_by_ip is None:
            out: dict = {}
            for p in self._cluster.pods if self._cluster is not None else ():
                if p.ip is not None:
                    out.setdefault(p.ip, p)
            self._pod_by_ip = out
        return self._pod_by_ip.get(ip)

    def pods_on(self, node: str) -> list:
        """A node's pods, in cluster order (hostNetwork ones included)."""
        if self._pods_on is None:
            out: dict = {}
            for p in self._cluster.pods if self._cluster is not None else ():
                out.setdefault(p.node, []).append(p)
            self._pods_on = out
        return self._pods_on.get(node, [])

    @property
    def kube_namespaces(self) -> list[str]:
        """The Kubernetes namespaces the pods live in, sorted."""
        if self._namespaces is None:
            pods = self._cluster.pods if self._cluster is not None else ()
            self._namespaces = sorted({p.namespace for p in pods})
        return self._namespaces


def _has_policies(topo) -> bool:
    from ..edit.netpol_matrix import has_policies

    return has_policies(topo)


_facts: dict[int, tuple[weakref.ref, Facts]] = {}


def facts_of(net) -> Facts:
    """The :class:`Facts` of ``net``, made on the first question and kept as long as ``net`` lives."""
    key = id(net)
    found = _facts.get(key)
    if found is not None and found[0]() is net:
        return found[1]
    for k in [k for k, (ref, _) in _facts.items() if ref() is None]:
        del _facts[k]
    facts = Facts(net)
    _facts[key] = (weakref.ref(net), facts)
    return facts


def chunks(count: int, size: int = CHUNK) -> list[tuple[int, int]]:
    """``range(count)`` cut into at most ``size`` consecutive spans, each of ``size``, ``size``², ... items."""
    span = size
    while count > span * size:
        span *= size
    return [(start, min(start + span, count)) for start in range(0, count, span)]
