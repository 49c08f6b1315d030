"""The text input every pane and form uses: Textual's Input, without blinking in tests."""

from __future__ import annotations

from textual.widgets import Input


class TextInput(Input):
    """An Input whose cursor stops blinking when the app asks (tests and snapshots). A form marks a field invalid
    itself (``-invalid``); typing in it clears the mark, leaving it (blur) does not, as Input would otherwise do."""

    def __init__(self, *args, **kw) -> None:
        kw.setdefault("validate_on", ("changed",))
        super().__init__(*args, **kw)

    def on_mount(self) -> None:
        if not getattr(self.app, "blink_cursors", True):
            self.cursor_blink = False
