"""Modules imported when first used, not when the dashboard starts.

The first frame needs Textual, the screen and its four panes; the forms, the editing helpers of the core and the
simulator itself are needed a moment later (the model fills the panes after the first paint) or only when a key
asks for them. ``kube = lazy("tui.edit.kube")`` reads like the import it stands for, and ``kube.kube_object(...)``
imports the module on its first use (Python's import lock makes that safe from a worker thread too).
"""

from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """A stand-in for the module ``name``: each attribute is the module's, the module imported on first use."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy(name: str) -> ModuleType:
    """The module ``name`` (absolute), imported on its first attribute's use."""
    return LazyModule(name)  # type: ignore[return-value]
