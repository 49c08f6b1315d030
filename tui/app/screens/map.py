"""`m`: the network drawn in Unicode, with the current trace's path lit."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ...sim.mapview import map_lines


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
            for line, on_path in map_lines(self.net, self.path):
                text.append(line + ("  ◀" if on_path else "") + "\n", style="bold black on yellow" if on_path else "")
            yield Static(text, id="map")
        yield Footer()

    def action_close(self) -> None:
        self.app.pop_screen()
