"""`i` on a node: kube-proxy's rules there, as ``iptables-save`` prints them, tables and chains lit."""

from __future__ import annotations

import re
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

TARGET_STYLES = {
    "DNAT": "bold yellow", "SNAT": "bold yellow", "MASQUERADE": "bold yellow",
    "REJECT": "bold red", "DROP": "bold red", "ACCEPT": "green", "RETURN": "green", "MARK": "blue",
}
_COMMENT = re.compile(r'--comment ("[^"]*"|\S+)')
_JUMP = re.compile(r"(?:^| )-[jg] (\S+)")


def highlight(text: str) -> Text:
    """``iptables-save`` output with its tables, chains, targets and comments in colour; the text itself unchanged."""
    out = Text()
    for k, line in enumerate(text.splitlines()):
        if k:
            out.append("\n")
        t = Text(line)
        if line.startswith("*"):
            t.stylize("bold reverse")
        elif line == "COMMIT":
            t.stylize("grey50")
        elif line.startswith(":"):
            name = line[1:].split(" ", 1)[0]
            t.stylize("bold cyan", 1, 1 + len(name))
            t.stylize("grey50", 1 + len(name))
        elif line.startswith("-A ") or line.startswith("-I "):
            chain = line[3:].split(" ", 1)[0]
            t.stylize("grey50", 0, 2)
            t.stylize("bold cyan", 3, 3 + len(chain))
            for m in _COMMENT.finditer(line):
                t.stylize("green", m.start(1), m.end(1))
            for m in _JUMP.finditer(line):
                target = m.group(1)
                style = TARGET_STYLES.get(target, "bold magenta" if target.startswith("KUBE-") else "bold")
                t.stylize(style, m.start(1), m.end(1))
        out.append_text(t)
    return out


_ADDRESS = re.compile(r"\[?[0-9a-f:.]+\]?:\d+|\d+\.\d+\.\d+\.\d+(/\d+)?", re.I)


def highlight_listing(text: str) -> Text:
    """``ipvsadm -Ln`` (or Cilium's service list): commands dim, virtual servers bold cyan, real servers plain."""
    out = Text()
    for k, line in enumerate(text.rstrip("\n").splitlines()):
        if k:
            out.append("\n")
        t = Text(line)
        if line.startswith("$ "):
            t.stylize("grey50")
        elif line.startswith(("IP Virtual Server", "Prot ", "  -> RemoteAddress", "ID ")):
            t.stylize("bold")
        elif line.startswith(("TCP ", "UDP ", "SCTP ")):
            for m in _ADDRESS.finditer(line):
                t.stylize("bold cyan", m.start(), m.end())
        elif line.startswith("  -> "):
            t.stylize("green", 5, 5 + len(line[5:].split(" ", 1)[0]))
        else:
            for m in _ADDRESS.finditer(line):
                t.stylize("cyan", m.start(), m.end())
        out.append_text(t)
    return out


def views(cluster, node: str) -> dict[str, Callable[[], list[tuple[str, str]]]]:
    """The ways to show how ``node`` handles Services, by name, each giving (section id, text) pairs.

    ``iptables`` (and ``ip6tables`` for a dual-stack cluster) as ``iptables-save`` prints kube-proxy's
    tables; ``ipvs`` as ``ipvsadm -Ln`` lists IPVS mode's virtual servers; ``cilium``, for a cluster
    whose CNI replaces kube-proxy, Cilium's service list. The cluster's own mode comes first.
    """
    from ...k8s.ipvs import dummy_interface, ipvs_view, ipvsadm_ln
    from ...k8s.kubeproxy import iptables_save

    cfg = cluster.topology.cluster
    if cfg.cni == "cilium":
        from ...k8s.cilium import service_list

        return {"cilium": lambda: [("cilium", f"$ cilium-dbg service list\n{service_list(cluster, node)}")]}

    def ipvs() -> list[tuple[str, str]]:
        view = ipvs_view(cluster, node)
        return [("ipvs", f"$ ipvsadm -Ln\n{ipvsadm_ln(view)}\n$ ip -br addr show kube-ipvs0\n{dummy_interface(view)}")]

    out: dict[str, Callable[[], list[tuple[str, str]]]] = {
        "iptables": lambda: [(table, iptables_save(cluster, node, (table,))) for table in ("filter", "nat")]}
    if any(c.version == 6 for c in cfg.service_cidrs):
        out["ip6tables"] = lambda: [(f"{table}6", iptables_save(cluster, node, (table,), 6)) for table in ("filter", "nat")]
    out["ipvs"] = ipvs
    if cfg.kube_proxy_mode == "ipvs":
        out = {"ipvs": ipvs, **out}
    return out


