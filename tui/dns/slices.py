"""CoreDNS's EndpointSlices made when first needed: the lazily filled containers and the EndpointSlice controller.

:func:`tui.dns.sources.collect` hands CoreDNS's view of a cluster out in containers that do their work when
first read, so that a 150,000-pod cluster answers a query without going through every pod:

- :class:`SliceList`, every slice in CoreDNS's order, a Service's computed slices made when first asked for;
- ``_LazyList`` (a list made when first used) and ``_GrowingSet`` (a set whose first members are known now
  and the rest made when a lookup misses), both on ``_FilledOnUse``'s model of filling on first use;
- ``_Controller``, the EndpointSlice controller for one Service at a time (one slice per address family and
  port set, from the pods its selector picks through ``_PodIndex``).

The slices' own types (:class:`tui.dns.sources.Slice`, ``Port``, ``Address``) stay in :mod:`tui.dns.sources`,
which imports this module; the controller imports them when it runs, so either module can be imported first.
"""

from __future__ import annotations

import collections.abc
from typing import TYPE_CHECKING

from ..model.topology import KubeObject, Topology

if TYPE_CHECKING:
    from .sources import Slice


class _FilledOnUse(list):
    """A list whose items are made (by ``_fill``) the first time it is read."""

    def _fill(self) -> None:
        raise NotImplementedError

    def __iter__(self):
        self._fill()
        return list.__iter__(self)

    def __len__(self) -> int:
        self._fill()
        return list.__len__(self)

    def __getitem__(self, i):
        self._fill()
        return list.__getitem__(self, i)


class SliceList(_FilledOnUse):
    """Every slice, in CoreDNS's order; the EndpointSlice controller's (one Service's) made when first asked
    for, by name (:meth:`Sources.slices_of`) or all at once (any use of the list itself)."""

    def __init__(self, head: list, pending: dict, tail: list) -> None:
        super().__init__()
        self.head, self.pending, self.tail = head, pending, tail  # pending: index -> function giving its slices
        self.made: dict = {}
        self.filled = False
        self.eager_by_ip: dict | None = None
        self.order: dict | None = None
        self.finder = None  # ip -> the pending indexes whose Service selects a pod with that address

    def computed(self, index: str) -> list:
        if index not in self.made:
            self.made[index] = self.pending[index]()
        return self.made[index]

    def eager(self) -> list:
        return self.head + self.tail

    def with_ip(self, ip: str) -> list:
        """The slices with address ``ip``, in list order, making only the Services' that select a pod with it."""
        from .records import ip_text

        if self.eager_by_ip is None:
            self.eager_by_ip = {}
            for n, sl in enumerate(self.head + self.tail):
                for a in sl.addresses:
                    found = self.eager_by_ip.setdefault(ip_text(a.ip), [])
                    if not found or found[-1][1] is not sl:
                        found.append((n if n < len(self.head) else n + len(self.pending), sl))
        if self.order is None:
            self.order = {index: len(self.head) + k for k, index in enumerate(self.pending)}
        order = self.order
        out = list(self.eager_by_ip.get(ip, []))
        for index in (self.finder(ip) if self.finder is not None else self.pending):
            for sl in self.computed(index):
                if any(ip_text(a.ip) == ip for a in sl.addresses):
                    out.append((order[index], sl))
        return [sl for _, sl in sorted(out, key=lambda x: x[0])]

    def _fill(self) -> None:
        if not self.filled:
            self.filled = True
            list.extend(self, self.head)
            for index in self.pending:
                list.extend(self, self.computed(index))
            list.extend(self, self.tail)

    def __bool__(self) -> bool:
        return bool(self.head or self.tail) or any(self.computed(i) for i in self.pending)


def _target_port(pod_body: dict, sp: dict) -> int | None:
    tp = sp.get("port") if sp.get("targetPort") is None else sp["targetPort"]  # (null: unset, the port's number)
    if isinstance(tp, int):
        return tp
    if isinstance(tp, str) and tp.isdigit():
        return int(tp)
    proto = sp.get("protocol") or "TCP"
    for c in (pod_body.get("spec") or {}).get("containers") or []:
        for p in (c or {}).get("ports") or []:
            if isinstance(p, dict) and p.get("name") == tp and (p.get("protocol") or "TCP") == proto and isinstance(p.get("containerPort"), int):
                return p["containerPort"]
    return None


class _PodIndex:
    """The cluster's pods by namespace, each namespace's (in name order, and by label and value) indexed
    when a Service there is first asked about."""

    def __init__(self, pods) -> None:
        self._pods: dict[str, list] = {}
        for p in pods:
            self._pods.setdefault(p.namespace, []).append(p)
        self._ready: dict[str, tuple] = {}

    def _of(self, namespace: str) -> tuple:
        got = self._ready.get(namespace)
        if got is None:
            pods = sorted(self._pods.get(namespace, []), key=lambda p: p.name)
            by_label: dict[tuple, list] = {}
            for p in pods:
                for k, v in p.labels.items():
                    if isinstance(v, str):
                        by_label.setdefault((k, v), []).append(p)
            got = self._ready[namespace] = (pods, by_label)
        return got

    def matching(self, namespace: str, selector: dict) -> list:
        """The pods of ``namespace`` that ``selector`` (equality on every key) selects, in order."""
        pods, by_label = self._of(namespace)
        if all(isinstance(v, str) for v in selector.values()):
            candidates = min((by_label.get((k, v), []) for k, v in selector.items()), key=len)
        else:
            candidates = pods
        return [p for p in candidates if all(p.labels.get(k) == v for k, v in selector.items())]


