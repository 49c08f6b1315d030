"""`?`: every key of the screen it was opened from."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

NAMES = {"slash": "/", "question_mark": "?", "plus": "+", "minus": "-", "space": "space", "left": "←", "right": "→",
         "escape": "esc", "enter": "enter", "delete": "del", "full_stop": "."}


def key_name(key: str) -> str:
    return "/".join(NAMES.get(k.strip(), k.strip()) for k in key.split(","))


class HelpScreen(ModalScreen[None]):
    """Lists the bindings active where help was asked for, with what they do."""

    CSS_PATH = Path(__file__).parent.parent / "styles" / "dialogs.tcss"
    BINDINGS = [("escape", "close", "Close"), ("question_mark", "close", "Close"), ("q", "close", "Close")]

    def __init__(self, bindings: list[tuple[str, str]], title: str = "Keys") -> None:
        super().__init__()
        self.bindings_list = bindings
        self.help_title = title

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 2))
        table.add_column(style="bold yellow", no_wrap=True)
        table.add_column()
        for key, description in self.bindings_list:
            table.add_row(key_name(key), description)
        with VerticalScroll(classes="dialog"):
            yield Label(self.help_title, classes="title")
            yield Static(table)
            yield Static("ctrl+p opens the command palette: every action is there too. Esc closes.", classes="hint")

    def on_mount(self) -> None:
        for dialog in self.query(".dialog"):  # nothing to do when the app is already closing
            dialog.can_focus = False

    def action_close(self) -> None:
        self.dismiss(None)
