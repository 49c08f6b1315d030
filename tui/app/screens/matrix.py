"""`p`: the NetworkPolicy reachability matrix, every pod by every pod for one port and protocol.

Rows are sources, columns destinations (numbered as the rows: the row labels are the legend); ``.`` a connection
the policies allow, ``X`` one they refuse, and the cells an edit (undo, redo) flipped highlighted, counted above.
The cursor's cell is explained below: each direction's decision, the policies and rules behind it. ``a`` adds a
policy or a rule for the pair, ``t`` traces it, ctrl+z and ctrl+y undo and redo: the table follows every change.
The main screen owns the state (:class:`PolicyMatrixMixin`) and calls :meth:`MatrixScreen.show`.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from ...edit.netpol_matrix import Change, mentioned_ports, parse_port_protocol
from ..widgets.inputs import TextInput

LABEL_WIDTH = 40
STYLES = {True: "bold green", False: "bold red"}
FLIPPED = "bold black on #ffb000"


def short(name: str, width: int = LABEL_WIDTH - 4) -> str:
    """A long pod name cut in the middle (its namespace and the end of its name kept)."""
    return name if len(name) <= width else name[: width // 2 - 1] + "…" + name[-(width - width // 2):]


class MatrixScreen(Screen[None]):
    """Who may connect to whom, as the cluster's NetworkPolicies decide."""

    BINDINGS = [
        Binding("escape", "close", "Back", key_display="esc"),
        Binding("p", "port", "Port", id="matrix-port", tooltip="Change the port and protocol the matrix is for: 80, 8080/TCP, 53/UDP"),
        Binding("t", "trace", "Trace this pair", id="matrix-trace",
                tooltip="Trace the selected connection hop by hop on the dashboard: where a policy drops it, which rule lets it through"),
        Binding("a", "add", "Add policy or rule", id="matrix-add",
                tooltip="Add a NetworkPolicy, a default deny, or a rule on a policy that isolates the selected pair"),
        Binding("ctrl+z", "undo", "Undo", id="matrix-undo"),
        Binding("ctrl+y", "redo", "Redo", id="matrix-redo", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="matrix-screen")
        self.change: Change | None = None
        self.ix = None
        self.label = ""
        self.pods: tuple[str, ...] = ()

    @property
    def main(self):
        return self.app.main

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="matrix-bar"):
            yield Label("Port ", id="matrix-port-label")
            yield TextInput(placeholder="80/TCP", id="matrix-port")
            yield Static(id="matrix-counts")
        yield Static(id="matrix-summary")
        # the cursor's background wins (a flipped cell under it still shows the cursor), each cell keeps its colour
        # the sources' names are a fixed first column (the legend of the numbered columns), the numbers a fixed first row
        table = DataTable(id="matrix", cursor_type="cell", cell_padding=0, classes="pane", cursor_foreground_priority="renderable",
                          cursor_background_priority="css", fixed_columns=1, show_header=False)
        table.border_title = "Reachability"
        yield table
        with VerticalScroll(id="matrix-why", classes="pane") as why:
            why.border_title = "Why"
            yield Static(id="matrix-why-body")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if isinstance(self.app.focused, Input) and action in ("port", "trace", "add"):
            return False
        if action == "undo":
            return True if self.app.workspace.undo_stack else None
        if action == "redo":
            return True if self.app.workspace.redo_stack else None
        return True

    # -- drawing --------------------------------------------------------------------------------------
    def computing(self, pods: int) -> None:
        self.query_one("#matrix-summary", Static).update(Text(f"computing the table of {pods} pods ({pods * pods} cells)…", style="yellow"))

    def show(self, change: Change, ix, label: str = "") -> None:
        """Draw ``change``'s table (its flipped cells highlighted); the cursor stays on its pair."""
        self.change, self.ix, self.label = change, ix, label
        tab = change.table
        table = self.query_one(DataTable)
        here = self._pair()
        box = self.query_one("#matrix-port", Input)
        if not box.has_focus:
            box.value = f"{tab.port}/{tab.protocol}"
        ports = [f"{p}/{proto}" for p, proto in mentioned_ports(ix)]
        box.suggester = SuggestFromList(ports + ["80/TCP", "443/TCP", "53/UDP"], case_sensitive=False)
        self.pods = tab.pods
        table.fixed_rows = 0  # DataTable cannot draw fixed rows it does not have
        table.clear(columns=True)
        digits = max(2, len(str(len(tab.pods))))  # each column as wide as its number and a space
        width = min(LABEL_WIDTH, max((len(p) for p in tab.pods), default=0) + digits + 2)
        table.add_column("", key=" sources", width=width)
        for pod in tab.pods:
            table.add_column("", key=pod, width=digits + 1)
        table.add_row(Text("from ╲ to", style="grey62"), *[Text(f"{i:>{digits}} ", style="bold") for i in range(1, len(tab.pods) + 1)],
                      key=" destinations")
        for i, src in enumerate(tab.pods, 1):
            cells = []
            for dst in tab.pods:
                ok = tab.allowed[(src, dst)]
                style = FLIPPED if (src, dst) in change.flips else ("grey50" if src == dst else STYLES[ok])
                cells.append(Text(f"{'.' if ok else 'X':>{digits}} ", style=style))  # a pod to itself: always, dimmed
            table.add_row(Text(f"{i:>{digits}} {short(src)} ", style="bold"), *cells, key=src)
        table.fixed_rows = 1
        table.border_title = f"Reachability · {tab.text}"
        table.border_subtitle = (f"[green].[/] allowed  [red]X[/] denied  [{FLIPPED}] X [/] flipped by the last change · "
                                 "rows: sources, columns: destinations, numbered as the rows")
        allowed = tab.allowed_count
        total = len(tab.allowed)
        counts = Text()
        counts.append(f"  {len(tab.pods)} pods · ", style="grey62")
        counts.append(f"{allowed} of {total} allowed", style="green")
        counts.append(f", {total - allowed} denied", style="red")
        self.query_one("#matrix-counts", Static).update(counts)
        summary = Text()
        if change.compared:
            summary.append(f"Since the last change ({label or 'an edit'}): ", style="bold")
            summary.append(change.summary, style=FLIPPED if change.flips else "grey62")
        else:
            summary.append("No edit yet: after an edit (undo, redo) the cells it flips are highlighted and counted here.", style="grey62")
        self.query_one("#matrix-summary", Static).update(summary)
        self._place(here)

    def _place(self, pair) -> None:
        """The cursor on ``pair`` if it is still there, else on the first flipped cell, else the first cell."""
        table = self.query_one(DataTable)
        if not self.pods:
            self.query_one("#matrix-why-body", Static).update(Text("No pod in the cluster.", style="grey62"))
            return
        index = {p: i for i, p in enumerate(self.pods)}
        flips = sorted(self.change.flips, key=lambda k: (index[k[0]], index[k[1]]))
        if pair is None or pair[0] not in index or pair[1] not in index:
            denied = [k for k in self.change.table.allowed if not self.change.table.allowed[k]]
            pair = flips[0] if flips else denied[0] if denied else (self.pods[0], self.pods[0])
        table.move_cursor(row=index[pair[0]] + 1, column=index[pair[1]] + 1, animate=False)
        self._explain(pair)

    def _pair(self) -> tuple[str, str] | None:
        table = self.query_one(DataTable)
        if not self.pods or table.row_count == 0:
            return None
        row, col = table.cursor_coordinate
        return (self.pods[row - 1], self.pods[col - 1]) if 0 < row <= len(self.pods) and 0 < col <= len(self.pods) else None

    def _explain(self, pair) -> None:
        from ..widgets.netpol_view import verdict_text

        if pair is None or self.ix is None or self.change is None:
            return
        tab = self.change.table
        v = self.ix.evaluate(pair[0], pair[1], tab.port, tab.protocol)
        flip = self.change.flips.get(pair)
        self.query_one("#matrix-why-body", Static).update(verdict_text(v, None if flip is None else not flip))

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        table = self.query_one(DataTable)
        row, col = table.cursor_coordinate
        if (row == 0 or col == 0) and self.pods:  # the names and the numbers: the cursor stays on the cells
            table.move_cursor(row=max(row, 1), column=max(col, 1))
            return
        self._explain(self._pair())

    # -- actions --------------------------------------------------------------------------------------
    def action_port(self) -> None:
        box = self.query_one("#matrix-port", Input)
        box.focus()
        box.select_all()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            port, proto = parse_port_protocol(event.value)
        except ValueError as e:
            event.input.add_class("-invalid")
            self.query_one("#matrix-summary", Static).update(Text(str(e), style="bold red"))
            return
        event.input.remove_class("-invalid")
        self.query_one(DataTable).focus()
        self.main.set_matrix_port(port, proto)

    def action_trace(self) -> None:
        pair = self._pair()
        if pair is not None:
            self.app.pop_screen()
            self.main.trace_pair(*pair)

    def action_add(self) -> None:
        pair = self._pair()
        self.main.matrix_add(pair)

    def action_undo(self) -> None:
        self.main.action_undo()

    def action_redo(self) -> None:
        self.main.action_redo()

    def action_close(self) -> None:
        if isinstance(self.app.focused, Input):
            self.query_one(DataTable).focus()
            return
        self.app.pop_screen()