TITLES = {"iptables": "iptables-save", "ip6tables": "ip6tables-save", "ipvs": "ipvsadm -Ln", "cilium": "cilium-dbg service list"}


class NodeRulesScreen(Screen[None]):
    """Scrollable; v switches between iptables and IPVS, n and f jump to the nat and filter tables, w wraps long rules."""

    BINDINGS = [
        Binding("escape,q,i", "close", "Back", key_display="esc"),
        Binding("v", "next_view", "iptables/IPVS", id="rules-view", tooltip="Switch between kube-proxy's iptables rules and its IPVS view"),
        Binding("n", "jump('nat')", "nat table"),
        Binding("f", "jump('filter')", "filter table"),
        Binding("w", "wrap", "Wrap lines"),
    ]

    def __init__(self, cluster, node: str) -> None:
        super().__init__()
        self.cluster, self.node = cluster, node
        self.views = views(cluster, node)
        self.view = next(iter(self.views))
        self.wrap = True

    def compose(self) -> ComposeResult:
        yield Header()
        with ScrollableContainer(id="rules", classes="pane") as pane:
            pane.border_title = f"kube-proxy on {self.node}"
        yield Footer()

    async def on_mount(self) -> None:
        self.query_one("#rules").focus()
        await self.show()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_view":
            return len(self.views) > 1
        if action in ("jump", "wrap"):
            return self.view.endswith("iptables")
        return True

    async def show(self) -> None:
        pane = self.query_one("#rules", ScrollableContainer)
        await pane.remove_children()  # gone before sections of the same ids come (w pressed twice in a row, before a frame)
        sections = self.views[self.view]()
        chains = sum(line.startswith(":") and not line.endswith("ACCEPT [0:0]") for _, text in sections for line in text.splitlines())
        rules = sum(line.startswith("-A ") for _, text in sections for line in text.splitlines())
        others = " · v: " + ", ".join(v for v in self.views if v != self.view) if len(self.views) > 1 else ""
        if self.view.endswith("iptables"):
            pane.border_subtitle = f"{TITLES[self.view]} · {rules} rules in {chains} kube-proxy chains{others}"
        else:
            servers = sum(bool(line) and line[0] not in " $IP" and not line.startswith("kube-ipvs0") for _, t in sections for line in t.splitlines())
            pane.border_subtitle = TITLES[self.view] + (f" · {servers} virtual servers" if self.view == "ipvs" else "") + others
        bodies = []
        for section, text in sections:
            listing = not self.view.endswith("iptables")
            body = highlight_listing(text) if listing else highlight(text)
            wrap = self.wrap and not listing  # a listing keeps its columns
            body.no_wrap = not wrap
            bodies.append(Static(body, id=f"rules-{section}", classes="rules-section" + ("" if wrap else " nowrap")))
        await pane.mount_all(bodies)
        self.sub_title = f"{self.node} · {self.view}"

    def action_jump(self, table: str) -> None:
        for w in self.query(f"#rules-{table}"):
            self.query_one("#rules").scroll_to_widget(w, top=True, animate=False)

    async def action_wrap(self) -> None:
        self.wrap = not self.wrap
        await self.show()

    async def action_next_view(self) -> None:
        names = list(self.views)
        self.view = names[(names.index(self.view) + 1) % len(names)]
        await self.show()
        self.refresh_bindings()

    def action_close(self) -> None:
        self.app.pop_screen()
