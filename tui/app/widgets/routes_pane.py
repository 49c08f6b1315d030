"""The Routes pane: a namespace's routing table (ip route or route -n), its NAT rules, a lookup."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from ..scale import facts_of
from .inputs import TextInput

if TYPE_CHECKING:
    from ...sim.network import NetNS


class RoutesPane(VerticalScroll):
    """Shows the selected namespace's main table; the lookup field lights up the winning route.

    On a big network (see :mod:`tui.app.scale`) a node's table and rules (thousands of routes, hundreds of
    thousands of rules) go to a :class:`LinesView`, which makes and draws only the lines on screen; the pane's
    scrolling keys scroll it."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.border_title = "Routes"
        self.ns: NetNS | None = None
        self.net = None
        self.fmt = "ip"
        self.lookup_text = ""
        self.info: tuple[str, str, Text] | None = None  # (title, subtitle, text) shown instead of a routing table
        self.extra: Text | None = None  # shown below the routing table, wrapped (a pod's NetworkPolicies)
        self._lines_key: tuple | None = None  # what the LinesView shows (to keep its scroll when it is redrawn)
        self.pending: str | None = None  # a namespace whose node is being compiled (shown instead of a table)
        self._pending_shown = False  # the body holds a pending line: the next one replaces it without a layout
        self._extra_shown: object = ()  # what #routes-extra holds

    def compose(self) -> ComposeResult:
        yield Static(id="routes-body")  # (and, on a big network, a LinesView after it: _view)
        yield Static(id="routes-extra")
        yield TextInput(placeholder="lookup: type an IP (l)", id="lookup")

    def show(self, net, ns: NetNS | None, extra: Text | None = None) -> None:
        self.net, self.ns, self.info, self.extra, self.pending = net, ns, None, extra, None
        self.set_class(extra is not None, "-tall")  # more room for what is below the routes
        self.refresh_body()

    def show_info(self, net, title: str, subtitle: str, text: Text, tall: bool = False) -> None:
        """Something that has no routing table (an Ingress, an IngressClass, a NetworkPolicy), described instead;
        ``tall``: the pane takes more of the column."""
        self.net, self.ns, self.info, self.extra, self.pending = net, None, (title, subtitle, text), None, None
        self.set_class(tall, "-tall")
        self.refresh_body()

    def show_pending(self, name: str) -> None:
        """``name``'s node is not compiled yet (a big cluster's): say so until it is (the pane as for a table)."""
        self.ns, self.info, self.extra, self.pending = None, None, None, name
        self.set_class(False, "-tall")
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
        if self.extra is not self._extra_shown:  # (an update lays the screen out again: not for the same nothing)
            extra.update(self.extra if self.extra is not None else "")
            self._extra_shown = self.extra
        ns = self.ns
        pending_shown, self._pending_shown = self._pending_shown, False
        self.border_title = self.info[0] if self.info else "Routes"
        self.set_class(self.info is not None, "-info")  # no lookup, lines wrapped
        # a big network's tables, and what stands for them meanwhile, go to the LinesView: no switch between the two
        # (a restyle and a layout, which repaint the whole screen) while the cursor runs through the tree
        lines = self.info is None and self.net is not None and facts_of(self.net).big
        self.set_class(lines, "-lines")
        if self.info is not None:
            self.border_subtitle = self.info[1]
            body.update(self.info[2])
            return
        if ns is None and self.pending is not None:
            self.border_subtitle = f"{self.pending} · compiling its node…"
            text = Text(f"Compiling the node of {self.pending}: its routes, its pods and kube-proxy's rules…", style="grey62")
            if lines:
                self._show_text(text, ("pending",))
                return
            body.update(text, layout=not pending_shown)  # one line for another: the same size, no layout
            self._pending_shown = True
            return
        if ns is None:
            self.border_subtitle = ""
            text = Text("Select a host, container or namespace in the Topology tree to see its routing table.", style="grey62")
            if lines:
                self._show_text(text, ("none",))
                return
            body.update(text)
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
        if lines:
            self._show_lines(ns, winner, lookup_line)
            return
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
            from ...sim.routing import route_n_rows

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

    def _view(self):
        """The LinesView, mounted the first time a big network's table is shown."""
        found = self.query("#routes-lines")
        if found:
            return found.first()
        from .lines_view import LinesView

        view = LinesView(id="routes-lines")
        self.mount(view, after=self.query_one("#routes-body"))
        return view

    def _show_text(self, text: Text, key: tuple) -> None:
        from .lines_view import Lines

        lines = Lines()
        lines.add_text(text)
        self._view().show(lines)
        self._lines_key = key

    def _show_lines(self, ns: NetNS, winner, lookup_line: Text | None) -> None:
        """The same text as :meth:`refresh_body` writes, as :class:`Lines` made when shown."""
        from .lines_view import Lines

        key = (id(ns), self.fmt, self.lookup_text, id(winner))
        if key == self._lines_key:
            return  # another item of the same namespace (a node's device, its bridge): the same lines
        lines = Lines()
        routes = ns.tables.main.routes()
        if self.fmt == "ip":
            def route(i: int) -> Text:
                r = routes[i]
                return Text(r.ip_route(), style="bold black on green" if r is winner else ("cyan" if r.proto == "kernel" else ""))

            lines.add(len(routes), route)
            if not routes:
                lines.add_text(Text("(no routes: the namespace has no addresses)", style="grey62"))
        else:
            from ...sim.routing import route_n_rows

            rows = route_n_rows(ns.tables.main)
            v4 = [r for r in routes if r.to.version == 4]
            lines.add(len(rows), lambda i: Text(rows[i], style="bold" if i < 2 else ("bold black on green" if v4[i - 2] is winner else "")))
        chains = [rs for rs in ns.netfilter.chains.values() if rs]
        policies = {k: v for k, v in ns.netfilter.policies.items() if v != "ACCEPT"}
        if chains or policies:
            lines.add_text(Text.assemble("\n", ("iptables", "bold")))
            for (table, chain), target in policies.items():
                lines.add_text(Text(f"-t {table} -P {chain} {target}", style="yellow"))
            lines.add_joined(chains, lambda r: Text(f"-t {r.table} {r.text}", style="magenta" if r.target in ("MASQUERADE", "SNAT", "DNAT") else ""))
        if lookup_line is not None:
            lines.add_text(Text("\n") + lookup_line)
        self._view().show(lines, keep_scroll=key[:2] == (self._lines_key or ())[:2])
        self._lines_key = key

    # -- the pane's scrolling keys scroll the lines when they are shown ----------------------------------
    def _scroll(self, how: str) -> bool:
        if not self.has_class("-lines"):
            return False
        getattr(self._view(), how)(animate=False)
        return True

    def action_scroll_up(self) -> None:
        if not self._scroll("scroll_up"):
            super().action_scroll_up()

    def action_scroll_down(self) -> None:
        if not self._scroll("scroll_down"):
            super().action_scroll_down()

    def action_page_up(self) -> None:
        if not self._scroll("scroll_page_up"):
            super().action_page_up()

    def action_page_down(self) -> None:
        if not self._scroll("scroll_page_down"):
            super().action_page_down()

    def action_scroll_home(self) -> None:
        if not self._scroll("scroll_home"):
            super().action_scroll_home()

    def action_scroll_end(self) -> None:
        if not self._scroll("scroll_end"):
            super().action_scroll_end()

