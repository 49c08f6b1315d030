"""Reading a big ``kubectl get -o json`` List fast, with every error still located.

A dump of a 5,000-node cluster is a third of a gigabyte of JSON: read value by value, with a mark on
every key, it takes minutes. Here the List's items are decoded one at a time by the C JSON decoder
(``raw_decode`` at each item's offset), each remembering where it starts. An item is then checked the
quick way (a Pod by :class:`.bigpods.PodReader`, mirroring what :func:`tui.load.kube.read_object` checks
of a Pod; any other object by ``read_object`` itself on unlocated mappings). Only when that finds anything
to say (an error, a warning, a skipped kind) is the item read again from its text by the located
reader and checked the ordinary way, so that every message is the one a small file would give, at its
line and column. An object's field marks (where its clusterIP or podIP was written) are found the
same way, when first asked for.

Pods, the bulk of a dump, keep what the simulation reads of them, sharing equal parts with the pod
before them of the same owner (:mod:`.bigpods`). The files themselves are never changed: editing and
saving work on the documents as written (:mod:`tui.edit.workspace`).

What this path does not see: a key written twice in one JSON object (the decoder keeps the last; the
located reader, used for files under :data:`FAST_BYTES`, refuses it).
"""

from __future__ import annotations

import codecs
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import replace

from ..model.source import NOWHERE, Mark
from ..model.topology import KubeObject
from .bigpods import PodReader, pod_object
from .errors import Problems
from .fields import type_name
from .yamlsrc import SourceError, YList, YMap, read_documents

FAST_BYTES = 4 << 20  # JSON files from this size take the fast path
MAX_JSON_BYTES = 2 << 30  # ... up to this size (the located reader stops at yamlsrc.MAX_FILE_BYTES)

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_TOLERANT = json.JSONDecoder(parse_int=lambda text: int(text) if len(text) <= 4000 else text)  # (only after a long number)


class QuickMap(YMap):
    """A mapping read without marks: it answers every mark question with "nowhere"."""

    __slots__ = ()
    mark = NOWHERE
    kmarks: dict = {}
    vmarks: dict = {}

    def __init__(self, *args) -> None:  # noqa: D107 - a dict's constructor
        dict.__init__(self, *args)


class QuickList(YList):
    """A sequence read without marks."""

    __slots__ = ()
    mark = NOWHERE
    marks: list = []

    def __init__(self, *args) -> None:  # noqa: D107 - a list's constructor
        list.__init__(self, *args)


def _quick(v):
    """Plain JSON values as the validators' located types (without marks)."""
    if type(v) is dict:
        return QuickMap({k: _quick(x) for k, x in v.items()})
    if type(v) is list:
        return QuickList([_quick(x) for x in v])
    return v


def is_big_json(data: bytes | str) -> bool:
    """A JSON text (its first character opens an object) large enough for the fast path."""
    if len(data) < FAST_BYTES:
        return False
    head = data[:64].lstrip() if isinstance(data, str) else data[:64].lstrip().decode("utf-8", "replace")
    return head.lstrip("\ufeff").startswith("{")


class _Source:
    """A file's text, kept for as long as some mark may still be asked of it."""

    __slots__ = ("file", "text")

    def __init__(self, file: str, text: str | None) -> None:
        self.file = file
        self.text = text

    def get(self) -> str:
        if self.text is None:
            with open(self.file, "rb") as fh:
                self.text = fh.read().decode("utf-8-sig", "replace")
        return self.text


class LazyMarks(Mapping):
    """An object's field marks (``"spec.clusterIP" -> Mark``), found in its text when first asked for."""

    __slots__ = ("_marks", "at", "end", "source", "start")

    def __init__(self, source: _Source, start: int, end: int, at: tuple[int, int]) -> None:
        self.source, self.start, self.end, self.at = source, start, end, at
        self._marks: dict | None = None

    def _get(self) -> dict:
        if self._marks is None:
            from .kube import _field_marks

            try:
                docs = read_documents(self.source.get()[self.start:self.end], self.source.file, self.at)
            except SourceError:
                docs = []
            self._marks = _field_marks(docs[0][0]) if docs and isinstance(docs[0][0], YMap) else {}
        return self._marks

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


