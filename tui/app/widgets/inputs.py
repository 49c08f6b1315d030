"""The text input every pane and form uses: Textual's Input, without blinking in tests."""

from __future__ import annotations

from textual.widgets import Input


class TextInput(Input):
    """An Input whose cursor stops blinking when the app asks (tests and snapshots). A form marks a field invalid
    itself (``-invalid``); typing in it clears the mark, leaving it (blur) does not, as Input would otherwise do."""

    on_change = None  # set by the owner: called with each new value at once (the Changed message follows, a frame later)

    def __init__(self, *args, **kw) -> None:
        kw.setdefault("validate_on", ("changed",))
        super().__init__(*args, **kw)

    def watch_value(self, value: str) -> None:
        if self.on_change is not None:  # what the value drives is painted in the same frame as the value
            self.on_change(value)

    def on_mount(self) -> None:
        if not getattr(self.app, "blink_cursors", True):
            self.cursor_blink = False
