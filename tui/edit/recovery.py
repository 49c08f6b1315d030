"""Unsaved edits kept on disk while the dashboard runs, offered back after a crash.

After every change of a :class:`~tui.edit.workspace.Workspace` (an edit, undo, redo, a save) the dashboard
calls :meth:`Recovery.keep`: while there are unsaved edits, the documents of every changed file are written
to a recovery file (JSON) (atomically: a temporary file, fsync, rename), and once nothing is unsaved (saved, or
undone back to the files' text) the file is removed. Quitting with "Quit without saving" removes it too;
anything else that ends the process (a kill, a crash, a closed terminal) leaves it, and the next session on the
same files finds it (:meth:`Recovery.pending`) and offers the edits back.

The file lives in the user's state directory (``$KUBENET_TUI_STATE_DIR``, else
``$XDG_STATE_HOME/kubenet-tui``, else ``~/.local/state/kubenet-tui``), under ``recovery/``, named by a digest
of the absolute paths of the files open, so that each set of files has its own. It records the process that
wrote it (a recovery file of a session still running is not offered to another) and a digest of each file's
text as it was when the edits started (so that the offer can say when a file changed on disk since).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

FORMAT = 1  # the recovery file's format version


def state_dir() -> Path:
    """Where kubenet-tui keeps state between sessions."""
    explicit = os.environ.get("KUBENET_TUI_STATE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "state"
    return base / "kubenet-tui"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(path: str) -> str | None:
    """The digest of a file's bytes now; None when it cannot be read (gone, a directory, no permission)."""
    try:
        with open(path, "rb") as fh:
            return digest(fh.read())
    except OSError:
        return None


@dataclass(frozen=True)
class Pending:
    """Edits a session left unsaved: the documents of each file it had changed."""

    path: Path  # the recovery file
    files: tuple[tuple[str, tuple, str | None], ...]  # (file, documents, digest of the file's text the edits started from)

    def changed_on_disk(self) -> list[str]:
        """The files whose text changed since the edits started (saved by another program, or gone)."""
        return [f for f, _, base in self.files if base is not None and file_digest(f) != base]

    def describe(self) -> str:
        names = ", ".join(f for f, _, _ in self.files)
        return f"unsaved edits to {names}"


class Recovery:
    """The recovery file of one set of input files."""

    def __init__(self, paths: list[str], directory: Path | None = None) -> None:
        self.paths = [os.path.abspath(p) for p in paths]
        key = digest(json.dumps(sorted(self.paths)).encode())[:20]
        self.path = (directory or state_dir()) / "recovery" / f"{key}.json"
        self.failed: str | None = None  # why the last write failed (a full disk, a read-only home), once

    # -- writing ---------------------------------------------------------------------------------------
    def keep(self, workspace) -> None:
        """Write the workspace's unsaved edits, or remove the file when there are none. Never raises: a recovery
        file that cannot be written is reported once in :attr:`failed`, and the session goes on."""
        try:
            if not workspace.dirty:
                self.discard()
                return
            saved = dict(workspace.saved)
            files = []
            for path, docs in workspace.state:
                if saved.get(path) != docs:
                    base = workspace.digests.get(path)
                    files.append({"path": os.path.abspath(path), "base": base, "documents": list(docs)})
            body = {"kubenet-tui-recovery": FORMAT, "pid": os.getpid(), "paths": self.paths, "files": files}
            text = json.dumps(body, ensure_ascii=False, default=str)  # (YAML dates as their text)
            _write(self.path, text)
            self.failed = None
        except (OSError, TypeError, ValueError) as e:
            self.failed = f"cannot keep a recovery file at {self.path}: {getattr(e, 'strerror', None) or e}"

    def discard(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as e:
            self.failed = f"cannot remove the recovery file {self.path}: {e.strerror or e}"

    def set_aside(self) -> Path | None:
        """Keep the recovery file under another name (never offered again, never overwritten); its new path."""
        for n in range(1, 1000):
            aside = self.path.with_name(f"{self.path.stem}.set-aside-{n}.json")
            if not aside.exists():
                try:
                    self.path.replace(aside)
                except OSError as e:
                    self.failed = f"cannot set the recovery file aside: {e.strerror or e}"
                    return None
                return aside
        return None

    # -- reading ---------------------------------------------------------------------------------------
    def pending(self) -> Pending | None:
        """Edits an earlier session left, if there is a recovery file for these paths that no running process
        keeps (a session still open on the same files keeps its own). An unreadable file is moved aside
        (``.broken``), never deleted, and not offered."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, UnicodeDecodeError):
            return None
        try:
            body = json.loads(text)
            if not isinstance(body, dict) or body.get("kubenet-tui-recovery") != FORMAT:
                raise ValueError("not a recovery file of this version")
            pid = body.get("pid")
            if isinstance(pid, int) and pid != os.getpid() and _alive(pid):
                return None
            files = []
            for f in body.get("files") or []:
                path, docs, base = f["path"], f["documents"], f.get("base")
                if not isinstance(path, str) or not isinstance(docs, list) or not all(isinstance(d, dict) for d in docs):
                    raise ValueError("a file entry is malformed")
                files.append((path, tuple(docs), base if isinstance(base, str) else None))
        except (ValueError, KeyError, TypeError):
            try:
                self.path.replace(self.path.with_suffix(".broken"))
            except OSError:
                pass
            return None
        if not files:
            return None
        return Pending(self.path, tuple(files))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OSError:
        return False
    try:  # a zombie, or a process of another program that took the number: only a kubenet-tui keeps the file
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read()
        return b"kubenet" in cmdline or b"tui" in cmdline
    except OSError:
        return True


def _write(path: Path, text: str) -> None:
    """``text`` into ``path`` whole or not at all (no ``.bak``: the recovery file is ours)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
