"""Key latency measured inside the app: ``KUBENET_TUI_KEYLOG=/path/file kubenet-tui ...``.

For each key, one line is appended to the file: the milliseconds from the key's arrival to the end of the
screen update that shows its effect, then the key (``12.41\\tdown``). :func:`key_logging` makes a subclass of
the app that does it; without the variable the app is the plain class, so this costs nothing then.

What is measured, and how:

- The start is the key event's own timestamp (``Message.time``, :func:`time.monotonic`), taken when the
  driver's input thread parses the key and hands it to the app: time spent queued behind busy handlers counts.
- The key then goes, as Textual sends it, to a priority binding or to the focused widget's message queue;
  handlers post more messages (the tree posts ``NodeHighlighted``, which becomes the screen's ``Selected``, which
  updates the Routes pane...) and mark widgets dirty; the screen repaints them on its next update tick and
  writes the frame to the terminal.
- The end is the time the last frame was written to the terminal (``App._display``, wrapped here) once
  nothing is left of the key's work: no message waiting in the queue of the app, the screen or any widget on
  it, nothing marked for layout or repaint. The app looks every :data:`POLL` seconds (an asyncio callback,
  outside Textual's queues, so that looking does not delay what it looks at) from the key's arrival on; the
  first time nothing is left, the last frame written shows the key's effect (if no frame was written since
  the key, it changed nothing on screen, and the end is when its handling was over).
- Work the key hands to a thread worker (a big network's DNS zone, a trace) and timers it starts (the Routes
  pane's compile once the cursor rests) run after that frame and are not part of the key's latency: the
  frame that follows the key says that they run (``compiling…``, ``tracing…``).
"""

from __future__ import annotations

import asyncio
import time
from typing import IO

from textual import events
from textual.app import App

POLL = 0.002  # seconds between two looks at what is left of a key's work
GIVE_UP = 10.0  # a key whose work never settles (an animation playing) is logged after this many seconds


def key_logging(app_class: type[App], path: str) -> type[App]:
    """A subclass of ``app_class`` that appends each key's latency to ``path``."""

    class KeyLoggingApp(app_class):  # type: ignore[misc, valid-type]
        _keylog_file: IO[str] | None = None
        _frame_at = 0.0  # when the last frame was written

        async def on_event(self, event: events.Event) -> None:
            arrived = isinstance(event, events.Key) and not event.is_forwarded
            await super().on_event(event)
            if arrived:  # forwarded by now: to a priority binding's action (done) or the focused widget's queue
                asyncio.get_running_loop().call_soon(self._key_settled, event.time, event.key)

        def _display(self, screen, renderable) -> None:
            super()._display(screen, renderable)
            if renderable is not None:
                self._frame_at = time.monotonic()

        def _key_settled(self, start: float, key: str) -> None:
            now = time.monotonic()
            try:
                pending = _pending(self, self.screen)
            except Exception:  # noqa: BLE001 - no screen (the app is closing): nothing left to show
                return
            if pending and now - start < GIVE_UP:
                asyncio.get_running_loop().call_later(POLL, self._key_settled, start, key)
                return
            end = self._frame_at if self._frame_at > start else now
            if self._keylog_file is None:
                self._keylog_file = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - open for the app's life
            self._keylog_file.write(f"{(end - start) * 1000:.2f}\t{key}\n")

    KeyLoggingApp.__name__ = KeyLoggingApp.__qualname__ = app_class.__name__
    return KeyLoggingApp


def _pending(app: App, screen) -> bool:
    """Whether the app still has work for the screen: messages queued, or widgets to lay out or repaint."""
    if screen._layout_required or screen._repaint_required or screen._scroll_required or screen._dirty_widgets:
        return True
    if not app._message_queue.empty() or not screen._message_queue.empty():
        return True
    for w in screen.walk_children():
        if not w._message_queue.empty():
            return True
        # marked in a handler: the widget tells the screen when it next idles (hidden widgets never paint)
        if (w._repaint_required or w._layout_required or w._scroll_required or w._refresh_styles_required) and w.is_on_screen:
            return True
    return False
