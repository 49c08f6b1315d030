"""Lazy compilation: a big cluster's nodes compiled into the network when first asked for.

:func:`tui.sim.network.compile_topology` compiles a cluster with many implicit nodes node by node, on
demand. What it needs for that lives here:

- :class:`Namespaces`, every namespace by name, a node's compiled the first time one of its namespaces is
  looked up (the :class:`tui.sim.network.Network`'s ``namespaces``);
- :class:`Lazy`, what is known of the nodes not compiled yet (their namespaces' names, and their addresses by
  segment for ARP and by namespace for owners), noted by ``_defer``;
- ``_Listeners``, the (protocol, port) each pod declares, made per namespace when first read.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..model.topology import Host, Interface


class Namespaces(Mapping):
    """Every namespace by name, a cluster node's compiled when first asked for.

    ``name in``, ``keys()`` and ``len()`` know every name without compiling anything; ``[name]`` and
    ``get(name)`` compile the node that holds ``name`` (its root namespace and its pods') if it is not yet;
    ``values()`` and ``items()`` compile them all. :meth:`built` gives only what is compiled."""

    def __init__(self, built: dict, owner: dict, build) -> None:
        self._built = built  # name -> NetNS, compiled
        self._owner = owner  # name -> the node whose compile makes it (namespaces not yet compiled)
        self._build = build  # node -> None: compiles that node into _built

    def __getitem__(self, name: str):
        ns = self._built.get(name)
        if ns is None:
            node = self._owner.get(name)
            if node is None:
                raise KeyError(name)
            self._build(node)
            ns = self._built[name]
        return ns

    def __contains__(self, name) -> bool:
        return name in self._built or name in self._owner

    def __iter__(self):
        yield from list(self._built)
        yield from [n for n in list(self._owner) if n not in self._built]

    def __len__(self) -> int:
        return len(self._built) + sum(1 for n in self._owner if n not in self._built)

    def built(self) -> dict:
        """The namespaces compiled so far (name -> NetNS), without compiling more."""
        return self._built

    def pending(self) -> int:
        """How many namespaces are not compiled yet."""
        return sum(1 for n in self._owner if n not in self._built)


class Lazy:
    """What is known of the cluster nodes not compiled yet: which namespaces each will hold and which
    addresses (by segment, for ARP; by namespace, for owners) they will have."""

    def __init__(self) -> None:
        self.hosts: dict = {}  # node -> function giving its full Host
        self.arp: dict[str, dict] = {}  # segment -> {ip: (node, dev)} for devices of nodes not compiled yet
        self.local: dict = {}  # ip -> [(node, segment, dev)]: a node's address on a device, for ARP's weak answer
        self.owners: dict = {}  # ip -> [namespace] among the namespaces not compiled yet
        self.full: dict = {}  # node -> its full Host, once compiled
        self.duplicates: list = []  # (segment, ip, (ns, dev) first, (ns, dev) second, mark of the second) among them


def _shared_segment(i: Interface) -> str | None:
    """The segment a description interface's device sends into when that is a network of the topology
    (a switch, an overlay), not a bridge or a veth inside its own host."""
    if i.bridge is not None or (i.peer is not None and i.network is None):
        return None
    return i.network


def _defer(lazy: Lazy, owner: dict, h: Host, full, pods) -> None:
    """Note a cluster node to compile when first asked for: the names of its namespaces, and the addresses
    its devices will have, by segment (for ARP) and by namespace (for owners)."""
    from ..k8s.datapath import pod_ns

    lazy.hosts[h.name] = full
    owner[h.name] = h.name
    local = [a.ip for i in h.interfaces for a in i.addresses] + [a.ip for b in h.bridges for a in b.addresses]
    if h.docker is not None:
        local.append(h.docker.gateway.ip)
    for ip in local:
        lazy.owners.setdefault(ip, []).append(h.name)
    parts = [(h.name, i) for i in h.interfaces] + [(n.name, i) for n in h.namespaces for i in n.interfaces]
    for n in h.namespaces:
        owner[n.name] = h.name
        for i in n.interfaces:
            for a in i.addresses:
                lazy.owners.setdefault(a.ip, []).append(n.name)
    for c in h.containers:
        owner[c.name] = h.name
        lazy.owners.setdefault(c.address.ip, []).append(c.name)
    for ns, i in parts:
        seg = _shared_segment(i)
        if seg is None:
            continue
        index = lazy.arp.setdefault(seg, {})
        for a in i.addresses:
            first = index.setdefault(a.ip, (ns, i.name))
            if first != (ns, i.name):
                lazy.duplicates.append((seg, a.ip, first, (ns, i.name), i.mark))
        if ns == h.name:
            for ip in local:
                lazy.local.setdefault(ip, []).append((h.name, seg, i.name))
    for p in pods:
        name = pod_ns(p)
        owner[name] = h.name
        for ip in (p.ip, p.ip6):
            if ip is not None:
                lazy.owners.setdefault(ip, []).append(name)


class _Listeners(Mapping):
    """Namespace -> the (protocol, port) its pod's containers declare, for pods that declare ports."""

    def __init__(self, cluster) -> None:
        from ..k8s.datapath import pod_ns

        self._pods = {pod_ns(p): p for p in cluster.pods if p.ports and not p.host_network}
        self._made: dict = {}

    def __getitem__(self, name: str):
        made = self._made.get(name)
        if made is None:
            p = self._pods[name]
            made = self._made[name] = frozenset((c.protocol.lower(), c.port) for c in p.ports)
        return made

    def __iter__(self):
        return iter(self._pods)

    def __len__(self) -> int:
        return len(self._pods)

    def __contains__(self, name) -> bool:
        return name in self._pods
