"""The DNS pane: every record the cluster's CoreDNS serves, in a table, with a filter.

Names are written as a zone file writes them under ``$ORIGIN <cluster domain>.``: relative to the cluster
domain when they lie in it (``web.default.svc``), absolute with their final dot otherwise (the reverse zones).
The line under the table prints the highlighted record in full, as dig would.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Static

from .inputs import TextInput
from .record_index import RecordIndex, relative, relative_data

if TYPE_CHECKING:
    from .record_table import RecordTable


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
    """The cluster zone's records (``show(net)``); ``/`` filters them while the pane has the focus.

    A zone of more than :attr:`VIRTUAL_ROWS` records goes to a :class:`RecordTable`, which draws only the rows on
    screen, and its filter searches a :class:`RecordIndex`; a big network's zone (see :mod:`tui.app.scale`) is
    built in a worker while the pane says so. Smaller zones are a DataTable, each record whole, names wrapped."""

    HELP_TITLE = "In the DNS pane"
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/", tooltip="Filter the records: those whose line holds every word typed"),
        Binding("escape", "clear_filter", "Clear the records' filter", show=False),
    ]
    HELP_KEYS = [("↑/↓", "Move through the records; the line below prints the highlighted one in full"),
                 ("enter", "In the filter: back to the records, the filter kept")]
    VIRTUAL_ROWS = 1000

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.border_title = "DNS"
        self.records: list = []
        self.origin = ""
        self.filter_text = ""
        self.corefile = ""
        self.index: RecordIndex | None = None  # a big zone's records, indexed (what the RecordTable shows)
        self.unlisted = 0
        self._net = None  # the network whose zone is shown, or being built
        self._shown_widths: tuple[int, int] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="dns-head")  # the records' table comes with the first cluster (_ensure_table): no cost without one

    def _ensure_table(self, virtual: bool = False) -> DataTable | RecordTable:
        found = self._table()
        if found is not None and _virtual(found) == virtual:
            return found
        if virtual:
            from .record_table import RecordTable  # (imported for a big zone only)

            table = RecordTable(id="dns-rows")
        else:
            table = DataTable(id="dns-records", cursor_type="row", zebra_stripes=True)
        table.show_cursor = False
        if virtual:
            table.on_highlight = lambda _record: self._show_full()
        if found is not None:  # a zone grown past VIRTUAL_ROWS (or shrunk under it) by an edit
            focused = found.has_focus
            found.remove()
            self.mount(table, before=self.query_one("#dns-full"))
            if focused:
                table.focus()
        else:
            box = TextInput(placeholder="filter records: words of the name, type or data (esc clears)", id="dns-filter")
            box.on_change = self._filter_typed
            self.mount(box, table, Static(id="dns-full"))
        return table

    def _table(self) -> DataTable | RecordTable | None:
        for table in self.query("#dns-records, #dns-rows"):
            if not table._pruning:
                return table
        return None

    def on_resize(self) -> None:
        self._refit()

    def _refit(self) -> None:
        if self.records and self._widths() != self._shown_widths:
            self._fill()

    def _widths(self) -> tuple[int, int]:
        """The Name and Data columns' widths: the pane's width shared, long cells wrapped rather than cut."""
        table = self._table()
        width = (table.size.width if table is not None else 0) - 1  # the vertical scrollbar
        room = max(width - 4 * 2 - len("Type ") - len("28800"), 20)  # each cell has a space either side
        if self.index is not None:  # every record's widths, measured once: the columns stay put while filtering
            names, datas = self.index.name_width, self.index.data_width
        else:
            shown = self._shown()
            names = max((len(relative(r.name, self.origin)) for r in shown), default=4)
            datas = max((len(relative_data(r.data, self.origin)) for r in shown if r.type != "SOA"), default=4)
        name = min(names, max(room * 2 // 3, room - datas))  # the names first: they are what the pane is for
        return name, room - name

    def _shown(self) -> list:
        words = self.filter_text.lower().split()
        return [r for r in self.records if matches(r, words)]

    # -- the model ------------------------------------------------------------------
    def show(self, net, in_worker: bool = False) -> None:
        """Redraw from a compiled network (after loading and after every edit); ``in_worker``: build its zone in a
        worker, the pane saying so meanwhile (a big cluster's zone takes a second)."""
        head = self.query_one("#dns-head", Static)
        self._net = net
        zone = None
        if net is not None and net.cluster is not None:  # without a cluster the DNS modules are not even imported
            from ...dns.zone import DnsConfigError

            prepared = _prepared(net)
            if prepared is None and in_worker:
                self.set_class(False, "-empty", "-error")
                self.set_class(True, "-zone")
                self.border_subtitle = "building the zone…"
                head.update(Text("Building the cluster's DNS zone…", style="grey62"))
                self._build_zone(net)
                return
            try:
                zone, index = prepared if prepared is not None else (net.dns_zone(), None)
            except DnsConfigError as e:
                self._error(head, e)
                return
            self._show_zone(zone, index)
            return
        domain = net.topology.cluster.domain if net is not None else "cluster.local"
        self._empty("")
        head.update(Text.assemble(("No cluster DNS: this topology has no Kubernetes cluster.\n", "bold"), (
            f"Hosts here find each other by address. In a cluster, CoreDNS answers <service>.<namespace>.svc.{domain} "
            "(add a cluster: section, Nodes or Services to see its records).", "grey62")))

    def _build_zone(self, net) -> None:
        from textual.worker import get_current_worker

        def build() -> None:
            from ...dns.zone import DnsConfigError
            from ...sim.gcpause import paused_gc

            try:
                with paused_gc():  # (a collection over what it makes would hold the GIL, and the keys; frozen in _built)
                    result = prepare(net)
            except DnsConfigError as e:
                result = e
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._built, net, result)

        self.run_worker(build, thread=True, exclusive=True, group="dns-zone", name="dns-zone")

    def _built(self, net, result) -> None:
        import gc

        gc.freeze()  # the zone lives as long as the network: no collection walks it again
        if net is not self._net or not self.is_attached:
            return  # an edit made another network meanwhile (its own worker shows it), or the app is closing
        if isinstance(result, Exception):
            self._error(self.query_one("#dns-head", Static), result)
        else:
            self._show_zone(*result)

    def _show_zone(self, zone, index: RecordIndex | None) -> None:
        head = self.query_one("#dns-head", Static)
        self.origin = zone.domain.rstrip(".") + "."
        svc = zone.sources.dns_service
        who = f"{svc.namespace}/{svc.name} " if svc is not None else ""
        head.update(Text.assemble(("$ORIGIN ", "grey62"), (self.origin, "bold"), ("  DNS Service ", "grey62"), (who, "bold"),
                                  (zone.dns_ip, "bold cyan")))
        self.corefile = zone.corefile.source
        self.records = index.records if index is not None else zone.records()
        self.unlisted = getattr(zone, "unlisted", 0)  # a big cluster's pods, whose records are answered but not listed
        virtual = len(self.records) > self.VIRTUAL_ROWS
        self.index = (index or RecordIndex(self.records, self.origin)) if virtual else None
        self._ensure_table(virtual)
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
        self.index = None
        self.set_class(True, "-empty")
        self.set_class(False, "-zone", "-error")
        table = self._table()
        if _virtual(table):
            table.show(RecordIndex([], self.origin), [], (4, 4))
            self.query_one("#dns-full", Static).update("")
        elif table is not None and (table.row_count or table.columns):
            table.clear(columns=True)
            self.query_one("#dns-full", Static).update("")
        self.border_subtitle = subtitle

    def _fill(self) -> None:
        table = self._table()
        if table is None:  # not mounted (the app is closing)
            return
        if not table.size.width:  # just mounted: the columns are sized again once it has its width
            self.call_after_refresh(self._refit)
        if _virtual(table):
            self._fill_virtual(table)
            return
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
        self._subtitle(len(shown))
        if keep is not None and keep in {r.text().lower() for r in shown}:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        self._show_full()

    def _fill_virtual(self, table: RecordTable) -> None:
        keep = table.record if table.index is self.index else None
        shown = self.index.filter(self.filter_text)
        self._shown_widths = self._widths()
        table.show(self.index, shown, self._shown_widths, keep)
        self._subtitle(len(shown))
        self._show_full()

    def _subtitle(self, shown: int) -> None:
        total = len(self.records)
        filtered = bool(self.filter_text.split())
        count = f"{shown} of {total} records" if filtered else f"{total} record{'s' if total != 1 else ''}"
        unlisted = f" · {self.unlisted} pods' records not listed (r resolves them)" if self.unlisted else ""
        self.border_subtitle = f"{count} · {self.corefile}{unlisted}"

    def _show_full(self) -> None:
        table = self._table()
        full = self.query_one("#dns-full", Static)
        if not table.row_count:
            full.update(Text("no record matches the filter" if self.records else "", style="grey62"))
            return
        if _virtual(table):  # one line, its size fixed: no layout (which would repaint the whole screen)
            record = self.records[table.record] if table.record is not None else None
            full.update(Text(record.text() if record else "", style="bold"), layout=False)
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
        self._table().focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "dns-filter":
            event.stop()
            self._filter_typed(event.value)

    def _filter_typed(self, value: str) -> None:
        """The filter's text changed: the records follow (called by the box itself, so in the same frame)."""
        if value != self.filter_text:
            self.filter_text = value
            self._fill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "dns-filter":
            event.stop()
            self._table().focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_full()

    def on_record_table_row_highlighted(self, event) -> None:
        event.stop()  # shown already (RecordTable.on_highlight)

    def on_descendant_focus(self, _event) -> None:
        self.call_later(self._sync_cursor)

    def on_descendant_blur(self, _event) -> None:
        self.call_later(self._sync_cursor)

    def _sync_cursor(self) -> None:
        """The row cursor shows while the pane has the focus, so that an idle pane highlights nothing."""
        for table in self.query("#dns-records, #dns-rows"):
            table.show_cursor = self.has_focus_within


def prepare(net) -> tuple:
    """``net``'s zone and, for a big one, its records indexed: what :meth:`DnsPane.show` shows, made once per
    network (in a worker for a big cluster). Raises DnsConfigError for a Corefile CoreDNS refuses."""
    from ..scale import facts_of

    facts = facts_of(net)
    if facts.dns is None:
        zone = net.dns_zone()
        records = zone.records()
        index = RecordIndex(records, zone.domain.rstrip(".") + ".") if len(records) > DnsPane.VIRTUAL_ROWS else None
        facts.dns = (zone, index)
    return facts.dns


def _prepared(net):
    from ..scale import facts_of

    return facts_of(net).dns


def _virtual(table) -> bool:
    """Whether ``table`` is the RecordTable (a big zone's), not the DataTable."""
    return table is not None and table.id == "dns-rows"
