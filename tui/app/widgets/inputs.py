"""The text input every pane and form uses: Textual's Input, without blinking in tests."""

from __future__ import annotations

from textual.widgets import Input


class TextInput(Input):
    """An Input whose cursor stops blinking when the app asks (tests and snapshots)."""

    def on_mount(self) -> None:
        if not getattr(self.app, "blink_cursors", True):
            self.cursor_blink = False