class _Stream:
    """A JSON text read a chunk at a time: ``text`` holds what is read and not yet let go of (``base`` is
    where it starts in the file), with the line and column of any place in it."""

    CHUNK = 32 << 20

    def __init__(self, text: str = "", fh=None) -> None:
        self.text, self.base = text, 0
        self.fh = fh
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")() if fh is not None else None
        self.eof = fh is None
        self.line, self.pos, self.nl = 1, 0, -1  # the line at pos; the file offset of the last newline before text
        self.long_number = False  # the last value decoded holds an integer too long to convert (kept as its text)

    def more(self) -> bool:
        """Read another chunk; False at the end of the file."""
        if self.eof:
            return False
        data = self.fh.read(self.CHUNK)
        self.eof = not data
        self.text = self.text + self.decoder.decode(data, final=self.eof) if self.text else self.decoder.decode(data, final=self.eof)
        return True

    def ws(self, i: int) -> int:
        """Past the whitespace at ``i``."""
        text = self.text
        if i < len(text) and text[i] not in " \t\n\r":  # (no whitespace: a compact file's every case)
            return i
        while True:
            i = _WS.match(self.text, i).end()
            if i < len(self.text) or not self.more():
                return i

    def char(self, i: int) -> str:
        while i >= len(self.text) and self.more():
            pass
        return self.text[i:i + 1]

    def decode(self, i: int):
        """The JSON value at ``i``: (value, where it starts, where it ends), reading on while the text ends
        inside it. Before reading on, the text before ``i`` is let go of: hence the start, as it is now."""
        while True:
            if not self.eof and len(self.text) - i < (1 << 20):
                i -= self.let_go(i)
                self.more()
            try:
                value, end = _DECODER.raw_decode(self.text, i)
                return value, i, end
            except RecursionError:  # (the C scanner recurses per level, up to the interpreter's limit)
                raise json.JSONDecodeError(f"nesting too deep (more than about {sys.getrecursionlimit() - 100} levels; "
                                           "Kubernetes objects nest a few dozen): flatten the document", self.text, i) from None
            except json.JSONDecodeError:
                if self.eof:
                    raise  # (its position is in the text as it is)
                i -= self.let_go(i)
                self.more()
            except ValueError:  # an integer of more digits than Python converts (4,300): read with it kept as text,
                try:  # and the item marked, for the located reader to say where it is (its field)
                    value, end = _TOLERANT.raw_decode(self.text, i)
                except json.JSONDecodeError:
                    if self.eof:
                        raise
                    i -= self.let_go(i)
                    self.more()
                    continue
                self.long_number = True
                return value, i, end

    def at(self, i: int) -> tuple[int, int]:
        """Line and column of ``i``, at or after the last place asked (counting only the text between)."""
        r = self.text.rfind("\n", self.pos, i)
        if r >= 0:
            self.line += self.text.count("\n", self.pos, i)
            self.nl = self.base + r
        self.pos = i
        return self.line, self.base + i - self.nl

    def let_go(self, i: int) -> int:
        """Forget the text before ``i`` (read and done with); the shift of every index. Done only before
        reading on (what is kept, copied, is then the rest of one value); a text at hand is kept whole."""
        if self.fh is None or i == 0:
            return 0
        self.at(i)
        self.base += i
        self.text = self.text[i:]
        self.pos = 0
        return i

    def error(self, e: json.JSONDecodeError, file: str) -> Mark:
        i = min(e.pos, len(self.text))
        if i >= self.pos:
            return Mark(file, *self.at(i))
        line = self.line - self.text.count("\n", i, self.pos)
        r = self.text.rfind("\n", 0, i)
        return Mark(file, line, i - r if r >= 0 else self.base + i - self.nl)


def read_list(text: str, file: str, problems: Problems, objects: list, docs: list, keep_text: bool) -> bool:
    """Read a big JSON List (all of its text at hand) into ``objects`` (``(KubeObject, path)``), reporting
    into ``problems``; see :func:`read_list_stream`."""
    return _read(_Stream(text), file, _Source(file, text if keep_text else None), problems, objects, docs)


def read_list_file(file: str, problems: Problems, objects: list, docs: list) -> bool:
    """Read a big JSON List file a chunk at a time (never all of its text at once) into ``objects``.

    False when the file is not a JSON object with ``kind: List`` and ``items`` (the caller reads it the
    ordinary way); a JSON syntax error is reported at its line and column. The items are read as they
    come (kubectl writes ``items`` before ``kind``), and kept only if the object turns out a List."""
    with open(file, "rb") as fh:
        try:
            return _read(_Stream(fh=fh), file, _Source(file, None), problems, objects, docs)
        except UnicodeDecodeError:
            return False  # the ordinary way says where


def _read(stream: _Stream, file: str, source: _Source, problems: Problems, objects: list, docs: list) -> bool:
    local = Problems()
    got: list = []
    got_docs: list = []
    reader = _Reader(stream, file, source, local, got, got_docs)
    try:
        top = _top(stream, reader.items)
    except json.JSONDecodeError as e:
        problems.error(stream.error(e, file), "json", e.msg)
        return True
    if top is None:
        return False
    fields, has_items = top
    if fields.get("kind") != "List" or not isinstance(fields.get("apiVersion"), str) or not has_items:
        return False
    problems.absorb(local)
    objects += got
    docs += got_docs
    return True


