"""A workspace for a big input, whose documents are read on the first edit.

:class:`tui.edit.Workspace` keeps every file's documents as plain data, for editing and saving: for a 100 MB
cluster dump that is seconds and gigabytes spent before anything changes, and looking at the cluster needs
none of it. :class:`DeferredWorkspace` holds the loaded model only (made by the loading worker) and answers
what the dashboard reads on every key (``loaded``, ``paths``, ``dirty``, the undo stacks); the first question
only a real workspace answers (``edit``, ``check``, ``save``, ...) makes it, and from then on it answers all.
"""

from __future__ import annotations

from ..edit import Workspace
from ..load import Loaded


class DeferredWorkspace:
    """Stands for ``Workspace(paths)`` until one is needed; ``loaded`` is what loading ``paths`` gave."""

    def __init__(self, paths: list[str], loaded: Loaded) -> None:
        self._paths = list(paths)
        self._loaded = loaded
        self._real: Workspace | None = None

    @property
    def made(self) -> bool:
        """Whether the documents have been read (by the first edit)."""
        return self._real is not None

    def real(self) -> Workspace:
        """The workspace, made now if it is not yet (reads and parses every file again: seconds on a big input)."""
        if self._real is None:
            ws = Workspace(self._paths)
            ws.loaded = self._loaded  # the same files: keep the model, so that the compiled network stays the one shown
            self._real = ws
        return self._real

    @property
    def loaded(self) -> Loaded:
        return self._real.loaded if self._real is not None else self._loaded

    @property
    def paths(self) -> list[str]:
        return self._real.paths if self._real is not None else self._paths

    @property
    def name(self) -> str:
        return self.loaded.topology.name

    @property
    def dirty(self) -> bool:
        return self._real is not None and self._real.dirty

    @property
    def undo_stack(self) -> list:
        return self._real.undo_stack if self._real is not None else []

    @property
    def redo_stack(self) -> list:
        return self._real.redo_stack if self._real is not None else []

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("_real", "_paths", "_loaded"):
            raise AttributeError(name)
        return getattr(self.real(), name)
