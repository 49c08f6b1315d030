"""A long text drawn a screenful at a time: a big cluster node's routing table and kube-proxy's rules.

A node of a 5,000-node cluster has 5,000 routes and hundreds of thousands of iptables rules; a ``Static``
renders all of them on every update. :class:`LinesView` takes the text as :class:`Lines`, sections whose lines
are made when they come on screen, and draws only those under the viewport.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate

from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

SAMPLE = 200  # lines measured for the width before they are drawn (the view widens as wider ones show)


class Lines(Sequence[Text]):
    """Lines in sections, each ``(count, line)`` where ``line(i)`` makes the section's ``i``-th line on demand."""

    def __init__(self) -> None:
        self.sections: list[tuple[int, Callable[[int], Text]]] = []
        self._starts: list[int] = []
        self._total = 0

    def add(self, count: int, line: Callable[[int], Text]) -> None:
        if count:
            self.sections.append((count, line))
            self._starts.append(self._total)
            self._total += count

    def add_joined(self, parts: Sequence[Sequence], line: Callable[[object], Text]) -> None:
        """One section over the items of ``parts``, one part after the other; ``line(item)`` makes an item's line. (A
        node's rules come in some 100,000 chains: a section each would be as many closures made, and kept, for a
        collection to walk, on every node shown.)"""
        starts = list(accumulate(map(len, parts), initial=0))
        total = starts.pop()

        def at(i: int) -> Text:
            k = bisect_right(starts, i) - 1
            return line(parts[k][i - starts[k]])

        self.add(total, at)

    def add_text(self, text: Text) -> None:
        """Lines already made (a heading, a message)."""
        parts = text.split("\n", allow_blank=True)
        if parts and not parts[-1].plain and text.plain.endswith("\n"):
            parts = parts[:-1]
        self.add(len(parts), parts.__getitem__)

    def __len__(self) -> int:
        return self._total

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._total))]
        if i < 0:
            i += self._total
        if not 0 <= i < self._total:
            raise IndexError(i)
        k = bisect_right(self._starts, i) - 1
        return self.sections[k][1](i - self._starts[k])

    def width(self) -> int:
        """The widest of the first :data:`SAMPLE` lines."""
        return max((self[i].cell_len for i in range(min(self._total, SAMPLE))), default=0)


class LinesView(ScrollView, can_focus=False):
    """Shows :class:`Lines`; scrolled by its container's keys (``scroll_*`` and ``page_*`` here) and the mouse."""

    DEFAULT_CSS = """
    LinesView {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.lines: Lines = Lines()
        self._width = 0

    def show(self, lines: Lines, keep_scroll: bool = False) -> None:
        self.lines = lines
        self._width = max(lines.width(), self.scrollable_content_region.width)  # no layout for short lines' widths
        self.virtual_size = Size(self._width, len(lines))
        if not keep_scroll and self.is_mounted:
            self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        row = int(self.scroll_offset.y) + y
        if row >= len(self.lines):
            return Strip.blank(width, base)
        text = self.lines[row]
        if text.cell_len > self._width:  # wider than the lines measured: widen the scroll range
            self._width = text.cell_len
            self.virtual_size = Size(self._width, len(self.lines))
        segments = [Segment(s.text, base + s.style if s.style else base) for s in text.render(self.app.console) if s.text != "\n"]
        x = int(self.scroll_offset.x)
        return Strip(segments).crop_extend(x, x + width, base)