def _top(s: _Stream, items):
    """The top-level object's fields but ``items`` (decoded), ``items`` (a list) given to ``items(offset)``
    which returns where it ends; None when the text is not one JSON object."""
    i = s.ws(1 if s.char(0) == "\ufeff" else 0)
    if s.char(i) != "{":
        return None
    i = s.ws(i + 1)
    fields: dict = {}
    found = False
    if s.char(i) == "}":
        return fields, False
    while True:
        key, _, i = s.decode(i)
        if not isinstance(key, str):
            return None
        i = s.ws(i)
        if s.char(i) != ":":
            raise json.JSONDecodeError("Expecting ':' delimiter", s.text, i)
        i = s.ws(i + 1)
        if key == "items" and s.char(i) == "[" and not found:
            found = True
            i = items(i)
        else:
            fields[key], _, i = s.decode(i)
        i = s.ws(i)
        c = s.char(i)
        if c == "}":
            break
        if c != ",":
            raise json.JSONDecodeError("Expecting ',' delimiter", s.text, i)
        i = s.ws(i + 1)
    rest = s.ws(i + 1)
    if rest < len(s.text):
        raise json.JSONDecodeError("Extra data", s.text, rest)
    return fields, found


class _Reader:
    def __init__(self, stream: _Stream, file: str, source: _Source, problems: Problems, objects: list, docs: list) -> None:
        self.s, self.file, self.source = stream, file, source
        self.problems, self.objects, self.docs = problems, objects, docs
        self.pods = PodReader()

    def items(self, i: int) -> int:
        """Read the list of items starting at ``i``; where it ends."""
        s = self.s
        i = s.ws(i + 1)
        if s.char(i) == "]":
            return i + 1
        k = 0
        while True:
            value, start, i = s.decode(i)
            self.item(value, k, start, i)
            k += 1
            i = s.ws(i)
            c = s.char(i)
            if c == "]":
                return i + 1
            if c != ",":
                raise json.JSONDecodeError("Expecting ',' delimiter", s.text, i)
            i = s.ws(i + 1)

    def item(self, value, k: int, start: int, end: int) -> None:
        """One item, at ``start:end`` of the stream's text."""
        at = self.s.at(start)
        base = self.s.base  # (start and end in the file, for the marks found later)
        if type(value) is not dict:  # (what a small file's reader says of it, at once: a list of millions of numbers)
            if self.problems.full:
                self.problems.error(Mark(self.file, *at), f"items[{k}]", "")  # (counted only)
            else:
                self.problems.error(Mark(self.file, *at), f"items[{k}]", f"expected a mapping with apiVersion and kind, got {type_name(value)}")
            self.s.long_number = False
            return
        if self.s.long_number:  # (the located reader refuses the number where it is)
            self.s.long_number = False
            self._located(self.s.text[start:end], at, f"items[{k}]")
            return
        if value.get("kind") == "Pod" and value.get("apiVersion") == "v1" and (body := self.pods.read(value)) is not None:
            meta = value["metadata"]
            self.objects.append((pod_object(meta["name"], meta.get("namespace") or "default", body,
                                             Mark(self.file, *at), LazyMarks(self.source, base + start, base + end, at)), f"items[{k}]"))
            return
        path = f"items[{k}]"
        text = self.s.text[start:end]
        start, end = base + start, base + end
        if isinstance(value.get("kind"), str) and isinstance(value.get("apiVersion"), str) \
                and value["kind"] not in _LOCATED_KINDS and value["apiVersion"] != "kubenet/v1" and value["kind"] != "List":
            from .kube import read_object

            quiet = Problems()
            obj = read_object(_quick(value), path, quiet, value["apiVersion"], value["kind"], value)
            if obj is not None and not quiet.items:
                for what in quiet.unused:  # a kind the simulation skips: noted at the first one
                    if what not in self.problems.unused:
                        self.problems.unused[what] = [self._kind_mark(text, at)]
                    else:
                        self.problems.unused[what].append(NOWHERE)
                self.objects.append((_located_object(obj, Mark(self.file, *at), LazyMarks(self.source, start, end, at)), path))
                return
        self._located(text, at, path)

    def _kind_mark(self, text: str, at: tuple[int, int]) -> Mark:
        docs = read_documents(text, self.file, at)
        m = docs[0][0]
        return m.vmark("kind") if isinstance(m, YMap) else Mark(self.file, *at)

    def _located(self, text: str, at: tuple[int, int], path: str) -> None:
        """The ordinary way: the item's text through the located reader, then the loader's checks."""
        from .loader import _document

        try:
            docs = read_documents(text, self.file, at)
        except SourceError as e:  # (its paths from the item's start: from the List's, as a small file's)
            self.problems.add(replace(p, path=f"{path}.{p.path}") if p.path not in ("yaml", "file", "json", "") else p
                              for p in e.problems)
            return
        for value, mark in docs:
            _document(value, mark, path, self.problems, self.docs, self.objects)


def _located_object(obj: KubeObject, mark: Mark, marks: LazyMarks) -> KubeObject:
    return replace(obj, mark=mark, field_marks=marks)


# Kinds always read the located way: few in a dump, and their checks look deep (and mark every field).
_LOCATED_KINDS = {"Ingress", "IngressClass", "NetworkPolicy", "ConfigMap"}
