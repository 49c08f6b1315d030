"""The Routes pane: a namespace's routing table (ip route or route -n), its NAT rules, a lookup."""

from __future__ import annotations

import ipaddress

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from ...sim.network import NetNS
from ...sim.routing import route_n_rows
from .inputs import TextInput


class RoutesPane(VerticalScroll):
    """Shows the selected namespace's main table; the lookup field lights up the winning route."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.border_title = "Routes"
        self.ns: NetNS | None = None
        self.net = None
        self.fmt = "ip"
        self.lookup_text = ""
        self.info: tuple[str, str, Text] | None = None  # (title, subtitle, text) shown instead of a routing table
        self.extra: Text | None = None  # shown below the routing table, wrapped (a pod's NetworkPolicies)

    def compose(self) -> ComposeResult:
        yield Static(id="routes-body")
        yield Static(id="routes-extra")
        yield TextInput(placeholder="lookup: type an IP (l)", id="lookup")

    def show(self, net, ns: NetNS | None, extra: Text | None = None) -> None:
        self.net, self.ns, self.info, self.extra = net, ns, None, extra
        self.set_class(extra is not None, "-tall")  # more room for what is below the routes
        self.refresh_body()

    def show_info(self, net, title: str, subtitle: str, text: Text, tall: bool = False) -> None:
        """Something that has no routing table (an Ingress, an IngressClass, a NetworkPolicy), described instead;
        ``tall``: the pane takes more of the column."""
        self.net, self.ns, self.info, self.extra = net, None, (title, subtitle, text), None
        self.set_class(tall, "-tall")
        self.refresh_body()

    def toggle_format(self) -> str:
        self.fmt = "route" if self.fmt == "ip" else "ip"
        self.refresh_body()
        return self.fmt

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "lookup":
            event.stop()
            self.lookup_text = event.value.strip()
            self.refresh_body()

    def refresh_body(self) -> None:
        body = self.query_one("#routes-body", Static)
        extra = self.query_one("#routes-extra", Static)
        extra.set_class(self.extra is not None, "shown")
        extra.update(self.extra if self.extra is not None else "")
        ns = self.ns
        self.border_title = self.info[0] if self.info else "Routes"
        self.set_class(self.info is not None, "-info")  # no lookup, lines wrapped
        if self.info is not None:
            self.border_subtitle = self.info[1]
            body.update(self.info[2])
            return
        if ns is None:
            self.border_subtitle = ""
            body.update(Text("Select a host, container or namespace in the Topology tree to see its routing table.", style="grey62"))
            return
        self.border_subtitle = f"{ns.name} · {'ip route' if self.fmt == 'ip' else 'route -n'}"
        winner = None
        lookup_line: Text | None = None
        if self.lookup_text:
            try:
                ip = ipaddress.ip_address(self.lookup_text)
            except ValueError:
                lookup_line = Text(f"{self.lookup_text!r} is not an IP address", style="red")
            else:
                from ...sim.query import route_get, route_get_line

                res = route_get(self.net, ns, ip)
                winner = ns.tables.lookup(ip)
                style = "bold green" if res["route"] is not None and not res.get("error") else "bold red"
                lookup_line = Text.assemble(("ip route get ", "grey62"), (str(ip), "bold"), "\n  ", (route_get_line(res), style))
                if winner is not None and winner.table == "local":
                    lookup_line.append(f"\n  {winner.ip_route(with_table=True)}", style="grey62")
        out = Text()
        routes = ns.tables.main.routes()
        if self.fmt == "ip":
            for r in routes:
                style = "bold black on green" if r is winner else ("cyan" if r.proto == "kernel" else "")
                out.append(r.ip_route(), style=style)
                out.append("\n")
            if not routes:
                out.append("(no routes: the namespace has no addresses)\n", style="grey62")
        else:
            rows = route_n_rows(ns.tables.main)
            v4 = [r for r in routes if r.to.version == 4]
            for i, line in enumerate(rows):
                style = "bold" if i < 2 else ""
                if i >= 2 and v4[i - 2] is winner:
                    style = "bold black on green"
                out.append(line, style=style)
                out.append("\n")
        rules = ns.netfilter.rules()
        policies = {k: v for k, v in ns.netfilter.policies.items() if v != "ACCEPT"}
        if rules or policies:
            out.append("\niptables\n", style="bold")
            for (table, chain), target in policies.items():
                out.append(f"-t {table} -P {chain} {target}\n", style="yellow")
            for r in rules:
                style = "magenta" if r.target in ("MASQUERADE", "SNAT", "DNAT") else ""
                out.append(f"-t {r.table} {r.text}\n", style=style)
        if lookup_line is not None:
            out.append("\n")
            out.append_text(lookup_line)
        body.update(out)
