"""The DNS pane: every record the cluster's CoreDNS serves, in a table, with a filter.

Names are written as a zone file writes them under ``$ORIGIN <cluster domain>.``: relative to the cluster
domain when they lie in it (``web.default.svc``), absolute with their final dot otherwise (the reverse zones).
The line under the table prints the highlighted record in full, as dig would.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Static

from .inputs import TextInput


def relative(name: str, origin: str) -> str:
    """``name`` relative to ``origin`` (both absolute) as a zone file writes it: ``@`` for the origin itself."""
    low, org = name.lower(), origin.lower()
    if low == org:
        return "@"
    if low.endswith("." + org):
        return name[: -len(origin) - 1]
    return name


def relative_data(data: str, origin: str) -> str:
    """The names inside rdata (SRV, PTR, CNAME, NS and SOA targets) relative to ``origin``; addresses untouched."""
    return " ".join(relative(w, origin) if w.endswith(".") else w for w in data.split(" "))


def wrap(text: str, width: int) -> str:
    """``text`` broken into lines of at most ``width``: at spaces first, then a name too long for a line after
    one of its dots (names read better cut between labels), mid-label only where a label alone is wider."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        joined = f"{line} {word}" if line else word
        if len(joined) <= width:
            line = joined
            continue
        if line:
            lines.append(line)
        parts = [word] if len(word) <= width else _name_lines(word, width)
        lines += parts[:-1]
        line = parts[-1]
    return "\n".join(lines + [line])


def _name_lines(name: str, width: int) -> list[str]:
    lines, line = [], ""
    for label in re.findall(r"[^.]*\.|[^.]+", name):
        if line and len(line) + len(label) > width:
            lines.append(line)
            line = ""
        line += label
        while len(line) > width:
            lines.append(line[:width])
            line = line[width:]
    return lines + [line]


def matches(record, words: list[str]) -> bool:
    """Every word of the filter appears in the record's zone-file line (case-insensitive)."""
    line = record.text().lower()
    return all(w in line for w in words)


