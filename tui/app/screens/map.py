"""`m`: the network drawn in Unicode, with the current trace's path lit."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ...sim.mapview import map_rows

LIT = "bold black on yellow"


class MapScreen(Screen[None]):
    BINDINGS = [("escape", "close", "Back"), ("m", "close", "Back"), ("q", "close", "Back")]

    def __init__(self, net, path: set[str]) -> None:
        super().__init__()
        self.net, self.path = net, path

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(classes="pane") as pane:
            pane.border_title = "Map"
            pane.border_subtitle = "◀ lit: the current trace's path" if self.path else "press t on the dashboard to trace a packet"
            text = Text()
            for row in map_rows(self.net, self.path):
                if len(row) == 1:  # a line of its own: lit whole, with a mark
                    line, on_path = row[0]
                    text.append(line + ("  ◀" if on_path else "") + "\n", style=LIT if on_path else "")
                    continue
                for piece, on_path in row:  # side by side (a cluster's nodes): each piece lit on its own
                    text.append(piece, style=LIT if on_path else "")
                text.append("\n")
            yield Static(text, id="map")
        yield Footer()

    def action_close(self) -> None:
        self.app.pop_screen()
