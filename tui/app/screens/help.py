"""`?`: every key of the screen it was opened from."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

NAMES = {"slash": "/", "question_mark": "?", "plus": "+", "minus": "-", "space": "space", "left": "←", "right": "→",
         "escape": "esc", "enter": "enter", "delete": "del", "full_stop": "."}


def key_name(key: str) -> str:
    return "/".join(NAMES.get(k.strip(), k.strip()) for k in key.split(","))


def pane_sections(screen) -> list[tuple[str, list[tuple[str, str]]]]:
    """The keys of the screen's panes that have keys of their own (a class with ``HELP_TITLE``), by pane."""
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for w in screen.query("*") if screen is not None else ():
        title = getattr(type(w), "HELP_TITLE", None)
        if title and title not in (t for t, _ in out):
            rows = [(b.key_display or b.key, b.tooltip or b.description) for b in type(w).BINDINGS if isinstance(b, Binding) and b.description]
            out.append((title, rows + list(getattr(type(w), "HELP_KEYS", ()))))
    return out


class HelpScreen(ModalScreen[None]):
    """Lists the bindings active where help was asked for, with what they do."""

    CSS_PATH = Path(__file__).parent.parent / "styles" / "dialogs.tcss"
    BINDINGS = [("escape", "close", "Close"), ("question_mark", "close", "Close"), ("q", "close", "Close")]

    def __init__(self, bindings: list[tuple[str, str]], title: str = "Keys") -> None:
        super().__init__()
        self.bindings_list = bindings
        self.help_title = title
        try:
            below = self.app.screen  # the screen help was asked from (this one is not pushed yet)
        except Exception:  # noqa: BLE001 - no running app (built alone): no pane sections
            below = None
        self.sections = pane_sections(below)

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 2))
        table.add_column(style="bold yellow", no_wrap=True)
        table.add_column()
        for key, description in self.bindings_list:
            table.add_row(key_name(key), description)
        for title, rows in self.sections:
            table.add_row("", "")
            table.add_row("", Text(title, style="bold"))
            for key, description in rows:
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
