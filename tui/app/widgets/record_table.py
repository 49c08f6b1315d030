"""The DNS pane's table for a big zone: draws only the rows on screen, whatever the number of records.

A :class:`~textual.widgets.DataTable` makes a row object per record and lays them all out; at 100,000 records
that takes seconds and every filter rebuilds it. :class:`RecordTable` holds the positions of the records shown
(a filter's answer, see :class:`RecordIndex`) and renders, line by line, those under the viewport: the header
fixed on the first line, one record per line (cut with ``…``; the pane's last line prints the highlighted one
in full), zebra stripes and a row cursor as the DataTable draws them.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .record_index import RecordIndex

HEADER = ("Name", "Type", "TTL", "Data")


def _cell(text: str, width: int) -> str:
    """``text`` in ``width`` columns with a space either side, cut with an ellipsis."""
    if len(text) > width:
        text = text[: max(width - 1, 0)] + "…"
    return f" {text:<{width}} "


class RecordTable(ScrollView, can_focus=True):
    """Rows of a :class:`RecordIndex` (``show(index, positions, widths)``); a row cursor while focused."""

    COMPONENT_CLASSES = {"record-table--header", "record-table--cursor", "record-table--even-row"}
    DEFAULT_CSS = """
    RecordTable {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .record-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .record-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .record-table--even-row {
            background: $surface-lighten-1 50%;
        }
        &:dark > .record-table--even-row {
            background: $surface-darken-1 40%;
        }
        & > .record-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,ctrl+home", "edge(0)", "First record", show=False),
        Binding("end,ctrl+end", "edge(1)", "Last record", show=False),
    ]

    show_cursor: reactive[bool] = reactive(False)
    cursor_row: reactive[int] = reactive(0, always_update=True)

    class RowHighlighted(Message):
        """The cursor moved to ``record`` (a position in the index), or to no record (None: nothing shown)."""

        def __init__(self, record: int | None) -> None:
            self.record = record
            super().__init__()

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.index: RecordIndex | None = None
        self.positions: Sequence[int] = ()
        self.widths: tuple[int, int] = (4, 4)
        self.on_highlight = None  # called with the record when the cursor moves, before RowHighlighted is posted

    # -- data ---------------------------------------------------------------------
    def show(self, index: RecordIndex, positions: Sequence[int], widths: tuple[int, int], keep: int | None = None) -> None:
        """Show the records at ``positions`` of ``index``; the cursor goes to record ``keep`` when shown, else to the first."""
        self.index, self.positions, self.widths = index, positions, widths
        row = 0
        if keep is not None and positions:
            row = _find(positions, keep)
        self.virtual_size = Size(self._line_width(), len(positions) + 1)
        self.cursor_row = row
        self.scroll_to(y=max(row - (self.scrollable_content_region.height - 2) // 2, 0), animate=False, immediate=True)
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self.positions)

    @property
    def record(self) -> int | None:
        """The highlighted record's position in the index, or None when nothing is shown."""
        return self.positions[self.cursor_row] if self.positions else None

    def _line_width(self) -> int:
        return self.widths[0] + self.widths[1] + 5 + 5 + 4 * 2

    # -- keys -----------------------------------------------------------------------
    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self.positions) - 1))

    def watch_cursor_row(self, old: int, row: int) -> None:
        self._refresh_row(old)
        self._refresh_row(row)
        self._scroll_to_cursor()
        if self.on_highlight is not None:  # the owner's line under the table, in the same frame as the cursor
            self.on_highlight(self.record)
        self.post_message(self.RowHighlighted(self.record))

    def watch_show_cursor(self) -> None:
        self._refresh_row(self.cursor_row)

    def action_cursor(self, delta: int) -> None:
        self.cursor_row += delta

    def action_page(self, direction: int) -> None:
        self.cursor_row += direction * max(self.scrollable_content_region.height - 2, 1)

    def action_edge(self, last: int) -> None:
        self.cursor_row = len(self.positions) - 1 if last else 0

    def _on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.cursor_row = int(self.scroll_offset.y) + event.y - 1

    def _scroll_to_cursor(self) -> None:
        rows = max(self.scrollable_content_region.height - 1, 1)  # under the header
        top = int(self.scroll_offset.y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + rows:
            self.scroll_to(y=self.cursor_row - rows + 1, animate=False, immediate=True)

    def _refresh_row(self, row: int) -> None:
        y = row - int(self.scroll_offset.y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    # -- drawing --------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if y == 0:
            cells = HEADER
            style = base + self.get_component_rich_style("record-table--header")
        else:
            row = int(self.scroll_offset.y) + y - 1
            if self.index is None or row >= len(self.positions):
                return Strip.blank(width, base)
            cells = self.index.row(self.positions[row])
            style = base
            if row % 2 == 1:
                style += self.get_component_rich_style("record-table--even-row")
            if self.show_cursor and row == self.cursor_row:
                style += self.get_component_rich_style("record-table--cursor")
        name, data = self.widths
        text = _cell(cells[0], name) + _cell(cells[1], 5) + _cell(cells[2], 5) + _cell(cells[3], data)
        return Strip([Segment(text, style)]).crop_extend(0, width, base if y else style)


def _find(positions: Sequence[int], record: int) -> int:
    """Where ``record`` is among ``positions`` (sorted), or 0."""
    from bisect import bisect_left

    k = bisect_left(positions, record)
    return k if k < len(positions) and positions[k] == record else 0