class DnsPane(Vertical):
    """The cluster zone's records (``show(net)``); ``/`` filters them while the pane has the focus."""

    HELP_TITLE = "In the DNS pane"
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/", tooltip="Filter the records: those whose line holds every word typed"),
        Binding("escape", "clear_filter", "Clear the records' filter", show=False),
    ]
    HELP_KEYS = [("↑/↓", "Move through the records; the line below prints the highlighted one in full"),
                 ("enter", "In the filter: back to the records, the filter kept")]

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.border_title = "DNS"
        self.records: list = []
        self.origin = ""
        self.filter_text = ""
        self.corefile = ""
        self._shown_widths: tuple[int, int] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="dns-head")  # the records' table comes with the first cluster (_ensure_table): no cost without one

    def _ensure_table(self) -> DataTable:
        found = self.query("#dns-records")
        if found:
            return found.first(DataTable)
        table = DataTable(id="dns-records", cursor_type="row", zebra_stripes=True)
        table.show_cursor = False
        self.mount(TextInput(placeholder="filter records: words of the name, type or data (esc clears)", id="dns-filter"),
                   table, Static(id="dns-full"))
        return table

    def _table(self) -> DataTable | None:
        found = self.query("#dns-records")
        return found.first(DataTable) if found else None

    def on_resize(self) -> None:
        if self.records and self._widths() != self._shown_widths:
            self._fill()

    def _widths(self) -> tuple[int, int]:
        """The Name and Data columns' widths: the pane's width shared, long cells wrapped rather than cut."""
        width = self.query_one("#dns-records", DataTable).size.width - 1  # the vertical scrollbar
        room = max(width - 4 * 2 - len("Type ") - len("28800"), 20)  # each cell has a space either side
        shown = self._shown()
        names = max((len(relative(r.name, self.origin)) for r in shown), default=4)
        datas = max((len(relative_data(r.data, self.origin)) for r in shown if r.type != "SOA"), default=4)
        name = min(names, max(room * 2 // 3, room - datas))  # the names first: they are what the pane is for
        return name, room - name

    def _shown(self) -> list:
        words = self.filter_text.lower().split()
        return [r for r in self.records if matches(r, words)]

    # -- the model ------------------------------------------------------------------
    def show(self, net) -> None:
        """Redraw from a compiled network (after loading and after every edit)."""
        head = self.query_one("#dns-head", Static)
        zone = None
        if net is not None and net.cluster is not None:  # without a cluster the DNS modules are not even imported
            from ...dns.zone import DnsConfigError

            try:
                zone = net.dns_zone()
            except DnsConfigError as e:
                self._error(head, e)
                return
        if zone is None:
            domain = net.topology.cluster.domain if net is not None else "cluster.local"
            self._empty("")
            head.update(Text.assemble(("No cluster DNS: this topology has no Kubernetes cluster.\n", "bold"), (
                f"Hosts here find each other by address. In a cluster, CoreDNS answers <service>.<namespace>.svc.{domain} "
                "(add a cluster: section, Nodes or Services to see its records).", "grey62")))
            return
        self._ensure_table()
        self.origin = zone.domain.rstrip(".") + "."
        svc = zone.sources.dns_service
        who = f"{svc.namespace}/{svc.name} " if svc is not None else ""
        head.update(Text.assemble(("$ORIGIN ", "grey62"), (self.origin, "bold"), ("  DNS Service ", "grey62"), (who, "bold"),
                                  (zone.dns_ip, "bold cyan")))
        self.corefile = zone.corefile.source
        self.records = zone.records()
        self.set_class(False, "-empty", "-error")
        self.set_class(True, "-zone")
        self._fill()

    def _error(self, head, e) -> None:
        """A Corefile CoreDNS refuses: the located error instead of records."""
        self._empty("error: CoreDNS would not start")
        self.set_class(True, "-error")
        head.update(Text.assemble(("CoreDNS refuses this Corefile, so the cluster has no DNS:\n", "bold red"), (str(e), "red"), "\n",
                                  ("Fix data.Corefile in ConfigMap kube-system/coredns, or delete the ConfigMap "
                                   "for kubeadm's default Corefile.", "grey62")))

    def _empty(self, subtitle: str) -> None:
        self.records = []
        self.set_class(True, "-empty")
        self.set_class(False, "-zone", "-error")
        table = self._table()
        if table is not None and (table.row_count or table.columns):
            table.clear(columns=True)
            self.query_one("#dns-full", Static).update("")
        self.border_subtitle = subtitle

    def _fill(self) -> None:
        table = self.query_one("#dns-records", DataTable)
        keep = None
        if table.row_count and table.cursor_row >= 0:
            keep = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        shown = self._shown()
        table.clear(columns=True)
        name, data = self._shown_widths = self._widths()
        for label, width in (("Name", name), ("Type", 5), ("TTL", 5), ("Data", data)):
            table.add_column(label, width=width, key=label.lower())
        for r in shown:
            table.add_row(Text(wrap(relative(r.name, self.origin), name)), r.type, str(r.ttl), Text(wrap(relative_data(r.data, self.origin), data)),
                          key=r.text().lower(), height=None)
        total = len(self.records)
        filtered = bool(self.filter_text.split())
        count = f"{len(shown)} of {total} records" if filtered else f"{total} record{'s' if total != 1 else ''}"
        self.border_subtitle = f"{count} · {self.corefile}"
        if keep is not None and keep in {r.text().lower() for r in shown}:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        self._show_full()

    def _show_full(self) -> None:
        table = self.query_one("#dns-records", DataTable)
        full = self.query_one("#dns-full", Static)
        if not table.row_count:
            full.update(Text("no record matches the filter" if self.records else "", style="grey62"))
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        record = next((r for r in self.records if r.text().lower() == key), None)
        full.update(Text(record.text() if record else "", style="bold"))

    # -- keys -----------------------------------------------------------------------
    def action_filter(self) -> None:
        if self._table() is None:
            return
        box = self.query_one("#dns-filter", Input)
        box.add_class("visible")
        box.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":  # otherwise esc goes on to the screen: back to the tree
            if self._table() is None:
                return False
            box = self.query_one("#dns-filter", Input)
            return bool(box.value or box.has_class("visible"))
        return True

    def action_clear_filter(self) -> None:
        box = self.query_one("#dns-filter", Input)
        box.value = ""
        box.remove_class("visible")
        self.filter_text = ""
        self._fill()
        self.query_one("#dns-records", DataTable).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "dns-filter":
            event.stop()
            self.filter_text = event.value
            self._fill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "dns-filter":
            event.stop()
            self.query_one("#dns-records", DataTable).focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_full()

    def on_descendant_focus(self, _event) -> None:
        self.call_later(self._sync_cursor)

    def on_descendant_blur(self, _event) -> None:
        self.call_later(self._sync_cursor)

    def _sync_cursor(self) -> None:
        """The row cursor shows while the pane has the focus, so that an idle pane highlights nothing."""
        for table in self.query("#dns-records"):
            table.show_cursor = self.has_focus_within
