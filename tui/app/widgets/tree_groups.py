"""The tree's long groups: networks and their members, Services and their endpoints, Kubernetes objects by kind
(a part of :class:`TopologyTree`).

On a small network each is listed whole and open, as it always was. On a big one (see :mod:`tui.app.scale`)
a group is filled when it is opened, and lists longer than :data:`~tui.app.scale.CHUNK` come in chunks titled
by their first and last entries, each filled when opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..scale import CHUNK, chunks

if TYPE_CHECKING:
    from textual.widgets.tree import TreeNode

    from ...model.topology import Topology
    from ...sim.network import Network


class TreeGroups:
    """Networks, Services and objects for :class:`TopologyTree` (its ``add``, ``_keep``, ``path`` and ``big``)."""

    def _chunked(self, parent: TreeNode, name: str, entries: list, title, make, add, wanted=None, open_first: bool = False,
                 host: str | None = None) -> None:
        """``make(parent, entry)`` for each entry, under groups of :data:`CHUNK` (or 100x more) when there are more:
        a group is titled by its first and last entries and filled when opened; the one holding a ``wanted``
        entry opens at once, and with ``open_first`` the first one does; ``host``: the host the entries are of."""
        from .topology_tree import Item

        if len(entries) <= CHUNK:
            for e in entries:
                make(parent, e)
            return
        for k, (a, b) in enumerate(chunks(len(entries))):
            part = entries[a:b]
            on_path = bool(self.path) and any(title(e) in self.path for e in part)

            def fill(node: TreeNode, part: list = part, key: str = f"{name}[{a}:{b}]") -> None:
                self._chunked(node, key, part, title, make, add, wanted, host=host)

            want_here = (k == 0 and open_first) or (wanted is not None and any(wanted(e) for e in part))
            add(parent, "group", f"{title(part[0])} … {title(part[-1])}", f"({b - a})", Item("group", f"{name}[{a}:{b}]", host=host, ns=host),
                False, on_path, fill=fill, open_=want_here)

    def _networks(self, root: TreeNode, topo: Topology, net: Network, add) -> None:
        from .topology_tree import Item

        if self.big:  # from the description: asking the compiled namespaces would compile every node
            members = _described_members(topo)
        else:
            order: dict[str, int] = {}  # as the network compiles them: each host, its namespaces, its containers
            for h in topo.hosts:
                full = net.host(h.name) or h
                for name in [h.name] + [n.name for n in full.namespaces] + [c.name for c in full.containers]:
                    order.setdefault(name, len(order))
            members = {}
            for ns in sorted(net.namespaces.values(), key=lambda ns: order.get(ns.name, len(order))):
                for d in ns.devices.values():
                    if d.segment is not None and not net.segments[d.segment].kind == "bridge":
                        members.setdefault(d.segment, []).append((ns.name, d.name, _addr(d.addresses)))
        group = add(root, "group", f"Networks ({len(topo.networks)})", "", Item("group", "networks"), False)
        for n in topo.networks:
            kids = [m for m in members.get(n.name, []) if self._keep(" ".join(m) + " " + n.name)]
            if not kids and not self._keep(n.name):
                continue
            item, on_path = Item("network", n.name), n.name in self.path

            def member(parent: TreeNode, m: tuple) -> None:
                host, dev, addr = m
                add(parent, "interface", f"{host} {dev}", addr, Item("interface", dev, host=host, ns=host), True, f"{host}/{dev}" in self.path)

            if self.big and kids:
                add(group, "network", n.name, str(n.cidr or ""), item, False, on_path,
                    fill=lambda node, kids=kids, n=n: self._chunked(node, f"network:{n.name}", kids, lambda e: f"{e[0]} {e[1]}", member, add))
                continue
            node = add(group, "network", n.name, str(n.cidr or ""), item, False, on_path)
            for m in kids:
                member(node, m)
        if not group.children and self.filter_text:
            group.remove()

    def _services(self, root: TreeNode, cluster, facts, add) -> None:
        from .topology_tree import Item

        def endpoints(s) -> list:
            return [e for p in s.ports for e in cluster.endpoints_for(s, p)]

        def service(parent: TreeNode, s, eps: list | None = None) -> None:
            ip = "None (headless)" if s.headless else str(s.cluster_ip or "")
            extra = f" external {s.load_balancer_ip}" if s.load_balancer_ip else ""
            ports = ", ".join(f"{p.port}{'/' + p.protocol if p.protocol != 'TCP' else ''}"
                              + (f":{p.node_port}" if p.node_port else "") for p in s.ports)
            eps = endpoints(s) if eps is None else eps
            detail = f"{s.type} {ip}{extra} {ports}".strip()
            if self.big and eps:
                add(parent, "service", s.key, detail, Item("service", s.key), False, fill=lambda node: add_endpoints(node, eps))
                return
            node = add(parent, "service", s.key, detail, Item("service", s.key), not eps)
            add_endpoints(node, eps)

        def add_endpoints(node: TreeNode, eps: list) -> None:
            for e in eps:
                owner = facts.pod_at(e.ip)
                who = f"{owner.namespace}/{owner.name}" if owner else (e.node or "")
                add(node, "endpoint", str(e), f"{who}{'' if e.ready else ' (not ready)'}", Item("endpoint", str(e), ns=who or None), True,
                    bool(who) and who in self.path)

        title = f"Services ({len(cluster.services)})"
        if self.big:  # filtered by name and address only: the endpoints of 10,000 Services are listed when opened
            shown = [s for s in cluster.services if self._keep(f"{s.key} {s.cluster_ip or ''}")]
            if shown or not self.filter_text:
                add(root, "group", title, "", Item("group", "services"), False,
                    fill=lambda node: self._chunked(node, "services", shown, lambda s: s.key, service, add))
            return
        group = add(root, "group", title, "", Item("group", "services"), False)
        for s in cluster.services:
            ip = "None (headless)" if s.headless else str(s.cluster_ip or "")
            eps = endpoints(s)
            if self._keep(f"{s.key} {ip} {' '.join(str(e) for e in eps)}"):
                service(group, s, eps)

    def _objects(self, root: TreeNode, topo: Topology, add) -> None:
        from .topology_tree import Item

        def obj(parent: TreeNode, o) -> None:
            text = f"{o.kind} {o.namespace + '/' if o.namespace else ''}{o.name}"
            replicas = (o.body.get("spec") or {}).get("replicas", 1) if o.kind in ("Deployment", "ReplicaSet", "StatefulSet") else None
            detail = f"{replicas} replica{'' if replicas == 1 else 's'}" if replicas is not None else ""
            if self._keep(text):
                add(parent, "object", text, detail, Item("object", o.key), True)

        if not self.big:
            group = add(root, "group", f"Kubernetes objects ({len(topo.objects)})", "", Item("group", "objects"), False)
            for o in topo.objects:
                obj(group, o)
            return
        by_kind: dict[str, list] = {}
        for o in topo.objects:  # a big cluster's objects by kind, each kind opened on its own
            if self._keep(f"{o.kind} {o.namespace + '/' if o.namespace else ''}{o.name}"):
                by_kind.setdefault(o.kind, []).append(o)

        def kinds(node: TreeNode) -> None:
            for kind, objs in by_kind.items():
                add(node, "group", f"{kind} ({len(objs)})", "", Item("group", f"objects:{kind}"), False,
                    fill=lambda n, kind=kind, objs=objs: self._chunked(n, f"objects:{kind}", objs, lambda o: f"{o.kind} {o.key}", obj, add))

        if by_kind or not self.filter_text:
            add(root, "group", f"Kubernetes objects ({len(topo.objects)})", "", Item("group", "objects"), False, fill=kinds)


def _described_members(topo: Topology) -> dict[str, list[tuple[str, str, str]]]:
    """Each network's members as the description has them: (host or namespace, device, addresses)."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for h in topo.hosts:
        for i in h.interfaces:
            if i.network:
                out.setdefault(i.network, []).append((h.name, i.name, _addr(i.addresses)))
        for n in h.namespaces:
            for i in n.interfaces:
                if getattr(i, "network", None):
                    out.setdefault(i.network, []).append((n.name, i.name, _addr(i.addresses)))
    return out


def _addr(addrs) -> str:
    return " ".join(str(a) for a in addrs)
