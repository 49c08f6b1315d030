"""Where a piece of the description came from."""

from __future__ import annotations

from typing import NamedTuple


class Mark(NamedTuple):
    """A position in a source file; line and column count from 1.

    A named tuple: a big file has a mark for every key and value, and a tuple is a third of a
    dataclass's size and cheaper to make."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def __repr__(self) -> str:
        return f"Mark(file={self.file!r}, line={self.line}, col={self.col})"


NOWHERE = Mark("<builtin>", 0, 0)
