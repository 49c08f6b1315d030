"""Reading located mappings field by field, with typed getters and unknown-field checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

from .errors import Mark, Problems, did_you_mean
from .yamlsrc import YList, YMap

T = TypeVar("T")

_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false", YMap: "a mapping", YList: "a list"}

_MISSING = object()


def type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


class Fields:
    """One mapping being read: ``get`` each known field, then ``done()`` reports the rest."""

    def __init__(self, m: YMap, path: str, problems: Problems, known: tuple[str, ...]):
        self.m = m
        self.path = path
        self.problems = problems
        self.known = known

    def at(self, key: str) -> str:
        if not key or not key.isprintable() or key.strip() != key:  # (an unknown key of blanks or control characters)
            return f"{self.path}[{json.dumps(key, ensure_ascii=False)}]"
        return f"{self.path}.{key}" if self.path else key

    def mark(self, key: str) -> Mark:
        return self.m.vmark(key) if key in self.m else self.m.mark

    def error(self, key: str, message: str) -> None:
        self.problems.error(self.mark(key), self.at(key), message)

    def has(self, key: str) -> bool:
        return key in self.m

    def get(self, key: str, kind: type, default=None, required: bool = False):
        """The value of ``key`` if it has type ``kind``; reports and returns ``default`` otherwise."""
        if key not in self.m:
            if required:
                self.problems.error(self.m.mark, self.at(key), "required field is missing")
            return default
        v = self.m[key]
        if kind is int and isinstance(v, bool) or kind is str and isinstance(v, (int, float)) and not isinstance(v, bool):
            ok = False
        else:
            ok = isinstance(v, kind)
        if not ok:
            if v is None and not required:
                return default
            self.error(key, f"expected {_TYPE_NAMES.get(kind, kind.__name__)}, got {type_name(v)}")
            return default
        return v

    def parse(self, key: str, parser: Callable[[str], T], default=None, required: bool = False) -> T | None:
        """A string field through a value parser; the parser's ValueError becomes a located error."""
        text = self.get(key, str, None, required)
        if text is None:
            return default
        try:
            return parser(text)
        except ValueError as e:
            self.error(key, str(e))
            return default

    def items(self, key: str, required: bool = False):
        """``(index, item, mark, path)`` for each item of a list field."""
        seq = self.get(key, YList, None, required)
        if not seq:
            return
        for i, item in enumerate(seq):
            yield i, item, seq.imark(i), f"{self.at(key)}[{i}]"

    def maps(self, key: str, required: bool = False):
        """``Fields``-ready mappings of a list field; non-mappings are reported."""
        for i, item, mark, path in self.items(key, required):
            if isinstance(item, YMap):
                yield i, item, path
            else:
                self.problems.error(mark, path, f"expected a mapping, got {type_name(item)}")

    def sub(self, key: str, known: tuple[str, ...], required: bool = False) -> Fields | None:
        m = self.get(key, YMap, None, required)
        return Fields(m, self.at(key), self.problems, known) if m is not None else None

    def done(self) -> None:
        for k in self.m:
            if k not in self.known:
                hint = did_you_mean(str(k), self.known)
                self.problems.error(self.m.kmark(k), self.at(str(k)), f"unknown field {json.dumps(str(k), ensure_ascii=False)}{hint}")
