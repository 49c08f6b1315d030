"""The text input every pane and form uses: Textual's Input, without blinking in tests."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

_CONTROL = {c: None for c in (*range(0x20), *range(0x7F, 0xA0))} | {ord("\t"): " "}  # Unicode's Cc characters


def one_line(text: str) -> str:
    """What a paste puts in a one-line field: its first line, a tab as a space, no other control character (an
    escape sequence kept in the value would reach the terminal each time the field is drawn)."""
    line = text.splitlines()[0] if text else ""
    return line.translate(_CONTROL)


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

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # not Input's paste, which keeps control characters
        event.stop()
        line = one_line(event.text)
        if line:
            if self.selection.is_empty:
                self.insert_text_at_cursor(line)
            else:
                self.replace(line, *self.selection)
