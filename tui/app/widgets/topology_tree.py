"""The Topology pane: networks, hosts and everything inside them, as a tree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from ..scale import CHUNK, facts_of
from .tree_groups import TreeGroups

if TYPE_CHECKING:
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


class TopologyTree(TreeGroups, Tree[Item]):
    """Networks with their members, hosts with their devices, routes, bridges and containers.

    A big network (see :mod:`tui.app.scale`) is drawn lazily: a host's devices and pods are added when it is
    opened (its pods as the cluster has them: nothing compiled), its routes when their group is opened (the node
    compiled then, in a worker: ``compile_host``), long lists come in chunks opened one at a time, and what was
    open stays open when the tree is rebuilt (a filter, an edit, a trace's path)."""

    BINDINGS = [("slash", "filter", "Filter")]
    on_select = None  # set by the screen: told of each cursor move at once, instead of by a Selected message
    compile_host = None  # set by the screen: (host, then) -> whether compiled; if not, a worker compiles it, then then()
    _told: Item | None = None

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
        self.big = False
        self._topology: Topology | None = None
        self._net: Network | None = None
        self._fill: dict = {}  # node -> the function adding that node's children when it is first opened
        self._opened: set[Item] | None = None  # a big tree's open items at its last rebuild (None: not built yet)
        self._words: dict[str, str] = {}  # a big tree's filter words of each host, made once per network
        self._waiting: dict = {}  # node -> its fill, for the nodes whose compile a worker is doing

    def action_filter(self) -> None:
        self.post_message(self.FilterRequested())

    def notify_style_update(self) -> None:
        """As :class:`Tree`'s, but a repaint: its lines' colours change (the focus, the theme), not their number or
        width, so no layout of the whole screen (a rule that changes the tree's size lays it out by itself)."""
        super(Tree, self).notify_style_update()  # what is above Tree's
        self._clear_line_cache()
        self._updates += 1
        self.root._reset()
        self.refresh()

    def show(self, topology: Topology, net: Network, keep: Item | None = None) -> None:
        """Rebuild from a model, keeping the cursor on ``keep`` if it still exists."""
        if net is not self._net:
            self._words = {}
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

    def _open_items(self) -> set[Item]:
        out: set[Item] = set()
        stack = [self.root]
        while stack:
            node = stack.pop()
            if node.is_expanded:
                if node.data is not None:
                    out.add(node.data)
                stack.extend(node.children)
        return out

    def _open(self, node: TreeNode) -> None:
        fill = self._fill.pop(node, None)
        if fill is not None:
            fill(node)
        node.expand()

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        fill = self._fill.pop(event.node, None)
        if fill is not None:
            fill(event.node)

    def _rebuild(self, keep: Item | None) -> None:
        topo, net = self._topology, self._net
        if topo is None or net is None:
            return
        facts = facts_of(net)
        self.big = big = facts.big
        first = self._opened is None
        opened = self._opened = (self._open_items() if not first else set()) if big else None
        self.clear()
        self._fill.clear()
        self._waiting.clear()
        root = self.root
        root.set_label(_label("topology", topo.name, topo.description))
        root.data = Item("topology", topo.name)
        want: TreeNode | None = None

        def add(parent: TreeNode, kind: str, text: str, detail: str, item: Item, leaf: bool, on_path: bool = False, fill=None,
                open_: bool = False):
            """A node; with ``fill``, one whose children ``fill(node)`` adds when it is first opened."""
            nonlocal want
            label = _label(kind, text, detail, on_path)
            if fill is not None:
                node = parent.add(label, item, expand=False, allow_expand=True)
                self._fill[node] = fill
                if open_ or (opened and item in opened):
                    self._open(node)
            else:
                node = parent.add_leaf(label, item) if leaf else parent.add(label, item, expand=True)
            if keep is not None and (item == keep or (keep.kind == "namespace" and keep.host is None and item.kind == "namespace"
                                                      and item.name == keep.name)):
                want = node  # a pod to select wherever it was scheduled
            return node

        if topo.networks:
            self._networks(root, topo, net, add)
        if topo.hosts:
            group = add(root, "group", f"Hosts ({len(topo.hosts)})", "", Item("group", "hosts"), False)
            if big:
                hosts = [h for h in topo.hosts if self._keep(self._host_words(h, facts))]
                near = {keep.name if keep.kind == "host" else keep.host} if keep is not None else set()
                self._chunked(group, "hosts", hosts, lambda h: h.name, lambda parent, h: self._lazy_host(parent, h, add), add,
                              lambda h: h.name in near, first)
            else:
                for h in topo.hosts:
                    self._host(group, net.host(h.name) or h, add)
            if not group.children and self.filter_text:
                group.remove()
        cluster = net.cluster
        if cluster is not None and cluster.services:
            self._services(root, cluster, facts, add)
        if facts.has_ingress_objects:
            from .ingress_tree import add_ingresses

            add_ingresses(root, topo, add, self._keep, self.path, bool(self.filter_text))
        if facts.has_policies:
            from .netpol_tree import add_policies

            add_policies(root, net, add, self._keep, self.path, bool(self.filter_text))
        if topo.objects:
            self._objects(root, topo, add)
        root.expand()
        if want is None and keep is None:
            want = next(self._nodes_of_kind(root, "host"), root)
        if want is not None:
            def go(node: TreeNode = want) -> None:
                self.move_cursor(node)
                # The cursor may land on the same line with another item under it (after a filter,
                # a rename): say so, so that the panes and the e/d keys follow what is shown.
                self._tell()

            self.call_after_refresh(go)
        elif keep is not None:
            # The item to keep is gone (deleted, renamed, undone, filtered out): the cursor stays on its line, over
            # another item (or none). Say which, so that the panes and the e/d keys do not act on the one gone.
            self.call_after_refresh(self._tell)

    def _tell(self) -> None:
        """Tell the screen the item under the cursor now: at once (``on_select``) when it listens so, as a message
        would reach it after the keys already queued (held down) have moved the cursor on."""
        item = self.cursor_node.data if self.cursor_node is not None else None
        if self.on_select is not None:
            self._told = item
            self.on_select(item)
        else:
            self.post_message(self.Selected(item))

    def _host_words(self, h: Host, facts) -> str:
        """What a host matches in a big tree's filter: its name, devices and addresses, its containers and pods."""
        words = self._words.get(h.name)
        if words is None:
            parts = [h.name] + [i.name for i in h.interfaces] + [str(a) for i in h.interfaces for a in i.addresses]
            parts += [c.name for c in h.containers] + [n.name for n in h.namespaces]
            parts += [f"{p.namespace}/{p.name} {p.ip or ''}" for p in facts.pods_on(h.name)]
            words = self._words[h.name] = " ".join(parts).lower()
        return words

    def _lazy_host(self, group: TreeNode, h: Host, add) -> None:
        net = self._net
        assert net is not None

        def fill(node: TreeNode) -> None:
            if is_compiled(net, h.name):
                self._host_children(node, net.host(h.name) or h, add)  # its pods' namespaces, routes and rules
            else:  # at once, without compiling it: what it is described with, its pods as the cluster has them
                self._quick_children(node, h, add)

        kind = "router" if h.forwarding else "host"
        add(group, kind, h.name, "forwarding" if h.forwarding else "", Item("host", h.name), False, h.name in self.path, fill=fill)

    def _compiled(self, node: TreeNode) -> None:
        """A node is compiled: its children replace "compiling…" (or wait until it is opened again)."""
        fill = self._waiting.pop(node, None)
        if fill is None:
            return  # rebuilt meanwhile
        if node.is_expanded:
            fill(node)
        else:
            self._fill[node] = fill

    def _host(self, group: TreeNode, h: Host, add) -> None:
        words = [h.name] + [i.name for i in h.interfaces] + [str(a) for i in h.interfaces for a in i.addresses]
        words += [c.name for c in h.containers] + [n.name for n in h.namespaces]
        if not self._keep(" ".join(words)):
            return
        kind = "router" if h.forwarding else "host"
        detail = "forwarding" if h.forwarding else ""
        node = add(group, kind, h.name, detail, Item("host", h.name), False, h.name in self.path)
        self._host_children(node, h, add)

    def _host_children(self, node: TreeNode, h: Host, add) -> None:
        self._interfaces(node, h, add)
        routes = list(enumerate(h.routes))
        if self.big and len(routes) > CHUNK // 10:  # a node's route to every other node: together, opened on demand
            add(node, "group", f"Routes ({len(routes)})", "", Item("group", "routes", host=h.name, ns=h.name), False,
                fill=lambda parent: self._routes(parent, h, add))
        else:
            self._routes(node, h, add)
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
        self._docker(node, h, add)

    def _quick_children(self, node: TreeNode, h: Host, add) -> None:
        """A big cluster's node not compiled yet, at once (a node of a cluster with thousands of Services takes
        seconds to compile): its devices as described, its pods as the cluster schedules them (their addresses
        on cni0's subnet, else /32), and its routes in a group that compiles it, in a worker, when opened."""
        net = self._net
        assert net is not None
        self._interfaces(node, h, add)

        def routes(parent: TreeNode) -> None:
            parent.remove_children()  # "compiling…", while a worker compiled the node
            hook = self.compile_host
            if hook is not None and not hook(h.name, lambda: self._compiled(parent)):
                parent.add_leaf(Text("compiling…", style="grey62"))  # the routes once the worker is done
                self._waiting[parent] = routes
                return
            self._routes(parent, net.host(h.name) or h, add)

        add(node, "group", "Routes", "", Item("group", "routes", host=h.name, ns=h.name), False, fill=routes)
        pods = [p for p in facts_of(net).pods_on(h.name) if not p.host_network and p.ip is not None]
        bridge = next((b for b in h.bridges if b.name == "cni0"), None)
        for b in h.bridges:
            bnode = add(node, "bridge", b.name, _addr(b.addresses), Item("bridge", b.name, host=h.name, ns=h.name), False)
            for p in pods if b is bridge else ():
                name = f"{p.namespace}/{p.name}"
                add(bnode, "pod", name, _pod_addr(p, b.addresses), Item("namespace", name, host=h.name), True, name in self.path)
        for p in pods if bridge is None else ():  # routed pods (Calico, Cilium): a /32 on a veth of their own
            name = f"{p.namespace}/{p.name}"
            add(node, "pod", name, _pod_addr(p, ()), Item("namespace", name, host=h.name), True, name in self.path)
        self._docker(node, h, add)

    def _interfaces(self, node: TreeNode, h: Host, add) -> None:
        for i in h.interfaces:
            where = f"→ {i.network}" if i.network else "(unplugged)"
            add(node, "interface", i.name, f"{_addr(i.addresses)} {where}".strip(), Item("interface", i.name, host=h.name, ns=h.name), True,
                f"{h.name}/{i.name}" in self.path)

    def _routes(self, parent: TreeNode, h: Host, add) -> None:
        """A host's own routes, as the kernel writes them (chunked on a big network)."""
        net = self._net
        assert net is not None
        kernel: dict[int, object] = {}  # a described route -> the kernel's (the first made from it)
        for x in net.namespaces[h.name].tables.main.routes():
            kernel.setdefault(id(x.origin), x)

        def route(at: TreeNode, kr_: tuple) -> None:
            k, r = kr_
            kr = kernel.get(id(r))
            text = kr.ip_route() if kr is not None else str(r.to)
            add(at, "route", text, "", Item("route", text, host=h.name, index=k, ns=h.name), True)

        routes = list(enumerate(h.routes))
        if self.big:
            self._chunked(parent, f"routes:{h.name}", routes, lambda e: str(e[1].to), route, add, host=h.name)
        else:
            for e in routes:
                route(parent, e)

    def _docker(self, node: TreeNode, h: Host, add) -> None:
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

    def watch_cursor_line(self, previous_line: int, line: int) -> None:
        """The cursor moved: the screen is told in the same call (``on_select``), so that the panes it updates
        are painted in the same frame as the cursor (a message would reach it a frame later: twice the work)."""
        super().watch_cursor_line(previous_line, line)
        node = self.cursor_node
        if self.on_select is not None and node is not None and previous_line != line:
            self._told = node.data
            self.on_select(node.data)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        event.stop()
        if self.on_select is None:
            self.post_message(self.Selected(event.node.data))
        elif event.node is self.cursor_node and event.node.data is not self._told:
            self._tell()  # (else told already, by watch_cursor_line; or the cursor has moved on since: keys held down)


def is_compiled(net: Network, name: str) -> bool:
    built = getattr(net.namespaces, "built", None)
    return built is None or name in built()


def _pod_addr(pod, bridge_addresses) -> str:
    """A pod's addresses as its eth0 holds them: with the prefix of the cni0 subnet they are in, else /32 (/128)."""
    out = []
    for ip in (pod.ip, getattr(pod, "ip6", None)):
        if ip is not None:
            net = next((a.network for a in bridge_addresses if a.version == ip.version and ip in a.network), None)
            out.append(f"{ip}/{net.prefixlen if net is not None else ip.max_prefixlen}")
    return " ".join(out)
