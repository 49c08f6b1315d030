"""Located load errors: ``FILE:LINE:COL: error: field.path: message``.

Every problem found while reading a topology is a :class:`Problem` that knows
where it comes from. The loader collects all problems of a load and raises a
single :class:`LoadError` carrying them, so a user sees every mistake at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..model.source import Mark

__all__ = ["LoadError", "Mark", "Problem", "Problems", "did_you_mean", "one_line"]

MAX_ERRORS = 1000
"""Errors kept of one load: a file with millions of bad items gets the first ones and a count of the rest, in
bounded memory (a compiler's "too many errors")."""
LONG = re.compile(r"\S{121,}")  # a word this long in a message (a 20 MB scalar quoted back) is shortened


def _shorten(text: str) -> str:
    """``text`` with every word longer than 120 characters cut in the middle, its length said."""
    if len(text) <= 120:
        return text
    return LONG.sub(lambda m: f"{m.group()[:60]}…{m.group()[-20:]} ({len(m.group()):,} characters)", text)


@dataclass(frozen=True)
class Problem:
    """One error (or warning) at one place."""

    mark: Mark
    path: str
    message: str
    severity: str = "error"

    def __post_init__(self) -> None:
        if len(self.message) > 120 or len(self.path) > 120:
            object.__setattr__(self, "message", _shorten(self.message))
            object.__setattr__(self, "path", _shorten(self.path))

    def __str__(self) -> str:
        path = one_line(self.path)
        if path and path.strip() != path:  # (a key of blanks): quoted, so that the path still reads as one
            path = json.dumps(path, ensure_ascii=False)
        where = f"{path}: " if path else ""
        return f"{self.mark}: {self.severity}: {where}{one_line(self.message)}"

    def to_dict(self) -> dict:
        return {
            "file": self.mark.file,
            "line": self.mark.line,
            "col": self.mark.col,
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
        }


def one_line(text: str) -> str:
    """``text`` with what would break a one-line report (a newline, a control character) escaped as Python writes it:
    a key or a value quoted in a message may hold anything."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class LoadError(Exception):
    """Raised with every problem of a load; ``str()`` prints them one per line."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.mark.file, p.mark.line, p.mark.col))
        super().__init__("\n".join(str(p) for p in self.problems))


class Problems:
    """A collector the validators append to."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.unused: dict[str, list[Mark]] = {}
        self.errors_left_out = 0  # errors past MAX_ERRORS, counted only
        self._first_left_out: Mark | None = None
        self._n_errors = 0

    @property
    def full(self) -> bool:
        """Whether the errors kept are as many as are listed (any more are only counted)."""
        return self._n_errors >= MAX_ERRORS

    def error(self, mark: Mark, path: str, message: str) -> None:
        if self._n_errors >= MAX_ERRORS:
            self.errors_left_out += 1
            if self._first_left_out is None:
                self._first_left_out = mark
            return
        self._n_errors += 1
        self.items.append(Problem(mark, path, message))

    def add(self, problems: Iterable[Problem]) -> None:
        """Problems found elsewhere (a source's, a part read apart), kept within the same limits."""
        for p in problems:
            if p.severity == "error":
                if self._n_errors >= MAX_ERRORS:
                    self.error(p.mark, p.path, p.message)  # (counted)
                else:
                    self._n_errors += 1
                    self.items.append(p)
            elif p.severity != "warning" or len(self.items) - self._n_errors < MAX_ERRORS:
                self.items.append(p)

    def absorb(self, other: Problems) -> None:
        """Everything ``other`` holds: its problems, those it only counted, the kinds it skipped."""
        self.add(other.items)
        if other.errors_left_out:
            if self._first_left_out is None:
                self._first_left_out = other._first_left_out
            self.errors_left_out += other.errors_left_out
        for what, marks in other.unused.items():
            self.unused.setdefault(what, []).extend(marks)

    def warn(self, mark: Mark, path: str, message: str) -> None:
        if len(self.items) - self._n_errors < MAX_ERRORS:  # (as many warnings as errors at most)
            self.items.append(Problem(mark, path, message, "warning"))

    def skipped(self, mark: Mark, what: str) -> None:
        """An object of a kind the simulation does not use (``what``: its apiVersion and kind)."""
        self.unused.setdefault(what, []).append(mark)

    def notes(self) -> list[Problem]:
        """One note per unused kind: how many objects were skipped, located at the first."""
        out = []
        for what, marks in self.unused.items():
            n = len(marks)
            count = f"{n} objects of kind {what} are" if n > 1 else f"{what} is"
            first = " (the first is here)" if n > 1 else ""
            out.append(Problem(marks[0], "kind", f"{count} not used by the simulation: skipped{first}", "note"))
        return out

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]

    def raise_if_errors(self) -> None:
        errors = self.errors
        if errors:
            if self.errors_left_out:
                errors.append(Problem(self._first_left_out or errors[-1].mark, "file",
                                      f"{self.errors_left_out:,} more errors not listed (the first {MAX_ERRORS:,} are): "
                                      "fix those and check again"))
            raise LoadError(errors)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean "x"?)`` when a choice is close to ``word``, else ``""``."""
    import difflib

    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return f' (did you mean "{lowered[word.lower()]}"?)'
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""
