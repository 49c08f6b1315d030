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

    async def _on_key(self, event: events.Key) -> None:
        # Textual gives each key to the widget focused when the key arrives: keys typed in one burst after a Tab
        # ("laptop", Tab, "docker-host") are all this field's, queued before the Tab is handled. So Tab moves the
        # focus here at once (not after bubbling up to the screen, when the keys after it are typed in already), and
        # a key that arrives here once the focus has moved on is passed on to the field that has it now.
        focused = self.screen.focused
        if focused is not self and focused is not None:
            event.prevent_default()
            event.stop()
            focused._forward_event(events.Key(event.key, event.character))
            return
        if event.key in ("tab", "shift+tab"):
            event.prevent_default()
            event.stop()
            if event.key == "tab":
                self.screen.focus_next()
            else:
                self.screen.focus_previous()
            return
        for binding in self._bindings.key_to_bindings.get(event.key, ()):  # the field's own keys (ctrl+u, end, ...)
            event.prevent_default()  # at once too, in the order typed: not after the keys queued behind them
            event.stop()
            await self.run_action(binding.action)
            return
        await super()._on_key(event)

    def _on_paste(self, event: events.Paste) -> None:
        event.prevent_default()  # not Input's paste, which keeps control characters
        event.stop()
        line = one_line(event.text)
        if line:
            if self.selection.is_empty:
                self.insert_text_at_cursor(line)
            else:
                self.replace(line, *self.selection)
