"""The endpoints of a cluster's Services, as the control plane lists them.

:class:`Endpoints` maps (Service key, port name) to the port's endpoints: the EndpointSlices or
Endpoints objects given for the Service, else what the endpoints controller makes of it (ready pods
matching the selector, target ports resolved per pod), worked out per Service when first asked for.
:func:`tui.k8s.cluster.build_cluster` makes one for each cluster.
"""

from __future__ import annotations

from collections.abc import Mapping

from .cluster import Endpoint, Pod, Service, ServicePort


def _hashable(v) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


class Endpoints(Mapping):
    """(Service key, port name) -> the port's endpoints: from the EndpointSlices given for the Service, else
    from its Endpoints object, else as the endpoints controller makes them (ready pods matching the selector,
    target ports resolved per pod); the API server's own for default/kubernetes.

    Each Service's are worked out when first asked for: checking a 150,000-pod dump needs none of them, a
    trace the few it meets (kube-proxy's rules ask for all of them, once)."""

    def __init__(self, services: list[Service], pods: list[Pod], given: dict, from_endpoints: dict, api: dict) -> None:
        self._services, self._pods = services, pods
        self._given = {k[0] for k in given}, given
        self._listed = {k[0] for k in from_endpoints}, from_endpoints
        self._api = api
        self._by_key: dict[str, list[Service]] | None = None
        self._index: tuple[dict, dict] | None = None
        self._done: dict[tuple[str, str], list[Endpoint]] = {}

    def _keys(self) -> list[tuple[str, str]]:
        return list(dict.fromkeys([*((s.key, sp.name) for s in self._services for sp in s.ports), *self._api]))

    def _fill(self, key: str) -> None:
        """Every port of the Services with ``key`` (the last of a name wins, as a dict written in turn leaves it)."""
        services = self._services_of(key)
        if key in self._given[0]:
            own = self._given[1]
        elif key in self._listed[0]:
            own = self._listed[1]
        else:
            own = _computed(services, self._pod_index())
        for s in services:
            for sp in s.ports:
                self._done[(key, sp.name)] = own.get((key, sp.name), [])
        for k, eps in self._api.items():
            if k[0] == key:
                self._done[k] = eps
        self._done.setdefault((key, None), [])  # (marks the Service done)

    def has_ready(self, svc: Service, port: ServicePort, family: int) -> bool:
        """Whether a port of the Service ``svc.key`` has a ready endpoint of ``family``: from the selected pods,
        without making the endpoints, for a Service whose endpoints the controller makes."""
        key = svc.key
        if (key, None) in self._done or key in self._given[0] or key in self._listed[0] or any(k[0] == key for k in self._api):
            return any(e.ready and e.ip.version == family for e in self.get((key, port.name), ()))
        found = self._services_of(key)
        if len(found) != 1 or not found[0].selector:
            return any(e.ready and e.ip.version == family for e in self.get((key, port.name), ()))
        tp = port.target_port
        for p in _members(found[0], self._pod_index()):
            if p.ready and (p.ip if family == 4 else p.ip6) is not None and (
                    not isinstance(tp, str) or any(c.name == tp and c.protocol == port.protocol for c in p.ports)):
                return True
        return False

    def _services_of(self, key: str) -> list[Service]:
        if self._by_key is None:
            self._by_key = {}
            for s in self._services:
                self._by_key.setdefault(s.key, []).append(s)
        return self._by_key.get(key, [])

    def _pod_index(self) -> tuple[dict, dict]:
        if self._index is None:  # (only the labels some selector names)
            self._index = _pod_index(self._pods, {k for s in self._services if s.selector for k in s.selector})
        return self._index

    def __getitem__(self, k: tuple[str, str]) -> list[Endpoint]:
        if (k[0], None) not in self._done:
            self._fill(k[0])
        if k[1] is None:
            raise KeyError(k)
        return self._done[k]

    def get(self, k, default=None):
        try:
            return self[k]
        except KeyError:
            return default

    def __contains__(self, k) -> bool:
        return self.get(k) is not None

    def __iter__(self):
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


def _pod_index(pods: list[Pod], keys=None) -> tuple[dict, dict]:
    """The pods with an address, in order, by namespace and by (namespace, label, value), for the labels
    named in ``keys`` (None: all)."""
    # The pods sharing one labels mapping (those of one owner, in a big dump) are indexed together: a list
    # holds them in order, group after group (a group is in the order its first pod comes).
    groups: dict[tuple, tuple[dict, list[Pod]]] = {}
    for p in pods:
        if p.ip is None:
            continue
        group = groups.get((id(p.labels), p.namespace))
        if group is None:
            group = groups[(id(p.labels), p.namespace)] = (p.labels, [])
        group[1].append(p)
    by_namespace: dict[str, list[Pod]] = {}
    by_label: dict[tuple, list[Pod]] = {}
    for (_, ns), (labels, members) in groups.items():
        by_namespace.setdefault(ns, []).extend(members)
        for k, v in labels.items():
            if (keys is None or k in keys) and (type(v) is str or _hashable(v)):
                by_label.setdefault((ns, k, v), []).extend(members)
    return by_namespace, by_label


def _computed(services: list[Service], index: tuple[dict, dict]) -> dict[tuple[str, str], list[Endpoint]]:
    """The endpoints controller: ready pods matching the selector, target ports resolved per pod."""
    out: dict[tuple[str, str], list[Endpoint]] = {}
    for s in services:
        if not s.selector:
            continue
        members = list(_members(s, index))
        for sp in s.ports:
            eps = out.setdefault((s.key, sp.name), [])
            tp = sp.target_port
            for p in members:
                if isinstance(tp, str):
                    named = next((c for c in p.ports if c.name == tp and c.protocol == sp.protocol), None)
                    if named is None:
                        continue  # the pod has no port of that name: not an endpoint of this port
                    port = named.port
                else:
                    port = tp or sp.port
                eps.append(_endpoint(p.ip, port, p.ready, p.node))
                if p.ip6 is not None:
                    eps.append(_endpoint(p.ip6, port, p.ready, p.node))
    return out


def _members(s: Service, index: tuple[dict, dict]):
    """The pods with an address that a Service's selector (not empty) selects, in order (an iterable)."""
    by_namespace, by_label = index
    selector = list(s.selector.items())
    if all(v is not None and _hashable(v) for _, v in selector):
        # equality on every key: only the pods holding the rarest of the selector's labels can match
        candidates = min((by_label.get((s.namespace, k, v), []) for k, v in selector), key=len)
        if len(selector) == 1:  # (the commonest: the index matched the one label already)
            return candidates
    else:  # a value that may match a missing label (None) or no index key: every pod of the namespace
        candidates = by_namespace.get(s.namespace, [])
    return (p for p in candidates if all(p.labels.get(k) == v for k, v in selector))


def _endpoint(ip, port: int, ready: bool, node: str | None) -> Endpoint:
    """``Endpoint(ip, port, ready, node)`` without a frozen dataclass's ``__init__`` (its fields set one
    by one): the endpoints controller makes one per pod and port, 170,000 on a big cluster."""
    e = _new(Endpoint)
    d = e.__dict__
    d["ip"], d["port"], d["ready"], d["node"] = ip, port, ready, node
    return e


_new = object.__new__
