"""The offer of edits a session left unsaved when it ended without asking (a crash, a kill, a closed terminal)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from ...edit.recovery import Pending


class RecoveryScreen(ModalScreen[str]):
    """Restore the edits, set them aside (the recovery file kept under another name) or discard them: the answer
    is ``"restore"``, ``"aside"`` or ``"discard"``. Escape sets them aside: nothing is lost by a key pressed
    without reading."""

    CSS_PATH = Path(__file__).parent.parent / "styles" / "dialogs.tcss"
    BINDINGS = [("r", "answer('restore')", "Restore"), ("s", "answer('aside')", "Set aside"),
                ("d", "answer('discard')", "Discard"), ("escape", "answer('aside')", "Set aside")]

    def __init__(self, pending: Pending) -> None:
        super().__init__()
        self.pending = pending

    def compose(self) -> ComposeResult:
        files = [f for f, _, _ in self.pending.files]
        changed = self.pending.changed_on_disk()
        lines = [f"An earlier session on these files ended without saving its edits to {', '.join(files)}."]
        if changed:
            lines.append(f"{', '.join(changed)} changed on disk since those edits started: restoring puts the edited "
                         "version in the editor, and saving it replaces the file's new text (kept as .bak).")
        lines.append("Restore brings them back as unsaved edits (ctrl+z takes them back out); Set aside keeps them in "
                     f"{self.pending.path.parent} and opens the files as they are; Discard deletes them.")
        with Vertical(classes="dialog", id="recovery-dialog"):
            yield Label("Restore unsaved edits?", classes="title")
            yield Static("\n".join(lines), id="recovery-detail")
            with Horizontal():
                yield Button("Restore (r)", id="restore", variant="primary")
                yield Button("Set aside (s)", id="aside")
                yield Button("Discard (d)", id="discard", variant="error")

    def on_mount(self) -> None:
        self.query_one("#restore", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "aside")

    def action_answer(self, value: str) -> None:
        self.dismiss(value)