class _LazyList(_FilledOnUse):
    """A list made when first used."""

    def __init__(self, make) -> None:
        super().__init__()
        self._make = make

    def _fill(self) -> None:
        if self._make is not None:
            make, self._make = self._make, None
            list.extend(self, make())

    def __bool__(self) -> bool:
        self._fill()
        return list.__len__(self) > 0


def _computed(svc_obj: KubeObject, svc, cluster, bodies, index: _PodIndex | None = None) -> list[Slice]:
    """The EndpointSlice controller's slices for a Service with a selector."""
    from .sources import NO_PORTS, Address, Port, Slice, _str, _suffix

    spec = svc_obj.body.get("spec") or {}
    selector = spec.get("selector")
    if not isinstance(selector, dict) or not selector:
        return []
    families = [f for f in spec.get("ipFamilies") or [] if f in ("IPv4", "IPv6")]
    if not families:
        ips = [ip for ip in svc.cluster_ips] if svc is not None else []
        families = sorted({f"IPv{ip.version}" for ip in ips}) or [f"IPv{cluster.topology.cluster.service_cidr.version}"]
    publish = bool(spec.get("publishNotReadyAddresses"))
    groups: dict[tuple, list[Address]] = {}
    index = index or _PodIndex(cluster.pods)
    for p in index.matching(svc_obj.namespace, selector):
        body = bodies.get((p.namespace, p.name), {})
        if ((body.get("status") or {}).get("phase")) in ("Succeeded", "Failed"):
            continue
        if not (p.ready or publish):
            continue
        pspec = body.get("spec") or {}
        hostname = _str(pspec.get("hostname")) if pspec.get("subdomain") == svc_obj.name else ""
        ports = []
        for sp in spec.get("ports") or []:
            if isinstance(sp, dict) and isinstance(sp.get("port"), int):
                tp = _target_port(body, sp)
                if tp is not None:
                    ports.append(Port(_str(sp.get("name")), tp, _str(sp.get("protocol")) or "TCP"))
        for fam, ip in (("IPv4", p.ip), ("IPv6", p.ip6)):
            if ip is not None and fam in families:
                groups.setdefault((fam, tuple(ports)), []).append(Address(str(ip), hostname, p.name, p.node or ""))
    out = []
    for i, ((fam, ports), addrs) in enumerate(sorted(groups.items(), key=lambda kv: (kv[0][0], str(kv[0][1])))):
        out.append(Slice(f"{svc_obj.name}-{_suffix(svc_obj.key + '/' + fam, i)}", svc_obj.namespace or "default", svc_obj.name,
                         ports or NO_PORTS, tuple(addrs)))
    return out


class _GrowingSet(collections.abc.Set):
    """A set whose first members are known now and the rest made when a lookup misses (or on iteration):
    a namespace that has a Service is found without going through 150,000 pods."""

    def __init__(self, first, more) -> None:
        self._items = set(first)
        self._more = more

    def _grow(self) -> None:
        if self._more is not None:
            more, self._more = self._more, None
            self._items.update(more())

    def __contains__(self, item) -> bool:
        if item in self._items:
            return True
        self._grow()
        return item in self._items

    def __iter__(self):
        self._grow()
        return iter(self._items)

    def __len__(self) -> int:
        self._grow()
        return len(self._items)


class _Controller:
    """The EndpointSlice controller, for one Service at a time (the pods' bodies and index made once)."""

    def __init__(self, topology: Topology, cluster) -> None:
        self.topology, self.cluster = topology, cluster
        self._bodies = self._index = self._by_ip = self._by_pair = None

    def selecting(self, selectors: dict, ip: str) -> list[str]:
        """The indexes of the Services (of ``selectors``) that select a pod with address ``ip``."""
        if self._by_ip is None:
            self._by_ip = {}
            for p in self.cluster.pods:
                for x in (p.ip, p.ip6):
                    if x is not None:
                        self._by_ip.setdefault(str(x), []).append(p)
        if self._by_pair is None:  # each selector under one of its (key, value): a pod can only match those under its labels
            self._by_pair = {}
            for ns, found in selectors.items():
                for index, sel in found:
                    k, v = next(iter(sel.items()))
                    self._by_pair.setdefault((ns, k, v) if isinstance(v, str) else (ns, None, None), []).append((index, sel))
        out = []
        for p in self._by_ip.get(ip, []):
            pairs = [(p.namespace, k, v) for k, v in p.labels.items() if isinstance(v, str)] + [(p.namespace, None, None)]
            for pair in pairs:
                for index, sel in self._by_pair.get(pair, ()):
                    if all(p.labels.get(k) == v for k, v in sel.items()) and index not in out:
                        out.append(index)
        return out

    def slices(self, o: KubeObject, svc) -> list[Slice]:
        from .sources import _pod_bodies

        if self._bodies is None:
            self._bodies = _pod_bodies(self.topology, self.cluster)
            self._index = _PodIndex(self.cluster.pods)
        return _computed(o, svc, self.cluster, self._bodies, self._index)
