"""The Topology pane: networks, hosts and everything inside them, as a tree."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ...edit.netpol_matrix import has_policies
from ...model.topology import Host, Topology
from ...sim.network import Network


@dataclass(frozen=True)
class Item:
    """What a tree node stands for."""

    kind: str  # topology, group, network, host, interface, route, docker, bridge, container, namespace, object,
    # ingressclass, ingress, ingress-rule, ingress-tls, ingress-default (name: the Ingress's namespace/name),
    # netpol, netpol-ingress, netpol-egress (name: the NetworkPolicy's namespace/name; index: the rule's, None: "no rule")
    name: str
    host: str | None = None  # the host it belongs to
    index: int | None = None  # a route's position in its host's list
    ns: str | None = None  # the namespace whose routes it shows

    @property
    def namespace(self) -> str | None:
        if self.kind in ("host", "container", "namespace"):
            return self.name
        return self.ns or self.host


# kind -> (icon, style)
STYLES = {
    "topology": ("◎", "bold"),
    "group": ("", "bold $text-muted"),
    "network": ("≡", "bold cyan"),
    "host": ("■", "green"),
    "router": ("◆", "bold yellow"),
    "interface": ("•", "default"),
    "route": ("→", "dim"),
    "docker": ("╪", "blue"),
    "bridge": ("╪", "blue"),
    "container": ("▣", "magenta"),
    "namespace": ("◇", "bright_blue"),
    "pod": ("●", "bright_magenta"),
    "service": ("◈", "bold bright_cyan"),
    "endpoint": ("↳", "default"),
    "object": ("☸", "bright_cyan"),
    "ingressclass": ("⚑", "bold yellow"),
    "ingress": ("⊞", "bold bright_green"),
    "ingress-rule": ("↪", "default"),
    "ingress-tls": ("⊡", "yellow"),
    "ingress-default": ("↪", "grey62"),
    "netpol": ("▦", "bold bright_yellow"),
    "netpol-ingress": ("⇠", "default"),
    "netpol-egress": ("⇢", "default"),
    "netpol-none": ("⊘", "red"),
}


def _label(kind: str, text: str, detail: str = "", on_path: bool = False) -> Text:
    icon, style = STYLES.get(kind, ("", ""))
    style = style.replace("$text-muted", "grey50")
    t = Text()
    if icon:
        t.append(icon + " ", style=style)
    t.append(text, style=style if kind not in ("interface", "route", "ingress-rule", "netpol-ingress", "netpol-egress") else "")
    if detail:
        t.append(" " + detail, style="grey62")
    if on_path:  # the current trace passed here: marked first, so that narrow panes keep the mark
        t = Text("▶ ", style="bold yellow") + t
        t.stylize("bold")
    return t


def _addr(addrs) -> str:
    return " ".join(str(a) for a in addrs)


class TopologyTree(Tree[Item]):
    """Networks with their members, hosts with their devices, routes, bridges and containers."""

    BINDINGS = [("slash", "filter", "Filter")]

    class Selected(Message):
        """The cursor moved to an item."""

        def __init__(self, item: Item | None) -> None:
            self.item = item
            super().__init__()

    class FilterRequested(Message):
        pass

    def __init__(self, **kw) -> None:
        super().__init__("topology", **kw)
        self.show_root = True
        self.guide_depth = 3
        self.filter_text = ""
        self.path: set[str] = set()
        self._topology: Topology | None = None
        self._net: Network | None = None

    def action_filter(self) -> None:
        self.post_message(self.FilterRequested())

    def show(self, topology: Topology, net: Network, keep: Item | None = None) -> None:
        """Rebuild from a model, keeping the cursor on ``keep`` if it still exists."""
        self._topology, self._net = topology, net
        self._rebuild(keep)

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip().lower()
        self._rebuild(self.cursor_node.data if self.cursor_node else None)

    def set_path(self, path: set[str]) -> None:
        if path != self.path:
            self.path = path
            self._rebuild(self.cursor_node.data if self.cursor_node else None)

    # -- building ---------------------------------------------------------
    def _keep(self, text: str) -> bool:
        return not self.filter_text or self.filter_text in text.lower()

    def _rebuild(self, keep: Item | None) -> None:
        topo, net = self._topology, self._net
        if topo is None or net is None:
            return
        self.clear()
        root = self.root
        root.set_label(_label("topology", topo.name, topo.description))
        root.data = Item("topology", topo.name)
        want: TreeNode | None = None

        def add(parent: TreeNode, kind: str, text: str, detail: str, item: Item, leaf: bool, on_path: bool = False):
            nonlocal want
            label = _label(kind, text, detail, on_path)
            node = parent.add_leaf(label, item) if leaf else parent.add(label, item, expand=True)
            if keep is not None and (item == keep or (keep.kind == "namespace" and keep.host is None and item.kind == "namespace"
                                                      and item.name == keep.name)):
                want = node  # a pod to select wherever it was scheduled
            return node

        members: dict[str, list[tuple[str, str, str]]] = {}
        for ns in net.namespaces.values():
            for d in ns.devices.values():
                if d.segment is not None and not net.segments[d.segment].kind == "bridge":
                    members.setdefault(d.segment, []).append((ns.name, d.name, _addr(d.addresses)))
        if topo.networks:
            group = add(root, "group", f"Networks ({len(topo.networks)})", "", Item("group", "networks"), False)
            for n in topo.networks:
                kids = [m for m in members.get(n.name, []) if self._keep(" ".join(m) + " " + n.name)]
                if not kids and not self._keep(n.name):
                    continue
                node = add(group, "network", n.name, str(n.cidr or ""), Item("network", n.name), False, n.name in self.path)
                for host, dev, addr in kids:
                    add(node, "interface", f"{host} {dev}", addr, Item("interface", dev, host=host, ns=host), True, f"{host}/{dev}" in self.path)
            if not group.children and self.filter_text:
                group.remove()
        if topo.hosts:
            group = add(root, "group", f"Hosts ({len(topo.hosts)})", "", Item("group", "hosts"), False)
            for h in topo.hosts:
                self._host(group, h, add)
            if not group.children and self.filter_text:
                group.remove()
        cluster = net.cluster
        if cluster is not None and cluster.services:
            group = add(root, "group", f"Services ({len(cluster.services)})", "", Item("group", "services"), False)
            for s in cluster.services:
                ip = "None (headless)" if s.headless else str(s.cluster_ip or "")
                extra = f" external {s.load_balancer_ip}" if s.load_balancer_ip else ""
                ports = ", ".join(f"{p.port}{'/' + p.protocol if p.protocol != 'TCP' else ''}"
                                  + (f":{p.node_port}" if p.node_port else "") for p in s.ports)
                eps = [e for p in s.ports for e in cluster.endpoints_for(s, p)]
                if not self._keep(f"{s.key} {ip} {' '.join(str(e) for e in eps)}"):
                    continue
                node = add(group, "service", s.key, f"{s.type} {ip}{extra} {ports}".strip(), Item("service", s.key), not eps)
                for e in eps:
                    owner = next((q for q in cluster.pods if q.ip == e.ip), None)
                    who = f"{owner.namespace}/{owner.name}" if owner else (e.node or "")
                    add(node, "endpoint", str(e), f"{who}{'' if e.ready else ' (not ready)'}", Item("endpoint", str(e), ns=who or None), True,
                        bool(who) and who in self.path)
        if any(o.kind in ("Ingress", "IngressClass") for o in topo.objects):
            from .ingress_tree import add_ingresses

            add_ingresses(root, topo, add, self._keep, self.path, bool(self.filter_text))
        if cluster is not None and has_policies(topo):
            from .netpol_tree import add_policies

            add_policies(root, net, add, self._keep, self.path, bool(self.filter_text))
        if topo.objects:
            group = add(root, "group", f"Kubernetes objects ({len(topo.objects)})", "", Item("group", "objects"), False)
            for o in topo.objects:
                text = f"{o.kind} {o.namespace + '/' if o.namespace else ''}{o.name}"
                replicas = (o.body.get("spec") or {}).get("replicas", 1) if o.kind in ("Deployment", "ReplicaSet", "StatefulSet") else None
                detail = f"{replicas} replica{'' if replicas == 1 else 's'}" if replicas is not None else ""
                if self._keep(text):
                    add(group, "object", text, detail, Item("object", o.key), True)
        root.expand()
        if want is None and keep is None:
            want = next(self._nodes_of_kind(root, "host"), root)
        if want is not None:
            def go(node: TreeNode = want) -> None:
                self.move_cursor(node)
                # The cursor may land on the same line with another item under it (after a filter,
                # a rename): say so, so that the panes and the e/d keys follow what is shown.
                self.post_message(self.Selected(node.data))

            self.call_after_refresh(go)

    def _host(self, group: TreeNode, h: Host, add) -> None:
        net = self._net
        assert net is not None
        words = [h.name] + [i.name for i in h.interfaces] + [str(a) for i in h.interfaces for a in i.addresses]
        words += [c.name for c in h.containers] + [n.name for n in h.namespaces]
        if not self._keep(" ".join(words)):
            return
        kind = "router" if h.forwarding else "host"
        detail = "forwarding" if h.forwarding else ""
        node = add(group, kind, h.name, detail, Item("host", h.name), False, h.name in self.path)
        for i in h.interfaces:
            where = f"→ {i.network}" if i.network else "(unplugged)"
            add(node, "interface", i.name, f"{_addr(i.addresses)} {where}".strip(), Item("interface", i.name, host=h.name, ns=h.name), True,
                f"{h.name}/{i.name}" in self.path)
        for k, r in enumerate(h.routes):
            kr = next((x for x in net.namespaces[h.name].tables.main.routes() if x.origin is r), None)
            text = kr.ip_route() if kr is not None else str(r.to)
            add(node, "route", text, "", Item("route", text, host=h.name, index=k, ns=h.name), True)
        for b in h.bridges:
            bnode = add(node, "bridge", b.name, _addr(b.addresses), Item("bridge", b.name, host=h.name, ns=h.name), False)
            for n in h.namespaces:
                if any(i.bridge == b.name for i in n.interfaces):
                    addrs = " ".join(_addr(i.addresses) for i in n.interfaces)
                    icon = "pod" if n.kind == "pod" else "namespace"
                    add(bnode, icon, n.name, addrs, Item("namespace", n.name, host=h.name), True, n.name in self.path)
        on_bridges = {b.name for b in h.bridges}
        for n in h.namespaces:  # plugged by a veth of their own, no bridge (Calico's and Cilium's pods, a hand-made pair)
            if not any(i.bridge in on_bridges for i in n.interfaces):
                addrs = " ".join(_addr(i.addresses) for i in n.interfaces)
                add(node, "pod" if n.kind == "pod" else "namespace", n.name, addrs, Item("namespace", n.name, host=h.name), True, n.name in self.path)
        if h.docker is not None:
            dnode = add(node, "docker", h.docker.bridge, f"{h.docker.gateway} docker", Item("docker", h.docker.bridge, host=h.name, ns=h.name), False,
                        f"{h.name}/{h.docker.bridge}" in self.path)
            for c in h.containers:
                add(dnode, "container", c.name, str(c.address), Item("container", c.name, host=h.name), True, c.name in self.path)

    def _nodes_of_kind(self, node: TreeNode, kind: str):
        for child in node.children:
            if child.data is not None and child.data.kind == kind:
                yield child
            yield from self._nodes_of_kind(child, kind)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        event.stop()
        self.post_message(self.Selected(event.node.data))
