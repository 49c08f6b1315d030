"""Safe, located YAML/JSON reading.

The document is built from the parser's event stream (never from PyYAML's
constructors), so no tag can make it run anything, nesting depth and alias
expansion are capped without recursion, and every mapping, sequence, key and
value keeps the line and column it came from.

Mappings come back as :class:`YMap` (a ``dict`` with ``.mark``, ``.kmarks``
and ``.vmarks``) and sequences as :class:`YList` (a ``list`` with ``.mark``
and ``.marks``); scalars are plain Python values.
"""

from __future__ import annotations

from typing import NamedTuple

import yaml

from .errors import Mark, Problem

try:  # the C parser when present, for speed
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 128
MAX_ALIAS_NODES = 200_000

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_SCALAR_TAGS = {_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP, _MERGE}

_resolver = yaml.resolver.Resolver()
_RESOLVED: dict[str, str] = {}  # a plain scalar's text -> its tag
_constructor = yaml.constructor.SafeConstructor()


class YMap(dict):
    """A mapping that remembers where it and each of its keys and values are."""

    __slots__ = ("kmarks", "mark", "vmarks")

    def __init__(self, mark: Mark):
        super().__init__()
        self.mark = mark
        self.kmarks: dict = {}
        self.vmarks: dict = {}

    def vmark(self, key) -> Mark:
        return self.vmarks.get(key, self.mark)

    def kmark(self, key) -> Mark:
        return self.kmarks.get(key, self.mark)


class YList(list):
    """A sequence that remembers where it and each of its items are."""

    __slots__ = ("mark", "marks")

    def __init__(self, mark: Mark):
        super().__init__()
        self.mark = mark
        self.marks: list[Mark] = []

    def imark(self, index: int) -> Mark:
        return self.marks[index] if index < len(self.marks) else self.mark


class SourceError(Exception):
    """A file that cannot be read as YAML at all; carries its problems."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


def _mark(file: str, m) -> Mark:
    return Mark(file, m.line + 1, m.column + 1)


MAX_NUMBER_CHARS = 100
"""An integer longer than this is refused where it is written: the API's integers are 64-bit at most (19 digits)."""


def _scalar(ev, file: str):
    tag = ev.tag
    if tag is None or tag == "!":
        if not ev.implicit[0]:  # not plain (quoted, a block): a string, as the resolver says without looking
            tag = _STR
        elif len(ev.value) <= 16:  # short plain values repeat (ports, protocols, kinds): resolved once each
            key = ev.value
            tag = _RESOLVED.get(key)
            if tag is None:
                tag = _RESOLVED[key] = _resolver.resolve(yaml.ScalarNode, ev.value, ev.implicit)
                if len(_RESOLVED) > 65536:
                    _RESOLVED.clear()
        else:
            tag = _resolver.resolve(yaml.ScalarNode, ev.value, ev.implicit)
    elif tag not in _SCALAR_TAGS:
        raise SourceError([Problem(_mark(file, ev.start_mark), "yaml", f"tag {_short(ev.tag)} is not allowed (only plain YAML values are read; nothing in a file is ever run): remove the tag")])
    if tag == _STR:
        return ev.value
    node = yaml.ScalarNode(tag, ev.value, ev.start_mark, ev.end_mark, ev.style)
    if tag == _INT:
        v = ev.value
        if v.isascii() and v.isdigit() and (v[0] != "0" or len(v) == 1) and len(v) <= 18:
            return int(v)  # (a plain decimal, the common case: what construct_yaml_int gives, without its detour)
        if len(ev.value) > MAX_NUMBER_CHARS:  # (Python refuses to convert more than 4,300 digits; no field holds 20)
            raise _TooLong(len(ev.value))
        return _constructor.construct_yaml_int(node)
    if tag == _FLOAT:
        return _constructor.construct_yaml_float(node)
    if tag == _BOOL:
        return _constructor.construct_yaml_bool(node)
    if tag == _NULL:
        return None
    if tag == _MERGE:
        return _MergeKey
    return ev.value  # timestamps stay strings, as Kubernetes reads them


class _MergeKeyType:
    def __repr__(self) -> str:
        return "<<"


_MergeKey = _MergeKeyType()


class _Duplicate:
    """The key of a duplicate entry, whose value is dropped."""

    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __str__(self) -> str:
        return str(self.key)


class _Frame:
    __slots__ = ("anchor", "has_key", "is_map", "key", "key_mark", "merged", "value", "weight")

    def __init__(self, value, anchor, is_map):
        self.value = value
        self.anchor = anchor
        self.weight = 1
        self.key = None
        self.key_mark = None
        self.has_key = False
        self.is_map = is_map
        self.merged: set = set()


def read_file(path: str) -> bytes:
    """A file's bytes; from a device or a pipe (/dev/zero, a FIFO) at most one byte past the limit, which is then
    refused, located, rather than read without end. A regular file is read whole, so that its size is said."""
    import os
    import stat

    with open(path, "rb") as fh:
        if stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            return fh.read()
        return fh.read(MAX_FILE_BYTES + 1)


