"""Editing: the documents a user changes, with validation, undo and atomic saves (no UI)."""

from .workspace import EditError, Workspace, atomic_write

__all__ = ["EditError", "Workspace", "atomic_write"]
