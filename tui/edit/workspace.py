"""The documents a user edits: load, change, validate, undo, save.

A :class:`Workspace` keeps every file's documents as plain data, exactly as
read (fields and kinds the simulator does not understand included). An edit
is a function that changes a copy of the Topology document; the copy is
written out and read back through the loader, so the editor and the loader
can never disagree about what is valid. Valid edits go on the undo stack.
Saving writes a temporary file, fsyncs it and renames it over the old one,
keeping the previous version as ``FILE.bak``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..load import Loaded, LoadError, expand, load
from ..load.errors import Problem
from ..load.yamlsrc import SourceError, plain, read_documents, read_file

State = tuple[tuple[str, tuple[dict, ...]], ...]  # ((file, documents), ...)


class EditError(Exception):
    """An edit the loader refuses; ``problems`` say why, located by field path."""

    def __init__(self, problems: list[Problem], state: State | None = None):
        self.problems = problems
        self.state = state  # the documents refused
        super().__init__("\n".join(f"{p.path}: {p.message}" for p in problems))


@dataclass
class _File:
    path: str
    header: str  # the comment lines the file opened with, kept on save
    is_json: bool


def _header(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if line.startswith("#") or (not line.strip() and lines):
            lines.append(line)
        else:
            break
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def dump_documents(docs: tuple[dict, ...], is_json: bool = False, header: str = "") -> str:
    """Documents as the text a save writes."""
    if is_json:
        body = docs[0] if len(docs) == 1 else {"apiVersion": "v1", "kind": "List", "items": list(docs)}
        return json.dumps(body, indent=2) + "\n"
    parts = [yaml.safe_dump(d, sort_keys=False, default_flow_style=False, allow_unicode=True) for d in docs]
    return header + "---\n".join(parts)


class Workspace:
    """Files, their documents, the loaded model, and the undo history."""

    def __init__(self, paths: list[str]) -> None:
        self.paths = list(paths)
        self.files: list[_File] = []
        docs: list[tuple[str, tuple[dict, ...]]] = []
        texts: dict[str, str] = {}
        self.digests: dict[str, str] = {}  # each file's bytes as read or last written (sha256), for recovery
        for path in expand(paths):
            data = read_file(path)
            self.digests[path] = hashlib.sha256(data).hexdigest()
            text = data.decode("utf-8-sig", errors="replace")
            texts[path] = text
            try:
                values = [plain(v) for v, _ in read_documents(data, path)]
            except SourceError as e:
                raise LoadError(e.problems) from None
            self.files.append(_File(path, _header(text), path.endswith(".json")))
            docs.append((path, tuple(values)))
        self.state: State = tuple(docs)
        self.loaded: Loaded = load(paths, texts=texts)  # each file read once
        self.saved: State = self.state
        self.undo_stack: list[State] = []
        self.redo_stack: list[State] = []

    # -- reading ----------------------------------------------------------
    @property
    def dirty(self) -> bool:
        return self.state != self.saved

    @property
    def name(self) -> str:
        return self.loaded.topology.name

    def topology_doc(self, state: State | None = None) -> dict | None:
        for _, docs in state or self.state:
            for d in docs:
                if isinstance(d, dict) and d.get("kind") == "Topology":
                    return d
        return None

    def texts(self, state: State) -> dict[str, str]:
        by_path = {f.path: f for f in self.files}
        return {path: dump_documents(docs, by_path[path].is_json, by_path[path].header) for path, docs in state}

    # -- changing ---------------------------------------------------------
    def validate(self, state: State) -> Loaded:
        """Load ``state`` through the loader; raises :class:`EditError`."""
        try:
            return load([p for p, _ in state], texts=self.texts(state))
        except LoadError as e:
            raise EditError(e.problems) from None

    def edit(self, change: Callable[[dict], None]) -> Loaded:
        """Apply ``change`` to a copy of the Topology document; keep it if it loads.

        A change whose ``scope`` is ``"objects"`` (a Kubernetes object's edit) gets instead every
        file's documents, as ``[[path, [document, ...]], ...]``, to change, add or remove any of them.
        """
        state, loaded = self._changed(change)
        self.undo_stack.append(self.state)
        self.redo_stack.clear()
        self.state, self.loaded = state, loaded
        return loaded

    def check(self, change: Callable[[dict], None]) -> Loaded:
        """What :meth:`edit` would load, without keeping it (no history, nothing changed); raises as it does."""
        return self._changed(change)[1]

    def _changed(self, change: Callable[[dict], None]) -> tuple[State, Loaded]:
        state = copy.deepcopy(self.state)
        if getattr(change, "scope", "topology") == "objects":
            if not state:
                state = (("topology.yaml", ()),)
            files = [[path, list(docs)] for path, docs in state]
            change(files)
            state = tuple((path, tuple(docs)) for path, docs in files)
        else:
            topo = self.topology_doc(state)
            if topo is None:
                topo = {"apiVersion": "kubenet/v1", "kind": "Topology", "metadata": {"name": self.name}}
                path, docs = state[0] if state else ("topology.yaml", ())
                state = ((path, (topo,) + docs),) + state[1:]
            change(topo)
        if not self.files:
            self.files.append(_File(state[0][0], "", False))
        try:
            loaded = self.validate(state)
        except EditError as e:
            e.state = state
            raise
        return state, loaded

    def problems_at(self, error: EditError, where: tuple) -> tuple[list[tuple[str, Problem]], list[Problem]]:
        """The refused edit's problems in the document at ``where`` (``(file, (index, item index, ...))``),
        each with its field path inside that document, and the others."""
        state = error.state or self.state
        file, trail = where
        meta = self._meta(file)
        docs = dict(state).get(file, ())
        prefix = [f"items[{i}]" for i in trail[1:]]
        span = None
        if meta.is_json:
            if len(docs) > 1:
                prefix.insert(0, f"items[{trail[0]}]")
        elif trail[0] < len(docs):
            span = self._spans(file, docs)[trail[0]]
        at = ".".join(prefix)
        mine: list[tuple[str, Problem]] = []
        others: list[Problem] = []
        for p in error.problems:
            inside = p.mark.file == file and (span is None or span[0] <= p.mark.line <= span[1])
            if inside and at:
                inside = p.path == at or p.path.startswith(at + ".")
            if inside:
                mine.append((p.path[len(at) + 1:] if at else p.path, p))
            else:
                others.append(p)
        return mine, others

    def _meta(self, file: str) -> _File:
        return next((f for f in self.files if f.path == file), _File(file, "", file.endswith(".json")))

    def _spans(self, file: str, docs: tuple[dict, ...]) -> list[tuple[int, int]]:
        """The lines each document of a YAML file takes once written (as :func:`dump_documents` writes them)."""
        line = self._meta(file).header.count("\n") + 1
        out = []
        for d in docs:
            n = yaml.safe_dump(d, sort_keys=False, default_flow_style=False, allow_unicode=True).count("\n")
            out.append((line, line + n - 1))
            line += n + 1  # and the "---" between documents
        return out

    def owner_of(self, problem: Problem, state: State | None = None) -> str:
        """What a problem is about, in words: ``Service default/web``, ``Topology``, or "" when unknown."""
        docs = dict(state or self.state).get(problem.mark.file)
        if not docs:
            return ""
        doc = None
        if self._meta(problem.mark.file).is_json:
            doc = docs[0] if len(docs) == 1 else None
        else:
            doc = next((d for d, (a, b) in zip(docs, self._spans(problem.mark.file, docs), strict=True) if a <= problem.mark.line <= b), None)
        path = problem.path
        while isinstance(doc, dict) and doc.get("kind") == "List" and path.startswith("items["):
            index, _, path = path[len("items["):].partition("]")
            path = path.lstrip(".")
            items = doc.get("items") or []
            doc = items[int(index)] if index.isdigit() and int(index) < len(items) else None
        if not isinstance(doc, dict):
            return ""
        meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
        name = meta.get("name") or ""
        ns = meta.get("namespace")
        return f"{doc.get('kind')} {ns + '/' if ns else ''}{name}".strip()

    def undo(self) -> bool:
        return self._step(self.undo_stack, self.redo_stack)

    def redo(self) -> bool:
        return self._step(self.redo_stack, self.undo_stack)

    def _step(self, source: list[State], target: list[State]) -> bool:
        """Go back (or forward) one state: the current one goes onto the other stack."""
        if not source:
            return False
        target.append(self.state)
        self.state = source.pop()
        self.loaded = self.validate(self.state)
        return True

    def restore(self, files: tuple[tuple[str, tuple, str | None], ...]) -> list[str]:
        """Take back edits a crashed session left (``(file, documents, base)`` for each file it had changed, as
        :meth:`tui.edit.recovery.Recovery.pending` gives them) as unsaved edits of this workspace: one step that
        undo takes back. Files not open here are left out; returns the files restored. Raises
        :class:`EditError` when the documents do not load with the others (nothing is changed then)."""
        by_path = {os.path.abspath(f): docs for f, docs, _ in files}
        state = tuple((path, tuple(by_path.get(os.path.abspath(path), docs))) for path, docs in self.state)
        restored = [path for path, _ in self.state if os.path.abspath(path) in by_path]
        if not restored or state == self.state:
            return []
        loaded = self.validate(state)
        self.undo_stack.append(self.state)
        self.redo_stack.clear()
        self.state, self.loaded = state, loaded
        return restored

    # -- saving -----------------------------------------------------------
    def save(self, path: str | None = None) -> list[str]:
        """Write changed files (or everything into ``path``, which becomes the file). Returns what was written."""
        texts = self.texts(self.state)
        if path is not None:
            docs = tuple(d for _, ds in self.state for d in ds)
            is_json = path.endswith(".json")
            header = self.files[0].header if self.files else ""
            text = dump_documents(docs, is_json, header)
            atomic_write(path, text)
            self.digests = {path: hashlib.sha256(text.encode()).hexdigest()}
            self.files = [_File(path, header, is_json)]
            self.state = ((path, docs),)
            # The history goes on in the one file the documents are in now (an undo changes it, not the files left).
            self.undo_stack = [((path, tuple(d for _, ds in s for d in ds)),) for s in self.undo_stack]
            self.redo_stack = [((path, tuple(d for _, ds in s for d in ds)),) for s in self.redo_stack]
            self.paths = [path]
            self.loaded = self.validate(self.state)
            self.saved = self.state
            return [path]
        saved_docs = dict(self.saved)
        written = []
        for p, docs in self.state:
            if saved_docs.get(p) != docs:
                atomic_write(p, texts[p])
                self.digests[p] = hashlib.sha256(texts[p].encode()).hexdigest()
                written.append(p)
        self.saved = self.state
        return written


def atomic_write(path: str, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all; the old file is kept as ``path.bak``."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        # mkstemp makes the file 0600; keep the old file's mode, or what the umask gives a new file.
        if target.exists():
            mode = target.stat().st_mode & 0o7777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if target.exists():
            bak = target.with_name(target.name + ".bak")
            try:
                _copy(target, bak)
            except OSError:
                pass
        os.replace(tmp, target)
        try:
            dfd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _copy(src: Path, dst: Path) -> None:
    """``src``'s bytes into ``dst``, whole or not at all (a temporary file renamed over it)."""
    data = src.read_bytes()
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    try:
        os.fchmod(fd, src.stat().st_mode & 0o7777)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dst)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