def _check_binary(data: bytes, file: str, limit: int = MAX_FILE_BYTES) -> str:
    if len(data) > limit:
        raise SourceError([Problem(Mark(file, 1, 1), "file", f"file is {len(data) / 2**20:.1f} MiB, more than the {limit / 2**20:.0f} MiB "
                                                             "a YAML file may have: split it into several files (give the directory "
                                                             "with -f), or give a cluster dump as kubectl's JSON List "
                                                             "(kubectl get -o json), which is read a piece at a time whatever its size")])
    head = data[:16]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(head) >= 4 and (not any(head[1::2]) and all(head[0::2])
                                                                        or not any(head[0::2]) and all(head[1::2]))):
        raise SourceError([Problem(Mark(file, 1, 1), "file", "UTF-16 text (a byte-order mark or every other byte NUL), where YAML "
                                                             "and JSON files are UTF-8 here: save the file as UTF-8")])
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        col = nul - (data.rfind(b"\n", 0, nul) + 1) + 1
        raise SourceError([Problem(Mark(file, line, col), "file", "binary input (a NUL byte), not a YAML or JSON text: give the topology or manifest file itself")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise SourceError([Problem(Mark(file, line, col), "file", "binary input, not valid UTF-8 text: save the file as UTF-8 YAML or JSON")]) from None


class _At(NamedTuple):
    """A position as PyYAML's marks give it (from 0)."""

    line: int
    column: int


def read_documents(data: bytes | str, file: str, at: tuple[int, int] = (1, 1)) -> list[tuple[object, Mark]]:
    """Parse every document of ``data``; returns ``(value, mark)`` pairs.

    ``at`` is where ``data`` starts in ``file`` (line, column), for a piece of a larger file.

    Raises :class:`SourceError` with a located problem for syntax errors,
    duplicate keys (every one of them), forbidden tags, too deep nesting or
    alias bombs.
    """
    text = _check_binary(data, file) if isinstance(data, bytes) else data
    line0, col0 = at

    def mk(m) -> Mark:
        if line0 == 1 and col0 == 1:
            return Mark(file, m.line + 1, m.column + 1)
        return Mark(file, m.line + line0, m.column + col0 if m.line == 0 else m.column + 1)

    docs: list[tuple[object, Mark]] = []
    stack: list[_Frame] = []
    anchors: dict[str, tuple[object, int]] = {}
    alias_nodes = 0
    doc_mark = Mark(file, 1, 1)
    root_set = False
    root = None
    duplicates: list[Problem] = []

    def add(value, mark: Mark, weight: int, ev) -> None:
        nonlocal root, root_set
        if not stack:
            root, root_set = value, True
            return
        top = stack[-1]
        top.weight += weight
        if top.is_map:
            if not top.has_key:
                if isinstance(value, (YMap, YList)):
                    raise SourceError([Problem(mark, "yaml", "a mapping key must be a plain value")])
                m = top.value
                if value is not _MergeKey and value in m and value not in top.merged:
                    first = m.kmarks[value]
                    duplicates.append(Problem(mark, _path(stack, value), f"duplicate key {value!r} (first at line {first.line})"))
                    value = _Duplicate(value)  # keep reading to report every duplicate; its value is dropped
                top.key, top.key_mark, top.has_key = value, mark, True
            else:
                m = top.value
                if top.key is _MergeKey:
                    _merge(m, value, mark, top.merged)
                elif isinstance(top.key, _Duplicate):
                    pass
                else:
                    top.merged.discard(top.key)
                    m[top.key] = value
                    m.kmarks[top.key] = top.key_mark
                    m.vmarks[top.key] = mark
                top.has_key = False
        else:
            top.value.append(value)
            top.value.marks.append(mark)

    try:
        for ev in yaml.parse(text, Loader=_Loader):
            kind = type(ev)
            if kind is yaml.ScalarEvent:
                mark = mk(ev.start_mark)
                try:
                    value = _scalar(ev, file)
                except _TooLong as e:
                    raise SourceError([Problem(mark, _value_path(stack) or "yaml", f"a number of {e.args[0]:,} characters is larger "
                                               "than any field holds (at most a 64-bit integer): write the number it should be, or "
                                               "quote it as a string")]) from None
                if ev.anchor:
                    anchors[ev.anchor] = (value, 1)
                add(value, mark, 1, ev)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                mark = mk(ev.start_mark)
                is_map = kind is yaml.MappingStartEvent
                want = _MAP if is_map else _SEQ
                if ev.tag not in (None, "!", want):
                    raise SourceError([Problem(mark, "yaml", f"tag {_short(ev.tag)} is not allowed (only plain YAML values are read; nothing in a file is ever run): remove the tag")])
                if len(stack) >= MAX_DEPTH:
                    raise SourceError([Problem(mark, "yaml", f"nesting deeper than {MAX_DEPTH} levels, where Kubernetes objects nest a few dozen: flatten the document")])
                stack.append(_Frame(YMap(mark) if is_map else YList(mark), ev.anchor, is_map))
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                frame = stack.pop()
                if frame.anchor:
                    anchors[frame.anchor] = (frame.value, frame.weight)
                add(frame.value, frame.value.mark, frame.weight, ev)
            elif kind is yaml.AliasEvent:
                mark = mk(ev.start_mark)
                if ev.anchor not in anchors:
                    raise SourceError([Problem(mark, "yaml", f"unknown alias *{ev.anchor}")])
                value, weight = anchors[ev.anchor]
                alias_nodes += weight
                if alias_nodes > MAX_ALIAS_NODES:
                    raise SourceError([Problem(mark, "yaml", f"aliases expand to more than {MAX_ALIAS_NODES:,} values (an alias bomb?): write the values out, or use fewer aliases")])
                add(value, mark, weight, ev)
            elif kind is yaml.DocumentStartEvent:
                doc_mark = mk(ev.start_mark)
                root, root_set = None, False
                anchors.clear()
            elif kind is yaml.DocumentEndEvent:
                if root_set and root is not None:
                    docs.append((root, doc_mark if not isinstance(root, (YMap, YList)) else root.mark))
    except SourceError as e:
        raise SourceError(duplicates + e.problems) from None
    except yaml.MarkedYAMLError as e:
        m = e.problem_mark or e.context_mark
        mark = mk(m) if m is not None else Mark(file, 1, 1)
        msg = e.problem or e.context or "invalid YAML"
        if e.context and e.problem:
            msg = f"{e.problem} ({e.context})"
        if "exceeded maximum nesting depth" in msg:  # (libyaml's own limit, in flow collections: [[[[...)
            msg = f"nesting deeper than {MAX_DEPTH} levels, where Kubernetes objects nest a few dozen: flatten the document"
        if m is not None and "cannot start any token" in msg:
            line = text.split("\n")[m.line] if m.line < text.count("\n") + 1 else ""
            if m.column < len(line) and line[m.column] == "\t":
                msg = "a tab character cannot indent YAML: use spaces"
        raise SourceError(duplicates + [Problem(mark, "yaml", msg)]) from None
    except UnicodeEncodeError as e:  # a text (not bytes) holding a lone surrogate: no UTF-8 can carry it
        line = text.count("\n", 0, e.start)
        where = mk(_At(line, e.start - (text.rfind("\n", 0, e.start) + 1)))
        raise SourceError([Problem(where, "file", f"not a text: a lone surrogate U+{ord(text[e.start]):04X} (no UTF-8 can "
                                                  "carry it)")]) from None
    except yaml.reader.ReaderError as e:  # a character YAML does not allow (a control character): where it is
        pos = min(max(e.position, 0), len(text))
        line = text.count("\n", 0, pos)
        char = e.character if isinstance(e.character, int) else ord(e.character[:1] or "\0")
        where = mk(_At(line, pos - (text.rfind("\n", 0, pos) + 1)))
        raise SourceError(duplicates + [Problem(where, "yaml", f"unacceptable character #x{char:04x}: {e.reason}")]) from None
    except yaml.YAMLError as e:  # pragma: no cover - unmarked reader errors
        raise SourceError([Problem(Mark(file, 1, 1), "yaml", str(e))]) from None
    except RecursionError:  # pragma: no cover - guarded by MAX_DEPTH
        raise SourceError([Problem(Mark(file, 1, 1), "yaml", "nesting too deep: flatten the document")]) from None
    if duplicates:
        raise SourceError(duplicates)
    return docs


def _path(stack: list[_Frame], key) -> str:
    """The field path (``hosts[0].name``) of ``key`` in the innermost open mapping."""
    path = ""
    for frame in stack[:-1]:
        if frame.is_map:
            path = f"{path}.{frame.key}" if path else str(frame.key)
        else:
            path += f"[{len(frame.value)}]"
    return f"{path}.{key}" if path else str(key)


def _value_path(stack: list[_Frame]) -> str:
    """The field path of the value being read now (``spec.ports[0].port``)."""
    path = ""
    for frame in stack:
        if not frame.is_map:
            path += f"[{len(frame.value)}]"
        elif frame.has_key or frame is not stack[-1]:
            path = f"{path}.{frame.key}" if path else str(frame.key)
    return path


class _TooLong(Exception):
    """An integer of more characters than any field holds (its length)."""


def _merge(target: YMap, value, mark: Mark, merged: set) -> None:
    sources = value if isinstance(value, YList) else [value]
    for src in sources:
        if not isinstance(src, YMap):
            raise SourceError([Problem(mark, "<<", "a merge key takes a mapping or a list of mappings")])
        for k, v in src.items():
            if k not in target:
                merged.add(k)
                target[k] = v
                target.kmarks[k] = src.kmark(k)
                target.vmarks[k] = src.vmark(k)


def plain(value):
    """A located value as plain ``dict``/``list`` (for JSON output and round trips)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _short(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")
